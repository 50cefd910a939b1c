"""Benchmark: a gmpe grid run as Dask tasks, 1 and 2 workers, wall time and peak memory.

Each configuration runs in a fresh Python process. Peak memory is measured
three ways: the whole process tree (the client process plus its LocalCluster
worker processes, RSS summed every 0.1 s with psutil), the client process's
``ru_maxrss`` (geometry, windowed GeoTIFF writes) and each worker's
``ru_maxrss``. Prints a Markdown table; ``--write`` adds the rows to the
results file and replaces the "## Distributed runs (Dask)" section of
docs/PERFORMANCE.md (bench/perfdoc.py) with all of that file's rows.

``--engine cgm`` runs the generative model instead of the gmpe engine and
``--device`` (the scenario's ``device``: auto, cpu or cuda) says where its
workers run it; a GPU run writes its rows to their own ``--results`` file
(docs/PERFORMANCE.md is only rewritten from the default file). Each row
records the engine, the device asked for (and the one torch resolved it to),
the CPU count, the GPU's name where torch sees one, and ``--note``.

Usage::

    python bench/bench_distributed.py [--cells 10000 100000 1000000] [--workers 1 2]
                                      [--realizations 10] [--chunk N] [--write]
                                      [--engine gmpe|cgm] [--device auto|cpu|cuda]
                                      [--results PATH] [--note TEXT]
    python bench/bench_distributed.py --one CELLS WORKERS   # one run, JSON on stdout

1e6 cells take ~45 core-minutes with the gmpe engine (~2.5 ms per cell):
run them when the machine is otherwise idle. The cgm engine costs ~1 ms per
site and realization on a CPU core (gm_engine.distributed._cgm_chunk): keep its
grids small on a CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from perfdoc import replace_section, shown_path  # noqa: E402

SECTION = "## Distributed runs (Dask)"
RESULTS = ROOT / "bench" / "results" / "distributed.jsonl"
IMS = ["PGA", "SA(1.0)"]
ENGINES = ("gmpe", "cgm")
DEVICES = ("auto", "cpu", "cuda")


def engine_device(r: dict) -> tuple[str, str]:
    """(engine, device) of a stored row; rows from before these fields were gmpe on the CPU."""
    return r.get("engine", "gmpe"), r.get("device", "cpu")


def _default_case(rows: list[dict]) -> bool:
    return all(engine_device(r) == ("gmpe", "cpu") for r in rows)


def scenario_for(cells: int, realizations: int, base: Path, engine: str = "gmpe",
                 device: str = "cpu"):
    from gm_engine.scenario import Scenario

    side = round(cells ** 0.5)
    spacing = 1.0 / side  # a 1 x 1 degree grid around a 60 km strike-slip rupture
    d = {"groundshake_scenario": 1, "name": f"bench {side}x{side}",
         "rupture": {"trace": [[-122.55, 37.35], [-122.05, 37.75]], "crs": "EPSG:4326",
                     "dip": 90, "ztor": 0, "zbot": 12, "rake": 180},
         "magnitude": 7.0,
         "grid": {"extent": [-122.8, 37.05, -122.8 + side * spacing, 37.05 + side * spacing],
                  "crs": "EPSG:4326", "spacing": spacing},
         "vs30": {"default": 450}, "intensity_measures": IMS,
         "realizations": realizations, "seed": 1, "engine": engine, "device": device}
    return Scenario.from_dict(d, base)


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class TreeRSS:
    """Peak of the summed RSS of this process and all its descendants, sampled in a thread."""

    def __init__(self, every_s: float = 0.1) -> None:
        try:
            import psutil
        except ImportError:
            psutil = None
        self.psutil = psutil
        self.every_s = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = self.psutil.Process()
        total = me.memory_info().rss
        for p in me.children(recursive=True):
            try:
                total += p.memory_info().rss
            except (self.psutil.NoSuchProcess, self.psutil.AccessDenied):
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.every_s)

    def __enter__(self) -> TreeRSS:
        if self.psutil is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.psutil is not None:
            self._stop.set()
            self._thread.join()
            self.peak = max(self.peak, self._sample())

    @property
    def peak_mib(self) -> float | None:
        return self.peak / 2 ** 20 if self.psutil is not None else None


def _torch_info(engine: str, device: str) -> dict:
    """The device torch resolves ``device`` to (cgm only) and the GPU's name, if torch is there.

    Called after the measurements: importing torch here does not count in the
    client's peak RSS.
    """
    try:
        import torch
    except ImportError:
        return {}
    info: dict = {}
    if engine == "cgm":
        from gm_engine.generator.device import resolve_device

        info["device_resolved"] = str(resolve_device(device))
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["torch"] = torch.__version__
    return info


def one(cells: int, workers: int, realizations: int, chunk: int | None, engine: str = "gmpe",
        device: str = "cpu", note: str | None = None) -> dict:
    from gm_engine.distributed import LOOPBACK, run_scenario_distributed

    load0 = round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as tmp, TreeRSS() as tree:
        s = scenario_for(cells, realizations, Path(tmp), engine, device)
        t0 = time.perf_counter()
        worker_rss: list[float] = []
        setup = 0.0
        if workers < 0:  # the single-process runner, for reference
            from gm_engine.runner import run_scenario

            res = run_scenario(s, Path(tmp) / "run")
        elif workers == 0:
            res = run_scenario_distributed(s, Path(tmp) / "run", workers=0, chunk_size=chunk)
        else:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   **LOOPBACK)
            client = Client(cluster, set_as_default=False)
            # as run_scenario_distributed does for the clusters it starts: with
            # Dask's MALLOC_TRIM_THRESHOLD_=65536 a cgm task ran 2.8x slower
            from gm_engine.heap import retain_freed_memory

            client.run(retain_freed_memory)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = run_scenario_distributed(s, Path(tmp) / "run", client=client, chunk_size=chunk)
            wall = time.perf_counter() - t0
            worker_rss = list(client.run(_maxrss_mib).values())
            client.close()
            cluster.close()
        if workers <= 0:
            wall = time.perf_counter() - t0
        meta = json.loads(res.run_json.read_text())
    dist = meta.get("distributed", {})
    tree_mib = tree.peak_mib
    client_mib = _maxrss_mib()
    if tree_mib is None:  # no psutil: an upper bound (the peaks need not coincide)
        tree_mib = client_mib + sum(worker_rss)
    row = {"date": time.strftime("%Y-%m-%d"), "load_at_start": load0,
           "cells": meta["n_grid_cells"], "workers": workers, "realizations": realizations,
           "engine": engine, "device": device,
           "chunks": dist.get("chunks", 1), "chunk_size": dist.get("chunk_size"),
           "wall_s": wall, "cluster_start_s": setup, "timings": meta["timings"],
           "tree_rss_mib": tree_mib, "tree_rss_method": "psutil" if tree.psutil else "sum",
           "client_rss_mib": client_mib, "worker_rss_mib": worker_rss,
           "cpus": os.cpu_count()}
    row.update(_torch_info(engine, device))
    if note:
        row["note"] = note
    return row


def _machine(gpu: bool = False) -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    import dask
    import numpy

    extra = ""
    if gpu:  # only for cgm or GPU runs: the default gmpe/CPU line stays as it was
        try:
            import torch

            extra = f", torch {torch.__version__}"
            if torch.cuda.is_available():
                extra += f", GPU {torch.cuda.get_device_name()}"
        except ImportError:
            pass
    return (f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs (`nproc`), {cpu}, "
            f"{mem:.0f} GiB RAM; Python {platform.python_version()}, numpy "
            f"{numpy.__version__}, dask/distributed {dask.__version__}{extra}; "
            f"load average {os.getloadavg()[0]:.1f} at start")


def _engine_device_cell(r: dict) -> str:
    engine, device = engine_device(r)
    resolved = r.get("device_resolved")
    dev = device if not resolved or resolved == device else f"{device} ({resolved})"
    if r.get("gpu") and (resolved or device).startswith("cuda"):
        dev += f", {r['gpu']}"
    return f"{engine} / {dev}, R = {r['realizations']}"


def table(rows: list[dict]) -> str:
    """Markdown table; an "engine / device" column where any row is not gmpe on the CPU."""
    ed = not _default_case(rows)
    out = ["| grid cells | " + ("engine / device | " if ed else "") + "how | "
           "tasks (cells each) | wall (s) | engine (s) | write (s) | "
           "process tree peak RSS (MiB) | client peak RSS (MiB) | worker peak RSS (MiB) | "
           "measured (load at start) |",
           "|---:|" + ("---|" if ed else "") + "---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        how = {-1: "`run_scenario` (1 process)", 0: "`workers=0` (in process)"}.get(
            r["workers"], f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}")
        w = ", ".join(f"{x:.0f}" for x in r["worker_rss_mib"]) or "-"
        size = f" ({r['chunk_size']})" if r.get("chunk_size") else ""
        tree = f"{r['tree_rss_mib']:.0f}" + ("" if r["tree_rss_method"] == "psutil" else " *")
        col = f"{_engine_device_cell(r)} | " if ed else ""
        out.append(f"| {r['cells']:,} | {col}{how} | {r['chunks']}{size} | {r['wall_s']:.1f} | "
                   f"{r['timings'].get('engine_s', 0):.1f} | {r['timings'].get('write_s', 0):.2f}"
                   f" | {tree} | {r['client_rss_mib']:.0f} | {w} | "
                   f"{r.get('date', '?')} ({r.get('load_at_start', '?')}) |")
    by_note: dict[str, list[str]] = {}
    for r in rows:
        if r.get("note"):
            which = f"{r['cells']:,} x {r['workers']}"
            if ed:
                which += " ({} / {})".format(*engine_device(r))
            by_note.setdefault(r["note"], []).append(which)
    notes = [f"- cells x workers {', '.join(which)}: {note}" for note, which in by_note.items()]
    return "\n".join(out + (["", *notes] if notes else []))


def merged_rows(new: list[dict], results: Path = RESULTS) -> list[dict]:
    """Rows of ``results`` with ``new`` appended, keeping the latest per
    (engine, device, cells, workers, realizations)."""
    old = []
    if results.is_file():
        old = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    latest: dict[tuple, dict] = {}
    for r in old + new:
        latest[(*engine_device(r), r["cells"], r["workers"], r["realizations"])] = r
    return sorted(latest.values(),
                  key=lambda r: (*engine_device(r), r["realizations"], r["cells"], r["workers"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="0: in process without Dask, -1: the single-process run_scenario")
    ap.add_argument("--realizations", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=None,
                    help="cells per task (default: the engine's, distributed.default_chunk_size)")
    ap.add_argument("--engine", choices=ENGINES, default="gmpe")
    ap.add_argument("--device", choices=DEVICES, default="cpu",
                    help="the scenario's device: where the cgm workers run the model "
                         "(the gmpe engine does not use it)")
    ap.add_argument("--results", type=Path, default=RESULTS,
                    help=f"the rows file (default {RESULTS.relative_to(ROOT)}); "
                         "docs/PERFORMANCE.md is only rewritten from the default one")
    ap.add_argument("--note", default=None, help="stored in each new row's 'note'")
    ap.add_argument("--one", type=int, nargs=2, metavar=("CELLS", "WORKERS"))
    ap.add_argument("--rebuild", action="store_true",
                    help="run nothing: rebuild the PERFORMANCE.md section from the stored rows")
    ap.add_argument("--write", action="store_true",
                    help="add the rows to the --results file and (default file only) rebuild "
                         f"the '{SECTION}' section of docs/PERFORMANCE.md from all its rows")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], a.one[1], a.realizations, a.chunk, a.engine, a.device,
                             a.note)))
        return
    results = a.results
    default = (a.engine, a.device) == ("gmpe", "cpu")
    machine = _machine(gpu=not default)
    rows = []
    for cells in [] if a.rebuild else a.cells:
        for w in a.workers:
            cmd = [sys.executable, __file__, "--one", str(cells), str(w),
                   "--realizations", str(a.realizations),
                   "--engine", a.engine, "--device", a.device]
            if a.chunk:
                cmd += ["--chunk", str(a.chunk)]
            if a.note:
                cmd += ["--note", a.note]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode:
                sys.exit(f"{cells} cells, {w} workers failed:\n{p.stderr[-3000:]}")
            rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    if a.chunk:
        chunk = f"chunks of {a.chunk} cells"
    else:
        chunk = ("each engine's default chunks (gmpe 2048 cells, stochastic 256 and cgm 512 "
                 "site-realizations per task; fewer for small grids so that each worker gets "
                 "at least 4 tasks)")
    what = "engine, device and realizations (R) as the table says"
    merged = a.write or a.rebuild
    # A written section holds the rows of every invocation: name the options, not
    # this invocation's values (they described the latest rows only).
    cells = "10000 100000 1000000" if merged else " ".join(map(str, a.cells))
    opts = (" [--engine gmpe|cgm] [--device auto|cpu|cuda]" if merged
            else "" if default else f" --engine {a.engine} --device {a.device}")
    if results.resolve() != RESULTS.resolve():
        opts += f" --results {shown_path(results)}"
    per = "engine, device, grid size and worker count"
    text = (f"{SECTION}\n\n`python bench/bench_distributed.py [--cells "
            f"{cells}] [--workers 1 2]{opts} --write` "
            f"(one configuration per fresh process): a grid-only scenario "
            f"(M 7.0 strike-slip, 60 km trace, "
            f"1 x 1 degree grid, Vs30 450), IMs {', '.join(IMS)}, {what}, "
            f"{chunk} (whole raster rows), 2048 Fourier features per period, "
            "on a LocalCluster of single-threaded worker processes on 127.0.0.1. Each "
            "configuration runs in a fresh process. Wall time excludes the cluster start. "
            "Process tree peak RSS: the client process and its worker processes, summed "
            "every 0.1 s (psutil; * = no psutil, the sum of the per-process peaks).\n\n"
            f"Last written: {machine}. Rows measured earlier (this machine type, except "
            "rows whose engine / device names a GPU: a lent GPU machine) come from "
            f"`{shown_path(results)}`, the latest per {per}; "
            "the last column gives the date and load average when each was measured.\n\n"
            f"{table(merged_rows(rows, results) if merged else rows)}\n")
    print(text)
    if a.write or a.rebuild:
        if rows:
            results.parent.mkdir(parents=True, exist_ok=True)
            with open(results, "a", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r) + "\n")
        if results.resolve() == RESULTS.resolve():
            replace_section(SECTION, text)
        else:
            print(f"(rows in {results}; docs/PERFORMANCE.md left as it is: only the default "
                  f"{shown_path(RESULTS)} rebuilds its '{SECTION}' section)")


if __name__ == "__main__":
    main()
