"""A scenario run as Dask tasks: chunks of sites x all realizations, streamed to disk.

``run_scenario_distributed`` does what :func:`gm_engine.runner.run_scenario`
does (same files, same names, same atomic output folder) but cuts the sites
into chunks and runs each chunk, for every realization, as one task on a Dask
cluster: a LocalCluster on this machine (``workers=N``), an existing cluster
(``scheduler="tcp://host:port"`` or ``client=``), or in this process without
Dask (``workers=0``, the single-process reference).

Reproducibility: the same scenario and seed give bit-identical outputs
whatever the chunk size and the number of workers, because every random
number is keyed, never drawn in execution order:

- realization r: a generator seeded with ``[seed, r]`` draws the between-event
  terms, then the within-event field as random Fourier features
  (:func:`gm_engine.correlation.draw_fourier_features`). The features are a
  few hundred kB; each task draws them again (cheaper than shipping them) and
  evaluates them at its own sites with
  :func:`gm_engine.correlation.evaluate_field`, whose value at a site depends
  only on that site's coordinates;
- stochastic engine: site i of realization r draws its noise from
  ``(seed, r, i)`` with i the global site index, and each site is synthesised
  on its own with numpy FFTs on the CPU (no batch-shape-dependent FFT or BLAS
  path; the scenario's ``device`` is not used here);
- gmpe engine: medians and sigmas are per-site functions of the conditions.

The within-event field therefore always uses Fourier features here, whatever
the number of sites; ``run_scenario`` draws an exact Cholesky field up to
2000 sites (``correlation.MAX_EXACT_SITES``). Both are valid draws of the same
Jayaram & Baker (2009) model, but not the same numbers: compare distributed
runs with distributed runs (``workers=0`` or 1 gives the reference bits).

Memory: a task holds one chunk's (R, chunk) IM values and reduces them to
median/p16/p84 before returning; the client keeps per-site statistics only
for point sites and buffers grid statistics one raster block-row (256 rows)
at a time, writing each block-row into the GeoTIFFs (rasterio windowed
writes) as soon as all its cells are in. At most ``max_in_flight`` tasks are
submitted ahead, which bounds the results waiting on workers.

Fault tolerance: tasks are pure functions of their arguments, so when a
worker dies Dask reruns its tasks elsewhere and the result is unchanged.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .correlation import DEFAULT_N_FEATURES, draw_fourier_features, evaluate_field
from .engines import add_derived, clip_to_ranges, derived_inputs, engine_for
from .errors import InputError
from .geometry import conditions_table, grid_cells, point_sites
from .io import atomic_dir
from .runner import (
    STATISTICS,
    RunResult,
    _check,
    _rupture_layer,
    _stage,
    _write_sites,
    im_file_stem,
    site_statistics,
    write_run_record,
)
from .scenario import Scenario

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

#: Default number of sites (grid cells) per task: ~1-3 s of gmpe work, a few MB.
DEFAULT_CHUNK_SITES = 2048
#: Rows of a GeoTIFF block: grid statistics are written one block-row at a time.
WRITE_ROWS = 256
#: Seconds to wait for an existing scheduler (--scheduler) before giving up.
SCHEDULER_TIMEOUT_S = 20


# --------------------------------------------------------------------------- tasks

def chunk_task(engine_name: str, conditions, xy_km: np.ndarray, site_offset: int,
               ims: list[str], n_realizations: int, seed: int, *,
               n_features: int = DEFAULT_N_FEATURES, duration: float | None = None,
               keep_terms: bool = False) -> dict[str, Any]:
    """IM statistics of one chunk of sites over all realizations (one Dask task).

    ``site_offset`` is the global index of the chunk's first site (the key of
    the stochastic noise). Returns ``{"stats": {im: {stat: (n,) float32}}}``
    plus, with ``keep_terms``, ``"eps"`` (R, n, P): the stochastic
    within-event terms a run stores to regenerate point-site waveforms.
    """
    if engine_name == "gmpe":
        values = _gmpe_chunk(conditions, xy_km, ims, n_realizations, seed, n_features)
        eps = None
    elif engine_name == "stochastic":
        values, eps = _stochastic_chunk(conditions, xy_km, site_offset, ims, n_realizations,
                                        seed, n_features, duration)
    else:
        raise InputError("engine", f"distributed runs support gmpe and stochastic, "
                                   f"not {engine_name!r}")
    out: dict[str, Any] = {"stats": {im: site_statistics(values[im]) for im in ims}}
    if keep_terms and eps is not None:
        out["eps"] = eps
    return out


def realization_rng(seed: int, r: int) -> np.random.Generator:
    """The generator of realization r: between-event terms, then the field features."""
    return np.random.default_rng([int(seed), int(r)])


def _gmpe_chunk(conditions, xy_km, ims, n_realizations, seed, n_features):
    from .gmpe import (
        CONDITION_RANGES,
        PGV_PROXY_PERIOD,
        baker_jayaram_2008,
        im_period,
        nga_west2_average,
    )

    names = derived_inputs(ims)
    res = nga_west2_average(clip_to_ranges(conditions, CONDITION_RANGES), names)
    corr_t = np.array([PGV_PROXY_PERIOD if im_period(n) < 0 else im_period(n) for n in names])
    chol = np.linalg.cholesky(baker_jayaram_2008(corr_t) + 1e-10 * np.eye(len(names)))
    n = len(conditions)
    out = {nm: np.empty((int(n_realizations), n)) for nm in names}
    for r in range(int(n_realizations)):
        rng = realization_rng(seed, r)
        eta = chol @ rng.standard_normal(len(names))  # same on every worker: same inputs
        eps = evaluate_field(draw_fourier_features(corr_t, rng, n_features), xy_km)
        for j, nm in enumerate(names):
            g = res[nm]
            out[nm][r] = g.median * np.exp(g.tau * eta[j] + g.phi * eps[:, j])
    return add_derived(out, ims)


def stochastic_between_event(seed: int, n_realizations: int) -> np.ndarray:
    """(R, P) between-event vectors of the stochastic engine, as every task draws them."""
    from .stochastic.calibration import CONTROL_PERIODS
    from .stochastic.simulator import _random_terms

    p = CONTROL_PERIODS.size
    return np.stack([_random_terms(1, realization_rng(seed, r), None, np.zeros((1, p)))[0][0]
                     for r in range(int(n_realizations))])


def _stochastic_chunk(conditions, xy_km, site_offset, ims, n_realizations, seed, n_features,
                      duration):
    from .stochastic.calibration import CONTROL_PERIODS
    from .stochastic.physics import PARAMETER_RANGES
    from .stochastic.simulator import _random_terms, _site_arrays, intensity_measures, synthesize

    dt = _stochastic_dt()
    names = derived_inputs(ims)
    site = _site_arrays(clip_to_ranges(conditions, PARAMETER_RANGES))
    n = site["magnitude"].size
    p = CONTROL_PERIODS.size
    out = {nm: np.empty((int(n_realizations), n), dtype=np.float32) for nm in names}
    all_eps = np.empty((int(n_realizations), n, p))
    for r in range(int(n_realizations)):
        rng = realization_rng(seed, r)
        eta, _ = _random_terms(1, rng, None, np.zeros((1, p)))  # as simulate_realizations
        eps = evaluate_field(draw_fourier_features(CONTROL_PERIODS, rng, n_features), xy_km)
        all_eps[r] = eps
        for i in range(n):  # one site at a time: no dependence on the batch's shape
            sub = {k: v[i:i + 1] for k, v in site.items()}
            acc = synthesize(sub, [(int(seed), r, int(site_offset) + i)], dt=dt,
                             duration=float(duration), eta=eta[0], eps=eps[i:i + 1])
            vals = intensity_measures(acc, dt, names)
            for nm in names:
                out[nm][r, i] = vals[nm][0]
    return add_derived(out, ims), all_eps


def _stochastic_dt() -> float:
    from .engines import StochasticEngine

    return StochasticEngine.DT


# --------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class Chunk:
    """Sites [start, stop) of the run's global site order (point sites, then grid cells)."""

    kind: str   # "sites" or "grid"
    start: int
    stop: int


def plan_chunks(n_sites: int, grid_rows: np.ndarray | None, grid_cols: int,
                chunk_size: int) -> list[Chunk]:
    """Chunks of about ``chunk_size`` sites; grid chunks hold whole raster rows.

    ``grid_rows`` is the (sorted) row of each grid cell; grid cells follow the
    ``n_sites`` point sites in the global order.
    """
    if int(chunk_size) < 1:
        raise InputError("chunk_size", f"must be at least 1, got {chunk_size}")
    chunks = [Chunk("sites", a, min(n_sites, a + chunk_size))
              for a in range(0, n_sites, chunk_size)]
    if grid_rows is not None and grid_rows.size:
        step = max(1, int(chunk_size) // max(1, grid_cols))
        edges = np.arange(int(grid_rows[0]), int(grid_rows[-1]) + step + 1, step)
        cut = np.unique(np.searchsorted(grid_rows, edges))
        for a, b in zip(cut[:-1], cut[1:]):
            if b > a:
                chunks.append(Chunk("grid", n_sites + int(a), n_sites + int(b)))
    return chunks


# --------------------------------------------------------------------------- writing

class GridWriter:
    """GeoTIFFs of one grid, filled block-row by block-row as chunks finish."""

    def __init__(self, folder: Path, grid, rows: np.ndarray, cols: np.ndarray,
                 names: list[tuple[str, str]], tags: dict[str, str],
                 descriptions: dict[tuple[str, str], tuple[str, str, str, dict]]) -> None:
        """One GeoTIFF per key of ``names``; ``descriptions[key]`` is
        (band description, units, file name, extra tags)."""
        import rasterio

        from .raster import raster_profile

        self.grid = grid
        self.rows, self.cols = rows, cols
        self.names = names
        self.band_of = rows // WRITE_ROWS
        n_bands = -(-grid.rows // WRITE_ROWS)
        self.remaining = np.bincount(self.band_of, minlength=n_bands)
        self.buffers: dict[int, dict[tuple[str, str], np.ndarray]] = {}
        self.paths: dict[tuple[str, str], Path] = {}
        self.files = {}
        self.max_buffered = 0
        profile = raster_profile(grid.rows, grid.cols, grid.transform, grid.spec.crs)
        for key in names:
            path = folder / descriptions[key][2]
            self.paths[key] = path
            dst = rasterio.open(path, "w", **profile)
            dst.set_band_description(1, descriptions[key][0])
            if descriptions[key][1]:
                dst.set_band_unit(1, descriptions[key][1])
            dst.update_tags(**{k: str(v) for k, v in {**tags, **descriptions[key][3]}.items()})
            self.files[key] = dst
        for b in np.flatnonzero(self.remaining == 0):  # block-rows with no cell at all
            self._write(int(b), None)

    def _window(self, band: int):
        from rasterio.windows import Window

        r0 = band * WRITE_ROWS
        return Window(0, r0, self.grid.cols, min(WRITE_ROWS, self.grid.rows - r0))

    def _write(self, band: int, buf) -> None:
        from .raster import NODATA

        win = self._window(band)
        for key, dst in self.files.items():
            arr = np.full((int(win.height), int(win.width)), NODATA, np.float32) \
                if buf is None else buf[key]
            dst.write(np.where(np.isfinite(arr), arr, np.float32(NODATA)), 1, window=win)

    def add(self, local: slice, values: dict[tuple[str, str], np.ndarray]) -> None:
        """Values of the grid cells ``local`` (indices into the grid's cell table)."""
        rows, cols, bands = self.rows[local], self.cols[local], self.band_of[local]
        for b in np.unique(bands):
            b = int(b)
            sel = bands == b
            win = self._window(b)
            buf = self.buffers.get(b)
            if buf is None:
                buf = {k: np.full((int(win.height), int(win.width)), np.nan, np.float32)
                       for k in self.names}
                self.buffers[b] = buf
            r = rows[sel] - int(win.row_off)
            for k in self.names:
                buf[k][r, cols[sel]] = values[k][sel]
            self.remaining[b] -= int(sel.sum())
            self.max_buffered = max(self.max_buffered, len(self.buffers))
            if self.remaining[b] == 0:
                self._write(b, self.buffers.pop(b))

    def close(self, ok: bool = True) -> dict[tuple[str, str], Path]:
        from rasterio.enums import Resampling

        from .raster import overview_factors

        if ok and (self.buffers or np.any(self.remaining)):
            raise RuntimeError("grid writer closed with cells missing")
        from .raster import make_cog

        factors = overview_factors(self.grid.rows, self.grid.cols)
        for dst in self.files.values():
            if ok and factors:
                dst.build_overviews(factors, Resampling.average)
                dst.update_tags(ns="rio_overview", resampling="average")
            dst.close()
        if ok:  # the same Cloud-Optimized layout as the single-process runner writes
            for path in self.paths.values():
                make_cog(path)
        return self.paths


# --------------------------------------------------------------------------- client

def _make_client(client, workers: int | None, scheduler: str | None, processes: bool):
    """(client, owned resources to close) for the requested execution."""
    if client is not None:
        return client, []
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise InputError("workers", "Dask distributed is not installed (pip install "
                                    "distributed), or run in this process with workers=0"
                         ) from None
    if scheduler:
        try:
            c = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("scheduler", f"cannot reach a Dask scheduler at {scheduler!r} "
                                          f"within {SCHEDULER_TIMEOUT_S} s: {exc}") from None
        return c, [c]
    n = int(workers) if workers else (os.cpu_count() or 1)
    # Loopback only: a local run opens no port to the network (threads use inproc://).
    net = {"host": "127.0.0.1"} if processes else {}
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                           dashboard_address=None, **net)
    c = Client(cluster)
    return c, [c, cluster]


def _run_tasks(chunks: list[Chunk], make_call: Callable[[Chunk], tuple[tuple, dict]],
               client, max_in_flight: int, is_cancelled: CancelFn | None
               ) -> Iterator[tuple[Chunk, dict]]:
    """(chunk, result) as tasks finish; at most ``max_in_flight`` submitted ahead."""
    if client is None:  # in this process, in order
        for ch in chunks:
            _check(is_cancelled)
            args, kwargs = make_call(ch)
            yield ch, chunk_task(*args, **kwargs)
        return
    from distributed import as_completed

    todo = iter(chunks)
    by_key: dict[str, Chunk] = {}
    pending = as_completed(with_results=False)

    def submit_next() -> bool:
        ch = next(todo, None)
        if ch is None:
            return False
        args, kwargs = make_call(ch)
        fut = client.submit(chunk_task, *args, **kwargs, pure=False,
                            key=f"groundshake-chunk-{ch.kind}-{ch.start}-{os.urandom(4).hex()}")
        by_key[fut.key] = ch
        pending.add(fut)
        return True

    try:
        for _ in range(max_in_flight):
            if not submit_next():
                break
        for fut in pending:
            _check(is_cancelled)
            res = fut.result()
            ch = by_key.pop(fut.key)
            fut.release()
            submit_next()
            yield ch, res
    finally:
        left = [f for f in list(getattr(pending, "futures", ())) if not f.done()]
        if left:
            client.cancel(left)


def run_scenario_distributed(scenario: Scenario, out_dir: str | Path,
                             progress: ProgressFn | None = None,
                             is_cancelled: CancelFn | None = None, overwrite: bool = False, *,
                             workers: int | None = None, scheduler: str | None = None,
                             client=None, chunk_size: int = DEFAULT_CHUNK_SITES,
                             n_features: int = DEFAULT_N_FEATURES, processes: bool = True,
                             max_in_flight: int | None = None) -> RunResult:
    """Run a scenario as Dask tasks and write the same outputs as ``run_scenario``.

    Execution: ``client`` (a ``distributed.Client``) if given; else
    ``scheduler`` ("tcp://host:port", an existing cluster); else a LocalCluster
    of ``workers`` single-threaded workers (default: one per core;
    ``processes=False`` for threads); ``workers=0`` runs every chunk in this
    process without Dask. Results are bit-identical across all of these and
    any ``chunk_size`` (see the module docstring).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    engine = engine_for(scenario)
    if engine.name not in ("gmpe", "stochastic"):
        raise InputError("engine", f"distributed runs support gmpe and stochastic, "
                                   f"not {engine.name!r}")
    if workers is not None and int(workers) < 0:
        raise InputError("workers", f"must be 0 (in this process) or more, got {workers}")
    ims = list(scenario.intensity_measures)
    engine.check_ims(ims)
    final = Path(out_dir)
    owned: list = []
    with atomic_dir(final, overwrite=overwrite) as tmp:
        report = _stage(progress, 0.0, 0.1)
        report(0.0, "building the rupture and computing distances")
        rupture = scenario.build_rupture()
        sites = point_sites(scenario, rupture)
        grid = grid_cells(scenario, rupture)
        sets = [s for s in (sites, grid) if s]
        _check(is_cancelled)
        warnings = [*scenario.warnings, *(n for s in sets for n in s.notes)]
        conds = pd.concat([conditions_table(scenario, s) for s in sets], ignore_index=True)
        xy = np.vstack([s.xy_km for s in sets])
        outside = engine.outside_range(conds)
        n_sites = len(sites) if sites else 0
        duration = None
        if engine.name == "stochastic":
            duration = engine.record_duration(conds)
            engine.duration = duration
        grid_rows = grid.table["row"].to_numpy() if grid else None
        chunks = plan_chunks(n_sites, grid_rows, grid.grid.cols if grid else 1, int(chunk_size))
        timings["geometry_s"] = time.perf_counter() - t0

        t1 = time.perf_counter()
        if workers == 0 and client is None and not scheduler:
            dclient = None
        else:
            dclient, owned = _make_client(client, workers, scheduler, processes)
        n_workers = 1 if dclient is None else max(1, len(dclient.scheduler_info()["workers"]))
        in_flight = int(max_in_flight or 4 * n_workers)

        base_tags = {"engine": engine.name, "seed": scenario.seed,
                     "scenario_hash": scenario.content_hash(),
                     "realizations": scenario.realizations,
                     "magnitude": f"{scenario.magnitude:.2f}", "groundshake": __version__,
                     "random_field": "fourier-features"}
        writer = None
        result = RunResult(out_dir=final, run_json=final / "run.json", warnings=warnings)
        site_stats = {im: {st: np.full(n_sites, np.nan, np.float32) for st in STATISTICS}
                      for im in ims}
        keep_terms = engine.name == "stochastic"
        site_eps = None
        try:
            if grid:
                from .ims.names import IM_UNITS, parse_im

                desc = {}
                for im in ims:
                    units = IM_UNITS[parse_im(im).kind]
                    for st in STATISTICS:
                        desc[(im, st)] = (f"{im} {st} ({units})", units,
                                          f"{im_file_stem(im)}_{st}.tif",
                                          {"IM": im, "statistic": st, "units": units})
                desc[("outside_range", "")] = ("1 where the engine is outside its valid ranges",
                                               "", "outside_range.tif", {"IM": "outside_range"})
                writer = GridWriter(tmp, grid.grid, grid.table["row"].to_numpy(),
                                    grid.table["col"].to_numpy(), list(desc), base_tags, desc)

            def make_call(ch: Chunk) -> tuple[tuple, dict]:
                args = (engine.name, conds.iloc[ch.start:ch.stop].reset_index(drop=True),
                        xy[ch.start:ch.stop], ch.start, ims, int(scenario.realizations),
                        int(scenario.seed))
                # only point sites keep their random terms (site_terms.npz)
                return args, {"n_features": int(n_features), "duration": duration,
                              "keep_terms": keep_terms and ch.kind == "sites"}
            done = 0
            run_report = _stage(progress, 0.1, 0.95)
            for ch, res in _run_tasks(chunks, make_call, dclient, in_flight, is_cancelled):
                stats = res["stats"]
                if ch.kind == "sites":
                    for im in ims:
                        for st in STATISTICS:
                            site_stats[im][st][ch.start:ch.stop] = stats[im][st]
                    if "eps" in res:
                        if site_eps is None:
                            site_eps = np.empty((int(scenario.realizations), n_sites,
                                                 res["eps"].shape[2]))
                        site_eps[:, ch.start:ch.stop] = res["eps"]
                else:
                    vals = {(im, st): stats[im][st] for im in ims for st in STATISTICS}
                    vals[("outside_range", "")] = outside[ch.start:ch.stop].astype(np.float32)
                    writer.add(slice(ch.start - n_sites, ch.stop - n_sites), vals)
                done += 1
                run_report(done / len(chunks), f"chunk {done}/{len(chunks)}")
            timings["engine_s"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            if writer is not None:
                paths = writer.close(ok=True)
                max_buffered = writer.max_buffered
                writer = None
                result.rasters = {k: final / v.name for k, v in paths.items()
                                  if k[0] != "outside_range"}
                result.mask_raster = final / "outside_range.tif"
            else:
                max_buffered = 0
        finally:
            if writer is not None:
                writer.close(ok=False)
            for o in reversed(owned):
                o.close()

        _rupture_layer(rupture, tmp / "rupture.gpkg")
        result.rupture_gpkg = final / "rupture.gpkg"
        if sites:
            _write_sites(sites, site_stats, slice(0, n_sites), outside[:n_sites], tmp, ims)
            result.sites_csv, result.sites_gpkg = final / "sites.csv", final / "sites.gpkg"
            if keep_terms and site_eps is not None:
                from .engines import SIMULATED_CONDITIONS
                from .stochastic.physics import PARAMETER_RANGES

                c = clip_to_ranges(conds.iloc[:n_sites], PARAMETER_RANGES)
                np.savez_compressed(
                    tmp / "site_terms.npz", seed=np.array(scenario.seed),
                    eta=stochastic_between_event(scenario.seed, scenario.realizations),
                    eps=site_eps, dt=np.array(_stochastic_dt()), duration=np.array(duration),
                    **{f"cond_{k}": c[k].to_numpy() for k in SIMULATED_CONDITIONS})
        timings["write_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        how = {"workers": n_workers if dclient is not None else 0, "scheduler": scheduler,
               "chunk_size": int(chunk_size), "chunks": len(chunks),
               "random_field": "fourier-features", "n_features": int(n_features),
               "max_buffered_block_rows": max_buffered}
        write_run_record(tmp, scenario, engine, sets, outside, timings, warnings,
                         distributed=how)
        result.warnings = warnings
    if progress is not None:
        progress(1.0, "done")
    return result
