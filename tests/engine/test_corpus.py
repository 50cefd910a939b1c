"""The training corpus writer: layout the trainer reads, ranges, determinism."""
from __future__ import annotations

import h5py
import numpy as np
import pytest

from gm_engine.corpus import CHUNK, CorpusRanges, draw_conditions, write_corpus
from gm_engine.errors import InputError
from gm_engine.stochastic.simulator import SYNTHESIS_REVISION


def test_conditions_cover_the_requested_ranges():
    c = draw_conditions(20000, np.random.default_rng(1))
    r = CorpusRanges()
    assert c["magnitude"].between(*r.magnitude).all()
    assert c["rrup_km"].between(*r.rrup_km).all() and c["rrup_km"].min() < 1.0
    assert c["vs30"].between(*r.vs30).all()
    assert (c["ztor_km"] <= c["rrup_km"]).all()
    assert set(c["mechanism"]) == {"SS", "NM", "RV"}
    # uniform in ln(1 + R): about half the records within sqrt(301) - 1 = 16.3 km
    assert 0.45 < (c["rrup_km"] < np.sqrt(301.0) - 1.0).mean() < 0.55


def test_corpus_layout_is_what_the_trainer_loads(tmp_path):
    from gm_engine.train.corpus import load_corpus

    path = write_corpus(tmp_path / "c.h5", n=CHUNK + 6, seed=3)
    with h5py.File(path) as f:
        assert f.attrs["format"] == "groundshake-corpus" and f.attrs["version"] == 1
        assert "calibration.npz sha256" in f.attrs["simulator"]
        assert f"synthesis revision {SYNTHESIS_REVISION}" in f.attrs["simulator"]
        assert f["waveforms"].shape == (CHUNK + 6, 3, 4096)
        pga = f["ims/PGA"][:]
        cond = f["conditions"][:]
        acc = f["waveforms"][:]
    assert np.all(np.isfinite(acc)) and np.all(pga > 0)
    # RotD50 PGA cannot exceed the peak of the horizontal vector |(a1, a2)|
    vector_peak = np.sqrt(acc[:, 0] ** 2 + acc[:, 1] ** 2).max(axis=-1)
    assert np.all(pga <= vector_peak * (1 + 1e-5))
    assert np.all(pga >= 0.5 * np.abs(acc[:, :2]).max(axis=(1, 2)))
    # stronger shaking close to large events than far from small ones
    near_big = (cond["magnitude"] > 6.5) & (cond["rrup_km"] < 20)
    far_small = (cond["magnitude"] < 5.5) & (cond["rrup_km"] > 100)
    if near_big.any() and far_small.any():
        assert np.median(pga[near_big]) > 10 * np.median(pga[far_small])
    ws = load_corpus(path)
    assert len(ws.conditions) == CHUNK + 6


def test_same_seed_same_corpus(tmp_path):
    a = write_corpus(tmp_path / "a.h5", n=8, seed=11)
    b = write_corpus(tmp_path / "b.h5", n=8, seed=11)
    c = write_corpus(tmp_path / "c.h5", n=8, seed=12)
    with h5py.File(a) as fa, h5py.File(b) as fb, h5py.File(c) as fc:
        np.testing.assert_array_equal(fa["waveforms"][:], fb["waveforms"][:])
        assert not np.array_equal(fa["waveforms"][:], fc["waveforms"][:])


def test_bad_n(tmp_path):
    with pytest.raises(InputError):
        write_corpus(tmp_path / "x.h5", n=0, seed=1)
    assert not (tmp_path / "x.h5").exists()
