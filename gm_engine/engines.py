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

# Headroom over the median D5-95 for the calibrated duration correction.
DURATION_MARGIN = 1.1
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


#: Site conditions the stochastic simulator reads (stored with the site terms).
SIMULATED_CONDITIONS = ("magnitude", "rrup_km", "vs30")


class StochasticEngine:
    """The calibrated stochastic simulator: waveforms per site, IMs from gm_engine.ims."""

    name = "stochastic"
    DT = 0.01  # s: 100 Hz, as the generative model
    MIN_DURATION = 40.96  # s: the generative model's window, so records compare one to one
    MAX_DURATION = 300.0  # s: bounds memory per chunk (300 s x 100 Hz x 3 x 128 sites)

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self.duration = self.MIN_DURATION
        self._terms: dict[str, np.ndarray] = {}
        self._conditions = pd.DataFrame()

    def record_duration(self, conditions: pd.DataFrame) -> float:
        """Record length that holds the longest shaking window of the run, in s.

        The simulator's Saragoni-Hart window lasts 1.6 x D5-95 / (the window's
        own D5-95 fraction) after a lead (simulator docstring); D5-95 is the
        Afshari & Stewart (2016) median times DURATION_MARGIN for the
        calibration's duration correction (within +-5 %, docs/validation).
        Rounded up to 10 s so nearby runs share lengths.
        """
        from .gmpe import mechanism_codes
        from .stochastic import physics
        from .stochastic.simulator import LEAD_S

        c = clip_to_ranges(conditions, self._ranges())
        d595 = physics.afshari_stewart_2016_d595(
            c["magnitude"].to_numpy(float), c["rrup_km"].to_numpy(float),
            c["vs30"].to_numpy(float), mechanism_codes(c))
        need = LEAD_S + 1.6 * float(np.max(d595)) * DURATION_MARGIN / physics.WINDOW_D595_FRACTION
        return float(min(max(np.ceil(need / 10.0) * 10.0, self.MIN_DURATION), self.MAX_DURATION))

    def check_ims(self, ims: Sequence[str]) -> None:
        for im in ims:
            parse_im(im)

    def _ranges(self) -> dict[str, tuple[float, float]]:
        from .stochastic.physics import PARAMETER_RANGES

        return PARAMETER_RANGES

    def realizations(self, conditions: pd.DataFrame, xy_km: np.ndarray, ims: Sequence[str],
                     n_realizations: int, seed: int, progress: ProgressFn | None = None,
                     is_cancelled: CancelFn | None = None) -> dict[str, np.ndarray]:
        from .stochastic.simulator import simulate_realizations

        terms: dict[str, list[np.ndarray]] = {"eta": [], "eps": []}

        def keep_terms(r: int, eta: np.ndarray, eps: np.ndarray) -> None:
            terms["eta"].append(np.asarray(eta, dtype=np.float64))
            terms["eps"].append(np.asarray(eps, dtype=np.float64))

        self.duration = self.record_duration(conditions)
        clipped = clip_to_ranges(conditions, self._ranges())
        self._conditions = clipped
        out = simulate_realizations(
            clipped, xy_km, n_realizations, seed,
            derived_inputs(ims), dt=self.DT, duration=self.duration,
            device=resolve_device(self.device), progress=progress, is_cancelled=is_cancelled,
            on_terms=keep_terms)
        self._terms = {"seed": np.array(seed), "eta": np.stack(terms["eta"]),
                       "eps": np.stack(terms["eps"])}
        return add_derived(out, ims)

    def outside_range(self, conditions: pd.DataFrame) -> np.ndarray:
        return outside_ranges(conditions, self._ranges())

    def site_terms(self, sl: slice) -> dict[str, np.ndarray]:
        """Random terms of the sites in ``sl``: with the seed they regenerate any waveform."""
        if not self._terms:
            return {}
        c = self._conditions.iloc[sl]
        return {"seed": self._terms["seed"], "eta": self._terms["eta"],
                "eps": self._terms["eps"][:, sl], "dt": np.array(self.DT),
                "duration": np.array(self.duration),
                # the exact (clipped) conditions simulated: sites.csv rounds them
                **{f"cond_{k}": c[k].to_numpy() for k in SIMULATED_CONDITIONS}}

    def info(self) -> dict[str, Any]:
        return {"dt_s": self.DT, "duration_s": self.duration,
                "device": resolve_device(self.device),
                "method": "Boore (2003) stochastic method, FAS calibrated to the NGA-West2 "
                          "average (docs/validation/stochastic.md)"}


def resolve_device(device: str) -> str:
    """The device name the simulator's FFTs use: torch's choice, CPU without torch."""
    if device == "cpu":
        return "cpu"
    try:
        from .generator.device import resolve_device as torch_device
    except ImportError:  # no torch: only the CPU path exists
        if device == "auto":
            return "cpu"
        raise InputError("device", f"{device!r} needs PyTorch, which is not installed") from None
    name = str(torch_device(device))
    # The simulator's FFTs are float64, which Apple's MPS backend does not support.
    return "cpu" if name.startswith("mps") else name


def engine_for(scenario: Scenario):
    """The engine object a scenario asks for, or an InputError saying why not."""
    if scenario.engine == "gmpe":
        return GMPEEngine()
    if scenario.engine == "stochastic":
        return StochasticEngine(device=scenario.device)
    raise InputError("engine", "the cgm engine has no bundled model yet in this version; "
                               "use engine 'stochastic' (waveforms) or 'gmpe'")
