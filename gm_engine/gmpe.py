"""The scalar reference engine: the equally weighted NGA-West2 average.

``--engine gmpe`` and the calibration of the stochastic simulator both need
the same reference: the mean, in natural-log units, of the four NGA-West2
ground-motion models ASK14 (Abrahamson, Silva & Kamai 2014), BSSA14 (Boore,
Stewart, Seyhan & Atkinson 2014), CB14 (Campbell & Bozorgnia 2014) and CY14
(Chiou & Youngs 2014), as implemented by pygmm. Equal weights follow the
USGS 2014 NSHM practice for active crust (where Idriss 2014 is a fifth model;
it is left out here because its Vs30 range stops at 450 m/s).

Standard deviations are averaged as variances (tau^2 and phi^2 of the four
models), so sigma = sqrt(tau^2 + phi^2) stays consistent with the components.
pygmm models are scalar per scenario; sites with identical conditions are
grouped so a scenario with few distinct site conditions costs few calls
(about 1.5 ms per distinct site on one core).
"""
from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .correlation import baker_jayaram_2008, correlated_normal_field
from .errors import InputError

#: Columns used from the site-conditions table and their valid ranges (as data,
#: read by validation and docs). The limits are the intersection of what the
#: four models support (pygmm PARAMS, i.e. the papers' stated ranges).
CONDITION_RANGES: dict[str, tuple[float, float]] = {
    "magnitude": (3.5, 8.5),   # CY14 from 3.5 (CB14 3.3), all models upper 8.5
    "rrup_km": (0.0, 300.0),   # ASK14, CB14, CY14 Rrup <= 300 km
    "rjb_km": (0.0, 300.0),    # BSSA14 Rjb <= 300 km
    "vs30": (180.0, 1000.0),   # ASK14 180-1000 m/s (pygmm limits); others reach 1500
    "dip": (15.0, 90.0),       # CB14 15-90 deg
    "ztor_km": (0.0, 20.0),    # CB14, CY14 0-20 km
}
OPTIONAL_COLUMNS = ("rx_km", "ry0_km", "zbot_km", "rake", "mechanism", "hanging_wall", "z1_km")
MECHANISMS = {"SS": "SS", "NM": "NS", "RV": "RS"}  # CONTRACTS code -> pygmm code
#: Period range of SA(T) supported by all four models (s).
SA_PERIOD_RANGE = (0.01, 10.0)
#: Proxy period of PGV for the inter-IM correlation (SA near 1 s correlates best
#: with PGV, Baker & Bradley 2017, Earthquake Spectra 33(3)).
PGV_PROXY_PERIOD = 1.0

_SA_RE = re.compile(r"^SA\(\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*\)$")


@dataclass(frozen=True)
class GMPEResult:
    """Median (g for PGA/SA, cm/s for PGV) and natural-log sigmas per site."""

    median: np.ndarray
    tau: np.ndarray
    phi: np.ndarray

    @property
    def sigma(self) -> np.ndarray:
        return np.sqrt(self.tau ** 2 + self.phi ** 2)

    @property
    def ln_median(self) -> np.ndarray:
        return np.log(self.median)


def im_period(name: str) -> float:
    """Period in s of an IM name (PGA -> 0.0, PGV -> -1.0, SA(T) -> T); raises InputError."""
    if name == "PGA":
        return 0.0
    if name == "PGV":
        return -1.0
    m = _SA_RE.match(name)
    if m is None:
        raise InputError("ims", f"unsupported intensity measure {name!r}: use PGA, PGV or SA(T)")
    t = float(m.group(1))
    lo, hi = SA_PERIOD_RANGE
    if not lo <= t <= hi:
        raise InputError("ims", f"{name}: period must be within [{lo}, {hi}] s")
    return t


def nga_west2_average(conditions: pd.DataFrame, ims: Sequence[str]) -> dict[str, GMPEResult]:
    """Median and tau/phi of the ASK14+BSSA14+CB14+CY14 average for each site.

    Parameters
    ----------
    conditions : site-conditions table (docs/CONTRACTS.md); needs magnitude,
        rrup_km, rjb_km, vs30, dip, ztor_km and uses the optional columns when
        present (rx_km, ry0_km, zbot_km, mechanism or rake, hanging_wall, z1_km).
    ims : IM names, e.g. ["PGA", "PGV", "SA(0.3)"].

    Returns
    -------
    dict IM name -> GMPEResult with (N,) arrays.
    """
    periods = {name: im_period(name) for name in ims}
    table = _scenario_table(conditions)
    keys = list(table.columns)
    uniq, inverse = np.unique(table.to_numpy(dtype=float), axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    n_u = uniq.shape[0]
    out = {name: np.empty((3, n_u)) for name in ims}
    with warnings.catch_warnings():
        # Ranges are validated above; pygmm warns again for each model's own range.
        warnings.simplefilter("ignore")
        for i in range(n_u):
            row = dict(zip(keys, uniq[i]))
            ln_med, tau2, phi2 = _average_one(row, periods)
            for name in ims:
                out[name][:, i] = ln_med[name], tau2[name], phi2[name]
    return {name: GMPEResult(median=np.exp(v[0][inverse]), tau=np.sqrt(v[1][inverse]),
                             phi=np.sqrt(v[2][inverse])) for name, v in out.items()}


def gmpe_realizations(conditions: pd.DataFrame, xy_km: np.ndarray, ims: Sequence[str],
                      n_realizations: int, rng: np.random.Generator, *,
                      vs30_clustered: bool = False) -> dict[str, np.ndarray]:
    """Random fields of IMs from the NGA-West2 average (the scalar engine).

    ln Y = ln median + tau * eta_r + phi * eps_r(x): one between-event eta per
    realization and IM (correlated across IMs by Baker & Jayaram 2008) and a
    within-event field correlated in space (Jayaram & Baker 2009) and across
    IMs (see :mod:`gm_engine.correlation`). Returns IM -> (R, N) arrays in
    g (PGA, SA) or cm/s (PGV).
    """
    if int(n_realizations) < 1:
        raise InputError("realizations", f"must be at least 1, got {n_realizations}")
    xy = np.asarray(xy_km, dtype=float)
    if xy.shape != (len(conditions), 2):
        raise InputError("xy_km", f"expected shape ({len(conditions)}, 2), got {xy.shape}")
    names = list(ims)
    res = nga_west2_average(conditions, names)
    corr_t = correlation_periods(names)
    chol = between_event_factor(corr_t)
    out = {n: np.empty((int(n_realizations), len(conditions))) for n in names}
    factors: dict = {}  # exact fields: each covariance factored once for all realizations
    for r in range(int(n_realizations)):
        eta = chol @ rng.standard_normal(len(names))
        eps = correlated_normal_field(xy, corr_t, rng, vs30_clustered=vs30_clustered,
                                      factor_cache=factors)
        for n, v in realization_values(res, names, eta, eps).items():
            out[n][r] = v
    return out


def correlation_periods(names: Sequence[str]) -> np.ndarray:
    """Periods (s) that stand for the IMs in the correlation models (PGV: its proxy)."""
    return np.array([PGV_PROXY_PERIOD if im_period(n) < 0 else im_period(n) for n in names])


def between_event_factor(periods: np.ndarray) -> np.ndarray:
    """Cholesky factor of the Baker & Jayaram (2008) correlation of one event's terms."""
    return np.linalg.cholesky(baker_jayaram_2008(periods) + 1e-10 * np.eye(len(periods)))


def realization_values(res: dict, names: Sequence[str], eta: np.ndarray,
                       eps: np.ndarray) -> dict[str, np.ndarray]:
    """ln Y = ln median + tau eta + phi eps for one realization: IM -> (N,)."""
    return {n: res[n].median * np.exp(res[n].tau * eta[j] + res[n].phi * eps[:, j])
            for j, n in enumerate(names)}


def validate_conditions(conditions: pd.DataFrame,
                        ranges: dict[str, tuple[float, float]] | None = None) -> None:
    """Raise InputError naming the first column that is missing or out of range."""
    if not isinstance(conditions, pd.DataFrame):
        raise InputError("conditions", "expected a pandas.DataFrame of site conditions")
    if len(conditions) == 0:
        raise InputError("conditions", "no sites")
    for col, (lo, hi) in (ranges or CONDITION_RANGES).items():
        if col not in conditions.columns:
            raise InputError(f"conditions.{col}", "missing column")
        v = pd.to_numeric(conditions[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(v) | (v < lo) | (v > hi)
        if bad.any():
            raise InputError(f"conditions.{col}",
                             f"{v[bad][0]!r} (site {int(np.flatnonzero(bad)[0])}) is outside "
                             f"the valid range [{lo}, {hi}]")


def mechanism_codes(conditions: pd.DataFrame) -> np.ndarray:
    """CONTRACTS mechanism codes per site: the 'mechanism' column, else from rake (+-30 deg)."""
    if "mechanism" in conditions.columns:
        mech = conditions["mechanism"].astype(str).to_numpy()
        bad = ~np.isin(mech, list(MECHANISMS))
        if bad.any():
            raise InputError("conditions.mechanism", f"{mech[bad][0]!r}: expected SS, NM or RV")
        return mech
    if "rake" in conditions.columns:
        rake = conditions["rake"].to_numpy(dtype=float)
        return np.where((rake > 30) & (rake < 150), "RV",
                        np.where((rake < -30) & (rake > -150), "NM", "SS"))
    raise InputError("conditions.mechanism", "missing column (give mechanism or rake)")


def _scenario_table(conditions: pd.DataFrame) -> pd.DataFrame:
    """Numeric table of the model inputs, with documented defaults for optional columns."""
    validate_conditions(conditions)
    c = conditions
    n = len(c)

    def col(name: str, default: float) -> np.ndarray:
        if name in c.columns:
            return pd.to_numeric(c[name], errors="coerce").to_numpy(dtype=float)
        return np.full(n, default)

    mech = mechanism_codes(c)
    rx = col("rx_km", np.nan)
    rx = np.where(np.isfinite(rx), rx, c["rjb_km"].to_numpy(dtype=float))  # footwall-like default
    ry0 = col("ry0_km", 0.0)
    dip = c["dip"].to_numpy(dtype=float)
    ztor = c["ztor_km"].to_numpy(dtype=float)
    # Down-dip width from the depths; CB14's default seismogenic bottom 15 km otherwise.
    zbot = col("zbot_km", np.nan)
    zbot = np.where(np.isfinite(zbot), zbot, np.maximum(15.0, ztor + 1.0))
    width = (zbot - ztor) / np.sin(np.radians(dip))
    hw = col("hanging_wall", np.nan)
    hw = np.where(np.isfinite(hw), hw, (rx >= 0) & (dip < 90)).astype(float)
    return pd.DataFrame({
        "mag": c["magnitude"].to_numpy(dtype=float),
        "dist_rup": c["rrup_km"].to_numpy(dtype=float),
        "dist_jb": c["rjb_km"].to_numpy(dtype=float),
        "dist_x": rx, "dist_y0": ry0,
        "v_s30": c["vs30"].to_numpy(dtype=float),
        "dip": dip, "depth_tor": ztor, "depth_bot": zbot, "width": width,
        "mech": np.array([list(MECHANISMS).index(m) for m in mech], dtype=float),
        "on_hanging_wall": hw,
        "depth_1_0": col("z1_km", np.nan),
    })


def _average_one(row: dict[str, float], periods: dict[str, float]
                 ) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """ln median and mean tau^2, phi^2 of the four models for one scenario."""
    import pygmm  # local import: heavy, and only this engine needs it

    kw = {k: float(v) for k, v in row.items() if k not in ("mech", "on_hanging_wall")}
    if not math.isfinite(kw["depth_1_0"]):
        kw.pop("depth_1_0")  # each model then uses its own Vs30-based default
    kw["mechanism"] = list(MECHANISMS.values())[int(row["mech"])]
    kw["on_hanging_wall"] = bool(row["on_hanging_wall"])
    kw["region"] = "california"
    scen = pygmm.Scenario(**kw)
    models = [pygmm.AbrahamsonSilvaKamai2014(scen), pygmm.BooreStewartSeyhanAtkinson2014(scen),
              pygmm.CampbellBozorgnia2014(scen), pygmm.ChiouYoungs2014(scen)]
    comps = [_model_components(m) for m in models]
    ln_med, tau2, phi2 = {}, {}, {}
    for name, t in periods.items():
        vals = np.array([_at_period(m, c, t) for m, c in zip(models, comps)])  # (4, 3)
        ln_med[name] = float(vals[:, 0].mean())
        tau2[name] = float((vals[:, 1] ** 2).mean())
        phi2[name] = float((vals[:, 2] ** 2).mean())
    return ln_med, tau2, phi2


def _model_components(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ln response, tau, phi) over the model's coefficient rows."""
    import pygmm

    if isinstance(m, pygmm.ChiouYoungs2014):
        tau, phi = _cy14_tau_phi(m)
    else:
        tau, phi = np.asarray(m._tau, dtype=float), np.asarray(m._phi, dtype=float)
    return np.asarray(m._ln_resp, dtype=float), tau, phi


def _cy14_tau_phi(m) -> tuple[np.ndarray, np.ndarray]:
    """Between- and within-event sigma of CY14 (Chiou & Youngs 2014).

    Their aleatory model is sigma_T = sqrt((1 + NL0)^2 tau^2 + phi_NL0^2): the
    between-event part is (1 + NL0) tau and
    phi_NL = (sigma1 + (sigma2 - sigma1)/1.5 (min(max(M,5),6.5) - 5))
    * sqrt(sigma3 F_inferred + 0.7 F_measured + (1 + NL0)^2), with NL0 from the
    nonlinear site term at the reference-rock response y_ref.
    pygmm only stores the total, so the split is recomputed here from its
    coefficient table (CY14 columns tau1, tau2, sigma1..3, phi2..4).
    """
    c = m.COEFF
    s = m.scenario
    y_ref = np.exp(m._calc_ln_resp_ref())
    dm = np.clip(s.mag, 5.0, 6.5) - 5.0
    tau = c.tau_1 + (c.tau_2 - c.tau_1) / 1.5 * dm
    nl0 = c.phi_2 * (np.exp(c.phi_3 * (min(s.v_s30, 1130.0) - 360.0))
                     - np.exp(c.phi_3 * (1130.0 - 360.0))) * (y_ref / (y_ref + c.phi_4))
    measured = 1.0 if s.get("vs_source", "inferred") == "measured" else 0.0
    phi = (c.sigma_1 + (c.sigma_2 - c.sigma_1) / 1.5 * dm) * np.sqrt(
        c.sigma_3 * (1.0 - measured) + 0.7 * measured + (1.0 + nl0) ** 2)
    return np.asarray((1.0 + nl0) * tau, dtype=float), np.asarray(phi, dtype=float)


def _at_period(m, comps: tuple[np.ndarray, np.ndarray, np.ndarray],
               period: float) -> tuple[float, float, float]:
    """Values at PGA, PGV or SA(T) (linear interpolation in ln T, like the models' own)."""
    ln_resp, tau, phi = comps
    if period == 0.0:
        i = m.INDEX_PGA
        return float(ln_resp[i]), float(tau[i]), float(phi[i])
    if period < 0.0:
        i = m.INDEX_PGV
        return float(ln_resp[i] + np.log(m.PGV_SCALE)), float(tau[i]), float(phi[i])
    idx = np.asarray(m.INDICES_PSA)
    lt = np.log(np.asarray(m.PERIODS, dtype=float)[idx])
    order = np.argsort(lt)
    x = np.log(period)
    return tuple(float(np.interp(x, lt[order], a[idx][order])) for a in (ln_resp, tau, phi))
