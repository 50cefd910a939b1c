"""Regenerate tests/data/obspy_records.npz from the example data obspy ships.

Run with the project venv (obspy 1.5.1): ``python tests/data/make_obspy_records.py``.
Each record is converted to acceleration in g and its mean removed; see
README.md for the sources. Kept as float64 so the comparison with pyrotd is
not limited by storage precision.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import obspy

G = 9.80665  # standard gravity, m/s^2
BASE = os.path.dirname(obspy.__file__)
HERE = os.path.dirname(os.path.abspath(__file__))


def knet(path: str) -> tuple[np.ndarray, float]:
    # obspy's calib for K-NET ASCII is the header scale factor in m/s^2 per count.
    tr = obspy.read(path)[0]
    acc = tr.data.astype(np.float64) * tr.stats.calib / G
    return acc - acc.mean(), tr.stats.delta


def evt(path: str) -> tuple[np.ndarray, float]:
    # Kinemetrics EVT: counts * calib = volts; chan_sensitivity is volts per g.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = obspy.read(path)
    comps = [
        tr.data.astype(np.float64) * tr.stats.calib / tr.stats.kinemetrics_evt["chan_sensitivity"]
        for tr in st[:3]
    ]
    acc = np.stack(comps)
    return acc - acc.mean(axis=1, keepdims=True), st[0].stats.delta


def main() -> None:
    knet_acc, knet_dt = knet(os.path.join(BASE, "io/nied/tests/data/test.knet"))
    mema, mema_dt = evt(os.path.join(BASE, "io/kinemetrics/tests/data/BI008_MEMA-04823.evt"))
    stna, stna_dt = evt(os.path.join(BASE, "io/kinemetrics/tests/data/STNA.20020722.044649.evt.gz"))
    np.savez_compressed(
        os.path.join(HERE, "obspy_records.npz"),
        knet_akt013_ew=knet_acc,
        knet_akt013_ew_dt=knet_dt,
        evt_mema=mema,
        evt_mema_dt=mema_dt,
        evt_stna=stna,
        evt_stna_dt=stna_dt,
    )


if __name__ == "__main__":
    main()
