"""Instrumental intensity (MMI) from PGA and PGV: Worden et al. (2012).

Worden, Gerstenberger, Rhoades & Wald (2012), "Probabilistic relationships
between ground-motion parameters and Modified Mercalli intensity in
California", BSSA 102(1), 204-221: Eq. 3 is bilinear in log10 of the ground
motion,

    MMI = c1 + c2 log10(Y)   for log10(Y) <= t1
    MMI = c3 + c4 log10(Y)   for log10(Y) >  t1

with Y = PGA in cm/s^2 or PGV in cm/s and the coefficients of their Table 1.
The PGA and PGV estimates are combined with the ShakeMap rule of Wald et al.
(1999, Earthquake Spectra 15(3), 557-564): the PGA estimate below intensity
V, the PGV estimate above VII, and a linear blend (weighted by the PGA
intensity) in between, because PGA saturates at high intensity and PGV is
poorly constrained at low intensity. Results are clipped to [1, 10], the
range the relation was fitted on. ShakeMap's extra segment for MMI 1-2 is not
in the paper and is not applied.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from .response import G_CMS2

# Worden et al. (2012) Table 1 (Eq. 3 coefficients): c1, c2, c3, c4, t1.
_W12_PGA = (1.78, 1.55, -1.60, 3.70, 1.57)  # Y = PGA in cm/s^2
_W12_PGV = (3.78, 1.47, 2.89, 3.16, 0.53)  # Y = PGV in cm/s
# Blend bounds of Wald et al. (1999): PGA below V, PGV above VII.
_BLEND_LOW, _BLEND_HIGH = 5.0, 7.0
MMI_RANGE = (1.0, 10.0)


def _bilinear(log_y: np.ndarray, coeffs: tuple[float, float, float, float, float]) -> np.ndarray:
    """Worden et al. (2012) Eq. 3 for one ground-motion type."""
    c1, c2, c3, c4, t1 = coeffs
    return np.where(log_y <= t1, c1 + c2 * log_y, c3 + c4 * log_y)


def _positive(values: ArrayLike, field: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise InputError(field, "ground motions must be finite and >= 0")
    # log10(0) is -inf; the smallest positive double keeps MMI at the floor of 1.
    return np.maximum(arr, np.finfo(np.float64).tiny)


def mmi_from_pga_worden2012(pga_g: ArrayLike) -> np.ndarray:
    """MMI from PGA in g (converted to cm/s^2), Worden et al. (2012) Eq. 3, clipped to [1, 10]."""
    log_y = np.log10(_positive(pga_g, "pga") * G_CMS2)
    return np.clip(_bilinear(log_y, _W12_PGA), *MMI_RANGE)


def mmi_from_pgv_worden2012(pgv_cms: ArrayLike) -> np.ndarray:
    """MMI from PGV in cm/s, Worden et al. (2012) Eq. 3, clipped to [1, 10]."""
    log_y = np.log10(_positive(pgv_cms, "pgv"))
    return np.clip(_bilinear(log_y, _W12_PGV), *MMI_RANGE)


def mmi_worden2012(pga_g: ArrayLike, pgv_cms: ArrayLike) -> np.ndarray:
    """MMI from PGA (g) and PGV (cm/s) of the same sites, combined as ShakeMap does.

    PGA-based intensity below V, PGV-based above VII, linear weight
    w = (MMI_pga - 5) / 2 in between (Wald et al. 1999).
    """
    pga = np.asarray(pga_g, dtype=np.float64)
    pgv = np.asarray(pgv_cms, dtype=np.float64)
    if pga.shape != pgv.shape:
        raise InputError("pgv", f"shape {pgv.shape} does not match the PGA shape {pga.shape}")
    mmi_a = mmi_from_pga_worden2012(pga)
    mmi_v = mmi_from_pgv_worden2012(pgv)
    w = np.clip((mmi_a - _BLEND_LOW) / (_BLEND_HIGH - _BLEND_LOW), 0.0, 1.0)
    return (1.0 - w) * mmi_a + w * mmi_v
