"""GroundShake QGIS plugin: earthquake shaking scenarios from a drawn fault trace."""


def classFactory(iface):
    """Entry point QGIS calls; the import stays inside so loading the package costs nothing."""
    from .plugin.main import GroundShakePlugin

    return GroundShakePlugin(iface)
