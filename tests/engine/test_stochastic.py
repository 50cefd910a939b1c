"""The stochastic simulator (gm_engine.stochastic): physics, synthesis, calibration."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pygmm
import pytest
from numpy.testing import assert_allclose

from gm_engine.errors import InputError
from gm_engine.stochastic import (
    CONTROL_PERIODS,
    intensity_measures,
    physics,
    simulate,
    simulate_realizations,
)
from gm_engine.stochastic.calibration import load_table
from gm_engine.stochastic.response import psa_rotd, significant_duration
from gm_engine.stochastic.simulator import _shape_noise

ROOT = Path(__file__).resolve().parents[2]


def _cond(n: int = 3, **over) -> pd.DataFrame:
    base = dict(magnitude=np.full(n, 6.5), rrup_km=np.linspace(5.0, 40.0, n),
                rjb_km=np.linspace(5.0, 40.0, n), vs30=np.full(n, 400.0),
                mechanism=["SS"] * n)
    base.update(over)
    return pd.DataFrame(base)


# --- physics -------------------------------------------------------------------

@pytest.mark.parametrize("mech", ["SS", "RV", "NM"])
@pytest.mark.parametrize(("mag", "rrup", "vs30"), [(5.0, 2.0, 250.0), (6.5, 30.0, 760.0),
                                                   (7.8, 150.0, 450.0), (5.3, 12.0, 900.0)])
def test_as16_d595_matches_pygmm(mech, mag, rrup, vs30):
    s = pygmm.Scenario(mag=mag, dist_rup=rrup, v_s30=vs30,
                       mechanism={"SS": "SS", "RV": "RS", "NM": "NS"}[mech])
    expected = float(pygmm.AfshariStewart2016(s).duration["D_5t95"])
    ours = physics.afshari_stewart_2016_d595(np.array([mag]), np.array([rrup]),
                                             np.array([vs30]), np.array([mech]))[0]
    assert_allclose(ours, expected, rtol=1e-9)


def test_source_spectrum_limits():
    # Below fc the acceleration spectrum is C M0 (2 pi f)^2; above fc it is flat, C M0 (2 pi fc)^2.
    mag = np.array([6.0])
    fc = physics.corner_frequency(mag)[0]
    c = physics.RAD_PATTERN * physics.PARTITION * physics.FREE_SURFACE / (
        4 * np.pi * physics.RHO_G_CM3 * physics.BETA_KM_S ** 3) * 1e-20
    m0 = physics.seismic_moment(mag)[0]
    lo, hi = fc / 100, fc * 100
    vals = np.exp(physics.ln_source(np.array([lo, hi]), mag))[0]
    assert_allclose(vals[0], c * m0 * (2 * np.pi * lo) ** 2 / 980.665, rtol=1e-3)
    assert_allclose(vals[1], c * m0 * (2 * np.pi * fc) ** 2 / 980.665, rtol=1e-3)


def test_path_and_site_behave_physically():
    f = np.array([1.0, 10.0])
    near, far = physics.ln_path(f, np.array([6.0, 6.0]), np.array([10.0, 100.0]))
    assert np.all(far < near)
    assert far[1] - near[1] < far[0] - near[0]  # Q removes more at high frequency
    soft, rock = physics.ln_site(np.array([1.0]), np.array([200.0, 1000.0]))
    assert soft[0] > rock[0]


def test_window_fraction():
    # D5-95 of the squared Saragoni-Hart window, from an independent fine quadrature.
    x = np.linspace(0, 6, 600001)
    e = np.cumsum(physics.saragoni_hart(x) ** 2)
    e /= e[-1]
    frac = np.interp(0.95, e, x) - np.interp(0.05, e, x)
    assert_allclose(physics.WINDOW_D595_FRACTION, frac, rtol=1e-3)
    assert_allclose(physics.saragoni_hart(np.array([physics.WINDOW_EPS, 1.0])), [1.0, 0.05],
                    rtol=1e-9)


# --- response spectra ---------------------------------------------------------

def test_psa_rotd_matches_pyrotd():
    import pyrotd

    rng = np.random.default_rng(0)
    dt = 0.01
    t = np.arange(3000) * dt
    acc = rng.standard_normal((2, 2, 3000)) * np.exp(-(((t - 10) / 4) ** 2)) * 0.1
    periods = np.array([0.1, 0.3, 1.0, 2.0])
    ours = psa_rotd(np.concatenate([acc, np.zeros((2, 2, 6000))], -1), dt, periods)[0]
    for i in range(2):
        peer = pyrotd.calc_rotated_spec_accels(dt, acc[i, 0], acc[i, 1], 1 / periods, 0.05,
                                               percentiles=[50])["spec_accel"]
        assert_allclose(ours[i], peer, rtol=0.02)
    pga = psa_rotd(acc, dt, np.array([0.0]), percentiles=(100.0,))[0, :, 0]
    assert_allclose(pga, np.sqrt(acc[:, 0] ** 2 + acc[:, 1] ** 2).max(-1), rtol=1e-3)


def test_psa_rotd_matches_gm_engine_ims():
    ims = pytest.importorskip("gm_engine.ims")
    rng = np.random.default_rng(5)
    t = np.arange(4000) * 0.01
    acc = rng.standard_normal((4, 3, 4000)) * np.exp(-(((t - 12) / 5) ** 2)) * 0.1
    periods = [0.05, 0.1, 0.5, 3.0]
    ref = ims.compute_ims(acc, 0.01, [f"SA({p})" for p in periods])
    ours = psa_rotd(acc[:, :2], 0.01, np.array(periods))[0]
    for j, p in enumerate(periods):
        assert_allclose(ours[:, j], ref[f"SA({p})"], rtol=0.03)


def test_significant_duration_of_boxcar():
    acc = np.zeros((1, 1000))
    acc[0, 100:300] = 1.0
    assert_allclose(significant_duration(acc, 0.01), [1.8], atol=0.02)


# --- synthesis ------------------------------------------------------------------

def test_simulate_shape_dtype_determinism():
    cond = _cond()
    a = simulate(cond, np.random.default_rng(1), duration=30.0)
    b = simulate(cond, np.random.default_rng(1), duration=30.0)
    c = simulate(cond, np.random.default_rng(2), duration=30.0)
    assert a.shape == (3, 3, 3000) and a.dtype == np.float32
    assert_allclose(a, b)
    assert not np.allclose(a, c)
    assert np.all(np.isfinite(a))
    # Quiet lead, then shaking; the nearest site shakes hardest.
    peak = np.abs(a).max(axis=(1, 2))
    assert np.abs(a[:, :, :50]).max() < 0.05 * peak.max()
    assert peak[0] > peak[-1]


def test_random_terms_scale_the_motion():
    cond = _cond(1)
    p = CONTROL_PERIODS.size
    lo = simulate(cond, np.random.default_rng(4), duration=30.0, between_event=np.full(p, -2.0),
                  within_event=np.zeros((1, p)))
    hi = simulate(cond, np.random.default_rng(4), duration=30.0, between_event=np.full(p, 2.0),
                  within_event=np.zeros((1, p)))
    ratio = np.abs(hi).max() / np.abs(lo).max()
    tau = load_table().interpolate(cond.magnitude, cond.rrup_km, cond.vs30, ["SS"])["tau"]
    assert_allclose(np.log(ratio), 4 * tau.mean(), atol=0.3)


def test_torch_path_matches_numpy():
    pytest.importorskip("torch")
    from gm_engine.stochastic.simulator import _shape_noise_torch

    rng = np.random.default_rng(0)
    noise = rng.standard_normal((2, 3, 512))
    amp = rng.uniform(0.1, 1.0, (2, 3, 257))
    assert_allclose(_shape_noise_torch(noise, amp, 512, "cpu"), _shape_noise(noise, amp, 512, "cpu"),
                    rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(conditions=_cond(vs30=np.full(3, 90.0))), "conditions.vs30"),
        (dict(conditions=_cond(magnitude=np.full(3, 9.2))), "conditions.magnitude"),
        (dict(conditions=_cond().drop(columns="mechanism")), "conditions.mechanism"),
        (dict(conditions=_cond(), dt=0.5), "dt"),
        (dict(conditions=_cond(), duration=5.0), "duration"),
        (dict(conditions=_cond(), between_event=np.zeros(3)), "between_event"),
        (dict(conditions=_cond(), within_event=np.zeros((2, CONTROL_PERIODS.size))),
         "within_event"),
    ],
)
def test_bad_input(kwargs, field):
    with pytest.raises(InputError) as err:
        simulate(rng=np.random.default_rng(0), **kwargs)
    assert err.value.field == field


def test_realizations_do_not_depend_on_chunking():
    cond = _cond(4)
    xy = np.array([[0.0, 0.0], [2.0, 0.0], [10.0, 5.0], [30.0, 0.0]])
    kw = dict(n_realizations=2, seed=11, ims=["PGA", "SA(1.0)"], duration=30.0)
    calls = []
    a = simulate_realizations(cond, xy, chunk_size=1, progress=lambda f, s: calls.append(f), **kw)
    b = simulate_realizations(cond, xy, chunk_size=3, **kw)
    assert a["PGA"].shape == (2, 4) and a["PGA"].dtype == np.float32
    assert_allclose(a["PGA"], b["PGA"], rtol=1e-5)
    assert_allclose(a["SA(1.0)"], b["SA(1.0)"], rtol=1e-5)
    assert calls[-1] == pytest.approx(1.0) and len(calls) == 8
    with pytest.raises(Exception, match="cancel"):
        simulate_realizations(cond, xy, is_cancelled=lambda: True, **kw)


def test_synthesize_site_regenerates_a_run_waveform():
    from gm_engine.stochastic import synthesize_site
    from gm_engine.stochastic.simulator import synthesize

    cond = _cond(3)
    xy = np.array([[0.0, 0.0], [3.0, 0.0], [9.0, 2.0]])
    terms = {}
    out = simulate_realizations(cond, xy, 2, 21, ["PGA"], duration=30.0, chunk_size=2,
                                on_terms=lambda r, eta, eps: terms.__setitem__(r, (eta, eps)))
    eta, eps = terms[1]
    wave = synthesize_site(cond.iloc[[2]], 21, 1, 2, eta, eps[2], duration=30.0)
    assert wave.shape == (3, 3000)
    pga = psa_rotd(wave[None, :2], 0.01, np.array([0.0]))[0, 0, 0]
    assert_allclose(pga, out["PGA"][1, 2], rtol=0.02)  # gm_engine.ims vs built-in RotD50
    site = {k: np.asarray(cond[k])[[2]] for k in ("magnitude", "rrup_km", "vs30", "mechanism")}
    direct = synthesize(site, [(21, 1, 2)], dt=0.01, duration=30.0, eta=eta, eps=eps[[2]])
    assert_allclose(wave, direct[0])


def test_vertical_follows_the_vh_ratio():
    cond = _cond(24, magnitude=np.full(24, 6.5), rrup_km=np.full(24, 20.0),
                 vs30=np.full(24, 760.0))
    p = CONTROL_PERIODS.size
    acc = simulate(cond, np.random.default_rng(3), duration=40.0, between_event=np.zeros(p),
                   within_event=np.zeros((24, p)))
    t = np.array([0.2, 1.0])
    h = psa_rotd(acc[:, :2], 0.01, t)[0]
    v = psa_rotd(np.stack([acc[:, 2], np.zeros_like(acc[:, 2])], 1), 0.01, t,
                 percentiles=(100.0,))[0]
    vh = load_table().interpolate([6.5], [20.0], [760.0], ["SS"])["ln_vh"][0]
    expected = np.interp(np.log(t), np.log(CONTROL_PERIODS), vh)
    assert_allclose(np.log(v / h).mean(axis=0), expected, atol=0.25)


def test_intensity_measures_units():
    cond = _cond(2)
    acc = simulate(cond, np.random.default_rng(0), duration=30.0)
    ims = intensity_measures(acc, 0.01, ["PGA", "PGV", "SA(0.3)"])
    assert set(ims) == {"PGA", "PGV", "SA(0.3)"}
    assert np.all(ims["PGV"] > 0.5) and np.all(ims["PGA"] < 2.0)
    assert np.all(ims["SA(0.3)"] > ims["PGA"])  # spectral amplification at 0.3 s


# --- calibration (coarse version of validation/nga_west2.py) --------------------

def test_coarse_nga_west2_calibration():
    sys.path.insert(0, str(ROOT / "validation"))
    try:
        import nga_west2
    finally:
        sys.path.pop(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nga_west2.validate(nga_west2.QUICK, 8, None, 0)
    s = result["summary"]
    # 8 records per scenario leave ~0.1 of sampling noise on top of the 0.2 target.
    assert s["worst_abs_median_residual"] < 0.3, s
    assert 0.7 < s["d595_ratio_min"] and s["d595_ratio_max"] < 1.3, s
