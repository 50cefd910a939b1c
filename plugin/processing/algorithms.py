"""Processing algorithms: thin wrappers that turn parameters into a scenario for gm_engine.

All science lives in gm_engine; these classes only read layers, write the
sites to a file the engine can open, adapt the engine's progress and cancel
callbacks to ``QgsProcessingFeedback`` and turn ``InputError`` into a
``QgsProcessingException`` that names the parameter to fix.
"""
from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSource,
    QgsProcessingFeedback,
    QgsProcessingOutputFile,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingUtils,
    QgsProviderRegistry,
    QgsUnitTypes,
    QgsVectorFileWriter,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QVariant

from ...gm_engine.errors import Cancelled, InputError
from ...gm_engine.scenario import DEFAULT_IMS, ENGINES, SCHEMA_VERSION, Scenario
from .. import execution
from ..i18n import tr
from ..scenario_io import crs_string, default_engine

#: Attribute carrying each site's position in the source, so engine rows map back to features.
SITE_INDEX_FIELD = "gs_site_index"
DISTANCE_FIELDS = ("repi_km", "rhypo_km", "rjb_km", "rrup_km", "rx_km", "ry0_km", "vs30")


class _GroundShakeAlgorithm(QgsProcessingAlgorithm):
    """Shared parameters (fault, sites, mechanism) and the scenario/error plumbing."""

    FAULT = "FAULT"
    SITES = "SITES"
    VS30_FIELD = "VS30_FIELD"
    VS30_DEFAULT = "VS30_DEFAULT"
    MAGNITUDE = "MAGNITUDE"
    DIP = "DIP"
    ZTOR = "ZTOR"
    ZBOT = "ZBOT"
    RAKE = "RAKE"

    #: Scenario field prefix -> parameter, longest prefix first, for InputError messages.
    FIELD_PARAMETERS: tuple[tuple[str, str], ...] = (
        ("sites.vs30_field", VS30_FIELD),
        ("rupture.dip", DIP),
        ("rupture.ztor", ZTOR),
        ("rupture.zbot", ZBOT),
        ("rupture.rake", RAKE),
        ("rupture", FAULT),
        ("magnitude", MAGNITUDE),
        ("vs30.default", VS30_DEFAULT),
        ("vs30", VS30_DEFAULT),
        ("sites", SITES),
    )
    SITES_OPTIONAL = False

    def group(self) -> str:
        return tr("Scenarios")

    def groupId(self) -> str:  # unlocalised
        return "scenarios"

    def createInstance(self) -> QgsProcessingAlgorithm:
        return type(self)()

    def _add_source_parameters(self) -> None:
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.FAULT, tr("Fault trace (the first or only selected line is used)"),
            [QgsProcessing.SourceType.TypeVectorLine]))
        self.addParameter(QgsProcessingParameterFeatureSource(
            self.SITES, tr("Sites"), [QgsProcessing.SourceType.TypeVectorPoint],
            optional=self.SITES_OPTIONAL))
        self.addParameter(QgsProcessingParameterField(
            self.VS30_FIELD, tr("Vs30 field of the sites (m/s)"), parentLayerParameterName=self.SITES,
            type=QgsProcessingParameterField.DataType.Numeric, optional=True))
        self.addParameter(self._number(self.VS30_DEFAULT, tr("Default Vs30 (m/s)"), 760.0, 150.0, 2000.0))
        self.addParameter(self._number(self.MAGNITUDE, tr("Moment magnitude"), 7.0, 3.0, 9.5))
        self.addParameter(self._number(self.DIP, tr("Dip (degrees)"), 90.0, 1.0, 90.0))
        self.addParameter(self._number(self.ZTOR, tr("Depth to top of rupture (km)"), 0.0, 0.0, 50.0))
        self.addParameter(self._number(self.ZBOT, tr("Depth to bottom of rupture (km)"), 15.0, 0.1, 100.0))
        self.addParameter(self._number(self.RAKE, tr("Rake (degrees)"), 180.0, -180.0, 180.0))

    @staticmethod
    def _number(name: str, label: str, default: float, lo: float, hi: float,
                integer: bool = False) -> QgsProcessingParameterNumber:
        kind = (QgsProcessingParameterNumber.Type.Integer if integer
                else QgsProcessingParameterNumber.Type.Double)
        return QgsProcessingParameterNumber(name, label, kind, default, False, lo, hi)

    # -- scenario pieces ---------------------------------------------------
    def _rupture(self, parameters: dict[str, Any], context: QgsProcessingContext,
                 feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """The rupture block: the fault feature's vertices in the fault layer's CRS."""
        source = self.parameterAsSource(parameters, self.FAULT, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.FAULT))
        features = source.getFeatures(QgsFeatureRequest().setNoAttributes().setLimit(2))
        feature = QgsFeature()
        if not features.nextFeature(feature) or feature.geometry().isEmpty():
            raise QgsProcessingException(tr("{label}: the layer has no line feature").format(
                label=self._label(self.FAULT)))
        if features.nextFeature(QgsFeature()):
            feedback.pushWarning(tr("The fault layer has several features; only the first is "
                                    "used (select one and tick 'Selected features only')."))
        geom = feature.geometry()
        parts = geom.asMultiPolyline() if geom.isMultipart() else [geom.asPolyline()]
        if len(parts) != 1:
            raise QgsProcessingException(tr(
                "{label}: the fault feature has {n} parts; a single continuous trace is needed "
                "(merge or explode the parts first)").format(label=self._label(self.FAULT),
                                                              n=len(parts)))
        return {
            "trace": [[p.x(), p.y()] for p in parts[0]],
            "crs": _crs_string(source.sourceCrs()),
            "dip": self.parameterAsDouble(parameters, self.DIP, context),
            "dip_direction": None,
            "ztor": self.parameterAsDouble(parameters, self.ZTOR, context),
            "zbot": self.parameterAsDouble(parameters, self.ZBOT, context),
            "rake": self.parameterAsDouble(parameters, self.RAKE, context),
            "hypocentre": None,
        }

    def _base_scenario(self, parameters: dict[str, Any], context: QgsProcessingContext,
                       feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """Scenario document fields common to both algorithms (no sites, no grid yet)."""
        return {
            "groundshake_scenario": SCHEMA_VERSION,
            "name": self.displayName(),
            "rupture": self._rupture(parameters, context, feedback),
            "magnitude": self.parameterAsDouble(parameters, self.MAGNITUDE, context),
            "sites": None,
            "grid": None,
            "vs30": {"default": self.parameterAsDouble(parameters, self.VS30_DEFAULT, context),
                     "raster": None},
        }

    def _vs30_field(self, parameters: dict[str, Any], context: QgsProcessingContext) -> str | None:
        fields = self.parameterAsFields(parameters, self.VS30_FIELD, context)
        return fields[0] if fields else None

    def _validated(self, document: dict[str, Any], feedback: QgsProcessingFeedback) -> Scenario:
        """Scenario.from_dict with its warnings shown in the log instead of on stderr."""
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            scenario = self._engine_call(Scenario.from_dict, document)
        for message in scenario.warnings:
            feedback.pushWarning(message)
        return scenario

    def _engine_call(self, func, *args, **kwargs):
        """Call gm_engine, turning its errors into QgsProcessingException naming the parameter."""
        try:
            return func(*args, **kwargs)
        except InputError as exc:
            raise QgsProcessingException(self._input_error_text(exc)) from exc
        except Cancelled as exc:
            raise QgsProcessingException(tr("Cancelled by the user.")) from exc

    def _input_error_text(self, exc: InputError) -> str:
        for prefix, name in self.FIELD_PARAMETERS:
            if exc.field == prefix or exc.field.startswith(prefix + "."):
                return tr("{label} ({name}): {message}").format(
                    label=self._label(name), name=name, message=exc.message)
        return tr("{field}: {message}").format(field=exc.field, message=exc.message)

    def _label(self, name: str) -> str:
        definition = self.parameterDefinition(name)
        return definition.description() if definition is not None else name


class GenerateScenarioAlgorithm(_GroundShakeAlgorithm):
    """``groundshake:generatescenario``: the whole run, rasters and site layer included."""

    IMS = "IMS"
    REALIZATIONS = "REALIZATIONS"
    SEED = "SEED"
    ENGINE = "ENGINE"
    MODEL_CARD = "MODEL_CARD"
    GRID_EXTENT = "GRID_EXTENT"
    GRID_RESOLUTION = "GRID_RESOLUTION"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    DASK_SCHEDULER = "DASK_SCHEDULER"
    DASK_WORKERS = "DASK_WORKERS"
    OUTPUT_SITES = "OUTPUT_SITES"
    OUTPUT_RASTERS = "OUTPUT_RASTERS"
    OUTPUT_RUN_JSON = "OUTPUT_RUN_JSON"

    FIELD_PARAMETERS = (
        ("grid.spacing", GRID_RESOLUTION),
        ("grid", GRID_EXTENT),
        ("intensity_measures", IMS),
        ("realizations", REALIZATIONS),
        ("seed", SEED),
        ("engine", ENGINE),
        ("model_card", MODEL_CARD),
        ("out", OUTPUT_FOLDER),
        ("scheduler", DASK_SCHEDULER),
        ("workers", DASK_WORKERS),
        *_GroundShakeAlgorithm.FIELD_PARAMETERS,
    )
    SITES_OPTIONAL = True

    def name(self) -> str:
        return "generatescenario"

    def displayName(self) -> str:
        return tr("Generate shaking scenario")

    def shortHelpString(self) -> str:
        return tr(
            "Generates three-component ground-motion waveforms for every site and grid cell "
            "around a fault rupture, and writes median, 16th and 84th percentile rasters of "
            "each intensity measure, a GeoPackage of sites and a provenance JSON into the "
            "output folder.\n\nIntensity measures are comma-separated OpenQuake names such "
            "as PGA, PGV, SA(1.0). Give sites, a grid extent, or both; the grid resolution "
            "is in metres whatever the extent's CRS.\n\nEngines: cgm (the conditional "
            "generative model, the default), stochastic (the calibrated stochastic "
            "simulation, the default when the CGM model is not installed) and gmpe (NGA-West2 "
            "ground-motion models, no waveforms). A model card (JSON) runs the cgm engine "
            "with another model than the bundled one: a shipped one from "
            "gm_engine/models or one trained with python -m gm_engine train.\n\n"
            "Advanced: a Dask scheduler address "
            "(tcp://host:port) runs the chunks of sites on that cluster, a number of local "
            "Dask workers on a cluster started on this machine for the run; both need the "
            "Python package distributed and work with every engine. This process then only "
            "sends the tasks and writes the outputs.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self._add_source_parameters()
        self.addParameter(QgsProcessingParameterString(
            self.IMS, tr("Intensity measures (comma-separated)"), ", ".join(DEFAULT_IMS)))
        self.addParameter(self._number(self.REALIZATIONS, tr("Realizations"), 10, 1, 10_000,
                                       integer=True))
        self.addParameter(self._number(self.SEED, tr("Random seed"), 42, 0, 2**31 - 1,
                                       integer=True))
        self.addParameter(QgsProcessingParameterEnum(
            self.ENGINE, tr("Engine"), list(ENGINES),
            defaultValue=ENGINES.index(default_engine())))
        self.addParameter(QgsProcessingParameterFile(
            self.MODEL_CARD, tr("Model card of the cgm engine (empty: the bundled model)"),
            QgsProcessingParameterFile.Behavior.File, "json", optional=True))
        self.addParameter(QgsProcessingParameterExtent(
            self.GRID_EXTENT, tr("Grid extent"), optional=True))
        self.addParameter(self._number(self.GRID_RESOLUTION, tr("Grid resolution (metres)"),
                                       1000.0, 1.0, 1e6))
        self.addParameter(QgsProcessingParameterFolderDestination(
            self.OUTPUT_FOLDER, tr("Output folder")))
        scheduler = QgsProcessingParameterString(
            self.DASK_SCHEDULER, tr("Dask scheduler address (empty: in this process)"),
            "", optional=True)
        workers = QgsProcessingParameterNumber(
            self.DASK_WORKERS, tr("Local Dask workers (0: in this process)"),
            QgsProcessingParameterNumber.Type.Integer, 0, True, 0, execution.MAX_WORKERS)
        for param in (scheduler, workers):
            param.setFlags(param.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
            self.addParameter(param)
        self.addOutput(QgsProcessingOutputVectorLayer(
            self.OUTPUT_SITES, tr("Sites with intensity measures"),
            QgsProcessing.SourceType.TypeVectorPoint))
        self.addOutput(QgsProcessingOutputMultipleLayers(
            self.OUTPUT_RASTERS, tr("Intensity measure rasters")))
        self.addOutput(QgsProcessingOutputFile(self.OUTPUT_RUN_JSON, tr("Run provenance (JSON)")))

    def checkParameterValues(self, parameters: dict[str, Any],
                             context: QgsProcessingContext) -> tuple[bool, str]:
        """Refuse a bad scheduler address before the run starts (the dialog shows why)."""
        try:
            self._execution_options(parameters, context)
        except QgsProcessingException as exc:
            return False, str(exc)
        return super().checkParameterValues(parameters, context)

    def _execution_options(self, parameters: dict[str, Any],
                           context: QgsProcessingContext) -> dict[str, Any]:
        """execution.run_distributed's keyword arguments; {} runs in this process."""
        address = (self.parameterAsString(parameters, self.DASK_SCHEDULER, context) or "").strip()
        workers = self.parameterAsInt(parameters, self.DASK_WORKERS, context)
        if address and workers:
            raise QgsProcessingException(tr(
                "{scheduler} and {workers}: give one of them, not both").format(
                scheduler=self._label(self.DASK_SCHEDULER), workers=self._label(self.DASK_WORKERS)))
        if not address and not workers:
            return {}
        if not execution.dask_available():
            raise QgsProcessingException(execution.install_hint())
        if address:
            try:
                return {"scheduler": execution.check_scheduler_address(address, "scheduler")}
            except InputError as exc:
                raise QgsProcessingException(self._input_error_text(exc)) from None
        return execution.local_options(workers)

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        from ...gm_engine.runner import run_scenario

        options = self._execution_options(parameters, context)
        if options:
            run_scenario = execution.run_distributed
        document = self._base_scenario(parameters, context, feedback)
        document["intensity_measures"] = [
            s.strip() for s in self.parameterAsString(parameters, self.IMS, context).split(",")
            if s.strip()]
        document["realizations"] = self.parameterAsInt(parameters, self.REALIZATIONS, context)
        document["seed"] = self.parameterAsInt(parameters, self.SEED, context)
        document["engine"] = ENGINES[self.parameterAsEnum(parameters, self.ENGINE, context)]
        card = (self.parameterAsFile(parameters, self.MODEL_CARD, context) or "").strip()
        if card:
            if document["engine"] != "cgm":
                raise QgsProcessingException(tr(
                    "{card}: a model card is used by the cgm engine only, the engine is "
                    "{engine}").format(card=self._label(self.MODEL_CARD),
                                       engine=document["engine"]))
            # absolute: the scenario is written into the run folder, elsewhere
            document["model_card"] = str(Path(card).resolve())
        source = self.parameterAsSource(parameters, self.SITES, context)
        if source is not None:
            document["sites"] = self._sites_block(parameters, source, context, feedback)
        if parameters.get(self.GRID_EXTENT):
            document["grid"] = self._grid_block(parameters, document["rupture"], context)
        out_dir = self.parameterAsString(parameters, self.OUTPUT_FOLDER, context)

        scenario = self._validated(document, feedback)
        if feedback.isCanceled():
            return {}
        result = self._engine_call(run_scenario, scenario, out_dir, progress=_progress(feedback),
                                   is_cancelled=feedback.isCanceled, **options)
        for message in result.warnings:
            feedback.pushWarning(message)
        rasters = [str(p) for p in result.rasters.values()]
        for (im, stat), path in result.rasters.items():
            _load_on_completion(context, str(path), f"{im} {stat}", self.OUTPUT_RASTERS)
        sites = str(result.sites_gpkg) if result.sites_gpkg is not None else None
        if sites is not None:
            _load_on_completion(context, sites, tr("GroundShake sites"), self.OUTPUT_SITES)
        return {self.OUTPUT_FOLDER: str(result.out_dir), self.OUTPUT_SITES: sites,
                self.OUTPUT_RASTERS: rasters, self.OUTPUT_RUN_JSON: str(result.run_json)}

    def _sites_block(self, parameters: dict[str, Any], source: QgsProcessingFeatureSource,
                     context: QgsProcessingContext,
                     feedback: QgsProcessingFeedback) -> dict[str, Any]:
        """The sites block: the layer's own file when it is one, else a GeoPackage copy."""
        vs30_field = self._vs30_field(parameters, context)
        plain = _plain_ogr_file(self, parameters, self.SITES, context)
        if plain is not None:
            path, layer = plain
        else:
            path, layer = _write_sites(source, context, feedback), None
        # The layer's CRS as QGIS knows it: a shapefile without .prj has one only here.
        crs = crs_string(source.sourceCrs()) if source.sourceCrs().isValid() else None
        return {"path": path, "layer": layer, "x": None, "y": None, "crs": crs,
                "vs30_field": vs30_field}

    def _grid_block(self, parameters: dict[str, Any], rupture: dict[str, Any],
                    context: QgsProcessingContext) -> dict[str, Any]:
        """The grid block; a grid in degrees is moved to the engine's local metric CRS.

        The resolution is given in metres, so an extent in a CRS whose unit is
        not the metre is reprojected to the transverse Mercator the engine
        itself centres on the rupture (gm_engine.rupture.local_crs_for).
        """
        from ...gm_engine.rupture import local_crs_for

        extent_crs = self.parameterAsExtentCrs(parameters, self.GRID_EXTENT, context)
        extent = self.parameterAsExtent(parameters, self.GRID_EXTENT, context, extent_crs)
        resolution = self.parameterAsDouble(parameters, self.GRID_RESOLUTION, context)
        if extent.isEmpty():
            raise QgsProcessingException(tr("{label}: the extent is empty").format(
                label=self._label(self.GRID_EXTENT)))
        if extent_crs.isValid() and extent_crs.mapUnits() == QgsUnitTypes.DistanceUnit.DistanceMeters:
            crs_text = _crs_string(extent_crs)
        else:
            if not extent_crs.isValid():
                extent_crs = QgsCoordinateReferenceSystem(rupture["crs"])
            fault_crs = QgsCoordinateReferenceSystem(rupture["crs"])
            to_ll = QgsCoordinateTransform(fault_crs, QgsCoordinateReferenceSystem("EPSG:4326"),
                                           context.transformContext())
            lonlat = [to_ll.transform(x, y) for x, y in rupture["trace"]]
            local_wkt = local_crs_for([p.x() for p in lonlat], [p.y() for p in lonlat]).to_wkt()
            local = QgsCoordinateReferenceSystem.fromWkt(local_wkt)
            extent = QgsCoordinateTransform(extent_crs, local, context.transformContext()
                                            ).transformBoundingBox(extent)
            crs_text = local_wkt
        return {"extent": [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(),
                           extent.yMaximum()], "crs": crs_text, "spacing": resolution}


class DistancesAlgorithm(_GroundShakeAlgorithm):
    """``groundshake:distances``: the six source-to-site distances and Vs30 of each site."""

    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "distances"

    def displayName(self) -> str:
        return tr("Rupture distances")

    def shortHelpString(self) -> str:
        return tr(
            "Adds the epicentral, hypocentral, Joyner-Boore, rupture, Rx and Ry0 distances (km) "
            "from the finite rupture built on the fault trace, and the Vs30 (m/s) each site "
            "gets from its field or the default, to every site.")

    def initAlgorithm(self, config: dict[str, Any] | None = None) -> None:
        self._add_source_parameters()
        self.addParameter(QgsProcessingParameterFeatureSink(
            self.OUTPUT, tr("Sites with distances"), QgsProcessing.SourceType.TypeVectorPoint))

    def processAlgorithm(self, parameters: dict[str, Any], context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict[str, Any]:
        source = self.parameterAsSource(parameters, self.SITES, context)
        if source is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.SITES))
        document = self._base_scenario(parameters, context, feedback)
        # Every site is wanted here, however far: the engine's widest accepted radius.
        document["max_distance_km"] = 2000.0
        document["sites"] = {"path": _write_sites(source, context, feedback, index_field=True),
                             "layer": None, "x": None, "y": None, "crs": None,
                             "vs30_field": self._vs30_field(parameters, context)}
        scenario = self._validated(document, feedback)
        feedback.setProgress(10)
        from ...gm_engine.runner import scenario_distances

        table = self._engine_call(scenario_distances, scenario)
        if feedback.isCanceled():
            return {}
        feedback.setProgress(80)

        rows = {int(i): row for row, i in enumerate(table[SITE_INDEX_FIELD])}
        columns = {name: table[name].to_numpy() for name in DISTANCE_FIELDS}
        extra = QgsFields()
        for name in DISTANCE_FIELDS:
            extra.append(QgsField(name, QVariant.Double))
        fields = QgsProcessingUtils.combineFields(source.fields(), extra)
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields,
                                             source.wkbType(), source.sourceCrs())
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        missing = 0
        for index, feature in enumerate(source.getFeatures()):
            if feedback.isCanceled():
                break
            row = rows.get(index)
            missing += row is None
            values = [None if row is None else float(columns[n][row]) for n in DISTANCE_FIELDS]
            out = QgsFeature(fields)
            out.setGeometry(feature.geometry())
            out.setAttributes(feature.attributes() + values)
            sink.addFeature(out, QgsFeatureSink.Flag.FastInsert)
        if missing:
            feedback.pushWarning(tr("{n} sites have no geometry or lie beyond the engine's range; "
                                    "their distances are left empty.").format(n=missing))
        return {self.OUTPUT: dest_id}


def _progress(feedback: QgsProcessingFeedback):
    """The engine's ``progress(fraction, stage)`` callback shown on the feedback."""
    def report(fraction: float, stage: str) -> None:
        feedback.setProgress(100.0 * max(0.0, min(1.0, fraction)))
        if stage:
            feedback.setProgressText(stage)
    return report


def _crs_string(crs: QgsCoordinateReferenceSystem) -> str:
    """What the engine's pyproj understands: the authority id, else the WKT."""
    if not crs.isValid():
        raise QgsProcessingException(tr("The layer has no valid coordinate reference system."))
    return crs_string(crs)


def _plain_ogr_file(alg: QgsProcessingAlgorithm, parameters: dict[str, Any], name: str,
                    context: QgsProcessingContext) -> tuple[str, str | None] | None:
    """(path, layer name) when the parameter is a whole, unfiltered OGR file layer."""
    value = parameters.get(name)
    if hasattr(value, "selectedFeaturesOnly") and (
            value.selectedFeaturesOnly or value.featureLimit != -1):
        return None
    layer = alg.parameterAsVectorLayer(parameters, name, context)
    if layer is None or layer.providerType() != "ogr" or layer.subsetString():
        return None
    parts = QgsProviderRegistry.instance().decodeUri("ogr", layer.source())
    path = parts.get("path") or ""
    if not Path(path).is_file() or parts.get("layerId") is not None:
        return None
    return path, parts.get("layerName") or None


def _write_sites(source: QgsProcessingFeatureSource, context: QgsProcessingContext,
                 feedback: QgsProcessingFeedback, index_field: bool = False) -> str:
    """Copy the site source to a GeoPackage in the Processing temporary folder.

    With ``index_field`` each feature carries its position in the source's
    iteration order, so that engine rows (which skip empty geometries) map back.
    """
    path = str(Path(QgsProcessingUtils.tempFolder()) / f"groundshake_sites_{uuid.uuid4().hex}.gpkg")
    fields = QgsFields(source.fields())
    if index_field:
        fields.append(QgsField(SITE_INDEX_FIELD, QVariant.LongLong))
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = "sites"
    geometry_type = QgsWkbTypes.flatType(source.wkbType())
    writer = QgsVectorFileWriter.create(path, fields, geometry_type, source.sourceCrs(),
                                        context.transformContext(), options)
    if writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
        raise QgsProcessingException(tr("Cannot write the sites to {path}: {error}").format(
            path=path, error=writer.errorMessage()))
    total = source.featureCount()
    for index, feature in enumerate(source.getFeatures()):
        if feedback.isCanceled():
            break
        out = QgsFeature(fields)
        geom = QgsGeometry(feature.geometry())
        if not geom.isNull():
            geom.get().dropZValue()
            geom.get().dropMValue()
            out.setGeometry(geom)
        out.setAttributes(feature.attributes() + ([index] if index_field else []))
        writer.addFeature(out)
        if total > 0 and index % 1000 == 0:
            feedback.setProgress(5.0 * index / total)
    del writer  # flushes and closes the GeoPackage
    return path


def _load_on_completion(context: QgsProcessingContext, path: str, name: str,
                        output_name: str) -> None:
    """Ask Processing to add an output to the project when the algorithm finishes."""
    details = QgsProcessingContext.LayerDetails(name, context.project(), output_name)
    context.addLayerToLoadOnCompletion(path, details)
