"""Translations: lookup order and the compiled catalogues."""
from __future__ import annotations

import pytest
from qgis.PyQt.QtCore import QCoreApplication


def test_qm_lookup_full_locale_then_language(tmp_path):
    from groundshake.plugin.i18n import qm_path

    (tmp_path / "groundshake_pt.qm").write_bytes(b"")
    (tmp_path / "groundshake_pt_BR.qm").write_bytes(b"")
    assert qm_path("pt_BR", tmp_path).name == "groundshake_pt_BR.qm"
    assert qm_path("pt_PT", tmp_path).name == "groundshake_pt.qm"
    assert qm_path("de_DE", tmp_path) is None


@pytest.mark.parametrize(("locale", "expected"), [
    ("es_MX", {"Fault": "Falla", "{n} vertices, {km:.1f} km": "{n} vértices, {km:.1f} km"}),
    ("ja_JP", {"Fault": "断層", "Cancel": "キャンセル"}),
])
def test_translations_are_installed_and_removed(locale, expected):
    from groundshake.plugin.i18n import install_translator, remove_translator, tr

    translator = install_translator(locale)
    assert translator is not None
    try:
        for source, text in expected.items():
            assert tr(source) == text
    finally:
        remove_translator(translator)
    assert tr("Fault") == "Fault"


def test_every_string_is_translated():
    """Each .ts lists every tr() string of plugin/ and none is left unfinished."""
    import ast
    import xml.etree.ElementTree as ET
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sources = set()
    for path in (root / "plugin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "tr" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                sources.add(node.args[0].value)
    for lang in ("es", "ja"):
        tree = ET.parse(root / "i18n" / f"groundshake_{lang}.ts")
        done = {m.findtext("source"): m.find("translation") for m in tree.iter("message")}
        missing = sources - set(done)
        assert not missing, f"{lang}: run 'make i18n' and translate {sorted(missing)}"
        unfinished = [s for s in sources if done[s].get("type") == "unfinished"
                      or not (done[s].text or "").strip()]
        assert not unfinished, f"{lang}: untranslated {unfinished}"
        assert (root / "i18n" / f"groundshake_{lang}.qm").is_file()
    assert QCoreApplication.instance() is not None
