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

- gmpe and stochastic, realization r: a generator seeded with ``[seed, r]``
  draws the between-event terms, then the within-event field as random
  Fourier features (:func:`gm_engine.correlation.draw_fourier_features`). The
  features are a few hundred kB; each task draws them again (cheaper than
  shipping them) and evaluates them at its own sites with
  :func:`gm_engine.correlation.evaluate_field`, whose value at a site depends
  only on that site's coordinates;
- stochastic engine: site i of realization r draws its noise from
  ``(seed, r, i)`` with i the global site index, and each site is synthesised
  on its own with numpy FFTs on the CPU (no batch-shape-dependent FFT or BLAS
  path; the scenario's ``device`` is not used here);
- gmpe engine: medians and sigmas are per-site functions of the conditions;
- cgm engine: realization r's
  :func:`gm_engine.generator.sampling.realization_generator` (a SeedSequence
  spawn key, so it cannot coincide with the per-site keys) draws the event
  innovations, then one Fourier-feature field per latent site channel
  (:func:`gm_engine.generator.sampling.keyed_latent_terms`); the per-site
  innovations and noise are keyed by (seed, stream, global site index, r)
  inside ``CGMGenerator.generate``. The generator computes in row blocks of
  a fixed shape on every device (64 rows on the CPU, 4,096 on a GPU), so a
  site's numbers do not depend on which chunk holds it; a GPU worker
  measures the IMs on the card (``engines.measure_on_device``).

The within-event field therefore always uses Fourier features here, whatever
the number of sites; ``run_scenario`` draws an exact Cholesky field up to
2000 sites (``correlation.MAX_EXACT_SITES``). Both are valid draws of the same
Jayaram & Baker (2009) model, but not the same numbers: compare distributed
runs with distributed runs (``workers=0`` or 1 gives the reference bits).

Memory: a task holds one chunk's (R, chunk) IM values and reduces them to
median/p16/p84 before returning (point-site chunks also return the values,
which site_realizations.npz keeps); the client buffers grid statistics one
raster block-row (256 rows) at a time, writing each block-row into the
GeoTIFFs (rasterio windowed writes) as soon as all its cells are in. At most
``max_in_flight`` tasks are submitted ahead, which bounds the results waiting
on workers.

Fault tolerance: tasks are pure functions of their arguments, so when a
worker dies Dask reruns its tasks elsewhere and the result is unchanged.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import __version__
from .correlation import DEFAULT_N_FEATURES, draw_fourier_features, evaluate_field
from .engines import (
    CGMEngine,
    add_derived,
    batch_ims,
    clip_to_ranges,
    derived_inputs,
    engine_for,
    measure_on_device,
    window_limited_sites,
    window_notes,
)
from .errors import InputError
from .geometry import conditions_table, grid_cells, point_sites
from .heap import retain_freed_memory
from .io import atomic_dir
from .runner import (
    OUTSIDE_RANGE_TEXT,
    STATISTICS,
    WINDOW_LIMITED_TEXT,
    RunResult,
    _check,
    _rupture_layer,
    _stage,
    _write_sites,
    im_file_stem,
    site_statistics,
    write_run_record,
    write_site_realizations,
)
from .scenario import Scenario

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

#: Engines a distributed run supports.
ENGINES = ("gmpe", "stochastic", "cgm")
#: Default sites (grid cells) per gmpe task: ~2-3 ms per cell (pygmm), tasks of ~5 s.
DEFAULT_CHUNK_SITES = 2048
#: Site-realizations per task of the waveform engines, for tasks of a few seconds:
#: stochastic ~10-20 ms per site-realization, cgm ~5-10 ms on one CPU core
#: (bench numbers in docs/SCALING.md).
TASK_SITE_REALIZATIONS = {"stochastic": 256, "cgm": 512}
#: A run with the default chunk size is cut into at least this many tasks per
#: worker, so a small grid still keeps every worker busy.
MIN_TASKS_PER_WORKER = 4
#: Seconds between two looks at the cancel flag while tasks run.
POLL_S = 0.2
#: Rows of a GeoTIFF block: grid statistics are written one block-row at a time.
WRITE_ROWS = 256
#: Seconds to wait for an existing scheduler (--scheduler) before giving up.
SCHEDULER_TIMEOUT_S = 20


# --------------------------------------------------------------------------- tasks

def chunk_task(engine_name: str, conditions, xy_km: np.ndarray, site_offset: int,
               ims: list[str], n_realizations: int, seed: int, *,
               n_features: int = DEFAULT_N_FEATURES, duration: float | None = None,
               keep_terms: bool = False, keep_values: bool = False,
               model: dict[str, Any] | None = None,
               is_cancelled: CancelFn | None = None) -> dict[str, Any]:
    """IM statistics of one chunk of sites over all realizations (one Dask task).

    ``site_offset`` is the global index of the chunk's first site (the key of
    the per-site noise). Returns ``{"stats": {im: {stat: (n,) float32}}}``
    plus, with ``keep_values``, ``"values"`` ``{im: (R, n) float32}`` (point
    sites: site_realizations.npz) and, with ``keep_terms``, the random terms a
    run stores to regenerate point-site waveforms: ``"eps"`` (R, n, P) for the
    stochastic engine, ``"eps_site"`` (n, R, C) for cgm. ``model`` (cgm):
    ``{"card": path or None for the bundled one, "device", "sha256"}``.
    ``is_cancelled`` is only for in-process calls (checked between sites or
    realizations).
    """
    terms = None
    if engine_name == "gmpe":
        values = _gmpe_chunk(conditions, xy_km, ims, n_realizations, seed, n_features,
                             is_cancelled)
    elif engine_name == "stochastic":
        values, terms = _stochastic_chunk(conditions, xy_km, site_offset, ims, n_realizations,
                                          seed, n_features, duration, is_cancelled)
    elif engine_name == "cgm":
        values, terms = _cgm_chunk(conditions, xy_km, site_offset, ims, n_realizations, seed,
                                   n_features, model or {}, is_cancelled)
    else:
        raise InputError("engine", f"distributed runs support {', '.join(ENGINES)}, "
                                   f"not {engine_name!r}")
    out: dict[str, Any] = {"stats": {im: site_statistics(values[im]) for im in ims}}
    if keep_values:
        out["values"] = {im: np.asarray(values[im], dtype=np.float32) for im in ims}
    if keep_terms and terms is not None:
        out["eps_site" if engine_name == "cgm" else "eps"] = terms
    return out


def realization_rng(seed: int, r: int) -> np.random.Generator:
    """The generator of realization r: between-event terms, then the field features."""
    return np.random.default_rng([int(seed), int(r)])


def _gmpe_chunk(conditions, xy_km, ims, n_realizations, seed, n_features, is_cancelled=None):
    from .gmpe import (
        CONDITION_RANGES,
        between_event_factor,
        correlation_periods,
        nga_west2_average,
        realization_values,
    )

    names = derived_inputs(ims)
    res = nga_west2_average(clip_to_ranges(conditions, CONDITION_RANGES), names)
    corr_t = correlation_periods(names)
    chol = between_event_factor(corr_t)
    out = {nm: np.empty((int(n_realizations), len(conditions))) for nm in names}
    for r in range(int(n_realizations)):
        _check(is_cancelled)
        rng = realization_rng(seed, r)
        eta = chol @ rng.standard_normal(len(names))  # same on every worker: same inputs
        eps = evaluate_field(draw_fourier_features(corr_t, rng, n_features), xy_km)
        for nm, v in realization_values(res, names, eta, eps).items():
            out[nm][r] = v
    return add_derived(out, ims)


def stochastic_between_event(seed: int, n_realizations: int) -> np.ndarray:
    """(R, P) between-event vectors of the stochastic engine, as every task draws them."""
    from .stochastic.calibration import CONTROL_PERIODS
    from .stochastic.simulator import _random_terms

    p = CONTROL_PERIODS.size
    return np.stack([_random_terms(1, realization_rng(seed, r), None, np.zeros((1, p)))[0][0]
                     for r in range(int(n_realizations))])


def _stochastic_chunk(conditions, xy_km, site_offset, ims, n_realizations, seed, n_features,
                      duration, is_cancelled=None):
    from .stochastic.calibration import CONTROL_PERIODS
    from .stochastic.physics import PARAMETER_RANGES
    from .stochastic.simulator import (
        _random_terms,
        _site_arrays,
        intensity_measures,
        site_noise_key,
        synthesize,
    )

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
            _check(is_cancelled)
            sub = {k: v[i:i + 1] for k, v in site.items()}
            acc = synthesize(sub, [site_noise_key(seed, r, int(site_offset) + i)], dt=dt,
                             duration=float(duration), eta=eta[0], eps=eps[i:i + 1])
            vals = intensity_measures(acc, dt, names)
            for nm in names:
                out[nm][r, i] = vals[nm][0]
    return add_derived(out, ims), all_eps


def _stochastic_dt() -> float:
    from .engines import StochasticEngine

    return StochasticEngine.DT


#: Generators loaded in this process, by (card path, device): a worker loads a model once.
_GENERATORS: dict[tuple[str, str], Any] = {}
_GENERATORS_LOCK = threading.Lock()


def cached_generator(card_path: str | Path | None, device: str = "cpu",
                     sha256: str | None = None):  # -> gm_engine.generator.CGMGenerator
    """The model of ``card_path`` (None: the bundled one) on ``device``, loaded once per process.

    Dask workers keep it between tasks. ``sha256``: the weights the run was
    started with; a cached model with other weights (the file was replaced)
    is loaded again, and a worker whose file differs raises an InputError.
    """
    from .engines import bundled_model_card

    path = Path(card_path) if card_path else bundled_model_card()
    key = (str(path.resolve()), str(device))
    with _GENERATORS_LOCK:  # threaded workers: one load, not one per thread
        gen = _GENERATORS.get(key)
        if gen is None or (sha256 and gen.card.sha256 != sha256):
            if not path.is_file():
                raise InputError("model_card", f"no model card at {path} on this machine "
                                               "(workers need the card and its weights)")
            from .generator import load_model

            gen = load_model(str(path), device)
            _GENERATORS[key] = gen
    if sha256 and gen.card.sha256 != sha256:
        raise InputError("model_card", f"the model at {path} has other weights (SHA-256 "
                                       f"{gen.card.sha256[:12]}...) than the run's "
                                       f"({sha256[:12]}...)")
    return gen


def card_ranges(card: Any) -> dict[str, tuple[float, float]]:
    """Trained ranges of a card's numeric conditions, for ``clip_to_ranges``."""
    return {s.column: (float(s.min), float(s.max)) for s in card.conditions
            if s.kind != "categorical"}


def _cgm_chunk(conditions, xy_km, site_offset, ims, n_realizations, seed, n_features, model,
               is_cancelled=None):
    from .generator.sampling import keyed_latent_terms

    gen = cached_generator(model.get("card"), model.get("device", "cpu"), model.get("sha256"))
    shp = gen.latent_shape
    r = int(n_realizations)
    eps_event, eps_site = keyed_latent_terms(int(seed), xy_km, np.arange(r), shp.event,
                                             shp.site_channels, n_features=n_features,
                                             period_s=gen.site_channel_period_s)
    # clamped here as generate() would, without its per-task warning: the
    # client flags these sites (outside_range) and says so in run.json
    conds = clip_to_ranges(conditions, card_ranges(gen.card)).reset_index(drop=True)
    names = derived_inputs(ims)
    n, off = len(conds), int(site_offset)
    out = {nm: np.empty((r, n)) for nm in names}
    # The generator computes in fixed-shape row blocks on every device, so a
    # site's bits do not depend on the chunk around it.
    if gen.device.type != "cpu":  # a GPU worker: IMs on the card, as a one-process run
        measure_on_device(gen, conds, eps_event, eps_site, int(seed), names, out, None,
                           is_cancelled, site_offset=off)
        return add_derived(out, ims), eps_site
    per = max(1, gen.default_batch() // max(r, 1))
    for start in range(0, n, per):
        _check(is_cancelled)
        rows = np.arange(start, min(n, start + per))
        vals = batch_ims(gen, conds.iloc[rows], eps_event, eps_site[rows], int(seed),
                         off + rows, names)
        for nm in names:
            out[nm][:, rows] = vals[nm]
    return add_derived(out, ims), eps_site


# --------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class Chunk:
    """Sites [start, stop) of the run's global site order (point sites, then grid cells)."""

    kind: str   # "sites" or "grid"
    start: int
    stop: int


def default_chunk_size(engine_name: str, n_realizations: int, n_sites: int = 0,
                       n_workers: int = 1) -> int:
    """Sites per task: a few seconds of work, and at least MIN_TASKS_PER_WORKER tasks per worker.

    gmpe costs per site (the NGA-West2 medians), the waveform engines per
    site and realization. ``n_sites`` (all sites and cells of the run) and
    ``n_workers`` cut a small run into more, smaller tasks.
    """
    if engine_name in TASK_SITE_REALIZATIONS:
        size = max(1, TASK_SITE_REALIZATIONS[engine_name] // max(1, int(n_realizations)))
    else:
        size = DEFAULT_CHUNK_SITES
    if n_sites > 0:
        size = min(size, -(-int(n_sites) // (MIN_TASKS_PER_WORKER * max(1, int(n_workers)))))
    return max(1, size)


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

#: LocalCluster keywords that keep a local run off the network: the scheduler,
#: the workers and their HTTP servers listen on 127.0.0.1 only (threaded
#: clusters too: inproc:// would still open the HTTP servers on the machine's
#: address), with no dashboard.
LOOPBACK = {"host": "127.0.0.1", "protocol": "tcp://", "dashboard_address": "127.0.0.1:0",
            "scheduler_kwargs": {"dashboard": False}}


def make_client(client: Any, workers: int | None, scheduler: str | None,
                processes: bool) -> tuple[Any, list[Any]]:
    """(client, owned resources to close) for the requested execution.

    A client this function starts is not made Dask's default client: the run
    uses it explicitly, and the caller's own default (if any) stays as it was.
    """
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
            c = Client(scheduler, timeout=SCHEDULER_TIMEOUT_S, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError("scheduler", f"cannot reach a Dask scheduler at {scheduler!r} "
                                          f"within {SCHEDULER_TIMEOUT_S} s: {exc}") from None
        return c, [c]
    n = int(workers) if workers else (os.cpu_count() or 1)
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=bool(processes),
                           **LOOPBACK)
    try:
        c = Client(cluster, set_as_default=False)
        if processes:  # worker processes this run started (gm_engine.heap)
            c.run(retain_freed_memory)
    except BaseException:
        cluster.close()
        raise
    return c, [c, cluster]


def _run_tasks(chunks: list[Chunk], make_call: Callable[[Chunk], tuple[tuple, dict]],
               client, max_in_flight: int, is_cancelled: CancelFn | None
               ) -> Iterator[tuple[Chunk, dict]]:
    """(chunk, result) as tasks finish; at most ``max_in_flight`` submitted ahead.

    The cancel flag is read every ``POLL_S`` seconds while tasks run, not only
    when one finishes; on Cancelled (or any error) the outstanding futures
    are cancelled. Only ``client`` is used (submit, the futures' own
    callbacks), never Dask's default client.
    """
    if client is None:  # in this process, in order
        for ch in chunks:
            _check(is_cancelled)
            args, kwargs = make_call(ch)
            yield ch, chunk_task(*args, **kwargs, is_cancelled=is_cancelled)
        return
    finished: queue.SimpleQueue = queue.SimpleQueue()
    todo = iter(chunks)
    running: dict[Any, tuple[Any, Chunk]] = {}

    def submit_next() -> bool:
        ch = next(todo, None)
        if ch is None:
            return False
        args, kwargs = make_call(ch)
        fut = client.submit(chunk_task, *args, **kwargs, pure=False,
                            key=f"groundshake-chunk-{ch.kind}-{ch.start}-{os.urandom(4).hex()}")
        running[fut.key] = (fut, ch)
        fut.add_done_callback(finished.put)  # runs on the client's own loop and thread pool
        return True

    try:
        for _ in range(max(1, int(max_in_flight))):
            if not submit_next():
                break
        while running:
            _check(is_cancelled)
            try:
                key = finished.get(timeout=POLL_S).key
            except queue.Empty:
                continue
            if key not in running:
                continue
            fut, ch = running.pop(key)
            res = fut.result()
            fut.release()
            submit_next()
            yield ch, res
    finally:
        left = [f for f, _ in running.values()]
        if left:
            client.cancel(left)


def _cgm_setup(engine, model_card: str | Path | None, device: str):
    """(client-side engine, the tasks' ``model`` argument) of a cgm run.

    The bundled model is passed as None: each worker finds it in its own
    installation. Any other card must be readable at the same path on every
    worker; the weights' SHA-256 travels with the tasks and is checked there.
    """
    from .engines import bundled_model_card

    path = Path(model_card) if model_card else Path(engine.card_path)
    if not path.is_file():
        raise InputError("model_card", f"no model card at {path}: the cgm engine needs a model "
                                       "(gm_engine/models, or model_card=)")
    path = path.resolve()
    client_engine = _ClientCGM(device=device, model_card=str(path))
    sha = client_engine.generator().card.sha256
    client_engine.sha256 = sha
    bundled = path == bundled_model_card().resolve()
    return client_engine, {"card": None if bundled else str(path), "device": device,
                           "sha256": sha}


class _ClientCGM(CGMEngine):
    """The cgm engine as the client sees it: ranges, site terms and the run record.

    Its model (on the CPU, for the card and the sampling settings) comes from
    the same per-process cache as the tasks', so ``workers=0`` loads it once.
    """

    sha256: str | None = None

    def generator(self):  # -> gm_engine.generator.CGMGenerator
        return cached_generator(self.card_path, "cpu", self.sha256)

    def keep_terms(self, seed: int, eps_event: np.ndarray, eps_site: np.ndarray,
                   conditions: pd.DataFrame) -> None:
        """The point sites' latent draws, for ``site_terms`` (stored as run_scenario does)."""
        self._terms = {"seed": np.array(seed), "eps_event": eps_event, "eps_site": eps_site}
        self._conditions = conditions.reset_index(drop=True)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "device": f"{self.device} (resolved on each worker)",
                "latent_terms": "keyed per realization (generator.sampling.keyed_latent_terms)"}


def run_scenario_distributed(scenario: Scenario, out_dir: str | Path,
                             progress: ProgressFn | None = None,
                             is_cancelled: CancelFn | None = None, overwrite: bool = False, *,
                             workers: int | None = None, scheduler: str | None = None,
                             client=None, chunk_size: int | None = None,
                             n_features: int = DEFAULT_N_FEATURES, processes: bool = True,
                             max_in_flight: int | None = None,
                             model_card: str | Path | None = None) -> RunResult:
    """Run a scenario as Dask tasks and write the same outputs as ``run_scenario``.

    Execution: ``client`` (a ``distributed.Client``, default client or not) if
    given; else ``scheduler`` ("tcp://host:port", an existing cluster); else a
    LocalCluster on 127.0.0.1 of ``workers`` single-threaded workers (default:
    one per core; ``processes=False`` for threads); ``workers=0`` runs every
    chunk in this process without Dask. ``chunk_size``: sites per task
    (default: :func:`default_chunk_size`, per engine). ``model_card``: the cgm
    model (default: the scenario's, else the bundled one). Results are
    bit-identical across all of these and any ``chunk_size`` (module docstring).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    engine = engine_for(scenario)
    if engine.name not in ENGINES:
        raise InputError("engine", f"distributed runs support {', '.join(ENGINES)}, "
                                   f"not {engine.name!r}")
    if workers is not None and int(workers) < 0:
        raise InputError("workers", f"must be 0 (in this process) or more, got {workers}")
    if chunk_size is not None and int(chunk_size) < 1:
        raise InputError("chunk_size", f"must be at least 1, got {chunk_size}")
    ims = list(scenario.intensity_measures)
    engine.check_ims(ims)
    model = None
    if engine.name == "cgm":
        engine, model = _cgm_setup(engine, model_card, scenario.device)
    n_real, seed = int(scenario.realizations), int(scenario.seed)
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
        limited = window_limited_sites(engine, conds, ims)
        warnings += window_notes(engine, limited, ims)
        n_sites = len(sites) if sites else 0
        duration = None
        if engine.name == "stochastic":
            duration = engine.record_duration(conds)
            engine.duration = duration
        timings["geometry_s"] = time.perf_counter() - t0

        t1 = time.perf_counter()
        base_tags = {"engine": engine.name, "seed": seed,
                     "scenario_hash": scenario.content_hash(), "realizations": n_real,
                     "magnitude": f"{scenario.magnitude:.2f}", "groundshake": __version__,
                     "random_field": "fourier-features"}
        writer = None
        result = RunResult(out_dir=final, run_json=final / "run.json", warnings=warnings)
        # point sites are few: statistics, every realization's values and random terms
        site_stats = {im: {st: np.full(n_sites, np.nan, np.float32) for st in STATISTICS}
                      for im in ims}
        site_values = {im: np.full((n_real, n_sites), np.nan, np.float32) for im in ims}
        site_terms = None
        keep_terms = engine.name in ("stochastic", "cgm")
        try:
            if workers == 0 and client is None and not scheduler:
                dclient = None
            else:
                report(0.5, "connecting to the Dask cluster" if client is not None or scheduler
                       else "starting a local Dask cluster")
                dclient, owned = make_client(client, workers, scheduler, processes)
            _check(is_cancelled)
            n_workers = 1 if dclient is None else max(1, len(dclient.scheduler_info()["workers"]))
            size = int(chunk_size) if chunk_size is not None else default_chunk_size(
                engine.name, n_real, len(conds), n_workers)
            chunks = plan_chunks(n_sites, grid.table["row"].to_numpy() if grid else None,
                                 grid.grid.cols if grid else 1, size)
            in_flight = int(max_in_flight or 4 * n_workers)
            if grid:
                writer = _grid_writer(tmp, grid, ims, base_tags, limited is not None)

            def make_call(ch: Chunk) -> tuple[tuple, dict]:
                args = (engine.name, conds.iloc[ch.start:ch.stop].reset_index(drop=True),
                        xy[ch.start:ch.stop], ch.start, ims, n_real, seed)
                point = ch.kind == "sites"  # only point sites keep values and random terms
                return args, {"n_features": int(n_features), "duration": duration,
                              "keep_terms": keep_terms and point, "keep_values": point,
                              "model": model}
            done = 0
            run_report = _stage(progress, 0.1, 0.95)
            run_report(0.0, f"{len(chunks)} tasks on {n_workers} "
                            f"worker{'s' if n_workers > 1 else ''}")
            for ch, res in _run_tasks(chunks, make_call, dclient, in_flight, is_cancelled):
                stats = res["stats"]
                if ch.kind == "sites":
                    sl = slice(ch.start, ch.stop)
                    for im in ims:
                        site_values[im][:, sl] = res["values"][im]
                        for st in STATISTICS:
                            site_stats[im][st][sl] = stats[im][st]
                    terms = res.get("eps", res.get("eps_site"))
                    if terms is not None:
                        if site_terms is None:  # (R, N, P) stochastic, (N, R, C) cgm
                            shape = list(terms.shape)
                            shape[1 if engine.name == "stochastic" else 0] = n_sites
                            site_terms = np.empty(shape, terms.dtype)
                        if engine.name == "stochastic":
                            site_terms[:, sl] = terms
                        else:
                            site_terms[sl] = terms
                else:
                    vals = {(im, st): stats[im][st] for im in ims for st in STATISTICS}
                    vals[("outside_range", "")] = outside[ch.start:ch.stop].astype(np.float32)
                    if limited is not None:
                        vals[("window_limited", "")] = limited[ch.start:ch.stop].astype(
                            np.float32)
                    writer.add(slice(ch.start - n_sites, ch.stop - n_sites), vals)
                done += 1
                run_report(done / len(chunks), f"chunk {done}/{len(chunks)}")
            timings["engine_s"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            max_buffered = 0
            if writer is not None:
                paths = writer.close(ok=True)
                max_buffered = writer.max_buffered
                writer = None
                result.rasters = {k: final / v.name for k, v in paths.items()
                                  if k[0] not in ("outside_range", "window_limited")}
                result.mask_raster = final / "outside_range.tif"
        finally:
            if writer is not None:
                writer.close(ok=False)
            for o in reversed(owned):
                o.close()

        _rupture_layer(rupture, tmp / "rupture.gpkg")
        result.rupture_gpkg = final / "rupture.gpkg"
        if sites:
            _write_sites(sites, site_stats, slice(0, n_sites), outside[:n_sites], tmp, ims,
                         None if limited is None else limited[:n_sites])
            write_site_realizations(tmp, sites, site_values)
            result.sites_csv, result.sites_gpkg = final / "sites.csv", final / "sites.gpkg"
            if site_terms is not None:
                _write_site_terms(tmp, engine, scenario, conds.iloc[:n_sites], site_terms,
                                  duration, n_features)
        timings["write_s"] = time.perf_counter() - t2
        timings["total_s"] = time.perf_counter() - t0
        how = {"workers": n_workers if dclient is not None else 0, "scheduler": scheduler,
               "chunk_size": size, "chunks": len(chunks),
               "random_field": "fourier-features", "n_features": int(n_features),
               "max_buffered_block_rows": max_buffered}
        write_run_record(tmp, scenario, engine, sets, outside, timings, warnings,
                         distributed=how)
        result.warnings = warnings
    if progress is not None:
        progress(1.0, "done")
    return result


def _grid_writer(tmp: Path, grid, ims: list[str], base_tags: dict,
                 window_limited: bool = False) -> GridWriter:
    """The GeoTIFFs of a run's grid: one per IM and statistic, plus the outside-range mask
    and, with ``window_limited``, that flag's mask (as runner._write_grid)."""
    from .ims.names import IM_UNITS, parse_im

    desc = {}
    for im in ims:
        units = IM_UNITS[parse_im(im).kind]
        for st in STATISTICS:
            desc[(im, st)] = (f"{im} {st} ({units})", units, f"{im_file_stem(im)}_{st}.tif",
                              {"IM": im, "statistic": st, "units": units})
    desc[("outside_range", "")] = (OUTSIDE_RANGE_TEXT, "", "outside_range.tif",
                                   {"IM": "outside_range"})
    if window_limited:
        desc[("window_limited", "")] = (WINDOW_LIMITED_TEXT, "", "window_limited.tif",
                                        {"IM": "window_limited"})
    return GridWriter(tmp, grid.grid, grid.table["row"].to_numpy(),
                      grid.table["col"].to_numpy(), list(desc), base_tags, desc)


def _write_site_terms(tmp: Path, engine, scenario: Scenario, conds: pd.DataFrame,
                      terms: np.ndarray, duration: float | None, n_features: int) -> None:
    """site_terms.npz: what ``runner.site_waveforms`` needs to regenerate a point site."""
    if engine.name == "stochastic":
        from .engines import SIMULATED_CONDITIONS
        from .stochastic.physics import PARAMETER_RANGES

        c = clip_to_ranges(conds, PARAMETER_RANGES)
        np.savez_compressed(
            tmp / "site_terms.npz", seed=np.array(scenario.seed),
            eta=stochastic_between_event(scenario.seed, scenario.realizations),
            eps=terms, dt=np.array(_stochastic_dt()), duration=np.array(duration),
            **{f"cond_{k}": c[k].to_numpy() for k in SIMULATED_CONDITIONS})
    elif engine.name == "cgm":
        from .generator.sampling import keyed_latent_terms

        gen = engine.generator()
        shp = gen.latent_shape
        eps_event, _ = keyed_latent_terms(int(scenario.seed), np.empty((0, 2)),
                                          np.arange(int(scenario.realizations)), shp.event,
                                          shp.site_channels, n_features=n_features,
                                          period_s=gen.site_channel_period_s)
        engine.keep_terms(int(scenario.seed), eps_event, terms, conds)
        np.savez_compressed(tmp / "site_terms.npz", **engine.site_terms(slice(0, len(conds))))
