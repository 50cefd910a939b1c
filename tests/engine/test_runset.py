"""Scenario sets: validation of every row first, resume without recomputing, same bits."""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import gm_engine.runset as runset
from gm_engine.cli import main
from gm_engine.errors import Cancelled, InputError
from gm_engine.runset import (
    build_members,
    read_rupture_table,
    run_scenario_set,
    scenario_seed,
)

HEADER = "id,magnitude,dip,ztor_km,zbot_km,rake,rate,trace"
ROWS = [
    'a,7.0,90,0,12,180,0.004,"LINESTRING (-121.95 37.52, -122.30 37.95)"',
    'b,6.5,60,2,14,90,0.002,"LINESTRING (-122.00 37.40, -121.90 37.60)"',
    'c,6.8,90,0,,180,,"LINESTRING (-122.40 37.60, -122.45 37.90, -122.50 38.00)"',
]


def _table(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def template(tmp_path: Path, scenario_dict: dict) -> Path:
    """The conftest scenario (4 sites, gmpe, 3 realizations) as a set template."""
    p = tmp_path / "template.json"
    p.write_text(json.dumps(scenario_dict))
    return p


@pytest.fixture
def ruptures(tmp_path: Path) -> Path:
    return _table(tmp_path / "ruptures.csv", ROWS)


def _counting(monkeypatch, fail: str | None = None) -> list[str]:
    """Count (and optionally fail) the scenario runs of the set."""
    from gm_engine.runner import run_scenario as real

    calls: list[str] = []

    def run(scenario, out_dir, **kw):
        calls.append(Path(out_dir).name)
        if Path(out_dir).name == fail:
            raise RuntimeError("simulated crash")
        return real(scenario, out_dir, **kw)

    monkeypatch.setattr(runset, "run_scenario", run)
    return calls


def test_set_runs_and_summary_matches_sites(template, ruptures, tmp_path):
    import geopandas as gpd

    out = tmp_path / "set"
    seen: list[float] = []
    res = run_scenario_set(ruptures, out, template, progress=lambda f, t: seen.append(f))
    assert res.ran == ["a", "b", "c"] and not res.skipped and not res.failed
    assert seen[-1] == 1.0 and all(b >= a - 1e-12 for a, b in zip(seen, seen[1:]))
    summary = pd.read_csv(out / "summary.csv", dtype={"id": str})
    assert list(summary["id"]) == ["a", "b", "c"] and (summary["status"] == "done").all()
    assert summary["rate"].iloc[0] == 0.004 and math.isnan(summary["rate"].iloc[2])
    for _, row in summary.iterrows():
        folder = out / "scenarios" / row["id"]
        sites = pd.read_csv(folder / "sites.csv")
        meta = json.loads((folder / "run.json").read_text())
        assert row["n_sites"] == len(sites) == meta["n_sites"] == 4
        assert meta["seed"] == row["seed"] == scenario_seed(7, row["id"])  # set seed: template's
        for im in ("PGA", "PGV", "SA(1.0)"):
            np.testing.assert_allclose(row[f"{im}_median_mean"], sites[f"{im}_median"].mean(),
                                       rtol=1e-5)
            np.testing.assert_allclose(row[f"{im}_median_max"], sites[f"{im}_median"].max(),
                                       rtol=1e-5)
    scen_c = json.loads((out / "scenarios" / "c" / "scenario.json").read_text())
    assert scen_c["rupture"]["zbot"] == 12  # empty cell: the template's value
    assert scen_c["magnitude"] == 6.8 and scen_c["name"] == "c"
    g = gpd.read_file(out / "summary.gpkg")
    assert len(g) == 3 and g.crs.to_epsg() == 4326 and set(g.geom_type) == {"LineString"}
    assert "SA_1.0_median_max" in g.columns
    meta = json.loads((out / "runset.json").read_text())
    assert meta["scenarios"] == ["a", "b", "c"] and meta["seed"] == 7
    assert meta["ruptures"]["sha256"] == hashlib.sha256(ruptures.read_bytes()).hexdigest()
    assert not [p for p in out.rglob("*") if ".part" in p.name]


def test_interrupted_set_resumes_without_recomputing_and_same_bits(
        template, ruptures, tmp_path, monkeypatch):
    ref = tmp_path / "ref"
    run_scenario_set(ruptures, ref, template)

    out = tmp_path / "set"

    def stop_at_second(frac: float, text: str) -> None:
        if text.startswith("b "):  # raised inside run_scenario, as a cancel flag would
            raise Cancelled("stop")

    with pytest.raises(Cancelled):
        run_scenario_set(ruptures, out, template, progress=stop_at_second)
    assert sorted(p.name for p in (out / "scenarios").iterdir()) == ["a"]
    partial = pd.read_csv(out / "summary.csv")
    assert list(partial["status"]) == ["done", "pending", "pending"]
    mtime = (out / "scenarios" / "a" / "run.json").stat().st_mtime_ns
    # a temporary folder left by a killed process is cleaned on resume
    (out / "scenarios" / ".b.x1y2z3.part").mkdir()

    calls = _counting(monkeypatch)
    res = run_scenario_set(ruptures, out, template)
    assert calls == ["b", "c"] and res.skipped == ["a"] and res.ran == ["b", "c"]
    assert (out / "scenarios" / "a" / "run.json").stat().st_mtime_ns == mtime
    assert not (out / "scenarios" / ".b.x1y2z3.part").exists()
    for sid in ("a", "b", "c"):
        for name in ("sites.csv", "site_realizations.npz", "scenario.json"):
            assert (out / "scenarios" / sid / name).read_bytes() == \
                   (ref / "scenarios" / sid / name).read_bytes(), (sid, name)
    assert (out / "summary.csv").read_bytes() == (ref / "summary.csv").read_bytes()

    # once everything is finished, a rerun computes nothing
    calls.clear()
    assert run_scenario_set(ruptures, out, template).skipped == ["a", "b", "c"] and not calls

    # seeds follow the id, not the row: a reordered table gives the same bits per id
    rev = _table(tmp_path / "reversed.csv", ROWS[::-1])
    run_scenario_set(rev, tmp_path / "rev", template)
    for sid in ("a", "b", "c"):
        assert (tmp_path / "rev" / "scenarios" / sid / "sites.csv").read_bytes() == \
               (ref / "scenarios" / sid / "sites.csv").read_bytes()


def test_failed_scenario_is_recorded_then_retried(template, ruptures, tmp_path, monkeypatch):
    out = tmp_path / "set"
    calls = _counting(monkeypatch, fail="b")
    res = run_scenario_set(ruptures, out, template)
    assert calls == ["a", "b", "c"] and list(res.failed) == ["b"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["status"]) == ["done", "failed", "done"]
    assert "simulated crash" in summary["error"].iloc[1]
    with pytest.raises(RuntimeError):  # keep_going=False: the error propagates
        run_scenario_set(ruptures, out, template, keep_going=False)
    calls = _counting(monkeypatch)
    res = run_scenario_set(ruptures, out, template)
    assert calls == ["b"] and res.ran == ["b"] and not res.failed
    assert (pd.read_csv(out / "summary.csv")["status"] == "done").all()


@pytest.mark.parametrize(("row", "column", "text"), [
    ('b,6.5,95,2,14,90,,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "dip", "outside"),
    ('b,big,60,2,14,90,,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "magnitude", "number"),
    ('b,10.5,60,2,14,90,,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "magnitude", "outside"),
    ('b,6.5,60,5,3,90,,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "zbot_km", "deeper|greater"),
    ('b,6.5,60,2,14,90,-1,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "rate", ">= 0"),
    ('b,6.5,60,2,14,90,,"POINT (-122.0 37.4)"', "trace", "LineString"),
    ('b,6.5,60,2,14,90,,"LINESTRING (-122.0 37.4"', "trace", "WKT"),
    ('b,6.5,60,2,14,90,,""', "trace", "empty"),
    ('b,6.5,60,2,14,90,,"LINESTRING (-122.0 37.4, -122.0 37.4)"', "trace", "zero length"),
    ('../b,6.5,60,2,14,90,,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "id", "folder"),
    ('A,6.5,60,2,14,90,,"LINESTRING (-122.0 37.4, -121.9 37.6)"', "id", "unique"),
])
def test_bad_row_names_row_and_column_before_anything_runs(template, tmp_path, monkeypatch,
                                                           row, column, text):
    calls = _counting(monkeypatch)
    bad = _table(tmp_path / "bad.csv", [ROWS[0], row, ROWS[2]])
    with pytest.raises(InputError, match=text) as err:
        run_scenario_set(bad, tmp_path / "set", template)
    assert err.value.field == f"ruptures[row 2].{column}"
    assert not calls and not (tmp_path / "set").exists()


def test_every_bad_row_is_reported_at_once(template, tmp_path):
    bad = _table(tmp_path / "bad.csv", [
        'a,6.5,0,0,12,180,,"LINESTRING (-122.0 37.4, -121.9 37.6)"',
        ROWS[1],
        'c,6.5,90,0,12,999,,"LINESTRING (-122.0 37.4, -121.9 37.6)"'])
    with pytest.raises(InputError) as err:
        run_scenario_set(bad, tmp_path / "set", template)
    assert err.value.field == "ruptures[row 1].dip"
    assert "ruptures[row 3].rake" in str(err.value)


def test_template_defaults_width_and_missing_columns(scenario_dict, tmp_path):
    rows, ignored = read_rupture_table(_table(
        tmp_path / "r.csv", ['w,6.5,45,2,,10,90,"LINESTRING (-122.0 37.4, -121.9 37.6)",x'],
        "ID,Mag,dip,ztor,zbot,width,rake,WKT,comment"))
    assert ignored == ["comment"]
    [m] = build_members(rows, scenario_dict, tmp_path, 7)
    r = m.scenario.rupture
    assert m.id == "w" and m.scenario.magnitude == 6.5 and r.ztor == 2
    assert r.zbot == pytest.approx(2 + 10 * math.sin(math.radians(45)))
    # no id column: the row number; no dip: the template's; no magnitude: the scaling
    # law (the template's M 7 belongs to the template's own trace), as for a scenario
    rows, _ = read_rupture_table(_table(tmp_path / "r2.csv",
                                        ['"LINESTRING (-122.0 37.4, -121.9 37.6)"'], "trace"))
    [m] = build_members(rows, scenario_dict, tmp_path, 7)
    assert (m.id, m.scenario.rupture.dip, m.scenario.seed) == ("1", 90, scenario_seed(7, "1"))
    assert m.scenario.magnitude_from_scaling and 5 < m.scenario.magnitude < 7
    assert math.isnan(m.rate)
    # a scaling-law magnitude out of range names the magnitude column of the row
    tiny = _table(tmp_path / "r3.csv", ['"LINESTRING (-122.0 37.4, -122.0 37.40001)"'], "trace")
    with pytest.raises(InputError, match="scaling law") as err:
        build_members(read_rupture_table(tiny)[0], scenario_dict, tmp_path, 7)
    assert err.value.field == "ruptures[row 1].magnitude"


def test_seed_rule():
    digest = hashlib.sha256(b"groundshake-runset/42/hayward").digest()
    assert scenario_seed(42, "hayward") == int.from_bytes(digest[:8], "big") >> 11
    assert scenario_seed(42, "hayward") != scenario_seed(42, "calaveras")
    assert scenario_seed(42, "hayward") != scenario_seed(43, "hayward")
    assert 0 <= scenario_seed(0, "x") < 2 ** 53


def test_changed_table_on_resume_is_refused_unless_force(template, ruptures, tmp_path,
                                                         monkeypatch):
    out = tmp_path / "set"
    run_scenario_set(ruptures, out, template)
    before = (out / "scenarios" / "b" / "sites.csv").read_bytes()
    changed = _table(tmp_path / "changed.csv", [ROWS[0], ROWS[1].replace("b,6.5", "b,6.9"),
                                                 ROWS[2]])
    calls = _counting(monkeypatch)
    with pytest.raises(InputError, match=r"'b'.*magnitude: 6.5 -> 6.9.*--force") as err:
        run_scenario_set(changed, out, template)
    assert err.value.field == "ruptures[row 2]"
    assert not calls and (out / "scenarios" / "b" / "sites.csv").read_bytes() == before
    # a rate is not an input of the scenario: changing it needs no rerun
    rate_only = _table(tmp_path / "rates.csv", [ROWS[0].replace("0.004", "0.01"), *ROWS[1:]])
    run_scenario_set(rate_only, out, template)
    assert not calls and pd.read_csv(out / "summary.csv")["rate"].iloc[0] == 0.01
    res = run_scenario_set(changed, out, template, force=True)
    assert calls == ["b"] and res.ran == ["b"]
    assert (out / "scenarios" / "b" / "sites.csv").read_bytes() != before
    assert json.loads((out / "scenarios" / "b" / "scenario.json").read_text())["magnitude"] == 6.9


def test_folder_with_user_data_is_refused(template, ruptures, tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty"):
        run_scenario_set(ruptures, out, template)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_gpkg_ruptures_in_another_crs(template, tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString

    lonlat = [[(-121.95, 37.52), (-122.30, 37.95)], [(-122.00, 37.40), (-121.90, 37.60)]]
    g = gpd.GeoDataFrame({"id": [10, 20], "magnitude": [7.0, 6.4], "dip": [90.0, 70.0],
                          "ztor_km": [0.0, 1.0], "width_km": [12.0, 10.0],
                          "rake": [180.0, -90.0], "rate": [0.01, None]},
                         geometry=[LineString(t) for t in lonlat], crs="EPSG:4326")
    path = tmp_path / "ruptures.gpkg"
    g.to_crs("EPSG:32610").to_file(path, layer="faults", driver="GPKG")
    out = tmp_path / "set"
    res = run_scenario_set(path, out, template)
    assert res.ran == ["10", "20"]
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["mechanism"]) == ["SS", "NM"] and summary["rate"].iloc[0] == 0.01
    assert math.isnan(summary["rate"].iloc[1])  # an OGR null is an empty cell
    trace = json.loads((out / "scenarios" / "20" / "scenario.json").read_text())["rupture"]
    np.testing.assert_allclose(trace["trace"], lonlat[1], atol=1e-9)
    assert trace["crs"] == "EPSG:4326"
    assert trace["zbot"] == pytest.approx(1 + 10 * math.sin(math.radians(70)))
    with pytest.raises(InputError, match="row 1"):
        bad = g.copy()
        bad.loc[0, "dip"] = -5.0
        bad.to_file(tmp_path / "bad.gpkg", driver="GPKG")
        run_scenario_set(tmp_path / "bad.gpkg", tmp_path / "bad", template)


def test_dask_mode_in_process_and_mode_change_refused(template, ruptures, tmp_path):
    out = tmp_path / "set"
    res = run_scenario_set(ruptures, out, template, workers=0, chunk_size=2)
    assert res.ran == ["a", "b", "c"]
    assert json.loads((out / "scenarios" / "a" / "run.json").read_text())["distributed"]
    with pytest.raises(InputError, match="Dask"):  # other random fields than run_scenario
        run_scenario_set(ruptures, out, template)
    assert run_scenario_set(ruptures, out, template, workers=0).skipped == ["a", "b", "c"]


def test_cli_run_set_and_resume(scenario_dict, ruptures, tmp_path, capsys):
    out = tmp_path / "set"
    args = ["run-set", "--ruptures", str(ruptures), "--sites", str(tmp_path / "sites.csv"),
            "--out", str(tmp_path / "x"), "--quiet"]
    assert main(args) == 2  # no template: row c's empty zbot_km has nothing to fall back on
    err = capsys.readouterr().err
    assert "ruptures[row 3].zbot_km" in err and "template has no value" in err
    ruptures = _table(ruptures, [*ROWS[:2], ROWS[2].replace(",0,,", ",0,12,")])
    args = ["run-set", "--ruptures", str(ruptures), "--sites", str(tmp_path / "sites.csv"),
            "--engine", "gmpe", "--realizations", "2", "--seed", "5", "--out", str(out),
            "--quiet"]
    assert main(args) == 0
    assert "3 scenarios run, 0 already finished" in capsys.readouterr().out
    meta = json.loads((out / "scenarios" / "b" / "run.json").read_text())
    assert meta["realizations"] == 2 and meta["seed"] == scenario_seed(5, "b")
    scen = json.loads((out / "scenarios" / "b" / "scenario.json").read_text())
    assert scen["sites"]["vs30_field"] == "vs30"  # found in the site file
    assert main(args) == 0
    assert "0 scenarios run, 3 already finished" in capsys.readouterr().out
    assert main([*args[:-3], "--seed", "6", "--out", str(out), "--quiet"]) == 2
    assert "finished with other inputs" in capsys.readouterr().err


def test_second_process_on_the_same_set_is_refused(template, ruptures, tmp_path):
    out = tmp_path / "set"
    out.mkdir()
    with runset._set_lock(out), pytest.raises(InputError, match="another run-set"):
        run_scenario_set(ruptures, out, template)
    assert not (out / "scenarios").exists()


def test_summary_rewrites_are_throttled_then_flushed():
    import time

    written: list[float] = []

    def slow_write() -> None:
        time.sleep(0.02)
        written.append(time.perf_counter())

    w = runset._SummaryWriter(slow_write)
    w.write()
    for _ in range(5):  # back to back: within 20 x 20 ms of the last write, skipped
        w.changed()
    assert len(written) == 1 and w.pending
    w.flush()
    assert len(written) == 2 and not w.pending
    w.flush()  # nothing new: no rewrite
    assert len(written) == 2
