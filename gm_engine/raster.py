"""GeoTIFF output: tiled, compressed, with overviews, nodata and self-describing tags.

Planners share these files outside QGIS, so each one carries what it is (IM,
statistic, units, engine, seed, scenario hash) in its band description and
tags, and is written under a temporary name then renamed into place.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .io import atomic_path

NODATA = -9999.0


def raster_profile(rows: int, cols: int, transform, crs: str, cog: bool = False) -> dict:
    """rasterio creation options for one float32 band."""
    # 256 px blocks keep windowed writes and overview reads cheap; DEFLATE with
    # the floating-point predictor (PREDICTOR=3) compresses smooth fields well.
    tiled = rows >= 256 and cols >= 256
    profile = {
        "driver": "GTiff", "height": rows, "width": cols, "count": 1, "dtype": "float32",
        "crs": crs, "transform": transform, "nodata": NODATA, "compress": "deflate",
        "predictor": 3, "tiled": tiled,
    }
    if tiled:
        profile.update(blockxsize=256, blockysize=256)
    if cog:
        profile["copy_src_overviews"] = True
    return profile


def overview_factors(rows: int, cols: int, min_size: int = 256) -> list[int]:
    """Powers of two until the overview is smaller than one block."""
    factors, f = [], 2
    while max(rows, cols) // f >= min_size // 2 and f <= 512:
        factors.append(f)
        f *= 2
    return factors


def make_cog(path: str | Path) -> Path:
    """Rewrite a GeoTIFF in place as a Cloud-Optimized GeoTIFF (GDAL's COG driver).

    Same pixels, tags, band description and units; tiles and overviews are
    ordered so a web client (or QGIS over HTTP) reads only what it shows.
    """
    import rasterio
    from rasterio.shutil import copy as rio_copy

    src_path = Path(path)
    with atomic_path(src_path) as tmp:
        with rasterio.Env():
            rio_copy(src_path, tmp, driver="COG", COMPRESS="DEFLATE", PREDICTOR="YES",
                     BLOCKSIZE=256, OVERVIEW_RESAMPLING="AVERAGE", BIGTIFF="IF_SAFER")
    return src_path


def write_geotiff(path: str | Path, values: np.ndarray, transform, crs: str, *,
                  description: str, tags: Mapping[str, str], units: str = "",
                  cog: bool = True) -> Path:
    """Write a 2-D array (NaN = nodata) as a single-band float32 (Cloud-Optimized) GeoTIFF."""
    import rasterio
    from rasterio.enums import Resampling

    arr = np.asarray(values, dtype=np.float32)
    if arr.ndim != 2:
        raise ValueError(f"raster values must be 2-D, got shape {arr.shape}")
    arr = np.where(np.isfinite(arr), arr, np.float32(NODATA))
    rows, cols = arr.shape
    dest = Path(path)
    with atomic_path(dest) as tmp:
        with rasterio.open(tmp, "w", **raster_profile(rows, cols, transform, crs)) as dst:
            dst.write(arr, 1)
            dst.set_band_description(1, description)
            if units:
                dst.set_band_unit(1, units)
            dst.update_tags(**{k: str(v) for k, v in tags.items()})
            factors = overview_factors(rows, cols)
            if factors and not cog:
                dst.build_overviews(factors, Resampling.average)
                dst.update_tags(ns="rio_overview", resampling="average")
    if cog:
        make_cog(dest)
    return dest
