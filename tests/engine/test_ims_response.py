"""SDOF response: exact recursion vs closed forms, and PSA vs pyrotd on real records."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gm_engine.errors import InputError
from gm_engine.ims import response_spectrum, sdof_displacement
from gm_engine.ims.response import (
    BAND_LIMIT_WEIGHT,
    band_limited_input,
    nigam_jennings_matrices,
    oversampling_factor,
    sdof_filter_coefficients,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "obspy_records.npz"


def chopra_table_5_2_1(period: float, dt: float, zeta: float) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form coefficients of the piecewise-linear recursion (Chopra, Dynamics of
    Structures, Table 5.2.1; Nigam & Jennings 1969), for unit mass, force p = -a_g.

    Returns (state matrix [[A, B], [A', B']], input matrix [[C, D], [C', D']]).
    """
    w = 2 * math.pi / period
    k = w * w
    q = math.sqrt(1 - zeta * zeta)
    wd = w * q
    e = math.exp(-zeta * w * dt)
    s, c = math.sin(wd * dt), math.cos(wd * dt)
    a = e * (zeta / q * s + c)
    b = e * s / wd
    cc = (
        2 * zeta / (w * dt)
        + e * (((1 - 2 * zeta**2) / (wd * dt) - zeta / q) * s - (1 + 2 * zeta / (w * dt)) * c)
    ) / k
    d = (
        1 - 2 * zeta / (w * dt) + e * ((2 * zeta**2 - 1) / (wd * dt) * s + 2 * zeta / (w * dt) * c)
    ) / k
    ap = -e * w / q * s
    bp = e * (c - zeta / q * s)
    cp = (-1 / dt + e * ((w / q + zeta / (dt * q)) * s + c / dt)) / k
    dp = (1 - e * (zeta / q * s + c)) / (k * dt)
    return np.array([[a, b], [ap, bp]]), np.array([[cc, d], [cp, dp]])


@pytest.mark.parametrize("period", [0.02, 0.1, 0.5, 2.0, 10.0])
@pytest.mark.parametrize("zeta", [0.0, 0.02, 0.05, 0.3])
def test_recursion_matrices_match_nigam_jennings_closed_form(period: float, zeta: float) -> None:
    dt = 0.01
    a_mat, b1, b2 = nigam_jennings_matrices(period, dt, zeta)
    ref_a, ref_in = chopra_table_5_2_1(period, dt, zeta)
    assert_allclose(a_mat, ref_a, rtol=1e-9, atol=1e-12)
    # p = -a_g: our B1 multiplies a_i (Chopra's C column), B2 a_{i+1} (D column).
    scale = np.abs(ref_in).max()
    assert_allclose(b1, -ref_in[:, 0], rtol=1e-7, atol=1e-9 * scale)
    assert_allclose(b2, -ref_in[:, 1], rtol=1e-7, atol=1e-9 * scale)


def test_filter_form_equals_state_recursion() -> None:
    rng = np.random.default_rng(3)
    acc = rng.standard_normal(500)
    period, dt, zeta = 0.4, 0.01, 0.05
    a_mat, b1, b2 = nigam_jennings_matrices(period, dt, zeta)
    x = b2 * acc[0]  # lfilter convention: at rest with a = 0 before the first sample
    u = [x[0]]
    for i in range(acc.size - 1):
        x = a_mat @ x + b1 * acc[i] + b2 * acc[i + 1]
        u.append(x[0])
    assert_allclose(sdof_displacement(acc, dt, [period], zeta)[0], u, rtol=1e-10, atol=1e-14)
    b, a = sdof_filter_coefficients(period, dt, zeta)
    assert a[0] == 1.0 and b.shape == (3,)


def harmonic_response(
    t: np.ndarray, amp: float, big_w: float, period: float, zeta: float
) -> np.ndarray:
    """Exact u(t) of u'' + 2 zeta w u' + w^2 u = -amp sin(W t), starting at rest."""
    w = 2 * math.pi / period
    wd = w * math.sqrt(1 - zeta**2)
    m = np.array(
        [[w * w - big_w**2, -2 * zeta * w * big_w], [2 * zeta * w * big_w, w * w - big_w**2]]
    )
    c, d = np.linalg.solve(m, [-amp, 0.0])  # u_p = c sin(Wt) + d cos(Wt)
    e = -d  # u(0) = 0
    f = (zeta * w * e - c * big_w) / wd  # u'(0) = 0
    return (
        c * np.sin(big_w * t)
        + d * np.cos(big_w * t)
        + np.exp(-zeta * w * t) * (e * np.cos(wd * t) + f * np.sin(wd * t))
    )


@pytest.mark.parametrize(("period", "f_input"), [(1.0, 1.0), (0.5, 1.3), (2.0, 0.35), (0.2, 7.0)])
def test_harmonic_input_matches_closed_form(period: float, f_input: float) -> None:
    dt = 0.001
    t = np.arange(20000) * dt
    big_w = 2 * math.pi * f_input
    acc = 0.3 * np.sin(big_w * t)
    exact = harmonic_response(t, 0.3, big_w, period, 0.05)
    got = sdof_displacement(acc, dt, [period], 0.05)[0]
    # Linear interpolation of a sine costs O((W dt)^2 / 12) relative.
    assert_allclose(got, exact, atol=2e-4 * np.abs(exact).max())
    psa = response_spectrum(acc, dt, [period])[0]
    w2 = (2 * math.pi / period) ** 2
    # response_spectrum also lets the oscillator ring out after the record; that
    # free vibration starts from the steady-state amplitude, which the 20 s
    # record already reaches, so the peak is the closed form's peak.
    assert psa == pytest.approx(w2 * np.abs(exact).max(), rel=3e-3)


def test_resonant_steady_state_is_one_over_two_zeta() -> None:
    """At resonance the steady PSA is A / (2 zeta) (Chopra Eq. 3.2.17 with w = W)."""
    dt, zeta, period = 0.005, 0.05, 0.5
    t = np.arange(int(60 / dt)) * dt
    acc = 0.1 * np.sin(2 * math.pi / period * t)
    psa = response_spectrum(acc, dt, [period], zeta)[0]
    assert psa == pytest.approx(0.1 / (2 * zeta), rel=2e-3)


def test_band_limited_input_is_the_three_point_correction() -> None:
    """The zero-extended record convolved with [-c, 1 + 2c, -c], from time -dt on."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 50))
    c = BAND_LIMIT_WEIGHT
    got = band_limited_input(x, 60)
    ref = np.apply_along_axis(np.convolve, -1, x, [-c, 1 + 2 * c, -c])  # (2, 3, 52)
    assert_allclose(got[..., :52], ref, atol=1e-15)
    assert (got[..., 52:] == 0).all()
    assert_allclose(got.sum(-1), x.sum(-1), rtol=1e-12)  # the correction keeps the mean
    assert band_limited_input(x.astype(np.float32), 60).dtype == np.float32


@pytest.mark.parametrize("samples_per_period", [8, 12, 16])
def test_coarsely_sampled_resonance_is_band_limited(samples_per_period: int) -> None:
    """A sine sampled 8-16 times per period, at the oscillator's period: linear
    interpolation between the samples shrinks it by sinc^2 (2.2 % at 12), the
    corrected input leaves O((dt / T)^4) (Chopra Eq. 3.2.17: PSA = A / (2 zeta))."""
    period, zeta = 1.0, 0.05
    dt = period / samples_per_period
    t = np.arange(int(60 / dt)) * dt
    acc = 0.1 * np.sin(2 * math.pi / period * t)
    exact = 0.1 / (2 * zeta)
    # min_samples_per_period = samples_per_period: not oversampled, corrected
    corrected = response_spectrum(acc, dt, [period], zeta, min_samples_per_period=samples_per_period)[0]
    linear = response_spectrum(acc, dt, [period], zeta, min_samples_per_period=None)[0]
    sinc2 = (math.sin(math.pi / samples_per_period) / (math.pi / samples_per_period)) ** 2
    assert linear == pytest.approx(exact * sinc2, rel=2e-3)
    assert corrected == pytest.approx(exact, rel=1.5 * 0.178 * (math.pi / samples_per_period) ** 4 + 5e-4)


def test_oversampling_factor() -> None:
    assert oversampling_factor(1.0, 0.01, 32) == 1
    assert oversampling_factor(0.1, 0.01, 32) == 4
    assert oversampling_factor(0.32, 0.01, 32) == 1
    assert oversampling_factor(0.001, 0.01, 32) == 16  # capped beyond the Nyquist period


def test_psa_float32_close_to_float64() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(4096) * 0.01
    acc = rng.standard_normal((4, 4096)) * np.exp(-(((t - 10) / 4) ** 2)) * 0.2
    per = [0.05, 0.3, 1.0, 5.0]
    p64 = response_spectrum(acc, 0.01, per)
    p32 = response_spectrum(acc.astype(np.float32), 0.01, per)
    assert_allclose(p32, p64, rtol=1e-5)


def test_psa_zero_period_limit_is_pga() -> None:
    rng = np.random.default_rng(1)
    acc = np.convolve(rng.standard_normal(3000), np.hanning(25), mode="same") * 0.01
    psa = response_spectrum(acc, 0.01, [0.005])[0]
    assert psa == pytest.approx(np.abs(acc).max(), rel=0.01)


@pytest.fixture(scope="module")
def records() -> dict[str, tuple[np.ndarray, float]]:
    data = np.load(DATA)
    return {
        "knet_akt013_ew": (data["knet_akt013_ew"][None], float(data["knet_akt013_ew_dt"])),
        "evt_mema": (data["evt_mema"], float(data["evt_mema_dt"])),
        "evt_stna": (data["evt_stna"], float(data["evt_stna_dt"])),
    }


PEER_PERIODS = np.array([0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0])


def _pyrotd_padded(acc: np.ndarray, dt: float) -> np.ndarray:
    """pyrotd's FFT method treats the record as periodic: pad with zeros long
    enough (25 longest periods) for the long-period ringing to die out."""
    return np.concatenate([acc, np.zeros(int(25 * PEER_PERIODS.max() / dt))])


@pytest.mark.parametrize("name", ["knet_akt013_ew", "evt_mema", "evt_stna"])
def test_psa_matches_pyrotd_on_real_records(records, name: str) -> None:
    pyrotd = pytest.importorskip("pyrotd")
    pyrotd.processes = 1
    acc, dt = records[name]
    for comp in range(acc.shape[0]):
        ref = pyrotd.calc_spec_accels(
            dt, _pyrotd_padded(acc[comp], dt), 1.0 / PEER_PERIODS, 0.05, max_freq_ratio=50
        ).spec_accel
        got = response_spectrum(acc[comp], dt, PEER_PERIODS, 0.05)
        # within 0.075 % since the band-limited input correction (0.31 % before)
        assert_allclose(got, ref, rtol=2e-3)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"acc": np.array([0.0, np.nan, 1.0])}, "acc"),
        ({"acc": np.zeros(0)}, "acc"),
        ({"acc": np.zeros(1)}, "acc"),
        ({"dt": 0.0}, "dt"),
        ({"dt": -0.01}, "dt"),
        ({"dt": float("nan")}, "dt"),
        ({"periods": [0.1, 0.0]}, "periods"),
        ({"periods": [-1.0]}, "periods"),
        ({"periods": []}, "periods"),
        ({"damping": 1.0}, "damping"),
        ({"damping": -0.01}, "damping"),
        ({"acc": [[0.0, 1.0, 2.0], [0.0, 1.0]]}, "acc"),
        ({"min_samples_per_period": 0}, "min_samples_per_period"),
        ({"min_samples_per_period": 2.5}, "min_samples_per_period"),
    ],
)
def test_bad_input_raises_input_error(kwargs: dict, field: str) -> None:
    args = {"acc": np.zeros(100), "dt": 0.01, "periods": [0.1], "damping": 0.05, **kwargs}
    with pytest.raises(InputError) as info:
        response_spectrum(**args)
    assert info.value.field == field


def test_cached_filter_coefficients_equal_the_computed_ones() -> None:
    """The per-oscillator cache returns the same (read-only) coefficients."""
    from gm_engine.ims.response import _filter_coefficients

    for period, dt in [(0.1, 0.0025), (1.0, 0.01), (3.0, 0.01)]:
        b, a = _filter_coefficients(period, dt, 0.05)
        b_ref, a_ref = sdof_filter_coefficients(period, dt, 0.05)
        assert np.array_equal(b, b_ref) and np.array_equal(a, a_ref)
        assert _filter_coefficients(period, dt, 0.05)[0] is b
        with pytest.raises(ValueError):
            b[0] = 1.0


@pytest.mark.parametrize("period, dt, length", [(0.1, 0.0025, 16427), (1.0, 0.01, 4199),
                                                (3.0, 0.01, 4399), (0.05, 0.01, 33)])
def test_float32_block_filter_matches_the_recursion(period: float, dt: float, length: int) -> None:
    """The blocked float32 filter equals the float64 recursion to float32 accuracy,
    for lengths that are not whole blocks and for stacked leading axes."""
    from gm_engine.ims.response import _sdof_filter, _sdof_filter_f32

    rng = np.random.default_rng(3)
    t = np.arange(length) * dt
    acc = (rng.standard_normal((2, 5, length)) * np.exp(-((t - t.mean()) / (0.2 * t[-1])) ** 2)
           ).astype(np.float32)
    ref = _sdof_filter(acc, dt, period, 0.05)
    got = _sdof_filter_f32(acc, dt, period, 0.05)
    assert got.dtype == np.float32 and got.shape == acc.shape
    scale = np.abs(ref).max(axis=-1, keepdims=True)
    assert (np.abs(got - ref) / scale).max() < 2e-5
    # A strided view (the oversampled copies are strides of the finest one).
    wide = np.repeat(acc, 2, axis=-1)[..., ::2]
    assert np.array_equal(_sdof_filter_f32(wide, dt, period, 0.05), got)


def test_float32_records_give_the_float64_spectrum() -> None:
    """compute_ims of float32 records (blocked float32 filter) agrees with the same
    records in float64 (sosfilt) to 1e-5."""
    from gm_engine.ims import compute_ims

    rng = np.random.default_rng(8)
    t = np.arange(4096) * 0.01
    acc = (0.1 * rng.standard_normal((6, 3, t.size)) * (t / 5) ** 2 * np.exp(-t / 5)
           ).astype(np.float32)
    ims = ["SA(0.05)", "SA(0.1)", "SA(0.3)", "SA(1.0)", "SA(3.0)", "PSV(2.0)"]
    got = compute_ims(acc, 0.01, ims, n_threads=1)
    ref = compute_ims(acc.astype(np.float64), 0.01, ims, n_threads=1)
    for im in got:
        assert_allclose(got[im], ref[im], rtol=1e-5)
