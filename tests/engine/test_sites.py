"""Sites, Vs30 sources, grids and the max-distance exclusion."""
from __future__ import annotations

import json

import numpy as np
import pytest
from engine_helpers import write_sites_csv

from gm_engine.errors import InputError
from gm_engine.geometry import grid_cells, point_sites
from gm_engine.scenario import Scenario
from gm_engine.sites import grid_definition, sample_raster


def _scenario(d: dict, tmp_path) -> Scenario:
    return Scenario.from_dict(d, tmp_path)


def test_csv_sites_get_distances_and_attribute_vs30(scenario_dict, tmp_path):
    ss = point_sites(_scenario(scenario_dict, tmp_path))
    assert len(ss) == 4
    assert list(ss.table["vs30"]) == [400.0, 500.0, 300.0, 350.0]
    assert set(ss.table["vs30_source"]) == {"attribute vs30"}
    assert (ss.table["rrup_km"] >= ss.table["rjb_km"] - 1e-9).all()
    assert ss.input_columns == ["name", "lon", "lat"]


@pytest.mark.parametrize("bad", ["nan", "-50", "0", ""])
def test_bad_vs30_attribute_is_an_error(scenario_dict, tmp_path, bad):
    write_sites_csv(tmp_path / "sites.csv", [("a", -122.27, 37.80, 400.0)])
    with open(tmp_path / "sites.csv", "a") as f:
        f.write(f"b,-122.2,37.7,{bad}\n")
    with pytest.raises(InputError) as err:
        point_sites(_scenario(scenario_dict, tmp_path))
    assert err.value.field == "sites.vs30_field"
    assert "site 1" in err.value.message


def test_missing_vs30_field_lists_fields(scenario_dict, tmp_path):
    scenario_dict["sites"]["vs30_field"] = "VS30_MEASURED"
    with pytest.raises(InputError, match="not in the site layer"):
        point_sites(_scenario(scenario_dict, tmp_path))


def test_default_vs30_warns_with_count(scenario_dict, tmp_path):
    scenario_dict["sites"]["vs30_field"] = None
    scenario_dict["vs30"] = {"default": 600}
    ss = point_sites(_scenario(scenario_dict, tmp_path))
    assert (ss.table["vs30"] == 600).all()
    assert any("4 sites use the default Vs30" in n for n in ss.notes)


def test_empty_site_file(scenario_dict, tmp_path):
    (tmp_path / "sites.csv").write_text("name,lon,lat,vs30\n")
    with pytest.raises(InputError, match="no features"):
        point_sites(_scenario(scenario_dict, tmp_path))


def test_missing_site_file(scenario_dict, tmp_path):
    scenario_dict["sites"]["path"] = "nope.gpkg"
    with pytest.raises(InputError, match="not found"):
        point_sites(_scenario(scenario_dict, tmp_path))


def test_far_sites_are_excluded_with_a_count(scenario_dict, tmp_path):
    write_sites_csv(tmp_path / "sites.csv", [("near", -122.1, 37.7, 400.0),
                                             ("la", -118.24, 34.05, 400.0)])
    scenario_dict["max_distance_km"] = 100
    ss = point_sites(_scenario(scenario_dict, tmp_path))
    assert list(ss.table["name"]) == ["near"]
    assert ss.excluded == 1
    assert any("1 sites beyond max_distance_km" in n for n in ss.notes)


def test_all_sites_too_far_is_an_error(scenario_dict, tmp_path):
    scenario_dict["max_distance_km"] = 0.001
    write_sites_csv(tmp_path / "sites.csv", [("la", -118.24, 34.05, 400.0)])
    with pytest.raises(InputError) as err:
        point_sites(_scenario(scenario_dict, tmp_path))
    assert err.value.field == "max_distance_km"


def test_polygon_sites_use_centroids(scenario_dict, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    polys = gpd.GeoDataFrame({"name": ["blk"], "vs30": [450.0]},
                             geometry=[box(-122.30, 37.78, -122.24, 37.82)], crs="EPSG:4326")
    polys.to_file(tmp_path / "blocks.gpkg", driver="GPKG")
    scenario_dict["sites"] = {"path": "blocks.gpkg", "vs30_field": "vs30"}
    ss = point_sites(_scenario(scenario_dict, tmp_path))
    p = ss.table.geometry.iloc[0]
    assert p.geom_type == "Point"
    assert p.x == pytest.approx(-122.27, abs=1e-3) and p.y == pytest.approx(37.80, abs=1e-3)


def _vs30_raster(path, value_left: float, value_right: float):
    import rasterio
    from rasterio.transform import from_origin

    arr = np.empty((50, 100), dtype=np.float32)
    arr[:, :50] = value_left
    arr[:, 50:] = value_right
    arr[0, 0] = -1  # nodata
    with rasterio.open(path, "w", driver="GTiff", height=50, width=100, count=1,
                       dtype="float32", crs="EPSG:4326", nodata=-1,
                       transform=from_origin(-122.5, 38.0, 0.01, 0.01)) as dst:
        dst.write(arr, 1)


def test_vs30_raster_is_sampled_and_gaps_use_default(scenario_dict, tmp_path):
    _vs30_raster(tmp_path / "vs30.tif", 300.0, 700.0)
    write_sites_csv(tmp_path / "sites.csv", [("west", -122.45, 37.8, 0), ("east", -121.8, 37.8, 0),
                                             ("outside", -121.3, 37.8, 0),
                                             ("nodata", -122.4995, 37.9995, 0)])
    scenario_dict["sites"]["vs30_field"] = None
    scenario_dict["vs30"] = {"default": 760, "raster": "vs30.tif"}
    ss = point_sites(_scenario(scenario_dict, tmp_path))
    assert list(ss.table["vs30"]) == [300.0, 700.0, 760.0, 760.0]
    assert list(ss.table["vs30_source"]) == ["raster vs30.tif"] * 2 + ["default"] * 2
    assert any("2 sites fall outside the Vs30 raster" in n for n in ss.notes)


def test_sample_raster_reprojects_points(tmp_path):
    import geopandas as gpd

    _vs30_raster(tmp_path / "v.tif", 250.0, 800.0)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-122.45, -121.8, -121.0], [37.8] * 3),
                           crs="EPSG:4326").to_crs("EPSG:32610")
    got = sample_raster(tmp_path / "v.tif", pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(),
                        "EPSG:32610")
    assert list(got[:2]) == [250.0, 800.0] and np.isnan(got[2])


def test_grid_cells_cover_extent_in_raster_order(scenario_dict, tmp_path):
    scenario_dict["grid"] = {"extent": [-122.4, 37.6, -122.0, 37.9], "crs": "EPSG:4326",
                             "spacing": 0.05}
    scenario_dict["vs30"] = {"default": 500}
    s = _scenario(scenario_dict, tmp_path)
    g = grid_definition(s.grid)
    assert (g.rows, g.cols) == (6, 8)
    cells = grid_cells(s)
    assert len(cells) == 48
    first = cells.table.iloc[0]
    assert first["x"] == pytest.approx(-122.375) and first["y"] == pytest.approx(37.875)
    assert list(cells.table["row"][:9]) == [0] * 8 + [1]
    assert (cells.table["vs30"] == 500).all()


def test_distances_cli_writes_input_columns_then_distances(scenario_file, tmp_path):
    import pandas as pd

    from gm_engine.cli import main

    out = tmp_path / "d.csv"
    assert main(["distances", "--scenario", str(scenario_file), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["name", "lon", "lat", "repi_km", "rhypo_km",
                                "rjb_km", "rrup_km", "rx_km", "ry0_km", "vs30"]
    assert len(df) == 4
    # refuses to overwrite, names the option
    assert main(["distances", "--scenario", str(scenario_file), "--out", str(out)]) == 2
    assert main(["distances", "--scenario", str(scenario_file), "--out", str(out), "--force"]) == 0


def test_cli_reports_bad_field(scenario_dict, tmp_path, capsys):
    from gm_engine.cli import main

    scenario_dict["rupture"]["dip"] = 120
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(scenario_dict))
    assert main(["distances", "--scenario", str(p), "--out", str(tmp_path / "x.csv")]) == 2
    assert "rupture.dip" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
