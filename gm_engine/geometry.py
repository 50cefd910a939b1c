"""From a scenario to the sites table every engine consumes.

One place builds the rupture, reads the sites and the grid, assigns Vs30,
computes the six distances and excludes far sites with a count, so the CLI,
the plugin and the Dask runner cannot disagree about geometry.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError
from .scenario import Scenario
from .sites import GridDefinition, assign_vs30, grid_definition, grid_sites, read_site_table

DISTANCE_COLUMNS = ("repi_km", "rhypo_km", "rjb_km", "rrup_km", "rx_km", "ry0_km")
RESERVED_COLUMNS = (*DISTANCE_COLUMNS, "hanging_wall", "vs30_source", "outside_range",
                    "window_limited", "site_index")


@dataclass
class SiteSet:
    """Sites of one kind (points or grid cells) with distances, Vs30 and local coordinates."""

    kind: str  # "sites" or "grid"
    table: object  # pandas (Geo)DataFrame: input attributes + distances + vs30 (+ row/col)
    input_columns: list[str]
    xy_km: np.ndarray  # (N, 2) in the rupture's local CRS, for spatial correlation
    grid: GridDefinition | None = None
    excluded: int = 0
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.table)


def _with_distances(table, x: np.ndarray, y: np.ndarray, crs: str, rupture,
                    scenario: Scenario, vs30_field: str | None,
                    kind: str) -> tuple[object, np.ndarray, int, list[str]]:
    from .distances import compute_distances, project_xy_km

    xy_km = project_xy_km(rupture, x, y, crs)
    d = compute_distances(rupture, xy_km)
    keep = d["rrup_km"] <= scenario.max_distance_km
    excluded = int((~keep).sum())
    notes = []
    if excluded:
        notes.append(f"{excluded} {kind} beyond max_distance_km = {scenario.max_distance_km:g} km "
                     f"were excluded")
    if not keep.any():
        raise InputError("max_distance_km", f"all {len(table)} {kind} are further than "
                                            f"{scenario.max_distance_km:g} km from the rupture")
    out = table.loc[keep].copy()
    for col in DISTANCE_COLUMNS:
        out[col] = d[col][keep]
    out["hanging_wall"] = d["hanging_wall"][keep]
    vs30, source, vs_notes = assign_vs30(out, x[keep], y[keep], crs, scenario, vs30_field, kind)
    out["vs30"] = vs30
    out["vs30_source"] = source
    return out.reset_index(drop=True), xy_km[keep], excluded, notes + vs_notes


def _rename_clashing_inputs(gdf, vs30_field: str | None, ims: list[str]):
    """Keep input attributes apart from the output columns: a clash becomes input_<name>.

    Compared without case, because GeoPackage (SQLite) column names ignore it:
    an input VS30 next to the output vs30 would fail the write at the very end.
    An input column that is the Vs30 field and named vs30 is dropped instead
    (the output vs30 holds the same values).
    """
    from .runner import STATISTICS

    reserved = {c.lower() for c in (*RESERVED_COLUMNS, "vs30")}
    reserved |= {f"{im}_{st}".lower() for im in ims for st in STATISTICS}
    reserved |= {f"{im.replace('(', '_').replace(')', '')}_{st}".lower()
                 for im in ims for st in STATISTICS}
    inputs = [c for c in gdf.columns if c != "geometry"]
    if vs30_field == "vs30" and "vs30" in inputs:
        inputs.remove("vs30")
    taken = {c.lower() for c in inputs}
    renames = {}
    for c in inputs:
        if str(c).lower() in reserved:
            new = f"input_{c}"
            while new.lower() in taken or new.lower() in reserved:
                new = f"input_{new}"
            renames[c] = new
            taken.add(new.lower())
    if vs30_field in renames:
        vs30_field = renames[vs30_field]
    return gdf.rename(columns=renames), [renames.get(c, c) for c in inputs], vs30_field


def point_sites(scenario: Scenario, rupture=None) -> SiteSet | None:
    """The scenario's site layer with distances and Vs30, or None without one."""
    if scenario.sites is None:
        return None
    rupture = rupture or scenario.build_rupture()
    gdf = read_site_table(scenario.sites, scenario.base_dir)
    vs30_field = scenario.sites.vs30_field
    gdf, inputs, vs30_field = _rename_clashing_inputs(gdf, vs30_field,
                                                      scenario.intensity_measures)
    x = gdf.geometry.x.to_numpy(float)
    y = gdf.geometry.y.to_numpy(float)
    crs = gdf.crs.to_wkt()
    out, xy_km, excluded, notes = _with_distances(gdf, x, y, crs, rupture, scenario,
                                                  vs30_field, "sites")
    return SiteSet("sites", out, inputs, xy_km, None, excluded, notes)


def grid_cells(scenario: Scenario, rupture=None) -> SiteSet | None:
    """The scenario grid's cell centres with distances and Vs30, or None without a grid."""
    if scenario.grid is None:
        return None
    rupture = rupture or scenario.build_rupture()
    grid = grid_definition(scenario.grid)
    table = grid_sites(grid)
    out, xy_km, excluded, notes = _with_distances(
        table, table["x"].to_numpy(), table["y"].to_numpy(), scenario.grid.crs, rupture,
        scenario, None, "grid cells")
    return SiteSet("grid", out, ["row", "col", "x", "y"], xy_km, grid, excluded, notes)


def conditions_table(scenario: Scenario, siteset: SiteSet):  # -> pandas.DataFrame
    """The per-site conditions table of docs/CONTRACTS.md for the engines."""
    import pandas as pd

    g = siteset.table
    r = scenario.rupture
    n = len(g)
    return pd.DataFrame({
        "magnitude": np.full(n, scenario.magnitude),
        "rrup_km": g["rrup_km"].to_numpy(float),
        "rjb_km": g["rjb_km"].to_numpy(float),
        "rx_km": g["rx_km"].to_numpy(float),
        "ry0_km": g["ry0_km"].to_numpy(float),
        "repi_km": g["repi_km"].to_numpy(float),
        "rhypo_km": g["rhypo_km"].to_numpy(float),
        "vs30": g["vs30"].to_numpy(float),
        "ztor_km": np.full(n, r.ztor),
        "zbot_km": np.full(n, r.zbot),
        "dip": np.full(n, r.dip),
        "rake": np.full(n, r.rake),
        "mechanism": np.full(n, r.mechanism, dtype=object),
        "hanging_wall": g["hanging_wall"].to_numpy(bool),
        "z1_km": np.full(n, np.nan),
    })
