"""Benchmark: a gmpe grid run as Dask tasks, 1 and 2 workers, wall time and peak memory.

Each configuration runs in a fresh Python process. Peak memory is measured
three ways: the whole process tree (the client process plus its LocalCluster
worker processes, RSS summed every 0.1 s with psutil), the client process's
``ru_maxrss`` (geometry, windowed GeoTIFF writes) and each worker's
``ru_maxrss``. Prints a Markdown table; ``--write`` replaces the
"## Distributed runs (Dask)" section of docs/PERFORMANCE.md (bench/perfdoc.py).

Usage::

    python bench/bench_distributed.py [--cells 10000 100000 1000000] [--workers 1 2]
                                      [--realizations 10] [--chunk N] [--write]
    python bench/bench_distributed.py --one CELLS WORKERS   # one run, JSON on stdout

1e6 cells take ~45 core-minutes with the gmpe engine (~2.5 ms per cell):
run them when the machine is otherwise idle.
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

from perfdoc import replace_section  # noqa: E402

SECTION = "## Distributed runs (Dask)"
RESULTS = ROOT / "bench" / "results" / "distributed.jsonl"
IMS = ["PGA", "SA(1.0)"]


def scenario_for(cells: int, realizations: int, base: Path):
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
         "realizations": realizations, "seed": 1, "engine": "gmpe"}
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


def one(cells: int, workers: int, realizations: int, chunk: int | None) -> dict:
    from gm_engine.distributed import LOOPBACK, run_scenario_distributed

    load0 = round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as tmp, TreeRSS() as tree:
        s = scenario_for(cells, realizations, Path(tmp))
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
    if tree_mib is None:  # no psutil: an upper bound (the peaks need not coincide)
        tree_mib = _maxrss_mib() + sum(worker_rss)
    return {"date": time.strftime("%Y-%m-%d"), "load_at_start": load0,
            "cells": meta["n_grid_cells"], "workers": workers, "realizations": realizations,
            "chunks": dist.get("chunks", 1), "chunk_size": dist.get("chunk_size"),
            "wall_s": wall, "cluster_start_s": setup, "timings": meta["timings"],
            "tree_rss_mib": tree_mib, "tree_rss_method": "psutil" if tree.psutil else "sum",
            "client_rss_mib": _maxrss_mib(), "worker_rss_mib": worker_rss}


def _machine() -> str:
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

    return (f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs (`nproc`), {cpu}, "
            f"{mem:.0f} GiB RAM; Python {platform.python_version()}, numpy "
            f"{numpy.__version__}, dask/distributed {dask.__version__}; "
            f"load average {os.getloadavg()[0]:.1f} at start")


def table(rows: list[dict]) -> str:
    out = ["| grid cells | how | tasks (cells each) | wall (s) | engine (s) | write (s) | "
           "process tree peak RSS (MiB) | client peak RSS (MiB) | worker peak RSS (MiB) | "
           "measured (load at start) |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        how = {-1: "`run_scenario` (1 process)", 0: "`workers=0` (in process)"}.get(
            r["workers"], f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}")
        w = ", ".join(f"{x:.0f}" for x in r["worker_rss_mib"]) or "-"
        size = f" ({r['chunk_size']})" if r.get("chunk_size") else ""
        tree = f"{r['tree_rss_mib']:.0f}" + ("" if r["tree_rss_method"] == "psutil" else " *")
        out.append(f"| {r['cells']:,} | {how} | {r['chunks']}{size} | {r['wall_s']:.1f} | "
                   f"{r['timings'].get('engine_s', 0):.1f} | {r['timings'].get('write_s', 0):.2f}"
                   f" | {tree} | {r['client_rss_mib']:.0f} | {w} | "
                   f"{r.get('date', '?')} ({r.get('load_at_start', '?')}) |")
    by_note: dict[str, list[str]] = {}
    for r in rows:
        if r.get("note"):
            by_note.setdefault(r["note"], []).append(f"{r['cells']:,} x {r['workers']}")
    notes = [f"- cells x workers {', '.join(which)}: {note}" for note, which in by_note.items()]
    return "\n".join(out + (["", *notes] if notes else []))


def merged_rows(new: list[dict]) -> list[dict]:
    """Rows of RESULTS with ``new`` appended, keeping the latest per (cells, workers, realizations)."""
    old = []
    if RESULTS.is_file():
        old = [json.loads(line) for line in RESULTS.read_text().splitlines() if line.strip()]
    latest: dict[tuple, dict] = {}
    for r in old + new:
        latest[(r["cells"], r["workers"], r["realizations"])] = r
    return sorted(latest.values(), key=lambda r: (r["realizations"], r["cells"], r["workers"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="0: in process without Dask, -1: the single-process run_scenario")
    ap.add_argument("--realizations", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=None,
                    help="cells per task (default: the engine's, distributed.default_chunk_size)")
    ap.add_argument("--one", type=int, nargs=2, metavar=("CELLS", "WORKERS"))
    ap.add_argument("--rebuild", action="store_true",
                    help="run nothing: rebuild the PERFORMANCE.md section from the stored rows")
    ap.add_argument("--write", action="store_true",
                    help=f"add the rows to {RESULTS.relative_to(ROOT)} and rebuild the "
                         f"'{SECTION}' section of docs/PERFORMANCE.md from all its rows")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], a.one[1], a.realizations, a.chunk)))
        return
    machine = _machine()
    rows = []
    for cells in [] if a.rebuild else a.cells:
        for w in a.workers:
            cmd = [sys.executable, __file__, "--one", str(cells), str(w),
                   "--realizations", str(a.realizations)]
            if a.chunk:
                cmd += ["--chunk", str(a.chunk)]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode:
                sys.exit(f"{cells} cells, {w} workers failed:\n{p.stderr[-3000:]}")
            rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    chunk = (f"chunks of {a.chunk} cells" if a.chunk else
             "the gmpe engine's default chunks (2048 cells, fewer for small grids so that "
             "each worker gets at least 4 tasks)")
    text = (f"{SECTION}\n\n`python bench/bench_distributed.py [--cells "
            f"{' '.join(map(str, a.cells))}] [--workers 1 2] --write` "
            f"(one configuration per fresh process): a grid-only gmpe scenario (M 7.0 strike-slip, 60 km trace, "
            f"1 x 1 degree grid, Vs30 450), IMs {', '.join(IMS)}, {a.realizations} "
            f"realizations, {chunk} (whole raster rows), 2048 Fourier features per period, "
            "on a LocalCluster of single-threaded worker processes on 127.0.0.1. Each "
            "configuration runs in a fresh process. Wall time excludes the cluster start. "
            "Process tree peak RSS: the client process and its worker processes, summed "
            "every 0.1 s (psutil; * = no psutil, the sum of the per-process peaks).\n\n"
            f"Last written: {machine}. Rows measured earlier (same machine type) come from "
            f"`{RESULTS.relative_to(ROOT)}`, the latest per grid size and worker count; "
            "the last column gives the date and load average when each was measured.\n\n"
            f"{table(merged_rows(rows) if a.write or a.rebuild else rows)}\n")
    print(text)
    if a.write or a.rebuild:
        with open(RESULTS, "a", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        replace_section(SECTION, text)


if __name__ == "__main__":
    main()
