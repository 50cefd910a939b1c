"""Names, peaks, integration, Fourier spectra, energy measures and MMI against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gm_engine.errors import InputError
from gm_engine.ims import (
    IM_UNITS,
    arias_intensity,
    cav,
    fourier_amplitude,
    ground_velocity,
    husid,
    im_name,
    konno_ohmachi_smooth,
    mmi_from_pga_worden2012,
    mmi_from_pgv_worden2012,
    mmi_worden2012,
    parse_im,
    pga,
    pgd,
    pgv,
    significant_duration,
    velocity_displacement,
)
from gm_engine.ims.response import peak_abs

G = 9.80665


# --- names -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "period", "name"),
    [
        ("PGA", "PGA", None, "PGA"),
        (" pgv ", "PGV", None, "PGV"),
        ("SA(0.3)", "SA", 0.3, "SA(0.3)"),
        ("sa(1)", "SA", 1.0, "SA(1.0)"),
        ("PSA(0.30)", "SA", 0.3, "SA(0.3)"),
        ("PSV(2.0)", "PSV", 2.0, "PSV(2.0)"),
        ("d5-95", "D5-95", None, "D5-95"),
        ("Arias", "IA", None, "IA"),
        ("MMI", "MMI", None, "MMI"),
    ],
)
def test_parse_im(text: str, kind: str, period: float | None, name: str) -> None:
    spec = parse_im(text)
    assert (spec.kind, spec.period, spec.name) == (kind, period, name)


def test_im_name_round_trips() -> None:
    assert im_name("SA", 1.0) == "SA(1.0)"
    assert im_name("SA", 0.3) == "SA(0.3)"
    assert im_name("pga") == "PGA"
    for t in (0.01, 0.075, 1 / 3, 10.0):
        assert parse_im(im_name("SA", t)).period == t


def test_units_cover_every_kind() -> None:
    assert IM_UNITS["PGA"] == IM_UNITS["SA"] == "g"
    assert IM_UNITS["PGV"] == IM_UNITS["PSV"] == "cm/s"
    assert IM_UNITS["PGD"] == "cm" and IM_UNITS["IA"] == "m/s" and IM_UNITS["CAV"] == "g*s"
    assert IM_UNITS["D5-75"] == IM_UNITS["D5-95"] == "s" and IM_UNITS["MMI"] == ""
    assert parse_im("SA(0.2)").units == "g"


@pytest.mark.parametrize(
    "bad", ["", "SA", "SA()", "SA(abc)", "SA(0)", "SA(-1)", "SA(nan)", "PGA(1.0)", "XYZ"]
)
def test_parse_im_rejects(bad: str) -> None:
    with pytest.raises(InputError) as info:
        parse_im(bad)
    assert info.value.field == "ims"


# --- peaks and integration ---------------------------------------------------


def test_pgv_pgd_of_an_analytic_pulse() -> None:
    """Displacement d = D (1 - 2 s^2) exp(-s^2), s = (t - t0) / w (zero net offset):
    its exact derivatives give acceleration; PGV and PGD must come back."""
    dt, d_cm, w, t0 = 0.005, 12.0, 0.8, 15.0
    t = np.arange(int(40 / dt)) * dt
    s = (t - t0) / w
    disp = d_cm * (1 - 2 * s**2) * np.exp(-(s**2))
    vel = d_cm / w * (4 * s**3 - 6 * s) * np.exp(-(s**2))
    acc_cms2 = d_cm / w**2 * (-8 * s**4 + 24 * s**2 - 6) * np.exp(-(s**2))
    acc_g = acc_cms2 / 980.665
    assert pgv(acc_g, dt) == pytest.approx(np.abs(vel).max(), rel=0.01)
    assert pgd(acc_g, dt) == pytest.approx(np.abs(disp).max(), rel=0.02)
    assert pga(acc_g) == pytest.approx(np.abs(acc_g).max())


def test_baseline_removes_an_acceleration_offset() -> None:
    """A 1 mg offset would drift 2 m in 20 s; the baseline removes it."""
    dt = 0.01
    t = np.arange(2000) * dt
    pulse = 0.05 * np.sin(2 * math.pi * t) * np.exp(-(((t - 8) / 1.5) ** 2))
    _raw_v, raw_d = velocity_displacement(pulse + 0.001, dt, baseline=False)
    v, d = velocity_displacement(pulse + 0.001, dt)
    ref_v, ref_d = velocity_displacement(pulse, dt)
    assert np.abs(raw_d).max() > 100 * np.abs(ref_d).max()
    assert np.abs(v).max() == pytest.approx(np.abs(ref_v).max(), rel=0.05)
    assert np.abs(d).max() == pytest.approx(np.abs(ref_d).max(), rel=0.1)
    assert v[0] == 0.0 and d[0] == 0.0


def test_ground_velocity_is_velocity_displacements_velocity() -> None:
    """The baseline coefficients taken from the velocity equal those of the displacement."""
    rng = np.random.default_rng(4)
    acc = rng.standard_normal((6, 3000)) * np.hanning(3000) * 0.1 + 0.002
    vel, _ = velocity_displacement(acc, 0.01)
    fast = ground_velocity(acc, 0.01)
    assert np.abs(fast - vel).max() <= 1e-11 * np.abs(vel).max()
    assert fast[:, 0].tolist() == [0.0] * 6
    short = acc[:, :6]  # too short for the baseline: the raw integral in both
    assert_allclose(ground_velocity(short, 0.01), velocity_displacement(short, 0.01)[0])


def test_parabolic_peak_refinement() -> None:
    t = np.arange(-20, 20) * 0.1
    y = np.cos(2 * math.pi * (t - 0.05) / 1.4)  # 14 samples per period, peak between two
    assert peak_abs(y, refine=False) == pytest.approx(math.cos(2 * math.pi * 0.05 / 1.4))
    assert peak_abs(y, refine=True) == pytest.approx(1.0, abs=2e-3)


# --- Fourier -----------------------------------------------------------------


def test_fourier_amplitude_of_a_sine() -> None:
    """|FFT| dt of A sin over a whole number of cycles is A T_total / 2 at its frequency."""
    dt, n = 0.01, 1000
    t = np.arange(n) * dt
    freqs, amps = fourier_amplitude(0.2 * np.sin(2 * math.pi * 5.0 * t), dt)
    k = int(np.argmax(amps))
    assert freqs[k] == pytest.approx(5.0)
    assert amps[k] == pytest.approx(0.2 * n * dt / 2, rel=1e-9)
    assert freqs.shape == (n // 2 + 1,)


def test_konno_ohmachi_keeps_flat_spectrum_flat() -> None:
    freqs = np.linspace(0, 50, 1001)
    smooth = konno_ohmachi_smooth(freqs, np.full((2, freqs.size), 3.0), b=40)
    assert_allclose(smooth[:, 1:], 3.0, rtol=1e-12)


def test_konno_ohmachi_matches_obspy() -> None:
    ko = pytest.importorskip("obspy.signal.konnoohmachismoothing")
    rng = np.random.default_rng(0)
    freqs = np.linspace(0, 50, 513)
    amps = np.abs(rng.standard_normal((2, freqs.size))) + 0.1
    # obspy 1.5.1's default matrix path applies the transposed window matrix
    # (np.dot(spectra, W) with W's rows being the windows); its window-by-window
    # path is the Konno & Ohmachi (1998) definition, so compare with that.
    ref = ko.konno_ohmachi_smoothing(
        amps, freqs, bandwidth=40, normalize=True, enforce_no_matrix=True
    )
    assert_allclose(konno_ohmachi_smooth(freqs, amps, b=40), ref, rtol=1e-6)
    # Chosen centre frequencies are the same windows evaluated there.
    got = konno_ohmachi_smooth(freqs, amps, b=40, center_freqs=freqs[100:110])
    assert_allclose(got, ref[:, 100:110], rtol=1e-12)


def test_konno_ohmachi_errors() -> None:
    with pytest.raises(InputError) as info:
        konno_ohmachi_smooth(np.linspace(0, 1, 10), np.ones(11))
    assert info.value.field == "amps"
    with pytest.raises(InputError) as info:
        konno_ohmachi_smooth(np.linspace(0, 1, 10), np.ones(10), b=0)
    assert info.value.field == "b"


# --- energy measures -----------------------------------------------------------


def test_arias_cav_of_a_sine() -> None:
    """A sin(W t) over n whole cycles: int a^2 = A^2 T / 2, int |a| = 2 A T / pi."""
    dt = 0.001
    t = np.arange(10001) * dt  # 10 s, 10 whole cycles at 1 Hz
    a = 0.3 * np.sin(2 * math.pi * t)
    assert arias_intensity(a, dt) == pytest.approx(math.pi * G / 2 * 0.09 * 10 / 2, rel=1e-5)
    assert cav(a, dt) == pytest.approx(2 * 0.3 * 10 / math.pi, rel=1e-5)


def test_significant_duration_of_a_box() -> None:
    """Constant |a| between 2 s and 12 s: the Husid plot is a ramp, so D5-95 = 0.9 x 10 s
    and D5-75 = 0.7 x 10 s."""
    dt = 0.01
    t = np.arange(2000) * dt
    a = np.where((t >= 2) & (t < 12), 0.1 * np.sign(np.sin(2 * math.pi * 3.3 * t) + 1e-9), 0.0)
    assert significant_duration(a, dt, 0.05, 0.95) == pytest.approx(9.0, abs=0.02)
    assert significant_duration(a, dt, 0.05, 0.75) == pytest.approx(7.0, abs=0.02)
    h = husid(a, dt)
    assert h[0] == 0.0 and h[-1] == pytest.approx(1.0) and (np.diff(h) >= 0).all()
    with pytest.raises(InputError):
        significant_duration(a, dt, 0.9, 0.1)


# --- MMI -----------------------------------------------------------------------


def test_mmi_worden2012_table1_values() -> None:
    """Worden et al. (2012) Eq. 3, Table 1, evaluated by hand."""
    # PGA = 0.01 g = 9.80665 cm/s^2: log10 = 0.99150 <= 1.57 -> 1.78 + 1.55 * 0.99150
    assert mmi_from_pga_worden2012(0.01) == pytest.approx(1.78 + 1.55 * math.log10(9.80665))
    # PGA = 0.3 g: log10(294.2) = 2.4687 > 1.57 -> -1.60 + 3.70 * 2.4687
    assert mmi_from_pga_worden2012(0.3) == pytest.approx(-1.60 + 3.70 * math.log10(0.3 * 980.665))
    # PGV = 2 cm/s: log10 = 0.30103 <= 0.53 -> 3.78 + 1.47 * 0.30103
    assert mmi_from_pgv_worden2012(2.0) == pytest.approx(3.78 + 1.47 * math.log10(2.0))
    # PGV = 50 cm/s: 2.89 + 3.16 * log10(50)
    assert mmi_from_pgv_worden2012(50.0) == pytest.approx(2.89 + 3.16 * math.log10(50.0))
    # Continuity of the bilinear segments near t1 (both within 0.01 MMI).
    y = 10**1.57 / 980.665
    assert mmi_from_pga_worden2012(y * 0.999) == pytest.approx(
        mmi_from_pga_worden2012(y * 1.001), abs=0.02
    )


def test_mmi_combination_rule() -> None:
    pga_g = np.array([0.005, 0.3, 2.0, 0.08])
    pgv_cms = np.array([0.3, 30.0, 200.0, 8.0])
    m_a = mmi_from_pga_worden2012(pga_g)
    m_v = mmi_from_pgv_worden2012(pgv_cms)
    got = mmi_worden2012(pga_g, pgv_cms)
    assert got[0] == pytest.approx(m_a[0])  # below V: PGA only
    assert m_a[1] >= 7 and got[1] == pytest.approx(m_v[1])  # above VII: PGV only
    assert got[2] == 10.0  # clipped
    w = (m_a[3] - 5) / 2
    assert 0 < w < 1 and got[3] == pytest.approx((1 - w) * m_a[3] + w * m_v[3])
    assert mmi_worden2012(0.0, 0.0) == 1.0
    with pytest.raises(InputError):
        mmi_worden2012(np.array([0.1, 0.2]), np.array([1.0]))
    with pytest.raises(InputError):
        mmi_worden2012(-0.1, 1.0)


def test_matmul_one_thread_equals_matmul() -> None:
    """Row blocks below BLAS's threading threshold give the product of one call."""
    from gm_engine.ims.peaks import BLAS_ONE_THREAD_MNK, matmul_one_thread

    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 37, 4096))
    b = rng.standard_normal((4096, 5))
    assert BLAS_ONE_THREAD_MNK // (4096 * 5) < 37  # several blocks
    np.testing.assert_allclose(matmul_one_thread(a, b), a @ b, rtol=1e-12, atol=1e-12)
    c = rng.standard_normal((3, 5))
    np.testing.assert_allclose(matmul_one_thread(c, b.T), c @ b.T, rtol=1e-12, atol=1e-12)
