"""Engines behind ``--engine``: one interface for the runner, whatever makes the numbers.

An engine turns a site-conditions table, site coordinates and a seed into
per-realization intensity measures ``{IM: (R, N)}``; the runner does geometry
before and statistics and files after, identically for every engine.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .ims.names import parse_im
from .scenario import Scenario

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

# Standard gravity (m/s^2), to convert SA in g to PSV in cm/s.
G_CM_S2 = 980.665


def derived_inputs(ims: Sequence[str]) -> list[str]:
    """The directly modelled IMs needed for the requested ones (MMI needs PGA and PGV)."""
    need: list[str] = []
    for im in ims:
        spec = parse_im(im)
        if spec.kind == "MMI":
            need += ["PGA", "PGV"]
        elif spec.kind == "PSV":
            need.append(f"SA({spec.period:g})")
        else:
            need.append(spec.name)
    return list(dict.fromkeys(parse_im(n).name for n in need))


def add_derived(values: dict[str, np.ndarray], ims: Sequence[str]) -> dict[str, np.ndarray]:
    """Fill MMI and PSV from the modelled IMs; keep only the requested ones."""
    from .ims import mmi_worden2012

    out: dict[str, np.ndarray] = {}
    for im in ims:
        spec = parse_im(im)
        if spec.kind == "MMI":
            out[im] = mmi_worden2012(values["PGA"], values["PGV"])
        elif spec.kind == "PSV":
            sa = values[parse_im(f"SA({spec.period:g})").name]
            # PSV = SA / omega = SA * T / (2 pi), SA converted from g to cm/s^2.
            out[im] = sa * G_CM_S2 * spec.period / (2.0 * np.pi)
        else:
            out[im] = values[spec.name]
    return out


def clip_to_ranges(conditions: pd.DataFrame,
                   ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Conditions moved to the nearest edge of a model's valid range.

    The runner flags those sites in ``outside_range`` (column and mask raster),
    so a map shows where values are edge values, never silent extrapolation.
    """
    out = conditions.copy()
    for col, (lo, hi) in ranges.items():
        if col in out:
            out[col] = out[col].clip(lo, hi)
    return out


def outside_ranges(conditions: pd.DataFrame,
                   ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """True for sites with any condition outside a model's valid range."""
    out = np.zeros(len(conditions), dtype=bool)
    for col, (lo, hi) in ranges.items():
        v = conditions[col].to_numpy(float)
        out |= (v < lo) | (v > hi)
    return out


class GMPEEngine:
    """NGA-West2 average (ASK14, BSSA14, CB14, CY14) with correlated random fields."""

    name = "gmpe"
    SUPPORTED = ("PGA", "PGV", "SA", "PSV", "MMI")

    def check_ims(self, ims: Sequence[str]) -> None:
        bad = [im for im in ims if parse_im(im).kind not in self.SUPPORTED]
        if bad:
            raise InputError("intensity_measures",
                             f"the gmpe engine gives PGA, PGV, SA(T), PSV(T) and MMI only; "
                             f"{', '.join(bad)} need waveforms: use engine stochastic or cgm")

    def realizations(self, conditions: pd.DataFrame, xy_km: np.ndarray, ims: Sequence[str],
                     n_realizations: int, seed: int, progress: ProgressFn | None = None,
                     is_cancelled: CancelFn | None = None) -> dict[str, np.ndarray]:
        from .gmpe import CONDITION_RANGES, gmpe_realizations

        if progress:
            progress(0.0, "NGA-West2 medians and correlated residuals")
        rng = np.random.default_rng(seed)
        base = gmpe_realizations(clip_to_ranges(conditions, CONDITION_RANGES), xy_km,
                                 derived_inputs(ims), n_realizations, rng)
        if progress:
            progress(1.0, "NGA-West2 done")
        return add_derived(base, ims)

    def outside_range(self, conditions: pd.DataFrame) -> np.ndarray:
        from .gmpe import CONDITION_RANGES

        return outside_ranges(conditions, CONDITION_RANGES)

    def site_terms(self, sl: slice) -> dict[str, np.ndarray]:
        return {}

    def info(self) -> dict[str, Any]:
        return {"models": ["ASK14", "BSSA14", "CB14", "CY14"], "implementation": "pygmm",
                "weights": "equal, ln units"}


def engine_for(scenario: Scenario):
    """The engine object a scenario asks for, or an InputError saying why not."""
    if scenario.engine == "gmpe":
        return GMPEEngine()
    if scenario.engine == "stochastic":
        from .stochastic.engine import StochasticEngine

        return StochasticEngine(device=scenario.device)
    raise InputError("engine", "the cgm engine has no bundled model yet in this version; "
                               "use engine 'stochastic' (waveforms) or 'gmpe'")
