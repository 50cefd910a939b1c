"""Peak ground motions: PGA from the record, PGV and PGD from its integrals.

Integrating an accelerogram twice turns any small offset in acceleration (a
tilt, a digitiser zero, a rounding bias) into a displacement that grows like
t^2, so PGD and, to a lesser degree, PGV need a baseline adjustment. We use
the polynomial-fit adjustment discussed by Boore & Bommer (2005, Soil Dyn.
Earthq. Eng. 25, 93-115, "baseline adjustments"): fit
c2 t^2 + ... + c6 t^6 to the displacement by least squares and subtract it
(and its derivative from the velocity). Leaving out the constant and linear
terms keeps the record at rest at t = 0 (zero displacement and velocity), and
the fit is equivalent to removing a degree-4 polynomial baseline from the
acceleration. It is a linear operator shared by all traces of one length, so
thousands of records are corrected with one matrix product.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_records, check_dt
from .response import G_CMS2

#: Degrees of the displacement baseline polynomial (see module docstring).
BASELINE_DEGREES = (2, 3, 4, 5, 6)
#: m * n * k up to which OpenBLAS computes a matrix product in the calling
#: thread (SMP_THRESHOLD_MIN 65536 x GEMM_MULTITHREAD_THRESHOLD 4, its
#: interface/gemm.c). Larger products wake its worker threads, which then
#: spin after every call: with the cgm engine's batch threads on 2 cores they
#: took a third of the CPU (system time) from the other batch (bench_cgm).
BLAS_ONE_THREAD_MNK = 65536 * 4


def matmul_one_thread(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a (..., k) @ b (k, n)`` in row blocks that BLAS computes in the calling thread.

    Same products row by row as one call (and faster here: 0.16 vs 0.37 ms for
    128 x 4096 @ 4096 x 5 on one core), without BLAS threads competing with
    the caller's own threads.
    """
    k, n = b.shape
    rows = a.reshape(-1, k)
    out = np.empty((rows.shape[0], n), dtype=np.result_type(a, b))
    step = max(1, BLAS_ONE_THREAD_MNK // max(k * n, 1))
    for i in range(0, rows.shape[0], step):
        np.matmul(rows[i : i + step], b, out=out[i : i + step])
    return out.reshape(*a.shape[:-1], n)


def pga(acc: ArrayLike) -> np.ndarray:
    """Peak ground acceleration (...,) in the units of ``acc`` (g): max |a|."""
    return np.abs(as_records(acc)).max(axis=-1).astype(np.float64)


def cumulative_trapezoid(y: np.ndarray, dt: float) -> np.ndarray:
    """Running trapezoid integral along the last axis, starting at 0 (same length)."""
    out = np.empty(y.shape, dtype=np.float64)
    out[..., 0] = 0.0
    np.cumsum((y[..., 1:] + y[..., :-1]) * (0.5 * dt), axis=-1, out=out[..., 1:])
    return out


@lru_cache(maxsize=16)
def _baseline_operators(n: int, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pinv, basis, basis derivative) of the displacement polynomial for n samples.

    Time is scaled to [0, 1] so the normal equations stay well conditioned.
    """
    duration = dt * (n - 1)
    s = np.arange(n) * dt / duration
    basis = np.stack([s**k for k in BASELINE_DEGREES], axis=1)  # (n, K)
    dbasis = np.stack([k * s ** (k - 1) / duration for k in BASELINE_DEGREES], axis=1)
    pinv = np.linalg.pinv(basis)  # (K, n)
    return pinv, basis, dbasis


def velocity_displacement(
    acc: ArrayLike, dt: float, baseline: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Ground velocity (cm/s) and displacement (cm) of every trace, float64.

    Trapezoid integration (exact for the piecewise-linear acceleration that
    the SDOF recursion also assumes), then the polynomial baseline adjustment
    of the module docstring unless ``baseline`` is False.
    """
    arr = as_records(acc)
    dt = check_dt(dt)
    vel = cumulative_trapezoid(arr, dt)
    disp = cumulative_trapezoid(vel, dt)
    vel *= G_CMS2
    disp *= G_CMS2
    n = arr.shape[-1]
    if baseline and n > len(BASELINE_DEGREES) + 2:
        pinv, basis, dbasis = _baseline_operators(n, dt)
        coef = matmul_one_thread(disp, pinv.T)  # (..., K)
        disp -= matmul_one_thread(coef, basis.T)
        vel -= matmul_one_thread(coef, dbasis.T)
    return vel, disp


@lru_cache(maxsize=16)
def _velocity_to_coefficients(n: int, dt: float) -> np.ndarray:
    """(n, K) operator from velocity to the baseline polynomial's coefficients.

    The coefficients are pinv @ D, with D = cumulative_trapezoid(vel) the
    displacement; D is linear in vel, so pinv @ D = vel @ (D' pinv') with
    D' pinv' made of suffix sums of pinv's rows. One product instead of a
    second integration: PGV alone never needs the displacement itself.
    """
    pinv = _baseline_operators(n, dt)[0]  # (K, n)
    after = np.zeros_like(pinv)  # sum of pinv[:, i] over i > j
    after[:, :-1] = np.cumsum(pinv[:, :0:-1], axis=1)[:, ::-1]
    w = after + 0.5 * pinv
    w[:, 0] = 0.5 * after[:, 0]
    return np.ascontiguousarray((w * dt).T)


def ground_velocity(acc: ArrayLike, dt: float) -> np.ndarray:
    """Baseline-adjusted ground velocity (cm/s), float64: ``velocity_displacement``'s
    velocity (equal to ~1e-12) in half its time, without the second integration."""
    arr = as_records(acc)
    dt = check_dt(dt)
    vel = cumulative_trapezoid(arr, dt)
    n = arr.shape[-1]
    if n > len(BASELINE_DEGREES) + 2:
        coef = matmul_one_thread(vel, _velocity_to_coefficients(n, dt))  # (..., K)
        vel -= matmul_one_thread(coef, _baseline_operators(n, dt)[2].T)
    vel *= G_CMS2
    return vel


def pgv(acc: ArrayLike, dt: float) -> np.ndarray:
    """Peak ground velocity (...,) in cm/s, after the baseline adjustment."""
    vel = ground_velocity(acc, dt)
    return np.abs(vel).max(axis=-1)


def pgd(acc: ArrayLike, dt: float) -> np.ndarray:
    """Peak ground displacement (...,) in cm, after the baseline adjustment."""
    _, disp = velocity_displacement(acc, dt)
    return np.abs(disp).max(axis=-1)
