"""The calibration table of the stochastic simulator and its interpolation.

The BA18 spectrum of :mod:`.physics` is the median FAS of the NGA-West2
California records, but random-phase records with that FAS and the
Afshari & Stewart (2016) duration miss the NGA-West2 PSA medians by about
-0.2 to +0.7 ln units (the random-vibration relation between a FAS, a
duration and a response spectrum is not that of real records).
``validation/calibrate_stochastic.py`` therefore fits, once, on a grid of
nodes (mechanism x M x ln Rrup x ln Vs30) and at the control periods:

- ``ln_c``: a smooth ln correction of the horizontal FAS at f = 1/T, iterated
  until the median simulated RotD50 PSA(0.05-10 s) equals the NGA-West2
  average. Above 20 Hz (T < 0.05 s) it is held at its 0.05 s value, so the
  spectrum there keeps BA18's shape: PSA(T < 0.05 s) and PGA are outcomes,
  not fitted through frequencies where PSA has no leverage (see
  docs/validation/stochastic.md);
- ``pulse_q``: 1/sqrt(nu), with nu the rate (1/s) of the Poisson pulse train
  that excites the record (Housner 1947; Lin 1965); 0 is Boore's (2003)
  Gaussian white noise. It is fitted so that PGA, a time-domain peak, keeps
  the NGA-West2 ratio to PSA(0.05-0.2 s) (Gaussian noise gives PGA 0.2-0.35 ln
  units too low on stiff sites once those PSA are matched);
- ``ln_dur``: a ln correction of the window length so D5-95 equals
  Afshari & Stewart (2016);
- ``sigma_int``: the ln PSA scatter that random phases alone produce;
- ``tau``, ``phi``: the NGA-West2 average between/within-event sigmas;
- ``ln_vh``: the Gulerce & Abrahamson (2011) V/H ratio of PSA;
- ``sigma_gain``: a factor (per control period, one for all nodes) on the FAS
  random terms. A FAS term at f = 1/T moves PSA(T) by less than itself where
  PSA integrates a broad band (short periods, large distances), so the
  calibration measures, with random terms on, how much scatter comes out and
  scales the terms so the total matches NGA-West2.
- ``terms_shift``: a ln FAS shift (per control period, one for all nodes)
  subtracted whenever random terms are applied. ``ln_c`` is fitted with
  median motions, but PSA and PGA integrate the perturbed FAS over a band, and
  the mean log of a sum of lognormal contributions exceeds the sum of their
  mean logs (Jensen's inequality): with the terms on, the mean ln PSA over
  realizations, the run's median, came out +0.10 ln at PGA and +0.03-0.06 at
  0.2-5 s above the median motion. ``validation/stochastic_terms_shift.py``
  measures and fits it.

Between nodes everything is interpolated multilinearly, which keeps the
correction smooth and makes its provenance a plain, inspectable table
(``calibration.npz`` next to this file, with the script's settings in it).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TABLE_PATH = Path(__file__).with_name("calibration.npz")
#: Control periods (s) of the calibration, the random terms and V/H. T = 0.01 s
#: stands for PGA (PSA(0.01 s) and PGA agree within 1-2 % in NGA-West2 models).
CONTROL_PERIODS = np.array([0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
                            0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0])
#: Mechanisms the calibration simulates (table rows 0 and 1).
MECH_ROWS = ("SS", "RV")
#: Rows of the table. The NM row is not simulated: it is the SS row plus the NGA-West2
#: average ln NM - ln SS difference (minus BA18's normal-faulting term, which the physics
#: spectrum already carries) at each node and control period; a table without it (older
#: ones) gives NM the SS row.
TABLE_ROWS = ("SS", "RV", "NM")
FIELDS = ("ln_c", "sigma_int", "tau", "phi", "ln_vh")
NODE_FIELDS = ("ln_dur", "pulse_q")  # one value per node


@dataclass
class Table:
    """Calibration arrays on the node grid; fields are (mech, M, R, V, P) or (mech, M, R, V).

    The mech axis follows ``TABLE_ROWS`` (SS, RV, NM), or only SS, RV in older tables.
    """

    mag: np.ndarray
    ln_r: np.ndarray
    ln_v: np.ndarray
    periods: np.ndarray
    ln_c: np.ndarray
    ln_dur: np.ndarray
    sigma_int: np.ndarray
    tau: np.ndarray
    phi: np.ndarray
    ln_vh: np.ndarray
    sigma_gain: np.ndarray | None = None  # (P,), 1 where absent
    pulse_q: np.ndarray | None = None  # (mech, M, R, V), s^0.5; 0 (Gaussian noise) where absent
    terms_shift: np.ndarray | None = None  # (P,), ln units; 0 where absent

    def __post_init__(self) -> None:
        if self.terms_shift is None:
            self.terms_shift = np.zeros(self.periods.size)
        if self.sigma_gain is None:
            self.sigma_gain = np.ones(self.periods.size)
        if self.pulse_q is None:
            self.pulse_q = np.zeros(self.ln_dur.shape)

    @classmethod
    def load(cls, path: Path | str = TABLE_PATH) -> Table:
        with np.load(path, allow_pickle=False) as z:
            return cls(**{k: np.asarray(z[k], dtype=float) for k in cls.__dataclass_fields__
                          if k in z.files})

    def save(self, path: Path | str, **meta: np.ndarray) -> None:
        np.savez_compressed(path, **{k: getattr(self, k) for k in self.__dataclass_fields__},
                            **meta)

    def save_keeping_settings(self, path: Path | str = TABLE_PATH) -> None:
        """Save over ``path``, keeping the calibration script's settings stored there.

        For scripts that refit one field of an existing table (sigma_gain, the
        NM row, terms_shift): the settings of the full calibration stay its record.
        """
        with np.load(path, allow_pickle=False) as z:
            settings = {k: z[k] for k in z.files if k not in self.__dataclass_fields__}
        self.save(path, **settings)

    def interpolate(self, mag: np.ndarray, rrup_km: np.ndarray, vs30: np.ndarray,
                    mechanism: np.ndarray, fields: Sequence[str] | None = None
                    ) -> dict[str, np.ndarray]:
        """Multilinear interpolation per site (inputs clipped to the grid): (N, P) / (N,) arrays.

        ``fields``: only these (default all); the generator's pulse rate needs
        one scalar of the table's ~20 fields, some of them per period.
        """
        coords = []
        for grid, x in ((self.mag, np.asarray(mag, float)),
                        (self.ln_r, np.log(np.maximum(np.asarray(rrup_km, float), 1e-3))),
                        (self.ln_v, np.log(np.asarray(vs30, float)))):
            x = np.clip(x, grid[0], grid[-1])
            i = np.clip(np.searchsorted(grid, x, side="right") - 1, 0, grid.size - 2)
            w = (x - grid[i]) / (grid[i + 1] - grid[i])
            coords.append((i, w))
        mech = np.asarray(mechanism).astype(str)
        n_rows = self.ln_c.shape[0]
        mech_i = np.zeros(mech.shape, dtype=int)
        for row, code in enumerate(TABLE_ROWS[:n_rows]):
            mech_i[mech == code] = row
        out: dict[str, np.ndarray] = {}
        for name in (*FIELDS, *NODE_FIELDS) if fields is None else fields:
            arr = getattr(self, name)
            acc = 0.0
            for corner in range(8):
                idx = [mech_i]
                weight = 1.0
                for d, (i, w) in enumerate(coords):
                    bit = (corner >> d) & 1
                    idx.append(i + bit)
                    weight = weight * (w if bit else 1.0 - w)
                vals = arr[tuple(idx)]
                acc = acc + (weight[:, None] * vals if vals.ndim == 2 else weight * vals)
            out[name] = np.asarray(acc)
        return out


_CACHE: dict[str, Table] = {}


def load_table() -> Table:
    """The bundled table, loaded once per process."""
    key = str(TABLE_PATH)
    if key not in _CACHE:
        if not TABLE_PATH.exists():
            raise FileNotFoundError(
                f"{TABLE_PATH} is missing: run validation/calibrate_stochastic.py")
        _CACHE[key] = Table.load(TABLE_PATH)
    return _CACHE[key]
