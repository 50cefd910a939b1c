"""``compute_ims``: every requested IM of thousands of three-component records at once.

Records are processed in chunks of bounded memory; within a chunk each kind
of IM is computed once for all records (one SDOF filter pass per period for
both horizontals, one integration for PGV, PGD and MMI).

Horizontal definitions (``horizontal``):

- ``"RotDnn"`` (e.g. RotD50, RotD100): Boore (2010) percentile over rotation
  angles 0..179 deg for PGA, PGV, PGD, SA, PSV (see rotation.py). Arias
  intensity and CAV are rotated too: I_A(theta) is the quadratic form
  cos^2 I11 + sin^2 I22 + 2 sin cos I12 of the two components (exact, cheap),
  and CAV(theta) integrates |a1 cos + a2 sin| at every angle.
- ``"GeoMean"``: geometric mean of the H1 and H2 values (as-recorded axes).
- ``"H1"``, ``"H2"``, ``"Z"``: one component.

Significant durations for RotDnn and GeoMean use the Husid plot of the total
horizontal energy a1^2 + a2^2, i.e. of the sum of the two horizontal Arias
intensities (the two-component total of Arias 1970). a1^2 + a2^2 is invariant
under a rotation of the axes, so these durations do not depend on the sensor
orientation, and one duration describes the horizontal shaking. MMI uses the horizontal PGA and PGV of the same
definition in ``mmi_worden2012``.
"""

from __future__ import annotations

import math
import os
import re
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from ..errors import Cancelled, InputError
from ._validate import as_three_component, check_damping, check_dt, check_min_samples
from .duration import G_MS2, durations_from_energy
from .mmi import mmi_worden2012
from .names import IMSpec, parse_im
from .peaks import ground_velocity, velocity_displacement
from .response import (
    G_CMS2,
    MIN_SAMPLES_PER_PERIOD,
    iter_sdof_displacement,
    oversampling_factor,
    peak_abs,
)
from .rotation import ANGLES_DEG, rotated_peaks

HORIZONTALS = ("RotD50", "RotD100", "GeoMean", "H1", "H2", "Z")
_COMPONENT = {"H1": 0, "H2": 1, "Z": 2}
_ROTD_RE = re.compile(r"^ROTD(\d{1,3}(?:\.\d+)?)$")
# Samples (records x samples) per chunk. A chunk's float64 work arrays are a few
# copies of its two horizontals, times the oversampling factor of the shortest
# period (4 for T = 0.1 s at 100 Hz): 2^20 samples keeps that near 100-200 MB.
_CHUNK_SAMPLES = 1 << 20
# Threads by default: scipy's lfilter, numpy's reductions and FFTs release the
# GIL, so chunks run in parallel; more than 4 rarely pays for the memory.
_MAX_DEFAULT_THREADS = 4
_RAD = np.deg2rad(ANGLES_DEG)


def parse_horizontal(horizontal: str) -> tuple[str, float | None]:
    """Return ("rotd", percentile), ("geomean", None) or ("H1"/"H2"/"Z", None)."""
    text = str(horizontal).strip()
    upper = text.upper()
    match = _ROTD_RE.match(upper)
    if match:
        pct = float(match.group(1))
        if pct <= 100.0:
            return "rotd", pct
    if upper in ("GEOMEAN", "GM", "GEOMETRIC_MEAN"):
        return "geomean", None
    if upper in _COMPONENT:
        return upper, None
    raise InputError(
        "horizontal",
        f"unknown horizontal component {horizontal!r}; use one of {', '.join(HORIZONTALS)} "
        "(or RotDnn with 0 <= nn <= 100)",
    )


def compute_ims(
    acc: ArrayLike,
    dt: float,
    ims: Sequence[str],
    damping: float = 0.05,
    horizontal: str = "RotD50",
    *,
    min_samples_per_period: int | None = MIN_SAMPLES_PER_PERIOD,
    progress: Callable[[float, str], None] | None = None,
    is_cancelled: Callable[[], bool] | None = None,
    n_threads: int | None = None,
) -> dict[str, np.ndarray]:
    """Intensity measures of (N, 3, T) accelerograms in g (components H1, H2, Z).

    Parameters
    ----------
    acc : (N, 3, T) accelerations in g, float32 or float64.
    dt : time step in s.
    ims : IM names ("PGA", "PGV", "PGD", "SA(0.3)", "PSV(1.0)", "MMI", "IA",
        "CAV", "D5-75", "D5-95"); case-insensitive.
    damping : oscillator damping for SA/PSV, fraction of critical.
    horizontal : "RotD50" (default), "RotD100" (any RotDnn), "GeoMean", "H1",
        "H2" or "Z"; see the module docstring for IA, CAV and durations.
    min_samples_per_period : band-limited oversampling for short periods.
    progress, is_cancelled : engine callbacks (fraction, stage) and cancel flag;
        both are called from the calling thread, between chunks.
    n_threads : worker threads over chunks of records (default: the CPU count,
        at most 4); 1 computes in the calling thread.

    Returns
    -------
    dict from canonical IM name (``parse_im(name).name``) to an (N,) float64
    array in the units of ``IM_UNITS``.
    """
    arr = as_three_component(acc)
    dt = check_dt(dt)
    damping = check_damping(damping)
    min_samples_per_period = check_min_samples(min_samples_per_period)
    mode, pct = parse_horizontal(horizontal)
    if isinstance(ims, str):
        ims = [ims]
    specs: dict[str, IMSpec] = {}
    for name in ims:
        spec = parse_im(name)
        specs[spec.name] = spec
    if not specs:
        raise InputError("ims", "no intensity measure requested")

    n_rec, _, n_t = arr.shape
    threads = _thread_count(n_threads)
    # Oversampled copies for short periods multiply a chunk's memory.
    factor = max(
        (
            oversampling_factor(float(s.period), dt, min_samples_per_period)  # type: ignore[arg-type]
            for s in specs.values()
            if s.kind in ("SA", "PSV") and min_samples_per_period is not None
        ),
        default=1,
    )
    chunk = max(1, min(_CHUNK_SAMPLES // (n_t * factor), math.ceil(n_rec / threads)))
    out = {name: np.empty(n_rec, dtype=np.float64) for name in specs}

    def work(start: int) -> tuple[int, dict[str, np.ndarray]]:
        stop = min(start + chunk, n_rec)
        block = _chunk_ims(arr[start:stop], dt, specs, damping, mode, pct, min_samples_per_period)
        return start, block

    done = 0

    def collect(result: tuple[int, dict[str, np.ndarray]]) -> None:
        nonlocal done
        start, block = result
        for name, values in block.items():
            out[name][start : start + values.shape[0]] = values
        done += next(iter(block.values())).shape[0]
        if progress is not None:
            progress(done / n_rec, "intensity measures")

    def cancelled() -> bool:
        return is_cancelled is not None and bool(is_cancelled())

    starts = range(0, n_rec, chunk)
    if threads == 1 or len(starts) == 1:
        for start in starts:
            if cancelled():
                raise Cancelled("intensity measures cancelled")
            collect(work(start))
        return out
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque[Future[tuple[int, dict[str, np.ndarray]]]] = deque()
        for start in starts:
            if cancelled():
                for fut in pending:
                    fut.cancel()
                raise Cancelled("intensity measures cancelled")
            pending.append(pool.submit(work, start))
            if len(pending) >= threads:
                collect(pending.popleft().result())
        while pending:
            collect(pending.popleft().result())
    return out


def _thread_count(n_threads: int | None) -> int:
    if n_threads is None:
        return max(1, min(_MAX_DEFAULT_THREADS, os.cpu_count() or 1))
    if isinstance(n_threads, bool) or not isinstance(n_threads, int) or n_threads < 1:
        raise InputError("n_threads", f"expected a whole number >= 1, got {n_threads!r}")
    return n_threads


def _components(acc: np.ndarray, mode: str) -> np.ndarray:
    """(C, n, T) traces the horizontal definition needs: H1 & H2, or one component."""
    if mode in _COMPONENT:
        return acc[:, _COMPONENT[mode]][None]
    return np.moveaxis(acc[:, :2], 1, 0)


def _combine_peaks(
    x: np.ndarray,
    mode: str,
    pct: float | None,
    refine: bool = False,
    samples_per_period: float | None = None,
) -> np.ndarray:
    """Horizontal value from per-sample series x (C, n, T) by peak |x|.

    ``refine`` (oscillator responses only) interpolates the peak between
    samples; ground-motion peaks (PGA, PGV, PGD) stay the largest sample.
    """
    if mode == "rotd":
        peaks = rotated_peaks(x[0], x[1], pct, refine=refine,
                              samples_per_period=samples_per_period)
        return np.percentile(peaks, pct, axis=-1)
    return _combine_scalars(peak_abs(x, refine=refine).astype(np.float64), mode)


def _combine_scalars(values: np.ndarray, mode: str) -> np.ndarray:
    """(C, n) per-component values -> (n,): one component or the geometric mean."""
    if mode == "geomean":
        return np.sqrt(values[0] * values[1])
    return values[0]


def _chunk_ims(
    acc: np.ndarray,
    dt: float,
    specs: dict[str, IMSpec],
    damping: float,
    mode: str,
    pct: float | None,
    min_samples: int | None,
) -> dict[str, np.ndarray]:
    res: dict[str, np.ndarray] = {}
    kinds = {s.kind for s in specs.values()}
    comps = _components(acc, mode)  # (C, n, T), a view
    # For non-rotated definitions a single component is used per value; the
    # geometric mean combines per-component scalars (C = 2).
    scalar_mode = "rotd" if mode == "rotd" else ("geomean" if mode == "geomean" else "single")

    if kinds & {"PGA", "MMI"}:
        res["PGA"] = _combine_peaks(comps, scalar_mode, pct)
    if kinds & {"PGV", "PGD", "MMI"}:
        if "PGD" in kinds:
            vel, disp = velocity_displacement(comps, dt)
            res["PGD"] = _combine_peaks(disp, scalar_mode, pct)
            del disp
        else:  # no displacement needed (peaks.ground_velocity)
            vel = ground_velocity(comps, dt)
        if kinds & {"PGV", "MMI"}:
            # Peaks of float32 records' velocity in float32 (as their oscillator
            # responses): the rotation reads half the bytes, and 1e-7 is far below
            # what the record's own precision supports.
            res["PGV"] = _combine_peaks(vel.astype(acc.dtype, copy=False), scalar_mode, pct)
        del vel
    if "MMI" in kinds:
        res["MMI"] = mmi_worden2012(res["PGA"], res["PGV"])

    spectral = [s for s in specs.values() if s.kind in ("SA", "PSV")]
    if spectral:
        periods = np.array(sorted({float(s.period) for s in spectral}))  # type: ignore[arg-type]
        peak_u = np.empty((periods.size, acc.shape[0]))
        # float32 records: float32 displacements by blocks (response._sdof_filter_f32).
        for j, disp, dt_k in iter_sdof_displacement(comps, dt, periods, damping, min_samples,
                                                     float32=acc.dtype == np.float32):
            peak_u[j] = _combine_peaks(
                disp.astype(acc.dtype, copy=False), scalar_mode, pct, refine=True,
                samples_per_period=float(periods[j]) / dt_k,
            )
        omega = 2.0 * np.pi / periods
        for s in spectral:
            j = int(np.searchsorted(periods, s.period))
            if s.kind == "SA":
                res[s.name] = peak_u[j] * omega[j] ** 2  # PSA = w^2 max|u|, g
            else:
                res[s.name] = peak_u[j] * omega[j] * G_CMS2  # PSV = w max|u|, cm/s

    if "IA" in kinds:
        res["IA"] = _arias(comps, dt, scalar_mode, pct)
    if "CAV" in kinds:
        res["CAV"] = _cav(comps, dt, scalar_mode, pct)
    if kinds & {"D5-75", "D5-95"}:
        c64 = comps.astype(np.float64)
        energy = (c64**2).sum(axis=0)  # a1^2 + a2^2, or a^2 for one component
        del c64
        if "D5-75" in kinds:
            res["D5-75"] = durations_from_energy(energy, dt, 0.05, 0.75)
        if "D5-95" in kinds:
            res["D5-95"] = durations_from_energy(energy, dt, 0.05, 0.95)
    return {name: res[name] for name in specs}


def _trapz(y: np.ndarray, dt: float) -> np.ndarray:
    return (y.sum(axis=-1) - 0.5 * (y[..., 0] + y[..., -1])) * dt


def _arias(comps: np.ndarray, dt: float, mode: str, pct: float | None) -> np.ndarray:
    """Arias intensity (m/s), rotated exactly as a quadratic form in the angle (Arias 1970)."""
    c = comps.astype(np.float64)
    factor = math.pi * G_MS2 / 2.0  # I_A = (pi g / 2) int a_g^2 dt
    if mode != "rotd":
        return _combine_scalars(factor * _trapz(c * c, dt), mode)
    i11 = _trapz(c[0] * c[0], dt)
    i22 = _trapz(c[1] * c[1], dt)
    i12 = _trapz(c[0] * c[1], dt)
    cos, sin = np.cos(_RAD), np.sin(_RAD)
    ia = factor * (
        np.outer(i11, cos * cos) + np.outer(i22, sin * sin) + np.outer(2.0 * i12, sin * cos)
    )
    return np.percentile(ia, pct, axis=-1)


def _cav(comps: np.ndarray, dt: float, mode: str, pct: float | None) -> np.ndarray:
    """CAV (g*s) per component, or its RotDnn from |a1 cos + a2 sin| at every angle."""
    if mode != "rotd":
        return _combine_scalars(_trapz(np.abs(comps.astype(np.float64)), dt), mode)
    a1, a2 = comps[0], comps[1]
    n, n_t = a1.shape
    values = np.empty((n, ANGLES_DEG.size))
    step = max(1, _CHUNK_SAMPLES // (n * n_t))  # angles per block, bounded memory
    for k in range(0, ANGLES_DEG.size, step):
        cos = np.cos(_RAD[k : k + step]).astype(a1.dtype)[None, :, None]
        sin = np.sin(_RAD[k : k + step]).astype(a1.dtype)[None, :, None]
        rotated = np.abs(a1[:, None, :] * cos + a2[:, None, :] * sin)
        values[:, k : k + step] = _trapz(rotated, dt)
    return np.percentile(values, pct, axis=-1)
