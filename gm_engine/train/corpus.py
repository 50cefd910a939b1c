"""Training data: the simulator's HDF5 corpus and the common waveform preparation.

Every record, simulated or recorded, goes through :func:`fit_length` so that
the model always sees the same kind of window:

1. resampling to the model rate (100 Hz) with ``scipy.signal.resample_poly``
   (polyphase, Kaiser-windowed anti-alias FIR);
2. a window of 40.96 s that starts ``PRE_EVENT_S`` before the time at which
   5 % of the Arias intensity has arrived (the usual start of the significant
   duration, Trifunac & Brady 1975), so the model learns shapes, not
   travel times; records shorter than the window are zero padded at the end;
3. a cosine taper of ``TAPER_S`` at both ends of the kept window (Boore &
   Bommer 2005, Soil Dyn. Earthq. Eng. 25: taper before padding so the cut
   introduces no step).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..generator.stft import STFTConfig

PRE_EVENT_S = 5.0
TAPER_S = 1.0
CORPUS_FORMAT = "groundshake-corpus"
CONDITION_COLUMNS = ("magnitude", "rrup_km", "vs30", "ztor_km", "mechanism")


@dataclass
class WaveformSet:
    """Prepared records: ``waveforms`` (N, 3, n_samples) float32 in g, one row of
    ``conditions`` (pandas DataFrame) per record."""

    waveforms: np.ndarray
    conditions: object  # pandas.DataFrame
    source: str = ""


def resample(x: np.ndarray, dt_in: float, dt_out: float) -> np.ndarray:
    """Resample along the last axis with a rational polyphase filter."""
    if abs(dt_in - dt_out) <= 1e-9 * dt_out:
        return x
    from scipy.signal import resample_poly

    frac = Fraction(dt_in / dt_out).limit_denominator(1000)
    return resample_poly(x, frac.numerator, frac.denominator, axis=-1)


#: Records per block in :func:`fit_length`: its float64 temporaries (resampled
#: copy, energy, cumulative energy) were ~0.45 MB per record, 9 GB for the
#: 20,000 records of ``recalibrate``; per block they stay ~120 MB.
FIT_BLOCK = 256


def fit_length(acc: np.ndarray, dt: float, cfg: STFTConfig) -> np.ndarray:
    """(..., 3, T) acceleration sampled at ``dt`` -> (..., 3, n_samples) at the model rate.

    Record by record (in blocks of FIT_BLOCK), so the result does not depend
    on the blocking and the temporaries do not grow with the corpus.
    """
    arr = np.asarray(acc)
    flat = arr.reshape(-1, *arr.shape[-2:])
    out = np.empty((flat.shape[0], flat.shape[1], cfg.n_samples), dtype=np.float32)
    for i in range(0, flat.shape[0], FIT_BLOCK):
        out[i:i + FIT_BLOCK] = _fit_length_block(flat[i:i + FIT_BLOCK], dt, cfg)
    return out.reshape(*arr.shape[:-2], flat.shape[1], cfg.n_samples)


def _fit_length_block(acc: np.ndarray, dt: float, cfg: STFTConfig) -> np.ndarray:
    """:func:`fit_length` of a block of records ``(B, 3, T)``."""
    x = resample(np.asarray(acc, dtype=np.float64), dt, cfg.dt)
    n = cfg.n_samples
    energy = (x ** 2).sum(axis=-2)  # all components together
    cum = np.cumsum(energy, axis=-1)
    total = cum[..., -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > 0, cum / total, 1.0)
    i5 = np.argmax(frac >= 0.05, axis=-1)
    start = np.maximum(i5 - round(PRE_EVENT_S / cfg.dt), 0)
    lead = x.shape[:-2]
    flat = x.reshape(-1, x.shape[-2], x.shape[-1])
    st = start.reshape(-1)
    out = np.zeros((flat.shape[0], flat.shape[1], n), dtype=np.float64)
    nt = round(TAPER_S / cfg.dt)
    ramp = 0.5 * (1 - np.cos(np.pi * np.arange(nt) / nt))
    for i in range(flat.shape[0]):
        seg = flat[i, :, st[i]:st[i] + n].copy()
        m = seg.shape[-1]
        k = min(nt, m // 2)
        if st[i] > 0:
            seg[:, :k] *= ramp[:k]
        seg[:, m - k:] *= ramp[:k][::-1]
        out[i, :, :m] = seg
    return out.reshape(*lead, flat.shape[1], n).astype(np.float32)


def corpus_size(path: str | Path) -> int:
    """Number of records in a corpus file, without reading them."""
    import h5py

    with h5py.File(path, "r") as f:
        return len(f["conditions"]) if not isinstance(f["conditions"], h5py.Group) else \
            len(next(iter(f["conditions"].values())))


def load_corpus(path: str | Path, cfg: STFTConfig | None = None,
                rows: np.ndarray | None = None) -> WaveformSet:
    """Read a ``groundshake-corpus`` HDF5 file (docs/CONTRACTS.md) and prepare it.

    ``rows``: increasing record indices to read instead of the whole file.
    """
    import h5py
    import pandas as pd

    cfg = cfg or STFTConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError("corpus", f"no corpus file at {path}")
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") not in (CORPUS_FORMAT, CORPUS_FORMAT.encode()):
            raise InputError("corpus", f"{path} is not a {CORPUS_FORMAT} HDF5 file")
        wf = f["waveforms"]
        dt = float(wf.attrs.get("dt", f.attrs.get("dt")))
        sel = () if rows is None else np.asarray(rows, dtype=np.int64)
        if rows is not None and (sel.size == 0 or np.any(np.diff(sel) <= 0)):
            raise InputError("rows", "record indices must be increasing and not empty")
        if wf.ndim != 3 or wf.shape[1] != 3:
            raise InputError("corpus.waveforms", f"expected (N, 3, T), got {wf.shape}")
        index = np.arange(wf.shape[0]) if rows is None else sel
        if index.size and (index[0] < 0 or index[-1] >= wf.shape[0]):
            raise InputError("rows", f"record indices must lie in 0..{wf.shape[0] - 1}")
        # block by block: the raw records (often twice the model's length) never
        # sit in memory all at once
        waves = np.empty((index.size, 3, cfg.n_samples), dtype=np.float32)
        for i in range(0, index.size, FIT_BLOCK):
            part = index[i:i + FIT_BLOCK]
            block = wf[int(part[0]):int(part[-1]) + 1] if rows is None else wf[part]
            waves[i:i + part.size] = fit_length(block, dt, cfg)
        cond = f["conditions"]
        if isinstance(cond, h5py.Group):
            table = {k: cond[k][sel] for k in cond}
        else:
            arr = cond[sel]
            table = {k: arr[k] for k in arr.dtype.names}
    df = pd.DataFrame({k: (v.astype(str) if v.dtype.kind in "SO" else v) for k, v in table.items()})
    missing = [c for c in CONDITION_COLUMNS if c not in df.columns]
    if missing:
        raise InputError("corpus.conditions", f"missing columns: {', '.join(missing)}")
    if waves.shape[0] != len(df):
        raise InputError("corpus.waveforms", f"{waves.shape[0]} records for {len(df)} "
                                             "rows of conditions")
    return WaveformSet(waves, df, source=str(path))
