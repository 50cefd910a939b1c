"""compute_ims: the pipeline entry point, its horizontal definitions and its errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gm_engine.errors import Cancelled, InputError
from gm_engine.ims import (
    HORIZONTALS,
    arias_intensity,
    cav,
    compute_ims,
    mmi_worden2012,
    pga,
    pgv,
    response_spectrum,
    rotd,
    rotd_peaks,
    significant_duration,
    velocity_displacement,
)
from gm_engine.ims.rotation import ANGLES_DEG

DT = 0.01
ALL_IMS = [
    "PGA",
    "PGV",
    "PGD",
    "SA(0.3)",
    "SA(1.0)",
    "PSV(1.0)",
    "MMI",
    "IA",
    "CAV",
    "D5-75",
    "D5-95",
]


@pytest.fixture(scope="module")
def acc() -> np.ndarray:
    rng = np.random.default_rng(11)
    t = np.arange(2048) * DT
    env = (t / 3) ** 2 * np.exp(-t / 3)
    x = rng.standard_normal((5, 3, t.size)) * env * 0.05
    x[:, 1] += 0.4 * x[:, 0]  # correlated horizontals: orientation matters
    return x


def test_returns_one_array_per_canonical_name(acc: np.ndarray) -> None:
    res = compute_ims(acc, DT, ["pga", "sa(0.30)", "SA(1)", "psa(1.0)"])
    assert set(res) == {"PGA", "SA(0.3)", "SA(1.0)"}
    assert all(v.shape == (5,) and v.dtype == np.float64 for v in res.values())


@pytest.mark.parametrize("horizontal", HORIZONTALS)
def test_all_ims_all_horizontals_finite_and_positive(acc: np.ndarray, horizontal: str) -> None:
    res = compute_ims(acc.astype(np.float32), DT, ALL_IMS, horizontal=horizontal)
    for name in ALL_IMS:
        assert np.isfinite(res[name]).all() and (res[name] > 0).all(), name
    assert (res["D5-95"] > res["D5-75"]).all()


def test_rotd50_matches_per_measure_functions(acc: np.ndarray) -> None:
    res = compute_ims(acc, DT, ALL_IMS, horizontal="RotD50")
    h1, h2 = acc[:, 0], acc[:, 1]
    assert_allclose(res["PGA"], rotd_peaks(h1, h2, (50,))[50], rtol=1e-12)
    vel, _ = velocity_displacement(acc[:, :2], DT)
    assert_allclose(res["PGV"], rotd_peaks(vel[:, 0], vel[:, 1], (50,))[50], rtol=1e-12)
    sa = rotd(h1, h2, DT, [0.3, 1.0], percentiles=(50,))[50]
    assert_allclose(res["SA(0.3)"], sa[:, 0], rtol=1e-9)
    assert_allclose(res["SA(1.0)"], sa[:, 1], rtol=1e-9)
    # PSV = w * SD = PSA / w, PSA in g -> cm/s.
    assert_allclose(res["PSV(1.0)"], sa[:, 1] / (2 * math.pi) * 980.665, rtol=1e-9)
    assert_allclose(res["MMI"], mmi_worden2012(res["PGA"], res["PGV"]), rtol=1e-12)


def test_pgv_alone_equals_pgv_beside_pgd(acc: np.ndarray) -> None:
    """Without PGD the velocity skips the displacement (peaks.ground_velocity);
    float32 records' velocities are rotated in float32."""
    both = compute_ims(acc, DT, ["PGV", "PGD"])["PGV"]
    assert_allclose(compute_ims(acc, DT, ["PGV"])["PGV"], both, rtol=1e-10)
    assert_allclose(compute_ims(acc.astype(np.float32), DT, ["PGV"])["PGV"], both, rtol=1e-5)


def test_single_components_and_geomean(acc: np.ndarray) -> None:
    ims = ["PGA", "PGV", "SA(0.3)", "IA", "CAV", "D5-95"]
    h1 = compute_ims(acc, DT, ims, horizontal="H1")
    z = compute_ims(acc, DT, ims, horizontal="Z")
    gm = compute_ims(acc, DT, ims, horizontal="GeoMean")
    assert_allclose(h1["PGA"], pga(acc[:, 0]))
    assert_allclose(z["PGV"], pgv(acc[:, 2], DT))
    assert_allclose(z["SA(0.3)"], response_spectrum(acc[:, 2], DT, [0.3])[:, 0])
    assert_allclose(h1["IA"], arias_intensity(acc[:, 0], DT))
    assert_allclose(h1["CAV"], cav(acc[:, 0], DT))
    assert_allclose(z["D5-95"], significant_duration(acc[:, 2], DT, 0.05, 0.95))
    h2 = compute_ims(acc, DT, ims, horizontal="H2")
    for name in ("PGA", "PGV", "SA(0.3)", "IA", "CAV"):
        assert_allclose(gm[name], np.sqrt(h1[name] * h2[name]), rtol=1e-12)


def test_rotated_arias_and_cav_match_brute_force(acc: np.ndarray) -> None:
    res = compute_ims(acc, DT, ["IA", "CAV"], horizontal="RotD50")
    rad = np.deg2rad(ANGLES_DEG)
    rotated = acc[:, 0, None, :] * np.cos(rad)[:, None] + acc[:, 1, None, :] * np.sin(rad)[:, None]
    ia = np.stack([arias_intensity(r, DT) for r in rotated])
    cv = np.stack([cav(r, DT) for r in rotated])
    assert_allclose(res["IA"], np.percentile(ia, 50, axis=-1), rtol=1e-10)
    assert_allclose(res["CAV"], np.percentile(cv, 50, axis=-1), rtol=1e-6)


def test_two_component_duration_is_orientation_free(acc: np.ndarray) -> None:
    phi = math.radians(25)
    turned = acc.copy()
    turned[:, 0] = acc[:, 0] * math.cos(phi) + acc[:, 1] * math.sin(phi)
    turned[:, 1] = -acc[:, 0] * math.sin(phi) + acc[:, 1] * math.cos(phi)
    a = compute_ims(acc, DT, ["D5-75", "D5-95"])
    b = compute_ims(turned, DT, ["D5-75", "D5-95"])
    for name in a:
        assert_allclose(a[name], b[name], rtol=1e-9)


def test_rotd100_at_least_rotd50(acc: np.ndarray) -> None:
    ims = ["PGA", "PGV", "PGD", "SA(0.3)", "IA", "CAV"]
    r50 = compute_ims(acc, DT, ims, horizontal="RotD50")
    r100 = compute_ims(acc, DT, ims, horizontal="rotd100")
    for name in ims:
        assert (r100[name] >= r50[name]).all(), name


def test_chunking_does_not_change_results(acc: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    import gm_engine.ims.compute as compute

    ims = [*ALL_IMS, "SA(0.1)"]
    whole = compute_ims(acc, DT, ims)
    # 2 records per chunk: SA(0.1) at dt = 0.01 s is oversampled twice (16 samples/period).
    monkeypatch.setattr(compute, "_CHUNK_SAMPLES", 2 * 2 * acc.shape[-1])
    seen: list[float] = []
    chunked = compute_ims(acc, DT, ims, progress=lambda f, _: seen.append(f))
    for name in ims:
        assert_allclose(chunked[name], whole[name], rtol=1e-12)
    assert seen == pytest.approx([0.4, 0.8, 1.0])


def test_cancel_flag_stops(acc: np.ndarray) -> None:
    with pytest.raises(Cancelled):
        compute_ims(acc, DT, ["PGA"], is_cancelled=lambda: True)


@pytest.mark.parametrize(
    ("acc_in", "dt", "ims", "horizontal", "field", "words"),
    [
        (np.zeros((2, 3, 0)), DT, ["PGA"], "RotD50", "acc", "sample"),
        (np.zeros((0, 3, 100)), DT, ["PGA"], "RotD50", "acc", "no records"),
        (np.zeros((2, 2, 100)), DT, ["PGA"], "RotD50", "acc", "(n_records, 3, n_samples)"),
        (np.zeros((3, 100)), DT, ["PGA"], "RotD50", "acc", "(n_records, 3, n_samples)"),
        (np.full((2, 3, 100), np.nan), DT, ["PGA"], "RotD50", "acc", "NaN"),
        (np.zeros((2, 3, 100)), 0.0, ["PGA"], "RotD50", "dt", "positive"),
        (np.zeros((2, 3, 100)), -1.0, ["PGA"], "RotD50", "dt", "positive"),
        (np.zeros((2, 3, 100)), DT, ["SA(0)"], "RotD50", "ims", "positive"),
        (np.zeros((2, 3, 100)), DT, ["SA(-0.3)"], "RotD50", "ims", "positive"),
        (np.zeros((2, 3, 100)), DT, ["SA"], "RotD50", "ims", "period"),
        (np.zeros((2, 3, 100)), DT, ["PGX"], "RotD50", "ims", "unknown"),
        (np.zeros((2, 3, 100)), DT, [], "RotD50", "ims", "no intensity"),
        (np.zeros((2, 3, 100)), DT, ["PGA"], "RotD120", "horizontal", "unknown"),
        (np.zeros((2, 3, 100)), DT, ["PGA"], "max", "horizontal", "unknown"),
    ],
)
def test_bad_input_names_the_problem(acc_in, dt, ims, horizontal, field, words) -> None:
    with pytest.raises(InputError) as info:
        compute_ims(acc_in, dt, ims, horizontal=horizontal)
    assert info.value.field == field
    assert words in str(info.value)


def test_ragged_components_are_rejected() -> None:
    ragged = [[np.zeros(100), np.zeros(100), np.zeros(99)]]
    with pytest.raises(InputError, match="different lengths") as info:
        compute_ims(ragged, DT, ["PGA"])
    assert info.value.field == "acc"


def test_zero_record_gives_zeros_and_mmi_floor() -> None:
    res = compute_ims(np.zeros((2, 3, 200)), DT, ["PGA", "SA(1.0)", "MMI", "IA", "D5-95"])
    assert (res["PGA"] == 0).all() and (res["SA(1.0)"] == 0).all() and (res["IA"] == 0).all()
    assert (res["MMI"] == 1.0).all()
    assert np.isfinite(res["D5-95"]).all()


def test_threads_give_identical_results(acc: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    import gm_engine.ims.compute as compute

    monkeypatch.setattr(compute, "_CHUNK_SAMPLES", acc.shape[-1])  # one record per chunk
    serial = compute_ims(acc, DT, ALL_IMS, n_threads=1)
    threaded = compute_ims(acc, DT, ALL_IMS, n_threads=3)
    for name in ALL_IMS:
        assert_allclose(threaded[name], serial[name], rtol=0, atol=0)
    with pytest.raises(InputError) as info:
        compute_ims(acc, DT, ["PGA"], n_threads=0)
    assert info.value.field == "n_threads"
