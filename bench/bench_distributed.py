"""Benchmark: a gmpe grid run as Dask tasks, 1 and 2 workers, wall time and peak memory.

Each configuration runs in a fresh Python process (peak RSS is per process):
the client process (geometry, windowed GeoTIFF writes) and every worker
report ``ru_maxrss``. Prints a Markdown table; ``--write`` replaces the
"## Measured" section of docs/SCALING.md.

Usage::

    python bench/bench_distributed.py [--cells 10000 100000] [--workers 1 2]
                                      [--realizations 10] [--write]
    python bench/bench_distributed.py --one CELLS WORKERS   # one run, JSON on stdout
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCALING_MD = ROOT / "docs" / "SCALING.md"
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


def one(cells: int, workers: int, realizations: int, chunk: int) -> dict:
    from gm_engine.distributed import run_scenario_distributed

    with tempfile.TemporaryDirectory() as tmp:
        s = scenario_for(cells, realizations, Path(tmp))
        t0 = time.perf_counter()
        if workers < 0:  # the existing single-process runner, for reference
            from gm_engine.runner import run_scenario

            res = run_scenario(s, Path(tmp) / "run")
            worker_rss: list[float] = []
            setup = 0.0
        elif workers == 0:
            res = run_scenario_distributed(s, Path(tmp) / "run", workers=0, chunk_size=chunk)
            worker_rss, setup = [], 0.0
        else:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
            setup = time.perf_counter() - t0
            t0 = time.perf_counter()
            res = run_scenario_distributed(s, Path(tmp) / "run", client=client, chunk_size=chunk)
            worker_rss = list(client.run(_maxrss_mib).values())
            client.close()
            cluster.close()
        wall = time.perf_counter() - t0
        meta = json.loads(res.run_json.read_text())
    return {"cells": meta["n_grid_cells"], "workers": workers, "realizations": realizations,
            "chunks": meta.get("distributed", {}).get("chunks", 1), "wall_s": wall,
            "cluster_start_s": setup, "timings": meta["timings"],
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
            f"load average {os.getloadavg()[0]:.1f} at start (machine shared)")


def table(rows: list[dict]) -> str:
    out = ["| grid cells | how | tasks | wall (s) | engine (s) | write (s) | "
           "client peak RSS (MiB) | worker peak RSS (MiB) |",
           "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        how = {-1: "`run_scenario` (1 process)", 0: "`workers=0` (in process)"}.get(
            r["workers"], f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}")
        w = ", ".join(f"{x:.0f}" for x in r["worker_rss_mib"]) or "-"
        out.append(f"| {r['cells']:,} | {how} | {r['chunks']} | {r['wall_s']:.1f} | "
                   f"{r['timings'].get('engine_s', 0):.1f} | {r['timings'].get('write_s', 0):.2f}"
                   f" | {r['client_rss_mib']:.0f} | {w} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2],
                    help="0: in process without Dask, -1: the existing run_scenario")
    ap.add_argument("--realizations", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=2048)
    ap.add_argument("--one", type=int, nargs=2, metavar=("CELLS", "WORKERS"))
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], a.one[1], a.realizations, a.chunk)))
        return
    machine = _machine()
    rows = []
    for cells in a.cells:
        for w in a.workers:
            p = subprocess.run([sys.executable, __file__, "--one", str(cells), str(w),
                                "--realizations", str(a.realizations), "--chunk", str(a.chunk)],
                               capture_output=True, text=True, check=True)
            rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    text = (f"{machine}.\n\ngmpe engine, IMs {', '.join(IMS)}, {a.realizations} realizations, "
            f"chunks of {a.chunk} cells (whole raster rows), 2048 Fourier features per "
            f"period.\n\n{table(rows)}\n")
    print(text)
    if a.write:
        md = SCALING_MD.read_text() if SCALING_MD.exists() else "# Scaling\n"
        section = "## Measured\n\n" + text
        if "## Measured" in md:
            md = re.sub(r"## Measured\n.*?(?=\n## |\Z)", lambda m: section, md, flags=re.S)
        else:
            md = md.rstrip("\n") + "\n\n" + section
        SCALING_MD.write_text(md)


if __name__ == "__main__":
    main()
