"""GroundShake engine: earthquake shaking scenarios without any QGIS import.

Usable from the command line (``python -m gm_engine``), from the QGIS plugin,
and from Dask workers. Submodules are imported lazily by their users so that
``import gm_engine`` stays cheap (no torch, no geopandas).
"""
from __future__ import annotations

__version__ = "0.1.0"
