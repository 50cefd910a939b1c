"""Finite rupture geometry: local CRS, quadrilaterals, hypocentre, validation."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyproj
import pytest
from numpy.testing import assert_allclose

from gm_engine.errors import InputError
from gm_engine.rupture import (
    DEFAULT_DOWN_DIP_FRACTION,
    build_rupture,
    local_crs_for,
)

# A transverse Mercator in metres: traces given in it are nearly (not exactly)
# the local km coordinates of the rupture, so the tests read the geometry back
# from Rupture.trace_xy_km instead of assuming it.
TM = "+proj=tmerc +lat_0=35 +lon_0=-117 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"


def _km(points):
    return [[1000.0 * x, 1000.0 * y] for x, y in points]


def _params(crs: pyproj.CRS) -> dict[str, float]:
    return {p.name: p.value for p in crs.coordinate_operation.params}


def test_local_crs_is_transverse_mercator_centred_on_the_trace():
    crs = local_crs_for([-121.0, -117.0, -113.0], [36.0, 36.6, 37.0])
    assert crs.is_projected
    assert crs.coordinate_operation.method_name == "Transverse Mercator"
    assert crs.axis_info[0].unit_name == "metre"
    p = _params(crs)
    assert p["Longitude of natural origin"] == pytest.approx(-117.0)
    assert p["Latitude of natural origin"] == pytest.approx(36.5)
    assert p["Scale factor at natural origin"] == 1.0


def test_local_crs_across_the_antimeridian():
    crs = local_crs_for([179.5, -179.5], [-17.0, -16.0])
    assert abs(abs(_params(crs)["Longitude of natural origin"]) - 180.0) < 1e-9
    r = build_rupture([[179.5, -17.0], [-179.5, -16.0]], "EPSG:4326", 90, 0, 10)
    # ~106 km east-west and ~111 km north-south: a short trace, not one
    # that runs the long way round the Earth.
    geod = pyproj.Geod(ellps="WGS84")
    expected = geod.inv(179.5, -17.0, -179.5, -16.0)[2] / 1000.0
    assert r.length_km == pytest.approx(expected, rel=2e-3)


def test_vertical_single_segment_geometry():
    r = build_rupture(_km([(0, -10), (0, 10)]), TM, 90, 1.0, 13.0)
    assert r.quads.shape == (1, 4, 3)
    assert r.length_km == pytest.approx(20.0, abs=1e-3)
    assert r.width_km == pytest.approx(12.0)
    assert r.area_km2 == pytest.approx(240.0, rel=1e-4)
    q = r.quads[0]
    assert_allclose(q[:2, 2], 1.0)
    assert_allclose(q[2:, 2], 13.0)
    assert_allclose(q[3, :2], q[0, :2])  # vertical: bottom right under top
    assert r.dip_direction == pytest.approx(90.0, abs=0.01)  # strike north + 90
    assert not r.trace_reversed


def test_dipping_quads_follow_dip_and_dip_direction():
    dip, ztor, zbot = 30.0, 2.0, 12.0
    r = build_rupture(_km([(0, -10), (0, 10)]), TM, dip, ztor, zbot)
    q = r.quads[0]
    down = q[3] - q[0]
    horizontal = (zbot - ztor) / math.tan(math.radians(dip))
    assert_allclose(down, [horizontal, 0.0, zbot - ztor], atol=1e-3)  # due east
    assert r.width_km == pytest.approx((zbot - ztor) / 0.5)
    assert r.area_km2 == pytest.approx(20.0 * 20.0, rel=1e-4)
    # the plane's dip measured from the corners
    assert math.degrees(math.atan2(down[2], np.hypot(down[0], down[1]))) == pytest.approx(dip)


def test_bent_trace_uses_one_down_dip_vector():
    r = build_rupture(_km([(0, 0), (0, 10), (7, 17)]), TM, 45, 0, 10, dip_direction=90.0)
    assert r.quads.shape == (2, 4, 3)
    downs = r.quads[:, 3] - r.quads[:, 0]
    assert_allclose(downs[0], downs[1], atol=1e-12)
    assert_allclose(downs[0], [10.0, 0.0, 10.0], atol=2e-3)
    # adjacent quadrilaterals share the down-dip edge at the bend
    assert_allclose(r.quads[0, 1], r.quads[1, 0])
    assert_allclose(r.quads[0, 2], r.quads[1, 3])
    # the oblique segment is steeper than 45 degrees, so its area is smaller
    l2 = math.hypot(7, 7)
    assert r.area_km2 < (10.0 + l2) * r.width_km
    assert r.surface_projection_local().area == pytest.approx((10.0 + 7.0) * 10.0, rel=1e-3)


def test_trace_drawn_against_the_right_hand_rule_is_reversed():
    fwd = build_rupture(_km([(0, -10), (0, 10)]), TM, 40, 0, 10, dip_direction=90)
    back = build_rupture(_km([(0, 10), (0, -10)]), TM, 40, 0, 10, dip_direction=90)
    assert back.trace_reversed and not fwd.trace_reversed
    assert_allclose(back.trace_xy_km, fwd.trace_xy_km, atol=1e-9)
    assert_allclose(back.quads, fwd.quads, atol=1e-9)
    # default dip direction of the reversed drawing is west: the other side
    west = build_rupture(_km([(0, 10), (0, -10)]), TM, 40, 0, 10)
    assert west.dip_direction == pytest.approx(270.0, abs=0.01)
    assert west.quads[0, 3, 0] < west.quads[0, 0, 0]


def test_projected_and_geographic_input_give_the_same_rupture():
    tm = pyproj.Transformer.from_crs(TM, "EPSG:4326", always_xy=True)
    pts = _km([(0, -10), (3, 0), (4, 12)])
    lonlat = [list(tm.transform(x, y)) for x, y in pts]
    a = build_rupture(pts, TM, 60, 0, 15)
    b = build_rupture(lonlat, "EPSG:4326", 60, 0, 15)
    assert_allclose(a.quads, b.quads, atol=1e-6)
    # a third (Z) coordinate from QGIS is ignored
    c = build_rupture([[x, y, 123.0] for x, y in lonlat], "EPSG:4326", 60, 0, 15)
    assert_allclose(c.quads, b.quads)


def test_lonlat_exports_round_trip():
    trace = [[-118.0, 34.0], [-117.8, 34.1], [-117.6, 34.15]]
    r = build_rupture(trace, "EPSG:4326", 45, 1, 15)
    assert_allclose(np.asarray(r.trace_lonlat().coords), trace, atol=1e-9)
    poly = r.surface_projection_lonlat()
    assert poly.geom_type in ("Polygon", "MultiPolygon")
    assert poly.is_valid
    # the footprint holds the trace and the epicentre
    lon, lat, depth = r.hypocentre_lonlat()
    from shapely.geometry import Point

    assert poly.buffer(1e-9).contains(Point(lon, lat))
    assert depth == pytest.approx(1 + DEFAULT_DOWN_DIP_FRACTION * 14)


def test_vertical_surface_projection_is_a_thin_polygon():
    r = build_rupture([[-118.0, 34.0], [-117.8, 34.1]], "EPSG:4326", 90, 0, 15)
    poly = r.surface_projection_local()
    assert poly.geom_type == "Polygon"
    assert poly.area == pytest.approx(r.length_km * 0.002, rel=1e-3)


def test_default_hypocentre_mid_length_and_60_percent_down_dip():
    r = build_rupture(_km([(0, -10), (0, 10)]), TM, 30, 2, 12)
    h = r.hypocentre_xyz_km
    mid = r.trace_xy_km.mean(axis=0)
    horizontal = 10.0 / math.tan(math.radians(30))
    assert_allclose(h, [mid[0] + 0.6 * horizontal, mid[1], 2 + 0.6 * 10], atol=1e-6)


def test_hypocentre_fractions_measured_from_the_first_point_as_drawn():
    pts = _km([(0, 10), (0, -10)])  # drawn southward, dip east -> reversed
    r = build_rupture(pts, TM, 60, 0, 10, dip_direction=90,
                      hypocentre={"along_strike_fraction": 0.25, "down_dip_fraction": 0.0})
    assert r.trace_reversed
    # a quarter of the way from the first point drawn (north end)
    first_drawn = r.trace_xy_km[-1]
    assert_allclose(r.hypocentre_xyz_km[:2], first_drawn + np.array([0.0, -5.0]), atol=1e-6)
    assert r.hypocentre_xyz_km[2] == 0.0


def test_hypocentre_from_lonlat_depth():
    r0 = build_rupture([[-118.0, 34.0], [-117.8, 34.1]], "EPSG:4326", 60, 0, 15)
    lon, lat, depth = r0.hypocentre_lonlat()
    r = build_rupture([[-118.0, 34.0], [-117.8, 34.1]], "EPSG:4326", 60, 0, 15,
                      hypocentre={"lon": lon, "lat": lat, "depth_km": depth})
    assert_allclose(r.hypocentre_xyz_km, r0.hypocentre_xyz_km, atol=1e-6)


def test_rupture_is_immutable():
    r = build_rupture(_km([(0, -10), (0, 10)]), TM, 90, 0, 10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.dip = 45  # type: ignore[misc]
    with pytest.raises(ValueError):
        r.quads[0, 0, 0] = 1.0


GOOD = {"trace": _km([(0, -10), (0, 10)]), "crs": TM, "dip": 60, "ztor": 0, "zbot": 10}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"trace": _km([(0, 0)])}, "rupture.trace", "at least 2"),
        ({"trace": []}, "rupture.trace", "coordinate pairs"),
        ({"trace": [[0, 0, 0, 0], [1, 1, 1, 1]]}, "rupture.trace", "coordinate pairs"),
        ({"trace": [["a", 0], [1, 1]]}, "rupture.trace", "coordinate pairs"),
        ({"trace": _km([(0, 0), (0, 0), (0, 5)])}, "rupture.trace", "zero length"),
        ({"trace": _km([(0, 0), (0, 5), (0, 5.0000001)])}, "rupture.trace", "zero length"),
        ({"trace": _km([(0, 0), (0, 10), (5, 5), (-5, 5)])}, "rupture.trace", "intersect"),
        ({"trace": _km([(0, 0), (5, 5), (0, 10), (0, 0)])}, "rupture.trace", "closed"),
        ({"trace": [[0.0, float("nan")], [1000.0, 0.0]]}, "rupture.trace", "finite"),
        ({"trace": [[0.0, float("inf")], [1000.0, 0.0]]}, "rupture.trace", "finite"),
        ({"trace": [[0.0, 95.0], [1.0, 95.5]], "crs": "EPSG:4326"}, "rupture.trace", "[-90, 90]"),
        ({"dip": 0}, "rupture.dip", "(0, 90]"),
        ({"dip": -30}, "rupture.dip", "(0, 90]"),
        ({"dip": 90.5}, "rupture.dip", "(0, 90]"),
        ({"dip": float("nan")}, "rupture.dip", "finite"),
        ({"dip": "steep"}, "rupture.dip", "number"),
        ({"zbot": 0}, "rupture.zbot", "deeper than ztor"),
        ({"ztor": 5, "zbot": 5}, "rupture.zbot", "deeper than ztor"),
        ({"ztor": -1}, "rupture.ztor", ">= 0"),
        ({"zbot": float("inf")}, "rupture.zbot", "finite"),
        ({"crs": "EPSG:999999"}, "rupture.crs", "unknown"),
        ({"crs": "not a crs"}, "rupture.crs", "unknown"),
        ({"crs": None}, "rupture.crs", "required"),
        ({"dip_direction": float("nan")}, "rupture.dip_direction", "finite"),
        # dipping along the strike: the quadrilateral would be degenerate
        ({"dip_direction": 5.0}, "rupture.dip_direction", "same side"),
        # a hook: the last segment turns back, so it would dip the other way
        ({"trace": _km([(0, 0), (0, 10), (-3, 5)])}, "rupture.dip_direction", "same side"),
        ({"hypocentre": {"along_strike_fraction": 1.5, "down_dip_fraction": 0.5}},
         "rupture.hypocentre.along_strike_fraction", "[0, 1]"),
        ({"hypocentre": {"along_strike_fraction": 0.5, "down_dip_fraction": -0.1}},
         "rupture.hypocentre.down_dip_fraction", "[0, 1]"),
        ({"hypocentre": {"lon": -117, "lat": 35}}, "rupture.hypocentre", "exactly the keys"),
        ({"hypocentre": [0.5, 0.5]}, "rupture.hypocentre", "mapping"),
        ({"hypocentre": {"lon": -117, "lat": 35, "depth_km": 11}},
         "rupture.hypocentre.depth_km", "between ztor and zbot"),
        ({"hypocentre": {"lon": -116, "lat": 35, "depth_km": 5}}, "rupture.hypocentre", "from the rupture"),
        ({"hypocentre": {"lon": -116, "lat": 91, "depth_km": 5}}, "rupture.hypocentre.lat", "[-90, 90]"),
    ],
)
def test_input_errors_name_the_field(changes, field, words):
    args = {**GOOD, **changes}
    with pytest.raises(InputError) as info:
        build_rupture(**args)
    assert info.value.field == field
    assert words in info.value.message


def test_chevron_dips_one_way_and_hook_is_fine_when_vertical():
    chevron = build_rupture(_km([(0, 0), (10, 10), (0, 20)]), TM, 45, 0, 10)
    assert chevron.quads.shape == (2, 4, 3)
    assert chevron.dip_direction == pytest.approx(90.0, abs=0.1)  # grid convergence
    hook = build_rupture(_km([(0, 0), (0, 10), (-3, 5)]), TM, 90, 0, 10)
    assert hook.quads.shape == (2, 4, 3)


def test_rupture_pickles_for_dask_workers():
    import pickle

    r = build_rupture([[-118.0, 34.0], [-117.8, 34.1], [-117.6, 34.15]], "EPSG:4326", 45, 1, 15)
    back = pickle.loads(pickle.dumps(r))
    assert back.crs == r.crs
    assert_allclose(back.quads, r.quads)
    assert not back.quads.flags.writeable
    assert_allclose(back.hypocentre_xyz_km, r.hypocentre_xyz_km)
