"""Map tools driven by simulated canvas events."""
from __future__ import annotations

import pytest
from qgis.core import QgsCoordinateReferenceSystem, QgsPointXY, QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QKeyEvent


@pytest.fixture()
def canvas(qgis_canvas):
    qgis_canvas.resize(400, 400)
    qgis_canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:4326"))
    qgis_canvas.setExtent(QgsRectangle(-123.0, 37.0, -121.0, 39.0))
    qgis_canvas.refresh()
    return qgis_canvas


def click(tool, canvas, x, y, button=Qt.MouseButton.LeftButton):
    tool.canvasMoveEvent(QgsMapMouseEvent(canvas, QEvent.Type.MouseMove, QPoint(x, y),
                                          Qt.MouseButton.NoButton))
    tool.canvasReleaseEvent(QgsMapMouseEvent(canvas, QEvent.Type.MouseButtonRelease,
                                             QPoint(x, y), button))


def key(tool, k):
    event = QKeyEvent(QEvent.Type.KeyPress, k, Qt.KeyboardModifier.NoModifier)
    tool.keyPressEvent(event)
    return event


def test_trace_from_clicks_backspace_and_right_click(canvas):
    from groundshake.plugin.map_tools import FaultTraceTool

    tool = FaultTraceTool(canvas)
    canvas.setMapTool(tool)
    finished = []
    tool.trace_finished.connect(lambda pts, crs: finished.append((pts, crs.authid())))
    click(tool, canvas, 100, 100)
    click(tool, canvas, 200, 150)
    click(tool, canvas, 250, 300)
    assert len(tool.points) == 3
    event = key(tool, Qt.Key.Key_Backspace)
    assert event.isAccepted()
    assert len(tool.points) == 2
    click(tool, canvas, 300, 300, Qt.MouseButton.RightButton)
    assert len(finished) == 1
    points, authid = finished[0]
    assert authid == "EPSG:4326"
    expected = [canvas.getCoordinateTransform().toMapCoordinates(QPoint(x, y))
                for x, y in ((100, 100), (200, 150))]
    for got, want in zip(points, expected):
        assert got.x() == pytest.approx(want.x()) and got.y() == pytest.approx(want.y())
    # 100 px to the right is 100 pixels' worth of map units east
    upp = canvas.mapSettings().mapUnitsPerPixel()
    assert points[1].x() - points[0].x() == pytest.approx(100 * upp, rel=1e-6)
    assert points[0].y() - points[1].y() == pytest.approx(50 * upp, rel=1e-6)
    assert tool.points == []  # ready for the next trace
    canvas.unsetMapTool(tool)
    tool.clean_up()


def test_right_click_needs_two_vertices_and_escape_cancels(canvas):
    from groundshake.plugin.map_tools import FaultTraceTool

    tool = FaultTraceTool(canvas)
    finished, cancelled = [], []
    tool.trace_finished.connect(lambda *a: finished.append(a))
    tool.trace_cancelled.connect(lambda: cancelled.append(True))
    click(tool, canvas, 100, 100)
    click(tool, canvas, 100, 100)  # a double click adds no zero-length segment
    assert len(tool.points) == 1
    click(tool, canvas, 120, 120, Qt.MouseButton.RightButton)
    assert not finished and len(tool.points) == 1
    click(tool, canvas, 200, 200)
    key(tool, Qt.Key.Key_Escape)
    assert cancelled == [True] and tool.points == [] and not finished
    other = key(tool, Qt.Key.Key_A)
    assert not other.isAccepted()  # other keys stay with QGIS
    tool.clean_up()


def test_plugin_draw_tool_fills_dock_and_arrow(plugin, canvas):
    plugin.draw_action.trigger()
    tool = plugin.trace_tool
    assert canvas.mapTool() is tool
    click(tool, canvas, 100, 200)
    click(tool, canvas, 300, 200)
    click(tool, canvas, 300, 200, Qt.MouseButton.RightButton)
    dock = plugin.dock
    assert len(dock.trace) == 2
    assert dock.trace_crs.authid() == "EPSG:4326"
    assert not plugin.draw_action.isChecked() and canvas.mapTool() is None
    assert "2" in dock.trace_label.text()
    # vertical fault: no arrow; dipping fault: right-hand rule points south for an eastward trace
    assert plugin.dip_arrow.azimuth_deg is None
    dock.dip_spin.setValue(45)
    # (the geodesic from west to east leaves a northern parallel slightly north of east)
    assert 170.0 < plugin.dip_arrow.azimuth_deg < 180.0
    dock.rhr_check.setChecked(False)
    dock.dipdir_spin.setValue(10)
    assert plugin.dip_arrow.azimuth_deg == pytest.approx(10.0)
    assert plugin.dip_arrow.band.numberOfVertices() == 5


def test_site_tool_reports_run_folder_and_index(plugin, canvas, tmp_path, qgis_new_project):
    from groundshake.plugin.map_tools import RUN_DIR_PROPERTY
    from qgis.core import QgsFeature, QgsField, QgsGeometry, QgsVectorLayer
    from qgis.PyQt.QtCore import QVariant

    layer = QgsVectorLayer("Point?crs=EPSG:4326", "sites", "memory")
    layer.dataProvider().addAttributes([QgsField("site_index", QVariant.Int)])
    layer.updateFields()
    for i, (x, y) in enumerate(((-122.5, 38.5), (-121.5, 37.5))):
        f = QgsFeature(layer.fields())
        f.setAttributes([i + 7])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        layer.dataProvider().addFeature(f)
    layer.setCustomProperty(RUN_DIR_PROPERTY, str(tmp_path))
    qgis_new_project.addMapLayer(layer)
    canvas.setLayers([layer])
    canvas.setExtent(QgsRectangle(-123.0, 37.0, -121.0, 39.0))
    hits = []
    plugin.site_tool.site_identified.connect(lambda d, i: hits.append((d, i)))
    pos = canvas.getCoordinateTransform().transform(QgsPointXY(-121.5, 37.5))
    click(plugin.site_tool, canvas, round(pos.x()), round(pos.y()))
    assert hits == [(str(tmp_path), 8)]
    click(plugin.site_tool, canvas, 5, 395)  # empty map: nothing
    assert len(hits) == 1
