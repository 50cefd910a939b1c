"""Physics-based stochastic simulator of three-component accelerations.

Boore (2003) stochastic method driven by a Yenier & Atkinson (2015) style
equivalent point source for California, calibrated once so that its median
RotD50 PSA and its total sigma match the NGA-West2 average (see
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
