"""Latent draws for N sites x R realizations: between-event, correlated and local terms.

The static latent of site n in realization r (gm_engine.generator.model) is

    z_g[n, r] = T * ( sqrt(w_b) * eps_event[r]
                    + sqrt(1 - w_b) * ( sqrt(p) * eps_site[n, r]
                                      + sqrt(1 - p) * xi[n, r] ) )

and the frame latents are z_t = mu_prior(c, t) + sigma_prior * T * nu[n, r, t].
Each innovation is standard normal, so every single site sees a draw from the
trained prior (scaled by the calibrated temperature T); the terms only set how
draws co-vary:

* ``eps_event`` (R, G): shared by every site of realization r, the analogue
  of the between-event residual of a ground-motion model;
* ``eps_site`` (N, R, G): the *only spatially correlated part*. Each of the G
  channels is drawn by the caller as a correlated standard-normal field over
  the sites (e.g. :func:`draw_site_terms` via
  ``gm_engine.correlation.correlated_normal_field``), with the Jayaram & Baker
  (2009) range of the period assigned to that channel
  (:func:`site_channel_ranges_km`);
* ``xi`` (N, R, G) and ``nu`` (N, R, M, D): independent between sites, drawn
  from counter-based streams keyed by (seed, stream, site id, realization id)
  (gm_engine.generator.keyed) so any site can be regenerated alone, on any
  device. The white noise that the envelope shapes is keyed the same way.

w_b, p and T are calibrated on the trained model (validation/cgm.py
--calibrate) so generated IMs have NGA-West2's tau and phi and Jayaram &
Baker's correlation at 10 km; the card stores them.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Default between-event share of the latent variance: tau^2 / (tau^2 + phi^2)
#: of ln PGA in NGA-West2, tau ~ 0.35-0.40 and phi ~ 0.55-0.60 (e.g. Boore et
#: al. 2014 Table 2 at M >= 5.5: tau 0.40, phi 0.53 -> 0.36; Abrahamson et al.
#: 2014) -> 0.3. To be recalibrated on the trained model's IM residuals.
DEFAULT_W_BETWEEN = 0.3
#: Default share of the within-event latent variance that is frame-constant
#: and spatially correlated. Not from literature: a starting value to be
#: calibrated so that IM correlation vs distance matches Jayaram & Baker (2009).
DEFAULT_SITE_PERSISTENT = 0.5


#: Period whose Jayaram & Baker (2009) range every latent site channel takes:
#: 1 s (b = 25.7 km). Latent channels are not tied to a period, and every IM
#: of a record depends on all of them, so the IMs' within-event correlation is
#: a weighted mean of the channels'. Spreading the channels over the ranges of
#: 0.01-3 s (9-33 km) gave PSA(1 s) residuals 0.17 correlation at 5 km where
#: Jayaram & Baker give 0.56 (validation/cgm.py); one range for all channels
#: matches PSA(1 s), the issue's check, and makes PGA correlate over longer
#: distances than Jayaram & Baker's 8.5 km range (docs/validation/cgm.md).
#: A card may set another (``latent.site_channel_period_s``): the IMs decorrelate
#: faster than the latent field that drives them, so the field may need a longer
#: range than the IM's own (docs/generator.md, "Spatial correlation").
SITE_CHANNEL_PERIOD_S = 1.0


def site_channel_periods(n_channels: int, period_s: float = SITE_CHANNEL_PERIOD_S) -> np.ndarray:
    """Period (s) whose Jayaram & Baker range each latent site channel takes (one for all)."""
    return np.full(n_channels, float(period_s))


def site_channel_ranges_km(n_channels: int, vs30_clustered: bool = False,
                           period_s: float = SITE_CHANNEL_PERIOD_S) -> np.ndarray:
    """Correlation range b (km, rho = exp(-3 h / b)) of each latent site channel."""
    from ..correlation import jayaram_baker_2009_range

    return jayaram_baker_2009_range(site_channel_periods(n_channels, period_s), vs30_clustered)


def draw_site_terms(xy_km: np.ndarray, n_realizations: int, n_channels: int,
                    rng: np.random.Generator, *, vs30_clustered: bool = False,
                    method: str = "auto", device: str | None = None,
                    period_s: float = SITE_CHANNEL_PERIOD_S) -> np.ndarray:
    """Spatially correlated ``eps_site`` (N, R, C) float32 for all sites of a run.

    One independent field per channel and realization from
    :func:`gm_engine.correlation.correlated_normal_field` (Jayaram & Baker
    2009 exponential model; random Fourier features above a few thousand
    sites, so 1e5-1e6 sites cost O(N) memory). Channels are independent
    (``inter_period=False``): they are independent latent dimensions. With a
    torch ``device`` other than the CPU, Fourier fields are evaluated there
    (same features, same values to rounding; the GPU engine's draws).
    """
    from ..correlation import correlated_normal_field

    periods = site_channel_periods(n_channels, period_s)
    out = np.empty((len(xy_km), n_realizations, n_channels), dtype=np.float32)
    factors: dict = {}  # exact draws: one covariance factor for all realizations
    for r in range(n_realizations):
        out[:, r] = correlated_normal_field(xy_km, periods, rng, vs30_clustered=vs30_clustered,
                                            inter_period=False, method=method, device=device,
                                            factor_cache=factors)
    return out


def mix_innovations(eps_event, eps_site, local, w_between=DEFAULT_W_BETWEEN,
                    site_persistent: float = DEFAULT_SITE_PERSISTENT):
    """Combine the three terms into unit-variance innovations shaped like ``local``.

    numpy arrays or torch tensors alike (the model mixes on its device).
    ``w_between`` is a number, or per site an array / tensor ``(n, 1, 1)`` (a card
    whose share follows magnitude, :func:`latent_at`).
    """
    if not 0.0 <= site_persistent <= 1.0:
        raise ValueError("w_between and site_persistent must lie in [0, 1]")
    site = eps_site[:, :, None, :] if local.ndim == 4 else eps_site  # frame-constant
    if isinstance(w_between, (int, float)):
        if not 0.0 <= w_between <= 1.0:
            raise ValueError("w_between and site_persistent must lie in [0, 1]")
        a = math.sqrt(w_between)
        b = math.sqrt((1.0 - w_between) * site_persistent)
        c = math.sqrt((1.0 - w_between) * (1.0 - site_persistent))
        return a * eps_event[None] + b * site + c * local
    if not bool((w_between >= 0.0).all() and (w_between <= 1.0).all()):
        raise ValueError("w_between and site_persistent must lie in [0, 1]")
    rest = 1.0 - w_between
    return (w_between ** 0.5 * eps_event[None] + (rest * site_persistent) ** 0.5 * site
            + (rest * (1.0 - site_persistent)) ** 0.5 * local)


def is_magnitude_table(entry: Any) -> bool:
    """True for a card's latent setting given per magnitude (see :func:`latent_at`)."""
    return isinstance(entry, dict)


def latent_at(entry: Any, magnitudes: np.ndarray) -> float | np.ndarray:
    """A card's latent setting (temperature, w_between) at each magnitude.

    A number holds everywhere. A table ``{"magnitude": [...], "value": [...]}``
    interpolates linearly in magnitude, constant beyond its first and last
    node: NGA-West2's tau and total sigma fall with magnitude, and one share
    and one temperature for all left tau 0.05-0.12 high at M 7 (docs/generator.md).
    """
    if not is_magnitude_table(entry):
        return float(entry)
    nodes = np.asarray(entry["magnitude"], dtype=float)
    values = np.asarray(entry["value"], dtype=float)
    if nodes.ndim != 1 or nodes.shape != values.shape or nodes.size < 1 or np.any(
            np.diff(nodes) <= 0):
        raise ValueError("a latent table needs increasing 'magnitude' nodes and one "
                         "'value' per node")
    return np.interp(np.asarray(magnitudes, dtype=float), nodes, values)


def draw_event_terms(rng: np.random.Generator, n_realizations: int,
                     shape: tuple[int, ...]) -> np.ndarray:
    """Between-event draws ``(R, *shape)`` from the scenario's generator."""
    return rng.standard_normal((n_realizations, *shape), dtype=np.float32)


def iter_site_chunks(n_sites: int, n_realizations: int, max_waveforms: int = 4096):
    """Slices of sites so that one chunk holds at most ``max_waveforms`` site-realizations
    (each 3 x 4096 float32 = 48 kB, so the default bounds a chunk to ~200 MB)."""
    per = max(1, max_waveforms // max(1, n_realizations))
    for i in range(0, n_sites, per):
        yield slice(i, min(n_sites, i + per))


#: Spawn-key tag of the per-realization generators of keyed (chunked) cgm runs: "cgm".
REALIZATION_STREAM = 0x63676D


def realization_generator(seed: int, realization: int) -> np.random.Generator:
    """The generator of realization r in chunked runs (event terms, then site fields).

    Keyed with a SeedSequence spawn key, not ``default_rng([seed, r])``: numpy
    ignores trailing zeros of an entropy list, so ``[seed, r]`` would be the
    stream of ``[seed, r, 0]`` too; a spawn key pads the entropy first.
    """
    if seed < 0 or realization < 0:
        raise ValueError("seed and realization must be non-negative")
    return np.random.default_rng(np.random.SeedSequence(
        int(seed), spawn_key=(REALIZATION_STREAM, int(realization))))


def keyed_latent_terms(seed: int, xy_km: np.ndarray, realization_ids: np.ndarray,
                       event_shape: tuple[int, ...], n_channels: int, *,
                       n_features: int | None = None, vs30_clustered: bool = False,
                       period_s: float = SITE_CHANNEL_PERIOD_S
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``eps_event`` (R, *event_shape) and ``eps_site`` (N, R, C) float32, keyed per realization.

    For chunked and distributed runs: realization r's :func:`realization_generator`
    draws its event terms, then one random-Fourier-feature field per site
    channel (ranges of :func:`site_channel_ranges_km`, channels independent),
    evaluated at ``xy_km`` with :func:`gm_engine.correlation.evaluate_field`.
    A site's values depend on the seed, r and its own coordinates only, so
    any chunking of the sites gives the same bits.
    """
    from ..correlation import DEFAULT_N_FEATURES, draw_fourier_features, evaluate_field

    xy = np.asarray(xy_km, dtype=float).reshape(-1, 2)
    rids = np.asarray(realization_ids, dtype=np.int64).reshape(-1)
    periods = site_channel_periods(n_channels, period_s)
    eps_event = np.empty((rids.size, *event_shape), dtype=np.float32)
    eps_site = np.empty((xy.shape[0], rids.size, n_channels), dtype=np.float32)
    for j, r in enumerate(rids.tolist()):
        rng = realization_generator(seed, r)
        eps_event[j] = rng.standard_normal(tuple(event_shape), dtype=np.float32)
        feats = draw_fourier_features(periods, rng, n_features or DEFAULT_N_FEATURES,
                                      vs30_clustered=vs30_clustered, inter_period=False)
        if xy.shape[0]:
            eps_site[:, j] = evaluate_field(feats, xy)
    return eps_event, eps_site
