"""Benchmark: all six distances for many sites from a 3-segment dipping rupture.

Target (issue "finite rupture and distances"): 1,000,000 sites in under 2 s on
the 2-core development machine. Prints the figures and writes them into the
"## Distances" section of docs/PERFORMANCE.md (other sections are left as
they are).

Usage::

    python bench/bench_distances.py [--sites 1000000] [--repeats 5] [--no-write]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from perfdoc import PERFORMANCE_MD, replace_subsection

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gm_engine.distances import (  # noqa: E402
    CHUNK_SITES,
    compute_distances,
    project_xy_km,
    site_distances,
)
from gm_engine.rupture import build_rupture  # noqa: E402

SECTION = "## Distances"
TARGET_S = 2.0

# A bent, buried, 45-degree dipping rupture in southern California:
# three segments, ~60 km long (the benchmark of the issue).
TRACE = [[-118.00, 34.00], [-117.80, 34.10], [-117.60, 34.15], [-117.40, 34.30]]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def run(n_sites: int, repeats: int) -> dict:
    import geopandas
    import shapely

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rupture = build_rupture(TRACE, "EPSG:4326", dip=45.0, ztor=2.0, zbot=15.0)
    rng = np.random.default_rng(0)
    xy = rng.uniform(-150.0, 150.0, (n_sites, 2))  # local km, 300 x 300 km
    compute_distances(rupture, xy[:1000])  # warm-up (imports, caches)
    times = _timed(lambda: compute_distances(rupture, xy), repeats)

    # Sites from lon/lat: the GeoPandas layer path, and the array path that
    # grids can take, on fewer sites (the layer path is slow on shapely 1.8).
    n_layer = min(n_sites, 100_000)
    lon = rng.uniform(-119.5, -115.5, n_layer)
    lat = rng.uniform(32.8, 35.5, n_layer)
    layer = geopandas.GeoDataFrame(geometry=geopandas.points_from_xy(lon, lat), crs="EPSG:4326")
    few = max(1, min(repeats, 3))
    layer_times = _timed(lambda: site_distances(rupture, layer), few)
    array_times = _timed(
        lambda: compute_distances(rupture, project_xy_km(rupture, lon, lat, "EPSG:4326")), few
    )
    return {
        "n_sites": n_sites,
        "n_segments": len(rupture.quads),
        "times": times,
        "median_s": statistics.median(times),
        "n_layer": n_layer,
        "layer_median_s": statistics.median(layer_times),
        "array_median_s": statistics.median(array_times),
        "nproc": os.cpu_count(),
        "load": load,
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "shapely": shapely.__version__,
        "geopandas": geopandas.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


INTRO = f"""{SECTION}

`python bench/bench_distances.py` times Repi, Rhypo, Rjb, Rrup, Rx, Ry0 and the
hanging-wall flag (`gm_engine.distances.compute_distances`) for 1,000,000 sites
spread uniformly over 300 x 300 km around a 3-segment rupture 60 km long,
dipping 45 degrees, ztor 2 km, zbot 15 km: median of the runs (5 by default,
`--repeats`), target under {TARGET_S:g} s. It also times 100,000 sites given in
lon/lat through the GeoPandas layer path (`site_distances`) and through the
array path (`project_xy_km` + `compute_distances`). With shapely 1.8 GeoPandas
works geometry by geometry (~60 us per point for reprojection and x/y), so
grids should take the array path; with shapely 2 both paths are vectorised.

Numpy runs single-threaded; sites go in chunks of {CHUNK_SITES:,} so that the
temporaries stay in the CPU cache. The machine is shared by several people
(see the load average): figures vary by up to a factor 2 between runs. One
subsection per software stack; rerunning the script replaces its own stack's
subsection and leaves the rest of this file alone.
"""


def _stack(r: dict) -> str:
    return f"numpy {r['numpy']}, shapely {r['shapely']}, geopandas {r['geopandas']}"


def markdown(r: dict) -> str:
    """The subsection of one run (one software stack)."""
    if r["median_s"] < TARGET_S:
        verdict = "met"
    else:
        verdict = f"missed by {r['median_s'] - TARGET_S:.2f} s"
    runs = ", ".join(f"{t:.3f}" for t in r["times"])
    n, m = r["n_sites"], r["n_layer"]
    return f"""### {_stack(r)}

{r["date"]}; {r["nproc"]} CPUs (`nproc`), {r["cpu"]}; Python {r["python"]};
load average {r["load"]:.1f} when the run started.

| what | sites | median | throughput |
|---|---:|---:|---:|
| `compute_distances`, local km | {n:,} | {r["median_s"]:.3f} s | {n / r["median_s"] / 1e6:.1f} M sites/s |
| `site_distances`, GeoDataFrame in lon/lat | {m:,} | {r["layer_median_s"]:.3f} s | {m / r["layer_median_s"] / 1e6:.2f} M sites/s |
| `project_xy_km` + `compute_distances`, lon/lat arrays | {m:,} | {r["array_median_s"]:.3f} s | {m / r["array_median_s"] / 1e6:.2f} M sites/s |

Runs of `compute_distances`: {runs} s. Target ({TARGET_S:g} s for 1,000,000 sites): {verdict if n == 1_000_000 else "not measured (other size)"}.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, default=1_000_000)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--no-write", action="store_true", help="print only, leave docs/PERFORMANCE.md alone")
    args = p.parse_args(argv)
    result = run(args.sites, args.repeats)
    text = markdown(result)
    print(text)
    if not args.no_write:
        replace_subsection(SECTION, INTRO, _stack(result), text)
        print(f"written to {PERFORMANCE_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
