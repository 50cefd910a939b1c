"""The pipeline end to end on the scalar engine: files, statistics, atomicity."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from gm_engine.errors import Cancelled, InputError
from gm_engine.runner import run_scenario, site_statistics
from gm_engine.scenario import Scenario


@pytest.fixture
def grid_scenario(scenario_dict, tmp_path) -> Scenario:
    scenario_dict["grid"] = {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326",
                             "spacing": 0.05}
    scenario_dict["vs30"] = {"default": 450}
    scenario_dict["intensity_measures"] = ["PGA", "PGV", "SA(1.0)", "MMI"]
    scenario_dict["realizations"] = 20
    return Scenario.from_dict({**scenario_dict, "engine": "gmpe"}, tmp_path)


def test_gmpe_run_writes_every_output(grid_scenario, tmp_path):
    import rasterio

    out = tmp_path / "run"
    seen = []
    res = run_scenario(grid_scenario, out, progress=lambda f, t: seen.append(f))
    assert seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:]))
    meta = json.loads((out / "run.json").read_text())
    assert meta["engine"] == "gmpe" and meta["seed"] == 7 and meta["n_sites"] == 4
    assert meta["n_grid_cells"] == 80
    df = pd.read_csv(res.sites_csv)
    for im in ("PGA", "PGV", "SA(1.0)", "MMI"):
        assert (df[f"{im}_p16"] <= df[f"{im}_median"]).all()
        assert (df[f"{im}_median"] <= df[f"{im}_p84"]).all()
    # near-fault PGA for M7 at a few km on Vs30 300-500: a few tenths of a g
    assert 0.1 < df["PGA_median"].max() < 1.5
    assert len(res.rasters) == 12
    with rasterio.open(res.rasters[("PGA", "median")]) as src:
        assert src.crs.to_string() == "EPSG:4326"
        assert (src.height, src.width) == (8, 10)
        assert src.tags()["IM"] == "PGA" and src.tags()["units"] == "g"
        assert src.descriptions[0] == "PGA median (g)"
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        arr = src.read(1, masked=True)
        assert arr.count() == 80 and float(arr.max()) > 0.05
    assert (out / "rupture.gpkg").exists() and (out / "scenario.json").exists()
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_same_seed_same_numbers_other_seed_differs(grid_scenario, tmp_path):
    a = pd.read_csv(run_scenario(grid_scenario, tmp_path / "a").sites_csv)
    b = pd.read_csv(run_scenario(grid_scenario, tmp_path / "b").sites_csv)
    pd.testing.assert_frame_equal(a, b)
    grid_scenario.seed = 8
    c = pd.read_csv(run_scenario(grid_scenario, tmp_path / "c").sites_csv)
    assert not np.allclose(a["PGA_median"], c["PGA_median"])


def test_existing_output_is_not_overwritten(grid_scenario, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "precious.txt").write_text("user data")
    with pytest.raises(InputError, match="not empty"):
        run_scenario(grid_scenario, out)
    assert (out / "precious.txt").read_text() == "user data"


def test_cancel_leaves_nothing(grid_scenario, tmp_path):
    calls = {"n": 0}

    def cancel_after_geometry() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(Cancelled):
        run_scenario(grid_scenario, tmp_path / "run", is_cancelled=cancel_after_geometry)
    assert calls["n"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_gmpe_engine_refuses_waveform_ims(scenario_dict, tmp_path):
    scenario_dict["intensity_measures"] = ["PGA", "D5-95"]
    s = Scenario.from_dict(scenario_dict, tmp_path)
    with pytest.raises(InputError, match="D5-95"):
        run_scenario(s, tmp_path / "run")


def test_site_statistics_percentiles():
    v = np.arange(1, 102, dtype=float)[:, None] * np.ones((1, 3))
    s = site_statistics(v)
    np.testing.assert_allclose(s["median"], 51.0)
    np.testing.assert_allclose(s["p16"], 17.0)
    np.testing.assert_allclose(s["p84"], 85.0)


def test_run_cli(scenario_file, tmp_path, capsys):
    from gm_engine.cli import main

    rc = main(["run", "--scenario", str(scenario_file), "--out", str(tmp_path / "o"),
               "--realizations", "4", "--seed", "3", "--quiet"])
    assert rc == 0
    meta = json.loads((tmp_path / "o" / "run.json").read_text())
    assert meta["realizations"] == 4 and meta["seed"] == 3
    assert main(["run", "--scenario", str(scenario_file), "--out", str(tmp_path / "o"),
                 "--quiet"]) == 2
    assert "not empty" in capsys.readouterr().err


def test_run_cli_progress_off_a_terminal_is_a_line_per_tenth(scenario_file, tmp_path, capsys):
    from gm_engine.cli import main

    assert main(["run", "--scenario", str(scenario_file), "--out", str(tmp_path / "o"),
                 "--realizations", "2"]) == 0
    err = capsys.readouterr().err  # (pytest's capture is not a terminal)
    assert "\r" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("[")]
    percents = [int(ln.split("]")[1].split("%")[0]) for ln in lines]
    assert percents == sorted(set(percents)) and percents[-1] == 100
    assert set(percents) <= set(range(0, 101, 10)) and len(lines) <= 11


@pytest.fixture
def stochastic_run(scenario_dict, tmp_path):
    d = {**scenario_dict, "engine": "stochastic", "realizations": 1,
         "intensity_measures": ["PGA", "PGV", "SA(1.0)", "D5-95"]}
    s = Scenario.from_dict(d, tmp_path)
    return run_scenario(s, tmp_path / "run")


def test_stochastic_run_and_regenerated_waveforms_match(stochastic_run):
    from gm_engine.ims import compute_ims
    from gm_engine.runner import site_waveforms

    res = stochastic_run
    df = pd.read_csv(res.sites_csv)
    assert (res.out_dir / "site_terms.npz").exists()
    meta = json.loads(res.run_json.read_text())
    assert meta["engine"] == "stochastic" and meta["engine_info"]["duration_s"] >= 40.96
    for i in (0, 3):
        sw = site_waveforms(res.out_dir, i)
        assert sw.acc.shape[:2] == (1, 3) and sw.dt == 0.01
        got = compute_ims(sw.acc, sw.dt, ["PGA", "PGV", "SA(1.0)", "D5-95"])
        for im in ("PGA", "PGV", "SA(1.0)", "D5-95"):
            # one realization: the run's median is that realization's value
            np.testing.assert_allclose(got[im][0], df[f"{im}_median"][i], rtol=1e-5)
        assert sw.gmpe["median"].shape == sw.gmpe["periods"].shape
        assert np.all(sw.gmpe["sigma"] > 0.4) and np.all(sw.gmpe["sigma"] < 1.0)
        assert sw.conditions["name"] == df["name"][i]


def test_site_waveforms_errors(stochastic_run, grid_scenario, tmp_path):
    from gm_engine.runner import site_waveforms

    with pytest.raises(InputError, match="is not a site of this run"):
        site_waveforms(stochastic_run.out_dir, 99)
    with pytest.raises(InputError, match="realizations"):
        site_waveforms(stochastic_run.out_dir, 0, [5])
    gmpe_run = run_scenario(grid_scenario, tmp_path / "g")
    with pytest.raises(InputError, match="stores no waveforms"):
        site_waveforms(gmpe_run.out_dir, 0)
    with pytest.raises(InputError, match="not a GroundShake run"):
        site_waveforms(tmp_path, 0)


def test_record_duration_grows_with_magnitude_and_distance():
    from gm_engine.engines import StochasticEngine

    e = StochasticEngine("cpu")

    def dur(m: float, r: float) -> float:
        return e.record_duration(pd.DataFrame({"magnitude": [m], "rrup_km": [r],
                                               "vs30": [400.0], "mechanism": ["SS"]}))

    assert dur(5.0, 10.0) == e.MIN_DURATION
    assert dur(5.0, 10.0) < dur(7.0, 10.0) < dur(7.0, 50.0) <= dur(8.0, 200.0) <= e.MAX_DURATION


def test_ctrl_c_mid_run_leaves_no_output(grid_scenario, tmp_path):
    def interrupt(frac: float, text: str) -> None:
        if frac > 0.5:
            raise KeyboardInterrupt

    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(KeyboardInterrupt):
        run_scenario(grid_scenario, tmp_path / "run", progress=interrupt)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize("field", ["VS30", "Vs30", "PGA_median", "RRUP_KM"])
def test_input_columns_named_like_outputs_any_case(scenario_dict, tmp_path, field):
    import geopandas as gpd
    from engine_helpers import write_sites_csv

    write_sites_csv(tmp_path / "sites.csv", [("a", -122.27, 37.80, 400.0),
                                             ("b", -122.0, 37.6, 500.0)])
    text = (tmp_path / "sites.csv").read_text().replace("vs30", field, 1)
    (tmp_path / "sites.csv").write_text(text)
    d = {**scenario_dict, "intensity_measures": ["PGA"], "realizations": 2}
    d["sites"] = {**d["sites"], "vs30_field": field if "30" in field else None}
    d["vs30"] = {"default": 760}
    res = run_scenario(Scenario.from_dict(d, tmp_path), tmp_path / "run")
    g = gpd.read_file(res.sites_gpkg)
    assert f"input_{field}" in g.columns and "vs30" in g.columns
    expected = [400.0, 500.0] if "30" in field else [760.0, 760.0]
    assert list(g["vs30"]) == expected


def test_outputs_are_readable_by_others_under_the_usual_umask(grid_scenario, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        res = run_scenario(grid_scenario, tmp_path / "run")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(res.out_dir).st_mode) == 0o755
    for p in (res.run_json, res.sites_csv, res.rasters[("PGA", "median")]):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644, p


def test_gmpe_flags_sites_outside_every_models_range():
    from gm_engine.engines import GMPEEngine

    conds = pd.DataFrame({"magnitude": [6.5, 3.4, 6.5], "rrup_km": [10.0] * 3,
                          "rjb_km": [10.0] * 3, "vs30": [1300.0, 500.0, 500.0],
                          "dip": [90.0] * 3, "ztor_km": [0.0] * 3})
    assert list(GMPEEngine().outside_range(conds)) == [True, True, False]
