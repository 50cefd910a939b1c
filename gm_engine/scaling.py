"""Magnitude-rupture scaling laws.

Used to offer a magnitude for a drawn rupture and to warn when a user's
magnitude and rupture size disagree by more than the law's scatter.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InputError

LAWS = ("WC94", "Leonard2014")


@dataclass(frozen=True)
class AreaLaw:
    """``M = a + b * log10(area_km2)`` with the law's standard deviation in M."""

    a: float
    b: float
    sigma: float
    reference: str


# Wells & Coppersmith (1994), BSSA 84(4), Table 2A, "RA" (rupture area) rows.
_WC94_AREA = {
    "SS": AreaLaw(3.98, 1.02, 0.23, "Wells & Coppersmith (1994) Table 2A, SS"),
    "RV": AreaLaw(4.33, 0.90, 0.25, "Wells & Coppersmith (1994) Table 2A, R"),
    "NM": AreaLaw(3.93, 1.02, 0.25, "Wells & Coppersmith (1994) Table 2A, N"),
}

# Leonard (2014), BSSA 104(6), Table 3, interplate crustal faults, with the
# self-consistent b = 1 of Leonard (2010), BSSA 100(5), Eq. 27-28. Leonard
# gives no per-relation sigma in magnitude; 0.25 is the spread of his a-range.
_LEONARD14_AREA = {
    "SS": AreaLaw(3.99, 1.0, 0.25, "Leonard (2014) Table 3, strike-slip"),
    "RV": AreaLaw(4.00, 1.0, 0.25, "Leonard (2014) Table 3, dip-slip"),
    "NM": AreaLaw(4.00, 1.0, 0.25, "Leonard (2014) Table 3, dip-slip"),
}


def mechanism_from_rake(rake: float) -> str:
    """Classify rake into SS / NM / RV with the usual +-30 degree bins.

    The bins follow the NGA-West2 convention (e.g. Boore et al. 2014, Table 2
    note): |rake| <= 30 or >= 150 strike-slip, 30 < rake < 150 reverse,
    -150 < rake < -30 normal.
    """
    r = ((rake + 180.0) % 360.0) - 180.0
    if -30.0 <= r <= 30.0 or r >= 150.0 or r <= -150.0:
        return "SS"
    return "RV" if r > 0 else "NM"


def area_law(law: str, mechanism: str) -> AreaLaw:
    """Coefficients of a magnitude-area law for a mechanism code."""
    table = {"WC94": _WC94_AREA, "Leonard2014": _LEONARD14_AREA}.get(law)
    if table is None:
        raise InputError("magnitude_scaling", f"unknown law {law!r}; accepted: {', '.join(LAWS)}")
    return table[mechanism]


def magnitude_from_area(area_km2: float, rake: float, law: str = "WC94") -> float:
    """Moment magnitude expected for a rupture area (km^2) and rake."""
    if not (area_km2 > 0 and math.isfinite(area_km2)):
        raise InputError("rupture", f"rupture area must be positive, got {area_km2}")
    c = area_law(law, mechanism_from_rake(rake))
    return c.a + c.b * math.log10(area_km2)


def magnitude_area_mismatch(magnitude: float, area_km2: float, rake: float,
                            law: str = "WC94") -> str | None:
    """A warning text when M differs from the law by more than 2 sigma, else None."""
    c = area_law(law, mechanism_from_rake(rake))
    expected = c.a + c.b * math.log10(area_km2)
    if abs(magnitude - expected) > 2.0 * c.sigma:
        return (f"magnitude {magnitude:.2f} is inconsistent with the rupture area "
                f"{area_km2:.0f} km^2: {c.reference} gives M {expected:.2f} +- {c.sigma:.2f}")
    return None
