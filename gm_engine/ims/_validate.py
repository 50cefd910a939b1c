"""Input checks shared by the IM functions, each failing with one InputError.

Records come from users (files), from the generator and from the stochastic
simulator; a NaN or a wrong time step would otherwise propagate silently into
rasters, so every public function checks its inputs once, here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import InputError


def _to_array(acc: Any, field: str) -> np.ndarray:
    """Numeric array (float32 kept, anything else float64), ragged input rejected."""
    if isinstance(acc, np.ndarray):
        arr = acc
    else:
        try:
            arr = np.asarray(acc)
        except ValueError as exc:  # ragged nested sequences (numpy >= 1.24)
            raise InputError(
                field, f"components or records have different lengths ({exc})"
            ) from None
        if arr.dtype == object:
            raise InputError(field, "components or records have different lengths")
    if arr.dtype.kind not in "fiub":
        raise InputError(field, f"expected numbers, got an array of dtype {arr.dtype}")
    if arr.dtype != np.float32:
        arr = arr.astype(np.float64, copy=False)
    return arr


def _check_samples(arr: np.ndarray, field: str) -> np.ndarray:
    if arr.ndim == 0 or arr.shape[-1] < 2:
        raise InputError(field, f"a record needs at least 2 samples, got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(field, f"no records (empty array of shape {arr.shape})")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise InputError(
            field, f"contains NaN or infinite values (first at index {tuple(int(i) for i in bad)})"
        )
    return arr


def as_records(acc: Any, field: str = "acc") -> np.ndarray:
    """Return ``acc`` as a float32/float64 array (..., T) with finite values.

    float32 input stays float32 (the generator's dtype; halving memory), other
    numeric input becomes float64.
    """
    return _check_samples(_to_array(acc, field), field)


def as_three_component(acc: Any, field: str = "acc") -> np.ndarray:
    """Check the (N, 3, T) layout of the engine's waveform arrays."""
    arr = _to_array(acc, field)
    if arr.ndim != 3 or arr.shape[1] != 3:
        raise InputError(
            field,
            f"expected shape (n_records, 3, n_samples) with components H1, H2, Z; got {arr.shape}",
        )
    if arr.shape[0] == 0:
        raise InputError(field, "no records (first dimension is 0)")
    return _check_samples(arr, field)


def check_pair(h1: np.ndarray, h2: np.ndarray) -> None:
    """Two horizontals must share their shape sample for sample."""
    if h1.shape != h2.shape:
        raise InputError(
            "acc_h2",
            f"shape {h2.shape} does not match acc_h1 shape {h1.shape} "
            "(the two horizontals need the same number of samples)",
        )


def check_dt(dt: Any) -> float:
    try:
        value = float(dt)
    except (TypeError, ValueError):
        raise InputError("dt", f"the time step must be a number of seconds, got {dt!r}") from None
    if not math.isfinite(value) or value <= 0.0:
        raise InputError("dt", f"the time step must be a positive number of seconds, got {dt!r}")
    return value


def check_periods(periods: Any) -> np.ndarray:
    try:
        arr = np.atleast_1d(np.asarray(periods, dtype=np.float64))
    except (TypeError, ValueError):
        raise InputError("periods", f"expected numbers of seconds, got {periods!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise InputError("periods", f"expected a non-empty list of periods, got shape {arr.shape}")
    if not np.isfinite(arr).all() or (arr <= 0.0).any():
        raise InputError(
            "periods", f"periods must be positive and finite seconds, got {arr.tolist()}"
        )
    return arr


def check_damping(damping: Any) -> float:
    try:
        value = float(damping)
    except (TypeError, ValueError):
        raise InputError("damping", f"expected a fraction of critical, got {damping!r}") from None
    # The closed-form recursion is for under-damped oscillators (0 <= zeta < 1).
    if not math.isfinite(value) or not 0.0 <= value < 1.0:
        raise InputError(
            "damping", f"damping is a fraction of critical in [0, 1) (0.05 = 5 %), got {damping!r}"
        )
    return value


def check_percentiles(percentiles: Any) -> tuple[float, ...]:
    try:
        values = tuple(float(p) for p in np.atleast_1d(np.asarray(percentiles, dtype=np.float64)))
    except (TypeError, ValueError):
        raise InputError(
            "percentiles", f"expected numbers in [0, 100], got {percentiles!r}"
        ) from None
    if not values or any(not (0.0 <= p <= 100.0) for p in values):
        raise InputError("percentiles", f"percentiles must lie in [0, 100], got {percentiles!r}")
    return values


def check_min_samples(value: Any) -> int | None:
    """Samples per period below which records are oversampled (None: never)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(
            "min_samples_per_period", f"expected None or a whole number >= 1, got {value!r}"
        )
    return int(value)
