"""Startup script for a real QGIS (``qgis.bin --code this_file``) driven by test_real_qgis.py.

Runs inside QGIS, on the GUI thread, with ``iface``. It does what a user does
with the bundled example: open the GroundShake dock (toolbar action), press
*Import…* (the file dialog answers examples/bay_area/scenario.json), press
*Run*, wait for the QgsTask without blocking the GUI thread (QTimer polling),
then zooms to the result group, waits for the canvas to render, grabs the map
and, when the run has waveforms, opens the waveform viewer for the site with
the strongest shaking and grabs it. Everything it finds goes to a JSON file;
then it quits QGIS. A watchdog quits after ``GROUNDSHAKE_DRIVER_TIMEOUT``
seconds with an error in the JSON.

Environment (set by the test):

- ``GROUNDSHAKE_DRIVER_RESULT``: path of the JSON result file (required);
- ``GROUNDSHAKE_DRIVER_WORK``: folder for the run outputs and the PNGs;
- ``GROUNDSHAKE_SCREENSHOTS=1``: the two screenshots go to docs/img/ instead
  (``map_pga.png``, ``waveform_viewer.png``);
- ``GROUNDSHAKE_DRIVER_ENGINE``: force an engine (default: ``stochastic`` when
  ``gm_engine.engines.engine_for`` gives one, else ``gmpe``);
- ``GROUNDSHAKE_DRIVER_TIMEOUT``: watchdog in seconds (default 150).
"""
from __future__ import annotations

import importlib
import json
import os
import time
import traceback
from pathlib import Path
from types import SimpleNamespace


def _main() -> None:
    import qgis.utils
    from qgis.core import (
        Qgis,
        QgsApplication,
        QgsCoordinateTransform,
        QgsPointXY,
        QgsProject,
        QgsRasterBandStats,
        QgsRasterLayer,
        QgsVectorLayer,
    )
    from qgis.gui import QgsMessageBarItem
    from qgis.PyQt import sip
    from qgis.PyQt.QtCore import QPoint, Qt, QTimer
    from qgis.PyQt.QtTest import QTest
    from qgis.PyQt.QtWidgets import QDockWidget, QFileDialog

    iface = qgis.utils.iface
    result_path = Path(os.environ["GROUNDSHAKE_DRIVER_RESULT"])
    work = Path(os.environ.get("GROUNDSHAKE_DRIVER_WORK") or result_path.parent)
    work.mkdir(parents=True, exist_ok=True)
    timeout_s = float(os.environ.get("GROUNDSHAKE_DRIVER_TIMEOUT", "150"))

    out: dict = {
        "started": time.time(), "steps": [], "errors": [], "log": [], "message_bar": [],
        "layers": {}, "group": None, "raster": {}, "screenshots": {}, "viewer": {},
    }
    state: dict = {"finished": False, "timers": []}

    def step(label: str, /, **info) -> None:
        out["steps"].append({"step": label, "t": round(time.time() - out["started"], 2), **info})

    # -- what QGIS reports while we drive it -----------------------------------
    def on_log(message: str, tag: str, level) -> None:
        out["log"].append({"tag": tag, "level": int(level), "message": message[:4000]})

    QgsApplication.messageLog().messageReceived.connect(on_log)

    def on_bar_item(widget) -> None:
        try:
            item = sip.cast(widget, QgsMessageBarItem)
            out["message_bar"].append({"level": int(item.level()), "title": item.title(),
                                       "text": item.text()})
        except Exception as exc:  # recorded, never raised into QGIS
            out["errors"].append(f"message bar item unreadable: {exc}")

    iface.messageBar().widgetAdded.connect(on_bar_item)

    # -- plumbing ----------------------------------------------------------------
    def finish(error: str | None = None) -> None:
        if state["finished"]:
            return
        state["finished"] = True
        if error:
            out["errors"].append(error)
        out["elapsed_s"] = round(time.time() - out["started"], 2)
        for timer in state["timers"]:
            timer.stop()
        tmp = result_path.with_name(result_path.name + ".part")
        tmp.write_text(json.dumps(out, indent=2, default=str), encoding="utf-8")
        tmp.replace(result_path)
        # quit as File > Exit does: QgsApplication.exit() alone skips QGIS's own shutdown and
        # the layer tree then crashes in ~QgisApp. Nothing to save: no question asked.
        QTimer.singleShot(200, quit_qgis)

    def quit_qgis() -> None:
        # a new project without questions first: QGIS would otherwise ask before closing a
        # project with layers in the system's temporary folder (the test writes there)
        iface.newProject(False)
        QTimer.singleShot(100, iface.actionExit().trigger)

    def guarded(fn):
        def wrapper(*args):
            if state["finished"]:
                return None
            try:
                return fn(*args)
            except Exception:  # every failure ends the run, with its traceback
                finish(f"{fn.__name__}: {traceback.format_exc()}")
                return None
        wrapper.__name__ = fn.__name__
        return wrapper

    def poll(condition, then, what: str, limit_s: float, interval_ms: int = 200) -> None:
        """Call ``then()`` once ``condition()`` holds, checking from the event loop."""
        timer = QTimer()
        timer.setInterval(interval_ms)
        deadline = time.monotonic() + limit_s
        state["timers"].append(timer)

        @guarded
        def tick():
            if condition():
                timer.stop()
                then()
            elif time.monotonic() > deadline:
                timer.stop()
                finish(f"timed out after {limit_s:.0f} s waiting for {what}")

        timer.timeout.connect(tick)
        timer.start()

    def watchdog() -> None:
        finish(f"watchdog: the driver did not finish within {timeout_s:.0f} s "
               f"(last step: {out['steps'][-1]['step'] if out['steps'] else 'none'})")

    dog = QTimer()
    dog.setSingleShot(True)
    dog.timeout.connect(watchdog)
    dog.start(int(timeout_s * 1000))
    state["dog"] = dog

    screenshots = os.environ.get("GROUNDSHAKE_SCREENSHOTS") == "1"

    def shot_path(name: str) -> Path:
        if screenshots:
            img = Path(plugin_dir) / "docs" / "img"
            img.mkdir(parents=True, exist_ok=True)
            return img / name
        return work / name

    # -- the steps ---------------------------------------------------------------
    plugin_dir = None

    @guarded
    def start() -> None:
        nonlocal plugin_dir
        window = iface.mainWindow()
        window.setGeometry(0, 0, 1600, 1000)
        plugin = qgis.utils.plugins.get("groundshake")
        out["plugins"] = sorted(qgis.utils.plugins)
        if plugin is None:
            finish("the groundshake plugin is not loaded "
                   f"(loaded: {sorted(qgis.utils.plugins)})")
            return
        state["plugin"] = plugin
        package = importlib.import_module(type(plugin).__module__.split(".")[0])
        plugin_dir = Path(package.__file__).resolve().parent
        out["plugin_dir"] = str(plugin_dir)
        out["qgis_version"] = Qgis.QGIS_VERSION
        step("plugin loaded")

        # the toolbar action opens the dock, as a click on it does
        plugin.dock_action.trigger()
        dock = plugin.dock
        if dock is None or not dock.isVisible():
            finish("the dock did not open from its action")
            return
        state["dock"] = dock
        # room for the map, the layer tree and the dock (what the screenshot is for)
        for name in ("Browser", "Browser2"):
            browser = window.findChild(QDockWidget, name)
            if browser is not None:
                browser.hide()
        window.resizeDocks([dock], [540], Qt.Orientation.Horizontal)
        step("dock open")

        # Import…: the file dialog answers with the bundled example
        scenario = plugin_dir / "examples" / "bay_area" / "scenario.json"
        original = QFileDialog.getOpenFileName
        QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (str(scenario), ""))
        try:
            dock.import_button.click()
        finally:
            QFileDialog.getOpenFileName = original
        doc = json.loads(scenario.read_text(encoding="utf-8"))
        out["imported"] = {
            "name": dock.name_edit.text(), "expected_name": doc["name"],
            "trace_vertices": len(dock.trace), "magnitude": dock.magnitude_spin.value(),
            "sites_layer": dock.sites_layer().name() if dock.sites_layer() else None,
            "sites_features": dock.sites_layer().featureCount() if dock.sites_layer() else 0,
            "grid": dock.grid_group.isChecked(), "spacing": dock.spacing_spin.value(),
            "ims": dock.intensity_measures(),
        }
        step("imported", **out["imported"])
        if dock.name_edit.text() != doc["name"] or len(dock.trace) < 2:
            finish("the import did not fill the dock")
            return

        # engine: the example asks for stochastic; fall back to gmpe while it is not there
        forced = os.environ.get("GROUNDSHAKE_DRIVER_ENGINE")
        engines = importlib.import_module(f"{package.__name__}.gm_engine.engines")
        try:  # what the runner does with a scenario that asks for it
            engines.engine_for(SimpleNamespace(engine="stochastic", device="cpu"))
            has_stochastic, why_not = True, ""
        except Exception as exc:  # InputError, or ImportError while it is being written
            has_stochastic, why_not = False, f"{type(exc).__name__}: {exc}"
        engine = forced or ("stochastic" if has_stochastic else "gmpe")
        index = dock.engine_combo.findData(engine)
        if index < 0:
            finish(f"the dock offers no engine {engine!r}")
            return
        dock.engine_combo.setCurrentIndex(index)
        if engine in ("cgm", "stochastic"):  # 1,876 waveforms per realization: 2 keep it short
            dock.realizations_spin.setValue(min(2, dock.realizations_spin.value()))
        out["engine"] = engine
        out["engine_reason"] = ("forced by GROUNDSHAKE_DRIVER_ENGINE" if forced else
                                "gm_engine.engines.engine_for gives a stochastic engine"
                                if has_stochastic else
                                f"no stochastic engine ({why_not}): gmpe instead")
        out["realizations"] = dock.realizations_spin.value()
        dock.output_widget.setFilePath(str(work / "runs"))

        # Run: the button, as a user presses it
        dock.run_button.click()
        running = plugin.running()
        if not running:
            finish("pressing Run started no task (see message_bar)")
            return
        task = running[0]
        state["done"] = None

        def on_done(result, message, field, cancelled):
            state["done"] = {"ok": result is not None, "message": message, "field": field,
                             "cancelled": cancelled}

        task.done.connect(on_done)
        out["run_dir"] = task.out_dir
        state["run_started"] = time.monotonic()
        step("run started", out_dir=task.out_dir)
        poll(lambda: state["done"] is not None and not plugin.running(), run_finished,
             "the run task", timeout_s)

    @guarded
    def run_finished() -> None:
        plugin, dock = state["plugin"], state["dock"]
        out["run"] = dict(state["done"], seconds=round(time.monotonic() - state["run_started"], 1),
                          stage=dock.stage_label.text(), progress=dock.progress_bar.value())
        step("run finished", **out["run"])
        if not state["done"]["ok"]:
            finish(f"the run failed: {state['done']['message']}")
            return
        group = plugin.last_group
        if group is None:
            finish("the run finished but no layer group was added")
            return
        root = QgsProject.instance().layerTreeRoot()
        out["group"] = {"name": group.name(), "top_of_tree": root.children()[0] is group,
                        "layers": [child.name() for child in group.children()]}
        pga = sites = None
        for node in group.findLayers():
            layer = node.layer()
            if isinstance(layer, QgsRasterLayer) and layer.name().startswith("PGA median"):
                pga = node
        # the map shows the PGA median: switch the other medians off (MMI is on by default)
        for node in group.findLayers():
            if isinstance(node.layer(), QgsRasterLayer) and " median" in node.layer().name():
                node.setItemVisibilityChecked(node is pga)
        for node in group.findLayers():
            layer = node.layer()
            info = {"valid": layer.isValid(), "crs": layer.crs().authid(),
                    "visible": node.isVisible(), "source": layer.source()}
            if isinstance(layer, QgsVectorLayer):
                info["features"] = layer.featureCount()
                info["fields"] = layer.fields().names()
            out["layers"][layer.name()] = info
            if isinstance(layer, QgsVectorLayer) and layer.name() == "Sites":
                sites = layer
        if pga is None or sites is None:
            finish(f"no PGA median raster or Sites layer in the group: {out['group']['layers']}")
            return
        pga_layer = pga.layer()
        state["pga"], state["sites"] = pga_layer, sites
        provider = pga_layer.dataProvider()
        stats = provider.bandStatistics(1, QgsRasterBandStats.Stats.All, pga_layer.extent(), 0)
        probes = {"near_fault": (-122.09226, 37.68095), "hayward_fault_mid": (-122.17796, 37.78233),
                  "far_ne_corner": (-121.77, 38.09)}
        samples = {}
        for key, (x, y) in probes.items():
            value, ok = provider.sample(QgsPointXY(x, y), 1)
            samples[key] = {"x": x, "y": y, "value": float(value) if ok else None}
        extent = pga_layer.extent()
        out["raster"] = {
            "name": pga_layer.name(), "valid": pga_layer.isValid(),
            "crs": pga_layer.crs().authid(), "width": pga_layer.width(),
            "height": pga_layer.height(),
            "extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                       extent.yMaximum()],
            "min": stats.minimumValue, "max": stats.maximumValue, "mean": stats.mean,
            "renderer": pga_layer.renderer().type() if pga_layer.renderer() else None,
            "samples": samples,
        }
        step("layers checked")

        # zoom to the group and wait for the canvas to finish drawing
        canvas = iface.mapCanvas()
        rect = None
        for node in group.findLayers():
            layer = node.layer()
            xform = QgsCoordinateTransform(layer.crs(), canvas.mapSettings().destinationCrs(),
                                           QgsProject.instance())
            r = xform.transformBoundingBox(layer.extent())
            if rect is None:
                rect = r
            else:
                rect.combineExtentWith(r)
        rect.scale(1.05)
        iface.messageBar().clearWidgets()  # recorded above; the screenshot shows the map
        root.setHasCustomLayerOrder(False)
        for node in root.children():  # fold everything but the result group
            node.setExpanded(node is group)
        group.setExpanded(True)
        for node in group.findLayers():
            node.setExpanded(node is pga)
        iface.setActiveLayer(pga_layer)
        # a render counts only if it started after the zoom (one may still be running)
        state["render_started"] = state["rendered"] = False

        def on_render_starting():
            state["render_started"] = True

        def on_rendered():
            state["rendered"] = state["render_started"]

        canvas.renderStarting.connect(on_render_starting)
        canvas.mapCanvasRefreshed.connect(on_rendered)
        state["render_slots"] = (on_render_starting, on_rendered)
        canvas.setExtent(rect)
        canvas.refresh()
        out["canvas_crs"] = canvas.mapSettings().destinationCrs().authid()
        poll(lambda: state["rendered"] and not canvas.isDrawing(),
             lambda: QTimer.singleShot(700, grab_map), "the map canvas to render", 60)

    @guarded
    def grab_map() -> None:
        canvas = iface.mapCanvas()
        canvas_png = work / "canvas.png"
        if not canvas.grab().save(str(canvas_png)):
            finish(f"could not save {canvas_png}")
            return
        window_png = shot_path("map_pga.png")
        if not iface.mainWindow().grab().save(str(window_png)):
            finish(f"could not save {window_png}")
            return
        out["screenshots"]["canvas"] = str(canvas_png)
        out["screenshots"]["map"] = str(window_png)
        step("map grabbed")
        open_viewer()

    @guarded
    def open_viewer() -> None:
        plugin = state["plugin"]
        package = type(plugin).__module__.split(".")[0]
        runner = importlib.import_module(f"{package}.gm_engine.runner")
        viewer = out["viewer"]
        if not hasattr(runner, "site_waveforms"):
            viewer["skipped"] = "gm_engine.runner.site_waveforms is missing"
            finish()
            return
        if out["engine"] not in ("cgm", "stochastic"):  # their runs keep site_terms.npz
            viewer["skipped"] = f"the {out['engine']} engine writes no waveforms"
            finish()
            return
        sites = state["sites"]
        field = "PGA_median"
        if sites.fields().indexOf(field) < 0:
            finish(f"the Sites layer has no {field} field: {sites.fields().names()}")
            return
        best = max(sites.getFeatures(), key=lambda f: f[field] if f[field] is not None else -1)
        site_index = int(best["site_index"])
        viewer["site_index"] = site_index
        viewer["site_pga"] = best[field]
        # click the site with the Show site waveforms tool, as a user does
        canvas = iface.mapCanvas()
        xform = QgsCoordinateTransform(sites.crs(), canvas.mapSettings().destinationCrs(),
                                       QgsProject.instance())
        pixel = canvas.getCoordinateTransform().transform(
            xform.transform(best.geometry().asPoint()))
        viewer["click"] = [round(pixel.x()), round(pixel.y())]
        identified = []
        plugin.site_tool.site_identified.connect(lambda run_dir, i: identified.append(
            (run_dir, i)))
        plugin.identify_action.trigger()
        if canvas.mapTool() is not plugin.site_tool:
            finish("the Show site waveforms action did not activate its map tool")
            return
        QTest.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton,
                         Qt.KeyboardModifier.NoModifier, QPoint(*viewer["click"]))
        viewer["identified"] = identified
        if not identified:
            finish(f"clicking site {site_index} at {viewer['click']} identified no site")
            return
        if plugin.viewer_dock is None or not plugin.viewer_dock.isVisible():
            finish("the waveform viewer did not open (see message_bar)")
            return
        viewer["shown"] = True
        dock = plugin.viewer_dock
        dock.setFloating(True)
        dock.setGeometry(100, 80, 1400, 850)
        step("viewer open", site_index=site_index)
        poll(lambda: not plugin.viewer.spectra_pending(),
             lambda: QTimer.singleShot(700, grab_viewer), "the viewer's spectra", 60)

    @guarded
    def grab_viewer() -> None:
        plugin = state["plugin"]
        viewer_widget = plugin.viewer
        plots = {"acc": viewer_widget.acc_plots, "vel": viewer_widget.vel_plots,
                 "spectrum": [viewer_widget.spectrum_plot], "fas": [viewer_widget.fas_plot]}
        curves = {}
        for key, items in plots.items():
            n = 0
            for plot in items:
                for item in plot.listDataItems():
                    x = getattr(item, "xData", None)
                    if item.isVisible() and x is not None and len(x) > 1:
                        n += 1
            curves[key] = n
        out["viewer"]["curves"] = curves
        out["viewer"]["sites"] = [site.label for site in viewer_widget.sites()]
        png = shot_path("waveform_viewer.png")
        if not plugin.viewer_dock.grab().save(str(png)):
            finish(f"could not save {png}")
            return
        out["screenshots"]["viewer"] = str(png)
        step("viewer grabbed")
        finish()

    # the plugins are loaded by the time --code runs; start from the event loop
    QTimer.singleShot(0, start)
    # keep the Python objects (timers, closures) alive for the whole session
    import builtins
    builtins._groundshake_real_qgis_driver = (out, state, dog, start)


_main()
