"""The sampler's conditional mean correction (gm_engine.generator.calibration)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from engine_helpers import make_tiny_model_card

from gm_engine.errors import InputError
from gm_engine.generator import load_model
from gm_engine.generator.calibration import (
    active_design,
    bspline_basis,
    bspline_basis_torch,
    design_matrix,
    design_torch,
    energy_level,
    fit_mean_correction,
    mean_shift,
    mean_shift_torch,
    possible_columns,
    spline_design,
)


def _conditions(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"magnitude": rng.uniform(5.5, 7.0, n), "rrup_km": rng.uniform(5, 80, n),
                         "vs30": rng.uniform(300, 700, n), "ztor_km": rng.uniform(0, 5, n),
                         "mechanism": rng.choice(["SS", "NM", "RV"], n)})


def test_bspline_basis_equals_scipy():
    from scipy.interpolate import BSpline

    x = np.r_[-1.0, 1.0, 0.3, -0.5, np.random.default_rng(0).uniform(-1, 1, 500)]
    interior = [-0.6, -0.1, 0.35, 0.8]
    knots = np.r_[[-1.0] * 4, interior, [1.0] * 4]
    ref = np.stack([BSpline(knots, np.eye(len(knots) - 4)[i], 3)(x) for i in range(len(knots) - 4)], 1)
    got = bspline_basis(x, interior)
    assert got.shape == (len(x), 8)
    assert np.abs(got - ref).max() < 1e-12
    assert np.allclose(got.sum(axis=1), 1.0)  # partition of unity: the terms hold the intercept
    assert np.array_equal(bspline_basis(np.array([1.7, -3.0]), interior), got[[1, 0]])  # clamped


def _bspline_by_loops(x, interior, degree=3, lo=-1.0, hi=1.0):
    """Cox-de Boor one function at a time: the implementation bspline_basis replaced."""
    t = np.r_[[lo] * (degree + 1), np.asarray(interior, dtype=np.float64), [hi] * (degree + 1)]
    x = np.clip(np.asarray(x, dtype=np.float64), lo, hi)
    b = ((x[:, None] >= t[None, :-1]) & (x[:, None] < t[None, 1:])).astype(np.float64)
    b[x >= hi, np.nonzero(t[:-1] < t[1:])[0][-1]] = 1.0
    for d in range(1, degree + 1):
        nxt = np.zeros((len(x), len(t) - 1 - d))
        for i in range(len(t) - 1 - d):
            if t[i + d] > t[i]:
                nxt[:, i] += (x - t[i]) / (t[i + d] - t[i]) * b[:, i]
            if t[i + d + 1] > t[i + 1]:
                nxt[:, i] += (t[i + d + 1] - x) / (t[i + d + 1] - t[i + 1]) * b[:, i + 1]
        b = nxt
    return b


@pytest.mark.parametrize("interior", [[-0.6, -0.1, 0.35, 0.8], [], [0.0], [-0.5, -0.5, 0.2]])
def test_bspline_basis_has_the_bits_of_the_loop_over_functions(interior):
    x = np.r_[-1.0, 1.0, 0.0, -0.5, 0.2, 1.5, np.random.default_rng(2).uniform(-1, 1, 300)]
    for degree in (1, 2, 3):
        assert np.array_equal(bspline_basis(x, interior, degree),
                              _bspline_by_loops(x, interior, degree))


def test_design_terms_and_rrup_knots(tmp_path):
    gen = load_model(str(make_tiny_model_card(tmp_path / "m")), "cpu")
    design = spline_design(gen.card)
    names = [[f["condition"] for f in t] for t in design["terms"]]
    assert names == [["ln_rrup", "magnitude"], ["ln_rrup", "ln_vs30"], ["magnitude", "ln_vs30"],
                     ["ztor"], ["mechanism"], ["mechanism", "magnitude"],
                     ["mechanism", "ln_rrup"]]
    other = spline_design(gen.card, ((("ztor", 2),), (("mechanism", 0),)))
    # conditions no term names enter alone, with OTHER_INTERVALS (3) knot intervals
    assert [[f["condition"] for f in t] for t in other["terms"]] == [
        ["ztor"], ["mechanism"], ["magnitude"], ["ln_rrup"], ["ln_vs30"]]
    assert design_matrix(gen.card.features(_conditions(5)), other).shape == (5, 5 + 2 + 3 * 6)
    assert design["terms"][4][0]["indicator_columns"] == [5, 6]  # NM, RV; SS is the reference
    spec = next(s for s in gen.card.conditions if s.name == "ln_rrup")
    knots = np.asarray(design["terms"][0][0]["interior_knots"])
    lo, hi = np.log(spec.min), np.log(spec.max)
    rrup = np.exp(lo + (knots + 1) / 2 * (hi - lo))
    # uniform in ln(1 + Rrup / 1 km) between the trained limits
    u = np.log1p(np.r_[spec.min, rrup, spec.max])
    assert np.allclose(np.diff(u), np.diff(u)[0])
    feats = gen.card.features(_conditions(7))
    basis = design_matrix(feats, design)
    assert basis.shape == (7, 11 * 8 + 6 * 6 + 6 * 6 + 5 + 2 + 2 * 6 + 2 * 6)


@pytest.mark.parametrize("shared", [False, True])
def test_active_design_is_the_non_zero_columns_of_the_full_basis(tmp_path, shared):
    """Bit for bit, with varied conditions and with a run's shared M, mechanism, Ztor."""
    gen = load_model(str(make_tiny_model_card(tmp_path / "m")), "cpu")
    cond = _conditions(300, seed=3)
    if shared:
        cond = cond.assign(magnitude=6.3, mechanism="RV", ztor_km=1.0)
    feats = gen.card.features(cond)
    design = spline_design(gen.card)
    full = design_matrix(feats, design)
    cols, basis = active_design(feats, design)
    expected = np.flatnonzero((full != 0.0).any(axis=0))
    assert np.array_equal(cols, expected) and np.array_equal(basis, full[:, expected])
    if shared:  # most tensor products vanish on every row
        assert len(cols) < 0.6 * full.shape[1]
    one_cols, one = active_design(feats[7:8], design)  # a row alone: its own non-zeros
    assert np.array_equal(one, full[7:8, one_cols]) and np.all(np.delete(full[7], one_cols) == 0)


@pytest.mark.parametrize("shared", [False, True])
def test_device_basis_has_numpys_bits_and_the_possible_columns_cover_it(tmp_path, shared):
    """The GPU path builds the basis with torch (same operations, so the same bits, here
    on the CPU) and sums over the columns the features' ranges allow: a superset of
    the non-zero ones."""
    gen = load_model(str(make_tiny_model_card(tmp_path / "m")), "cpu")
    cond = _conditions(300, seed=4)
    if shared:
        cond = cond.assign(magnitude=6.3, mechanism="RV", ztor_km=1.0)
    feats = gen.card.features(cond)
    if not shared:
        feats[:2] = np.sign(feats[:2])  # rows on the range's ends
    design = spline_design(gen.card)
    full = design_matrix(feats, design)
    got = design_torch(torch.from_numpy(feats), design).numpy()
    assert np.array_equal(got, full) and np.array_equal(np.signbit(got), np.signbit(full))
    possible = possible_columns(feats, design)
    assert set(active_design(feats, design)[0]) <= set(possible)
    assert np.all(np.diff(possible) > 0)
    x = np.array([-2.0, -1.0, -1.0 + 1e-16, -0.35, 0.0, 0.35, 1.0 - 1e-16, 1.0, 3.0])
    for interior in ([], [0.0], [-0.6, -0.1, 0.35, 0.8]):
        assert np.array_equal(bspline_basis_torch(torch.from_numpy(x), interior).numpy(),
                              bspline_basis(x, interior))


def test_energy_level_is_the_log_rms_over_frames():
    la = torch.full((2, 3, 4, 10), -2.0)
    assert np.allclose(energy_level(la), -2.0)
    la[0, 0, 0, :5] = 0.0  # half the frames at 1, half at 0.01
    expected = 0.5 * np.log10((1.0 + 1e-4) / 2)
    assert np.isclose(energy_level(la)[0, 0, 0], expected)


def test_fit_recovers_a_known_conditional_shift():
    rng = np.random.default_rng(1)
    n, c, k = 6000, 3, 5
    feats = np.concatenate([rng.uniform(-1, 1, (n, 4)), np.eye(3)[rng.integers(0, 3, n)]], axis=1)
    design = {"basis": "bspline", "spline_degree": 3,
              "terms": [[{"column": 1, "interior_knots": [-0.5, 0.0, 0.5]},
                         {"column": 0, "interior_knots": [0.0]}],
                        [{"column": 2, "interior_knots": [0.0]}],
                        [{"column": 3, "interior_knots": []}],
                        [{"indicator_columns": [5, 6]}]]}
    x0, x1, x2, x3 = feats[:, :4].T
    truth = (0.1 + 0.3 * np.sin(3 * x1) * (1 + x0) - 0.2 * x2 ** 2 + 0.05 * x3
             + 0.05 * feats[:, 6])
    synth = rng.normal(-2.0, 0.3, (n, c, k))
    rec = synth + truth[:, None, None] + rng.normal(0, 0.1, (n, c, k))
    corr = fit_mean_correction(rec, synth, feats, design, ridge=1e-7)
    got = mean_shift(corr, feats)
    assert got.shape == (n, c, k)
    err = got - truth[:, None, None]  # truth spans about -0.6..+0.8
    assert np.sqrt((err ** 2).mean()) < 0.02 and np.abs(err).max() < 0.1
    json.dumps(corr)  # fits in a model card


def test_a_polynomial_correction_of_an_older_card_is_refused():
    with pytest.raises(InputError, match="recalibrate"):
        mean_shift({"degree": 3, "numeric_columns": [0], "coef_log10": [[[0.0]]]},
                   np.zeros((1, 1)))


def test_generator_applies_the_correction_row_by_row(tmp_path):
    card_path = make_tiny_model_card(tmp_path / "m")
    cond = _conditions(5)
    plain = load_model(str(card_path), "cpu")
    base = plain.generate_independent(cond, seed=4)
    d = json.loads(card_path.read_text())
    design = spline_design(plain.card)
    n_terms = design_matrix(plain.card.features(cond), design).shape[1]
    coef = np.zeros((n_terms, 3, plain.envelope.n_bands))
    coef[:11 * 8] = np.log10(2.0)  # a uniform x2 in amplitude: the first term's splines sum to 1
    d["decoder"]["mean_correction"] = {**design, "coef_log10": coef.tolist()}
    card_path.write_text(json.dumps(d))
    gen = load_model(str(card_path), "cpu")
    doubled = gen.generate_independent(cond, seed=4)
    # x2 in amplitude up to the envelope's own floor and rounding
    assert np.abs(doubled - 2.0 * base).max() < 1e-3 * np.abs(base).max()
    assert np.median(doubled[base != 0] / base[base != 0]) == pytest.approx(2.0, rel=1e-3)
    # one site alone equals the same site in a batch of five
    shp = gen.latent_shape
    rng = np.random.default_rng(0)
    ev = rng.standard_normal((2, *shp.event)).astype(np.float32)
    si = rng.standard_normal((5, 2, *shp.site)).astype(np.float32)
    batch = gen.generate(cond, ev, si, seed=9)
    alone = gen.generate(cond.iloc[[3]].reset_index(drop=True), ev, si[[3]], seed=9,
                         site_ids=np.array([3]))
    assert np.array_equal(batch[3], alone[0])


def test_mean_shift_sums_every_term_in_order(tmp_path):
    """Skipping the basis columns that are zero on every row (and the coefficients
    as an array, as the generator holds them) gives the plain loop's bits."""
    card_path = make_tiny_model_card(tmp_path / "m")
    gen = load_model(str(card_path), "cpu")
    design = spline_design(gen.card)
    cond = _conditions(40, seed=3)
    cond["magnitude"] = 6.1  # shared, as in a run: many zero columns
    feats = gen.card.features(cond)
    basis = design_matrix(feats, design)
    coef = np.random.default_rng(5).standard_normal((basis.shape[1], 3, 4))
    ref = np.zeros((len(feats), 3, 4))
    for p in range(basis.shape[1]):
        ref += basis[:, p, None, None] * coef[p]
    assert (basis == 0).all(axis=0).any()
    for c in (coef, coef.tolist()):
        got = mean_shift({**design, "coef_log10": c}, feats)
        assert np.array_equal(got, ref)
    # the GPU's form: the same sums as tensors, the same bits
    on_device = mean_shift_torch({**design, "coef_log10": coef}, feats, torch.from_numpy(coef))
    assert on_device.dtype == torch.float64
    assert np.array_equal(on_device.numpy(), ref)
