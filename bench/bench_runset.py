"""Benchmark: a 100-scenario set on the Bay Area example's sites, then a resume that finds it done.

Random ruptures around the bundled example (seeded): magnitudes uniform in
5.5-7.5, 80 % vertical strike-slip and 20 % reverse faults dipping 45 degrees,
trace length from Wells & Coppersmith (1994, Table 2A, subsurface rupture
length: log10 RLD = -2.57 + 0.62 M strike-slip, -2.42 + 0.58 M reverse),
strikes N35W +- 15 degrees (the Bay Area faults' trend), centres uniform over
the example's grid extent. Template: examples/bay_area/scenario.json without
its grid, gmpe engine, 10 realizations, the example's 356 sites and six IMs.

Each phase runs in a fresh Python process so ``ru_maxrss`` is that phase's
peak resident memory: the full set, then the same command again (validation,
hash checks and summary only: nothing to run). ``--write`` replaces the
"## Scenario sets" section of docs/PERFORMANCE.md (bench/perfdoc.py).

Usage::

    python bench/bench_runset.py [--n 100] [--realizations 10] [--write] [--note TEXT]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from perfdoc import replace_section  # noqa: E402

EXAMPLE = ROOT / "examples" / "bay_area"
SECTION = "## Scenario sets"
KM_PER_DEG = 111.2


def make_inputs(folder: Path, n: int, realizations: int, seed: int) -> tuple[Path, Path]:
    """ruptures.csv (n random ruptures) and template.json in ``folder``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    xmin, ymin, xmax, ymax = json.loads((EXAMPLE / "scenario.json").read_text())["grid"]["extent"]
    lines = ["id,magnitude,dip,ztor_km,zbot_km,rake,rate,trace"]
    for i in range(n):
        m = rng.uniform(5.5, 7.5)
        reverse = rng.uniform() < 0.2
        # Wells & Coppersmith (1994), Table 2A, RLD (subsurface rupture length, km)
        length = 10 ** ((-2.42 + 0.58 * m) if reverse else (-2.57 + 0.62 * m))
        az = math.radians(325.0 + rng.uniform(-15.0, 15.0))
        lon0, lat0 = rng.uniform(xmin, xmax), rng.uniform(ymin, ymax)
        dx = 0.5 * length * math.sin(az) / (KM_PER_DEG * math.cos(math.radians(lat0)))
        dy = 0.5 * length * math.cos(az) / KM_PER_DEG
        dip, rake, ztor, zbot = (45, 90, 2.0, 15.0) if reverse else (90, 180, 0.0, 12.0)
        rate = 10 ** rng.uniform(-4, -2)
        lines.append(f"r{i:03d},{m:.2f},{dip},{ztor},{zbot},{rake},{rate:.3g},"
                     f'"LINESTRING ({lon0 - dx:.5f} {lat0 - dy:.5f}, '
                     f'{lon0 + dx:.5f} {lat0 + dy:.5f})"')
    ruptures = folder / "ruptures.csv"
    ruptures.write_text("\n".join(lines) + "\n")
    tmpl = json.loads((EXAMPLE / "scenario.json").read_text())
    tmpl.pop("grid")
    tmpl.pop("rupture")
    tmpl.update(engine="gmpe", realizations=realizations)
    tmpl["sites"]["path"] = str(EXAMPLE / "sites.csv")
    template = folder / "template.json"
    template.write_text(json.dumps(tmpl, indent=1))
    return ruptures, template


def one(folder: Path) -> dict:
    """Run (or resume) the set in ``folder``; wall time, summary time, peak RSS."""
    import gm_engine.runset as rs

    spent = {"summary_s": 0.0, "summaries": 0}
    write = rs._write_summary

    def timed(*a, **k):
        t = time.perf_counter()
        write(*a, **k)
        spent["summary_s"] += time.perf_counter() - t
        spent["summaries"] += 1

    rs._write_summary = timed
    t0 = time.perf_counter()
    res = rs.run_scenario_set(folder / "ruptures.csv", folder / "set", folder / "template.json")
    wall = time.perf_counter() - t0
    runs = [json.loads((folder / "set" / "scenarios" / sid / "run.json").read_text())["timings"]
            for sid in res.ran]
    return {"wall_s": wall, "ran": len(res.ran), "skipped": len(res.skipped),
            "failed": len(res.failed), **spent,
            "scenario_total_s": [r["total_s"] for r in runs],
            "scenario_engine_s": [r["engine_s"] for r in runs],
            "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}


def _child(folder: Path) -> dict:
    p = subprocess.run([sys.executable, __file__, "--one", str(folder)], capture_output=True,
                       text=True, check=False)
    if p.returncode:
        sys.exit(f"child failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _machine(load_start: float) -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import geopandas
    import numpy
    import shapely

    return (f"{time.strftime('%Y-%m-%d')}; {os.cpu_count()} CPUs (`nproc`), {cpu}; Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, shapely "
            f"{shapely.__version__}, geopandas {geopandas.__version__}; load average "
            f"{load_start:.1f} at the start and {os.getloadavg()[0]:.1f} at the end")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100, help="scenarios in the set")
    ap.add_argument("--realizations", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0, help="seed of the random ruptures")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--write", action="store_true", help="update docs/PERFORMANCE.md")
    ap.add_argument("--note", help="a sentence for the write-up (e.g. what else ran)")
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one)))
        return
    import numpy as np

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_inputs(folder, a.n, a.realizations, a.seed)
        full = _child(folder)
        print(json.dumps({k: v for k, v in full.items() if not isinstance(v, list)}), flush=True)
        again = _child(folder)
        print(json.dumps({k: v for k, v in again.items() if not isinstance(v, list)}), flush=True)
        size = sum(p.stat().st_size for p in (folder / "set").rglob("*") if p.is_file())
    machine = _machine(load_start)
    tot = np.array(full["scenario_total_s"])
    overhead = full["wall_s"] - tot.sum()
    ncpu = os.cpu_count() or 1
    shared = (f"A load average above {0.5 * ncpu:g} on {ncpu} CPUs means the machine was "
              "shared: wall times are pessimistic and vary between runs."
              if load_start > 0.5 * ncpu else "")
    fill = textwrap.fill
    text = "\n".join([
        SECTION, "",
        fill(f"`python bench/bench_runset.py` runs `gm_engine.runset.run_scenario_set` on {a.n} "
        "random ruptures around the Bay Area example (seeded; magnitudes 5.5-7.5, 80 % "
        "strike-slip, 20 % reverse, lengths from Wells & Coppersmith 1994), gmpe engine, "
        f"{a.realizations} realizations, the example's 356 sites and its six IMs (PGA, PGV, "
        "SA(0.3), SA(1.0), SA(3.0), MMI), no grid; then runs the same command again, which "
        "finds every scenario finished. Each phase is a fresh process: peak RSS is "
        "`ru_maxrss` of that process."), "",
        fill(f"{machine}. {shared} {a.note or ''}".rstrip()), "",
        "| phase | scenarios run | wall (s) | per scenario (s) | summary rewrites (s) | "
        "peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| full set | {full['ran']} | {full['wall_s']:.1f} | {np.median(tot):.2f} median "
        f"({tot.min():.2f}-{tot.max():.2f}) | {full['summary_s']:.1f} "
        f"({full['summaries']} writes) | {full['rss_mib']:.0f} |",
        f"| resume, all finished | {again['ran']} | {again['wall_s']:.1f} | - | "
        f"{again['summary_s']:.2f} ({again['summaries']} write) | {again['rss_mib']:.0f} |",
        "",
        fill(f"Per scenario (from run.json): engine {np.median(full['scenario_engine_s']):.2f} s "
        f"median; the set's own overhead (validation of all rows, hash checks, "
        f"summary.csv/.gpkg after every scenario, reading each new sites.csv) is "
        f"{overhead:.1f} s of {full['wall_s']:.1f} s. Output: {size / 2 ** 20:.0f} MiB for "
        f"{a.n} scenario folders. Failed scenarios: {full['failed']}."), ""])
    print(text)
    if a.write:
        replace_section(SECTION, text)


if __name__ == "__main__":
    main()
