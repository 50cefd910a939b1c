"""The plugin in a real QGIS: start qgis.bin under Xvfb, run the bundled example from the dock.

A temporary QGIS profile has the repository linked in as the plugin
``groundshake`` and enabled; ``--code real_qgis_driver.py`` then opens the
dock, imports examples/bay_area/scenario.json through the Import button,
presses Run, waits for the task, zooms to the result group and grabs the map
(and the waveform viewer when the run has waveforms). The driver writes what
it saw to a JSON file, which this test checks.

With ``GROUNDSHAKE_SCREENSHOTS=1`` the screenshots go to docs/img/
(``map_pga.png``, ``waveform_viewer.png``) for the documentation; otherwise
everything stays in ``tmp_path``.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("real_qgis_driver.py")
QGIS_BIN = shutil.which("qgis.bin") or ("/usr/bin/qgis.bin" if Path("/usr/bin/qgis.bin").is_file()
                                        else None)
XVFB_RUN = shutil.which("xvfb-run")
DRIVER_TIMEOUT_S = 150
SCREEN = "1600x1000x24"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(XVFB_RUN is None, reason="xvfb-run is not installed (apt install xvfb)"),
    pytest.mark.skipif(QGIS_BIN is None, reason="qgis.bin is not installed (apt install qgis)"),
]

# Qgis.MessageLevel: Info 0, Warning 1, Critical 2, Success 3
CRITICAL = 2


def make_profile(root: Path) -> Path:
    """A QGIS profiles folder whose default profile has GroundShake installed and enabled."""
    profile = root / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "groundshake").symlink_to(REPO_ROOT, target_is_directory=True)
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text(
        "[PythonPlugins]\ngroundshake=true\n\n"
        "[locale]\noverrideFlag=true\nuserLocale=en_US\n\n"
        "[qgis]\ncheckVersion=false\n", encoding="utf-8")
    return root


def qgis_env(tmp_path: Path, result: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)  # conftest sets offscreen; real QGIS draws on Xvfb (xcb)
    env.pop("DISPLAY", None)
    home = tmp_path / "home"
    home.mkdir()
    env.update(HOME=str(home), XDG_RUNTIME_DIR=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"), XDG_DATA_HOME=str(home / ".local/share"),
               GROUNDSHAKE_DRIVER_RESULT=str(result), GROUNDSHAKE_DRIVER_WORK=str(work),
               GROUNDSHAKE_DRIVER_TIMEOUT=str(DRIVER_TIMEOUT_S), PYTHONDONTWRITEBYTECODE="1")
    home.chmod(0o700)
    # QGIS's own Python sees the venv's packages (pygmm, pyrotd, torch, ...) through PYTHONPATH
    paths = []
    if sys.prefix != sys.base_prefix:
        paths.append(sysconfig.get_paths()["purelib"])
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def run_qgis(tmp_path: Path) -> tuple[dict, str, float]:
    """Start QGIS with the driver; the driver's JSON, QGIS's output and the wall time."""
    result = tmp_path / "result.json"
    work = tmp_path / "work"
    work.mkdir()
    profiles = make_profile(tmp_path / "qgis")
    cmd = [XVFB_RUN, "-a", "-s", f"-screen 0 {SCREEN}", QGIS_BIN, "--profiles-path",
           str(profiles), "--nologo", "--noversioncheck", "--code", str(DRIVER)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=qgis_env(tmp_path, result, work), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=DRIVER_TIMEOUT_S + 60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # xvfb-run, Xvfb and qgis.bin: our own group
        output, _ = proc.communicate()
        pytest.fail(f"QGIS did not exit within {DRIVER_TIMEOUT_S + 60} s; output:\n"
                    f"{output[-4000:]}")
    wall = time.monotonic() - start
    assert result.is_file(), (f"the driver wrote no result (exit {proc.returncode}); "
                              f"QGIS output:\n{output[-4000:]}")
    data = json.loads(result.read_text(encoding="utf-8"))
    data["returncode"] = proc.returncode
    return data, output, wall


def image_stats(path: str | Path) -> dict[str, float]:
    """Size, grey-level spread, distinct colours and the share of YlOrRd-like pixels."""
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(path))
    assert not image.isNull(), f"{path} is not a readable image"
    w, h = image.width(), image.height()
    step = max(1, min(w, h) // 200)
    greys, colours, warm, n = [], set(), 0, 0
    for y in range(0, h, step):
        for x in range(0, w, step):
            rgb = image.pixel(x, y)
            r, g, b = (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255
            greys.append(0.299 * r + 0.587 * g + 0.114 * b)
            colours.add(rgb & 0xFFFFFF)
            # the PGA ramp (YlOrRd at 80 % opacity over white): red high, blue lower
            warm += r > 180 and r - b > 50 and r >= g
            n += 1
    mean = sum(greys) / n
    spread = (sum((v - mean) ** 2 for v in greys) / n) ** 0.5
    return {"width": w, "height": h, "grey_std": spread, "colours": len(colours),
            "warm_share": warm / n}


def site_waveforms_exists() -> bool:
    if importlib.util.find_spec("groundshake.gm_engine.runner") is None:
        return False
    from groundshake.gm_engine import runner

    return hasattr(runner, "site_waveforms")


def test_bundled_example_in_real_qgis(tmp_path):
    data, output, wall = run_qgis(tmp_path)
    context = (f"driver steps: {json.dumps(data['steps'], indent=1)}\n"
               f"errors: {data['errors']}\nmessage bar: {data['message_bar']}\n"
               f"QGIS output:\n{output[-3000:]}")
    print(f"\nreal QGIS: {wall:.1f} s wall, run {data.get('run', {}).get('seconds')} s "
          f"with the {data.get('engine')} engine")

    # the driver got to the end, QGIS exited cleanly, and nothing went wrong on the way
    assert data["errors"] == [], context
    assert data["returncode"] == 0, context
    python_errors = [e for e in data["log"] if e["tag"] == "Python error"]
    assert python_errors == [], python_errors
    critical = [e for e in data["log"] if e["tag"] == "GroundShake" and e["level"] == CRITICAL]
    assert critical == [], critical
    assert [m for m in data["message_bar"] if m["level"] == CRITICAL] == [], context
    assert "Traceback (most recent call last)" not in output, output[-4000:]

    # the plugin QGIS loaded is this repository, and Import filled the dock from the example
    assert Path(data["plugin_dir"]).resolve() == REPO_ROOT
    scenario = json.loads((REPO_ROOT / "examples/bay_area/scenario.json").read_text("utf-8"))
    imported = data["imported"]
    assert imported["name"] == scenario["name"]
    assert imported["trace_vertices"] == len(scenario["rupture"]["trace"])
    assert imported["magnitude"] == pytest.approx(scenario["magnitude"])
    n_sites = sum(1 for _ in (REPO_ROOT / "examples/bay_area/sites.csv").open()) - 1
    assert imported["sites_features"] == n_sites
    assert imported["grid"] and set(imported["ims"]) == set(scenario["intensity_measures"])

    # Run finished and loaded one group, named after the scenario, at the top of the tree
    assert data["run"]["ok"] and not data["run"]["cancelled"], data["run"]
    assert data["run"]["progress"] == 100
    group = data["group"]
    assert group["name"] == scenario["name"] and group["top_of_tree"], group
    for name in ("Sites", "Fault trace", "PGA median [g]", "PGV median [cm/s]", "MMI median"):
        assert name in group["layers"], (name, group["layers"])
    sites = data["layers"]["Sites"]
    assert sites["valid"] and sites["features"] == n_sites
    assert "PGA_median" in sites["fields"] and "site_index" in sites["fields"]
    run_dir = Path(data["run_dir"])
    assert run_dir.parent == tmp_path / "work" / "runs"
    assert (run_dir / "PGA_median.tif").is_file() and (run_dir / "run.json").is_file()

    # the PGA median raster: valid, geographic, covering the example's grid, strong near the fault
    raster = data["raster"]
    assert raster["valid"] and raster["crs"] == "EPSG:4326", raster
    assert data["layers"]["PGA median [g]"]["visible"]
    assert raster["renderer"] == "singlebandpseudocolor"
    xmin, ymin, xmax, ymax = scenario["grid"]["extent"]
    ext = raster["extent"]
    tol = scenario["grid"]["spacing"]  # the engine snaps the extent to whole cells
    assert ext[0] == pytest.approx(xmin, abs=tol) and ext[2] == pytest.approx(xmax, abs=tol)
    assert ext[1] == pytest.approx(ymin, abs=tol) and ext[3] == pytest.approx(ymax, abs=tol)
    assert raster["width"] >= 15 and raster["height"] >= 15
    assert 0 < raster["min"] < raster["max"] < 5.0, raster
    near = raster["samples"]["near_fault"]["value"]
    mid = raster["samples"]["hayward_fault_mid"]["value"]
    far = raster["samples"]["far_ne_corner"]["value"]
    assert near is not None and mid is not None and far is not None, raster["samples"]
    # M7 on the fault: a few tenths of a g; 40+ km away it is several times weaker
    assert 0.1 < near < 3.0 and 0.1 < mid < 3.0, raster["samples"]
    assert far < 0.5 * min(near, mid), raster["samples"]

    # the screenshots: the canvas shows the yellow-to-red PGA raster, the window is not blank
    canvas = image_stats(data["screenshots"]["canvas"])
    assert canvas["width"] > 600 and canvas["height"] > 400, canvas
    # the raster covers about a third of the canvas; the fault and rupture add about 1 %
    assert canvas["warm_share"] > 0.2, canvas
    assert canvas["colours"] > 30 and canvas["grey_std"] > 10, canvas
    window = image_stats(data["screenshots"]["map"])
    assert window["width"] >= 1200 and window["height"] >= 800, window
    assert window["colours"] > 100 and window["grey_std"] > 15 and window["warm_share"] > 0.05

    # the waveform viewer, once the engine regenerates a site's waveforms
    viewer = data["viewer"]
    if not site_waveforms_exists():
        assert viewer == {"skipped": "gm_engine.runner.site_waveforms is missing"}, viewer
    elif data["engine"] not in ("cgm", "stochastic"):
        assert viewer == {"skipped": f"the {data['engine']} engine writes no waveforms"}, viewer
    else:
        # the click on the strongest site was identified as a site of this run
        assert viewer["identified"] and viewer["identified"][0][0] == data["run_dir"], viewer
        assert viewer["shown"] and len(viewer["sites"]) == 1, viewer
        curves = viewer["curves"]
        assert curves["acc"] == 3 and curves["vel"] == 3 and curves["fas"] >= 3, curves
        assert curves["spectrum"] >= 2, curves  # realizations' RotD50 (+ the GMPE band)
        shot = image_stats(data["screenshots"]["viewer"])
        assert shot["width"] >= 1000 and shot["height"] >= 600, shot
        assert shot["colours"] > 30 and shot["grey_std"] > 10, shot

    # nothing written into the repository unless screenshots were asked for
    if os.environ.get("GROUNDSHAKE_SCREENSHOTS") == "1":
        assert Path(data["screenshots"]["map"]).parent == REPO_ROOT / "docs" / "img"
    else:
        for path in data["screenshots"].values():
            assert Path(path).is_relative_to(tmp_path), path
