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
from gm_engine.ims import compute_ims
from gm_engine.stochastic import (
    CONTROL_PERIODS,
    intensity_measures,
    physics,
    simulate,
    simulate_realizations,
)
from gm_engine.stochastic.calibration import load_table
from gm_engine.stochastic.simulator import _shape_noise, _site_arrays, synthesize

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


def test_source_shape_limits():
    # Below fc the omega-squared acceleration shape is (2 pi f)^2; above fc it is flat, (2 pi fc)^2.
    mag = np.array([6.0])
    fc = physics.corner_frequency(mag)[0]
    lo, hi = fc / 100, fc * 100
    vals = np.exp(physics.ln_source_shape(np.array([lo, hi]), mag))[0]
    assert_allclose(vals, [(2 * np.pi * lo) ** 2, (2 * np.pi * fc) ** 2], rtol=1e-3)


@pytest.mark.parametrize("mech", ["SS", "RV", "NM"])
@pytest.mark.parametrize(("mag", "rrup", "vs30"), [(4.6, 0.5, 190.0), (6.5, 30.0, 760.0),
                                                   (7.9, 250.0, 400.0), (5.3, 12.0, 1400.0)])
def test_ba18_matches_pygmm(mech, mag, rrup, vs30):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = pygmm.BaylessAbrahamson2019(pygmm.Scenario(
            mag=mag, dist_rup=rrup, v_s30=vs30, depth_tor=0.0,
            mechanism={"SS": "SS", "RV": "RS", "NM": "NS"}[mech]))
    freqs, ours = physics.ln_eas_ba18(np.array([mag]), np.array([rrup]), np.array([vs30]),
                                      np.array([mech]))
    assert_allclose(freqs, ref.freqs)
    assert_allclose(ours[0], ref.ln_eas, atol=1e-9)
    # ln_fas interpolates BA18 in ln f and is exact at its frequencies.
    assert_allclose(physics.ln_fas(ref.freqs, np.array([mag]), np.array([rrup]),
                                   np.array([vs30]), np.array([mech]))[0], ref.ln_eas, atol=1e-9)


def test_fas_outside_ba18_frequencies_is_continuous():
    m, r, v = np.array([6.0, 7.5]), np.array([10.0, 150.0]), np.array([300.0, 900.0])
    f = np.array([0.1 * (1 - 1e-6), 0.1, 100.0, 100.0 * (1 + 1e-6)])
    lf = physics.ln_fas(f, m, r, v)
    assert_allclose(lf[:, 0], lf[:, 1], atol=1e-4)
    assert_allclose(lf[:, 2], lf[:, 3], atol=1e-4)
    # Omega-squared fall-off towards 0 Hz, kappa decay above 100 Hz.
    lo = physics.ln_fas(np.array([0.005, 0.01]), m, r, v)
    assert np.all(np.diff(lo, axis=1) > 1.0)
    hi = physics.ln_fas(np.array([150.0, 300.0]), m, r, v)
    assert_allclose(hi[:, 0] - hi[:, 1], np.pi * physics.ba18_kappa(v) * 150.0, rtol=1e-9)


def test_fas_high_frequency_behaves_like_california_data():
    # The reasons BA18 replaced the point source (docs/validation/stochastic.md): above
    # ~12 Hz the attenuation per km no longer grows with frequency, and soft sites are
    # de-amplified there (larger kappa) while they are amplified at low frequency.
    f = np.array([1.0, 10.0, 20.0, 40.0])
    near, far = physics.ln_fas(f, np.array([6.5, 6.5]), np.array([100.0, 200.0]),
                               np.array([760.0, 760.0]))
    loss = near - far
    assert loss[3] - loss[2] < 0.05 and loss[1] > loss[0]
    soft, stiff = physics.ln_fas(f, np.array([6.5, 6.5]), np.array([50.0, 50.0]),
                                 np.array([200.0, 1000.0]))
    assert soft[0] > stiff[0] and soft[3] < stiff[3]
    assert physics.ba18_kappa(np.array([200.0]))[0] > physics.ba18_kappa(np.array([1000.0]))[0]


def test_window_fraction():
    # D5-95 of the squared Saragoni-Hart window, from an independent fine quadrature.
    x = np.linspace(0, 6, 600001)
    e = np.cumsum(physics.saragoni_hart(x) ** 2)
    e /= e[-1]
    frac = np.interp(0.95, e, x) - np.interp(0.05, e, x)
    assert_allclose(physics.WINDOW_D595_FRACTION, frac, rtol=1e-3)
    assert_allclose(physics.saragoni_hart(np.array([physics.WINDOW_EPS, 1.0])), [1.0, 0.05],
                    rtol=1e-9)


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


def test_a_short_record_is_the_start_of_the_long_one_not_a_squeezed_one():
    # M 8 at 200 km: D5-95 ~ 85 s. A 30 s record is cut from the whole motion;
    # squeezing the window into it (the old behaviour) raised PSA by ~0.2 ln.
    cond = _cond(2, magnitude=np.array([8.0, 6.0]), rrup_km=np.array([200.0, 20.0]),
                 rjb_km=np.array([200.0, 20.0]))
    short = simulate(cond, np.random.default_rng(5), duration=30.0)
    long = simulate(cond, np.random.default_rng(5), duration=150.0)[..., :3000]
    for a, b in zip(short, long):
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9999
        assert abs(np.sqrt((a ** 2).mean() / (b ** 2).mean()) - 1.0) < 1e-3
    # each record's FFT length is its own: one alone equals the same in the batch
    site = _site_arrays(cond)
    both = synthesize(site, [11, 12], dt=0.01, duration=30.0)
    for i in range(2):
        one = synthesize({k: v[[i]] for k, v in site.items()}, [11 + i], dt=0.01, duration=30.0)
        assert np.array_equal(one[0], both[i])


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
    from gm_engine.stochastic.simulator import site_noise_key, synthesize

    cond = _cond(3)
    xy = np.array([[0.0, 0.0], [3.0, 0.0], [9.0, 2.0]])
    terms = {}
    out = simulate_realizations(cond, xy, 2, 21, ["PGA"], duration=30.0, chunk_size=2,
                                on_terms=lambda r, eta, eps: terms.__setitem__(r, (eta, eps)))
    eta, eps = terms[1]
    wave = synthesize_site(cond.iloc[[2]], 21, 1, 2, eta, eps[2], duration=30.0)
    assert wave.shape == (3, 3000)
    pga = compute_ims(wave[None], 0.01, ["PGA"])["PGA"][0]
    assert_allclose(pga, out["PGA"][1, 2], rtol=1e-6)  # the run's IM, in float32
    site = {k: np.asarray(cond[k])[[2]] for k in ("magnitude", "rrup_km", "vs30", "mechanism")}
    direct = synthesize(site, [site_noise_key(21, 1, 2)], dt=0.01, duration=30.0, eta=eta, eps=eps[[2]])
    assert_allclose(wave, direct[0])


def test_vertical_follows_the_vh_ratio():
    cond = _cond(24, magnitude=np.full(24, 6.5), rrup_km=np.full(24, 20.0),
                 vs30=np.full(24, 760.0))
    p = CONTROL_PERIODS.size
    acc = simulate(cond, np.random.default_rng(3), duration=40.0, between_event=np.zeros(p),
                   within_event=np.zeros((24, p)))
    t = np.array([0.2, 1.0])
    names = [f"SA({p})" for p in t]
    h_ims = compute_ims(acc, 0.01, names)
    v_ims = compute_ims(acc, 0.01, names, horizontal="Z")
    h = np.stack([h_ims[n] for n in names], axis=1)
    v = np.stack([v_ims[n] for n in names], axis=1)
    vh = load_table().interpolate([6.5], [20.0], [760.0], ["SS"])["ln_vh"][0]
    expected = np.interp(np.log(t), np.log(CONTROL_PERIODS), vh)
    assert_allclose(np.log(v / h).mean(axis=0), expected, atol=0.25)


def test_pulse_train_makes_the_motion_impulsive():
    # pulse_q = nu^-1/2 (table field): 0 is Gaussian white noise, 0.45 s^0.5 about 5 pulses/s.
    from dataclasses import replace

    from gm_engine.stochastic.simulator import synthesize

    tab = load_table()
    site = {"magnitude": np.full(12, 6.0), "rrup_km": np.full(12, 30.0),
            "vs30": np.full(12, 760.0), "mechanism": np.array(["SS"] * 12)}
    keys = [(3, k) for k in range(12)]
    out = {}
    for q in (0.0, 0.45):
        t = replace(tab, pulse_q=np.full(tab.pulse_q.shape, q))
        acc = synthesize(site, keys, dt=0.01, duration=40.0, table=t)[:, :2].astype(float)
        rms = np.sqrt((acc ** 2).mean(-1))
        out[q] = (np.log(np.abs(acc).max(-1) / rms).mean(), np.log(rms).mean())
    assert out[0.45][0] > out[0.0][0] + 0.1   # higher peak factor
    assert abs(out[0.45][1] - out[0.0][1]) < 0.15  # same energy (same target FAS)


def test_pulse_probability_is_the_tables_rate_at_any_dt():
    # what a pulse_train generator shapes: the table's pulse rate nu = pulse_q^-2
    # per second, so p = dt nu halves with dt (and is capped at 1: Gaussian noise)
    from gm_engine.stochastic.simulator import pulse_probability

    df = pd.DataFrame({"magnitude": [5.0, 6.5, 8.0, 6.0], "rrup_km": [10.0, 50.0, 200.0, 30.0],
                       "vs30": [760.0, 400.0, 760.0, 1000.0], "mechanism": ["SS", "RV", "NM", "SS"]})
    cal = load_table().interpolate(df["magnitude"].to_numpy(), df["rrup_km"].to_numpy(),
                                   df["vs30"].to_numpy(), _site_arrays(df)["mechanism"])
    nu = np.where(cal["pulse_q"] > 0, 1.0 / np.maximum(cal["pulse_q"], 1e-12) ** 2, np.inf)
    p1, p2 = pulse_probability(df, 0.01), pulse_probability(df, 0.005)
    assert_allclose(p1, np.minimum(1.0, 0.01 * nu))
    slow = p1 < 1.0
    assert slow.any()
    assert_allclose(p2[slow], p1[slow] / 2.0)


def test_terms_shift_applies_with_random_terms_only():
    # the table is fitted with median motions; a run's median is over realizations
    # that carry tau eta + phi eps, whose mean ln PSA came out above the median
    # motion's (Jensen: PSA integrates the perturbed FAS); terms_shift takes it
    # back, for records with random terms only (validation/stochastic_terms_shift.py)
    from dataclasses import replace

    from gm_engine.corpus import between_event_factor

    tab = load_table()
    none = replace(tab, terms_shift=np.zeros_like(tab.terms_shift))
    assert tab.terms_shift[CONTROL_PERIODS <= 0.1].min() > 0.05
    n = 12
    site = {"magnitude": np.full(n, 6.5), "rrup_km": np.full(n, 20.0),
            "vs30": np.full(n, 400.0), "mechanism": np.array(["SS"] * n)}
    keys = [(11, k) for k in range(n)]
    rng = np.random.default_rng(5)
    chol = between_event_factor()
    terms = {"eta": rng.standard_normal((n, CONTROL_PERIODS.size)) @ chol.T,
             "eps": rng.standard_normal((n, CONTROL_PERIODS.size)) @ chol.T}

    def ln_psa(table, **kw):
        acc = synthesize(site, keys, dt=0.01, duration=40.96, table=table, **kw)
        v = compute_ims(acc, 0.01, ["PGA", "SA(1.0)"])
        return acc, np.log(np.stack([v["PGA"], v["SA(1.0)"]], axis=1))

    a, _ = ln_psa(tab)
    b, _ = ln_psa(none)
    np.testing.assert_array_equal(a, b)  # median motions: untouched
    _, with_shift = ln_psa(tab, **terms)
    _, without = ln_psa(none, **terms)
    d = (with_shift - without).mean(0)  # same noise, same terms: the shift alone
    i1 = int(np.flatnonzero(np.isclose(CONTROL_PERIODS, 1.0))[0])
    assert d[1] == pytest.approx(-tab.terms_shift[i1], abs=0.01)  # PSA(1 s) follows its FAS
    assert -tab.terms_shift[0] < d[0] < -0.3 * tab.terms_shift[0]  # PGA: a broad band


def test_refitting_one_field_keeps_the_calibration_settings(tmp_path):
    import shutil

    from gm_engine.stochastic.calibration import TABLE_PATH, Table

    path = tmp_path / "calibration.npz"
    shutil.copy(TABLE_PATH, path)
    table = Table.load(path)
    table.terms_shift = table.terms_shift + 0.5
    table.save_keeping_settings(path)
    with np.load(TABLE_PATH) as old, np.load(path) as new:
        assert sorted(old.files) == sorted(new.files)
        settings = [k for k in old.files if k not in Table.__dataclass_fields__]
        assert "records" in settings
        for k in settings:
            np.testing.assert_array_equal(new[k], old[k])
    assert_allclose(Table.load(path).terms_shift, load_table().terms_shift + 0.5)


def test_pga_does_not_depend_on_dt():
    # Nothing above the 50 Hz Nyquist of dt = 0.01 s may blow up at a finer dt
    # (the spectrum above 20 Hz is BA18's kappa-shaped one, not a fitted one).
    p = CONTROL_PERIODS.size
    for rrup, vs30 in ((100.0, 1000.0), (10.0, 300.0)):
        cond = _cond(12, magnitude=np.full(12, 6.5), rrup_km=np.full(12, rrup),
                     rjb_km=np.full(12, rrup), vs30=np.full(12, vs30))
        ln_pga = []
        for dt in (0.01, 0.005):
            acc = simulate(cond, np.random.default_rng(8), dt=dt, duration=60.0,
                           between_event=np.zeros(p), within_event=np.zeros((12, p)))
            ln_pga.append(np.log(compute_ims(acc, dt, ["PGA"])["PGA"]).mean())
        assert abs(ln_pga[1] - ln_pga[0]) < 0.1, (rrup, vs30, ln_pga)


def test_intensity_measures_units():
    cond = _cond(2)
    acc = simulate(cond, np.random.default_rng(0), duration=30.0)
    ims = intensity_measures(acc, 0.01, ["PGA", "PGV", "SA(0.3)"])
    assert set(ims) == {"PGA", "PGV", "SA(0.3)"}
    assert np.all(ims["PGV"] > 0.5) and np.all(ims["PGA"] < 2.0)
    assert np.all(ims["SA(0.3)"] > ims["PGA"])  # spectral amplification at 0.3 s


def test_bundled_table_invariants():
    from gm_engine.stochastic.calibration import TABLE_ROWS

    tab = load_table()
    hf = CONTROL_PERIODS < 0.05
    i05 = int(np.flatnonzero(np.isclose(CONTROL_PERIODS, 0.05))[0])
    # Nothing is fitted above 20 Hz: the spectrum there keeps the BA18 (kappa) shape.
    assert_allclose(tab.ln_c[..., hf], np.repeat(tab.ln_c[..., i05:i05 + 1], hf.sum(), -1))
    assert np.abs(tab.ln_c).max() <= 3.0 + 1e-9
    assert tab.pulse_q.min() >= 0.0 and tab.pulse_q.max() <= 0.5
    assert tab.ln_c.shape[0] == len(TABLE_ROWS)
    # Mechanism rows: NM has its own row (SS + the NGA-West2 NM/SS difference).
    cal = tab.interpolate(np.full(3, 6.5), np.full(3, 15.0), np.full(3, 450.0), ["SS", "RV", "NM"])
    node = (3, 3, 2)
    for row in range(3):
        assert_allclose(cal["tau"][row], tab.tau[(row, *node)])
    assert not np.allclose(cal["ln_c"][2], cal["ln_c"][0])


# --- calibration (coarse version of validation/nga_west2.py) --------------------

def test_coarse_nga_west2_calibration():
    sys.path.insert(0, str(ROOT / "validation"))
    try:
        import nga_west2
    finally:
        sys.path.pop(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nga_west2.validate(nga_west2.QUICK, 16, None, 0)
    s = result["summary"]
    labels = result["periods"]
    med = {(m["mechanism"], m["magnitude"], m["rrup_km"], m["vs30"]): np.array(m["residual"])
           for m in result["median"]}
    assert len(med) == 16 and len(labels) == 10
    # The coarse grid holds the cells the simulator used to miss: PGA on stiff sites at
    # 50-200 km (was up to 0.35 too low) and PSA(0.05) on Vs30 = 200 m/s at 200 km.
    soft_far = {k: v for k, v in med.items() if k[2] == 200.0 and k[3] == 200.0}
    others = {k: v for k, v in med.items() if k not in soft_far}
    pga = np.array([v[0] for v in med.values()])
    assert np.abs(pga).max() < 0.2, s["worst_cell_by_period"]["PGA"]
    assert max(np.abs(v[:2]).max() for v in others.values()) < 0.15, s
    # Everywhere else the 0.2 target holds; 16 records leave ~0.05 of noise at 5 s.
    assert max(np.abs(v).max() for v in others.values()) < 0.2, s
    # Vs30 = 200 m/s at 200 km: the documented corner where PGA/PSA(0.05) and
    # PSA(0.1-0.5) cannot all be met and the calibration splits the misfit (+-0.2).
    assert max(np.abs(v).max() for v in soft_far.values()) < 0.26, s
    assert 0.9 < s["d595_ratio_min"] and s["d595_ratio_max"] < 1.1, s


def test_site_noise_keys_differ_from_the_realization_key():
    # SeedSequence pads entropy with zeros: (seed, r, 0) would replay [seed, r].
    from gm_engine.stochastic.simulator import site_noise_key

    for r in range(3):
        real = np.random.default_rng([7, r]).standard_normal(8)
        for i in range(3):
            site = np.random.default_rng(site_noise_key(7, r, i)).standard_normal(8)
            assert not np.allclose(real, site)
    assert len({site_noise_key(7, r, i) for r in range(4) for i in range(4)}) == 16
