"""Runs through the QgsTask: results as styled layers, cancel leaves nothing, errors name fields."""
from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsLayerTreeModel,
    QgsPointXY,
    QgsRasterLayer,
    QgsRectangle,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import Qt

WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")
HAS_RUNNER = importlib.util.find_spec("groundshake.gm_engine.runner") is not None
needs_runner = pytest.mark.skipif(not HAS_RUNNER, reason="gm_engine.runner is not written yet")


def tiny(dock, tmp_path, sites=None):
    """A scenario that the GMPE engine runs in about a second."""
    dock.set_trace([QgsPointXY(-122.0, 37.6), QgsPointXY(-122.2, 37.8)], WGS84)
    dock.magnitude_spin.setValue(6.5)
    dock.extent_widget.setOutputCrs(WGS84)
    dock.extent_widget.setOutputExtentFromUser(QgsRectangle(-122.3, 37.5, -121.9, 37.9), WGS84)
    dock.spacing_spin.setValue(0.1)
    dock.grid_group.setChecked(True)
    dock.pgv_check.setChecked(True)
    dock.mmi_check.setChecked(True)
    dock.sa_periods_edit.setText("1.0")
    dock.realizations_spin.setValue(2)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("gmpe"))
    dock.output_widget.setFilePath(str(tmp_path))
    if sites is not None:
        dock.sites_group.setChecked(True)
        dock.sites_layer_combo.setLayer(sites)
        dock.vs30_field_combo.setField("vs30")
        dock.vs30_field_radio.setChecked(True)


def slow_engine(calls):
    """A stand-in engine that runs until cancelled, polling like gm_engine does."""
    from groundshake.gm_engine.errors import Cancelled

    def build(doc, base_dir):
        calls.append(("build", doc["name"], base_dir))
        return doc

    def run(scenario, out_dir, progress=None, is_cancelled=None):
        for i in range(600):
            if is_cancelled():
                raise Cancelled("stop")
            progress(i / 600, "working")
            time.sleep(0.05)
        raise AssertionError("never cancelled")

    return build, run


def test_cancel_stops_quickly_and_leaves_nothing(plugin, qgis_new_project, tmp_path, wait, site_layer):
    dock = plugin.ensure_dock()
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    tiny(dock, tmp_path, sites)
    calls = []
    build, run = slow_engine(calls)
    layers_before = set(qgis_new_project.mapLayers())
    task = plugin.run_scenario(build=build, run=run)
    assert task is not None and plugin.running() == [task]
    assert dock.cancel_button.isEnabled() and not dock.run_button.isEnabled()
    inputs = tmp_path / f"{task.out_dir.rsplit('/', 1)[1]}_inputs"
    assert (inputs / "sites.gpkg").is_file()  # sites copied before the task started
    assert task.scenario["sites"]["path"] == str(inputs / "sites.gpkg")
    assert wait(lambda: task.progress() > 0, 10)
    # the dock shows progress, the engine's stage text and an estimate of the time left
    assert wait(lambda: dock.progress_bar.value() > 0 and dock.time_label.text().endswith(
        "s left"), 5), (dock.progress_bar.value(), dock.time_label.text())
    assert dock.stage_label.text() == "working"
    assert plugin.run_scenario() is None  # one run at a time
    started = time.monotonic()
    dock.cancel_button.click()
    assert wait(lambda: not plugin.running(), 5)
    assert time.monotonic() - started < 1.0
    assert list(tmp_path.iterdir()) == []
    assert set(qgis_new_project.mapLayers()) == layers_before
    assert dock.run_button.isEnabled() and dock.stage_label.text() == "Cancelled"
    assert calls and calls[0][0] == "build"


def test_engine_input_error_is_shown_with_its_field(plugin, qgis_iface, tmp_path, wait):
    from groundshake.gm_engine.errors import InputError

    dock = plugin.ensure_dock()
    tiny(dock, tmp_path)

    def build(doc, base_dir):
        raise InputError("rupture.dip", "must be in (0, 90]")

    qgis_iface.messageBar().clear_messages()
    task = plugin.run_scenario(build=build)
    assert wait(lambda: not plugin.running(), 10)
    messages = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert messages and "Dip: must be in (0, 90]" in messages[-1]
    assert dock.error_field == "rupture.dip"
    assert list(tmp_path.iterdir()) == []
    assert task.exception is not None


def test_time_left_and_duration_text():
    from groundshake.plugin.dock import format_duration
    from groundshake.plugin.tasks import time_left

    assert time_left(100.0, 0.0, now=110.0) is None
    assert time_left(100.0, 0.25, now=110.0) == pytest.approx(30.0)
    assert time_left(100.0, 1.0, now=110.0) == 0.0
    assert format_duration(75) == "1 min 15 s left"
    assert format_duration(9.6) == "10 s left"


@needs_runner
def test_real_run_adds_a_styled_group(plugin, qgis_new_project, tmp_path, wait, site_layer):
    from groundshake.plugin.map_tools import RUN_DIR_PROPERTY

    dock = plugin.ensure_dock()
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    tiny(dock, tmp_path, sites)
    dock.name_edit.setText("tiny run")
    task = plugin.run_scenario()
    assert task is not None
    assert wait(lambda: not plugin.running(), 60), "the run did not finish in 60 s"
    assert task.exception is None, task.exception
    group = plugin.last_group
    assert group is not None and group.name() == "tiny run"
    layers = {node.name(): node.layer() for node in group.findLayers()}
    assert "PGA median [g]" in layers and "PGV median [cm/s]" in layers
    assert "MMI median" in layers and "SA(1.0) 84th percentile [g]" in layers
    pga = layers["PGA median [g]"]
    assert isinstance(pga, QgsRasterLayer) and pga.source().endswith(".tif")
    renderer = pga.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer)
    shader = renderer.shader().rasterShaderFunction()
    assert shader.legendSettings().suffix() == " g"
    # the ramp's title is the IM and unit, not GDAL's "Band 1: ... (Gray)"
    tree_model = QgsLayerTreeModel(qgis_new_project.layerTreeRoot())
    pga_node = next(n for n in group.findLayers() if n.name() == "PGA median [g]")
    titles = [n.data(Qt.DisplayRole) for n in tree_model.layerLegendNodes(pga_node)]
    assert titles[0] == "PGA (g)" and not any("Band 1" in str(t) for t in titles)
    assert shader.minimumValue() < shader.maximumValue()
    mmi_items = layers["MMI median"].renderer().shader().rasterShaderFunction().colorRampItemList()
    assert [i.label for i in mmi_items][:3] == ["I", "II", "III"]
    site_layers = [lyr for lyr in layers.values()
                   if isinstance(lyr, QgsVectorLayer) and lyr.customProperty(RUN_DIR_PROPERTY)]
    assert len(site_layers) == 1 and site_layers[0].featureCount() == 3
    assert site_layers[0].customProperty(RUN_DIR_PROPERTY) == task.out_dir
    assert "Fault trace" in layers and "Rupture surface projection" in layers
    assert "Outside the model's trained range" in layers
    # only the first median is switched on
    visible = [n.name() for n in group.findLayers() if n.isVisible()]
    assert "PGA p16" not in " ".join(visible) and "MMI median" in visible
    assert dock.progress_bar.value() == 100


@needs_runner
def test_real_run_cancelled_leaves_nothing(plugin, qgis_new_project, tmp_path, wait):
    dock = plugin.ensure_dock()
    tiny(dock, tmp_path)
    groups_before = len(qgis_new_project.layerTreeRoot().children())
    task = plugin.run_scenario()
    task.cancel()
    assert wait(lambda: not plugin.running(), 30)
    assert list(tmp_path.iterdir()) == []
    assert len(qgis_new_project.layerTreeRoot().children()) == groups_before


HAS_SITE_WAVEFORMS = HAS_RUNNER and hasattr(
    importlib.import_module("groundshake.gm_engine.runner"), "site_waveforms")


def test_site_of_an_unreadable_run_gives_a_message(plugin, qgis_iface, tmp_path):
    qgis_iface.messageBar().clear_messages()
    assert not plugin.show_site(str(tmp_path / "no_such_run"), 0)
    warnings = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert len(warnings) == 1 and "GroundShake" in warnings[0]
    assert plugin.viewer_dock is None or plugin.viewer_dock.isHidden()


@pytest.mark.skipif(not HAS_SITE_WAVEFORMS,
                    reason="gm_engine.runner.site_waveforms is not written yet")
def test_clicking_a_result_site_opens_the_viewer(plugin, qgis_new_project, qgis_canvas,
                                                 tmp_path, wait, site_layer):
    from groundshake.plugin.map_tools import RUN_DIR_PROPERTY
    from qgis.core import QgsFeatureRequest
    from qgis.gui import QgsMapMouseEvent
    from qgis.PyQt.QtCore import QEvent, QPoint, Qt

    dock = plugin.ensure_dock()
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("stochastic"))
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    tiny(dock, tmp_path, sites)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("stochastic"))
    dock.grid_group.setChecked(False)
    task = plugin.run_scenario()
    assert wait(lambda: not plugin.running(), 120)
    assert task.exception is None, task.exception
    result_sites = next(n.layer() for n in plugin.last_group.findLayers()
                        if n.layer().customProperty(RUN_DIR_PROPERTY))
    qgis_canvas.setDestinationCrs(WGS84)
    qgis_canvas.setLayers([result_sites])
    qgis_canvas.setExtent(QgsRectangle(-122.4, 37.5, -121.9, 38.0))
    feature = next(result_sites.getFeatures(QgsFeatureRequest().setFilterExpression(
        '"site_index" = 1')))
    pos = qgis_canvas.getCoordinateTransform().transform(feature.geometry().asPoint())
    plugin.identify_action.trigger()
    plugin.site_tool.canvasReleaseEvent(QgsMapMouseEvent(
        qgis_canvas, QEvent.Type.MouseButtonRelease, QPoint(round(pos.x()), round(pos.y())),
        Qt.MouseButton.LeftButton))
    assert plugin.viewer_dock is not None and not plugin.viewer_dock.isHidden()
    assert plugin.viewer.site_list.count() == 1


def test_a_run_without_waveforms_says_which_engines_keep_them(plugin, qgis_iface, tmp_path):
    import json

    from groundshake.plugin.viewer.site_data import engine_without_waveforms

    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"engine": "gmpe"}))
    assert engine_without_waveforms(run) == "gmpe"
    qgis_iface.messageBar().clear_messages()
    assert not plugin.show_site(str(run), 2)
    (warning,) = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Warning)
    assert "Site 2: the gmpe engine keeps no waveforms" in warning
    assert "CGM or the stochastic engine" in warning
    assert plugin.viewer_dock is None
    (run / "site_terms.npz").write_bytes(b"")  # cgm and stochastic runs keep their terms
    assert engine_without_waveforms(run) is None
    assert engine_without_waveforms(tmp_path / "no_run") is None


@needs_runner
def test_cgm_run_of_an_imported_scenario_with_its_own_model(
        plugin, qgis_new_project, tmp_path, wait, site_layer, tiny_model_card):
    """A scenario naming a model card (relative path) runs cgm through the task; sites click."""
    import json
    import os

    from groundshake.plugin.map_tools import RUN_DIR_PROPERTY

    dock = plugin.ensure_dock()
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    tiny(dock, tmp_path / "runs", sites)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("cgm"))
    scenario = tmp_path / "scenario" / "cgm.json"
    scenario.parent.mkdir()
    assert plugin.export_scenario(str(scenario))
    doc = json.loads(scenario.read_text())
    doc["model_card"] = os.path.relpath(tiny_model_card, scenario.parent)
    scenario.write_text(json.dumps(doc))
    assert plugin.import_scenario(str(scenario))

    task = plugin.run_scenario()
    assert task is not None
    assert task.scenario["engine"] == "cgm"
    assert task.scenario["model_card"] == str(tiny_model_card.resolve())
    assert wait(lambda: not plugin.running(), 120)
    assert task.exception is None, task.exception
    assert dock.stage_label.text() == "Done"
    out = task.result.out_dir
    record = json.loads((out / "run.json").read_text())
    assert record["engine"] == "cgm"
    assert Path(record["engine_info"]["model_card"]).resolve() == tiny_model_card.resolve()
    assert (out / "site_terms.npz").is_file()
    layers = [n.layer() for n in plugin.last_group.findLayers()]
    assert any(lyr.customProperty(RUN_DIR_PROPERTY) for lyr in layers)
    assert any(isinstance(lyr, QgsRasterLayer) for lyr in layers)

    if importlib.util.find_spec("pyqtgraph") is None or not HAS_SITE_WAVEFORMS:
        return
    assert plugin.show_site(str(out), 1)  # what the site tool calls on a click
    assert plugin.viewer.site_list.count() == 1
    data = plugin.viewer.current_site()
    assert data.acc.shape[:2] == (2, 3)


@needs_runner
def test_window_limited_cells_come_as_a_layer_switched_off(qgis_new_project, tmp_path):
    """A run that wrote window_limited.tif (duration IMs beyond the cgm records) gets
    that mask as an orange veil, off at first; runs without it get no such layer."""
    from types import SimpleNamespace

    import numpy as np
    from groundshake.gm_engine.raster import write_geotiff
    from groundshake.plugin.styling import WINDOW_FILE, add_results
    from rasterio.transform import from_origin

    mask = np.array([[1.0, 0.0], [np.nan, 1.0]], dtype=np.float32)
    write_geotiff(tmp_path / WINDOW_FILE, mask, from_origin(-122.3, 37.9, 0.1, 0.1),
                  "EPSG:4326", description="window", tags={})
    group = add_results(SimpleNamespace(out_dir=tmp_path, rasters={}), {"name": "durations"},
                        qgis_new_project)
    nodes = {n.name(): n for n in group.findLayers()}
    node = nodes["Durations cut by the model's records"]
    assert not node.isVisible() and node.layer().isValid()
    assert node.layer().renderer().type() == "paletted"
    (tmp_path / WINDOW_FILE).unlink()
    again = add_results(SimpleNamespace(out_dir=tmp_path, rasters={}), {"name": "none"},
                        qgis_new_project)
    assert not any("Durations" in n.name() for n in again.findLayers())
