"""Physics of the stochastic simulator: point-source Fourier spectrum, duration, window.

The Fourier amplitude spectrum (FAS) follows the stochastic method of Boore
(2003, PAGEOPH 160, 635-676) with the equivalent-point-source ingredients of
Yenier & Atkinson (2015, BSSA 105(4), 1989-2009) for California: a Brune
omega-squared source, an effective distance with near-source saturation h(M),
bilinear geometric spreading, Q(f), kappa0, generic-rock crustal
amplification and a linear Vs30 site term. Every function works on whole
arrays of sites (N,) and frequencies (F,) and returns natural logs, because
the calibration and the random terms are applied in ln units.

Path duration comes from Afshari & Stewart (2016, Earthquake Spectra 32(4),
2057-2081), whose D5-95 the simulated records must reproduce; the shape of
the time window is the Saragoni & Hart (1974) window as parameterised by
Boore (2003) (his w(t; eps, eta, t_eta) with eps = 0.2, eta = 0.05).

Equations are cited by name (source constant C, Brune spectrum, corner
frequency, h(M), Z(R), Q(f), linear site term, duration components) rather
than by equation number, which were not re-checked against the papers.
"""
from __future__ import annotations

import numpy as np

# --- Source (Boore 2003: constant C, Brune spectrum, corner frequency; Hanks & Kanamori 1979)
RHO_G_CM3 = 2.8      # crustal density near the source, g/cm^3 (Boore 2003, WNA parameters)
BETA_KM_S = 3.7      # shear-wave velocity near the source, km/s (Boore 2003, WNA parameters)
RAD_PATTERN = 0.55   # average S radiation pattern (Boore & Boatwright 1984, as used in Boore 2003's constant C)
PARTITION = 1.0 / np.sqrt(2.0)  # partition onto one horizontal component (Boore 2003, constant C)
FREE_SURFACE = 2.0   # free-surface amplification (Boore 2003, constant C)
STRESS_BAR = 100.0   # reference stress parameter, bar: a round value in the range YA15 find
                     # for California M >= 5 events; the calibration table absorbs the rest.
G_CM_S2 = 980.665

# --- Path (Yenier & Atkinson 2015) -------------------------------------------
Q0, Q_ETA = 170.0, 0.45  # California Q(f) = 170 f^0.45 (YA15, Q model for California)
R_TRANSITION_KM = 50.0   # bilinear spreading hinge (YA15 Z(R): R^-1.3 to 50 km, R^-0.5 beyond)
SPREAD_NEAR, SPREAD_FAR = -1.3, -0.5
KAPPA0_S = 0.025         # site kappa for California generic rock (YA15)

# --- Crust and site ---------------------------------------------------------
# Generic-rock (Vs30 = 620 m/s) crustal amplification, Boore & Joyner (1997,
# BSSA 87(2), 327-341), generic-rock amplification table: frequency (Hz), amplification.
BJ97_FREQ = np.array([0.01, 0.09, 0.16, 0.51, 0.84, 1.25, 2.26, 3.17, 6.05, 16.6, 61.2])
BJ97_AMP = np.array([1.00, 1.10, 1.18, 1.42, 1.58, 1.74, 2.06, 2.25, 2.58, 3.13, 4.00])
VS30_GENERIC_ROCK = 620.0

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


def near_source_h(mag: np.ndarray) -> np.ndarray:
    """Finite-fault saturation depth h = 10^(-0.405 + 0.235 M) km (Yenier & Atkinson 2015, from YA14)."""
    return 10.0 ** (-0.405 + 0.235 * np.asarray(mag, dtype=float))


def effective_distance(mag: np.ndarray, rrup_km: np.ndarray) -> np.ndarray:
    """R = sqrt(Rrup^2 + h(M)^2): the equivalent point source distance (YA15)."""
    return np.sqrt(np.asarray(rrup_km, dtype=float) ** 2 + near_source_h(mag) ** 2)


def ln_source(freq: np.ndarray, mag: np.ndarray, stress_bar: float = STRESS_BAR) -> np.ndarray:
    """ln of the acceleration source spectrum C M0 (2 pi f)^2 / (1 + (f/fc)^2), in g.s at 1 km.

    Boore (2003), source constant and single-corner spectrum: C = R_theta_phi V F / (4 pi rho beta^3 R0) with R0 = 1 km;
    the 1e-20 converts dyne-cm, g/cm^3 and km/s to cm/s, then to g.
    """
    f = np.asarray(freq, dtype=float)[None, :]
    m = np.asarray(mag, dtype=float)[:, None]
    c = RAD_PATTERN * PARTITION * FREE_SURFACE / (4.0 * np.pi * RHO_G_CM3 * BETA_KM_S ** 3) * 1e-20
    fc = corner_frequency(m, stress_bar)
    f = np.maximum(f, 1e-6)  # f = 0 carries no energy; avoids log(0)
    return (np.log(c * seismic_moment(m) / G_CM_S2) + 2.0 * np.log(2.0 * np.pi * f)
            - np.log1p((f / fc) ** 2))


def ln_path(freq: np.ndarray, mag: np.ndarray, rrup_km: np.ndarray) -> np.ndarray:
    """Geometric spreading Z(R) and anelastic attenuation exp(-pi f R / (Q beta)) (YA15)."""
    f = np.maximum(np.asarray(freq, dtype=float), 1e-3)[None, :]
    r = effective_distance(mag, rrup_km)[:, None]
    rt = R_TRANSITION_KM
    ln_z = np.where(r <= rt, SPREAD_NEAR * np.log(r),
                    SPREAD_NEAR * np.log(rt) + SPREAD_FAR * np.log(r / rt))
    q = Q0 * f ** Q_ETA
    return ln_z - np.pi * f * r / (q * BETA_KM_S)


def ln_site(freq: np.ndarray, vs30: np.ndarray, site_c: np.ndarray | None = None) -> np.ndarray:
    """Crustal (BJ97 generic rock), kappa0 and linear Vs30 amplification, ln units.

    The Vs30 term scales the generic-rock spectrum by (Vs30/620)^c(f) with c
    the linear site coefficient of BSSA14 (Boore et al. 2014, linear site term
    F_lin = c ln(min(Vs30, Vc)/Vref), coefficient table column c, read at T = 1/f and capped at Vc like theirs): a spectral-shape
    model of soft soil that the calibration then tunes to the NGA-West2 average.
    """
    f = np.asarray(freq, dtype=float)
    ln_crust = np.interp(np.log(np.maximum(f, 1e-3)), np.log(BJ97_FREQ), np.log(BJ97_AMP))
    ln_kappa = -np.pi * KAPPA0_S * f
    v = np.asarray(vs30, dtype=float)[:, None]
    if site_c is None:
        site_c = bssa14_site_c(f)
    c, vc = site_c
    ln_v = c[None, :] * np.log(np.minimum(v, vc[None, :]) / VS30_GENERIC_ROCK)
    return (ln_crust + ln_kappa)[None, :] + ln_v


def bssa14_site_c(freq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BSSA14 linear site coefficients c and Vc at T = 1/f (Boore et al. 2014 coefficient table, via pygmm)."""
    import pygmm

    coef = pygmm.BooreStewartSeyhanAtkinson2014.COEFF
    idx = pygmm.BooreStewartSeyhanAtkinson2014.INDICES_PSA
    per = np.asarray(coef["period"], dtype=float)[idx]
    order = np.argsort(per)
    lt = np.log(per[order])
    t = np.log(1.0 / np.maximum(np.asarray(freq, dtype=float), 1e-3))
    c = np.interp(t, lt, np.asarray(coef["c"], dtype=float)[idx][order])
    vc = np.interp(t, lt, np.asarray(coef["V_c"], dtype=float)[idx][order])
    return c, vc


def ln_fas(freq: np.ndarray, mag: np.ndarray, rrup_km: np.ndarray, vs30: np.ndarray,
           site_c: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Uncalibrated physics ln FAS (g.s) of one horizontal component, shape (N, F)."""
    return ln_source(freq, mag) + ln_path(freq, mag, rrup_km) + ln_site(freq, vs30, site_c)


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
