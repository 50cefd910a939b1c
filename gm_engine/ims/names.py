"""Intensity-measure names, their parsing and their units.

Names follow OpenQuake's spelling (``PGA``, ``SA(0.3)``) because scenario JSON,
raster tags and the corpus HDF5 all key results by these strings; one parser
keeps every room agreeing on what ``"sa(0.30)"`` means.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..errors import InputError

#: IM kinds without a period, in the order the docs list them.
SCALAR_KINDS: tuple[str, ...] = ("PGA", "PGV", "PGD", "MMI", "IA", "CAV", "D5-75", "D5-95")
#: IM kinds that take an oscillator period in seconds.
PERIOD_KINDS: tuple[str, ...] = ("SA", "PSV")

#: Units of every IM kind. CAV is the integral of |a| with a in g, hence g*s
#: (multiply by 9.80665 for m/s); IA is Arias intensity in m/s; durations in s.
IM_UNITS: dict[str, str] = {
    "PGA": "g",
    "SA": "g",
    "PGV": "cm/s",
    "PSV": "cm/s",
    "PGD": "cm",
    "IA": "m/s",
    "CAV": "g*s",
    "D5-75": "s",
    "D5-95": "s",
    "MMI": "",
}

# Aliases accepted on input and mapped to the canonical kind.
_ALIASES = {"PSA": "SA", "ARIAS": "IA", "D575": "D5-75", "D595": "D5-95"}
_PERIOD_RE = re.compile(r"^([A-Z]+)\(\s*([^()]+?)\s*\)$")


@dataclass(frozen=True)
class IMSpec:
    """A parsed intensity measure: its kind and, for SA/PSV, its period in s."""

    kind: str
    period: float | None = None

    @property
    def name(self) -> str:
        """Canonical name, e.g. ``"SA(0.3)"``."""
        return self.kind if self.period is None else im_name(self.kind, self.period)

    @property
    def units(self) -> str:
        return IM_UNITS[self.kind]


def im_name(kind: str, period: float | None = None) -> str:
    """Canonical IM name; periods use Python's shortest float repr (``SA(1.0)``).

    The shortest round-trip repr makes ``parse_im(im_name(k, t)).period == t``
    exact, so names work as dictionary keys across rooms.
    """
    kind = kind.strip().upper()
    kind = _ALIASES.get(kind, kind)
    if kind in PERIOD_KINDS:
        if period is None:
            raise InputError("ims", f"{kind} needs a period, e.g. {kind}(1.0)")
        return f"{kind}({_check_period(float(period), kind)!r})"
    if kind in SCALAR_KINDS:
        if period is not None:
            raise InputError("ims", f"{kind} takes no period")
        return kind
    raise InputError("ims", f"unknown intensity measure {kind!r}; known: {_known()}")


def parse_im(name: str) -> IMSpec:
    """Parse an IM name (case and spaces are forgiven, ``PSA`` means ``SA``)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("ims", f"intensity measure names are non-empty strings, got {name!r}")
    text = name.strip().upper().replace(" ", "")
    match = _PERIOD_RE.match(text)
    if match:
        kind = _ALIASES.get(match.group(1), match.group(1))
        if kind not in PERIOD_KINDS:
            raise InputError("ims", f"{name!r}: only SA and PSV take a period; known: {_known()}")
        try:
            period = float(match.group(2))
        except ValueError:
            raise InputError("ims", f"{name!r}: the period must be a number of seconds") from None
        return IMSpec(kind, _check_period(period, name))
    kind = _ALIASES.get(text, text)
    if kind in SCALAR_KINDS:
        return IMSpec(kind)
    if kind in PERIOD_KINDS:
        raise InputError("ims", f"{name!r} needs a period in seconds, e.g. {kind}(0.3)")
    raise InputError("ims", f"unknown intensity measure {name!r}; known: {_known()}")


def _check_period(period: float, label: str) -> float:
    if not math.isfinite(period) or period <= 0.0:
        raise InputError("ims", f"{label}: the period must be a positive number of seconds")
    return period


def _known() -> str:
    return ", ".join((*SCALAR_KINDS[:3], "SA(T)", "PSV(T)", *SCALAR_KINDS[3:]))
