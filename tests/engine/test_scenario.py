"""Scenario validation: every bad field gets one message naming it and its range."""
from __future__ import annotations

import copy
import json
import math
import warnings

import pytest

from gm_engine.errors import InputError
from gm_engine.scaling import magnitude_from_area, mechanism_from_rake
from gm_engine.scenario import Scenario, ScenarioWarning, load_scenario, save_scenario


def _with(d: dict, path: str, value) -> dict:
    d = copy.deepcopy(d)
    keys = path.split(".")
    node = d
    for k in keys[:-1]:
        node = node[k]
    if value is _DELETE:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return d


_DELETE = object()


def test_valid_scenario_loads_and_round_trips(scenario_file, tmp_path):
    s = load_scenario(scenario_file)
    assert s.magnitude == 7.0
    assert s.rupture.mechanism == "SS"
    assert s.intensity_measures == ["PGA", "PGV", "SA(1.0)"]
    assert s.resolve("sites.csv") == tmp_path / "sites.csv"
    out = save_scenario(s, tmp_path / "copy.json")
    again = load_scenario(out)
    assert again.to_dict() == s.to_dict()
    assert again.content_hash() == s.content_hash()


def test_save_refuses_to_overwrite(scenario_file):
    s = load_scenario(scenario_file)
    with pytest.raises(InputError, match="exists"):
        save_scenario(s, scenario_file)


@pytest.mark.parametrize("path,value,field,needle", [
    ("rupture.dip", 0, "rupture.dip", "(0, 90]"),
    ("rupture.dip", 95, "rupture.dip", "(0, 90]"),
    ("rupture.dip", float("nan"), "rupture.dip", "outside"),
    ("rupture.zbot", 0.0, "rupture.zbot", "greater than"),
    ("rupture.ztor", -1, "rupture.ztor", "[0, 50]"),
    ("rupture.rake", 200, "rupture.rake", "[-180, 180]"),
    ("rupture.crs", "EPSG:999999", "rupture.crs", "unknown CRS"),
    ("rupture.trace", [[-122.0, 37.5]], "rupture.trace", "at least 2"),
    ("rupture.trace", [[-122.0, 37.5], ["a", 37.6]], "rupture.trace", "point 1"),
    ("magnitude", 2.5, "magnitude", "[3, 9.5]"),
    ("magnitude", 9.8, "magnitude", "[3, 9.5]"),
    ("realizations", 0, "realizations", "[1, 10000]"),
    ("seed", -1, "seed", "accepted range"),
    ("engine", "magic", "engine", "cgm, stochastic, gmpe"),
    ("device", "tpu", "device", "auto, cpu, cuda"),
    ("intensity_measures", ["PGA", "SA(-1)"], "intensity_measures", ""),
    ("intensity_measures", [], "intensity_measures", "non-empty"),
    ("intensity_measures", ["PGA", "PGA"], "intensity_measures", "twice"),
    ("max_distance_km", 0, "max_distance_km", "(0, 2000]"),
    ("vs30", {"default": -5}, "vs30.default", "[150, 2000]"),
    ("groundshake_scenario", 99, "groundshake_scenario", "not supported"),
    ("sites.x", None, "sites.x", "x and y column"),
])
def test_bad_field_names_field_and_range(scenario_dict, tmp_path, path, value, field, needle):
    with pytest.raises(InputError) as err:
        Scenario.from_dict(_with(scenario_dict, path, value), tmp_path)
    assert err.value.field == field
    assert needle in str(err.value)


@pytest.mark.parametrize("trace", [
    [[-122.0, 37.5], [-122.0, 37.5]],  # zero length
    [[-122.0, 37.5], [-122.2, 37.7], [-122.2, 37.5], [-122.0, 37.7]],  # self-intersecting
])
def test_degenerate_traces_are_rejected(scenario_dict, tmp_path, trace):
    with pytest.raises(InputError) as err:
        Scenario.from_dict(_with(scenario_dict, "rupture.trace", trace), tmp_path)
    assert err.value.field.startswith("rupture.trace")


def test_sites_or_grid_required(scenario_dict, tmp_path):
    with pytest.raises(InputError, match="sites"):
        Scenario.from_dict(_with(scenario_dict, "sites", None), tmp_path)


def test_width_gives_zbot(scenario_dict, tmp_path):
    d = _with(scenario_dict, "rupture.zbot", _DELETE)
    d["rupture"]["width"] = 20.0
    d["rupture"]["dip"] = 30.0
    s = Scenario.from_dict(d, tmp_path)
    assert s.rupture.zbot == pytest.approx(10.0)


def test_missing_magnitude_comes_from_wells_coppersmith(scenario_dict, tmp_path):
    s = Scenario.from_dict(_with(scenario_dict, "magnitude", None), tmp_path)
    area = s.build_rupture().area_km2
    # Wells & Coppersmith (1994) Table 2A, strike-slip: M = 3.98 + 1.02 log10(A)
    assert s.magnitude == pytest.approx(3.98 + 1.02 * math.log10(area))
    assert s.magnitude_from_scaling
    assert s.to_dict()["magnitude"] is None


def test_inconsistent_magnitude_warns(scenario_dict, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = Scenario.from_dict(_with(scenario_dict, "magnitude", 5.0), tmp_path)
    assert any(issubclass(w.category, ScenarioWarning) and "inconsistent" in str(w.message)
               for w in caught)
    assert any("inconsistent" in w for w in s.warnings)


def test_leonard_law(scenario_dict, tmp_path):
    d = _with(scenario_dict, "magnitude", None)
    d["magnitude_scaling"] = "Leonard2014"
    s = Scenario.from_dict(d, tmp_path)
    # Leonard (2014) Table 3 strike-slip: M = log10(A) + 3.99
    assert s.magnitude == pytest.approx(math.log10(s.build_rupture().area_km2) + 3.99)


@pytest.mark.parametrize("rake,mech", [(0, "SS"), (180, "SS"), (-180, "SS"), (30, "SS"),
                                        (90, "RV"), (45, "RV"), (-90, "NM"), (-120, "NM"),
                                        (160, "SS"), (-31, "NM")])
def test_mechanism_bins(rake, mech):
    assert mechanism_from_rake(rake) == mech


def test_magnitude_from_area_rejects_nonpositive():
    with pytest.raises(InputError):
        magnitude_from_area(0.0, 0.0)


def test_bad_json_file(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        load_scenario(p)
    with pytest.raises(InputError, match="not found"):
        load_scenario(tmp_path / "missing.json")


def test_schema_file_accepts_example_and_matches_engines(scenario_dict):
    import jsonschema

    from gm_engine.scenario import DEVICES, ENGINES, schema_path

    schema = json.loads(schema_path().read_text())
    jsonschema.validate(scenario_dict, schema)
    assert tuple(schema["properties"]["engine"]["enum"]) == ENGINES
    assert tuple(schema["properties"]["device"]["enum"]) == DEVICES
    bad = _with(scenario_dict, "rupture.dip", 0)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_grid_needs_a_vs30_default_or_raster(scenario_dict, tmp_path):
    d = {**scenario_dict, "grid": {"extent": [-122.4, 37.5, -122.0, 37.9], "crs": "EPSG:4326",
                                   "spacing": 0.1}}
    with pytest.raises(InputError) as err:
        Scenario.from_dict(d, tmp_path)
    assert err.value.field == "vs30.default"
    Scenario.from_dict({**d, "vs30": {"default": 500}}, tmp_path)
