"""The pipeline: scenario -> sites -> engine -> intensity measures -> outputs.

One call serves the CLI, the QGIS task and Dask workers. Everything is written
into a temporary sibling folder that is renamed into place at the very end, so
a cancelled or failed run leaves nothing half-written in the output folder.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .engines import engine_for, window_limited_sites, window_notes
from .errors import Cancelled, InputError
from .geometry import DISTANCE_COLUMNS, SiteSet, conditions_table, grid_cells, point_sites
from .io import atomic_dir
from .scenario import Scenario

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]
STATISTICS = {"median": 50.0, "p16": 16.0, "p84": 84.0}


@dataclass
class RunResult:
    out_dir: Path
    run_json: Path
    sites_csv: Path | None = None
    sites_gpkg: Path | None = None
    rupture_gpkg: Path | None = None
    rasters: dict[tuple[str, str], Path] = field(default_factory=dict)
    mask_raster: Path | None = None
    warnings: list[str] = field(default_factory=list)


def im_file_stem(im: str) -> str:
    """File-name form of an IM name: SA(0.3) -> SA_0.3, D5-95 -> D5-95."""
    return im.replace("(", "_").replace(")", "")


def scenario_distances(scenario: Scenario):  # -> geopandas.GeoDataFrame
    """The scenario's sites with the six distances and Vs30 (what the plugin shows)."""
    siteset = point_sites(scenario)
    if siteset is None:
        raise InputError("sites", "this scenario has no site file")
    return siteset.table


def _stage(progress: ProgressFn | None, lo: float, hi: float) -> ProgressFn:
    """A progress callback mapping an inner 0..1 onto the slice [lo, hi] of the run."""
    def report(frac: float, text: str) -> None:
        if progress is not None:
            progress(lo + (hi - lo) * min(max(frac, 0.0), 1.0), text)
    return report


def _check(is_cancelled: CancelFn | None) -> None:
    if is_cancelled is not None and is_cancelled():
        raise Cancelled("run cancelled")


def site_statistics(values: np.ndarray) -> dict[str, np.ndarray]:
    """Median, 16th and 84th percentiles over realizations (axis 0) per site."""
    pct = np.percentile(values, list(STATISTICS.values()), axis=0)
    return {name: pct[i].astype(np.float32) for i, name in enumerate(STATISTICS)}


def _rupture_layer(rupture, path: Path) -> Path:
    import geopandas as gpd

    trace = gpd.GeoDataFrame({"kind": ["trace"]}, geometry=[rupture.trace_lonlat()],
                             crs="EPSG:4326")
    surface = gpd.GeoDataFrame({"kind": ["surface_projection"]},
                               geometry=[rupture.surface_projection_lonlat()], crs="EPSG:4326")
    trace.to_file(path, layer="trace", driver="GPKG")
    surface.to_file(path, layer="surface_projection", driver="GPKG")
    return path


def run_scenario(scenario: Scenario, out_dir: str | Path, progress: ProgressFn | None = None,
                 is_cancelled: CancelFn | None = None, overwrite: bool = False) -> RunResult:
    """Run a scenario and write sites.csv/.gpkg, GeoTIFFs and run.json into ``out_dir``."""
    import pandas as pd

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    engine = engine_for(scenario)
    ims = list(scenario.intensity_measures)
    engine.check_ims(ims)
    final = Path(out_dir)
    with atomic_dir(final, overwrite=overwrite) as tmp:
        report = _stage(progress, 0.0, 0.1)
        report(0.0, "building the rupture and computing distances")
        rupture = scenario.build_rupture()
        sets = [s for s in (point_sites(scenario, rupture), grid_cells(scenario, rupture)) if s]
        _check(is_cancelled)
        timings["geometry_s"] = time.perf_counter() - t0
        warnings = [*scenario.warnings, *(n for s in sets for n in s.notes)]

        # One joint draw over point sites and grid cells: they share the
        # between-event term and the spatially correlated within-event field.
        t1 = time.perf_counter()
        conds = pd.concat([conditions_table(scenario, s) for s in sets], ignore_index=True)
        xy = np.vstack([s.xy_km for s in sets])
        values = engine.realizations(conds, xy, ims, scenario.realizations, scenario.seed,
                                     progress=_stage(progress, 0.1, 0.85),
                                     is_cancelled=is_cancelled)
        outside = engine.outside_range(conds)
        limited = window_limited_sites(engine, conds, ims)
        warnings += window_notes(engine, limited, ims)
        timings["engine_s"] = time.perf_counter() - t1
        _check(is_cancelled)

        t2 = time.perf_counter()
        report = _stage(progress, 0.85, 1.0)
        report(0.0, "writing outputs")
        stats = {im: site_statistics(values[im]) for im in ims}
        result = RunResult(out_dir=final, run_json=final / "run.json", warnings=warnings)
        _rupture_layer(rupture, tmp / "rupture.gpkg")
        result.rupture_gpkg = final / "rupture.gpkg"
        start = 0
        for s in sets:
            sl = slice(start, start + len(s))
            start += len(s)
            if s.kind == "sites":
                _write_sites(s, stats, sl, outside[sl], tmp, ims,
                             None if limited is None else limited[sl])
                write_site_realizations(tmp, s, {im: values[im][:, sl] for im in ims})
                terms = engine.site_terms(sl)
                if terms:  # what site_waveforms needs to regenerate this run's waveforms
                    np.savez_compressed(tmp / "site_terms.npz", **terms)
                result.sites_csv, result.sites_gpkg = final / "sites.csv", final / "sites.gpkg"
            else:
                rasters, mask = _write_grid(s, stats, sl, outside[sl], tmp, ims, scenario,
                                            engine.name,
                                            None if limited is None else limited[sl])
                result.rasters = {k: final / v.name for k, v in rasters.items()}
                result.mask_raster = final / mask.name
            _check(is_cancelled)
        timings["write_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        write_run_record(tmp, scenario, engine, sets, outside, timings, warnings)
        result.warnings = warnings
    if progress is not None:
        progress(1.0, "done")
    return result


SITE_REALIZATIONS = "site_realizations.npz"
#: Descriptions of the grid's flag rasters (outside_range.tif, window_limited.tif).
OUTSIDE_RANGE_TEXT = "1 where the engine is outside its valid ranges"
WINDOW_LIMITED_TEXT = ("1 where the expected D5-95 outlasts the model's records: durations, "
                       "Arias intensity and CAV biased low")


def write_site_realizations(tmp: Path, s: SiteSet, values: dict[str, np.ndarray]) -> None:
    """Every realization's IMs at the point sites, with lon/lat: ground-motion fields to export.

    Point sites are few (grids keep statistics only), so R x N values per IM
    are small; OpenQuake-style GMF exports need them, the statistics do not.
    """
    pts = s.table.geometry.to_crs("EPSG:4326")
    np.savez_compressed(tmp / SITE_REALIZATIONS, lon=pts.x.to_numpy(), lat=pts.y.to_numpy(),
                        vs30=s.table["vs30"].to_numpy(float), ims=np.array(list(values)),
                        **{f"im{i}": v.astype(np.float32) for i, v in enumerate(values.values())})


def write_run_record(tmp: Path, scenario: Scenario, engine, sets: list[SiteSet],
                     outside: np.ndarray, timings: dict[str, float], warnings: list[str],
                     **extra: object) -> None:
    """scenario.json and run.json: what a run needs to be understood and reproduced.

    Appends the outside-range count to ``warnings``; ``extra`` adds sections
    (e.g. how a distributed run was chunked).
    """
    (tmp / "scenario.json").write_text(json.dumps(scenario.to_dict(), indent=2) + "\n")
    n_out = int(outside.sum())
    if n_out:
        warnings.append(f"{n_out} sites are outside the {engine.name} engine's valid ranges "
                        "(flagged in outside_range)")
    info = engine.info()
    for name in info.get("marginalised_conditions", []):
        # the scenario states it, the model ignores it: say so where the run's warnings go
        warnings.append(f"model {info.get('model')} does not use the scenario's {name}: its "
                        "training data do not depend on it, so every site and realization "
                        "draws it as they were drawn (docs/generator.md)")
    meta = {
        "groundshake": __version__,
        "engine": engine.name,
        "engine_info": info,
        "scenario_hash": scenario.content_hash(),
        "seed": scenario.seed,
        "realizations": scenario.realizations,
        "intensity_measures": list(scenario.intensity_measures),
        "n_sites": sum(len(s) for s in sets if s.kind == "sites"),
        "n_grid_cells": sum(len(s) for s in sets if s.kind == "grid"),
        "excluded": {s.kind: s.excluded for s in sets},
        "outside_range": n_out,
        "magnitude": scenario.magnitude,
        **extra,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "warnings": warnings,
        "versions": package_versions(),
        "files": [*sorted(p.name for p in tmp.iterdir()), "run.json"],
    }
    (tmp / "run.json").write_text(json.dumps(meta, indent=2) + "\n")


def _write_sites(s: SiteSet, stats, sl: slice, outside: np.ndarray, tmp: Path,
                 ims: list[str], window_limited: np.ndarray | None = None) -> None:
    """sites.csv and sites.gpkg; ``window_limited`` (engines.window_limited_sites) adds
    that flag's column."""
    g = s.table.copy()
    for im in ims:
        for stat, arr in stats[im].items():
            g[f"{im}_{stat}"] = arr[sl].astype(float)
    g["outside_range"] = outside
    flags = ["outside_range"]
    if window_limited is not None:
        g["window_limited"] = window_limited
        flags.append("window_limited")
    g["site_index"] = np.arange(len(g))
    cols = [*s.input_columns, *DISTANCE_COLUMNS, "vs30", "vs30_source", "hanging_wall",
            *flags, "site_index", *(f"{im}_{st}" for im in ims for st in STATISTICS)]
    g[cols].to_csv(tmp / "sites.csv", index=False, float_format="%.6g")
    # GeoPackage field names cannot hold "(" portably: SA(0.3) becomes SA_0.3 there.
    gp = g[[*cols, "geometry"]].rename(columns={f"{im}_{st}": f"{im_file_stem(im)}_{st}"
                                                for im in ims for st in STATISTICS})
    gp.to_file(tmp / "sites.gpkg", layer="sites", driver="GPKG")


def _write_grid(s: SiteSet, stats, sl: slice, outside: np.ndarray, tmp: Path, ims: list[str],
                scenario: Scenario, engine_name: str, window_limited: np.ndarray | None = None):
    """The grid's GeoTIFFs: one per IM and statistic, the outside-range mask and, with
    ``window_limited`` (engines.window_limited_sites), that flag's mask."""
    from .ims.names import IM_UNITS, parse_im
    from .raster import write_geotiff

    grid = s.grid
    assert grid is not None
    rows = s.table["row"].to_numpy()
    cols = s.table["col"].to_numpy()
    rasters: dict[tuple[str, str], Path] = {}
    base_tags = {"engine": engine_name, "seed": scenario.seed,
                 "scenario_hash": scenario.content_hash(),
                 "realizations": scenario.realizations, "magnitude": f"{scenario.magnitude:.2f}",
                 "groundshake": __version__}
    for im in ims:
        units = IM_UNITS[parse_im(im).kind]
        for stat, arr in stats[im].items():
            img = np.full((grid.rows, grid.cols), np.nan, dtype=np.float32)
            img[rows, cols] = arr[sl]
            path = tmp / f"{im_file_stem(im)}_{stat}.tif"
            write_geotiff(path, img, grid.transform, grid.spec.crs,
                          description=f"{im} {stat} ({units})", units=units,
                          tags={**base_tags, "IM": im, "statistic": stat, "units": units})
            rasters[(im, stat)] = path
    masks = [("outside_range", outside, OUTSIDE_RANGE_TEXT)]
    if window_limited is not None:
        masks.append(("window_limited", window_limited, WINDOW_LIMITED_TEXT))
    for name, flags, text in masks:
        mask = np.full((grid.rows, grid.cols), np.nan, dtype=np.float32)
        mask[rows, cols] = flags.astype(np.float32)
        write_geotiff(tmp / f"{name}.tif", mask, grid.transform, grid.spec.crs,
                      description=text, tags={**base_tags, "IM": name})
    return rasters, tmp / "outside_range.tif"


def package_versions() -> dict[str, str]:
    """Versions of Python and the loaded scientific packages, for run.json provenance."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for mod in ("numpy", "scipy", "pandas", "geopandas", "shapely", "pyproj", "rasterio",
                "torch", "pygmm"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


#: Periods (s) of the NGA-West2 reference spectrum handed to the waveform viewer.
REFERENCE_PERIODS = np.geomspace(0.01, 10.0, 21)


@dataclass
class SiteWaveforms:
    """One site's regenerated waveforms, its conditions and the NGA-West2 reference."""

    site_index: int
    dt: float
    acc: np.ndarray  # (R, 3, T) in g, components H1, H2, Z
    realizations: list[int]
    conditions: dict
    gmpe: dict  # periods (s), median PSA (g), sigma (ln), name


def site_waveforms(run_dir: str | Path, site_index: int,
                   realizations: list[int] | None = None) -> SiteWaveforms:
    """Regenerate the waveforms of one point site of a finished run, identical to the run's.

    Uses what the run stored (scenario.json, sites.csv, the site's random terms
    in site_terms.npz) and the per-site noise keys (stochastic.simulator.site_noise_key),
    so it costs one site's simulation whatever the size of the run.
    """
    import pandas as pd

    from .engines import SIMULATED_CONDITIONS, clip_to_ranges
    from .gmpe import CONDITION_RANGES, nga_west2_average
    from .scenario import load_scenario
    from .stochastic.simulator import synthesize_site

    run = Path(run_dir)
    meta_path, terms_path = run / "run.json", run / "site_terms.npz"
    if not meta_path.exists():
        raise InputError("run", f"{run} is not a GroundShake run folder (no run.json)")
    meta = json.loads(meta_path.read_text())
    if not terms_path.exists():
        raise InputError("run", f"the {meta.get('engine')} engine stores no waveforms: "
                                "rerun with engine cgm or stochastic to view waveforms")
    sites = pd.read_csv(run / "sites.csv")
    if not 0 <= site_index < len(sites):
        raise InputError("site_index", f"{site_index} is not a site of this run "
                                       f"(0..{len(sites) - 1})")
    scenario = load_scenario(run / "scenario.json")
    row = sites.iloc[[site_index]].reset_index(drop=True)
    conds = pd.DataFrame({
        "magnitude": [scenario.magnitude], "rrup_km": row["rrup_km"], "rjb_km": row["rjb_km"],
        "rx_km": row["rx_km"], "ry0_km": row["ry0_km"], "vs30": row["vs30"],
        "ztor_km": [scenario.rupture.ztor], "zbot_km": [scenario.rupture.zbot],
        "dip": [scenario.rupture.dip], "rake": [scenario.rupture.rake],
        "mechanism": [scenario.rupture.mechanism], "hanging_wall": row["hanging_wall"],
        "z1_km": [np.nan]})
    with np.load(terms_path) as t:
        terms = {k: t[k] for k in t.files}
    drawn: dict[str, np.ndarray] = {}
    if meta.get("engine") == "cgm":
        acc, dt, chosen, drawn = _cgm_site_waveforms(meta, terms, site_index, realizations)
    else:
        seed, eta, eps = int(terms["seed"]), terms["eta"], terms["eps"]
        dt, duration = float(terms["dt"]), float(terms["duration"])
        for k in SIMULATED_CONDITIONS:  # exact values; sites.csv holds rounded ones
            conds[k] = terms[f"cond_{k}"][site_index]
        chosen = _chosen_realizations(realizations, eta.shape[0])
        acc = np.stack([synthesize_site(conds, seed, r,
                                        site_index, eta[r], eps[r, site_index], dt=dt,
                                        duration=duration)
                        for r in chosen])
    names = [f"SA({t:.4g})" for t in REFERENCE_PERIODS]
    ref = nga_west2_average(clip_to_ranges(conds, CONDITION_RANGES), names)
    info = {k: (v.item() if hasattr(v, "item") else v) for k, v in sites.iloc[site_index].items()}
    info.update(magnitude=scenario.magnitude, mechanism=scenario.rupture.mechanism)
    # a marginalised condition: the model used these values, one per realization,
    # not the scenario's (docs/generator.md)
    info.update({f"{column}_drawn": [round(float(v), 4) for v in values]
                 for column, values in drawn.items()})
    return SiteWaveforms(
        site_index=site_index, dt=dt, acc=acc, realizations=chosen, conditions=info,
        gmpe={"periods": REFERENCE_PERIODS.copy(),
              "median": np.array([ref[n].median[0] for n in names]),
              "sigma": np.array([ref[n].sigma[0] for n in names]), "name": "NGA-West2 average"})


def _chosen_realizations(realizations: list[int] | None, n: int) -> list[int]:
    chosen = list(range(n)) if realizations is None else list(realizations)
    bad = [r for r in chosen if not 0 <= r < n]
    if bad:
        raise InputError("realizations", f"{bad} not in 0..{n - 1}")
    return chosen


def _check_same_sampler(info: dict, card: Any) -> None:
    """Refuse to regenerate a run with a model that would give other waveforms.

    Weights, then the whole sampler (a recalibrated card keeps its weights),
    then the model's name for runs written before the sampler hash was stored.
    """
    sha = card.sha256
    if info.get("weights_sha256") not in (None, sha):
        raise InputError("run", "the run was made with another model (weights SHA-256 "
                                f"{info['weights_sha256'][:12]}..., this one {sha[:12]}...): "
                                "its waveforms cannot be regenerated exactly")
    sampler = card.sampler_sha256()
    if info.get("sampler_sha256") not in (None, sampler):
        raise InputError("run", f"the run was made with another version of model {card.name} "
                                "(recalibrated, or another synthesis noise; sampler SHA-256 "
                                f"{info['sampler_sha256'][:12]}..., this one {sampler[:12]}...): "
                                "its waveforms cannot be regenerated exactly")
    if "sampler_sha256" not in info and info.get("model") not in (None, card.name):
        raise InputError("run", f"the run was made with model {info['model']}, this "
                                f"GroundShake has {card.name}: rerun the scenario to view "
                                "its waveforms")


def regeneration_device(info: dict) -> str:
    """``"cuda"`` for a cgm run made on CUDA when this machine has CUDA, else ``"cpu"``.

    Why: a site regenerated on the device type that made the run keeps the
    run's bits (float64 and 4,096-row blocks on a GPU, checked on H100 and
    H200 cards); on the CPU (float32) it matches only to rounding.
    """
    import torch

    made_on = str(info.get("device", "cpu"))
    return "cuda" if made_on.startswith("cuda") and torch.cuda.is_available() else "cpu"


def _cgm_site_waveforms(meta: dict, terms: dict[str, np.ndarray], site_index: int,
                        realizations: list[int] | None
                        ) -> tuple[np.ndarray, float, list[int], dict[str, np.ndarray]]:
    """A cgm run's site regenerated with the model that made it (checked by SHA-256),
    and the values it drew for the model's marginalised conditions."""
    from .engines import CGMEngine, bundled_model_card

    info = meta.get("engine_info", {})
    card = info.get("model_card")
    if not card or not Path(card).is_file():
        card = str(bundled_model_card())
    engine = CGMEngine(device=regeneration_device(info), model_card=card)
    _check_same_sampler(info, engine.generator().card)
    from .generator.keyed import KEYED_RNG

    made_with = str(terms["rng"]) if "rng" in terms else "numpy per-site generators"
    if made_with != KEYED_RNG:
        raise InputError("run", f"the run's per-site draws came from {made_with}, this "
                                f"GroundShake draws them with {KEYED_RNG}: rerun the scenario "
                                "to view its waveforms")
    chosen = _chosen_realizations(realizations, terms["eps_event"].shape[0])
    return (engine.regenerate(terms, site_index, chosen), float(terms["dt"]), chosen,
            engine.drawn_conditions(terms, site_index, chosen))
