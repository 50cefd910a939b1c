"""The training corpus: simulated three-component records with their conditions and IMs.

``python -m gm_engine corpus --n 50000 --out corpus.h5`` draws scenario
conditions over the ranges a regional model must cover, simulates each record
with the calibrated stochastic simulator (an independent earthquake per record:
its own between-event and within-event terms), and stores waveforms,
conditions and RotD50 IMs in the HDF5 layout of docs/CONTRACTS.md that
``gm_engine.train`` reads. Chunks are keyed by (seed, chunk index) with a fixed
chunk size, so the same seed always gives the same file.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Cancelled, InputError
from .io import atomic_path

FORMAT = "groundshake-corpus"
VERSION = 1
CHUNK = 64  # records per simulation chunk; part of the seed -> file mapping, keep fixed
MECHANISMS = ("SS", "NM", "RV")
# Representative rake and dip per mechanism (NGA-West2 style defaults, e.g. the
# dip guidance of Kaklamanos et al. 2011, Earthquake Spectra 27(4), Table 1 notes:
# 90 for strike-slip, 50 for normal, 40 for reverse).
RAKE = {"SS": 180.0, "NM": -90.0, "RV": 90.0}
DIP = {"SS": 90.0, "NM": 50.0, "RV": 40.0}
CORPUS_IMS = ("PGA", "PGV", "SA(0.1)", "SA(0.3)", "SA(1.0)", "SA(3.0)", "D5-95")


@dataclass(frozen=True)
class CorpusRanges:
    """Sampling ranges of the corpus (the issue's M 4.5-8, Rrup 0-300 km, Vs30 150-1500)."""

    magnitude: tuple[float, float] = (4.5, 8.0)
    rrup_km: tuple[float, float] = (0.0, 300.0)
    vs30: tuple[float, float] = (150.0, 1500.0)
    ztor_km: tuple[float, float] = (0.0, 10.0)


def draw_ztor(rng: np.random.Generator, rrup_km: np.ndarray,
              ranges: CorpusRanges = CorpusRanges()) -> np.ndarray:
    """The corpus's Ztor for records at ``rrup_km``: uniform in its range, at most Rrup
    (validation draws it the same way for a model that ignores Ztor)."""
    return np.minimum(rng.uniform(*ranges.ztor_km, len(rrup_km)), rrup_km)


def draw_conditions(n: int, rng: np.random.Generator,
                    ranges: CorpusRanges = CorpusRanges()) -> pd.DataFrame:
    """Conditions of ``n`` independent records.

    M is uniform (so large events are not rare in training); Rrup is uniform in
    ln(1 + Rrup) so near-fault and distant records are both well represented;
    Vs30 is log-uniform; mechanisms are equally likely. Ztor cannot exceed
    Rrup; Rjb follows from Rrup and Ztor as for a vertical fault (an
    approximation for dipping ones, documented in the corpus attributes).
    """
    m = rng.uniform(*ranges.magnitude, n)
    lo, hi = (math.log1p(v) for v in ranges.rrup_km)
    rrup = np.expm1(rng.uniform(lo, hi, n))
    vs30 = np.exp(rng.uniform(*np.log(ranges.vs30), n))
    mech_idx = rng.integers(0, len(MECHANISMS), n)
    ztor = draw_ztor(rng, rrup, ranges)
    mech = np.array(MECHANISMS, dtype=object)[mech_idx]
    return pd.DataFrame({
        "magnitude": m, "rrup_km": rrup, "rjb_km": np.sqrt(np.maximum(rrup**2 - ztor**2, 0.0)),
        "vs30": vs30, "ztor_km": ztor,
        "rake": np.array([RAKE[k] for k in mech]), "dip": np.array([DIP[k] for k in mech]),
        "mechanism": mech,
    })


def _conditions_record(cond: pd.DataFrame) -> np.ndarray:
    """The compound HDF5 table: floats as float32, mechanism as int8 (0 SS, 1 NM, 2 RV)."""
    cols = ("magnitude", "rrup_km", "rjb_km", "vs30", "ztor_km", "rake", "dip")
    dtype = np.dtype([(c, np.float32) for c in cols] + [("mechanism", np.int8)])
    table = np.zeros(len(cond), dtype=dtype)
    for c in cols:
        table[c] = cond[c].to_numpy(dtype=np.float32)
    table["mechanism"] = [MECHANISMS.index(k) for k in cond["mechanism"]]
    return table


def simulator_identity() -> str:
    """Version and calibration hash of the simulator, so a corpus names what made it."""
    import hashlib

    from . import __version__
    from .stochastic import calibration
    from .stochastic.simulator import SYNTHESIS_REVISION

    table = Path(calibration.__file__).with_name("calibration.npz")
    digest = hashlib.sha256(table.read_bytes()).hexdigest()[:16]
    return (f"GroundShake {__version__}, synthesis revision {SYNTHESIS_REVISION}, "
            f"stochastic calibration.npz sha256 {digest}")


def between_event_factor() -> np.ndarray:
    """Cholesky factor of the Baker & Jayaram (2008) correlation at the simulator's
    control periods: what makes a record's between-event vector."""
    from .correlation import baker_jayaram_2008
    from .stochastic.calibration import CONTROL_PERIODS

    p = CONTROL_PERIODS.size
    return np.linalg.cholesky(baker_jayaram_2008(CONTROL_PERIODS) + 1e-10 * np.eye(p))


def simulate_records(cond: pd.DataFrame, rng: np.random.Generator, chol: np.ndarray, *,
                     dt: float, n_samples: int, device: str = "cpu") -> np.ndarray:
    """(N, 3, n_samples) records as the corpus makes them: each its own earthquake.

    An independent between-event vector per record, correlated across periods
    (``chol`` from :func:`between_event_factor`), drawn from ``rng`` before the
    simulator's own draws; the record is cut from the whole motion.
    """
    from .stochastic.simulator import simulate

    eta = rng.standard_normal((len(cond), chol.shape[0])) @ chol.T
    return simulate(cond, rng, dt=dt, duration=n_samples * dt, between_event=eta, device=device)


def write_corpus(out: str | Path, n: int, seed: int, *, dt: float = 0.01, n_samples: int = 4096,
                 ims: tuple[str, ...] = CORPUS_IMS, device: str = "cpu",
                 progress: Callable[[float, str], None] | None = None,
                 is_cancelled: Callable[[], bool] | None = None) -> Path:
    """Simulate ``n`` records into an HDF5 corpus at ``out`` (written atomically)."""
    import h5py

    from .ims import compute_ims

    if n < 1:
        raise InputError("n", f"must be at least 1, got {n}")
    cond = draw_conditions(n, np.random.default_rng([seed, 0]))
    chol = between_event_factor()
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(format=FORMAT, version=VERSION, seed=seed, dt=dt, n_samples=n_samples,
                       generator="gm_engine.stochastic (calibrated to the NGA-West2 average)",
                       simulator=simulator_identity(),
                       rjb_note="Rjb = sqrt(Rrup^2 - Ztor^2), vertical-fault approximation")
        wav = f.create_dataset("waveforms", (n, 3, n_samples), dtype=np.float32,
                               chunks=(min(n, 16), 3, n_samples), compression="gzip",
                               compression_opts=4, shuffle=True)
        wav.attrs.update(dt=dt, units="g", components="H1,H2,Z")
        f.create_dataset("conditions", data=_conditions_record(cond))
        im_sets = {im: f.create_dataset(f"ims/{im}", (n,), dtype=np.float32) for im in ims}
        for c0 in range(0, n, CHUNK):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled("corpus cancelled")
            sl = slice(c0, min(n, c0 + CHUNK))
            rng = np.random.default_rng([seed, 1, c0 // CHUNK])
            sub = cond.iloc[sl].reset_index(drop=True)
            acc = simulate_records(sub, rng, chol, dt=dt, n_samples=n_samples, device=device)
            wav[sl] = acc
            vals = compute_ims(acc, dt, list(ims))
            for im in ims:
                im_sets[im][sl] = vals[im]
            if progress is not None:
                progress(sl.stop / n, f"simulated {sl.stop}/{n} records")
    return Path(out)
