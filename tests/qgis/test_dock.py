"""The dock: widgets <-> scenario document, project save/restore, input errors."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsPointXY,
    QgsRectangle,
    QgsVectorLayer,
)

TRACE = [QgsPointXY(-122.0, 37.6), QgsPointXY(-122.3, 37.95)]
WGS84 = QgsCoordinateReferenceSystem("EPSG:4326")


def fill(dock, sites=None):
    """Put non-default values in every widget."""
    dock.name_edit.setText("Hayward M7")
    dock.set_trace(TRACE, WGS84)
    dock.dip_spin.setValue(70)
    dock.rhr_check.setChecked(False)
    dock.dipdir_spin.setValue(235)
    dock.ztor_spin.setValue(1)
    dock.zbot_spin.setValue(14)
    dock.rake_spin.setValue(-90)
    dock.magnitude_spin.setValue(6.8)
    dock.law_combo.setCurrentIndex(dock.law_combo.findData("Leonard2014"))
    if sites is not None:
        dock.sites_group.setChecked(True)
        dock.sites_layer_combo.setLayer(sites)
        dock.vs30_field_combo.setField("vs30")
        dock.vs30_field_radio.setChecked(True)
    dock.vs30_default_spin.setValue(500)
    dock.grid_group.setChecked(True)
    dock.extent_widget.setOutputCrs(WGS84)
    dock.extent_widget.setOutputExtentFromUser(QgsRectangle(-122.6, 37.3, -121.7, 38.2), WGS84)
    dock.spacing_spin.setValue(0.05)
    dock.pgv_check.setChecked(False)
    dock.mmi_check.setChecked(True)
    dock.sa_periods_edit.setText("0.2, 1, 3.5")
    dock.realizations_spin.setValue(7)
    dock.seed_spin.setValue(1234)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("gmpe"))
    dock.device_combo.setCurrentIndex(dock.device_combo.findData("cpu"))


def test_widgets_to_scenario_and_back(plugin, qgis_new_project, tmp_path, site_layer):
    from groundshake.gm_engine.scenario import Scenario

    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    dock = plugin.ensure_dock()
    fill(dock, sites)
    doc = dock.build_scenario(sites_file=("sites.gpkg", "sites"))
    assert doc["rupture"] == {
        "trace": [[-122.0, 37.6], [-122.3, 37.95]], "crs": "EPSG:4326", "dip": 70.0,
        "dip_direction": 235.0, "ztor": 1.0, "zbot": 14.0, "rake": -90.0, "hypocentre": None}
    assert doc["magnitude"] == pytest.approx(6.8)
    assert doc["magnitude_scaling"] == "Leonard2014"
    assert doc["sites"] == {"path": "sites.gpkg", "layer": "sites", "crs": "EPSG:4326",
                            "vs30_field": "vs30"}
    assert doc["grid"]["extent"] == pytest.approx([-122.6, 37.3, -121.7, 38.2])
    assert doc["grid"]["spacing"] == pytest.approx(0.05)
    assert doc["intensity_measures"] == ["PGA", "SA(0.2)", "SA(1.0)", "SA(3.5)", "MMI"]
    assert (doc["realizations"], doc["seed"], doc["engine"], doc["device"]) == (
        7, 1234, "gmpe", "cpu")
    assert doc["vs30"] == {"default": 500.0, "raster": None}

    # the engine accepts what the dock writes
    from groundshake.plugin.scenario_io import write_sites

    path, name = write_sites(sites, tmp_path / "sites.gpkg")
    scenario = Scenario.from_dict(dock.build_scenario(sites_file=(path, name)), tmp_path)
    assert scenario.rupture.dip_direction == 235.0 and scenario.sites.vs30_field == "vs30"

    dock.reset()
    assert dock.build_scenario(strict=False)["rupture"]["trace"] == []
    dock.apply_scenario(doc)
    dock.sites_layer_combo.setLayer(sites)
    dock.vs30_field_combo.setField("vs30")
    assert dock.build_scenario(sites_file=("sites.gpkg", "sites")) == doc
    assert dock.mechanism_combo.currentData() == "NM"


def test_project_save_and_restore(plugin, qgis_new_project, tmp_path, site_layer):
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    sites_path = tmp_path / "sites_src.gpkg"
    from groundshake.plugin.scenario_io import write_sites

    write_sites(sites, sites_path)  # a file-backed layer survives the project reload
    file_layer = QgsVectorLayer(f"{sites_path}|layername=sites", "file sites", "ogr")
    qgis_new_project.addMapLayer(file_layer)
    dock = plugin.ensure_dock()
    fill(dock, file_layer)
    dock.output_widget.setFilePath(str(tmp_path / "runs"))
    before = dock.state()
    layer_id = file_layer.id()
    project_file = tmp_path / "scenario.qgz"
    assert qgis_new_project.write(str(project_file))

    qgis_new_project.clear()
    assert dock.build_scenario(strict=False)["rupture"]["trace"] == []
    assert dock.output_widget.filePath() == ""
    assert qgis_new_project.read(str(project_file))
    after = dock.state()
    assert after["scenario"] == before["scenario"]
    assert after["sites_layer"] == layer_id
    assert dock.sites_layer_combo.currentLayer().id() == layer_id
    assert after["output_dir"] == str(tmp_path / "runs")
    assert after["vs30_mode"] == "field" and after["vs30_field"] == "vs30"


def test_project_read_before_the_dock_exists(qgis_iface, qgis_new_project, tmp_path):
    from groundshake import classFactory

    first = classFactory(qgis_iface)
    first.initGui()
    dock = first.ensure_dock()
    dock.set_trace(TRACE, WGS84)
    dock.seed_spin.setValue(99)
    project_file = tmp_path / "p.qgs"
    assert qgis_new_project.write(str(project_file))
    first.unload()
    qgis_new_project.clear()

    second = classFactory(qgis_iface)
    second.initGui()
    try:
        assert qgis_new_project.read(str(project_file))
        assert second.dock is None and second.pending_state is not None
        restored = second.ensure_dock()
        assert restored.seed_spin.value() == 99 and len(restored.trace) == 2
    finally:
        second.unload()


def test_magnitude_from_scaling_law_and_warning(plugin):
    from groundshake.gm_engine import scaling

    dock = plugin.ensure_dock()
    assert not dock.use_law_button.isEnabled()
    dock.set_trace(TRACE, WGS84)
    dock.dip_spin.setValue(90)
    dock.ztor_spin.setValue(0)
    dock.zbot_spin.setValue(12)
    dock.rake_spin.setValue(180)
    length = dock.trace_length_km()
    assert 45 < length < 55  # about 49 km between the two points
    area = dock.rupture_area_km2()
    assert area == pytest.approx(length * 12.0)
    expected = scaling.magnitude_from_area(area, 180.0, "WC94")
    assert f"{expected:.2f}" in dock.law_label.text()
    dock.magnitude_spin.setValue(8.5)
    assert not dock.magnitude_warning.isHidden()
    dock.use_law_button.click()
    assert dock.magnitude_spin.value() == pytest.approx(expected, abs=0.006)
    assert dock.magnitude_warning.isHidden()
    dock.dip_spin.setValue(30)  # a wider rupture: the law's magnitude goes up
    assert dock.law_magnitude() > expected
    assert dock.rupture_area_km2() == pytest.approx(length * 12.0 / math.sin(math.radians(30)))
    dock.magnitude_from_law_check.setChecked(True)
    assert dock.build_scenario(strict=False)["magnitude"] is None
    assert not dock.magnitude_spin.isEnabled()


def test_cell_count(plugin):
    dock = plugin.ensure_dock()
    dock.extent_widget.setOutputCrs(WGS84)
    dock.extent_widget.setOutputExtentFromUser(QgsRectangle(0, 0, 1.0, 0.5), WGS84)
    dock.spacing_spin.setValue(0.1)
    assert dock.grid_shape() == (5, 10)
    assert "50" in dock.cells_label.text()
    dock.spacing_spin.setValue(0.03)
    assert dock.grid_shape() == (17, 34)
    assert "578" in dock.cells_label.text()


def test_mechanism_presets_follow_rake(plugin):
    dock = plugin.ensure_dock()
    dock.mechanism_combo.setCurrentIndex(dock.mechanism_combo.findData("RV"))
    dock.mechanism_combo.activated.emit(dock.mechanism_combo.currentIndex())
    assert dock.rake_spin.value() == 90.0
    dock.rake_spin.setValue(45)
    assert dock.mechanism_combo.currentData() == "custom"
    dock.rake_spin.setValue(0)
    assert dock.mechanism_combo.currentData() == "SS_L"


@pytest.mark.parametrize(("setup", "field", "label"), [
    (lambda d: None, "rupture.trace", "Fault trace"),
    (lambda d: (d.set_trace(TRACE, WGS84), d.zbot_spin.setValue(0)), "rupture.zbot",
     "Bottom depth"),
    (lambda d: (d.set_trace(TRACE, WGS84), d.sa_periods_edit.setText("0.3, abc")),
     "intensity_measures", "Intensity measures"),
    (lambda d: (d.set_trace(TRACE, WGS84), d.pga_check.setChecked(False),
                d.pgv_check.setChecked(False), d.sa_check.setChecked(False)),
     "intensity_measures", "Intensity measures"),
    (lambda d: (d.set_trace(TRACE, WGS84), d.grid_group.setChecked(False)), "sites", "Sites"),
    (lambda d: (d.set_trace(TRACE, WGS84), d.sites_group.setChecked(True),
                d.sites_layer_combo.setLayer(None)), "sites", "Sites"),
    (lambda d: (d.set_trace(TRACE, WGS84),
                d.extent_widget.setOutputExtentFromUser(QgsRectangle(), WGS84)), "grid",
     "Raster grid"),
])
def test_bad_inputs_name_their_field(plugin, qgis_iface, qgis_new_project, tmp_path,
                                     setup, field, label):
    from qgis.core import Qgis

    dock = plugin.ensure_dock()
    dock.output_widget.setFilePath(str(tmp_path))
    dock.extent_widget.setOutputExtentFromUser(QgsRectangle(-122.6, 37.3, -121.7, 38.2), WGS84)
    setup(dock)
    bar = qgis_iface.messageBar()
    bar.clear_messages()
    assert plugin.run_scenario() is None
    messages = bar.get_messages(Qgis.MessageLevel.Critical)
    assert len(messages) == 1 and f"{label}:" in messages[0]
    assert dock.error_field == field
    assert list(tmp_path.iterdir()) == []  # nothing written for a refused run
    assert not plugin.running()


def test_write_sites_uses_centroids_and_never_overwrites(tmp_path, site_layer):
    from groundshake.gm_engine.errors import InputError
    from groundshake.plugin.scenario_io import write_sites

    polygons = site_layer("Polygon", n=2)
    path, name = write_sites(polygons, tmp_path / "s.gpkg")
    out = QgsVectorLayer(f"{path}|layername={name}", "out", "ogr")
    feats = list(out.getFeatures())
    assert [f["vs30"] for f in feats] == [300.0, 400.0]
    first = feats[0].geometry().asPoint()
    assert (first.x(), first.y()) == pytest.approx((-122.2, 37.7))
    before = (tmp_path / "s.gpkg").read_bytes()
    with pytest.raises(InputError) as err:
        write_sites(polygons, tmp_path / "s.gpkg")
    assert err.value.field == "sites"
    assert (tmp_path / "s.gpkg").read_bytes() == before


def test_export_and_import_scenario_json(plugin, qgis_new_project, tmp_path, site_layer):
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    dock = plugin.ensure_dock()
    fill(dock, sites)
    target = tmp_path / "hayward.json"
    assert plugin.export_scenario(str(target))
    doc = json.loads(target.read_text())
    assert doc["sites"]["path"] == "hayward_sites.gpkg"
    assert (tmp_path / "hayward_sites.gpkg").is_file()
    from groundshake.gm_engine.scenario import load_scenario

    assert load_scenario(target).sites.vs30_field == "vs30"
    # a second export refuses to replace the site copy without asking
    stamp = (tmp_path / "hayward_sites.gpkg").stat().st_mtime_ns
    assert not plugin.export_scenario(str(target))
    assert (tmp_path / "hayward_sites.gpkg").stat().st_mtime_ns == stamp

    dock.reset()
    n_layers = len(qgis_new_project.mapLayers())
    assert plugin.import_scenario(str(target))
    assert len(qgis_new_project.mapLayers()) == n_layers + 1
    imported = dock.sites_layer_combo.currentLayer()
    assert imported is not None and imported.featureCount() == 3
    assert imported.name() == "hayward_sites"  # not "hayward_sites sites"
    again = dock.build_scenario(sites_file=("hayward_sites.gpkg", "sites"))
    assert again == doc


def test_import_rejects_a_non_scenario(plugin, qgis_iface, tmp_path):
    from qgis.core import Qgis

    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    qgis_iface.messageBar().clear_messages()
    assert not plugin.import_scenario(str(bad))
    assert qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)


def test_trace_from_selected_line_feature(plugin, qgis_iface, qgis_new_project):
    from qgis.core import Qgis, QgsFeature, QgsGeometry

    layer = QgsVectorLayer("MultiLineString?crs=EPSG:32610", "faults", "memory")
    short = [QgsPointXY(500000, 4160000), QgsPointXY(501000, 4160000)]
    long_part = [QgsPointXY(510000, 4150000), QgsPointXY(520000, 4170000),
                 QgsPointXY(525000, 4190000)]
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromMultiPolylineXY([short, long_part]))
    layer.dataProvider().addFeature(feature)
    qgis_new_project.addMapLayer(layer)
    dock = plugin.ensure_dock()
    dock.line_layer_combo.setLayer(layer)
    qgis_iface.messageBar().clear_messages()
    assert not dock.trace_from_selected_feature()  # nothing selected yet
    assert dock.error_field == "rupture.trace"
    layer.selectAll()
    assert dock.trace_from_selected_feature()
    assert dock.trace == [[510000.0, 4150000.0], [520000.0, 4170000.0], [525000.0, 4190000.0]]
    assert dock.trace_crs.authid() == "EPSG:32610"
    assert dock.build_scenario(strict=False)["rupture"]["crs"] == "EPSG:32610"
    assert 40 < dock.trace_length_km() < 45  # 22.4 km + 20.6 km
    assert not qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)


def test_vs30_raster_and_extent_from_sites(plugin, qgis_new_project, tmp_path, site_layer):
    from osgeo import gdal, osr
    from qgis.core import QgsRasterLayer

    path = tmp_path / "vs30.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(path), 4, 4, 1, gdal.GDT_Float32)
    ds.SetGeoTransform((-122.5, 0.2, 0, 38.0, 0, -0.2))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).Fill(450.0)
    ds = None
    raster = QgsRasterLayer(str(path), "vs30", "gdal")
    sites = site_layer()
    qgis_new_project.addMapLayers([raster, sites])
    dock = plugin.ensure_dock()
    dock.set_trace(TRACE, WGS84)
    dock.vs30_raster_radio.setChecked(True)
    dock.vs30_raster_combo.setLayer(raster)
    dock.sites_group.setChecked(True)
    dock.sites_layer_combo.setLayer(sites)
    dock.extent_from_sites()
    doc = dock.build_scenario()
    assert doc["vs30"]["raster"] == str(path)
    assert doc["sites"]["vs30_field"] is None
    xmin, ymin, xmax, ymax = doc["grid"]["extent"]
    # the sites span (-122.2, 37.7)-(-122.1, 37.76), grown by 5 % of the larger side
    assert xmin == pytest.approx(-122.205) and xmax == pytest.approx(-122.095)
    assert ymin == pytest.approx(37.695) and ymax == pytest.approx(37.765)
    dock.vs30_raster_combo.setLayer(None)
    from groundshake.gm_engine.errors import InputError

    with pytest.raises(InputError) as err:
        dock.build_scenario()
    assert err.value.field == "vs30.raster"


def test_import_keeps_fields_without_widgets_and_refuses_big_seeds(
        plugin, qgis_iface, qgis_new_project, tmp_path):
    from qgis.core import Qgis

    root = Path(__file__).resolve().parents[2]
    src = json.loads((root / "examples" / "bay_area" / "scenario.json").read_text())
    src["sites"]["path"] = str(root / "examples" / "bay_area" / "sites.csv")
    src["rupture"]["hypocentre"] = {"along_strike_fraction": 0.3, "down_dip_fraction": 0.5}
    src["rupture"].pop("zbot")
    src["rupture"]["width"] = 12.0
    path = tmp_path / "s.json"
    path.write_text(json.dumps(src))
    assert plugin.import_scenario(str(path))
    doc = plugin.ensure_dock().build_scenario(sites_file=("x.gpkg", "sites"))
    assert doc["max_distance_km"] == 200
    assert doc["rupture"]["hypocentre"] == src["rupture"]["hypocentre"]
    assert doc["rupture"]["zbot"] == pytest.approx(12.0 * math.sin(math.radians(79.0)), abs=0.01)

    src["seed"] = 2**40
    path.write_text(json.dumps(src))
    qgis_iface.messageBar().clear_messages()
    assert not plugin.import_scenario(str(path))
    assert any("seed" in str(m) for m in qgis_iface.messageBar().get_messages(
        Qgis.MessageLevel.Critical))


# ------------------------------------------------------------ default engine

HAS_TORCH = __import__("importlib").util.find_spec("torch") is not None


@pytest.fixture()
def bundled_card(monkeypatch, tmp_path):
    """``bundled_card(present)``: the engine's bundled model card exists, or not."""
    from groundshake.gm_engine import engines

    def set_card(present: bool):
        card = tmp_path / ("model" if present else "missing") / "model_card.json"
        if present:
            card.parent.mkdir()
            card.write_text("{}")
        monkeypatch.setattr(engines, "bundled_model_card", lambda: card)
        return card

    return set_card


def engine_tooltip(dock, key):
    from qgis.PyQt.QtCore import Qt

    return dock.engine_combo.itemData(dock.engine_combo.findData(key),
                                      Qt.ItemDataRole.ToolTipRole)


@pytest.mark.skipif(not HAS_TORCH, reason="the cgm engine needs torch")
def test_cgm_is_the_default_engine_with_the_bundled_model(qgis_iface, bundled_card):
    from groundshake.plugin.dock import GroundShakeDock
    from groundshake.plugin.scenario_io import cgm_unavailable_reason, default_engine

    bundled_card(True)
    assert cgm_unavailable_reason() is None and default_engine() == "cgm"
    dock = GroundShakeDock(qgis_iface.mapCanvas())
    try:
        assert dock.engine_combo.currentData() == "cgm"
        assert not engine_tooltip(dock, "cgm")
        assert dock.build_scenario(strict=False)["engine"] == "cgm"
        dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("gmpe"))
        dock.reset()  # a new project starts with the default again
        assert dock.engine_combo.currentData() == "cgm"
    finally:
        dock.deleteLater()


def test_stochastic_is_the_default_without_the_bundled_model(qgis_iface, bundled_card):
    from groundshake.plugin.dock import GroundShakeDock
    from groundshake.plugin.scenario_io import default_engine

    card = bundled_card(False)
    assert default_engine() == "stochastic"
    dock = GroundShakeDock(qgis_iface.mapCanvas())
    try:
        assert dock.engine_combo.currentData() == "stochastic"
        tip = engine_tooltip(dock, "cgm")
        assert "not installed" in tip and str(card) in tip
        assert not engine_tooltip(dock, "stochastic")
        # still selectable: a scenario may name a model card of its own
        dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("cgm"))
        assert dock.build_scenario(strict=False)["engine"] == "cgm"
        dock.reset()
        assert dock.engine_combo.currentData() == "stochastic"
    finally:
        dock.deleteLater()


def test_stochastic_is_the_default_without_torch(qgis_iface, bundled_card, monkeypatch):
    import importlib.util

    from groundshake.plugin.dock import GroundShakeDock

    bundled_card(True)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else find_spec(name, *a))
    dock = GroundShakeDock(qgis_iface.mapCanvas())
    try:
        assert dock.engine_combo.currentData() == "stochastic"
        assert "pip install torch" in engine_tooltip(dock, "cgm")
    finally:
        dock.deleteLater()


@pytest.mark.parametrize("present", [True, False])
def test_processing_engine_default_follows_the_bundled_model(qgis_app, bundled_card, present):
    from groundshake.gm_engine.scenario import ENGINES
    from groundshake.plugin.processing.algorithms import GenerateScenarioAlgorithm

    if present and not HAS_TORCH:
        pytest.skip("the cgm engine needs torch")
    bundled_card(present)
    alg = GenerateScenarioAlgorithm()
    alg.initAlgorithm()
    default = alg.parameterDefinition("ENGINE").defaultValue()
    assert ENGINES[default] == ("cgm" if present else "stochastic")


def test_import_keeps_the_model_card_as_a_full_path(plugin, qgis_new_project, tmp_path,
                                                    site_layer):
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    dock = plugin.ensure_dock()
    fill(dock, sites)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("cgm"))
    target = tmp_path / "scenarios" / "s.json"
    target.parent.mkdir()
    assert plugin.export_scenario(str(target))
    doc = json.loads(target.read_text())
    assert "model_card" not in doc  # the bundled model: the key stays out
    card = tmp_path / "models" / "card.json"
    doc["model_card"] = "../models/card.json"
    target.write_text(json.dumps(doc))
    assert plugin.import_scenario(str(target))
    again = dock.build_scenario(strict=False)
    assert again["engine"] == "cgm" and again["model_card"] == str(card.resolve())
    # the project keeps it; a new project forgets it
    state = dock.state()
    dock.reset()
    assert "model_card" not in dock.build_scenario(strict=False)
    dock.restore_state(state)
    assert dock.build_scenario(strict=False)["model_card"] == str(card.resolve())


def test_model_combo_offers_the_shipped_cards(plugin, qgis_new_project, site_layer):
    from groundshake.gm_engine.engines import bundled_model_card, shipped_model_cards
    from qgis.PyQt.QtCore import Qt

    shipped = shipped_model_cards()
    assert shipped[0]["bundled"] and shipped[0]["path"] == bundled_model_card()
    variant = next(c for c in shipped if not c["bundled"])
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    dock = plugin.ensure_dock()
    fill(dock, sites)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("cgm"))
    assert dock.model_combo.isEnabled() and dock.model_combo.currentIndex() == 0
    # the bundled model draws Ztor itself, and its tooltip says so
    assert shipped[0]["marginalised"] == ["ztor"]
    assert "does not use the scenario's ztor" in dock.model_combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert "model_card" not in dock.build_scenario(strict=False)  # bundled: portable
    dock.model_combo.setCurrentIndex(dock.model_combo.findData(str(variant["path"])))
    doc = dock.build_scenario(strict=False)
    assert doc["model_card"] == str(variant["path"])
    # a project keeps the choice, a new scenario forgets it
    state = dock.state()
    dock.reset()
    assert dock.model_combo.currentIndex() == 0
    dock.restore_state(state)
    assert dock.model_combo.currentData() == str(variant["path"])
    assert dock.model_combo.count() == len(shipped)  # a shipped card is not added twice
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("gmpe"))
    assert not dock.model_combo.isEnabled()
