"""Jayaram & Baker (2009) spatial and Baker & Jayaram (2008) inter-period correlation."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from gm_engine.correlation import (
    baker_jayaram_2008,
    correlated_normal_field,
    jayaram_baker_2009_range,
    spatial_correlation,
)
from gm_engine.errors import InputError


@pytest.mark.parametrize(
    ("period", "clustered", "expected_km"),
    [  # hand-evaluated from the JB09 range equations
        (0.0, False, 8.5), (0.5, False, 17.1), (0.99, False, 25.528),
        (1.0, False, 25.7), (5.0, False, 40.5), (10.0, True, 59.0),
        (0.0, True, 40.7), (0.5, True, 33.2),
    ],
)
def test_jb09_range(period, clustered, expected_km):
    assert_allclose(jayaram_baker_2009_range([period], clustered)[0], expected_km, rtol=1e-12)


def test_spatial_correlation_is_exponential():
    assert_allclose(spatial_correlation(np.array([0.0, 8.5 / 3.0]), 0.0), [1.0, np.exp(-1.0)])


def test_bj08_matches_pygmm_peer():
    from pygmm.baker_jayaram_2008 import calc_correls

    periods = np.array([0.01, 0.05, 0.1, 0.15, 0.3, 1.0, 3.0, 10.0])
    ours = baker_jayaram_2008(periods)
    for j, t in enumerate(periods):
        assert_allclose(ours[:, j], calc_correls(periods, t), atol=1e-10)
    assert np.all(np.linalg.eigvalsh(ours) > 0)


@pytest.mark.parametrize("method", ["exact", "fourier"])
def test_field_reproduces_spatial_correlation(method):
    # Three sites at 0, 5 and 20 km; many independent realizations.
    xy = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 20.0]])
    rng = np.random.default_rng(1)
    draws = np.stack([correlated_normal_field(xy, [1.0], rng, method=method, n_features=512)[:, 0]
                      for _ in range(1500)])
    emp = np.corrcoef(draws.T)
    b = 25.7
    assert_allclose(draws.std(axis=0), 1.0, atol=0.08)
    assert_allclose(emp[0, 1], np.exp(-3 * 5 / b), atol=0.07)
    assert_allclose(emp[0, 2], np.exp(-3 * 20 / b), atol=0.07)


def test_field_inter_period_correlation_at_one_site():
    xy = np.zeros((1, 2))
    periods = [0.1, 0.3, 1.0]
    rng = np.random.default_rng(2)
    draws = np.concatenate([correlated_normal_field(xy, periods, rng) for _ in range(3000)])
    assert_allclose(np.corrcoef(draws.T), baker_jayaram_2008(periods), atol=0.05)


def test_field_is_deterministic_and_uses_fourier_for_many_sites():
    xy = np.random.default_rng(0).uniform(0, 100, (2500, 2))
    a = correlated_normal_field(xy, [0.0, 1.0], np.random.default_rng(5))
    b = correlated_normal_field(xy, [0.0, 1.0], np.random.default_rng(5))
    assert a.shape == (2500, 2)
    assert_allclose(a, b)
    assert abs(a.std() - 1.0) < 0.3  # one realization of a correlated field


def test_factor_cache_gives_the_same_fields_and_factors_once(monkeypatch) -> None:
    """Realizations sharing a cache draw what they draw without it; each range is
    factored once; other sites are never served a stale factor."""
    import gm_engine.correlation as corr

    xy = np.random.default_rng(1).uniform(0, 50, (300, 2))
    periods = [0.0, 0.1, 1.0]
    plain_rng, cached_rng = np.random.default_rng(9), np.random.default_rng(9)
    plain = [correlated_normal_field(xy, periods, plain_rng) for _ in range(3)]
    calls = []
    real = corr._exact_factor
    monkeypatch.setattr(corr, "_exact_factor", lambda x, length: calls.append(length)
                        or real(x, length))
    cache: dict = {}
    cached = [correlated_normal_field(xy, periods, cached_rng, factor_cache=cache)
              for _ in range(3)]
    for a, b in zip(plain, cached):
        assert np.array_equal(a, b)
    n_ranges = len(set(jayaram_baker_2009_range(np.array(periods))))
    assert len(calls) == n_ranges
    other = xy[::-1].copy()
    got = correlated_normal_field(other, periods, np.random.default_rng(4), factor_cache=cache)
    assert len(calls) == 2 * n_ranges
    want = correlated_normal_field(other, periods, np.random.default_rng(4))
    assert np.array_equal(got, want)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (dict(xy_km=np.zeros((3, 3)), periods=[1.0]), "xy_km"),
        (dict(xy_km=np.full((2, 2), np.nan), periods=[1.0]), "xy_km"),
        (dict(xy_km=np.zeros((2, 2)), periods=[11.0]), "periods"),
        (dict(xy_km=np.zeros((2, 2)), periods=[1.0], method="dense"), "method"),
    ],
)
def test_bad_input_names_the_field(kwargs, field):
    with pytest.raises(InputError) as err:
        correlated_normal_field(rng=np.random.default_rng(0), **kwargs)
    assert err.value.field == field


@pytest.mark.parametrize("inter_period", [False, True])
def test_field_on_torch_equals_numpy_to_rounding(inter_period):
    pytest.importorskip("torch")
    from gm_engine.correlation import (
        draw_fourier_features,
        evaluate_field,
        evaluate_field_torch,
    )

    xy = np.random.default_rng(0).uniform(-100, 100, (3000, 2))
    feats = draw_fourier_features([0.1, 1.0, 3.0], np.random.default_rng(1), 256,
                                  inter_period=inter_period)
    ref = evaluate_field(feats, xy)
    got = evaluate_field_torch(feats, xy, "cpu", site_block=1000)
    assert got.shape == ref.shape == (3000, 3)
    assert_allclose(got, ref, rtol=0, atol=1e-12)
    with pytest.raises(InputError):
        evaluate_field_torch(feats, np.array([[0.0, np.nan]]))
