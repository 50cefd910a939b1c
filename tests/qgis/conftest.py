"""Shared set-up for the QGIS tests (pytest-qgis provides the QGIS application).

Inside QGIS the repository folder is installed as a package (``groundshake``)
and the plugin imports the engine relatively (``from ..gm_engine import``), so
the tests import the plugin the same way: through a ``groundshake`` symlink to
the repository root, placed on ``sys.path`` before anything imports it.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "groundshake"

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_link_parent = Path(tempfile.mkdtemp(prefix="groundshake_pkg_"))
(_link_parent / PACKAGE).symlink_to(REPO_ROOT, target_is_directory=True)
sys.path.insert(0, str(_link_parent))


@pytest.fixture(scope="session")
def package_name() -> str:
    """Import name of the plugin package in these tests."""
    return PACKAGE


@pytest.fixture()
def plugin(qgis_iface, qgis_new_project):
    """A loaded GroundShake plugin, unloaded again after the test."""
    from groundshake import classFactory

    instance = classFactory(qgis_iface)
    instance.initGui()
    yield instance
    instance.unload()


def wait_for(condition, timeout: float = 10.0) -> bool:
    """Process Qt events until ``condition()`` is true or ``timeout`` seconds pass."""
    import time

    from qgis.PyQt.QtCore import QCoreApplication

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    QCoreApplication.processEvents()
    return bool(condition())


@pytest.fixture()
def wait():
    """``wait(condition, timeout)``: spin the event loop until a condition holds."""
    return wait_for


@pytest.fixture()
def site_layer():
    """``site_layer(kind="Point", n=3)``: a memory layer of sites with ``name`` and ``vs30``.

    Sites step 0.05 deg east and 0.03 deg north from (-122.2, 37.7) with Vs30
    300, 400, ... m/s; ``kind="Polygon"`` gives 0.02 deg squares around them.
    """
    from qgis.core import (
        QgsFeature,
        QgsField,
        QgsGeometry,
        QgsPointXY,
        QgsRectangle,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QVariant

    def make(kind: str = "Point", n: int = 3):
        layer = QgsVectorLayer(f"{kind}?crs=EPSG:4326", f"{kind.lower()} sites", "memory")
        layer.dataProvider().addAttributes([QgsField("name", QVariant.String),
                                            QgsField("vs30", QVariant.Double)])
        layer.updateFields()
        for i in range(n):
            x, y = -122.2 + 0.05 * i, 37.7 + 0.03 * i
            f = QgsFeature(layer.fields())
            f.setAttributes([f"s{i}", 300.0 + 100 * i])
            if kind == "Point":
                f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
            else:
                f.setGeometry(QgsGeometry.fromRect(
                    QgsRectangle(x - 0.01, y - 0.01, x + 0.01, y + 0.01)))
            layer.dataProvider().addFeature(f)
        layer.updateExtents()
        return layer

    return make


@pytest.fixture(scope="session")
def tiny_model_card(tmp_path_factory) -> Path:
    """The card of an untrained tiny CGM (tests/engine/engine_helpers.py), written once.

    Skips without torch or safetensors. The helper imports the engine as the
    top-level ``gm_engine`` (the repository root is on ``sys.path``); the
    files it writes are what ``groundshake.gm_engine`` reads.
    """
    import importlib.util

    for module in ("torch", "safetensors"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"the cgm engine needs {module}")
    if str(REPO_ROOT) not in sys.path:
        sys.path.append(str(REPO_ROOT))
    spec = importlib.util.spec_from_file_location(
        "groundshake_engine_helpers", REPO_ROOT / "tests" / "engine" / "engine_helpers.py")
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    return helpers.make_tiny_model_card(tmp_path_factory.mktemp("tiny_cgm"))
