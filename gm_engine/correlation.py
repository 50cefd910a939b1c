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
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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
                            n_features: int = DEFAULT_N_FEATURES) -> np.ndarray:
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

    Returns
    -------
    (N, P) float64 array with unit marginal variance.
    """
    xy = np.asarray(xy_km, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError("xy_km", f"expected an (N, 2) array of km, got shape {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise InputError("xy_km", "site coordinates must be finite")
    t = _check_periods(periods)
    if method not in ("auto", "exact", "fourier"):
        raise InputError("method", f"expected 'auto', 'exact' or 'fourier', got {method!r}")
    if n_features < 16:
        raise InputError("n_features", f"must be at least 16, got {n_features}")
    n = xy.shape[0]
    if method == "auto":
        method = "exact" if n <= MAX_EXACT_SITES else "fourier"
    b = jayaram_baker_2009_range(t, vs30_clustered)
    u = np.empty((n, t.size))
    for j, bj in enumerate(b):
        if method == "exact":
            u[:, j] = _exact_field(xy, bj / 3.0, rng)
        else:
            u[:, j] = _fourier_field(xy, bj / 3.0, rng, n_features)
    if inter_period and t.size > 1:
        chol = np.linalg.cholesky(baker_jayaram_2008(t) + 1e-10 * np.eye(t.size))
        u = u @ chol.T
    return u


def _check_periods(periods: Sequence[float] | np.ndarray) -> np.ndarray:
    t = np.atleast_1d(np.asarray(periods, dtype=float))
    lo, hi = PERIOD_RANGE_S
    if t.ndim != 1 or t.size == 0 or np.any(~np.isfinite(t)) or np.any((t < lo) | (t > hi)):
        raise InputError("periods", f"periods must be finite and within [{lo}, {hi}] s")
    return t


def _exact_field(xy: np.ndarray, length_km: float, rng: np.random.Generator) -> np.ndarray:
    """Exact draw: Cholesky of the dense exponential covariance (small N only)."""
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    cov = np.exp(-d / length_km)
    # A tiny nugget keeps coincident sites (h = 0) positive definite.
    chol = np.linalg.cholesky(cov + 1e-8 * np.eye(xy.shape[0]))
    return chol @ rng.standard_normal(xy.shape[0])


def _fourier_field(xy: np.ndarray, length_km: float, rng: np.random.Generator,
                   n_features: int, batch: int = 256) -> np.ndarray:
    """Random-Fourier-feature draw of a field with covariance exp(-|h| / length)."""
    z = rng.standard_normal((n_features, 2))
    g = np.abs(rng.standard_normal(n_features)) + 1e-12
    k = z / (length_km * g[:, None])  # bivariate Cauchy wavevectors (scale 1 / length)
    phase = rng.uniform(0.0, 2.0 * np.pi, n_features)
    out = np.zeros(xy.shape[0])
    for s in range(0, n_features, batch):  # bounded memory: N x batch at a time
        out += np.cos(xy @ k[s:s + batch].T + phase[s:s + batch]).sum(axis=1)
    return out * np.sqrt(2.0 / n_features)
