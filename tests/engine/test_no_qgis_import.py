"""gm_engine must stay importable without QGIS (CLI, Dask workers, tests)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import importlib, pkgutil, sys
import gm_engine
failed = []
for mod in pkgutil.walk_packages(gm_engine.__path__, "gm_engine."):
    if mod.name.endswith("__main__"):
        continue
    importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m == "qgis" or m.startswith("qgis."))
print("QGIS-MODULES:" + ",".join(bad))
"""


def test_importing_every_engine_module_imports_no_qgis() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("QGIS-MODULES:")][-1]
    assert line == "QGIS-MODULES:", f"gm_engine imported QGIS modules: {line}"


def test_no_qgis_string_in_engine_sources() -> None:
    offenders = [p.relative_to(ROOT) for p in (ROOT / "gm_engine").rglob("*.py")
                 if "import qgis" in p.read_text() or "from qgis" in p.read_text()]
    assert offenders == []
