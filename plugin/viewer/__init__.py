"""Waveform viewer (pyqtgraph), loaded only when pyqtgraph is there.

The plugin imports this package at start-up; pyqtgraph itself is imported
only by ``waveform_viewer``, so a QGIS without it still loads the plugin and
the dock can show ``missing_dependency()`` instead of a traceback.
"""
from __future__ import annotations

import importlib.util

from ..i18n import tr


def missing_dependency() -> str | None:
    """A message naming what is missing and how to install it, or None when all is there."""
    if importlib.util.find_spec("pyqtgraph") is not None:
        return None
    return tr(
        "The GroundShake waveform viewer needs the Python package pyqtgraph, which this QGIS "
        "cannot import. Install it, then restart QGIS: on Debian/Ubuntu "
        "'sudo apt install python3-pyqtgraph'; on Windows (OSGeo4W Shell) or macOS "
        "'python3 -m pip install pyqtgraph'.")
