"""Source-to-site distances against hand computations and brute-force oracles.

Oracles used here, independent of gm_engine.distances:

* Rrup / Rjb: the rupture surface sampled on a 50 m mesh (KD-tree nearest
  node); every mesh node lies on the surface, so the exact distance is never
  larger than the mesh distance and at most half a cell diagonal (35 m)
  smaller. Rjb is 0 where a quadrilateral's footprint contains the site.
* Rx / Ry0 (GC2): the Spudich & Chiou (2015) weights w_i = integral of r^-2
  along each segment evaluated by midpoint quadrature instead of in closed
  form, combined as their eqs. 2 and 9.
* Repi / Rjb across UTM zones: geodesic distances on the WGS84 ellipsoid
  (pyproj.Geod).
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from numpy.testing import assert_allclose
from scipy.spatial import cKDTree
from shapely.geometry import Point, Polygon

import gm_engine.distances as distances
from gm_engine.distances import compute_distances, project_xy_km, site_distances
from gm_engine.errors import InputError
from gm_engine.rupture import Rupture, build_rupture

TM = "+proj=tmerc +lat_0=35 +lon_0=-117 +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
MESH_KM = 0.05
HALF_DIAGONAL_KM = MESH_KM * math.sqrt(2.0) / 2.0
KEYS = ("repi_km", "rhypo_km", "rjb_km", "rrup_km", "rx_km", "ry0_km")


def _km(points):
    return [[1000.0 * x, 1000.0 * y] for x, y in points]


def _frame(r: Rupture, i: int = 0):
    """Start point, unit strike and unit right-normal of trace segment i."""
    a = r.trace_xy_km[i]
    e = r.trace_xy_km[i + 1] - a
    e = e / np.linalg.norm(e)
    return a, e, np.array([e[1], -e[0]])


# ----------------------------------------------------------------- oracles
def _surface_mesh(r: Rupture) -> np.ndarray:
    nodes = []
    for a, b, _, d in r.quads:
        u, v = b - a, d - a
        s = np.linspace(0.0, 1.0, int(np.ceil(np.linalg.norm(u) / MESH_KM)) + 1)
        t = np.linspace(0.0, 1.0, int(np.ceil(np.linalg.norm(v) / MESH_KM)) + 1)
        ss, tt = np.meshgrid(s, t, indexing="ij")
        nodes.append((a + ss[..., None] * u + tt[..., None] * v).reshape(-1, 3))
    return np.vstack(nodes)


def _oracle_rrup_rjb(r: Rupture, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mesh = _surface_mesh(r)
    rrup = cKDTree(mesh).query(np.column_stack([xy, np.zeros(len(xy))]))[0]
    rjb = cKDTree(mesh[:, :2]).query(xy)[0]
    if r.dip < 90.0:
        feet = [Polygon(q[:, :2]) for q in r.quads]
        inside = np.array([any(f.contains(Point(p)) for f in feet) for p in xy])
        rjb[inside] = 0.0
    return rrup, rjb


def _oracle_gc2(r: Rupture, xy: np.ndarray, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """GC2 T and U with the segment weights integrated numerically."""
    sum_w = np.zeros(len(xy))
    sum_wt = np.zeros(len(xy))
    sum_wu = np.zeros(len(xy))
    s_i = 0.0
    for i in range(len(r.trace_xy_km) - 1):
        a, e, normal = _frame(r, i)
        length = float(np.linalg.norm(r.trace_xy_km[i + 1] - a))
        ds = length / n
        nodes = a + np.outer((np.arange(n) + 0.5) * ds, e)
        r2 = ((xy[:, None, :] - nodes[None, :, :]) ** 2).sum(axis=2)
        w = (ds / r2).sum(axis=1)
        t = (xy - a) @ normal
        u = (xy - a) @ e
        sum_w += w
        sum_wt += w * t
        sum_wu += w * (u + s_i)
        s_i += length
    return sum_wt / sum_w, sum_wu / sum_w


def _distance_to_trace(r: Rupture, xy: np.ndarray) -> np.ndarray:
    out = np.full(len(xy), np.inf)
    for i in range(len(r.trace_xy_km) - 1):
        a = r.trace_xy_km[i]
        e = r.trace_xy_km[i + 1] - a
        k = np.clip(((xy - a) @ e) / (e @ e), 0.0, 1.0)
        out = np.minimum(out, np.linalg.norm(xy - (a + k[:, None] * e), axis=1))
    return out


# ------------------------------------------------------ randomised ruptures
def _random_rupture(rng: np.random.Generator, n_seg: int, vertical: bool) -> Rupture:
    strike = rng.uniform(0.0, 360.0)
    point = rng.uniform(-5.0, 5.0, 2)
    pts = [point.copy()]
    for _ in range(n_seg):
        az = math.radians(strike + rng.uniform(-40.0, 40.0))
        point = point + rng.uniform(3.0, 15.0) * np.array([math.sin(az), math.cos(az)])
        pts.append(point.copy())
    dip = 90.0 if vertical else float(rng.uniform(20.0, 89.9))
    ztor = 0.0 if rng.uniform() < 0.4 else float(rng.uniform(0.1, 5.0))
    zbot = ztor + float(rng.uniform(3.0, 10.0))
    return build_rupture(_km(pts), TM, dip, ztor, zbot)


def _random_sites(r: Rupture, rng: np.random.Generator) -> np.ndarray:
    corners = r.quads.reshape(-1, 3)[:, :2]
    lo, hi = corners.min(axis=0) - 25.0, corners.max(axis=0) + 25.0
    around = rng.uniform(lo, hi, (250, 2))
    # sites above the rupture (inside the surface projection of a dipping plane)
    q = r.quads[rng.integers(0, len(r.quads), 60)]
    s, t = rng.uniform(0, 1, (2, 60, 1))
    above = (q[:, 0] + s * (q[:, 1] - q[:, 0]) + t * (q[:, 3] - q[:, 0]))[:, :2]
    # sites beyond both ends, near the trace's extension
    a0, e0, n0 = _frame(r, 0)
    _, e1, n1 = _frame(r, len(r.trace_xy_km) - 2)
    d = rng.uniform(0.5, 20.0, (2, 20, 1))
    off = rng.uniform(-10.0, 10.0, (2, 20, 1))
    beyond = np.vstack([a0 - d[0] * e0 + off[0] * n0, r.trace_xy_km[-1] + d[1] * e1 + off[1] * n1])
    return np.vstack([around, above, beyond])


@pytest.mark.parametrize("seed", range(12))
def test_random_ruptures_match_the_mesh_oracle(seed):
    rng = np.random.default_rng(1000 + seed)
    # 1, 2 and 3 segments in turn; every fourth rupture vertical
    r = _random_rupture(rng, n_seg=1 + seed % 3, vertical=seed % 4 == 3)
    xy = _random_sites(r, rng)
    d = compute_distances(r, xy)
    rrup, rjb = _oracle_rrup_rjb(r, xy)

    assert_allclose(d["rrup_km"], rrup, atol=0.1)
    assert_allclose(d["rjb_km"], rjb, atol=0.1)
    # sharper: the exact distance is at most the mesh distance and at most
    # half a mesh diagonal below it
    for exact, mesh in ((d["rrup_km"], rrup), (d["rjb_km"], rjb)):
        assert np.all(exact <= mesh + 1e-6)
        assert np.all(exact >= mesh - HALF_DIAGONAL_KM - 1e-6)

    hx, hy, hz = r.hypocentre_xyz_km
    assert_allclose(d["repi_km"], np.hypot(xy[:, 0] - hx, xy[:, 1] - hy), rtol=1e-12)
    assert_allclose(d["rhypo_km"], np.sqrt(d["repi_km"] ** 2 + hz**2), rtol=1e-12)
    # consistency: the hypocentre lies on the surface, the surface below
    # ztor (1e-6 km: distances near 0 are exact to ~1e-7 km, see
    # gm_engine.distances._seg_d2)
    assert np.all(d["rrup_km"] >= d["rjb_km"] - 1e-6)
    assert np.all(d["rrup_km"] >= r.ztor - 1e-6)
    assert np.all(d["rhypo_km"] >= d["rrup_km"] - 1e-6)
    assert np.all(d["repi_km"] >= d["rjb_km"] - 1e-6)

    far = _distance_to_trace(r, xy) > 0.5
    t, u = _oracle_gc2(r, xy[far])
    assert_allclose(d["rx_km"][far], t, atol=2e-3)
    ry0 = np.maximum(np.maximum(-u, u - r.length_km), 0.0)
    assert_allclose(d["ry0_km"][far], ry0, atol=2e-3)
    assert np.array_equal(d["hanging_wall"], (d["rx_km"] > 0) & (r.dip < 90))
    for k in KEYS:
        assert d[k].dtype == np.float64 and d[k].shape == (len(xy),)


@pytest.mark.parametrize("dip", [25.0, 60.0, 90.0])
def test_straight_trace_gc2_is_strike_normal_and_along_strike(dip):
    rng = np.random.default_rng(7)
    r = build_rupture(_km([(-3, -12), (4, 9)]), TM, dip, 1.0, 11.0)
    a, e, normal = _frame(r)
    xy = rng.uniform(-60, 60, (500, 2))
    d = compute_distances(r, xy)
    along = (xy - a) @ e
    assert_allclose(d["rx_km"], (xy - a) @ normal, atol=1e-9)
    expected_ry0 = np.maximum(np.maximum(-along, along - r.length_km), 0.0)
    assert_allclose(d["ry0_km"], expected_ry0, atol=1e-9)


# ------------------------------------------------------------- hand cases
def test_vertical_strike_slip_by_hand():
    # 20 km long, north-striking, top at 2 km, bottom at 12 km.
    r = build_rupture(_km([(0, -10), (0, 10)]), TM, 90, 2.0, 12.0)
    a, e, east = _frame(r)
    cases = [  # (along, across) from the south end -> rjb, rx, ry0
        ((10.0, 5.0), 5.0, 5.0, 0.0),  # 5 km east of the middle
        ((10.0, -5.0), 5.0, -5.0, 0.0),  # 5 km west
        ((23.0, 0.0), 3.0, 0.0, 3.0),  # 3 km beyond the north end
        ((24.0, 3.0), 5.0, 3.0, 4.0),  # 3-4-5 off the north end
        ((-6.0, -8.0), 10.0, -8.0, 6.0),  # 6-8-10 off the south end
        ((7.0, 0.0), 0.0, 0.0, 0.0),  # on the trace
    ]
    xy = np.array([a + al * e + ac * east for (al, ac), *_ in cases])
    d = compute_distances(r, xy)
    for i, (_, rjb, rx, ry0) in enumerate(cases):
        assert d["rjb_km"][i] == pytest.approx(rjb, abs=1e-9)
        assert d["rrup_km"][i] == pytest.approx(math.hypot(rjb, 2.0), abs=1e-9)
        assert d["rx_km"][i] == pytest.approx(rx, abs=1e-9)
        assert d["ry0_km"][i] == pytest.approx(ry0, abs=1e-9)
    assert not d["hanging_wall"].any()


def test_thirty_degree_thrust_hanging_and_footwall_by_hand():
    # north-striking, dipping 30 degrees east from the surface to 10 km:
    # horizontal width 10/tan(30) = 17.32 km, down-dip width 20 km.
    r = build_rupture(_km([(0, -15), (0, 15)]), TM, 30, 0.0, 10.0, dip_direction=90)
    a, e, east = _frame(r)
    h = 10.0 / math.tan(math.radians(30.0))
    mid = a + 15.0 * e
    xy = np.array([mid + x * east for x in (-5.0, 10.0, 30.0, 0.0, h)])
    d = compute_distances(r, xy)
    # footwall: the top edge is closest
    assert d["rjb_km"][0] == pytest.approx(5.0, abs=1e-9)
    assert d["rrup_km"][0] == pytest.approx(5.0, abs=1e-9)
    assert d["rx_km"][0] == pytest.approx(-5.0, abs=1e-9)
    assert not d["hanging_wall"][0]
    # hanging wall above the plane: perpendicular distance x sin(dip)
    assert d["rjb_km"][1] == 0.0
    assert d["rrup_km"][1] == pytest.approx(10.0 * 0.5, abs=1e-9)
    assert d["rx_km"][1] == pytest.approx(10.0, abs=1e-9)
    assert d["hanging_wall"][1]
    # hanging wall beyond the bottom edge: the bottom edge is closest
    assert d["rjb_km"][2] == pytest.approx(30.0 - h, abs=1e-9)
    assert d["rrup_km"][2] == pytest.approx(math.hypot(30.0 - h, 10.0), abs=1e-9)
    assert d["rx_km"][2] == pytest.approx(30.0, abs=1e-9)
    # on the trace, and right above the bottom edge
    assert d["rrup_km"][3] == pytest.approx(0.0, abs=1e-9)
    assert d["rrup_km"][4] == pytest.approx(h * 0.5, abs=1e-9)
    assert d["rjb_km"][4] == pytest.approx(0.0, abs=1e-9)


def test_buried_thrust_by_hand():
    # ztor 3 km, dip 30: a hanging-wall site 4 km out from the top edge
    # projects onto the plane at 4 cos30 + 3 sin30 = 4.96 km down dip
    # (inside), at the plane distance 4 sin30 + 3 cos30; a footwall site sees
    # the top edge.
    r = build_rupture(_km([(0, -15), (0, 15)]), TM, 30, 3.0, 10.0, dip_direction=90)
    a, e, east = _frame(r)
    mid = a + 15.0 * e
    d = compute_distances(r, np.array([mid + 4.0 * east, mid - 4.0 * east]))
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    assert d["rrup_km"][0] == pytest.approx(4.0 * s + 3.0 * c, abs=1e-9)
    assert d["rrup_km"][1] == pytest.approx(5.0, abs=1e-9)  # 3-4-5
    assert d["rjb_km"][0] == 0.0
    assert d["rjb_km"][1] == pytest.approx(4.0, abs=1e-9)


def test_bent_two_segment_trace_by_hand():
    # north for 10 km, then north-east for 10 km; vertical from the surface.
    r = build_rupture(_km([(0, 0), (0, 10), (10 * math.sqrt(0.5), 10 + 10 * math.sqrt(0.5))]),
                      TM, 90, 0.0, 12.0)
    bend = r.trace_xy_km[1]
    e1 = (bend - r.trace_xy_km[0]) / np.linalg.norm(bend - r.trace_xy_km[0])
    e2 = (r.trace_xy_km[2] - bend) / np.linalg.norm(r.trace_xy_km[2] - bend)
    # On the bisector of the bend both segments are mirror images of each
    # other: equal weights and equal t_i, so T = t_i = d sin(67.5 deg) and
    # U = (10 + a + 10 - a) / 2 = 10 (Spudich & Chiou 2015, eqs. 2 and 9).
    bisector = (-e1 + e2) / np.linalg.norm(-e1 + e2)
    xy = np.array([bend + 5.0 * bisector, bend - 5.0 * bisector, bend, r.trace_xy_km[2] + 4.0 * e2])
    d = compute_distances(r, xy)
    # half the angle between -e1 and e2: 67.5 degrees up to the grid
    # convergence of the local CRS (~1e-5 degree here)
    half = 0.5 * math.acos(float(-e1 @ e2))
    assert math.degrees(half) == pytest.approx(67.5, abs=1e-3)
    t = 5.0 * math.sin(half)
    # 1e-6 km: the projection makes the two 10 km segments differ by ~1e-7 km
    assert d["rx_km"][0] == pytest.approx(t, abs=1e-6)
    assert d["rx_km"][1] == pytest.approx(-t, abs=1e-6)
    assert d["rjb_km"][0] == pytest.approx(t, abs=1e-9)
    assert d["rrup_km"][0] == pytest.approx(t, abs=1e-9)
    # the inner side: the bend vertex itself is closest
    assert d["rjb_km"][1] == pytest.approx(5.0, abs=1e-9)
    assert d["ry0_km"][:2] == pytest.approx([0.0, 0.0], abs=1e-9)
    # on the vertex: T = 0, U = 10
    assert d["rx_km"][2] == 0.0 and d["rrup_km"][2] == 0.0 and d["ry0_km"][2] == 0.0
    # 4 km beyond the far end on the line of segment 2: t2 = 0, so its weight
    # is eq. 5, 1/(u2 - l2) - 1/u2 with u2 = 14; segment 1 takes eq. 4.
    p = xy[3]
    l1 = float(np.linalg.norm(bend - r.trace_xy_km[0]))
    l2 = float(np.linalg.norm(r.trace_xy_km[2] - bend))
    u1 = float((p - r.trace_xy_km[0]) @ e1)
    t1 = float((p - r.trace_xy_km[0]) @ np.array([e1[1], -e1[0]]))
    w1 = (math.atan((l1 - u1) / t1) - math.atan(-u1 / t1)) / t1
    u2 = l2 + 4.0
    w2 = 1.0 / (u2 - l2) - 1.0 / u2
    big_t = w1 * t1 / (w1 + w2)
    big_u = (w1 * u1 + w2 * (u2 + l1)) / (w1 + w2)
    assert t1 > 0 and big_t > 1.0  # the bend pulls T to the outer side
    assert d["rx_km"][3] == pytest.approx(big_t, abs=1e-9)
    assert d["ry0_km"][3] == pytest.approx(big_u - (l1 + l2), abs=1e-9)
    assert d["rjb_km"][3] == pytest.approx(4.0, abs=1e-9)

    # the same trace dipping 45 degrees east: a point just inside the bend of
    # the footprint is above the rupture
    dipping = build_rupture(_km([(0, 0), (0, 10), (10 * math.sqrt(0.5), 10 + 10 * math.sqrt(0.5))]),
                            TM, 45, 0.0, 12.0, dip_direction=90)
    inside = dipping.trace_xy_km[1] + np.array([1.0, 0.0])
    dd = compute_distances(dipping, inside[None])
    assert dd["rjb_km"][0] == 0.0
    assert dd["hanging_wall"][0]


def test_gc2_is_continuous_across_the_trace():
    r = build_rupture(_km([(0, 0), (0, 10), (6, 18)]), TM, 50, 0.0, 10.0)
    a, e, normal = _frame(r, 1)
    p = a + 4.0 * e
    eps = np.array([-1e-3, -1e-7, -1e-12, 0.0, 1e-12, 1e-7, 1e-3])
    d = compute_distances(r, p + eps[:, None] * normal)
    # near a segment its weight dominates and T ~ t_i (1 + O(1) correction
    # from the other segments' subtended angles): same sign, same order
    assert np.all(np.diff(d["rx_km"]) >= 0.0)
    assert np.all(np.sign(d["rx_km"][np.abs(eps) > 1e-9]) == np.sign(eps[np.abs(eps) > 1e-9]))
    assert np.all(np.abs(d["rx_km"]) <= 2.0 * np.abs(eps))
    assert_allclose(d["ry0_km"], 0.0)
    assert np.all(np.isfinite(d["rx_km"]))


def test_results_do_not_depend_on_the_chunk_size(monkeypatch):
    rng = np.random.default_rng(3)
    r = build_rupture(_km([(0, 0), (2, 10), (6, 18)]), TM, 35, 1.0, 14.0)
    xy = rng.uniform(-40, 40, (5003, 2))
    whole = compute_distances(r, xy)
    monkeypatch.setattr(distances, "CHUNK_SITES", 1000)
    chunked = compute_distances(r, xy)
    for k in (*KEYS, "hanging_wall"):
        assert np.array_equal(whole[k], chunked[k])


def test_no_sites_give_empty_arrays():
    r = build_rupture(_km([(0, 0), (0, 10)]), TM, 35, 1.0, 14.0)
    d = compute_distances(r, np.empty((0, 2)))
    assert all(len(d[k]) == 0 for k in (*KEYS, "hanging_wall"))


@pytest.mark.parametrize("xy", [np.zeros(5), np.zeros((4, 3)), np.array([[0.0, np.nan]])])
def test_bad_site_arrays_raise_input_error(xy):
    r = build_rupture(_km([(0, 0), (0, 10)]), TM, 35, 1.0, 14.0)
    with pytest.raises(InputError) as info:
        compute_distances(r, xy)
    assert info.value.field == "sites"


# --------------------------------------------- lon/lat, UTM zones, layers
TRACE_3_ZONES = [[-121.0, 36.0], [-117.0, 36.6], [-113.0, 37.0]]  # UTM 10, 11 and 12


def test_rupture_across_utm_zones_agrees_with_geodesics():
    geod = pyproj.Geod(ellps="WGS84")
    r = build_rupture(TRACE_3_ZONES, "EPSG:4326", 90, 0.0, 15.0)
    rng = np.random.default_rng(11)
    lon = rng.uniform(-122.5, -111.5, 150)
    lat = rng.uniform(34.5, 38.5, 150)
    sites = gpd.GeoDataFrame({"id": range(150)}, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    d = site_distances(r, sites)

    elon, elat, _ = r.hypocentre_lonlat()
    repi = geod.inv(np.full_like(lon, elon), np.full_like(lat, elat), lon, lat)[2] / 1000.0
    assert_allclose(d["repi_km"], repi, rtol=5e-3, atol=0.01)

    # the trace as the rupture defines it (straight in the local CRS),
    # sampled every 100 m and taken back to lon/lat
    nodes = []
    for a, b in zip(r.trace_xy_km[:-1], r.trace_xy_km[1:]):
        k = np.linspace(0.0, 1.0, int(np.linalg.norm(b - a) / 0.1) + 1)[:, None]
        nodes.append(a + k * (b - a))
    nodes_km = np.vstack(nodes)
    to_ll = pyproj.Transformer.from_crs(r.crs, "EPSG:4326", always_xy=True)
    nlon, nlat = to_ll.transform(nodes_km[:, 0] * 1000.0, nodes_km[:, 1] * 1000.0)
    rjb = np.array([
        geod.inv(np.full_like(nlon, x), np.full_like(nlat, y), nlon, nlat)[2].min() / 1000.0
        for x, y in zip(lon, lat)
    ])
    assert_allclose(d["rjb_km"], rjb, rtol=5e-3, atol=0.06)
    assert_allclose(d["rrup_km"], rjb, rtol=5e-3, atol=0.06)  # vertical, ztor 0
    # length of the rupture matches the geodesic length of its trace
    glen = sum(geod.inv(*TRACE_3_ZONES[i], *TRACE_3_ZONES[i + 1])[2] for i in range(2)) / 1000.0
    assert r.length_km == pytest.approx(glen, rel=5e-3)


def test_sites_in_any_crs_give_the_same_distances():
    r = build_rupture(TRACE_3_ZONES, "EPSG:4326", 60, 1.0, 15.0)
    lon = np.array([-121.5, -118.0, -116.0, -113.5])
    lat = np.array([36.5, 35.8, 37.2, 36.1])
    ll = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    ref = site_distances(r, ll)
    for epsg in ("EPSG:32610", "EPSG:32611", "EPSG:32612", "EPSG:3857"):
        other = site_distances(r, ll.to_crs(epsg))
        assert_allclose(other[list(KEYS)].to_numpy(), ref[list(KEYS)].to_numpy(), atol=1e-6)
    # and the trace may itself be given in a UTM zone it only partly covers
    tr = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32611", always_xy=True)
    utm = build_rupture([list(tr.transform(x, y)) for x, y in TRACE_3_ZONES], "EPSG:32611", 60, 1.0, 15.0)
    assert_allclose(utm.quads, r.quads, atol=1e-6)


def test_site_distances_frame_polygons_and_index():
    r = build_rupture([[-118.0, 34.0], [-117.8, 34.1]], "EPSG:4326", 45, 0.0, 12.0)
    square = Polygon([(-117.95, 34.2), (-117.85, 34.2), (-117.85, 34.3), (-117.95, 34.3)])
    sites = gpd.GeoDataFrame(
        {"name": ["a", "b", "c"]},
        geometry=[Point(-118.2, 33.9), square, Point(-117.7, 34.0)],
        crs="EPSG:4326",
        index=pd.Index([10, 20, 30], name="site"),
    )
    d = site_distances(r, sites)
    assert list(d.columns) == [*KEYS, "hanging_wall"]
    assert d.index.equals(sites.index)
    assert d["hanging_wall"].dtype == bool
    # polygon -> its centroid in the local CRS
    centroid = sites.to_crs(r.crs).geometry.iloc[1].centroid
    ref = compute_distances(r, np.array([[centroid.x, centroid.y]]) / 1000.0)
    for k in KEYS:
        assert d.loc[20, k] == pytest.approx(ref[k][0], abs=1e-9)
    # a GeoSeries works as well
    s = site_distances(r, sites.geometry)
    assert_allclose(s[list(KEYS)].to_numpy(), d[list(KEYS)].to_numpy())


def test_coordinate_arrays_project_like_the_layer():
    r = build_rupture(TRACE_3_ZONES, "EPSG:4326", 60, 1.0, 15.0)
    lon = np.array([-121.5, -118.0, -116.0, -113.5])
    lat = np.array([36.5, 35.8, 37.2, 36.1])
    layer = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs("EPSG:32612")
    ref = site_distances(r, layer)
    xy = project_xy_km(r, layer.geometry.x, layer.geometry.y, "EPSG:32612")
    d = compute_distances(r, xy)
    for k in KEYS:
        assert_allclose(d[k], ref[k].to_numpy(), atol=1e-9)
    with pytest.raises(InputError) as info:
        project_xy_km(r, lon, lat, "EPSG:999999")
    assert info.value.field == "sites.crs"


def test_site_layer_errors():
    r = build_rupture([[-118.0, 34.0], [-117.8, 34.1]], "EPSG:4326", 45, 0.0, 12.0)
    no_crs = gpd.GeoDataFrame(geometry=[Point(-118.2, 33.9)])
    with pytest.raises(InputError) as info:
        site_distances(r, no_crs)
    assert info.value.field == "sites.crs"
    empty_geom = gpd.GeoDataFrame(geometry=[Point(-118.2, 33.9), None], crs="EPSG:4326", index=["x", "y"])
    with pytest.raises(InputError) as info:
        site_distances(r, empty_geom)
    assert info.value.field == "sites.geometry"
    assert "'y'" in info.value.message
