"""Source-to-site distances of a finite rupture, vectorised over sites.

All six distance metrics the ground-motion models take are computed in one
pass over the rupture's quadrilaterals, on whole arrays of sites, in the
rupture's local CRS (km, z positive down, sites at the surface):

* ``repi_km``  horizontal distance to the epicentre;
* ``rhypo_km`` 3-D distance to the hypocentre;
* ``rjb_km``   Joyner & Boore (1981) distance, the horizontal distance to the
  surface projection of the rupture (0 inside it);
* ``rrup_km``  3-D distance to the closest point of the rupture surface;
* ``rx_km``    GC2 strike-normal coordinate T, positive on the hanging wall;
* ``ry0_km``   GC2 distance beyond the ends of the rupture, parallel to strike;
* ``hanging_wall`` Rx > 0 on a dipping fault.

Rx and Ry0 use the generalized coordinates GC2 of Spudich & Chiou (2015,
"Strike-parallel and strike-normal coordinate system around geometrically
complicated rupture traces: use by NGA-West2 and further improvements", USGS
Open-File Report 2015-1028) for one continuous trace, for which they reduce
to the segment-weighted coordinates of their eqs. 2-9 with s_i the length of
the trace before segment i (their eq. 12 with a zero origin shift). For a
straight trace they are the ordinary strike-normal and along-strike
coordinates.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .errors import InputError

if TYPE_CHECKING:
    import geopandas
    import pandas

    from .rupture import Rupture

#: Sites are processed in chunks of this many: the ~20 temporaries per chunk
#: then stay in the CPU cache, which is faster than whole-array passes and
#: bounds memory to a few MB whatever the number of sites.
CHUNK_SITES = 16384

#: |T| below this (km, i.e. 1 micrometre) counts as on the line of a segment,
#: where the GC2 weight of eq. 4 has its 0/0 limit.
_ON_LINE_KM = 1e-9

DISTANCE_COLUMNS = ("repi_km", "rhypo_km", "rjb_km", "rrup_km", "rx_km", "ry0_km")


class _Quad:
    """Constants of one parallelogram ``A + s U + t V``, s, t in [0, 1].

    Every quadrilateral :func:`gm_engine.rupture.build_rupture` makes is a
    parallelogram (top and bottom edges are the same vector), so the closest
    point follows from three dot products per site.
    """

    def __init__(self, quad: np.ndarray) -> None:
        a, b, _, d = (np.asarray(c, dtype=float) for c in quad)
        u = b - a
        v = d - a
        self.a = a
        self.u = u
        self.v = v
        self.uu = float(u @ u)
        self.vv = float(v @ v)
        self.uv = float(u @ v)
        self.det = self.uu * self.vv - self.uv * self.uv
        n = np.cross(u, v)
        self.n = n / np.linalg.norm(n)
        # Horizontal footprint: U is horizontal for build_rupture's quads but
        # keep the general form; V2 vanishes for a vertical fault.
        self.u2 = u[:2]
        self.v2 = v[:2]
        self.uu2 = float(self.u2 @ self.u2)
        self.vv2 = float(self.v2 @ self.v2)
        self.uv2 = float(self.u2 @ self.v2)
        self.cross2 = float(self.u2[0] * self.v2[1] - self.u2[1] * self.v2[0])
        # A footprint thinner than 1 mm relative to its length is a line.
        self.flat = abs(self.cross2) <= 1e-6 * max(self.uu2, 1e-300)
        self.length2 = float(np.sqrt(self.uu2))


def _seg_d2(ww: np.ndarray, we: np.ndarray, ee: float) -> np.ndarray:
    """Squared distance from w to the segment [0, e], from |w|^2, w.e and e.e.

    Written with dot products only, so the four edges of a quadrilateral cost
    no new pass over the sites. The price is cancellation when the distance
    is tiny next to |w|: a site on the rupture may get ~1e-7 km instead of 0,
    far below any use of these distances.
    """
    k = np.clip(we / ee, 0.0, 1.0)
    return ww - k * (2.0 * we - k * ee)


def _parallelogram_d2(
    ww: np.ndarray, wu: np.ndarray, wv: np.ndarray, uu: float, vv: float, uv: float
) -> np.ndarray:
    """Squared distance to the boundary of a parallelogram (its four edges).

    The edges are the segments [A, A+U], [A+V, A+V+U], [A, A+V], [A+U, A+U+V];
    for the shifted origins, |w - V|^2 = |w|^2 - 2 w.V + V.V and so on, so no
    new dot product over the sites is needed.
    """
    d2 = _seg_d2(ww, wu, uu)
    np.minimum(d2, _seg_d2(ww - 2.0 * wv + vv, wu - uv, uu), out=d2)
    np.minimum(d2, _seg_d2(ww, wv, vv), out=d2)
    np.minimum(d2, _seg_d2(ww - 2.0 * wu + uu, wv - uv, vv), out=d2)
    return d2


def _rrup2_quad(q: _Quad, wx: np.ndarray, wy: np.ndarray, wz: Any, wu: np.ndarray, ww2: np.ndarray) -> np.ndarray:
    """Squared 3-D distance to one quadrilateral.

    If the orthogonal projection of the site on the plane falls inside the
    parallelogram (0 <= s, t <= 1 in its oblique coordinates, from the 2x2
    normal equations with Gram matrix [[UU, UV], [UV, VV]]), the distance is
    the distance to the plane; otherwise the closest point is on an edge.
    """
    wu3 = wu + wz * q.u[2] if q.u[2] != 0.0 else wu
    wv = wx * q.v[0] + wy * q.v[1] + wz * q.v[2]
    ww = ww2 + wz * wz
    s = (q.vv * wu3 - q.uv * wv) / q.det
    t = (q.uu * wv - q.uv * wu3) / q.det
    inside = (s >= 0.0) & (s <= 1.0) & (t >= 0.0) & (t <= 1.0)
    normal = wx * q.n[0] + wy * q.n[1] + wz * q.n[2]
    d2 = _parallelogram_d2(ww, wu3, wv, q.uu, q.vv, q.uv)
    return np.where(inside, normal * normal, d2)


def _rjb2_quad(q: _Quad, wx: np.ndarray, wy: np.ndarray, wu: np.ndarray, ww2: np.ndarray) -> np.ndarray:
    """Squared horizontal distance to one quadrilateral's footprint (0 inside)."""
    if q.flat:
        # Vertical fault: the footprint is the top edge.
        return _seg_d2(ww2, wu, q.uu2)
    wv = wx * q.v2[0] + wy * q.v2[1]
    s = (wx * q.v2[1] - wy * q.v2[0]) / q.cross2
    t = (q.u2[0] * wy - q.u2[1] * wx) / q.cross2
    inside = (s >= 0.0) & (s <= 1.0) & (t >= 0.0) & (t <= 1.0)
    d2 = _parallelogram_d2(ww2, wu, wv, q.uu2, q.vv2, q.uv2)
    d2[inside] = 0.0
    return d2


def rrup_to_quads(quads: np.ndarray, xy_km: np.ndarray, depth_km: float = 0.0) -> np.ndarray:
    """3-D closest distance from points at ``depth_km`` to parallelogram quads.

    Used to check that a user hypocentre lies on the rupture; the site
    distances come from :func:`compute_distances`.
    """
    xy = np.asarray(xy_km, dtype=float).reshape(-1, 2)
    out = np.full(len(xy), np.inf)
    for quad in np.asarray(quads, dtype=float):
        q = _Quad(quad)
        wx = xy[:, 0] - q.a[0]
        wy = xy[:, 1] - q.a[1]
        wz = depth_km - q.a[2]
        wu = wx * q.u[0] + wy * q.u[1]
        np.minimum(out, _rrup2_quad(q, wx, wy, wz, wu, wx * wx + wy * wy), out=out)
    return np.sqrt(np.maximum(out, 0.0))


def _gc2_segment(
    wx: np.ndarray, wy: np.ndarray, wu: np.ndarray, length: float, ux: float, uy: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """GC2 weight, weighted T and local u of one straight trace segment.

    Spudich & Chiou (2015): u_i, t_i are the site's along- and across-strike
    coordinates relative to the segment start (t positive to the right of the
    segment, the hanging-wall side under the right-hand rule); the weight is
    w_i = integral over the segment of r^-2 ds, in closed form
    w_i = [atan((l_i - u_i)/t_i) - atan(-u_i/t_i)] / t_i (eq. 4) and
    w_i = 1/(u_i - l_i) - 1/u_i on the segment's line outside it (eq. 5).
    The arctangent difference is the signed angle the segment subtends at the
    site, computed here as one atan2 so that it stays accurate at small t_i:
    theta_i = atan2(l_i t_i, t_i^2 + u_i (u_i - l_i)); then w_i t_i = theta_i,
    which is the term summed in eq. 2 for T.

    Returns
    -------
    w, w_t, u
        The weight (inf on the segment itself), w_i * t_i, and u_i.
    """
    u = wu / length
    t = (wx * uy - wy * ux) / length
    theta = np.arctan2(length * t, t * t + u * (u - length))
    near = np.abs(t) <= _ON_LINE_KM
    safe_t = np.where(near, 1.0, t)
    w = theta / safe_t
    if np.any(near):
        on = near & (u >= -_ON_LINE_KM) & (u <= length + _ON_LINE_KM)
        off = near & ~on
        # eq. 5, written as l / (u (u - l)) which is the same for u outside [0, l]
        w[off] = length / (u[off] * (u[off] - length))
        w[on] = np.inf
        theta = np.where(near, 0.0, theta)
    return w, theta, u


def _check_xy(xy_km: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy_km, dtype=float)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise InputError("sites", f"site coordinates must be an (n, 2) array of x, y in km, got shape {xy.shape}")
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise InputError("sites", f"site {int(np.argmax(bad))} has non-finite coordinates")
    return xy


def compute_distances(rupture: Rupture, xy_km: np.ndarray) -> dict[str, np.ndarray]:
    """All distance metrics from ``rupture`` to surface sites given in local km.

    Parameters
    ----------
    rupture
        From :func:`gm_engine.rupture.build_rupture`.
    xy_km
        (n, 2) site coordinates in the rupture's local CRS, in km.

    Returns
    -------
    dict
        ``repi_km, rhypo_km, rjb_km, rrup_km, rx_km, ry0_km`` (float64, km)
        and ``hanging_wall`` (bool), each of length n.
    """
    xy = _check_xy(xy_km)
    n = len(xy)
    out: dict[str, np.ndarray] = {k: np.empty(n) for k in DISTANCE_COLUMNS}
    quads = [_Quad(q) for q in rupture.quads]
    lengths = rupture.segment_lengths_km
    offsets = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])  # s_i of eq. 12
    total = float(lengths.sum())
    hx, hy, hz = (float(v) for v in rupture.hypocentre_xyz_km)

    for lo in range(0, n, CHUNK_SITES):
        hi = min(lo + CHUNK_SITES, n)
        x = xy[lo:hi, 0]
        y = xy[lo:hi, 1]
        repi = np.hypot(x - hx, y - hy)
        out["repi_km"][lo:hi] = repi
        out["rhypo_km"][lo:hi] = np.sqrt(repi * repi + hz * hz)

        rrup2 = np.full(hi - lo, np.inf)
        rjb2 = np.full(hi - lo, np.inf)
        sum_w = np.zeros(hi - lo)
        sum_wt = np.zeros(hi - lo)
        sum_wu = np.zeros(hi - lo)
        on_u = np.full(hi - lo, np.nan)
        for i, q in enumerate(quads):
            wx = x - q.a[0]
            wy = y - q.a[1]
            wu = wx * q.u[0] + wy * q.u[1]
            ww2 = wx * wx + wy * wy
            np.minimum(rrup2, _rrup2_quad(q, wx, wy, -q.a[2], wu, ww2), out=rrup2)
            np.minimum(rjb2, _rjb2_quad(q, wx, wy, wu, ww2), out=rjb2)

            # GC2 (Spudich & Chiou 2015): the segment starts at trace[i], which
            # is the quad's top-start corner, so wx, wy, wu are reused.
            w, wt, u = _gc2_segment(wx, wy, wu, float(lengths[i]), q.u[0], q.u[1])
            on = np.isinf(w)
            if on.any():
                on_u[on] = u[on] + offsets[i]
                w[on] = 0.0
            sum_w += w  # eq. 3
            sum_wt += wt  # numerator of eq. 2
            sum_wu += w * (u + offsets[i])  # numerator of eq. 9

        out["rrup_km"][lo:hi] = np.sqrt(np.maximum(rrup2, 0.0))
        out["rjb_km"][lo:hi] = np.sqrt(np.maximum(rjb2, 0.0))
        on_trace = ~np.isnan(on_u)
        with np.errstate(invalid="ignore", divide="ignore"):
            big_t = np.where(on_trace, 0.0, sum_wt / sum_w)  # eq. 2
            big_u = np.where(on_trace, on_u, sum_wu / sum_w)  # eq. 9
        out["rx_km"][lo:hi] = big_t
        # Ry0: distance beyond the ends measured parallel to strike, -U before
        # the first point, U - L after the last, 0 between (Spudich & Chiou
        # 2015, definition of Ry0 from the GC2 U coordinate).
        out["ry0_km"][lo:hi] = np.maximum(np.maximum(-big_u, big_u - total), 0.0)

    result = {k: out[k] for k in DISTANCE_COLUMNS}
    result["hanging_wall"] = (result["rx_km"] > 0.0) & (rupture.dip < 90.0)
    return result


def project_xy_km(rupture: Rupture, x: ArrayLike, y: ArrayLike, crs: Any) -> np.ndarray:
    """Coordinate arrays in any CRS to the rupture's local km, as an (n, 2) array.

    For grids and other sites that are arrays already: one vectorised pyproj
    call, without building a GeoDataFrame of points, whose per-geometry work
    dominates :func:`site_distances` with shapely < 2 (see docs/PERFORMANCE.md).
    ``x`` is longitude for geographic CRSs, whatever the CRS's axis order.
    """
    import pyproj

    try:
        src = pyproj.CRS.from_user_input(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise InputError("sites.crs", f"unknown coordinate reference system {crs!r}: {exc}") from None
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise InputError("sites", f"x and y must have the same length, got {xa.size} and {ya.size}")
    transformer = pyproj.Transformer.from_crs(src, rupture.crs, always_xy=True)
    lx, ly = transformer.transform(xa, ya)
    return np.column_stack([np.asarray(lx, dtype=float), np.asarray(ly, dtype=float)]) / 1000.0


def site_distances(rupture: Rupture, sites: geopandas.GeoDataFrame) -> pandas.DataFrame:
    """Distance table for a layer of sites in any CRS.

    The sites are reprojected with GeoPandas to the rupture's local CRS;
    polygon or line sites are represented by their centroid computed there
    (not in lon/lat, where centroids are distorted).

    Parameters
    ----------
    rupture
        From :func:`gm_engine.rupture.build_rupture`.
    sites
        GeoDataFrame (or GeoSeries) with a CRS.

    Returns
    -------
    pandas.DataFrame
        Columns ``repi_km, rhypo_km, rjb_km, rrup_km, rx_km, ry0_km,
        hanging_wall``, index aligned with ``sites``.
    """
    import pandas as pd

    geometry = sites.geometry if hasattr(sites, "geometry") else sites
    if geometry.crs is None:
        raise InputError("sites.crs", "the site layer has no coordinate reference system")
    missing = geometry.isna() | geometry.is_empty
    if missing.any():
        label = geometry.index[np.argmax(missing.to_numpy())]
        raise InputError("sites.geometry", f"site {label!r} has no geometry")
    local = geometry.to_crs(rupture.crs)
    if (local.geom_type == "Point").all():
        centroids = local
    else:
        centroids = local.centroid
    xy = np.column_stack([np.asarray(centroids.x, dtype=float), np.asarray(centroids.y, dtype=float)]) / 1000.0
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        label = geometry.index[int(np.argmax(bad))]
        raise InputError("sites.geometry", f"site {label!r} lies outside the area its CRS can be projected from")
    d = compute_distances(rupture, xy)
    return pd.DataFrame(d, index=sites.index, columns=[*DISTANCE_COLUMNS, "hanging_wall"])
