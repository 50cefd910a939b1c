"""Finite rupture surface built from a fault trace drawn on the map.

A multi-segment trace becomes a chain of planar quadrilaterals in a local
transverse Mercator CRS centred on the rupture, so that every later distance is
plain Euclidean geometry in kilometres and a rupture crossing UTM zones (or the
antimeridian) needs no special case.

Conventions
-----------
* The trace is the surface projection of the **top edge** of the rupture (the
  edge at depth ``ztor``), the convention of the NGA-West2 distance metrics in
  which Rx and Ry0 are measured from that edge (Ancheta et al. 2014, Earthquake
  Spectra 30(3), 989-1005; Spudich & Chiou 2015). For a
  buried rupture under a mapped surface fault, move the trace down-dip by
  ``ztor / tan(dip)`` before calling :func:`build_rupture`.
* Local coordinates: x east, y north (grid north of the local CRS, which is
  true north at the rupture centre), z positive down, all in km.
* Every segment dips toward one common ``dip_direction``: its bottom edge is
  its top edge moved by the same horizontal vector of length
  ``(zbot - ztor) / tan(dip)``, as OpenQuake's ``SimpleFaultSurface`` builds a
  multi-segment fault (gem/oq-engine, openquake/hazardlib/geo/surface/
  simple_fault.py). Adjacent quadrilaterals therefore share their down-dip
  edge and the surface has no gaps or overlaps at the bends; the price is that
  a segment oblique to the dip direction is steeper than ``dip``.
* The stored trace follows the right-hand rule with respect to
  ``dip_direction`` (the fault dips to the right when looking along it): a
  trace drawn the other way is reversed, so that GC2 T (= Rx) is positive on
  the hanging-wall side. For a vertical fault ``dip_direction`` only chooses
  the side where Rx is positive.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np
import pyproj
from numpy.typing import ArrayLike

from .errors import InputError

if TYPE_CHECKING:
    from shapely.geometry import LineString, MultiPolygon, Polygon

#: Default hypocentre position when a scenario gives none: half-way along
#: strike, and 60 % of the down-dip width below the top edge. Mai, Spudich &
#: Boatwright (2005, BSSA 95(3), 965-980) found hypocentres of finite-fault
#: models preferentially in the deeper part of the rupture; Kaklamanos et al.
#: (2011, Earthquake Spectra 27(4), 1219-1235) adopted the 0.6 fraction in
#: their estimate of the top depth, Ztor = max(Zhyp - 0.6 W sin(dip), 0).
DEFAULT_ALONG_STRIKE_FRACTION = 0.5
DEFAULT_DOWN_DIP_FRACTION = 0.6

#: A hypocentre given as lon/lat/depth must lie within this 3-D distance of the
#: rupture surface; farther away it is almost certainly a mistake in the input.
HYPOCENTRE_TOLERANCE_KM = 5.0

#: For a dipping fault, every segment's strike must make at least this angle
#: with the dip direction: closer to parallel the quadrilateral degenerates
#: (its plane becomes nearly vertical and its footprint a sliver).
MIN_SEGMENT_DIP_DIRECTION_ANGLE = 20.0

#: Width in metres of the display polygon of a vertical fault, whose true
#: surface projection is a line.
_VERTICAL_DISPLAY_HALF_WIDTH_M = 1.0

_GEOGRAPHIC = "EPSG:4326"


def local_crs_for(lon: ArrayLike, lat: ArrayLike) -> pyproj.CRS:
    """Transverse Mercator CRS (metres) centred on the given points.

    The centre is the middle of the points' longitude/latitude bounding box,
    longitudes unwrapped around the first point so that a trace crossing the
    antimeridian is centred correctly. On a transverse Mercator with scale
    factor 1 the scale error is about x^2 / (2 R^2) at a distance x from the
    central meridian (Snyder 1987, USGS Prof. Paper 1395, eq. 8-11): 0.03 % at
    100 km, 0.3 % at 300 km, so planar distances stay within the 0.5 %
    accuracy the ground-motion models need across a scenario's footprint, with
    no special case for ruptures crossing UTM zone boundaries.

    Parameters
    ----------
    lon, lat
        Geographic coordinates (WGS84 degrees) of the rupture trace.

    Returns
    -------
    pyproj.CRS
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float)).ravel()
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float)).ravel()
    if lon_a.size == 0 or lon_a.size != lat_a.size:
        raise InputError("rupture.trace", "needs matching, non-empty longitude and latitude arrays")
    if not (np.all(np.isfinite(lon_a)) and np.all(np.isfinite(lat_a))):
        raise InputError("rupture.trace", "coordinates must be finite numbers")
    if np.any(np.abs(lat_a) > 90.0):
        raise InputError("rupture.trace", "latitudes must lie in [-90, 90] degrees")
    unwrapped = lon_a[0] + (lon_a - lon_a[0] + 180.0) % 360.0 - 180.0
    lon_0 = (0.5 * (unwrapped.min() + unwrapped.max()) + 180.0) % 360.0 - 180.0
    lat_0 = 0.5 * (lat_a.min() + lat_a.max())
    return pyproj.CRS.from_dict(
        {
            "proj": "tmerc",
            "lat_0": round(float(lat_0), 9),
            "lon_0": round(float(lon_0), 9),
            "k": 1.0,
            "x_0": 0.0,
            "y_0": 0.0,
            "ellps": "WGS84",
            "units": "m",
            "no_defs": True,
        }
    )


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Rupture:
    """A finite rupture: planar quadrilaterals in a local CRS (km, z down).

    Built by :func:`build_rupture`; the arrays are read-only so that one
    rupture can be shared by threads and Dask workers without copies.

    Attributes
    ----------
    crs
        Local transverse Mercator ``pyproj.CRS`` (metres) centred on the rupture.
    trace_xy_km
        (n, 2) top-edge trace in local km, ordered by the right-hand rule.
    dip, dip_direction
        Dip (degrees, (0, 90]) and dip direction (degrees azimuth).
    ztor, zbot
        Depths of the top and bottom edges (km).
    quads
        (n - 1, 4, 3) corners of each segment's quadrilateral in local km, in
        the order top-start, top-end, bottom-end, bottom-start.
    hypocentre_xyz_km
        (3,) hypocentre, local km, z = depth.
    trace_reversed
        True when the input trace was reversed to follow the right-hand rule.
    """

    crs: pyproj.CRS
    trace_xy_km: np.ndarray
    dip: float
    dip_direction: float
    ztor: float
    zbot: float
    quads: np.ndarray
    hypocentre_xyz_km: np.ndarray
    trace_reversed: bool = False

    def __post_init__(self) -> None:
        # Private read-only float copies, however the rupture was made.
        for name in ("trace_xy_km", "quads", "hypocentre_xyz_km"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Rebuild through __init__ when unpickled (Dask workers), so that the
        # arrays come back read-only.
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))

    @property
    def segment_lengths_km(self) -> np.ndarray:
        """Horizontal length of each trace segment (km)."""
        return np.hypot(*np.diff(self.trace_xy_km, axis=0).T)

    @property
    def length_km(self) -> float:
        """Total length of the trace along its segments (km)."""
        return float(self.segment_lengths_km.sum())

    @property
    def width_km(self) -> float:
        """Nominal down-dip width (zbot - ztor) / sin(dip) (km)."""
        return float((self.zbot - self.ztor) / math.sin(math.radians(self.dip)))

    @property
    def area_km2(self) -> float:
        """True area of the quadrilaterals (km^2).

        Equals length x width when every segment is perpendicular to the dip
        direction; a segment oblique to it is steeper, hence a little smaller.
        """
        top = self.quads[:, 1] - self.quads[:, 0]
        down = self.quads[:, 3] - self.quads[:, 0]
        return float(np.linalg.norm(np.cross(top, down), axis=1).sum())

    def _to_lonlat(self, geometry: Any) -> Any:
        import geopandas as gpd
        from shapely import affinity

        metres = affinity.scale(geometry, xfact=1000.0, yfact=1000.0, origin=(0.0, 0.0))
        return gpd.GeoSeries([metres], crs=self.crs).to_crs(_GEOGRAPHIC).iloc[0]

    def trace_lonlat(self) -> LineString:
        """Top-edge trace as a shapely LineString in WGS84 lon/lat (display)."""
        from shapely.geometry import LineString

        return self._to_lonlat(LineString(self.trace_xy_km))

    def surface_projection_local(self) -> Polygon | MultiPolygon:
        """Surface projection of the rupture in local km (shapely geometry).

        A vertical fault projects onto its trace, a line; so that the result is
        always polygonal (for layers and Rjb display) it is then the trace
        widened by 1 m on each side.
        """
        from shapely.geometry import LineString, Polygon
        from shapely.ops import unary_union

        if self.dip >= 90.0:
            line = LineString(self.trace_xy_km)
            return line.buffer(_VERTICAL_DISPLAY_HALF_WIDTH_M / 1000.0, cap_style=2)
        polys = [Polygon(q[:, :2]) for q in self.quads]
        return unary_union(polys)

    def surface_projection_lonlat(self) -> Polygon | MultiPolygon:
        """Surface projection as a shapely Polygon/MultiPolygon in WGS84 lon/lat."""
        return self._to_lonlat(self.surface_projection_local())

    def hypocentre_lonlat(self) -> tuple[float, float, float]:
        """Hypocentre as (lon, lat, depth_km) in WGS84."""
        from shapely.geometry import Point

        h = self.hypocentre_xyz_km
        p = self._to_lonlat(Point(h[0], h[1]))
        return float(p.x), float(p.y), float(h[2])


def _parse_crs(crs: Any) -> pyproj.CRS:
    if crs is None or (isinstance(crs, str) and not crs.strip()):
        raise InputError("rupture.crs", "is required (e.g. 'EPSG:4326' for lon/lat)")
    try:
        return pyproj.CRS.from_user_input(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError) as exc:
        raise InputError("rupture.crs", f"unknown coordinate reference system {crs!r}: {exc}") from None


def _number(value: Any, field: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(field, f"must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(field, f"must be a finite number, got {value!r}")
    return v


def _trace_array(trace: Sequence[Sequence[float]]) -> np.ndarray:
    try:
        arr = np.asarray(trace, dtype=float)
    except (TypeError, ValueError):
        raise InputError("rupture.trace", "must be a list of [x, y] coordinate pairs") from None
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise InputError("rupture.trace", "must be a list of [x, y] (or [x, y, z]) coordinate pairs")
    if arr.shape[0] < 2:
        raise InputError("rupture.trace", f"needs at least 2 points, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr[:, :2])):
        raise InputError("rupture.trace", "coordinates must be finite numbers")
    return arr[:, :2]


def _reproject_xy(x: np.ndarray, y: np.ndarray, src: Any, dst: Any) -> tuple[np.ndarray, np.ndarray]:
    """Reproject point coordinates with GeoPandas (always x/lon first)."""
    import geopandas as gpd

    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=src).to_crs(dst)
    return np.asarray(pts.x, dtype=float), np.asarray(pts.y, dtype=float)


def _azimuth_vector(azimuth_deg: float) -> np.ndarray:
    a = math.radians(azimuth_deg)
    return np.array([math.sin(a), math.cos(a)])


def _point_at_arc_length(trace: np.ndarray, s: float) -> np.ndarray:
    """Point of a polyline at arc length ``s`` from its first vertex."""
    seg = np.diff(trace, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    i = int(np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(lengths) - 1))
    f = (s - cum[i]) / lengths[i]
    return trace[i] + min(max(f, 0.0), 1.0) * seg[i]


def _fraction(hypo: dict, key: str) -> float:
    v = _number(hypo[key], f"rupture.hypocentre.{key}")
    if not 0.0 <= v <= 1.0:
        raise InputError(f"rupture.hypocentre.{key}", f"must lie in [0, 1], got {v}")
    return v


def build_rupture(
    trace: Sequence[Sequence[float]],
    crs: str | pyproj.CRS,
    dip: float,
    ztor: float,
    zbot: float,
    dip_direction: float | None = None,
    hypocentre: dict | None = None,
) -> Rupture:
    """Build the rupture surface from a trace, a dip and two depths.

    Parameters
    ----------
    trace
        Vertices of the top-edge trace, ``[[x, y], ...]`` in ``crs`` (x first:
        longitude first for geographic CRSs, whatever the CRS's axis order).
        A third coordinate (QGIS Z) is ignored.
    crs
        Anything ``pyproj.CRS.from_user_input`` accepts (``"EPSG:4326"``, WKT...).
    dip
        Dip in degrees, in (0, 90].
    ztor, zbot
        Depth of the top and bottom edges in km, ``0 <= ztor < zbot``.
    dip_direction
        Azimuth (degrees) the fault dips toward. Default: the right-hand rule,
        the azimuth from the first to the last trace point + 90.
    hypocentre
        ``None`` (default: mid-length along strike, 60 % of the width down
        dip, see :data:`DEFAULT_DOWN_DIP_FRACTION`), or
        ``{"along_strike_fraction": a, "down_dip_fraction": d}`` with a, d in
        [0, 1], ``a`` measured from the first point of the trace as given, or
        ``{"lon": ..., "lat": ..., "depth_km": ...}`` (WGS84), which must lie
        within :data:`HYPOCENTRE_TOLERANCE_KM` of the rupture surface.

    Returns
    -------
    Rupture

    Raises
    ------
    InputError
        Naming ``rupture.trace``, ``rupture.crs``, ``rupture.dip``,
        ``rupture.dip_direction``, ``rupture.ztor``, ``rupture.zbot`` or
        ``rupture.hypocentre[.key]`` with the accepted range.
    """
    from shapely.geometry import LineString

    src_crs = _parse_crs(crs)
    pts = _trace_array(trace)
    dip_v = _number(dip, "rupture.dip")
    if not 0.0 < dip_v <= 90.0:
        raise InputError("rupture.dip", f"must lie in (0, 90] degrees, got {dip_v}")
    ztor_v = _number(ztor, "rupture.ztor")
    zbot_v = _number(zbot, "rupture.zbot")
    if ztor_v < 0.0:
        raise InputError("rupture.ztor", f"must be >= 0 km (depth, positive down), got {ztor_v}")
    if zbot_v <= ztor_v:
        raise InputError("rupture.zbot", f"must be deeper than ztor ({ztor_v} km), got {zbot_v}")

    # Local CRS around the trace, then the trace in local km.
    lon, lat = _reproject_xy(pts[:, 0], pts[:, 1], src_crs, _GEOGRAPHIC)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise InputError("rupture.trace", f"coordinates lie outside the valid area of {src_crs.name}")
    local = local_crs_for(lon, lat)
    x, y = _reproject_xy(pts[:, 0], pts[:, 1], src_crs, local)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InputError("rupture.trace", "coordinates could not be projected to the local CRS")
    xy = np.column_stack([x, y]) / 1000.0

    seg = np.diff(xy, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    # 1 m: two vertices closer than this are a digitising slip, not a segment.
    if np.any(seg_len < 1e-3):
        i = int(np.argmin(seg_len))
        raise InputError("rupture.trace", f"segment {i + 1} has zero length (repeated point {i + 2})")
    if np.allclose(xy[0], xy[-1], atol=1e-3):
        raise InputError("rupture.trace", "must not be closed (first and last points coincide)")
    if not LineString(xy).is_simple:
        raise InputError("rupture.trace", "must not intersect itself")

    overall = xy[-1] - xy[0]
    if dip_direction is None:
        strike = math.degrees(math.atan2(overall[0], overall[1]))
        dd = (strike + 90.0) % 360.0
    else:
        dd = _number(dip_direction, "rupture.dip_direction") % 360.0
    d_hat = _azimuth_vector(dd)

    # Right-hand rule: the dip direction lies to the right of the trace, i.e.
    # on the side of the right normal (dy, -dx) of the overall direction.
    reversed_ = bool(overall[1] * d_hat[0] - overall[0] * d_hat[1] < 0.0)
    if reversed_:
        xy = xy[::-1].copy()
        seg = np.diff(xy, axis=0)
        seg_len = seg_len[::-1]

    if dip_v < 90.0:
        right_normal = np.column_stack([seg[:, 1], -seg[:, 0]]) / seg_len[:, None]
        sin_angle = right_normal @ d_hat
        bad = sin_angle < math.sin(math.radians(MIN_SEGMENT_DIP_DIRECTION_ANGLE))
        if np.any(bad):
            raise InputError(
                "rupture.dip_direction",
                f"{dd:.1f} degrees makes less than {MIN_SEGMENT_DIP_DIRECTION_ANGLE:g} degrees with, "
                "or lies on the other side of, some trace segments; every segment must dip "
                "toward the same side (split the fault or change the dip direction)",
            )
        horizontal = (zbot_v - ztor_v) / math.tan(math.radians(dip_v))
    else:
        horizontal = 0.0
    down = np.array([horizontal * d_hat[0], horizontal * d_hat[1], zbot_v - ztor_v])

    top = np.column_stack([xy, np.full(len(xy), ztor_v)])
    quads = np.stack([top[:-1], top[1:], top[1:] + down, top[:-1] + down], axis=1)

    hypo = _hypocentre(hypocentre, xy, down, ztor_v, zbot_v, reversed_, quads, local)

    return Rupture(
        crs=local,
        trace_xy_km=xy,
        dip=dip_v,
        dip_direction=dd,
        ztor=ztor_v,
        zbot=zbot_v,
        quads=quads,
        hypocentre_xyz_km=hypo,
        trace_reversed=reversed_,
    )


def _hypocentre(
    hypocentre: dict | None,
    xy: np.ndarray,
    down: np.ndarray,
    ztor: float,
    zbot: float,
    reversed_: bool,
    quads: np.ndarray,
    local: pyproj.CRS,
) -> np.ndarray:
    """Hypocentre in local km from one of the three accepted forms."""
    if hypocentre is None:
        hypocentre = {
            "along_strike_fraction": DEFAULT_ALONG_STRIKE_FRACTION,
            "down_dip_fraction": DEFAULT_DOWN_DIP_FRACTION,
        }
    if not isinstance(hypocentre, dict):
        raise InputError("rupture.hypocentre", "must be a mapping with lon/lat/depth_km or fractions")
    keys = set(hypocentre)
    if keys == {"along_strike_fraction", "down_dip_fraction"}:
        along = _fraction(hypocentre, "along_strike_fraction")
        down_frac = _fraction(hypocentre, "down_dip_fraction")
        if reversed_:
            along = 1.0 - along
        total = float(np.hypot(*np.diff(xy, axis=0).T).sum())
        p = _point_at_arc_length(xy, along * total)
        return np.array([p[0], p[1], ztor]) + down_frac * down
    if keys == {"lon", "lat", "depth_km"}:
        lon = _number(hypocentre["lon"], "rupture.hypocentre.lon")
        lat = _number(hypocentre["lat"], "rupture.hypocentre.lat")
        depth = _number(hypocentre["depth_km"], "rupture.hypocentre.depth_km")
        if not -90.0 <= lat <= 90.0:
            raise InputError("rupture.hypocentre.lat", f"must lie in [-90, 90], got {lat}")
        if not ztor <= depth <= zbot:
            raise InputError(
                "rupture.hypocentre.depth_km", f"must lie between ztor and zbot [{ztor}, {zbot}] km, got {depth}"
            )
        hx, hy = _reproject_xy(np.array([lon]), np.array([lat]), _GEOGRAPHIC, local)
        point = np.array([hx[0] / 1000.0, hy[0] / 1000.0, depth])
        from .distances import rrup_to_quads

        gap = float(rrup_to_quads(quads, point[None, :2], depth_km=depth)[0])
        if gap > HYPOCENTRE_TOLERANCE_KM:
            raise InputError(
                "rupture.hypocentre",
                f"lies {gap:.1f} km from the rupture surface; it must be within "
                f"{HYPOCENTRE_TOLERANCE_KM:g} km",
            )
        return point
    raise InputError(
        "rupture.hypocentre",
        "must have exactly the keys {lon, lat, depth_km} or {along_strike_fraction, "
        f"down_dip_fraction}}, got {sorted(keys)}",
    )
