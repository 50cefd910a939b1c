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


def grid_sites(grid: GridDefinition):  # -> pandas.DataFrame
    """Cell centres with their row/col and x/y in the grid's CRS (no geometry objects).

    A grid can have millions of cells; plain arrays keep it fast on shapely 1.8.
    """
    import pandas as pd

    x, y = grid.cell_centres()
    rows, cols = np.divmod(np.arange(x.size), grid.cols)
    return pd.DataFrame({"row": rows, "col": cols, "x": x, "y": y})


def sample_raster(raster: Path, x: np.ndarray, y: np.ndarray, crs: str) -> np.ndarray:
    """Values of band 1 at points given in ``crs`` (NaN outside the raster or at nodata)."""
    import rasterio
    from pyproj import Transformer

    with rasterio.open(raster) as src:
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if src.crs is not None:
            t = Transformer.from_crs(crs, src.crs.to_wkt(), always_xy=True)
            x, y = (np.asarray(a, dtype=float) for a in t.transform(x, y))
        vals = np.full(x.size, np.nan)
        inv = ~src.transform  # affine inverse, applied to whole arrays
        col = np.floor(inv.a * x + inv.b * y + inv.c).astype(np.int64)
        row = np.floor(inv.d * x + inv.e * y + inv.f).astype(np.int64)
        inside = (row >= 0) & (row < src.height) & (col >= 0) & (col < src.width)
        if inside.any():
            # Only the window around the sites: a national Vs30 mosaic is gigabytes.
            from rasterio.windows import Window

            r0, r1 = int(row[inside].min()), int(row[inside].max()) + 1
            c0, c1 = int(col[inside].min()), int(col[inside].max()) + 1
            band = src.read(1, masked=True, window=Window(c0, r0, c1 - c0, r1 - r0))
            got = band[row[inside] - r0, col[inside] - c0]
            vals[inside] = np.ma.filled(got.astype(float), np.nan)
    return vals


def assign_vs30(table, x: np.ndarray, y: np.ndarray, crs: str, scenario: Scenario,
                vs30_field: str | None,
                kind: str = "sites") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Vs30 per site and where each value came from; raises on bad attribute values.

    Attribute values that are NaN, <= 0 or outside the NGA-West2 range are
    errors (a typo in a site table must not become a silent default); a
    raster's gaps fall back to the default with a counted warning.
    """
    n = len(table)
    vs30 = np.full(n, np.nan)
    source = np.full(n, "", dtype=object)
    notes: list[str] = []
    if vs30_field:
        if vs30_field not in table.columns:
            fields = ", ".join(str(c) for c in table.columns if c != "geometry")
            raise InputError("sites.vs30_field",
                             f"field {vs30_field!r} not in the site layer (fields: {fields})")
        import pandas as pd

        vals = pd.to_numeric(table[vs30_field], errors="coerce").to_numpy(dtype=float)
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
        sampled = sample_raster(path, x[todo], y[todo], crs)
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
