"""A PNG map of a finished run, for people without QGIS at hand (CLI, reports, CI).

Reads only what the run wrote (GeoTIFF, sites.gpkg, rupture.gpkg), so the map
shows exactly the numbers a planner would share.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError
from .io import atomic_path


def plot_run_map(run_dir: str | Path, out_png: str | Path, im: str = "PGA",
                 stat: str = "median") -> Path:
    """Draw the IM raster (if any), the rupture and the sites of a run into a PNG."""
    import geopandas as gpd
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import rasterio

    from .ims.names import IM_UNITS, parse_im
    from .runner import im_file_stem

    run = Path(run_dir)
    if not (run / "run.json").exists():
        raise InputError("run", f"{run} is not a GroundShake run folder (no run.json)")
    units = IM_UNITS[parse_im(im).kind]
    fig, ax = plt.subplots(figsize=(8, 8), dpi=110)
    tif = run / f"{im_file_stem(im)}_{stat}.tif"
    vmin = vmax = None
    crs = "EPSG:4326"
    if tif.exists():
        with rasterio.open(tif) as src:
            arr = src.read(1, masked=True)
            b = src.bounds
            crs = src.crs.to_string()
        vmin, vmax = float(arr.min()), float(arr.max())
        img = ax.imshow(arr, extent=(b.left, b.right, b.bottom, b.top), cmap="inferno_r",
                        vmin=vmin, vmax=vmax, alpha=0.85, interpolation="bilinear")
        fig.colorbar(img, ax=ax, shrink=0.7, label=f"{im} {stat} ({units})")
    rupture = run / "rupture.gpkg"
    if rupture.exists():
        gpd.read_file(rupture, layer="surface_projection").to_crs(crs).plot(
            ax=ax, facecolor="none", edgecolor="tab:blue", linestyle="--")
        gpd.read_file(rupture, layer="trace").to_crs(crs).plot(ax=ax, color="tab:blue",
                                                               linewidth=2.5)
    sites = run / "sites.gpkg"
    if sites.exists():
        g = gpd.read_file(sites, layer="sites").to_crs(crs)
        col = f"{im_file_stem(im)}_{stat}"
        if col in g.columns:
            sc = ax.scatter(g.geometry.x, g.geometry.y, c=g[col], cmap="inferno_r", s=14,
                            edgecolors="k", linewidths=0.4, vmin=vmin, vmax=vmax, zorder=3)
            if vmin is None:
                fig.colorbar(sc, ax=ax, shrink=0.7, label=f"{im} {stat} ({units})")
        else:
            ax.scatter(g.geometry.x, g.geometry.y, s=8, c="k", zorder=3)
    ax.set_title(f"GroundShake: {im} {stat} ({units})")
    ax.set_xlabel("x (" + crs + ")")
    ax.set_aspect(1.0 / np.cos(np.radians(np.mean(ax.get_ylim()))) if crs == "EPSG:4326"
                  else 1.0)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return Path(out_png)
