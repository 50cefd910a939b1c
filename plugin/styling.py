"""Result layers: one layer group per run, styled so a map reads without a manual.

Only presentation lives here (colour ramps, legend units, layer order); the
numbers come from the files the engine wrote.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsColorRampLegendNodeSettings,
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFields,
    QgsGeometry,
    QgsGradientColorRamp,
    QgsLayerTreeGroup,
    QgsLayerTreeLayer,
    QgsMapLayerLegendUtils,
    QgsMarkerSymbol,
    QgsPalettedRasterRenderer,
    QgsPointXY,
    QgsProject,
    QgsRasterBandStats,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRuleBasedRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsStyle,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtGui import QColor

from .i18n import tr
from .map_tools import RUN_DIR_PROPERTY

STATS = ("median", "p16", "p84")
#: per-site flag and grid mask the runner writes (gm_engine/runner.py)
OUTSIDE_FIELD = "outside_range"
MASK_FILE = "outside_range.tif"
#: Grid cells whose durations the cgm records cut (written when a run asks for them).
WINDOW_FILE = "window_limited.tif"
RUPTURE_FILE = "rupture.gpkg"

# USGS ShakeMap intensity colours (ShakeMap 4 manual, "Intensity colour
# scale"; Worden et al. 2012 legend), MMI I to X.
MMI_COLOURS = (
    (1, "#ffffff", "I"), (2, "#bfccff", "II"), (3, "#a0e6ff", "III"), (4, "#80ffff", "IV"),
    (5, "#7aff93", "V"), (6, "#ffff00", "VI"), (7, "#ffc800", "VII"), (8, "#ff9100", "VIII"),
    (9, "#ff0000", "IX"), (10, "#c80000", "X+"),
)


def im_unit(im: str) -> str:
    """Unit an intensity measure is written in (docs/CONTRACTS.md conventions)."""
    base = im.split("(")[0].upper()
    if base in ("PGA", "SA"):
        return "g"
    if base in ("PGV", "PSV"):
        return "cm/s"
    if base == "PGD":
        return "cm"
    if base == "IA":
        return "m/s"
    if base == "CAV":
        return "g·s"
    if base.startswith("D5"):
        return "s"
    return ""


def im_label(im: str, stat: str) -> str:
    """Layer name such as ``PGA median [g]``."""
    names = {"median": tr("median"), "p16": tr("16th percentile"), "p84": tr("84th percentile")}
    unit = im_unit(im)
    return f"{im} {names.get(stat, stat)}" + (f" [{unit}]" if unit else "")


def im_legend_title(im: str) -> str:
    """Title over a raster's colour ramp, e.g. ``PGA (g)``."""
    if im.upper() == "MMI":
        return tr("MMI (Worden et al. 2012)")
    unit = im_unit(im)
    return f"{im} ({unit})" if unit else im


def label_band_legend(node: QgsLayerTreeLayer, title: str) -> None:
    """Replace the band-name legend entry (GDAL's "Band 1: ... (Gray)") by ``title``."""
    QgsMapLayerLegendUtils.setLegendNodeUserLabel(node, 0, title)


def _ramp() -> QgsGradientColorRamp:
    """Yellow to dark red: light for weak shaking, dark for strong."""
    ramp = QgsStyle.defaultStyle().colorRamp("YlOrRd")
    if ramp is None:
        ramp = QgsGradientColorRamp(QColor("#ffffb2"), QColor("#bd0026"))
    return ramp


def style_continuous(layer: QgsRasterLayer, unit: str) -> tuple[float, float]:
    """Continuous colour ramp between the band's min and max, with the unit in the legend."""
    provider = layer.dataProvider()
    stats = provider.bandStatistics(
        1, QgsRasterBandStats.Stats.Min | QgsRasterBandStats.Stats.Max, layer.extent(),
        250_000)  # a sample bounds the cost on the GUI thread for large grids
    lo, hi = float(stats.minimumValue), float(stats.maximumValue)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi <= lo:
        hi = lo + (abs(lo) * 0.01 or 1.0)
    shader_fn = QgsColorRampShader(lo, hi, _ramp(), QgsColorRampShader.Type.Interpolated)
    shader_fn.classifyColorRamp(5, 1, layer.extent(), provider)
    legend = QgsColorRampLegendNodeSettings()
    legend.setUseContinuousLegend(True)
    if unit:
        legend.setSuffix(f" {unit}")
    shader_fn.setLegendSettings(legend)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(shader_fn)
    renderer = QgsSingleBandPseudoColorRenderer(provider, 1, shader)
    renderer.setClassificationMin(lo)
    renderer.setClassificationMax(hi)
    layer.setRenderer(renderer)
    layer.renderer().setOpacity(0.8)
    return lo, hi


def style_mmi(layer: QgsRasterLayer) -> None:
    """The conventional ShakeMap intensity colours, interpolated between integer MMI."""
    items = [QgsColorRampShader.ColorRampItem(float(v), QColor(c), label)
             for v, c, label in MMI_COLOURS]
    fn = QgsColorRampShader(1.0, 10.0)
    fn.setColorRampType(QgsColorRampShader.Type.Interpolated)
    fn.setColorRampItemList(items)
    fn.setClip(False)
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(fn)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(1.0)
    renderer.setClassificationMax(10.0)
    layer.setRenderer(renderer)
    layer.renderer().setOpacity(0.8)


def style_mask(layer: QgsRasterLayer, color: QColor | None = None,
               label: str | None = None) -> None:
    """Cells flagged 1 as a veil (grey: outside the trained ranges); 0 stays transparent."""
    classes = [QgsPalettedRasterRenderer.Class(
        1.0, color or QColor(90, 90, 90, 150), label or tr("outside the model's trained range"))]
    layer.setRenderer(QgsPalettedRasterRenderer(layer.dataProvider(), 1, classes))


def style_sites(layer: QgsVectorLayer) -> None:
    """Triangles; sites outside the model's trained range drawn hollow and grey."""
    inside = QgsMarkerSymbol.createSimple(
        {"name": "triangle", "color": "#2980b9", "outline_color": "#1b4f72", "size": "3"})
    if layer.fields().indexOf(OUTSIDE_FIELD) < 0:
        layer.renderer().setSymbol(inside)
        return
    outside = QgsMarkerSymbol.createSimple(
        {"name": "triangle", "color": "0,0,0,0", "outline_color": "#7f7f7f", "size": "3"})
    root = QgsRuleBasedRenderer.Rule(None)
    for symbol, expr, label in (
        (inside, f'NOT coalesce("{OUTSIDE_FIELD}", 0)', tr("within the model's trained range")),
        (outside, f'coalesce("{OUTSIDE_FIELD}", 0)', tr("outside the model's trained range")),
    ):
        root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, expr, label))
    layer.setRenderer(QgsRuleBasedRenderer(root))


def write_trace(points: list[list[float]], crs: str, path: Path) -> QgsVectorLayer | None:
    """Write the fault trace to a GeoPackage so the result group survives a project reload."""
    fields = QgsFields()
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    options.layerName = "fault_trace"
    writer = QgsVectorFileWriter.create(
        str(path), fields, QgsWkbTypes.Type.LineString, QgsCoordinateReferenceSystem(crs),
        QgsProject.instance().transformContext(), options)
    if writer.hasError() != QgsVectorFileWriter.WriterError.NoError:
        return None
    feature = QgsFeature(fields)
    feature.setGeometry(QgsGeometry.fromPolylineXY([QgsPointXY(x, y) for x, y, *_ in points]))
    writer.addFeature(feature)
    del writer  # closes the file
    layer = QgsVectorLayer(f"{path}|layername=fault_trace", tr("Fault trace"), "ogr")
    return layer if layer.isValid() else None


def _vector_sublayers(path: Path) -> Iterable[QgsVectorLayer]:
    """Every layer of a GeoPackage/GeoJSON the engine wrote (e.g. trace, surface projection)."""
    probe = QgsVectorLayer(str(path), path.stem, "ogr")
    if not probe.isValid():
        return []
    titles = {"trace": tr("Fault trace"),
              "surface_projection": tr("Rupture surface projection")}
    names = [s.split("!!::!!")[1] for s in probe.dataProvider().subLayers()]
    if len(names) <= 1:
        return [probe]
    layers = [QgsVectorLayer(f"{path}|layername={n}", titles.get(n, n.replace("_", " ")), "ogr")
              for n in names]
    return [lyr for lyr in layers if lyr.isValid()]


def _trace_style(layer: QgsVectorLayer) -> None:
    if layer.geometryType() == QgsWkbTypes.GeometryType.LineGeometry:
        layer.renderer().symbol().setColor(QColor(192, 57, 43))
        layer.renderer().symbol().setWidth(0.8)
    elif layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry:
        sym = layer.renderer().symbol()
        sym.setColor(QColor(192, 57, 43, 50))
        sym.symbolLayer(0).setStrokeColor(QColor(192, 57, 43))


def add_results(result: Any, scenario: dict, project: QgsProject | None = None,
                group_name: str | None = None) -> QgsLayerTreeGroup:
    """Load a finished run as one layer group at the top of the layer tree.

    ``result`` is the engine's RunResult (``out_dir``, ``sites_gpkg``,
    ``rasters`` keyed by (IM, statistic)). Only the first IM's median is
    switched on, so the map opens readable; the rest is one click away.
    """
    project = project or QgsProject.instance()
    out_dir = Path(result.out_dir)
    name = group_name or scenario.get("name") or out_dir.name
    group = project.layerTreeRoot().insertGroup(0, name)
    group.setCustomProperty(RUN_DIR_PROPERTY, str(out_dir))

    def add(layer: Any, visible: bool = True) -> QgsLayerTreeLayer:
        project.addMapLayer(layer, False)
        node = group.addLayer(layer)
        node.setItemVisibilityChecked(visible)
        node.setExpanded(False)
        return node

    sites_path = getattr(result, "sites_gpkg", None)
    if sites_path and Path(sites_path).is_file():
        sites = QgsVectorLayer(str(sites_path), tr("Sites"), "ogr")
        if sites.isValid():
            sites.setCustomProperty(RUN_DIR_PROPERTY, str(out_dir))
            style_sites(sites)
            add(sites)

    rupture_file = Path(getattr(result, "rupture_gpkg", None) or out_dir / RUPTURE_FILE)
    if rupture_file.is_file():
        for layer in _vector_sublayers(rupture_file):
            _trace_style(layer)
            add(layer)
    else:
        rup = scenario.get("rupture") or {}
        layer = write_trace(rup.get("trace") or [], rup.get("crs", "EPSG:4326"),
                            out_dir / "fault_trace.gpkg")
        if layer is not None:
            _trace_style(layer)
            add(layer)

    mask = getattr(result, "mask_raster", None) or (out_dir / MASK_FILE)
    if mask and Path(mask).is_file():
        layer = QgsRasterLayer(str(mask), tr("Outside the model's trained range"), "gdal")
        if layer.isValid():
            style_mask(layer)
            add(layer)

    window = out_dir / WINDOW_FILE
    if window.is_file():  # off at first: it concerns the duration maps only
        layer = QgsRasterLayer(str(window), tr("Durations cut by the model's records"), "gdal")
        if layer.isValid():
            style_mask(layer, QColor(211, 84, 0, 120),
                       tr("shaking outlasts the records: D5-95, IA, CAV too low"))
            add(layer, visible=False)

    rasters: dict = dict(getattr(result, "rasters", {}) or {})
    ims = list(dict.fromkeys(im for im, _ in rasters))
    ims.sort(key=lambda im: im != "MMI")  # MMI first: the map most readers want
    first = True
    for im in ims:
        for stat in STATS:
            path = rasters.get((im, stat))
            if not path or not Path(path).is_file():
                continue
            layer = QgsRasterLayer(str(path), im_label(im, stat), "gdal")
            if not layer.isValid():
                continue
            if im == "MMI":
                style_mmi(layer)
            else:
                style_continuous(layer, im_unit(im))
            node = add(layer, visible=first and stat == "median")
            label_band_legend(node, im_legend_title(im))
            if stat == "median":
                first = False
    return group
