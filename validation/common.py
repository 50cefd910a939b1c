"""Shared pieces of the stochastic calibration and validation scripts.

Both scripts describe a scenario by (mechanism, M, Rrup, Vs30) on a generic
geometry: a rupture reaching the surface (Ztor = 0, bottom 15 km), vertical
for strike-slip, 45 degree dip for reverse with the site on the footwall, so
Rjb = Rrup = -Rx and no hanging-wall term. That is the geometry the
simulator's calibration represents (it takes only M, Rrup, Vs30, mechanism).
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gm_engine.gmpe import nga_west2_average  # noqa: E402
from gm_engine.ims import compute_ims, parse_im, significant_duration  # noqa: E402

DIP = {"SS": 90.0, "RV": 45.0}


def conditions(mech: str, mags, rrups, vs30s) -> pd.DataFrame:
    """Site-conditions table on the generic geometry for arrays of M, Rrup, Vs30."""
    mags, rrups, vs30s = np.broadcast_arrays(np.asarray(mags, float), np.asarray(rrups, float),
                                             np.asarray(vs30s, float))
    n = mags.size
    return pd.DataFrame({
        "magnitude": mags.ravel(), "rrup_km": rrups.ravel(), "rjb_km": rrups.ravel(),
        "rx_km": -rrups.ravel(), "ry0_km": np.zeros(n), "vs30": vs30s.ravel(),
        "ztor_km": np.zeros(n), "zbot_km": np.full(n, 15.0), "dip": np.full(n, DIP[mech]),
        "rake": np.full(n, 0.0 if mech == "SS" else 90.0), "mechanism": [mech] * n,
        "hanging_wall": np.zeros(n, bool), "z1_km": np.full(n, np.nan),
    })


def nga_targets(cond: pd.DataFrame, periods: np.ndarray) -> dict[str, np.ndarray]:
    """NGA-West2 average ln median, tau, phi at periods (T <= 0.01 s read as PGA): (N, P)."""
    names = ["PGA" if t <= 0.01 else f"SA({t:g})" for t in periods]
    res = nga_west2_average(cond, names)
    return {k: np.stack([getattr(res[n], a) for n in names], axis=1)
            for k, a in (("ln_med", "ln_median"), ("tau", "tau"), ("phi", "phi"))}


def as16_d595(cond: pd.DataFrame) -> np.ndarray:
    """Afshari & Stewart (2016) median D5-95 from pygmm (independent of the simulator's own code)."""
    import pygmm

    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, row in cond.iterrows():
            s = pygmm.Scenario(mag=row.magnitude, dist_rup=row.rrup_km, v_s30=row.vs30,
                               mechanism={"SS": "SS", "RV": "RS", "NM": "NS"}[row.mechanism])
            out.append(float(pygmm.AfshariStewart2016(s).duration["D_5t95"]))
    return np.array(out)


def record_duration(d595: np.ndarray) -> float:
    """Record length (s) that holds the whole window: 1.6 x 1.2 D5-95 / (window D5-95 fraction) + lead, rounded up to 20 s."""
    from gm_engine.stochastic.physics import WINDOW_D595_FRACTION

    need = 2.0 + 1.6 * 1.2 * float(np.max(d595)) / WINDOW_D595_FRACTION + 10.0
    return float(max(60.0, 20.0 * np.ceil(need / 20.0)))


def rotd50_psa(acc: np.ndarray, dt: float, periods: np.ndarray) -> np.ndarray:
    """RotD50 PSA (N, P) in g of (N, 3, T) records, period 0 read as PGA.

    The engines' own IM code (gm_engine.ims), so a validation measures what a
    run reports; pyrotd checks that code in tests/engine/test_ims_*.
    """
    names = [parse_im("PGA" if t <= 0.0 else f"SA({t:g})").name
             for t in np.asarray(periods, dtype=float)]
    v = compute_ims(acc, dt, names)
    return np.stack([v[n] for n in names], axis=1)


def d595_geomean(acc: np.ndarray, dt: float) -> np.ndarray:
    """Geometric mean (N,) of the H1 and H2 D5-95 (s) of (N, >=2, T) records."""
    return np.sqrt(significant_duration(acc[:, 0], dt) * significant_duration(acc[:, 1], dt))
