"""Energy-based IMs: Arias intensity, significant durations and CAV.

Arias (1970, "A measure of earthquake intensity", in Seismic Design for
Nuclear Power Plants, MIT Press, 438-483): I_A = pi / (2 g) * int a(t)^2 dt,
in m/s for a in m/s^2. With a in g: I_A = (pi g / 2) * int a_g^2 dt.

Significant duration D5-75 / D5-95 (Trifunac & Brady 1975, BSSA 65(3),
581-626, with the 5-75 % and 5-95 % bounds as used by Bommer, Stafford &
Alarcon 2009, BSSA 99(6), 3217-3233): the time between the instants at
which the normalised Husid plot int_0^t a^2 / int_0^end a^2 first reaches the
lower and the upper fraction, linearly interpolated between samples.

CAV (EPRI 1988, NP-5930): int |a(t)| dt, here with a in g so CAV is in g*s
(multiply by 9.80665 for m/s).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from ._validate import as_records, check_dt
from .peaks import cumulative_trapezoid

G_MS2 = 9.80665  # standard gravity, m/s^2


def arias_intensity(acc: ArrayLike, dt: float) -> np.ndarray:
    """Arias intensity (...,) in m/s of accelerations in g (Arias 1970)."""
    arr = as_records(acc)
    dt = check_dt(dt)
    return _arias_from_energy(arr.astype(np.float64) ** 2, dt)


def _arias_from_energy(energy: np.ndarray, dt: float) -> np.ndarray:
    # I_A = pi/(2g) int (g a_g)^2 dt = (pi g / 2) int a_g^2 dt (Arias 1970).
    return (math.pi * G_MS2 / 2.0) * _trapezoid(energy, dt)


def _trapezoid(y: np.ndarray, dt: float) -> np.ndarray:
    """Trapezoid integral over the last axis (np.trapz is gone in numpy 2)."""
    return (y.sum(axis=-1) - 0.5 * (y[..., 0] + y[..., -1])) * dt


def husid(acc: ArrayLike, dt: float) -> np.ndarray:
    """Normalised Husid plot (..., T): cumulative a^2 integral over its total, in [0, 1]."""
    arr = as_records(acc)
    dt = check_dt(dt)
    return _normalised_cumulative(arr.astype(np.float64) ** 2, dt)


def _normalised_cumulative(energy: np.ndarray, dt: float) -> np.ndarray:
    cum = cumulative_trapezoid(energy, dt)
    total = cum[..., -1:]
    return np.divide(cum, total, out=np.zeros_like(cum), where=total > 0)


def significant_duration(
    acc: ArrayLike, dt: float, start: float = 0.05, end: float = 0.95
) -> np.ndarray:
    """Time in s (...,) for the Husid plot to go from ``start`` to ``end`` (fractions)."""
    arr = as_records(acc)
    dt = check_dt(dt)
    if not 0.0 <= start < end <= 1.0:
        raise InputError("duration", f"need 0 <= start < end <= 1, got {start}, {end}")
    return durations_from_energy(arr.astype(np.float64) ** 2, dt, start, end)


def durations_from_energy(energy: np.ndarray, dt: float, start: float, end: float) -> np.ndarray:
    """Significant duration from an energy density a^2 (..., T) already squared.

    Taking the energy lets callers pass a1^2 + a2^2, the rotation-invariant
    total horizontal energy, for a two-component duration.
    """
    h = _normalised_cumulative(energy, dt)
    return _crossing_time(h, end, dt) - _crossing_time(h, start, dt)


def _crossing_time(h: np.ndarray, level: float, dt: float) -> np.ndarray:
    """First time at which the non-decreasing h reaches ``level``, interpolated."""
    n = h.shape[-1]
    idx = np.argmax(h >= level - 1e-12, axis=-1)  # first sample at/above the level
    hi = np.take_along_axis(h, idx[..., None], axis=-1)[..., 0]
    lo = np.take_along_axis(h, np.clip(idx - 1, 0, n - 1)[..., None], axis=-1)[..., 0]
    step = hi - lo
    frac = np.divide(level - lo, step, out=np.ones_like(step), where=step > 0)
    frac = np.where(idx > 0, np.clip(frac, 0.0, 1.0), 0.0)
    return np.where(idx > 0, (idx - 1 + frac) * dt, 0.0)


def cav(acc: ArrayLike, dt: float) -> np.ndarray:
    """Cumulative absolute velocity (...,) in g*s: trapezoid integral of |a| (EPRI 1988)."""
    arr = as_records(acc)
    dt = check_dt(dt)
    return _trapezoid(np.abs(arr.astype(np.float64)), dt)
