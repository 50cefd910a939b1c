"""Recorded accelerograms: MiniSEED / SAC / ASDF files plus a flatfile CSV.

The flatfile has one row per three-component record:

``file``        waveform file, relative to the flatfile's folder (MiniSEED,
                SAC or any format obspy reads; ``.h5``/``.asdf`` as ASDF);
                for SAC, one file per component: ``a_HN?.sac`` style globs;
``station``     optional ``NET.STA`` (or ``STA``) selecting traces in the file;
``units``       ``m/s2`` (default), ``cm/s2`` or ``g``: instrument-corrected
                acceleration is required (response removal is the data
                provider's job, it needs the station metadata);
``magnitude, rrup_km, vs30, ztor_km`` and ``mechanism`` (``SS``/``NM``/``RV``)
or ``rake`` (degrees, binned as docs/CONTRACTS.md says); optional coordinate
columns ``src_lon, src_lat, site_lon, site_lat`` for region-specific models.

Processing per record: demean and linear detrend (obspy), conversion to g,
the three components cut to their common time span, then
:func:`gm_engine.train.corpus.fit_length` (resampling, Arias-aligned 40.96 s
window, tapers, zero padding; documented there).
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..generator.stft import STFTConfig
from .corpus import WaveformSet, fit_length

log = logging.getLogger(__name__)

G = 9.80665  # standard gravity, m/s^2
UNITS_TO_G = {"m/s2": 1.0 / G, "m/s/s": 1.0 / G, "cm/s2": 0.01 / G, "gal": 0.01 / G, "g": 1.0}
# Component codes (SEED channel naming, last letter): H1 = N or 1, H2 = E or 2.
COMPONENT_CODES = (("N", "1"), ("E", "2"), ("Z", "3"))
REQUIRED = ("file", "magnitude", "rrup_km", "vs30", "ztor_km")


def mechanism_from_rake(rake: np.ndarray) -> np.ndarray:
    """Rake (deg) -> "SS"/"NM"/"RV" with +-30 deg strike-slip bins (docs/CONTRACTS.md)."""
    r = (np.asarray(rake, dtype=float) + 180.0) % 360.0 - 180.0
    out = np.full(r.shape, "SS", dtype=object)
    out[(r > 30) & (r < 150)] = "RV"
    out[(r < -30) & (r > -150)] = "NM"
    return out


def _read_asdf(path: Path, station: str | None):
    """Minimal ASDF reader (Krischer et al. 2016 layout: /Waveforms/NET.STA/<trace>
    datasets with ``starttime`` in ns and ``sampling_rate``), h5py only."""
    import h5py
    from obspy import Stream, Trace, UTCDateTime

    st = Stream()
    with h5py.File(path, "r") as f:
        for sta_name, grp in f["Waveforms"].items():
            if station and sta_name != station and sta_name.split(".")[-1] != station:
                continue
            for name, ds in grp.items():
                if name == "StationXML":
                    continue
                net, sta, loc, cha = name.split("__")[0].split(".")
                tr = Trace(np.asarray(ds[()], dtype=np.float64))
                tr.stats.network, tr.stats.station = net, sta
                tr.stats.location, tr.stats.channel = loc, cha
                tr.stats.sampling_rate = float(ds.attrs["sampling_rate"])
                tr.stats.starttime = UTCDateTime(ns=int(ds.attrs["starttime"]))
                st.append(tr)
    return st


def read_stream(path: Path, station: str | None = None):
    """obspy Stream of the record's traces (glob patterns allowed, e.g. SAC per component)."""
    import obspy

    if path.suffix.lower() in (".h5", ".asdf", ".hdf5"):
        st = _read_asdf(path, station)
    else:
        files = sorted(path.parent.glob(path.name)) if any(c in path.name for c in "*?[") else [path]
        if not files or not files[0].exists():
            raise InputError("flatfile.file", f"waveform file {path} not found")
        st = obspy.Stream()
        for p in files:
            st += obspy.read(str(p))
    if station:
        net_sta = station.split(".")
        st = st.select(station=net_sta[-1], network=net_sta[0] if len(net_sta) > 1 else None)
    return st


def stream_to_array(st, units: str) -> tuple[np.ndarray, float]:
    """(3, T) acceleration in g (H1, H2, Z) and dt from a Stream."""
    if units not in UNITS_TO_G:
        raise InputError("flatfile.units", f"unknown units '{units}'; accepted: {', '.join(UNITS_TO_G)}")
    st = st.copy()
    st.merge(fill_value=0)
    comps = []
    for codes in COMPONENT_CODES:
        sel = [tr for tr in st if tr.stats.channel[-1:].upper() in codes]
        if not sel:
            raise ValueError(f"no component {'/'.join(codes)}")
        comps.append(sel[0])
    rates = {tr.stats.sampling_rate for tr in comps}
    if len(rates) != 1:
        raise ValueError(f"components have different sampling rates {sorted(rates)}")
    t0 = max(tr.stats.starttime for tr in comps)
    t1 = min(tr.stats.endtime for tr in comps)
    if t1 <= t0:
        raise ValueError("components do not overlap in time")
    rows = []
    for tr in comps:
        tr.trim(t0, t1)
        tr.detrend("demean")
        tr.detrend("linear")
        rows.append(tr.data.astype(np.float64))
    n = min(len(r) for r in rows)
    arr = np.stack([r[:n] for r in rows]) * UNITS_TO_G[units]
    return arr, 1.0 / rates.pop()


def load_records(flatfile: str | Path, cfg: STFTConfig | None = None) -> WaveformSet:
    """Read every record of a flatfile; records that cannot be read are skipped
    with a logged reason (a flatfile rarely has every file), an empty result raises."""
    import pandas as pd

    cfg = cfg or STFTConfig()
    flatfile = Path(flatfile)
    if not flatfile.is_file():
        raise InputError("flatfile", f"no flatfile at {flatfile}")
    df = pd.read_csv(flatfile)
    missing = [c for c in REQUIRED if c not in df.columns]
    if "mechanism" not in df.columns and "rake" not in df.columns:
        missing.append("mechanism (or rake)")
    if missing:
        raise InputError("flatfile", f"missing columns: {', '.join(missing)}")
    if "mechanism" not in df.columns:
        df["mechanism"] = mechanism_from_rake(df["rake"].to_numpy())
    waves, keep = [], []
    for i, row in df.iterrows():
        station = row.get("station") if "station" in df.columns else None
        station = station if isinstance(station, str) and station else None
        units = row.get("units") if "units" in df.columns else None
        units = units if isinstance(units, str) and units else "m/s2"
        try:
            st = read_stream(flatfile.parent / str(row["file"]), station)
            arr, dt = stream_to_array(st, str(units))
        except (ValueError, OSError, TypeError) as exc:
            log.warning("record %s (%s) skipped: %s", i, row["file"], exc)
            continue
        waves.append(fit_length(arr, dt, cfg))
        keep.append(i)
    if not waves:
        raise InputError("flatfile", f"none of the {len(df)} records in {flatfile} could be read")
    return WaveformSet(np.stack(waves), df.loc[keep].reset_index(drop=True), source=str(flatfile))
