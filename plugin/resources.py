"""Paths to the plugin's bundled files (plain SVG icons, no compiled Qt resources)."""
from __future__ import annotations

from pathlib import Path

from qgis.PyQt.QtGui import QIcon

PLUGIN_DIR = Path(__file__).resolve().parent.parent
RESOURCES_DIR = PLUGIN_DIR / "resources"


def resource_path(name: str) -> Path:
    """Absolute path of a file in ``resources/``."""
    return RESOURCES_DIR / name


def icon(name: str) -> QIcon:
    """A QIcon from ``resources/<name>``; an empty icon rather than an error if it is missing."""
    path = resource_path(name)
    return QIcon(str(path)) if path.is_file() else QIcon()
