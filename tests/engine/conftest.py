"""Shared fixtures for engine tests: a small valid scenario on disk."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_helpers import write_sites_csv


@pytest.fixture
def scenario_dict(tmp_path: Path) -> dict:
    """A vertical strike-slip fault near Hayward with four sites (valid as is)."""
    write_sites_csv(tmp_path / "sites.csv", [
        ("oakland", -122.27, 37.80, 400.0),
        ("berkeley", -122.27, 37.87, 500.0),
        ("fremont", -121.99, 37.55, 300.0),
        ("san_jose", -121.89, 37.34, 350.0),
    ])
    return {
        "groundshake_scenario": 1,
        "name": "test",
        "rupture": {"trace": [[-121.95, 37.52], [-122.30, 37.95]], "crs": "EPSG:4326",
                    "dip": 90, "ztor": 0, "zbot": 12, "rake": 180},
        "magnitude": 7.0,
        "sites": {"path": "sites.csv", "x": "lon", "y": "lat", "crs": "EPSG:4326",
                  "vs30_field": "vs30"},
        "intensity_measures": ["PGA", "PGV", "SA(1.0)"],
        "realizations": 3,
        "seed": 7,
        "engine": "gmpe",
    }


@pytest.fixture
def scenario_file(tmp_path: Path, scenario_dict: dict) -> Path:
    p = tmp_path / "scenario.json"
    p.write_text(json.dumps(scenario_dict))
    return p
