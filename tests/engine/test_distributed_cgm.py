"""The cgm engine as Dask tasks: keyed latent draws, one model load per worker, same bits
whatever the chunking and the number of workers, waveforms regenerated from the run."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from engine_helpers import make_tiny_model_card

from gm_engine.errors import InputError
from gm_engine.scenario import Scenario

pytest.importorskip("torch")
distributed = pytest.importorskip("distributed")

from gm_engine.distributed import LOOPBACK, run_scenario_distributed  # noqa: E402

IMS = ["PGA", "PGV", "SA(1.0)"]


@pytest.fixture(scope="module")
def card(tmp_path_factory):
    return make_tiny_model_card(tmp_path_factory.mktemp("model"))


@pytest.fixture
def scenario(scenario_dict, tmp_path) -> Scenario:
    d = {**scenario_dict, "engine": "cgm", "device": "cpu", "realizations": 3,
         "intensity_measures": IMS, "vs30": {"default": 450},
         "grid": {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326", "spacing": 0.1}}
    return Scenario.from_dict(d, tmp_path)


def _read(run) -> dict:
    import rasterio

    out = {}
    for key, path in sorted(run.rasters.items()):
        with rasterio.open(path) as src:
            out[key] = src.read(1)
    out["sites"] = pd.read_csv(run.sites_csv)
    for name in ("site_realizations", "site_terms"):
        with np.load(run.out_dir / f"{name}.npz") as z:
            out.update({f"{name}:{k}": z[k] for k in z.files})
    return out


def _assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if k == "sites":
            pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)
        else:
            assert np.array_equal(a[k], b[k]), k


def test_keyed_latent_terms_are_chunk_invariant_and_apart_from_site_keys():
    from gm_engine.generator.sampling import (
        keyed_latent_terms,
        realization_generator,
    )

    xy = np.random.default_rng(0).uniform(-50, 50, (301, 2))
    ev, si = keyed_latent_terms(5, xy, np.arange(3), (4, 16), 16, n_features=64)
    assert ev.shape == (3, 4, 16) and si.shape == (301, 3, 16) and si.dtype == np.float32
    parts = np.concatenate([keyed_latent_terms(5, xy[i:i + 7], np.arange(3), (4, 16), 16,
                                               n_features=64)[1] for i in range(0, 301, 7)])
    assert np.array_equal(si, parts)
    ev1, si1 = keyed_latent_terms(5, xy[:3], [1], (4, 16), 16, n_features=64)
    assert np.array_equal(ev1[0], ev[1]) and np.array_equal(si1[:, 0], si[:3, 1])
    # numpy ignores trailing zeros of a key: default_rng([seed, r]) is default_rng([seed, r, 0]);
    # the spawn-keyed stream of realization r is neither
    same = np.random.default_rng([5, 2, 0]).standard_normal((4, 16), dtype=np.float32)
    mine = realization_generator(5, 2).standard_normal((4, 16), dtype=np.float32)
    assert not np.array_equal(mine, same)


def test_one_vs_two_workers_any_chunking_same_bits(scenario, card, tmp_path):
    from distributed import Client, LocalCluster

    from gm_engine.ims import compute_ims
    from gm_engine.runner import site_waveforms

    one = run_scenario_distributed(scenario, tmp_path / "one", workers=1, chunk_size=10 ** 6,
                                   model_card=card)
    meta = json.loads(one.run_json.read_text())
    assert meta["engine"] == "cgm" and meta["distributed"]["chunks"] == 2
    assert meta["engine_info"]["weights_sha256"] and meta["n_grid_cells"] == 20
    ref = _read(one)
    inproc = run_scenario_distributed(scenario, tmp_path / "inproc", workers=0, chunk_size=5,
                                      model_card=card)
    _assert_identical(ref, _read(inproc))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, **LOOPBACK) as cl, \
            Client(cl, set_as_default=False) as client:
        two = run_scenario_distributed(scenario, tmp_path / "two", client=client, chunk_size=3,
                                       model_card=card)

        def loaded() -> int:
            from gm_engine import distributed as d

            return len(d._GENERATORS)
        per_worker = client.run(loaded)
    assert json.loads(two.run_json.read_text())["distributed"]["chunks"] == 6  # 2 site chunks, 4 rows
    assert sorted(per_worker.values()) == [1, 1]  # one model load per worker, many tasks
    _assert_identical(ref, _read(two))
    df = ref["sites"]
    assert (df["PGA_median"] > 0).all() and ref[("PGA", "median")].max() > 0
    assert ref["site_terms:eps_site"].shape == (4, 3, 16)
    # a point site's waveforms regenerated alone give the run's IMs
    sw = site_waveforms(two.out_dir, 2)
    got = compute_ims(sw.acc, sw.dt, IMS)
    np.testing.assert_allclose(np.median(got["PGA"]), df["PGA_median"][2], rtol=1e-5)
    np.testing.assert_allclose(got["SA(1.0)"], ref["site_realizations:im2"][:, 2], rtol=1e-6)


def test_other_seed_differs_and_missing_card_is_an_input_error(scenario, card, tmp_path):
    a = _read(run_scenario_distributed(scenario, tmp_path / "a", workers=0, model_card=card))
    scenario.seed = 8
    b = _read(run_scenario_distributed(scenario, tmp_path / "b", workers=0, model_card=card))
    assert not np.array_equal(a[("PGA", "median")], b[("PGA", "median")])
    with pytest.raises(InputError, match="model_card"):
        run_scenario_distributed(scenario, tmp_path / "c", workers=0,
                                 model_card=tmp_path / "nope.json")
    assert not (tmp_path / "c").exists()


def test_duration_ims_beyond_the_window_are_flagged_as_by_the_runner(scenario_dict, card,
                                                                     tmp_path):
    """The Dask runner names the sites whose durations the records cut, as run_scenario."""
    import warnings

    from gm_engine.runner import run_scenario

    d = {**scenario_dict, "engine": "cgm", "device": "cpu", "realizations": 1,
         "magnitude": 8.0, "intensity_measures": ["PGA", "D5-95"],
         "model_card": str(card), "vs30": {"default": 450},
         "grid": {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326", "spacing": 0.1}}
    with warnings.catch_warnings():  # M 8 on this short trace: a scenario warning
        warnings.simplefilter("ignore")
        s = Scenario.from_dict(d, tmp_path)
        one = run_scenario(s, tmp_path / "one")
        dask = run_scenario_distributed(s, tmp_path / "dask", workers=0, model_card=card)
    a, b = (pd.read_csv(r.sites_csv) for r in (one, dask))
    assert a["window_limited"].all() and a["window_limited"].equals(b["window_limited"])
    import rasterio

    masks = []
    for r in (one, dask):  # grid cells: a mask beside outside_range.tif, not an IM raster
        assert all(k[0] != "window_limited" for k in r.rasters)
        with rasterio.open(r.out_dir / "window_limited.tif") as src:
            masks.append(src.read(1))
            assert "D5-95" in src.descriptions[0]
    assert np.array_equal(masks[0], masks[1], equal_nan=True)
    assert np.nansum(masks[0]) == np.isfinite(masks[0]).sum() > 0  # M 8: every cell
    assert [w for w in one.warnings if "Afshari" in w] == [w for w in dask.warnings
                                                             if "Afshari" in w] != []
