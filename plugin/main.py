"""The GroundShake plugin object: actions, dock, map tools, Processing provider, runs.

``unload()`` undoes ``initGui()`` step by step, so reloading the plugin (Plugin
Reloader, or an upgrade) leaves no action, dock, rubber band, provider,
translator or running task behind.
"""
from __future__ import annotations

import json
import re
import time
import warnings
from pathlib import Path
from typing import Any

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsMessageLog,
    QgsProcessingUtils,
    QgsProject,
    QgsRectangle,
    QgsTask,
    QgsWkbTypes,
)
from qgis.gui import QgisInterface, QgsDockWidget, QgsRubberBand
from qgis.PyQt import sip
from qgis.PyQt.QtCore import Qt, QTimer
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtWidgets import QAction, QFileDialog, QMessageBox
from qgis.PyQt.QtXml import QDomDocument

from ..gm_engine.errors import InputError
from ..gm_engine.scenario import Scenario, ScenarioWarning
from .dock import GroundShakeDock
from .execution import ConnectionTestTask, check_scheduler_address
from .i18n import install_translator, remove_translator, tr
from .map_tools import DipArrow, FaultTraceTool, SiteIdentifyTool
from .resources import icon
from .scenario_io import (
    load_raster,
    load_sites_layer,
    resolve,
    write_scenario_file,
    write_sites,
)
from .styling import add_results
from .tasks import DeviceProbeTask, ScenarioTask, ensure_new_folder, time_left

PROJECT_TAG = "GroundShake"
LOG_TAG = "GroundShake"


def run_folder_name(name: str) -> str:
    """A file-system-safe, time-stamped folder name for a run."""
    safe = re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("._") or "scenario"
    return f"{safe[:60]}_{time.strftime('%Y%m%d_%H%M%S')}"


class GroundShakePlugin:
    """What QGIS loads: see ``classFactory`` in the package's ``__init__``."""

    def __init__(self, iface: QgisInterface | None) -> None:
        # qgis_process loads the plugin with iface None and calls initProcessing() only
        self.iface = iface
        self.canvas = iface.mapCanvas() if iface is not None else None
        self.translator = install_translator()
        self.menu_name = tr("&GroundShake")
        self.actions: list[QAction] = []
        self.toolbar = None
        self.dock: GroundShakeDock | None = None
        self.viewer_dock: QgsDockWidget | None = None
        self.viewer: Any = None
        self.provider: Any = None
        self.trace_tool: FaultTraceTool | None = None
        self.site_tool: SiteIdentifyTool | None = None
        self.dip_arrow: DipArrow | None = None
        self.trace_band: QgsRubberBand | None = None
        self.tasks: list[QgsTask] = []
        self.pending_state: dict[str, Any] | None = None
        self.last_group = None
        self._progress_timer: QTimer | None = None

    # ------------------------------------------------------------- set up
    def initProcessing(self) -> None:
        """Register the Processing provider; the plugin works without it if it fails to import."""
        try:
            from .processing.provider import GroundShakeProvider
        except ImportError as exc:
            QgsMessageLog.logMessage(
                tr("GroundShake Processing algorithms are unavailable: {err}").format(err=exc),
                LOG_TAG, Qgis.MessageLevel.Warning)
            return
        self.provider = GroundShakeProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        self.initProcessing()
        main_window = self.iface.mainWindow()
        self.toolbar = self.iface.addToolBar(tr("GroundShake"))
        self.toolbar.setObjectName("GroundShakeToolbar")

        self.dock_action = QAction(icon("icon.svg"), tr("GroundShake scenario"), main_window)
        self.dock_action.setCheckable(True)
        self.dock_action.setToolTip(tr("Open the GroundShake scenario panel"))
        self.dock_action.toggled.connect(self.toggle_dock)

        self.draw_action = QAction(icon("draw_fault.svg"), tr("Draw fault trace"), main_window)
        self.draw_action.setCheckable(True)
        self.draw_action.setToolTip(tr("Draw a fault trace: click vertices, Backspace removes "
                                       "the last one, right click finishes, Esc cancels"))
        self.draw_action.toggled.connect(self.toggle_draw_tool)

        self.identify_action = QAction(icon("identify_site.svg"), tr("Show site waveforms"),
                                       main_window)
        self.identify_action.setCheckable(True)
        self.identify_action.setToolTip(tr("Click a site of a GroundShake result to see "
                                           "its waveforms"))
        self.identify_action.toggled.connect(self.toggle_identify_tool)

        self.trace_tool = FaultTraceTool(self.canvas)
        self.trace_tool.setAction(self.draw_action)
        self.trace_tool.trace_finished.connect(self._trace_drawn)
        self.trace_tool.trace_cancelled.connect(lambda: self.draw_action.setChecked(False))
        self.site_tool = SiteIdentifyTool(self.canvas)
        self.site_tool.setAction(self.identify_action)
        self.site_tool.site_identified.connect(self.show_site)
        self.dip_arrow = DipArrow(self.canvas)
        self.trace_band = QgsRubberBand(self.canvas, QgsWkbTypes.GeometryType.LineGeometry)
        self.trace_band.setColor(QColor(192, 57, 43))
        self.trace_band.setWidth(2)

        for action in (self.dock_action, self.draw_action, self.identify_action):
            self.toolbar.addAction(action)
            self.iface.addPluginToMenu(self.menu_name, action)
            self.actions.append(action)

        project = QgsProject.instance()
        project.writeProject.connect(self._write_project)
        project.readProject.connect(self._read_project)
        project.cleared.connect(self._project_cleared)
        self.canvas.destinationCrsChanged.connect(self.redraw_trace)

    def unload(self) -> None:
        """Remove every trace of the plugin, in reverse order of ``initGui``."""
        for task in list(self.tasks):
            if not task.isCanceled():
                task.cancel()
        self.tasks.clear()
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None

        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None
        if self.toolbar is None:  # initGui never ran (qgis_process)
            return

        project = QgsProject.instance()
        for signal, slot in ((project.writeProject, self._write_project),
                             (project.readProject, self._read_project),
                             (project.cleared, self._project_cleared),
                             (self.canvas.destinationCrsChanged, self.redraw_trace)):
            try:
                signal.disconnect(slot)
            except (TypeError, RuntimeError):
                pass

        for tool in (self.trace_tool, self.site_tool):
            if tool is not None and self.canvas.mapTool() is tool:
                self.canvas.unsetMapTool(tool)
        if self.trace_tool is not None:
            self.trace_tool.clean_up()
        if self.dip_arrow is not None:
            self.dip_arrow.clean_up()
        if self.trace_band is not None:
            self.canvas.scene().removeItem(self.trace_band)
        self.trace_tool = self.site_tool = self.dip_arrow = self.trace_band = None

        for action in self.actions:
            self.iface.removePluginMenu(self.menu_name, action)
            if self.toolbar is not None:
                self.toolbar.removeAction(action)
            action.deleteLater()
        self.actions.clear()
        if self.toolbar is not None:
            self.iface.mainWindow().removeToolBar(self.toolbar)
            self.toolbar.deleteLater()
            self.toolbar = None

        for dock in (self.dock, self.viewer_dock):
            if dock is not None:
                self.iface.removeDockWidget(dock)
                dock.deleteLater()
        self.dock = self.viewer_dock = self.viewer = None

    # ---------------------------------------------------------------- dock
    def ensure_dock(self) -> GroundShakeDock:
        """Create the dock on first use, so QGIS starts as fast without it."""
        if self.dock is not None:
            return self.dock
        dock = GroundShakeDock(self.canvas, self.iface.mainWindow())
        dock.setWindowIcon(icon("icon.svg"))
        dock.draw_trace_toggled.connect(self.draw_action.setChecked)
        dock.run_requested.connect(self.run_scenario)
        dock.cancel_requested.connect(self.cancel_runs)
        dock.import_requested.connect(self.import_dialog)
        dock.export_requested.connect(self.export_dialog)
        dock.trace_changed.connect(self.redraw_trace)
        dock.test_connection_requested.connect(self.test_connection)
        dock.visibilityChanged.connect(self._dock_visibility)
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.dock = dock
        if self.pending_state:
            dock.restore_state(self.pending_state)
            self.pending_state = None
        self._probe_devices()
        return dock

    def toggle_dock(self, visible: bool) -> None:
        dock = self.ensure_dock()
        dock.setUserVisible(visible)

    def _dock_visibility(self, visible: bool) -> None:
        if self.dock_action.isChecked() != visible:
            self.dock_action.blockSignals(True)
            self.dock_action.setChecked(visible)
            self.dock_action.blockSignals(False)

    def _probe_devices(self) -> None:
        task = DeviceProbeTask()
        task.found.connect(self._devices_found)
        task.taskCompleted.connect(lambda t=task: self._forget_task(t))
        task.taskTerminated.connect(lambda t=task: self._forget_task(t))
        self.tasks.append(task)
        QgsApplication.taskManager().addTask(task)

    def _devices_found(self, devices: list, detail: str) -> None:
        if self.dock is not None:
            self.dock.set_devices(devices, detail)

    def _forget_task(self, task: QgsTask) -> None:
        if task in self.tasks:
            self.tasks.remove(task)

    # ------------------------------------------------------------ map tools
    def toggle_draw_tool(self, on: bool) -> None:
        if self.trace_tool is None:
            return
        if on:
            self.canvas.setMapTool(self.trace_tool)
        elif self.canvas.mapTool() is self.trace_tool:
            self.canvas.unsetMapTool(self.trace_tool)
        if self.dock is not None and self.dock.draw_button.isChecked() != on:
            self.dock.draw_button.blockSignals(True)
            self.dock.draw_button.setChecked(on)
            self.dock.draw_button.blockSignals(False)

    def toggle_identify_tool(self, on: bool) -> None:
        if self.site_tool is None:
            return
        if on:
            self.canvas.setMapTool(self.site_tool)
        elif self.canvas.mapTool() is self.site_tool:
            self.canvas.unsetMapTool(self.site_tool)

    def _trace_drawn(self, points: list, crs: Any) -> None:
        self.ensure_dock().set_trace(points, crs)
        self.draw_action.setChecked(False)

    def redraw_trace(self, *_: Any) -> None:
        """The current trace and its dip arrow on the canvas, in the canvas CRS."""
        if self.trace_band is None or self.dip_arrow is None or sip.isdeleted(self.trace_band):
            return
        self.trace_band.reset(QgsWkbTypes.GeometryType.LineGeometry)
        self.dip_arrow.clear()
        if self.dock is None or len(self.dock.trace) < 2:
            return
        dock = self.dock
        dest = self.canvas.mapSettings().destinationCrs()
        for i, p in enumerate(dock.transform_to(dock.trace_points(), dest)):
            self.trace_band.addPoint(p, i == len(dock.trace) - 1)
        dipdir = None if dock.rhr_check.isChecked() else dock.dipdir_spin.value()
        self.dip_arrow.update(dock.trace_points(), dock.trace_crs, dock.dip_spin.value(), dipdir)

    def show_site(self, run_dir: str, site_index: int) -> bool:
        """Open the waveform viewer for one site of a finished run; False with a message if not."""
        from .viewer import missing_dependency
        from .viewer.site_data import engine_without_waveforms

        bar = self.iface.messageBar()
        engine = engine_without_waveforms(run_dir)
        if engine is not None:
            bar.pushMessage(tr("GroundShake"), tr(
                "Site {i}: the {engine} engine keeps no waveforms; run the scenario again "
                "with the CGM or the stochastic engine to see them.").format(
                i=site_index, engine=engine), Qgis.MessageLevel.Warning, 10)
            return False
        missing = missing_dependency()
        if missing:
            bar.pushMessage(tr("GroundShake"), missing, Qgis.MessageLevel.Warning, 0)
            return False
        try:
            from .viewer.waveform_viewer import WaveformViewer
        except ImportError as exc:
            bar.pushMessage(tr("GroundShake"), tr("The waveform viewer is unavailable: {err}")
                            .format(err=exc), Qgis.MessageLevel.Warning, 10)
            return False
        if self.viewer_dock is None:
            self.viewer_dock = QgsDockWidget(tr("GroundShake waveforms"), self.iface.mainWindow())
            self.viewer_dock.setObjectName("GroundShakeWaveformDock")
            self.viewer = WaveformViewer()
            self.viewer_dock.setWidget(self.viewer)
            self.iface.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.viewer_dock)
            self.viewer_dock.hide()  # shown once a site is there to see
        try:
            self.viewer.show_site(run_dir, site_index)
        except Exception as exc:  # an unreadable run must not break the map tool
            bar.pushMessage(tr("GroundShake"), tr("Cannot show the waveforms of site {i}: {err}")
                            .format(i=site_index, err=getattr(exc, "message", None) or exc),
                            Qgis.MessageLevel.Warning, 10)
            return False
        self.viewer_dock.setUserVisible(True)
        return True

    # ----------------------------------------------------------------- runs
    def report_input_error(self, field: str, message: str) -> None:
        """The message bar names the field; the dock shows and focuses its widget."""
        dock = self.ensure_dock()
        label = dock.field_label(field) if field else ""
        text = f"{label}: {message}" if label else message
        self.iface.messageBar().pushMessage(tr("GroundShake"), text,
                                            Qgis.MessageLevel.Critical, 0)
        if field:
            dock.show_field_error(field, message)

    def output_parent(self) -> Path:
        """Where runs go: the chosen folder, else the QGIS session's temporary folder."""
        chosen = self.dock.output_widget.filePath().strip() if self.dock else ""
        return Path(chosen) if chosen else Path(QgsProcessingUtils.tempFolder()) / "groundshake"

    def running(self) -> list[ScenarioTask]:
        return [t for t in self.tasks if isinstance(t, ScenarioTask)]

    def run_scenario(self, build: Any = None, run: Any = None) -> ScenarioTask | None:
        """Validate the dock, copy the sites to a GeoPackage and start the run task.

        ``build``/``run`` replace the engine calls (tests only).
        """
        dock = self.ensure_dock()
        if self.running():
            return None
        inputs_dir: Path | None = None
        try:
            doc = dock.build_scenario()
            options = dock.execution_options()
            parent = self.output_parent()
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError("output", tr("cannot create {path}: {err}").format(
                    path=parent, err=exc.strerror)) from None
            out_dir = ensure_new_folder(parent / run_folder_name(doc["name"]))
            inputs_dir = ensure_new_folder(parent / f"{out_dir.name}_inputs")
            layer = dock.sites_layer()
            if layer is not None:
                sites = write_sites(layer, inputs_dir / "sites.gpkg")
                doc = dock.build_scenario(sites_file=sites)
        except InputError as exc:
            if inputs_dir is not None:
                import shutil

                shutil.rmtree(inputs_dir, ignore_errors=True)
            self.report_input_error(exc.field, exc.message)
            return None

        task = ScenarioTask(tr("GroundShake: {name}").format(name=doc["name"]), doc,
                            str(inputs_dir), str(out_dir), [str(inputs_dir)], build, run,
                            execution=options)
        task.stage_changed.connect(lambda stage: dock.stage_label.setText(stage))
        task.done.connect(lambda result, msg, field, cancelled, t=task:
                          self._run_done(t, result, msg, field, cancelled))
        self.tasks.append(task)
        dock.set_running(True)
        self._progress_timer = QTimer()
        self._progress_timer.setInterval(500)
        self._progress_timer.timeout.connect(lambda t=task: self._show_progress(t))
        self._progress_timer.start()
        QgsApplication.taskManager().addTask(task)
        return task

    def _show_progress(self, task: ScenarioTask) -> None:
        if self.dock is None:
            return
        fraction = task.progress() / 100.0
        self.dock.show_progress(task.progress(), task.stage or None,
                                time_left(task.started_at, fraction))

    def test_connection(self) -> ConnectionTestTask | None:
        """Check the dock's scheduler address, then connect to it in a background task."""
        dock = self.ensure_dock()
        try:
            address = check_scheduler_address(dock.scheduler_edit.text())
        except InputError as exc:
            dock.show_connection_result(False, exc.message)
            dock.show_field_error(exc.field, exc.message)
            return None
        task = ConnectionTestTask(address)
        task.tested.connect(lambda ok, text: self.dock is not None
                            and self.dock.show_connection_result(ok, text))
        task.taskCompleted.connect(lambda t=task: self._forget_task(t))
        task.taskTerminated.connect(lambda t=task: self._forget_task(t))
        self.tasks.append(task)
        dock.set_connection_testing(address)
        QgsApplication.taskManager().addTask(task)
        return task

    def cancel_runs(self) -> None:
        for task in self.running():
            task.cancel()
        if self.dock is not None:
            self.dock.stage_label.setText(tr("Cancelling…"))

    def _run_done(self, task: ScenarioTask, result: Any, message: str, field: str,
                  cancelled: bool) -> None:
        self._forget_task(task)
        if self._progress_timer is not None:
            self._progress_timer.stop()
            self._progress_timer = None
        if self.dock is None:  # unloaded while running
            return
        self.dock.set_running(False)
        bar = self.iface.messageBar()
        if cancelled:
            self.dock.progress_bar.setValue(0)
            self.dock.stage_label.setText(tr("Cancelled"))
            bar.pushMessage(tr("GroundShake"), tr("The run was cancelled; nothing was written."),
                            Qgis.MessageLevel.Info, 5)
            return
        if result is None:
            self.dock.stage_label.setText(tr("Failed"))
            if field:
                self.report_input_error(field, message)
            else:
                bar.pushMessage(tr("GroundShake"), tr("The run failed: {err}").format(
                    err=message), Qgis.MessageLevel.Critical, 0)
            return
        self.dock.progress_bar.setValue(100)
        self.dock.stage_label.setText(tr("Done"))
        self.last_group = add_results(result, task.scenario)
        for warning in getattr(result, "warnings", []) or []:
            bar.pushMessage(tr("GroundShake"), str(warning), Qgis.MessageLevel.Warning, 15)
        bar.pushMessage(tr("GroundShake"), tr("Results written to {path}").format(
            path=result.out_dir), Qgis.MessageLevel.Success, 10)

    # ------------------------------------------------------ import / export
    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.iface.mainWindow(), tr("Import scenario"), "", tr("Scenario (*.json)"))
        if path:
            self.import_scenario(path)

    def import_scenario(self, path: str) -> bool:
        """Fill the dock from a scenario JSON; its sites and Vs30 raster are added as layers."""
        dock = self.ensure_dock()
        base = Path(path).resolve().parent
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
            if not isinstance(doc, dict) or "rupture" not in doc:
                raise InputError("scenario", tr("{path} is not a GroundShake scenario").format(
                    path=path))
            # The engine validates it and normalises it (width -> zbot, defaults),
            # so the dock never holds a scenario the engine would refuse.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ScenarioWarning)
                doc = Scenario.from_dict(doc, base).to_dict()
            if doc.get("model_card"):  # runs start elsewhere: keep the card's full path
                doc["model_card"] = str(resolve(doc["model_card"], base).resolve())
            dock.apply_scenario(doc)
        except (OSError, json.JSONDecodeError) as exc:
            self.report_input_error("scenario", str(exc))
            return False
        except InputError as exc:
            self.report_input_error(exc.field, exc.message)
            return False
        project = QgsProject.instance()
        sites = doc.get("sites")
        if sites:
            layer = load_sites_layer(sites, base)
            if layer is None:
                self.report_input_error("sites", tr("cannot open {path}").format(
                    path=sites.get("path")))
            else:
                project.addMapLayer(layer)
                dock.sites_layer_combo.setLayer(layer)
                dock.sites_group.setChecked(True)
                if sites.get("vs30_field"):
                    dock.vs30_field_combo.setField(sites["vs30_field"])
                    dock.vs30_field_radio.setChecked(True)
        raster_path = (doc.get("vs30") or {}).get("raster")
        if raster_path:
            raster = load_raster(raster_path, base, tr("Vs30"))
            if raster is None:
                self.report_input_error("vs30.raster", tr("cannot open {path}").format(
                    path=raster_path))
            else:
                project.addMapLayer(raster)
                dock.vs30_raster_combo.setLayer(raster)
                dock.vs30_raster_radio.setChecked(True)
        self.redraw_trace()
        return True

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.iface.mainWindow(), tr("Export scenario"), "", tr("Scenario (*.json)"))
        if not path:
            return
        if not path.lower().endswith(".json"):
            path += ".json"
        self.export_scenario(path, ask=True)

    def export_scenario(self, path: str, ask: bool = False) -> bool:
        """Write the scenario JSON; a site layer is copied beside it as ``<name>_sites.gpkg``.

        The JSON itself was confirmed by the save dialog; an existing site
        copy is only replaced after asking (``ask``), never silently.
        """
        dock = self.ensure_dock()
        out = Path(path)
        try:
            doc = dock.build_scenario()
            layer = dock.sites_layer()
            if layer is not None:
                sites_path = out.with_name(f"{out.stem}_sites.gpkg")
                if sites_path.exists():
                    if not ask or QMessageBox.question(
                            self.iface.mainWindow(), tr("Export scenario"),
                            tr("{path} exists. Replace it?").format(path=sites_path),
                    ) != QMessageBox.StandardButton.Yes:
                        raise InputError("sites", tr("{path} exists; choose another name").format(
                            path=sites_path))
                    sites_path.unlink()
                _, layer_name = write_sites(layer, sites_path)
                doc = dock.build_scenario(sites_file=(sites_path.name, layer_name))
            write_scenario_file(doc, out)
        except InputError as exc:
            self.report_input_error(exc.field, exc.message)
            return False
        except OSError as exc:
            self.report_input_error("output", str(exc))
            return False
        self.iface.messageBar().pushMessage(tr("GroundShake"), tr("Scenario written to {path}")
                                            .format(path=out), Qgis.MessageLevel.Success, 5)
        return True

    # --------------------------------------------------------------- project
    def _write_project(self, doc: QDomDocument) -> None:
        """Store the dock's state in the project file being written."""
        state = self.dock.state() if self.dock is not None else self.pending_state
        if not state:
            return
        root = doc.documentElement()
        for old in [root.elementsByTagName(PROJECT_TAG).at(i)
                    for i in range(root.elementsByTagName(PROJECT_TAG).count())]:
            root.removeChild(old)
        element = doc.createElement(PROJECT_TAG)
        element.setAttribute("version", "1")
        element.appendChild(doc.createTextNode(json.dumps(state)))
        root.appendChild(element)

    def _read_project(self, doc: QDomDocument) -> None:
        """Restore the scenario saved with the project (the layers are loaded by then)."""
        nodes = doc.documentElement().elementsByTagName(PROJECT_TAG)
        if nodes.count() == 0:
            return
        try:
            state = json.loads(nodes.at(0).toElement().text())
        except json.JSONDecodeError as exc:
            QgsMessageLog.logMessage(tr("Cannot read the saved GroundShake scenario: {err}")
                                     .format(err=exc), LOG_TAG, Qgis.MessageLevel.Warning)
            return
        if self.dock is None:
            self.pending_state = state
            return
        self.dock.restore_state(state)
        self.redraw_trace()

    def _project_cleared(self) -> None:
        self.pending_state = None
        if self.dock is not None:
            self.dock.reset()
            self.dock.trace = []
            self.dock.update_trace_info()
        self.redraw_trace()

    # convenience for tests and the Python console
    def zoom_to_trace(self) -> None:
        if self.dock is None or len(self.dock.trace) < 2:
            return
        pts = self.dock.transform_to(self.dock.trace_points(),
                                     self.canvas.mapSettings().destinationCrs())
        rect = QgsRectangle(pts[0], pts[1])
        for p in pts[2:]:
            rect.combineExtentWith(p)
        rect.scale(1.5)
        self.canvas.setExtent(rect)
        self.canvas.refresh()
