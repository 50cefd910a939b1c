"""Moving scenarios between QGIS and files: site layers to GeoPackage, JSON import/export.

Runs on the GUI thread before a task starts (QGIS layers are not thread-safe),
so the task only ever sees plain paths.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureRequest,
    QgsProject,
    QgsRasterLayer,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)

from ..gm_engine.errors import InputError
from .i18n import tr


def crs_string(crs: QgsCoordinateReferenceSystem) -> str:
    """The CRS as the engine's pyproj reads it: the authority id, else WKT2."""
    authid = crs.authid()
    if authid and not authid.upper().startswith("USER:"):  # USER:n ids are QGIS-local
        return authid
    return crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT2_2019)

SITES_LAYER_NAME = "sites"
#: the engine a new scenario starts with, and the one used when its model is missing
PREFERRED_ENGINE, FALLBACK_ENGINE = "cgm", "stochastic"


def cgm_unavailable_reason() -> str | None:
    """Why the cgm engine cannot run its bundled model in this QGIS, or None when it can.

    Cheap (a file and a module are looked up, nothing is imported), so the
    dock and Processing can ask when they build their widgets.
    """
    from ..gm_engine import engines

    card = engines.bundled_model_card()
    if not card.is_file():
        return tr("The CGM model is not installed (no {path}): reinstall or update the "
                  "plugin to use this engine.").format(path=card)
    if importlib.util.find_spec("torch") is None:
        return tr("PyTorch is not installed: the CGM engine is unavailable; "
                  "install it with pip install torch")
    return None


def default_engine() -> str:
    """``cgm`` when its bundled model can run here, else ``stochastic``."""
    return FALLBACK_ENGINE if cgm_unavailable_reason() else PREFERRED_ENGINE


def write_sites(layer: QgsVectorLayer, path: str | Path,
                layer_name: str = SITES_LAYER_NAME) -> tuple[str, str]:
    """Copy a site layer to a new GeoPackage as points (polygons become centroids).

    Returns (path, layer name) for ``sites`` in the scenario. Refuses to
    replace an existing file: the caller picks a new name or asks the user.
    """
    out = Path(path)
    if out.exists():
        raise InputError("sites", tr("{path} already exists").format(path=out))
    out.parent.mkdir(parents=True, exist_ok=True)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = layer_name
    writer = QgsVectorFileWriter.create(
        str(out), layer.fields(), QgsWkbTypes.Type.Point, layer.crs(),
        QgsProject.instance().transformContext(), options)
    if writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
        raise InputError("sites", tr("cannot write {path}: {err}").format(
            path=out, err=writer.errorMessage()))
    written = 0
    request = QgsFeatureRequest()
    for feature in layer.getFeatures(request):
        geom = feature.geometry()
        if geom is None or geom.isEmpty():
            continue
        if geom.type() != QgsWkbTypes.GeometryType.PointGeometry or geom.isMultipart():
            geom = geom.centroid()
        out_feature = QgsFeature(layer.fields())
        out_feature.setAttributes(feature.attributes())
        out_feature.setGeometry(geom)
        if writer.addFeature(out_feature):
            written += 1
    del writer  # flushes and closes the GeoPackage
    if written == 0:
        out.unlink(missing_ok=True)
        raise InputError("sites", tr("the layer '{name}' has no features with a geometry").format(
            name=layer.name()))
    return str(out), layer_name


def read_scenario_file(path: str | Path) -> dict[str, Any]:
    """The JSON document of a scenario file, checked by the engine's validator."""
    from ..gm_engine.scenario import load_scenario

    scenario = load_scenario(path)  # raises InputError with the offending field
    return scenario.to_dict()


def resolve(path: str, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else base_dir / p


def load_sites_layer(sites: dict[str, Any], base_dir: Path) -> QgsVectorLayer | None:
    """Open the sites of an imported scenario as a QGIS layer (CSV through delimitedtext)."""
    path = resolve(sites["path"], base_dir)
    # "sites.csv" -> "sites", not "sites sites"
    name = path.stem if "site" in path.stem.lower() else tr("{stem} sites").format(stem=path.stem)
    if path.suffix.lower() in (".csv", ".txt"):
        uri = (f"{path.as_uri()}?delimiter=,&xField={sites.get('x')}&yField={sites.get('y')}"
               f"&crs={sites.get('crs') or 'EPSG:4326'}&detectTypes=yes")
        layer = QgsVectorLayer(uri, name, "delimitedtext")
    else:
        source = str(path) + (f"|layername={sites['layer']}" if sites.get("layer") else "")
        layer = QgsVectorLayer(source, name, "ogr")
    return layer if layer.isValid() else None


def load_raster(path: str, base_dir: Path, name: str) -> QgsRasterLayer | None:
    layer = QgsRasterLayer(str(resolve(path, base_dir)), name, "gdal")
    return layer if layer.isValid() else None


def write_scenario_file(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the JSON via a temporary file so a failure never leaves half a file."""
    out = Path(path)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out
