"""The groundshake Processing provider: processing.run of both algorithms, and qgis_process."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsRasterLayer,
    QgsUnitTypes,
    QgsVectorFileWriter,
    QgsVectorLayer,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

FAULT = [(-122.0, 37.6), (-122.2, 37.8)]
#: name, lon, lat, vs30: one site on the trace's midpoint, two off it.
SITES = [("on_trace", -122.1, 37.7, 400.0), ("east", -121.9, 37.75, 760.0),
         ("far", -122.6, 37.3, 300.0)]
QGIS_PROCESS = shutil.which("qgis_process.bin") or "/usr/bin/qgis_process.bin"


@pytest.fixture()
def provider(qgis_processing):
    """The GroundShake provider in the registry (added here unless the plugin did it)."""
    from groundshake.plugin.processing.provider import GroundShakeProvider

    registry = QgsApplication.processingRegistry()
    mine = registry.providerById("groundshake") is None
    if mine:
        assert registry.addProvider(GroundShakeProvider())
    yield registry.providerById("groundshake")
    if mine:
        registry.removeProvider("groundshake")


def fault_layer() -> QgsVectorLayer:
    layer = QgsVectorLayer("LineString?crs=EPSG:4326", "fault", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPolylineXY([QgsPointXY(x, y) for x, y in FAULT]))
    layer.dataProvider().addFeature(feature)
    return layer


def sites_layer(rows=SITES) -> QgsVectorLayer:
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=name:string&field=vs:double", "sites",
                           "memory")
    for name, x, y, vs in rows:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        feature.setAttributes([name, vs])
        layer.dataProvider().addFeature(feature)
    return layer


def save_gpkg(layer: QgsVectorLayer, path: Path) -> Path:
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    error = QgsVectorFileWriter.writeAsVectorFormatV3(
        layer, str(path), layer.transformContext(), options)
    assert error[0] == QgsVectorFileWriter.WriterError.NoError, error
    return path


def test_provider_declares_both_algorithms(provider):
    ids = sorted(alg.id() for alg in provider.algorithms())
    assert ids == ["groundshake:distances", "groundshake:generatescenario"]
    assert not provider.icon().isNull()
    generate = QgsApplication.processingRegistry().algorithmById("groundshake:generatescenario")
    names = {p.name() for p in generate.parameterDefinitions()}
    assert {"FAULT", "SITES", "VS30_FIELD", "VS30_DEFAULT", "MAGNITUDE", "DIP", "ZTOR", "ZBOT",
            "RAKE", "IMS", "REALIZATIONS", "SEED", "ENGINE", "GRID_EXTENT", "GRID_RESOLUTION",
            "OUTPUT_FOLDER"} <= names
    assert generate.groupId() == "scenarios"
    # Optional parameters are what lets the Modeler and batch mode leave them out.
    assert generate.parameterDefinition("SITES").flags() & generate.parameterDefinition(
        "SITES").Flag.FlagOptional


def test_distances_keeps_attributes_and_adds_distances(provider):
    import processing

    result = processing.run("groundshake:distances", {
        "FAULT": fault_layer(), "SITES": sites_layer(), "VS30_FIELD": "vs", "DIP": 90,
        "ZTOR": 0, "ZBOT": 12, "MAGNITUDE": 6.5, "OUTPUT": "memory:"})
    layer = result["OUTPUT"]
    assert [f.name() for f in layer.fields()] == [
        "name", "vs", "repi_km", "rhypo_km", "rjb_km", "rrup_km", "rx_km", "ry0_km", "vs30"]
    rows = {f["name"]: f for f in layer.getFeatures()}
    assert set(rows) == {"on_trace", "east", "far"}
    for f in rows.values():
        assert f["vs30"] == f["vs"]
        assert 0 <= f["rjb_km"] <= f["rrup_km"] + 1e-9 <= f["rhypo_km"] + 1e-6
    # A vertical fault reaching the surface: on the trace Rjb = Rrup = 0.
    assert rows["on_trace"]["rjb_km"] == pytest.approx(0.0, abs=0.05)
    assert rows["east"]["rjb_km"] > 5.0
    assert rows["far"]["rjb_km"] > rows["east"]["rjb_km"]
    assert rows["far"].geometry().asPoint() == QgsPointXY(-122.6, 37.3)


def test_distances_names_the_parameter_of_a_bad_input(provider):
    import processing

    with pytest.raises(QgsProcessingException, match="Vs30 field of the sites"):
        processing.run("groundshake:distances", {
            "FAULT": fault_layer(), "SITES": sites_layer([("soft", -122.1, 37.7, 20.0)]),
            "VS30_FIELD": "vs", "OUTPUT": "memory:"})
    with pytest.raises(QgsProcessingException, match=r"ZBOT"):
        processing.run("groundshake:distances", {
            "FAULT": fault_layer(), "SITES": sites_layer(), "ZTOR": 10, "ZBOT": 5,
            "OUTPUT": "memory:"})


def test_generatescenario_writes_rasters_and_sites(provider, tmp_path):
    import processing

    sites = save_gpkg(sites_layer(), tmp_path / "sites.gpkg")
    out = tmp_path / "run"
    progress: list[float] = []
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(progress.append)
    result = processing.run("groundshake:generatescenario", {
        "FAULT": fault_layer(), "SITES": str(sites), "VS30_FIELD": "vs", "MAGNITUDE": 6.5,
        "IMS": "PGA, SA(1.0)", "REALIZATIONS": 2, "SEED": 3, "ENGINE": 2,  # gmpe: fast
        "GRID_EXTENT": "-122.3,-121.9,37.5,37.9 [EPSG:4326]", "GRID_RESOLUTION": 5000,
        "OUTPUT_FOLDER": str(out)}, feedback=feedback)
    assert Path(result["OUTPUT_FOLDER"]) == out
    assert progress and max(progress) > 50
    rasters = [Path(p) for p in result["OUTPUT_RASTERS"]]
    assert {p.parent for p in rasters} <= {out, *out.rglob("*")}
    assert len(rasters) >= 2 * 3  # two IMs x median/p16/p84
    raster = QgsRasterLayer(str(rasters[0]), "r")
    assert raster.isValid()
    # The resolution is in metres although the extent was given in degrees.
    assert raster.rasterUnitsPerPixelX() == pytest.approx(5000.0)
    assert raster.crs().mapUnits() == QgsUnitTypes.DistanceUnit.DistanceMeters
    sites_out = QgsVectorLayer(result["OUTPUT_SITES"], "sites", "ogr")
    assert sites_out.featureCount() == 3
    fields = [f.name() for f in sites_out.fields()]
    assert "name" in fields and any("PGA" in f for f in fields), fields
    assert json.loads(Path(result["OUTPUT_RUN_JSON"]).read_text())


def test_generatescenario_runs_a_chosen_model_card(provider, tmp_path):
    import processing

    card = REPO_ROOT / "gm_engine" / "models" / "cgm-ca-sim-v5" / "model_card.json"
    result = processing.run("groundshake:generatescenario", {
        "FAULT": fault_layer(), "SITES": sites_layer(), "VS30_FIELD": "vs", "IMS": "PGA",
        "REALIZATIONS": 1, "ENGINE": 0, "MODEL_CARD": str(card),
        "OUTPUT_FOLDER": str(tmp_path / "run")})
    meta = json.loads(Path(result["OUTPUT_RUN_JSON"]).read_text())
    assert meta["engine_info"]["model"] == "groundshake-cgm-ca-sim-v5"
    # a card with another engine is refused, naming the parameter
    with pytest.raises(QgsProcessingException, match="cgm engine only"):
        processing.run("groundshake:generatescenario", {
            "FAULT": fault_layer(), "SITES": sites_layer(), "ENGINE": 2,
            "MODEL_CARD": str(card), "OUTPUT_FOLDER": str(tmp_path / "gmpe")})


def test_generatescenario_cancel_leaves_no_output(provider, tmp_path):
    import processing

    class CancelAtFirstProgress(QgsProcessingFeedback):
        def setProgress(self, value):
            super().setProgress(value)
            if value > 0:
                self.cancel()

    out = tmp_path / "run"
    with pytest.raises(QgsProcessingException, match="Cancelled"):
        processing.run("groundshake:generatescenario", {
            "FAULT": fault_layer(), "SITES": sites_layer(), "ENGINE": 2, "REALIZATIONS": 2,
            "OUTPUT_FOLDER": str(out)}, feedback=CancelAtFirstProgress())
    assert not out.exists() or not any(out.iterdir())


def test_distances_runs_inside_a_model(provider):
    """The Graphical Modeler wires model inputs to the algorithm and its sink to a model output."""
    import processing
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFeatureSource,
    )

    model = QgsProcessingModelAlgorithm("distances model", "tests")
    for name in ("fault", "sites"):
        model.addModelParameter(QgsProcessingParameterFeatureSource(name, name),
                                QgsProcessingModelParameter(name))
    child = QgsProcessingModelChildAlgorithm("groundshake:distances")
    child.setChildId("distances")
    child.addParameterSources("FAULT", [
        QgsProcessingModelChildParameterSource.fromModelParameter("fault")])
    child.addParameterSources("SITES", [
        QgsProcessingModelChildParameterSource.fromModelParameter("sites")])
    child.addParameterSources("DIP", [QgsProcessingModelChildParameterSource.fromStaticValue(45)])
    output = QgsProcessingModelOutput("with_distances")
    output.setChildOutputName("OUTPUT")
    child.setModelOutputs({"with_distances": output})
    model.addChildAlgorithm(child)

    result = processing.run(model, {"fault": fault_layer(), "sites": sites_layer(),
                                    "distances:with_distances": "memory:"})
    layer = result["distances:with_distances"]
    assert layer.featureCount() == len(SITES)
    assert all(f["vs30"] == 760.0 for f in layer.getFeatures())  # the default Vs30


@pytest.mark.skipif(not Path(QGIS_PROCESS).exists(),
                    reason="qgis_process.bin is not installed (Debian package qgis)")
def test_qgis_process_runs_distances(tmp_path):
    """The plugin loads in a fresh profile and its algorithm runs from the command line."""
    profile = tmp_path / "config" / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "groundshake").symlink_to(REPO_ROOT, target_is_directory=True)
    (profile / "QGIS").mkdir()
    (profile / "QGIS" / "QGIS3.ini").write_text("[PythonPlugins]\ngroundshake=true\n")
    fault = save_gpkg(fault_layer(), tmp_path / "fault.gpkg")
    sites = save_gpkg(sites_layer(), tmp_path / "sites.gpkg")
    out = tmp_path / "distances.gpkg"
    site_packages = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" \
        / "site-packages"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path),
               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "config"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(site_packages),
                                                        os.environ.get("PYTHONPATH")])))
    proc = subprocess.run(
        [QGIS_PROCESS, "run", "groundshake:distances", "--", f"FAULT={fault}",
         f"SITES={sites}", "VS30_FIELD=vs", "DIP=60", f"OUTPUT={out}"],
        env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    layer = QgsVectorLayer(str(out), "d", "ogr")
    assert layer.featureCount() == len(SITES)
    assert {f["name"]: f["vs30"] for f in layer.getFeatures()} == {n: v for n, _, _, v in SITES}
    assert layer.crs() == QgsCoordinateReferenceSystem("EPSG:4326")
