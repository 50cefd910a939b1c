"""The plugin loads into QGIS and unload() removes every trace of it."""
from __future__ import annotations

from qgis.core import QgsApplication
from qgis.PyQt.QtWidgets import QToolBar


def test_metadata_declares_what_qgis_needs():
    import configparser
    from pathlib import Path

    meta = configparser.ConfigParser()
    meta.read(Path(__file__).resolve().parents[2] / "metadata.txt", encoding="utf-8")
    general = meta["general"]
    assert general["name"] == "GroundShake"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["hasProcessingProvider"] == "yes"
    assert general["license"] == "GPL-2.0-or-later"
    assert "supportsQt6" not in general
    for key in ("about", "description", "tracker", "repository", "tags", "version", "icon"):
        assert general.get(key), key
    assert (Path(__file__).resolve().parents[2] / general["icon"]).is_file()


def test_load_and_unload(qgis_iface, qgis_new_project):
    from groundshake import classFactory

    plugin = classFactory(qgis_iface)
    plugin.initGui()
    try:
        _check_loaded(plugin, qgis_iface)
    finally:
        plugin.unload()
    _check_unloaded(plugin, qgis_iface)


def _check_loaded(plugin, qgis_iface):
    registry = QgsApplication.processingRegistry()
    toolbar = plugin.toolbar
    assert isinstance(toolbar, QToolBar)
    assert [a.text() for a in toolbar.actions()] == [
        a.text() for a in (plugin.dock_action, plugin.draw_action, plugin.identify_action)]
    if plugin.provider is not None:
        assert registry.providerById("groundshake") is plugin.provider

    plugin.dock_action.trigger()
    dock = plugin.dock
    assert dock is not None and not dock.isHidden()
    plugin.draw_action.trigger()
    assert qgis_iface.mapCanvas().mapTool() is plugin.trace_tool
    assert dock.draw_button.isChecked()
    plugin._scene_items = len(qgis_iface.mapCanvas().scene().items())


def _check_unloaded(plugin, qgis_iface):
    registry = QgsApplication.processingRegistry()
    assert registry.providerById("groundshake") is None
    assert qgis_iface.mapCanvas().mapTool() is None
    assert plugin.toolbar is None and plugin.dock is None and not plugin.actions
    assert len(qgis_iface.mapCanvas().scene().items()) < plugin._scene_items
    from qgis.core import QgsProject

    QgsProject.instance().clear()  # must not reach the unloaded plugin's slots
    # menu entries are removed once per action
    calls = qgis_iface.removePluginMenu.call_args_list
    assert len([c for c in calls if c.args[0] == plugin.menu_name]) >= 3


def test_provider_registered(plugin):
    """The Processing provider is there while the plugin is loaded."""
    import importlib.util

    if importlib.util.find_spec("groundshake.plugin.processing.provider") is None:
        import pytest

        pytest.skip("plugin/processing/provider.py not written yet")
    assert plugin.provider is not None
    assert QgsApplication.processingRegistry().providerById("groundshake") is plugin.provider


def test_processing_only_load_without_iface():
    """qgis_process loads the plugin with iface None and calls initProcessing() only."""
    from groundshake import classFactory

    plugin = classFactory(None)
    plugin.initProcessing()
    registry = QgsApplication.processingRegistry()
    if plugin.provider is not None:
        assert registry.providerById("groundshake") is plugin.provider
    plugin.unload()
    assert registry.providerById("groundshake") is None
