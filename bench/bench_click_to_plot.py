"""Benchmark: click-to-plot time of the waveform viewer on a real run.

Target (issue 5): a click on a site plots its waveforms in under 0.3 s, for
any grid size, because ``gm_engine.runner.site_waveforms`` regenerates one
site from the run folder instead of reading stored waveforms. The script
makes a small stochastic run (sites + grid), then times
``WaveformViewer.show_site(run_dir, i)`` for several sites until the
waveforms, Fourier spectra, GMPE band and conditions are on screen, and then
until the RotD50 spectra (computed in a worker thread) are drawn as well.
Prints the figures and writes the "## Waveform viewer" section of
docs/PERFORMANCE.md (other sections are left as they are).

Usage (Debian/QGIS venv, headless)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_click_to_plot.py \
        [--realizations 10] [--clicks 8] [--synthetic] [--no-write]

``--synthetic`` skips the run and ``site_waveforms`` and shows noise
waveforms of a stochastic run's shape (60 s at 100 Hz) through
``WaveformViewer.show_waveforms``: the viewer's own share of the time.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

from perfdoc import PERFORMANCE_MD, replace_subsection

ROOT = Path(__file__).resolve().parents[1]
SECTION = "## Waveform viewer"
TARGET_S = 0.3

# Inside QGIS the repository is the package "groundshake" and the plugin imports
# the engine relatively; import it the same way through a symlink.
_link = Path(tempfile.mkdtemp(prefix="groundshake_bench_"))
(_link / "groundshake").symlink_to(ROOT, target_is_directory=True)
sys.path.insert(0, str(_link))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _scenario(folder: Path, realizations: int) -> dict:
    """A 60 km strike-slip rupture, 8 sites and a 2 km grid around it (stochastic engine)."""
    sites = folder / "sites.csv"
    rows = [(f"s{i}", -122.35 + 0.07 * i, 37.55 + 0.05 * (i % 4)) for i in range(8)]
    sites.write_text("name,lon,lat\n" + "".join(f"{n},{x},{y}\n" for n, x, y in rows))
    return {
        "groundshake_scenario": 1, "name": "bench click-to-plot",
        "rupture": {"trace": [[-122.0, 37.5], [-122.35, 37.95]], "crs": "EPSG:4326",
                    "dip": 90, "ztor": 0, "zbot": 12, "rake": 180},
        "magnitude": 6.8,
        "sites": {"path": str(sites), "x": "lon", "y": "lat", "crs": "EPSG:4326"},
        "grid": {"extent": [-122.5, 37.4, -121.9, 38.0], "crs": "EPSG:4326", "spacing": 0.02},
        "vs30": {"default": 520},
        "intensity_measures": ["PGA", "PGV", "SA(1.0)"],
        "realizations": realizations, "seed": 11, "engine": "stochastic",
    }


def _synthetic_site(index: int, realizations: int, n_samples: int = 6000, dt: float = 0.01):
    """Noise under an envelope, shaped like one site of a stochastic run, with a GMPE band."""
    import numpy as np
    from groundshake.plugin.viewer.site_data import ReferenceSpectrum, SiteData

    rng = np.random.default_rng(index)
    t = np.arange(n_samples) * dt
    acc = 0.05 * rng.standard_normal((realizations, 3, n_samples)) * (t / 5) ** 2 * np.exp(-t / 5)
    periods = np.geomspace(0.01, 10.0, 22)
    ref = ReferenceSpectrum(periods, 0.3 * np.exp(-np.log(periods / 0.3) ** 2 / 4),
                            np.full(periods.size, 0.6))
    return SiteData(f"Site #{index}", dt, acc.astype(np.float32), {"magnitude": 6.8},
                    gmpe=ref, site_index=index)


def run(realizations: int, clicks: int, synthetic: bool) -> dict:
    from qgis.core import QgsApplication
    from qgis.PyQt.QtCore import QCoreApplication

    app = QgsApplication([], True)
    app.initQgis()
    import numpy as np
    from groundshake.plugin.viewer.waveform_viewer import WaveformViewer

    run_s = float("nan")
    if synthetic:
        def click(index: int):
            data = _synthetic_site(index, realizations)
            viewer.show_waveforms(data)
            return data
    else:
        from groundshake.gm_engine.runner import run_scenario, site_waveforms
        from groundshake.gm_engine.scenario import Scenario

        work = Path(tempfile.mkdtemp(prefix="groundshake_bench_run_"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scenario = Scenario.from_dict(_scenario(work, realizations), work)
        t0 = time.perf_counter()
        run_dir = run_scenario(scenario, work / "run").out_dir
        run_s = time.perf_counter() - t0

        def click(index: int):
            return viewer.show_site(run_dir, index)

    viewer = WaveformViewer()
    viewer.show()
    QCoreApplication.processEvents()
    first_t0 = time.perf_counter()
    click(0)  # first click: imports and first layout included
    QCoreApplication.processEvents()
    first_s = time.perf_counter() - first_t0
    viewer.wait_for_spectra(120)

    load = os.getloadavg()[0]
    plotted, complete, regen = [], [], []
    for i in range(1, clicks + 1):
        index = i % 8
        t0 = time.perf_counter()
        data = click(index)
        QCoreApplication.processEvents()
        plotted.append(time.perf_counter() - t0)
        viewer.wait_for_spectra(120)
        complete.append(time.perf_counter() - t0)
        if not synthetic:
            t0 = time.perf_counter()
            site_waveforms(run_dir, index)
            regen.append(time.perf_counter() - t0)
    viewer.close()
    if not synthetic:
        shutil.rmtree(work, ignore_errors=True)  # the run folder is only needed while clicking
    return {
        "synthetic": synthetic, "realizations": realizations,
        "n_samples": int(data.acc.shape[-1]), "dt": data.dt, "run_s": run_s,
        "first_s": first_s, "plotted": plotted, "complete": complete, "regen": regen,
        "load": load, "nproc": os.cpu_count(), "cpu": _cpu_model(),
        "python": platform.python_version(), "numpy": np.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


INTRO = f"""{SECTION}

`QT_QPA_PLATFORM=offscreen .venv/bin/python bench/bench_click_to_plot.py` makes
a stochastic run (8 sites and a 2 km grid around a 60 km strike-slip rupture,
M 6.8) and clicks sites: `WaveformViewer.show_site(run_dir, i)` regenerates the
site with `gm_engine.runner.site_waveforms`, then draws the three-component
acceleration and velocity, the smoothed Fourier spectra, the GMPE median and
+-1 sigma band and the conditions; the RotD50 spectra of the realizations are
computed in a worker thread (oscillators oversampled at short periods, the
slow part) and drawn when ready. "Plotted" is the click-to-plot time of the
target ({TARGET_S:g} s), "complete" includes the RotD50 spectra; medians over the
clicks after a first one that pays the imports. With `--synthetic` the run and
`site_waveforms` are skipped and noise waveforms of the same shape go through
`WaveformViewer.show_waveforms`: the viewer's own share. The machine is shared
(see the load average), so figures vary by up to a factor 2 between runs.
"""


def _title(r: dict) -> str:
    return "synthetic waveforms (viewer only)" if r["synthetic"] else "real run (show_site)"


def markdown(r: dict) -> str:
    """The subsection of one mode (real run or synthetic)."""
    med = {k: statistics.median(r[k]) if r[k] else float("nan")
           for k in ("plotted", "complete", "regen")}
    verdict = "met" if med["plotted"] < TARGET_S else f"missed by {med['plotted'] - TARGET_S:.2f} s"
    runs = ", ".join(f"{t:.3f}" for t in r["plotted"])
    regen = "" if r["synthetic"] else (
        f"| `site_waveforms` alone (regenerate one site) | {med['regen']:.3f} s |\n")
    run = "" if r["synthetic"] else f"; the run itself took {r['run_s']:.1f} s"
    return f"""### {_title(r)}

{r["date"]}; {r["nproc"]} CPUs (`nproc`), {r["cpu"]}; Python {r["python"]}, numpy
{r["numpy"]}; load average {r["load"]:.1f}; {r["realizations"]} realizations of
{r["n_samples"]} samples (dt = {r["dt"]:g} s){run}.

| what | median |
|---|---:|
{regen}| click to plotted (waveforms, FAS, GMPE band, conditions) | {med["plotted"]:.3f} s |
| click to complete (RotD50 spectra drawn too) | {med["complete"]:.3f} s |
| first click of a session | {r["first_s"]:.3f} s |

Click-to-plotted, {len(r["plotted"])} clicks: {runs} s. Target ({TARGET_S:g} s): {verdict}.
"""


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--realizations", type=int, default=10)
    p.add_argument("--clicks", type=int, default=8)
    p.add_argument("--synthetic", action="store_true",
                   help="noise waveforms through show_waveforms: no run, no site_waveforms")
    p.add_argument("--no-write", action="store_true", help="print only, leave docs/PERFORMANCE.md alone")
    args = p.parse_args(argv)
    result = run(args.realizations, args.clicks, args.synthetic)
    text = markdown(result)
    print(text)
    if not args.no_write:
        replace_subsection(SECTION, INTRO, _title(result), text)
        print(f"written to {PERFORMANCE_MD}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
