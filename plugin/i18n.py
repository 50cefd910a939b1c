"""Translation helpers: one ``tr()`` for every user-facing string.

``pylupdate5`` files a bare ``tr("...")`` call under the ``@default`` context
wherever it appears, so the helper translates in that same context; the .ts
files and the runtime lookup then always agree.
"""
from __future__ import annotations

from pathlib import Path

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

CONTEXT = "@default"
I18N_DIR = Path(__file__).resolve().parent.parent / "i18n"


def tr(text: str) -> str:
    """Translate ``text``; use ``tr("... {x}").format(x=...)`` for variable parts."""
    return QCoreApplication.translate(CONTEXT, text)


def user_locale() -> str:
    """The locale QGIS runs in (its own override first, then the system's)."""
    settings = QgsSettings()
    if settings.value("locale/overrideFlag", False, type=bool):
        value = settings.value("locale/userLocale", "", type=str)
        if value:
            return value
    return QLocale().name()


def qm_path(locale: str, folder: Path = I18N_DIR) -> Path | None:
    """The .qm file for ``locale``: full name (``pt_BR``) first, then the two-letter code."""
    candidates = [locale, locale.split("_")[0][:2]]
    for code in candidates:
        path = folder / f"groundshake_{code}.qm"
        if code and path.is_file():
            return path
    return None


def install_translator(locale: str | None = None) -> QTranslator | None:
    """Load and install the plugin's translator; the caller keeps it to remove it later."""
    path = qm_path(locale or user_locale())
    if path is None:
        return None
    translator = QTranslator()
    if not translator.load(str(path)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    """Undo ``install_translator`` so an unloaded plugin leaves no translator behind."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
