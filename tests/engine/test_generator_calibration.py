"""The sampler's conditional mean correction (gm_engine.generator.calibration)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from engine_helpers import make_tiny_model_card

from gm_engine.generator import load_model
from gm_engine.generator.calibration import (
    energy_level,
    fit_mean_correction,
    mean_shift,
    numeric_columns,
    polynomial_basis,
)


def _conditions(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"magnitude": rng.uniform(5.5, 7.0, n), "rrup_km": rng.uniform(5, 80, n),
                         "vs30": rng.uniform(300, 700, n), "ztor_km": rng.uniform(0, 5, n),
                         "mechanism": rng.choice(["SS", "NM", "RV"], n)})


def test_basis_terms_and_values():
    feats = np.array([[0.5, -1.0, 2.0, 0.0, 0.0, 1.0, 0.0]])  # 4 numeric + SS/NM/RV indicators
    b = polynomial_basis(feats, [0, 1, 2, 3])
    assert b.shape == (1, 1 + 4 + 10 + 20 + 2)
    assert b[0, 0] == 1.0 and b[0, 1] == 0.5 and b[0, 3] == 2.0
    assert b[0, 5] == 0.25 and b[0, 6] == -0.5  # x0^2, x0 x1
    assert list(b[0, -2:]) == [1.0, 0.0]  # NM, RV indicators; SS is the intercept's
    b = polynomial_basis(feats, [0, 1, 2], 3, [3])
    assert b.shape == (1, 1 + 3 + 6 + 10 + 1 + 2) and b[0, -3] == 0.0  # Ztor, linear


def test_energy_level_is_the_log_rms_over_frames():
    la = torch.full((2, 3, 4, 10), -2.0)
    assert np.allclose(energy_level(la), -2.0)
    la[0, 0, 0, :5] = 0.0  # half the frames at 1, half at 0.01
    expected = 0.5 * np.log10((1.0 + 1e-4) / 2)
    assert np.isclose(energy_level(la)[0, 0, 0], expected)


def test_fit_recovers_a_known_conditional_shift():
    rng = np.random.default_rng(1)
    n, c, k, m = 4000, 3, 5, 6
    feats = np.concatenate([rng.uniform(-1, 1, (n, 4)), np.eye(3)[rng.integers(0, 3, n)]], axis=1)
    truth = 0.1 + 0.3 * feats[:, 1] - 0.2 * feats[:, 0] * feats[:, 2] ** 2 + 0.05 * feats[:, 6]
    synth = torch.from_numpy(rng.normal(-2.0, 0.3, (n, c, k, m)))
    rec = synth + torch.from_numpy(truth)[:, None, None, None] \
        + torch.from_numpy(rng.normal(0, 0.1, (n, c, k, 1)))
    corr = fit_mean_correction(rec, synth, feats, [0, 1, 2, 3], ridge=1e-6)
    got = mean_shift(corr, feats)
    assert got.shape == (n, c, k)
    err = got - truth[:, None, None]  # truth spans about -0.5..+0.6
    assert np.sqrt((err ** 2).mean()) < 0.02 and np.abs(err).max() < 0.1
    json.dumps(corr)  # fits in a model card


def test_generator_applies_the_correction_row_by_row(tmp_path):
    card_path = make_tiny_model_card(tmp_path / "m")
    cond = _conditions(5)
    plain = load_model(str(card_path), "cpu")
    base = plain.generate_independent(cond, seed=4)
    d = json.loads(card_path.read_text())
    poly, lin = numeric_columns(plain.card)
    assert (poly, lin) == ([0, 1, 2], [3])  # magnitude, ln Rrup, ln Vs30 cubic; Ztor linear
    n_terms = polynomial_basis(plain.card.features(cond), poly, 3, lin).shape[1]
    coef = np.zeros((n_terms, 3, plain.envelope.n_bands))
    coef[0] = np.log10(2.0)  # a uniform x2 in amplitude
    d["decoder"]["mean_correction"] = {"degree": 3, "numeric_columns": poly, "linear_columns": lin,
                                       "coef_log10": coef.tolist()}
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
