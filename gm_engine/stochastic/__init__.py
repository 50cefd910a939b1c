"""Physics-based stochastic simulator of three-component accelerations.

Boore (2003) stochastic method driven by the BA18 Fourier amplitude spectrum
for California (Bayless & Abrahamson 2019, BSSA 109(5)) and a Poisson pulse
train (Housner 1947; Lin 1965), calibrated once so that its median RotD50 PGA
and PSA and its total sigma match the NGA-West2 average (see
``docs/validation/stochastic.md``). It is the baseline engine
(``--engine stochastic``) and the generator of the training corpus.
"""
from __future__ import annotations

from .calibration import CONTROL_PERIODS
from .physics import PARAMETER_RANGES
from .simulator import (
    intensity_measures,
    simulate,
    simulate_realizations,
    synthesize,
    synthesize_site,
)

__all__ = ["CONTROL_PERIODS", "PARAMETER_RANGES", "intensity_measures", "simulate",
           "simulate_realizations", "synthesize", "synthesize_site"]
