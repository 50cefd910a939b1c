"""Intensity measures of batches of three-component accelerograms.

Arrays are (n_records, 3, n_samples) in g with components H1, H2, Z (see
docs/CONTRACTS.md). Everything is vectorised over records with numpy/scipy:
the SDOF oscillator is the exact piecewise-linear recursion of Nigam &
Jennings (1969) run as an IIR filter, RotDnn follows Boore (2010) with an
exact pruning of time samples, and inputs are checked once with a clear
InputError. ``compute_ims`` is the entry point the pipeline uses; the
per-measure functions serve tests, viewers and notebooks.
"""

from __future__ import annotations

from .compute import HORIZONTALS, compute_ims, parse_horizontal
from .duration import arias_intensity, cav, husid, significant_duration
from .fourier import fourier_amplitude, konno_ohmachi_smooth
from .mmi import mmi_from_pga_worden2012, mmi_from_pgv_worden2012, mmi_worden2012
from .names import IM_UNITS, IMSpec, im_name, parse_im
from .peaks import ground_velocity, pga, pgd, pgv, velocity_displacement
from .response import response_spectrum, sdof_displacement
from .rotation import rotd, rotd_peaks

__all__ = [
    "HORIZONTALS",
    "IM_UNITS",
    "IMSpec",
    "arias_intensity",
    "cav",
    "compute_ims",
    "fourier_amplitude",
    "ground_velocity",
    "husid",
    "im_name",
    "konno_ohmachi_smooth",
    "mmi_from_pga_worden2012",
    "mmi_from_pgv_worden2012",
    "mmi_worden2012",
    "parse_horizontal",
    "parse_im",
    "pga",
    "pgd",
    "pgv",
    "response_spectrum",
    "rotd",
    "rotd_peaks",
    "sdof_displacement",
    "significant_duration",
    "velocity_displacement",
]
