"""Latent draws for N sites x R realizations: between-event, correlated and local terms.

The prior innovation of frame t at site n in realization r is

    eps[n, r, t] = sqrt(w_b) * eps_event[r, t]
                 + sqrt(1 - w_b) * ( sqrt(p) * eps_site[n, r]
                                   + sqrt(1 - p) * xi[n, r, t] )

and the latent is z_t = mu_prior + sigma_prior * eps[n, r, t] (see
``CGMVAE.sample``). Each element is standard normal, so every single site sees
a draw from the trained prior; the terms only set how draws co-vary:

* ``eps_event`` (R, M, D): shared by every site of realization r, the analogue
  of the between-event residual of a ground-motion model;
* ``eps_site`` (N, R, D): one frame-constant offset per latent dimension and
  site; the *only spatially correlated part*. Each of the D channels is drawn
  by the caller as a correlated standard-normal field over the sites (e.g.
  :func:`draw_site_terms` via ``gm_engine.correlation.correlated_normal_field``),
  with the Jayaram & Baker (2009) range of the period assigned to that channel
  (:func:`site_channel_ranges_km`);
* ``xi`` (N, R, M, D): frame-wise innovations independent between sites, drawn
  from a generator seeded by (seed, site id, realization id) so any site can be
  regenerated alone.

Frames of one site are therefore correlated through the event and site terms
(the trained prior draws them independently); this is the approximation that
makes spatial coherence affordable: a correlated field costs D = 16 channels
per site, not M x D = 2064.
"""
from __future__ import annotations

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


#: Periods assigned to the latent site channels: log-spaced over 0.01-3 s,
#: the PSA band of the scenarios. Latent channels are not tied to a period;
#: giving each the Jayaram & Baker (2009) range of one period yields spatial
#: coherence at several scales (about 9-33 km) instead of one arbitrary length.
SITE_CHANNEL_PERIOD_RANGE = (0.01, 3.0)


def site_channel_periods(n_channels: int) -> np.ndarray:
    """Period (s) whose Jayaram & Baker range each latent site channel takes."""
    return np.geomspace(*SITE_CHANNEL_PERIOD_RANGE, n_channels)


def site_channel_ranges_km(n_channels: int, vs30_clustered: bool = False) -> np.ndarray:
    """Correlation range b (km, rho = exp(-3 h / b)) of each latent site channel."""
    from ..correlation import jayaram_baker_2009_range

    return jayaram_baker_2009_range(site_channel_periods(n_channels), vs30_clustered)


def draw_site_terms(xy_km: np.ndarray, n_realizations: int, n_channels: int,
                    rng: np.random.Generator, *, vs30_clustered: bool = False,
                    method: str = "auto") -> np.ndarray:
    """Spatially correlated ``eps_site`` (N, R, C) float32 for all sites of a run.

    One independent field per channel and realization from
    :func:`gm_engine.correlation.correlated_normal_field` (Jayaram & Baker
    2009 exponential model; random Fourier features above a few thousand
    sites, so 1e5-1e6 sites cost O(N) memory). Channels are independent
    (``inter_period=False``): they are independent latent dimensions.
    """
    from ..correlation import correlated_normal_field

    periods = site_channel_periods(n_channels)
    out = np.empty((len(xy_km), n_realizations, n_channels), dtype=np.float32)
    for r in range(n_realizations):
        out[:, r] = correlated_normal_field(xy_km, periods, rng, vs30_clustered=vs30_clustered,
                                            inter_period=False, method=method)
    return out


def site_innovations(seed: int, site_ids: np.ndarray, realization_ids: np.ndarray,
                     shape: tuple[int, ...]) -> np.ndarray:
    """Independent frame-wise innovations ``(n, R, *shape)`` float32.

    One ``numpy.random.Generator`` per (seed, site id, realization id): the
    draw of a site does not depend on which other sites are in the chunk.
    """
    site_ids = np.asarray(site_ids, dtype=np.int64)
    realization_ids = np.asarray(realization_ids, dtype=np.int64)
    if (site_ids < 0).any() or (realization_ids < 0).any() or seed < 0:
        raise ValueError("seed, site ids and realization ids must be non-negative")
    out = np.empty((len(site_ids), len(realization_ids), *shape), dtype=np.float32)
    for i, s in enumerate(site_ids.tolist()):
        for j, r in enumerate(realization_ids.tolist()):
            rng = np.random.default_rng([int(seed), s, r])
            out[i, j] = rng.standard_normal(shape, dtype=np.float32)
    return out


def synthesis_noise(seed: int, site_ids: np.ndarray, realization_ids: np.ndarray,
                    shape: tuple[int, ...]) -> np.ndarray:
    """Unit white noise ``(n, R, *shape)`` float32 that the envelope shapes into waveforms.

    Keyed like :func:`site_innovations`, on a separate stream (a fourth key
    element), so any site's waveforms can be regenerated alone.
    """
    site_ids = np.asarray(site_ids, dtype=np.int64)
    realization_ids = np.asarray(realization_ids, dtype=np.int64)
    out = np.empty((len(site_ids), len(realization_ids), *shape), dtype=np.float32)
    for i, s in enumerate(site_ids.tolist()):
        for j, r in enumerate(realization_ids.tolist()):
            out[i, j] = np.random.default_rng([int(seed), s, r, 1]).standard_normal(
                shape, dtype=np.float32)
    return out


def mix_innovations(eps_event: np.ndarray, eps_site: np.ndarray, local: np.ndarray,
                    w_between: float = DEFAULT_W_BETWEEN,
                    site_persistent: float = DEFAULT_SITE_PERSISTENT) -> np.ndarray:
    """Combine the three terms into unit-variance innovations ``(n, R, M, D)``."""
    if not (0.0 <= w_between <= 1.0 and 0.0 <= site_persistent <= 1.0):
        raise ValueError("w_between and site_persistent must lie in [0, 1]")
    a = np.float32(np.sqrt(w_between))
    b = np.float32(np.sqrt((1.0 - w_between) * site_persistent))
    c = np.float32(np.sqrt((1.0 - w_between) * (1.0 - site_persistent)))
    return (a * eps_event[None].astype(np.float32)
            + b * eps_site[:, :, None, :].astype(np.float32)
            + c * local.astype(np.float32))


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

