"""Sites: point layers, CSV tables and raster grids, each with a Vs30.

Vs30 comes from a site attribute, a raster sampled at the sites (rasterio), or
a default -- in that order of preference -- and every fallback is reported as
a warning, because Vs30 changes short-period shaking by a factor of two or more.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .scenario import VS30_RANGE, GridSpec, Scenario, SitesSpec

VS30_SOURCE_FIELD = "vs30_source"


@dataclass
class GridDefinition:
    """Cell-centre lattice of a scenario grid plus what rasterio needs to write it."""

    spec: GridSpec
    rows: int
    cols: int

    @property
    def transform(self):  # affine.Affine; rasterio's own type, import kept lazy
        from rasterio.transform import from_origin

        xmin, _, _, ymax = self.spec.extent
        return from_origin(xmin, ymax, self.spec.spacing, self.spec.spacing)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """x, y of every cell centre, row-major from the top-left (raster order)."""
        xmin, _, _, ymax = self.spec.extent
        s = self.spec.spacing
        xs = xmin + (np.arange(self.cols) + 0.5) * s
        ys = ymax - (np.arange(self.rows) + 0.5) * s
        gx, gy = np.meshgrid(xs, ys)
        return gx.ravel(), gy.ravel()


def grid_definition(spec: GridSpec) -> GridDefinition:
    rows, cols = spec.shape
    return GridDefinition(spec, rows, cols)


def read_site_table(spec: SitesSpec, base_dir: Path):  # -> geopandas.GeoDataFrame
    """Read a point/polygon layer or a CSV of coordinates as a GeoDataFrame of points."""
    import geopandas as gpd
    import pandas as pd

    path = Path(spec.path).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        raise InputError("sites.path", f"file not found: {path}")
    if path.suffix.lower() in (".csv", ".txt"):
        df = pd.read_csv(path)
        for col, name in ((spec.x, "sites.x"), (spec.y, "sites.y")):
            if col not in df.columns:
                raise InputError(name, f"column {col!r} not in {path.name} "
                                       f"(columns: {', '.join(map(str, df.columns))})")
        xy = df[[spec.x, spec.y]].apply(pd.to_numeric, errors="coerce")
        bad = ~np.isfinite(xy.to_numpy(dtype=float)).all(axis=1)
        if bad.any():
            raise InputError("sites.path", f"{int(bad.sum())} rows of {path.name} have no valid "
                                           f"coordinates (first: row {int(np.argmax(bad)) + 1})")
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy[spec.x], xy[spec.y]),
                               crs=spec.crs)
    else:
        try:
            gdf = gpd.read_file(path, layer=spec.layer) if spec.layer else gpd.read_file(path)
        except Exception as exc:  # GDAL/OGR errors come in many classes
            raise InputError("sites.path", f"cannot read {path.name}: {exc}") from None
        if gdf.crs is None:
            if spec.crs is None:
                raise InputError("sites.crs", f"{path.name} has no CRS; set sites.crs")
            gdf = gdf.set_crs(spec.crs)
        elif spec.crs is not None:
            gdf = gdf.to_crs(spec.crs) if gdf.crs != spec.crs else gdf
    if len(gdf) == 0:
        raise InputError("sites.path", f"{path.name} has no features")
    gdf = gdf[~gdf.geometry.is_empty & gdf.geometry.notna()].copy()
    if len(gdf) == 0:
        raise InputError("sites.path", f"{path.name} has no features with a geometry")
    return _as_points(gdf)


def _as_points(gdf):
    """Polygons and lines become their centroid, computed in an equal-distance local CRS."""
    kinds = set(gdf.geom_type.unique())
    if kinds <= {"Point"}:
        return gdf.reset_index(drop=True)
    if "MultiPoint" in kinds:
        raise InputError("sites.path", "multi-point features are ambiguous; explode them first")
    from .rupture import local_crs_for

    ll = gdf.geometry.to_crs("EPSG:4326")
    local = local_crs_for(ll.bounds[["minx", "maxx"]].to_numpy().ravel(),
                          ll.bounds[["miny", "maxy"]].to_numpy().ravel())
    centroids = gdf.geometry.to_crs(local).centroid.to_crs(gdf.crs)
    out = gdf.copy()
    out["geometry"] = centroids
    return out.set_geometry("geometry").reset_index(drop=True)


def grid_sites(grid: GridDefinition):  # -> geopandas.GeoDataFrame
    """Cell centres as points with their row/col, in the grid's CRS."""
    import geopandas as gpd

    x, y = grid.cell_centres()
    rows, cols = np.divmod(np.arange(x.size), grid.cols)
    return gpd.GeoDataFrame({"row": rows, "col": cols},
                            geometry=gpd.points_from_xy(x, y), crs=grid.spec.crs)


def sample_raster(raster: Path, gdf) -> np.ndarray:
    """Values of band 1 at the points (NaN outside the raster or at nodata)."""
    import rasterio

    with rasterio.open(raster) as src:
        pts = gdf.geometry.to_crs(src.crs) if src.crs is not None else gdf.geometry
        coords = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
        vals = np.full(len(coords), np.nan)
        inside = ((coords[:, 0] >= src.bounds.left) & (coords[:, 0] <= src.bounds.right)
                  & (coords[:, 1] >= src.bounds.bottom) & (coords[:, 1] <= src.bounds.top))
        if inside.any():
            sampled = np.array([v[0] for v in src.sample(coords[inside], indexes=1, masked=True)],
                               dtype=object)
            got = np.array([np.nan if np.ma.is_masked(v) else float(v) for v in sampled])
            if src.nodata is not None:
                got[got == src.nodata] = np.nan
            vals[inside] = got
    return vals


def assign_vs30(gdf, scenario: Scenario, vs30_field: str | None,
                kind: str = "sites") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Vs30 per site and where each value came from; raises on bad attribute values.

    Attribute values that are NaN, <= 0 or outside the NGA-West2 range are
    errors (a typo in a site table must not become a silent default); a
    raster's gaps fall back to the default with a counted warning.
    """
    n = len(gdf)
    vs30 = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    notes: list[str] = []
    if vs30_field:
        if vs30_field not in gdf.columns:
            raise InputError("sites.vs30_field", f"field {vs30_field!r} not in the site layer "
                                                 f"(fields: {', '.join(c for c in gdf.columns if c != 'geometry')})")
        import pandas as pd

        vals = pd.to_numeric(gdf[vs30_field], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(vals) | (vals <= 0)
        if bad.any():
            raise InputError("sites.vs30_field",
                             f"{int(bad.sum())} sites have a missing, NaN or non-positive Vs30 "
                             f"(first: site {int(np.argmax(bad))}); Vs30 must be in m/s > 0")
        lo, hi = VS30_RANGE
        out = (vals < lo) | (vals > hi)
        if out.any():
            raise InputError("sites.vs30_field",
                             f"{int(out.sum())} sites have Vs30 outside [{lo:g}, {hi:g}] m/s "
                             f"(first: site {int(np.argmax(out))}, {vals[np.argmax(out)]:g})")
        vs30[:] = vals
        source[:] = f"attribute {vs30_field}"
    if scenario.vs30.raster and np.isnan(vs30).any():
        path = scenario.resolve(scenario.vs30.raster)
        if not path.exists():
            raise InputError("vs30.raster", f"file not found: {path}")
        todo = np.isnan(vs30)
        sampled = sample_raster(path, gdf[todo])
        sampled[(sampled <= 0) | ~np.isfinite(sampled)] = np.nan
        sampled = np.clip(sampled, *VS30_RANGE)
        idx = np.flatnonzero(todo)
        ok = np.isfinite(sampled)
        vs30[idx[ok]] = sampled[ok]
        source[idx[ok]] = f"raster {path.name}"
        if (~ok).any():
            notes.append(f"{int((~ok).sum())} {kind} fall outside the Vs30 raster or on nodata")
    missing = np.isnan(vs30)
    if missing.any():
        if scenario.vs30.default is None:
            raise InputError("vs30.default", f"{int(missing.sum())} {kind} have no Vs30 and "
                                             "no default is set")
        vs30[missing] = scenario.vs30.default
        source[missing] = "default"
        notes.append(f"{int(missing.sum())} {kind} use the default Vs30 of "
                     f"{scenario.vs30.default:g} m/s")
    return vs30, source, notes
