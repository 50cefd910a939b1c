"""Physics of the stochastic simulator: target Fourier spectrum, duration, window.

The Fourier amplitude spectrum (FAS) of one horizontal component is the BA18
model of Bayless & Abrahamson (2019, "Summary of the BA18 ground-motion model
for Fourier amplitude spectra for crustal earthquakes in California", BSSA
109(5), 2088-2105): an empirical model of the effective amplitude spectrum
(EAS) fitted to the NGA-West2 California records, i.e. to the same data as
the ASK14/BSSA14/CB14/CY14 models the simulator is calibrated against. Its
terms are the seismological ones of the stochastic method of Boore (2003,
PAGEOPH 160, 635-676): magnitude scaling, geometric spreading with
finite-fault saturation, anelastic attenuation, a linear and nonlinear Vs30
site term and, above its 24 Hz regression limit, a kappa diminution with a
Vs30-dependent kappa. Below its 0.1 Hz limit the spectrum follows the Brune
omega-squared source shape (Boore 2003).

Why BA18 rather than a seismological point source: the previous point source
(Yenier & Atkinson 2015 style: Q = 170 f^0.45, kappa0 = 0.025 s for every
site, BSSA14's PSA site coefficient applied to the FAS) was 1.7-5.5 ln units
below BA18 at 20-50 Hz for stiff sites at 100-200 km, because that Q(f)
keeps increasing the attenuation per km with frequency while California data
show it saturating above ~12 Hz (BA18 c7 = -0.0152 /km), and up to 3.8 ln
units above BA18 at 50 Hz on Vs30 = 200 m/s sites (no site-dependent kappa,
and the short-period PSA site term amplifies soft sites where their FAS is
de-amplified). The calibration had to bend the spectrum by up to +9.7 / -5
ln units there, which it could not do with the leverage PSA gives
(docs/validation/stochastic.md). With BA18 the calibration corrections at
0.1-5 s stay within +-1.25 ln units, and the spectrum above 20 Hz, which is
not fitted, is the data's.

Every function works on whole arrays of sites (N,) and frequencies (F,) and
returns natural logs, because the calibration and the random terms are
applied in ln units. BA18 is implemented here vectorised from its coefficient
table (the one pygmm distributes); ``tests/engine/test_stochastic.py``
checks it against ``pygmm.BaylessAbrahamson2019``.

Path duration comes from Afshari & Stewart (2016, Earthquake Spectra 32(4),
2057-2081), whose D5-95 the simulated records must reproduce; the shape of
the time window is the Saragoni & Hart (1974) window as parameterised by
Boore (2003) (his w(t; eps, eta, t_eta) with eps = 0.2, eta = 0.05).
"""
from __future__ import annotations

import numpy as np

# --- Brune source, used below BA18's 0.1 Hz limit (Boore 2003; Hanks & Kanamori 1979)
BETA_KM_S = 3.7      # shear-wave velocity near the source, km/s (Boore 2003, WNA parameters)
STRESS_BAR = 100.0   # stress parameter of the corner frequency, bar (a round California value;
                     # it only sets the low-frequency roll-off below 0.1 Hz)

# --- BA18 (Bayless & Abrahamson 2019) -------------------------------------------
BA18_VREF = 760.0        # reference Vs30 of the nonlinear site term's input intensity, m/s
BA18_F_REF_INDEX = 170   # row of the 5.01 Hz coefficients (reference intensity I_R)
BA18_F_MAX_INDEX = 238   # last regressed row, 23.99 Hz; kappa extrapolation above
BA18_NL_WIDTH = 7        # moving-average width of the nonlinear site term (as in pygmm)

# --- Valid input ranges (data, read by validation and docs) ------------------
PARAMETER_RANGES: dict[str, tuple[float, float]] = {
    "magnitude": (4.5, 8.5),
    "rrup_km": (0.0, 300.0),
    "vs30": (150.0, 1500.0),
}


def seismic_moment(mag: np.ndarray) -> np.ndarray:
    """M0 in dyne-cm from Mw (Hanks & Kanamori 1979, M0 = 10^(1.5 M + 16.05))."""
    return 10.0 ** (1.5 * np.asarray(mag, dtype=float) + 16.05)


def corner_frequency(mag: np.ndarray, stress_bar: float = STRESS_BAR) -> np.ndarray:
    """Brune corner frequency fc = 4.906e6 beta (dsigma / M0)^(1/3) (Boore 2003, Brune corner frequency)."""
    return 4.906e6 * BETA_KM_S * (stress_bar / seismic_moment(mag)) ** (1.0 / 3.0)


def ln_source_shape(freq: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """ln of the omega-squared acceleration source shape (2 pi f)^2 / (1 + (f/fc)^2) (Brune 1970; Boore 2003), (N, F)."""
    f = np.maximum(np.asarray(freq, dtype=float), 1e-6)[None, :]
    fc = corner_frequency(np.asarray(mag, dtype=float))[:, None]
    return 2.0 * np.log(2.0 * np.pi * f) - np.log1p((f / fc) ** 2)


def _ba18_coefficients() -> dict[str, np.ndarray]:
    """BA18 coefficient table (Bayless & Abrahamson 2019, electronic supplement, as distributed with pygmm)."""
    import pygmm

    c = pygmm.BaylessAbrahamson2019.COEFF
    return {name: np.asarray(c[name], dtype=float) for name in c.dtype.names}


_BA18: dict[str, np.ndarray] = {}


def ba18_coefficients() -> dict[str, np.ndarray]:
    """The BA18 coefficients, loaded once per process."""
    if not _BA18:
        _BA18.update(_ba18_coefficients())
    return _BA18


def ba18_z1_ref_km(vs30: np.ndarray) -> np.ndarray:
    """BA18 reference Z1.0 (km) for a Vs30 (their California Z1-Vs30 relation, as in pygmm)."""
    v = np.asarray(vs30, dtype=float)
    return np.exp(-7.67 / 4.0 * np.log((v ** 4 + 610.0 ** 4) / (1360.0 ** 4 + 610.0 ** 4))) / 1000.0


def ba18_kappa(vs30: np.ndarray) -> np.ndarray:
    """Site kappa (s) of BA18's extrapolation above 24 Hz: exp(-0.4 ln(Vs30/760) - 3.5) (BA19, kappa-Vs30 relation)."""
    return np.exp(-0.4 * np.log(np.asarray(vs30, dtype=float) / BA18_VREF) - 3.5)


def _ba18_base(c: dict[str, np.ndarray], rows: slice | int, mag: np.ndarray, rrup: np.ndarray,
               normal: np.ndarray) -> np.ndarray:
    """BA18 source + path (+ normal-faulting) terms, Ztor = 0 and Z1 at its Vs30 default: (N, K)."""
    m = mag[:, None]
    r = rrup[:, None]
    g = {k: np.atleast_1d(v[rows])[None, :] for k, v in c.items()}
    f_m = g["c1"] + g["c2"] * (m - 6.0) + ((g["c2"] - g["c3"]) / g["cn"]) * np.log1p(
        np.exp(g["cn"] * (g["cM"] - m)))
    f_p = (g["c4"] * np.log(r + g["c5"] * np.cosh(g["c6"] * np.maximum(m - g["chm"], 0.0)))
           + (-0.5 - g["c4"]) * np.log(np.sqrt(r ** 2 + 50.0 ** 2)) + g["c7"] * r)
    return f_m + f_p + np.where(normal[:, None], g["c10"], 0.0)


def ln_eas_ba18(mag: np.ndarray, rrup_km: np.ndarray, vs30: np.ndarray,
                mechanism: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """BA18 median ln EAS (g.s) at its 301 frequencies (0.1-100 Hz): (freqs (K,), values (N, K)).

    Bayless & Abrahamson (2019): ln EAS = f_M + f_P + f_Ztor + f_NM + f_Z1 + f_S,
    with Ztor = 0 and Z1 at the BA18 Vs30 default (both terms zero; the
    simulator takes neither), f_NM for normal faulting, and the nonlinear
    site term driven by the 5 Hz EAS at Vs30 = 760 m/s. Above 23.99 Hz the
    spectrum decays as exp(-pi kappa (f - 23.99)). Same algorithm as pygmm,
    including its smoothing of the nonlinear term.
    """
    c = ba18_coefficients()
    m = np.atleast_1d(np.asarray(mag, dtype=float))
    r = np.atleast_1d(np.asarray(rrup_km, dtype=float))
    v = np.atleast_1d(np.asarray(vs30, dtype=float))
    mech = np.full(m.shape, "SS") if mechanism is None else np.asarray(mechanism).astype(str)
    normal = mech == "NM"
    k_max = BA18_F_MAX_INDEX
    # Reference intensity: 5 Hz EAS at the reference site (Vs30 = 760 m/s, its Z1).
    ln_ref = _ba18_base(c, BA18_F_REF_INDEX, m, r, normal)[:, 0]
    i_r = np.exp(1.238 + 0.846 * ln_ref)[:, None]
    rows = slice(0, k_max + 1)
    ln_eas = _ba18_base(c, rows, m, r, normal)
    g = {k: c[k][rows][None, :] for k in ("c8", "f3", "f4", "f5")}
    vv = v[:, None]
    f_sl = g["c8"] * np.log(np.minimum(vv, 1000.0) / 1000.0)
    f2 = g["f4"] * (np.exp(g["f5"] * (np.minimum(vv, BA18_VREF) - 360.0))
                    - np.exp(g["f5"] * (BA18_VREF - 360.0)))
    f_nl = f2 * np.log((i_r + g["f3"]) / g["f3"])
    # pygmm: hold the minimum above its frequency, 7-point moving average, force the end down.
    i_min = np.argmin(f_nl, axis=1)
    f_min = np.take_along_axis(f_nl, i_min[:, None], axis=1)
    cols = np.arange(f_nl.shape[1])[None, :]
    f_nl = np.where(cols > i_min[:, None], f_min, f_nl)
    w = BA18_NL_WIDTH
    padded = np.pad(f_nl, ((0, 0), (w // 2, w // 2)))
    f_nl = sum(padded[:, j:j + f_nl.shape[1]] for j in range(w)) / w
    f_min = np.take_along_axis(f_nl, i_min[:, None], axis=1)
    f_nl[:, -w:] = f_min
    ln_eas = ln_eas + f_sl + f_nl
    freqs = c["freq_hz"]
    f_hi = freqs[k_max + 1:][None, :]
    tail = ln_eas[:, -1:] - np.pi * ba18_kappa(v)[:, None] * (f_hi - freqs[k_max])
    return freqs, np.concatenate([ln_eas, tail], axis=1)


def ln_fas(freq: np.ndarray, mag: np.ndarray, rrup_km: np.ndarray, vs30: np.ndarray,
           mechanism: np.ndarray | None = None) -> np.ndarray:
    """Uncalibrated ln FAS (g.s) of one horizontal component at any frequencies, shape (N, F).

    BA18 interpolated linearly in ln f between its frequencies; below 0.1 Hz
    the Brune omega-squared shape (Boore 2003) joined to BA18 at 0.1 Hz; above
    100 Hz BA18's kappa diminution continues (needed only for dt < 0.005 s).
    """
    f = np.maximum(np.asarray(freq, dtype=float), 1e-6)
    m = np.atleast_1d(np.asarray(mag, dtype=float))
    v = np.atleast_1d(np.asarray(vs30, dtype=float))
    fk, ln_k = ln_eas_ba18(m, rrup_km, v, mechanism)
    x, xk = np.log(f), np.log(fk)
    j = np.clip(np.searchsorted(xk, x) - 1, 0, xk.size - 2)
    w = np.clip((x - xk[j]) / (xk[j + 1] - xk[j]), 0.0, 1.0)
    out = ln_k[:, j] * (1.0 - w) + ln_k[:, j + 1] * w
    lo = f < fk[0]
    if lo.any():
        shape = ln_source_shape(np.r_[f[lo], fk[0]], m)
        out[:, lo] = ln_k[:, :1] + shape[:, :-1] - shape[:, -1:]
    hi = f > fk[-1]
    if hi.any():
        out[:, hi] = ln_k[:, -1:] - np.pi * ba18_kappa(v)[:, None] * (f[hi] - fk[-1])[None, :]
    return out


# --- Duration: Afshari & Stewart (2016), D5-95 --------------------------------
# Coefficients of the D5-95 column of their coefficient table (source, path, site).
AS16_M1, AS16_M2, AS16_MSTAR = 5.2, 7.4, 6.0
AS16_B0 = {"SS": 2.302, "NM": 2.541, "RV": 1.612}
AS16_B1 = {"SS": 3.467, "NM": 3.170, "RV": 4.536}
AS16_B2, AS16_B3 = 0.9443, -3.911
AS16_C1, AS16_C2, AS16_C3, AS16_C4 = 0.3165, 0.2539, 0.0932, -0.3183
AS16_R1, AS16_R2 = 10.0, 50.0
AS16_V1, AS16_VREF = 600.0, 369.9
AS16_BETA = 3.2  # km/s in their corner-frequency relation (AS16 source duration)


def afshari_stewart_2016_d595(mag: np.ndarray, rrup_km: np.ndarray, vs30: np.ndarray,
                              mechanism: np.ndarray) -> np.ndarray:
    """Median significant duration D5-95 in s (Afshari & Stewart 2016, source + path + site model).

    ln D = ln(F_E + F_P) + F_S: source duration F_E (b0 below M1, else 1/f0
    with a magnitude-dependent stress index), a piecewise-linear path
    duration F_P in Rrup and a Vs30 site term F_S; the z1 term is left out
    (its mean effect is zero at the Vs30-based default z1).
    """
    m = np.asarray(mag, dtype=float)
    r = np.asarray(rrup_km, dtype=float)
    v = np.asarray(vs30, dtype=float)
    mech = np.asarray(mechanism).astype(str)
    b0 = np.select([mech == "NM", mech == "RV"], [AS16_B0["NM"], AS16_B0["RV"]], AS16_B0["SS"])
    b1 = np.select([mech == "NM", mech == "RV"], [AS16_B1["NM"], AS16_B1["RV"]], AS16_B1["SS"])
    stress = np.exp(b1 + AS16_B2 * (np.minimum(m, AS16_M2) - AS16_MSTAR)
                    + AS16_B3 * np.maximum(m - AS16_M2, 0.0))
    f0 = 4.9e6 * AS16_BETA * (stress / seismic_moment(m)) ** (1.0 / 3.0)
    f_e = np.where(m <= AS16_M1, b0, 1.0 / f0)
    f_p = (AS16_C1 * np.minimum(r, AS16_R1)
           + AS16_C2 * np.maximum(np.minimum(r, AS16_R2) - AS16_R1, 0.0)
           + AS16_C3 * np.maximum(r - AS16_R2, 0.0))
    f_s = AS16_C4 * np.log(np.minimum(v, AS16_V1) / AS16_VREF)
    return np.exp(np.log(f_e + f_p) + f_s)


# --- Window: Saragoni & Hart (1974) as in Boore (2003) --------------------
WINDOW_EPS, WINDOW_ETA = 0.2, 0.05  # Boore (2003), recommended window parameters


def saragoni_hart(t_over_teta: np.ndarray) -> np.ndarray:
    """w(t) = a (t/t_eta)^b exp(-c t/t_eta): peak 1 at t = eps t_eta, eta = 5 % at t_eta (Boore 2003)."""
    eps, eta = WINDOW_EPS, WINDOW_ETA
    b = -eps * np.log(eta) / (1.0 + eps * (np.log(eps) - 1.0))
    c = b / eps
    a = (np.e / eps) ** b
    x = np.maximum(np.asarray(t_over_teta, dtype=float), 0.0)
    return a * x ** b * np.exp(-c * x)


def _window_d595_fraction() -> float:
    """D5-95 of the squared window as a fraction of t_eta (computed once, numerically)."""
    x = np.linspace(0.0, 4.0, 40001)
    e = np.cumsum(saragoni_hart(x) ** 2)
    e /= e[-1]
    return float(np.interp(0.95, e, x) - np.interp(0.05, e, x))


WINDOW_D595_FRACTION = _window_d595_fraction()
