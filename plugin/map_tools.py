"""Map tools: draw a fault trace, pick a result site, and the dip-direction arrow.

They only collect clicks and draw temporary graphics; what the clicks mean
(building a rupture, regenerating waveforms) happens in the dock and engine.
"""
from __future__ import annotations

import math

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsDistanceArea,
    QgsGeometry,
    QgsPointLocator,
    QgsPointXY,
    QgsProject,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import (
    QgsMapCanvas,
    QgsMapMouseEvent,
    QgsMapTool,
    QgsMapToolIdentify,
    QgsRubberBand,
    QgsSnapIndicator,
)
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QCursor, QKeyEvent

#: custom property set on result site layers: the run folder the viewer needs
RUN_DIR_PROPERTY = "groundshake/run_dir"
#: attribute holding the engine's site index (else the feature id minus one)
SITE_INDEX_FIELD = "site_index"

TRACE_COLOUR = QColor(192, 57, 43)


class FaultTraceTool(QgsMapTool):
    """Click vertices of a fault trace with snapping.

    Left click adds a vertex, Backspace/Delete removes the last one, right
    click finishes (two vertices at least) and Esc cancels. Points are in the
    canvas CRS, which ``trace_finished`` hands over together with the points.
    """

    trace_finished = pyqtSignal(list, QgsCoordinateReferenceSystem)
    trace_cancelled = pyqtSignal()
    vertices_changed = pyqtSignal(int)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.points: list[QgsPointXY] = []
        self._band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.LineGeometry)
        self._band.setColor(TRACE_COLOUR)
        self._band.setWidth(2)
        self._vertices = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.PointGeometry)
        self._vertices.setColor(TRACE_COLOUR)
        self._vertices.setIconSize(7)
        self._vertices.setIcon(QgsRubberBand.IconType.ICON_BOX)
        self._snap = QgsSnapIndicator(canvas)
        self.setCursor(QCursor(Qt.CursorShape.CrossCursor))

    # -- geometry -----------------------------------------------------------
    def _map_point(self, event: QgsMapMouseEvent) -> QgsPointXY:
        """The clicked point, snapped to the project's snapping settings when they match."""
        match = self.canvas().snappingUtils().snapToMap(event.pos())
        self._snap.setMatch(match)
        if match.isValid():
            return QgsPointXY(match.point())
        return QgsPointXY(self.toMapCoordinates(event.pos()))

    def _redraw(self, floating: QgsPointXY | None = None) -> None:
        pts = list(self.points) + ([floating] if floating is not None else [])
        self._band.reset(QgsWkbTypes.GeometryType.LineGeometry)
        self._vertices.reset(QgsWkbTypes.GeometryType.PointGeometry)
        for i, p in enumerate(pts):
            self._band.addPoint(p, i == len(pts) - 1)
        for i, p in enumerate(self.points):
            self._vertices.addPoint(p, i == len(self.points) - 1)

    def reset(self) -> None:
        """Forget the vertices and clear the temporary graphics."""
        self.points = []
        self._band.reset(QgsWkbTypes.GeometryType.LineGeometry)
        self._vertices.reset(QgsWkbTypes.GeometryType.PointGeometry)
        self._snap.setMatch(QgsPointLocator.Match())
        self.vertices_changed.emit(0)

    # -- events -------------------------------------------------------------
    def canvasMoveEvent(self, event: QgsMapMouseEvent) -> None:
        point = self._map_point(event)
        if self.points:
            self._redraw(point)

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self.finish()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._map_point(event)
        if self.points and point == self.points[-1]:
            return  # a double click must not add a zero-length segment
        self.points.append(point)
        self._redraw()
        self.vertices_changed.emit(len(self.points))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Backspace, Qt.Key.Key_Delete):
            if self.points:
                self.points.pop()
                self._redraw()
                self.vertices_changed.emit(len(self.points))
            event.accept()  # QGIS would otherwise delete selected features
        elif key == Qt.Key.Key_Escape:
            self.reset()
            self.trace_cancelled.emit()
            event.accept()
        else:
            event.ignore()

    def finish(self) -> None:
        """End the trace; with fewer than two vertices nothing is emitted."""
        if len(self.points) < 2:
            return
        points = list(self.points)
        crs = self.canvas().mapSettings().destinationCrs()
        self.reset()
        self.trace_finished.emit(points, crs)

    def deactivate(self) -> None:
        self.reset()
        super().deactivate()

    def clean_up(self) -> None:
        """Remove the rubber bands from the canvas (called when the plugin unloads)."""
        for band in (self._band, self._vertices):
            self.canvas().scene().removeItem(band)
        self._snap.setMatch(QgsPointLocator.Match())


class SiteIdentifyTool(QgsMapToolIdentify):
    """Click a site of a GroundShake result layer to open its waveforms."""

    site_identified = pyqtSignal(str, int)

    def __init__(self, canvas: QgsMapCanvas) -> None:
        super().__init__(canvas)
        self.setCursor(QCursor(Qt.CursorShape.WhatsThisCursor))

    @staticmethod
    def result_layers(canvas: QgsMapCanvas) -> list[QgsVectorLayer]:
        """Visible canvas layers that a GroundShake run wrote (they carry the run folder)."""
        return [
            lyr for lyr in canvas.layers()
            if isinstance(lyr, QgsVectorLayer) and lyr.customProperty(RUN_DIR_PROPERTY)
        ]

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        layers = self.result_layers(self.canvas())
        if not layers:
            return
        results = self.identify(event.x(), event.y(), layers,
                                QgsMapToolIdentify.IdentifyMode.TopDownStopAtFirst)
        for res in results:
            layer = res.mLayer
            feature = res.mFeature
            idx = feature.fieldNameIndex(SITE_INDEX_FIELD)
            site = int(feature.attribute(idx)) if idx >= 0 else int(feature.id()) - 1
            self.site_identified.emit(str(layer.customProperty(RUN_DIR_PROPERTY)), site)
            return


class DipArrow:
    """An arrow from the trace's midpoint towards the dip direction.

    The right-hand rule (dip to the right of the strike, i.e. strike + 90)
    is used when no dip direction is given; a vertical fault shows no arrow.
    """

    def __init__(self, canvas: QgsMapCanvas) -> None:
        self.canvas = canvas
        self.band = QgsRubberBand(canvas, QgsWkbTypes.GeometryType.LineGeometry)
        self.band.setColor(QColor(41, 128, 185))
        self.band.setWidth(3)
        self.azimuth_deg: float | None = None

    def clear(self) -> None:
        self.band.reset(QgsWkbTypes.GeometryType.LineGeometry)
        self.azimuth_deg = None

    def update(self, trace: list[QgsPointXY], crs: QgsCoordinateReferenceSystem,
               dip: float, dip_direction: float | None) -> None:
        """Redraw for a trace (in ``crs``); the arrow is a quarter of the trace long."""
        self.clear()
        if len(trace) < 2 or dip >= 90.0:
            return
        # geographic traces are measured on the ellipsoid (metres), projected ones
        # in their plane (map units), so the arrow can be laid out the same way
        da = QgsDistanceArea()
        da.setSourceCrs(crs, QgsProject.instance().transformContext())
        da.setEllipsoid((crs.ellipsoidAcronym() or "EPSG:7030") if crs.isGeographic() else "NONE")
        geom = QgsGeometry.fromPolylineXY(trace)
        if dip_direction is None:
            strike = math.degrees(da.bearing(trace[0], trace[-1]))
            azimuth = (strike + 90.0) % 360.0
        else:
            azimuth = dip_direction % 360.0
        length = da.measureLength(geom)
        if not (length > 0):
            return
        start = geom.interpolate(geom.length() / 2.0).asPoint()
        size = 0.25 * length
        tip = self._project(da, crs, QgsPointXY(start), size, azimuth)
        left = self._project(da, crs, tip, 0.3 * size, azimuth + 150.0)
        right = self._project(da, crs, tip, 0.3 * size, azimuth - 150.0)
        dest = self.canvas.mapSettings().destinationCrs()
        xform = QgsCoordinateTransform(crs, dest, QgsProject.instance())
        pts = [xform.transform(p) for p in (QgsPointXY(start), tip, left, tip, right)]
        self.band.setToGeometry(QgsGeometry.fromPolylineXY(pts), None)
        self.azimuth_deg = azimuth

    @staticmethod
    def _project(da: QgsDistanceArea, crs: QgsCoordinateReferenceSystem, point: QgsPointXY,
                 distance: float, azimuth_deg: float) -> QgsPointXY:
        """Move ``distance`` (in ``da``'s length units) from ``point`` along an azimuth."""
        if crs.isGeographic():
            return da.computeSpheroidProject(point, distance, math.radians(azimuth_deg))
        a = math.radians(azimuth_deg)
        return QgsPointXY(point.x() + distance * math.sin(a), point.y() + distance * math.cos(a))

    def clean_up(self) -> None:
        self.canvas.scene().removeItem(self.band)
