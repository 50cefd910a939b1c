"""Waveform files for engineers: MiniSEED (with a JSON sidecar) and CSV.

A site's waveforms are (R, 3, T) accelerations in g (docs/CONTRACTS.md). In
MiniSEED every realization is a location code and every component a channel
(HN1 = H1 north-south, HN2 = H2 east-west, HNZ = vertical: SEED "H" high
broadband, "N" accelerometer); MiniSEED has no field for units or for the
scenario, so a JSON sidecar next to the file carries both. Files appear whole
or not at all and an existing file is replaced only when asked.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .io import atomic_path, refuse_overwrite

NETWORK = "GS"
CHANNELS = ("HN1", "HN2", "HNZ")
COMPONENT_NAMES = ("H1 (north-south)", "H2 (east-west)", "Z (vertical)")
UNITS = "g"
#: Station codes hold 5 characters (SEED 2.4): decimal below this index, then base 36.
_DECIMAL_STATIONS = 100_000
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTER_START = 10 * 36**4  # "A0000": base-36 codes beginning with a letter


def station_code(site_index: int) -> str:
    """The 5-character station code of a site: ``00042``; from 100000 on ``A0000``...

    Codes of sites beyond 99999 begin with a letter, so they never collide
    with the decimal ones; the JSON sidecar maps every code to its site index.
    """
    index = int(site_index)
    if index < 0:
        raise InputError("site_index", f"must be >= 0, got {index}")
    if index < _DECIMAL_STATIONS:
        return f"{index:05d}"
    value = index - _DECIMAL_STATIONS + _LETTER_START
    if value >= 36**5:
        raise InputError("site_index", f"{index} is too large for a 5-character station code")
    digits = []
    for _ in range(5):
        value, rem = divmod(value, 36)
        digits.append(_BASE36[rem])
    return "".join(reversed(digits))


def _waveforms(data: Any) -> tuple[np.ndarray, float]:
    """(acc (R, 3, T), dt) of any object with ``acc`` and ``dt`` attributes, checked."""
    acc = np.asarray(getattr(data, "acc", None), dtype=float)
    if acc.ndim == 2:
        acc = acc[np.newaxis]
    if acc.ndim != 3 or acc.shape[1] != 3 or acc.shape[2] < 2:
        raise InputError("acc", f"expected (realizations, 3, samples) accelerations, got {acc.shape}")
    if not np.isfinite(acc).all():
        raise InputError("acc", "waveforms contain NaN or infinite samples")
    dt = float(getattr(data, "dt", float("nan")))
    if not (math.isfinite(dt) and dt > 0):
        raise InputError("dt", f"time step must be a positive number of seconds, got {dt}")
    return acc, dt


def _json_safe(value: Any) -> Any:
    """Conditions as JSON: numpy scalars to Python, NaN to null."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _metadata(data: Any, acc: np.ndarray, dt: float) -> dict[str, Any]:
    site_index = getattr(data, "site_index", None)
    return {
        "format": "groundshake-waveforms",
        "version": 1,
        "site_index": None if site_index is None else int(site_index),
        "label": getattr(data, "label", None),
        "units": UNITS,
        "quantity": "acceleration",
        "dt_s": dt,
        "n_samples": int(acc.shape[2]),
        "realizations": int(acc.shape[0]),
        "components": dict(zip(CHANNELS, COMPONENT_NAMES)),
        "conditions": _json_safe(dict(getattr(data, "conditions", {}) or {})),
        "run_dir": None if getattr(data, "run_dir", None) is None else str(data.run_dir),
    }


def write_waveforms_mseed(path: str | Path, data: Any, overwrite: bool = False) -> Path:
    """Write a site's waveforms as MiniSEED (float32, g) plus ``<path>.json`` metadata.

    ``data`` has ``acc`` (R, 3, T) in g and ``dt``; optional ``site_index``
    (station code), ``label``, ``conditions`` and ``run_dir`` go into the
    sidecar. Realization r is location code ``f"{r:02d}"``, so at most 100
    realizations fit in one file. Start time is 1970-01-01T00:00:00 (the
    waveforms are synthetic and have no absolute time).
    """
    from obspy import Stream, Trace, UTCDateTime

    acc, dt = _waveforms(data)
    if acc.shape[0] > 100:
        raise InputError("realizations", f"{acc.shape[0]} realizations do not fit the 100 "
                                         "two-digit MiniSEED location codes; export fewer")
    dest = Path(path)
    sidecar = dest.with_name(dest.name + ".json")
    refuse_overwrite(dest, overwrite, "path")
    refuse_overwrite(sidecar, overwrite, "path")
    site_index = getattr(data, "site_index", None)
    station = station_code(site_index if site_index is not None else 0)
    traces = [
        Trace(data=np.ascontiguousarray(acc[r, c], dtype=np.float32),
              header={"network": NETWORK, "station": station, "location": f"{r:02d}",
                      "channel": CHANNELS[c], "delta": dt, "starttime": UTCDateTime(0)})
        for r in range(acc.shape[0]) for c in range(3)
    ]
    meta = _metadata(data, acc, dt)
    meta.update({"file": dest.name, "network": NETWORK, "station": station,
                 "locations": {f"{r:02d}": f"realization {r}" for r in range(acc.shape[0])},
                 "starttime": str(UTCDateTime(0))})
    with atomic_path(dest) as tmp:
        Stream(traces).write(str(tmp), format="MSEED", encoding="FLOAT32")
    with atomic_path(sidecar) as tmp:
        tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return dest


def write_waveforms_csv(path: str | Path, data: Any, overwrite: bool = False) -> Path:
    """Write a site's waveforms as CSV: ``time_s`` then ``r<k>_<H1|H2|Z>_g`` columns.

    Comment lines starting with ``#`` before the header carry units, time step
    and the site conditions as JSON (``pandas.read_csv(path, comment="#")``
    reads the table).
    """
    acc, dt = _waveforms(data)
    dest = Path(path)
    refuse_overwrite(dest, overwrite, "path")
    meta = _metadata(data, acc, dt)
    r, _, t = acc.shape
    table = np.empty((t, 1 + 3 * r))
    table[:, 0] = np.arange(t) * dt
    table[:, 1:] = acc.transpose(2, 0, 1).reshape(t, 3 * r)
    columns = ["time_s"] + [f"r{k}_{comp}_g" for k in range(r) for comp in ("H1", "H2", "Z")]
    comments = [
        "GroundShake synthetic ground acceleration; units: g; time in s",
        f"components: {json.dumps(meta['components'])}",
        f"metadata: {json.dumps({k: v for k, v in meta.items() if k != 'components'})}",
    ]
    with atomic_path(dest) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write("".join(f"# {line}\n" for line in comments))
            fh.write(",".join(columns) + "\n")
            np.savetxt(fh, table, delimiter=",", fmt="%.9g")
    return dest
