"""The ``groundshake`` Processing provider.

Registered by the plugin's ``initProcessing()`` so the algorithms exist in the
toolbox, the Graphical Modeler, batch mode and ``qgis_process`` alike.
"""
from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..i18n import tr
from ..resources import icon
from .algorithms import DistancesAlgorithm, GenerateScenarioAlgorithm


class GroundShakeProvider(QgsProcessingProvider):
    """Holds the GroundShake algorithms under the id ``groundshake``."""

    def id(self) -> str:  # unlocalised: scripts and models refer to it
        return "groundshake"

    def name(self) -> str:
        return tr("GroundShake")

    def longName(self) -> str:
        return tr("GroundShake earthquake shaking scenarios")

    def icon(self) -> QIcon:
        return icon("provider.svg")

    def loadAlgorithms(self) -> None:
        self.addAlgorithm(GenerateScenarioAlgorithm())
        self.addAlgorithm(DistancesAlgorithm())
