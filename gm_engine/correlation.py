"""Spatial and inter-period correlation of ground-motion residuals.

Within-event residuals of one earthquake are correlated in space (nearby sites
shake alike) and across periods (a site that is strong at 0.2 s tends to be
strong at 0.3 s). Sampling them independently would give maps that are too
speckled and losses whose spread is too small, so every engine (the scalar
GMPE engine, the stochastic simulator, the generative model) draws its
within-event terms from :func:`correlated_normal_field`.

Models
------
- Spatial: Jayaram & Baker (2009), "Correlation model for spatially
  distributed ground-motion intensities", EESD 38(15), 1687-1708:
  rho(h) = exp(-3 h / b(T)), with the range b(T) of their recommended model
  (case 1: Vs30 not clustered, case 2: Vs30 clustered).
- Inter-period: Baker & Jayaram (2008), "Correlation of spectral acceleration
  values from NGA ground motion models", Earthquake Spectra 24(1), 299-317
  (the four-branch C1..C4 predictive equations of their proposed model).

Sampling
--------
The field is a linear model of coregionalisation: for each period p an
independent spatial field U_p with the Jayaram & Baker range b(T_p), then
W = U L^T with L the Cholesky factor of the Baker & Jayaram period matrix.
Marginal variance stays exactly 1 and the cross-period correlation at zero
separation is exactly Baker & Jayaram; the spatial correlation of W_p is a
mixture of the ranges of nearby periods, which differ little (documented
approximation).

Each spatial field is exact (dense Cholesky) for small site sets and, above
``exact_max_sites``, drawn with random Fourier features: the exponential
covariance exp(-|h|/l) in 2-D is the characteristic function of the bivariate
Cauchy law with scale 1/l, so k = z / (l |g|) (z ~ N(0, I2), g ~ N(0, 1)) and
sqrt(2/M) sum cos(k.x + phi) has that covariance in expectation. Cost is
O(N M) and memory O(N) per feature batch, so 1e5-1e6 grid cells are fine.

The Fourier path is split in two for chunked and distributed runs:
:func:`draw_fourier_features` draws one realization's features (P x M, small)
and :func:`evaluate_field` evaluates them at any set of sites; a site's value
depends only on its coordinates, so any chunking gives bit-identical values.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cholesky
from scipy.spatial.distance import cdist

from .errors import InputError

#: Valid inputs, as data (read by validation and docs).
PERIOD_RANGE_S = (0.0, 10.0)  # JB09 and BJ08 were fitted over 0.01-10 s (PGA as T=0).
MAX_EXACT_SITES = 2000  # dense Cholesky above this costs > 1 s and O(N^2) memory.
DEFAULT_N_FEATURES = 2048


def jayaram_baker_2009_range(periods: Sequence[float] | np.ndarray,
                             vs30_clustered: bool = False) -> np.ndarray:
    """Range b(T) in km of the exponential spatial correlation model.

    Jayaram & Baker (2009), recommended model: for T < 1 s,
    b = 8.5 + 17.2 T (case 1, Vs30 not clustered) or b = 40.7 - 15.0 T
    (case 2, Vs30 clustered); for T >= 1 s, b = 22.0 + 3.7 T in both cases.
    PGA uses T = 0 (their convention).
    """
    t = _check_periods(periods)
    short = (40.7 - 15.0 * t) if vs30_clustered else (8.5 + 17.2 * t)
    return np.where(t < 1.0, short, 22.0 + 3.7 * t)


def spatial_correlation(distance_km: np.ndarray, period: float,
                        vs30_clustered: bool = False) -> np.ndarray:
    """Correlation of within-event residuals at a separation (JB09, rho = exp(-3h/b))."""
    b = float(jayaram_baker_2009_range([period], vs30_clustered)[0])
    return np.exp(-3.0 * np.asarray(distance_km, dtype=float) / b)


def baker_jayaram_2008(periods: Sequence[float] | np.ndarray) -> np.ndarray:
    """Inter-period correlation matrix of epsilons (Baker & Jayaram 2008).

    Implements the C1..C4 predictive equations of their proposed model; PGA
    is taken as T = 0.01 s as they recommend. Returns a (P, P) matrix.
    """
    t = np.maximum(_check_periods(periods), 0.01)
    tmin = np.minimum.outer(t, t)
    tmax = np.maximum.outer(t, t)
    # BJ08 C1
    c1 = 1.0 - np.cos(np.pi / 2.0 - 0.366 * np.log(tmax / np.maximum(tmin, 0.109)))
    # BJ08 C2 (only used where tmax < 0.2 s; the min() avoids exp overflow)
    c2 = 1.0 - 0.105 * (1.0 - 1.0 / (1.0 + np.exp(100.0 * np.minimum(tmax, 0.2) - 5.0))) \
        * (tmax - tmin) / (tmax - 0.0099)
    # BJ08 C3, C4
    c3 = np.where(tmax < 0.109, c2, c1)
    c4 = c1 + 0.5 * (np.sqrt(np.clip(c3, 0.0, None)) - c3) * (1.0 + np.cos(np.pi * tmin / 0.109))
    rho = np.select([tmax < 0.109, tmin > 0.109, tmax < 0.2], [c2, c1, np.minimum(c2, c4)], c4)
    np.fill_diagonal(rho, 1.0)
    return rho


def correlated_normal_field(xy_km: np.ndarray, periods: Sequence[float] | np.ndarray,
                            rng: np.random.Generator, *, vs30_clustered: bool = False,
                            inter_period: bool = True, method: str = "auto",
                            n_features: int = DEFAULT_N_FEATURES,
                            device: str | None = None,
                            factor_cache: dict | None = None) -> np.ndarray:
    """Standard-normal within-event epsilons correlated in space and across periods.

    Parameters
    ----------
    xy_km : (N, 2) site coordinates in a local projected frame, km.
    periods : (P,) periods in s (0 for PGA).
    rng : the explicit generator of this realization.
    vs30_clustered : JB09 case 2 (True) or case 1 (False, the default because
        Vs30 proxies such as slope do not cluster like measured Vs30).
    inter_period : mix periods with the BJ08 correlation (False: independent).
    method : "exact" (Cholesky), "fourier" (random Fourier features) or "auto"
        (exact up to ``MAX_EXACT_SITES`` sites).
    n_features : number of Fourier features per period (accuracy ~ 1/sqrt(M)).
    device : a torch device other than the CPU evaluates Fourier fields there
        (:func:`evaluate_field_torch`, the same field to rounding).
    factor_cache : a dict kept across calls on the same sites (realizations of
        one run) so exact draws factor each covariance once (per range, with
        the sites it was made for: other sites are factored anew).

    Returns
    -------
    (N, P) float64 array with unit marginal variance.
    """
    xy = _sites_km(xy_km)
    t = _check_periods(periods)
    if method not in ("auto", "exact", "fourier"):
        raise InputError("method", f"expected 'auto', 'exact' or 'fourier', got {method!r}")
    if n_features < 16:
        raise InputError("n_features", f"must be at least 16, got {n_features}")
    n = xy.shape[0]
    if method == "auto":
        method = "exact" if n <= MAX_EXACT_SITES else "fourier"
    if method == "fourier":
        # Same draws, in the same order, as the per-period loop did; evaluated
        # site by site so any subset of sites gets the same values.
        feats = draw_fourier_features(t, rng, n_features, vs30_clustered=vs30_clustered,
                                      inter_period=inter_period)
        if device not in (None, "cpu"):
            return evaluate_field_torch(feats, xy, str(device))
        return evaluate_field(feats, xy)
    b = jayaram_baker_2009_range(t, vs30_clustered)
    u = np.empty((n, t.size))
    factors = {} if factor_cache is None else factor_cache  # shared by periods of one range
    for j, bj in enumerate(b):
        cached = factors.get(float(bj))
        if cached is None or not np.array_equal(cached[0], xy):
            cached = factors[float(bj)] = (xy.copy(), _exact_factor(xy, bj / 3.0))
        u[:, j] = cached[1] @ rng.standard_normal(n)
    if inter_period and t.size > 1:
        chol = np.linalg.cholesky(baker_jayaram_2008(t) + 1e-10 * np.eye(t.size))
        u = u @ chol.T
    return u


def _sites_km(xy_km: np.ndarray) -> np.ndarray:
    """Site coordinates as a finite (N, 2) float array in km, or an InputError."""
    xy = np.asarray(xy_km, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError("xy_km", f"expected an (N, 2) array of km, got shape {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise InputError("xy_km", "site coordinates must be finite")
    return xy


def _check_periods(periods: Sequence[float] | np.ndarray) -> np.ndarray:
    t = np.atleast_1d(np.asarray(periods, dtype=float))
    lo, hi = PERIOD_RANGE_S
    if t.ndim != 1 or t.size == 0 or np.any(~np.isfinite(t)) or np.any((t < lo) | (t > hi)):
        raise InputError("periods", f"periods must be finite and within [{lo}, {hi}] s")
    return t


def _exact_factor(xy: np.ndarray, length_km: float) -> np.ndarray:
    """Cholesky factor of the dense exponential covariance, for exact draws (small N only).

    Built in one (N, N) array: the broadcast (N, N, 2) differences and the
    separate nugget matrix made it 2.5x slower (60 -> 24 ms at 1,024 sites,
    one core), with the same bits.
    """
    n = xy.shape[0]
    cov = cdist(xy, xy)
    np.divide(cov, -length_km, out=cov)
    np.exp(cov, out=cov)
    cov.flat[:: n + 1] += 1e-8  # a tiny nugget keeps coincident sites (h = 0) positive definite
    return cholesky(cov, lower=True, overwrite_a=True, check_finite=False)


def _fourier_field(xy: np.ndarray, length_km: float, rng: np.random.Generator,
                   n_features: int, batch: int = 256) -> np.ndarray:
    """Random-Fourier-feature draw of a field with covariance exp(-|h| / length)."""
    k, phase = _draw_wavevectors(length_km, rng, n_features)
    return _evaluate_features(np.asarray(xy, dtype=float), k, phase, batch)


def _draw_wavevectors(length_km: float, rng: np.random.Generator,
                      n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, 2) wavevectors and (M,) phases of one exponential field exp(-|h| / length)."""
    z = rng.standard_normal((n_features, 2))
    g = np.abs(rng.standard_normal(n_features)) + 1e-12
    k = z / (length_km * g[:, None])  # bivariate Cauchy wavevectors (scale 1 / length)
    phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
    return k, phase


def _evaluate_features(xy: np.ndarray, k: np.ndarray, phase: np.ndarray, batch: int = 256,
                       site_block: int = 4096) -> np.ndarray:
    """sqrt(2/M) sum_m cos(k_m . x + phi_m) at each site, in a fixed per-site order.

    Only elementwise operations and per-row sums over fixed-length feature
    batches: a site's value depends on its own coordinates and the features,
    never on which other sites are evaluated with it (no BLAS blocking), so a
    chunked or distributed evaluation is bit-identical to a whole one. Memory:
    site_block x batch doubles at a time.
    """
    n_features = k.shape[0]
    kx = np.ascontiguousarray(k[:, 0])
    ky = np.ascontiguousarray(k[:, 1])
    out = np.zeros(xy.shape[0])
    for a in range(0, xy.shape[0], site_block):
        x = np.ascontiguousarray(xy[a:a + site_block, 0])[:, None]
        y = np.ascontiguousarray(xy[a:a + site_block, 1])[:, None]
        acc = np.zeros(x.shape[0])
        for s in range(0, n_features, batch):
            arg = x * kx[None, s:s + batch]
            arg += y * ky[None, s:s + batch]
            arg += phase[None, s:s + batch]
            acc += np.cos(arg).sum(axis=1)
        out[a:a + site_block] = acc
    return out * np.sqrt(2.0 / n_features)


@dataclass(frozen=True)
class FieldFeatures:
    """One realization's within-event field, as random Fourier features.

    Small (periods x features), drawn once, evaluated at any set of sites with
    :func:`evaluate_field`: the field is a function of position, so chunks of
    sites evaluated anywhere (Dask workers included) agree bit for bit.
    """

    periods: np.ndarray          # (P,) s
    wavevectors: np.ndarray      # (P, M, 2) 1/km
    phases: np.ndarray           # (P, M) rad
    mixing: np.ndarray | None    # (P, P) lower Cholesky factor of BJ08, or None


def draw_fourier_features(periods: Sequence[float] | np.ndarray, rng: np.random.Generator,
                          n_features: int = DEFAULT_N_FEATURES, *,
                          vs30_clustered: bool = False,
                          inter_period: bool = True) -> FieldFeatures:
    """Draw the features of one realization's field (JB09 ranges, BJ08 mixing).

    Consumes ``rng`` exactly as ``correlated_normal_field(method="fourier")``
    does, so both give the same field.
    """
    t = _check_periods(periods)
    if n_features < 16:
        raise InputError("n_features", f"must be at least 16, got {n_features}")
    b = jayaram_baker_2009_range(t, vs30_clustered)
    ks, phs = zip(*(_draw_wavevectors(bj / 3.0, rng, int(n_features)) for bj in b))
    mixing = None
    if inter_period and t.size > 1:
        mixing = np.linalg.cholesky(baker_jayaram_2008(t) + 1e-10 * np.eye(t.size))
    return FieldFeatures(t, np.stack(ks), np.stack(phs), mixing)


def evaluate_field(features: FieldFeatures, xy_km: np.ndarray) -> np.ndarray:
    """(N, P) standard-normal field of ``features`` at sites ``xy_km`` (N, 2) in km.

    Every value depends only on its site's coordinates: evaluating any subset
    or chunking of the sites gives bit-identical rows.
    """
    xy = _sites_km(xy_km)
    p = features.periods.size
    u = np.empty((xy.shape[0], p))
    for j in range(p):
        u[:, j] = _evaluate_features(xy, features.wavevectors[j], features.phases[j])
    if features.mixing is None:
        return u
    # W = U L^T as elementwise sums in a fixed order (a BLAS product may block
    # rows differently for different N and change the last bits).
    w = np.zeros_like(u)
    for j in range(p):
        for q in range(j + 1):
            w[:, j] += u[:, q] * features.mixing[j, q]
    return w


def evaluate_field_torch(features: FieldFeatures, xy_km: np.ndarray, device: str = "cpu",
                         site_block: int = 16384) -> np.ndarray:
    """:func:`evaluate_field` in float64 torch on ``device`` (a GPU engine's draws).

    The same sums as :func:`evaluate_field`, to rounding (~1e-13: torch's
    reductions group terms differently), at 1e4-1e6 sites where numpy's cos
    on one CPU core dominated a GPU run (7.9 of 8.1 s for 1e4 sites on an
    H200 machine, docs/PERFORMANCE.md). Values depend on the block a site is
    evaluated in only through that rounding, so chunked and distributed runs
    keep :func:`evaluate_field`, whose bits do not.
    """
    import torch

    xy = _sites_km(xy_km)
    n_p, n_f = features.phases.shape
    k = torch.as_tensor(features.wavevectors, dtype=torch.float64, device=device)  # (P, M, 2)
    ph = torch.as_tensor(features.phases, dtype=torch.float64, device=device)
    u = np.empty((xy.shape[0], n_p))
    for a in range(0, xy.shape[0], site_block):
        x = torch.as_tensor(xy[a:a + site_block], dtype=torch.float64, device=device)
        for j in range(n_p):
            arg = x[:, :1] * k[j, :, 0] + x[:, 1:] * k[j, :, 1] + ph[j]
            u[a:a + site_block, j] = torch.cos(arg).sum(dim=1).cpu().numpy()
    u *= np.sqrt(2.0 / n_f)
    return u if features.mixing is None else u @ features.mixing.T
