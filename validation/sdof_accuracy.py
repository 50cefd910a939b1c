"""How close are gm_engine's oscillator peaks to the band-limited signal's? (rerunnable)

    python validation/sdof_accuracy.py [--records 48] [--write]

A sampled accelerogram stands for a band-limited signal (what frequency-domain
codes such as pyrotd assume). The reference here is independent of
gm_engine.ims.response: the oscillator's continuous transfer function
-1 / (w_n^2 - w^2 + 2 i zeta w_n w) applied to the zero-padded record's FFT,
the response read 32 times oversampled (zero-padded spectrum) and its peak
taken as the largest sample. Compared, ln(PSA / reference) per period:

- ``default``: ``response_spectrum`` as shipped (16 samples per period, the
  band-limited input correction ``response.band_limited_input``);
- ``previous``: the method before 2026-11-27 (32 samples per period, linear
  interpolation between the samples), rebuilt from response.py's own pieces;
- ``linear``: the Nigam & Jennings recursion at the record's samples
  (``min_samples_per_period=None``), what a plain time-domain code gives.

Records: the real ones of tests/data (their own rates, and every second
sample of the two 250 Hz ones, which is coarser sampling of the same kind of
signal) and stochastic-simulator records at 100 Hz (the generator's rate).
``--write`` writes docs/validation/sdof_accuracy.md.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gm_engine.ims import response as R  # noqa: E402

PERIODS = np.array([0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 3.0])
DAMPING = 0.05
OVER = 32


def reference_psa(acc: np.ndarray, dt: float, period: float) -> np.ndarray:
    """PSA (g) of the band-limited signal, from the continuous transfer function."""
    n = acc.shape[-1]
    n_fft = next_fast_len(n + int(20 * period / DAMPING / dt) + 64)
    w = 2.0 * np.pi * np.fft.rfftfreq(n_fft, dt)
    wn = 2.0 * np.pi / period
    h = -1.0 / (wn**2 - w**2 + 2j * DAMPING * wn * w)
    u = irfft(rfft(acc, n_fft) * h, n_fft * OVER) * OVER
    return np.abs(u).max(axis=-1) * wn**2


def previous_psa(acc: np.ndarray, dt: float, period: float) -> np.ndarray:
    """The method before 2026-11-27: 32 samples per period, no input correction."""
    f = R.oversampling_factor(period, dt, 32)
    pad = R.free_vibration_samples(period, dt / f, DAMPING)
    n = acc.shape[-1]
    if f == 1:
        x = np.zeros((*acc.shape[:-1], n + pad))
        x[..., :n] = acc
    else:
        x = R._oversampled(acc, f, pad)[..., : n * f + pad]
    u = R._sdof_filter(x, dt / f, period, DAMPING)
    return R.peak_abs(u) * (2.0 * np.pi / period) ** 2


def record_sets(n_sim: int) -> dict[str, tuple[np.ndarray, float]]:
    data = np.load(ROOT / "tests" / "data" / "obspy_records.npz")
    sets = {"K-NET AKT013 EW (100 Hz)": (data["knet_akt013_ew"][None].astype(float),
                                         float(data["knet_akt013_ew_dt"]))}
    for key, label in (("evt_mema", "EVT MEMA"), ("evt_stna", "EVT STNA")):
        acc, dt = data[key][:2].astype(float), float(data[key + "_dt"])
        sets[f"{label} ch. 0-1 (250 Hz)"] = (acc, dt)
        sets[f"{label} ch. 0-1, every 2nd sample (125 Hz)"] = (acc[:, ::2], 2 * dt)
    sets[f"stochastic simulator, {n_sim} records (100 Hz)"] = (simulated(n_sim), 0.01)
    return sets


def simulated(n: int) -> np.ndarray:
    """H1 of ``n`` stochastic-simulator records over M 5-7.8, Rrup 3-200 km, Vs30 200-1000."""
    import pandas as pd

    from gm_engine.stochastic import simulate

    rng = np.random.default_rng(2026)
    cond = pd.DataFrame({"magnitude": rng.uniform(5.0, 7.8, n),
                         "rrup_km": np.exp(rng.uniform(np.log(3.0), np.log(200.0), n)),
                         "vs30": rng.uniform(200.0, 1000.0, n), "mechanism": ["SS"] * n})
    return simulate(cond, rng, dt=0.01, duration=40.96)[:, 0].astype(np.float64)


def compare(sets: dict[str, tuple[np.ndarray, float]]) -> list[dict]:
    rows = []
    for name, (acc, dt) in sets.items():
        ref = np.stack([reference_psa(acc, dt, t) for t in PERIODS], axis=-1)
        methods = {
            "default": lambda a, d: R.response_spectrum(a, d, PERIODS, DAMPING),
            "previous": lambda a, d: np.stack([previous_psa(a, d, t) for t in PERIODS], -1),
            "linear": lambda a, d: R.response_spectrum(a, d, PERIODS, DAMPING,
                                                       min_samples_per_period=None),
        }
        for method, fn in methods.items():
            t0 = time.perf_counter()
            got = fn(acc, dt)
            seconds = time.perf_counter() - t0
            err = np.log(got / ref).reshape(-1, PERIODS.size)
            rows.append({"records": name, "dt": dt, "n": err.shape[0], "method": method,
                         "mean_pct": (100 * err.mean(0)).tolist(),
                         "max_abs_pct": (100 * np.abs(err).max(0)).tolist(),
                         "ms_per_trace": 1e3 * seconds / err.shape[0]})
    return rows


def table(rows: list[dict]) -> str:
    head = "| records | method | ms/trace | " + " | ".join(f"{t:g} s" for t in PERIODS) + " |"
    lines = [head, "|" + "---|" * (PERIODS.size + 3)]
    for r in rows:
        cells = [f"{m:+.3f} / {a:.3f}" for m, a in zip(r["mean_pct"], r["max_abs_pct"])]
        lines.append(f"| {r['records']} | {r['method']} | {r['ms_per_trace']:.1f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=48, help="stochastic-simulator records")
    ap.add_argument("--write", action="store_true", help="write docs/validation/sdof_accuracy.md")
    args = ap.parse_args()
    rows = compare(record_sets(args.records))
    text = table(rows)
    print(text)
    if args.write:
        out = ROOT / "docs" / "validation" / "sdof_accuracy.md"
        out.write_text(
            "# Oscillator peaks against the band-limited signal\n\n"
            f"`python validation/sdof_accuracy.py --records {args.records} --write`, "
            f"{time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, "
            f"numpy {np.__version__}.\n\n"
            "ln(PSA / reference) in percent, mean / largest |.| over the traces, 5 % damping. "
            "The reference is the continuous oscillator applied to the band-limited signal "
            "(FFT, read 32 times oversampled); see the script's docstring for the methods. "
            "ms/trace is this machine's time for all eight periods, one thread.\n\n"
            "Samples per period at these periods: 100 Hz 5-300, 125 Hz 6.25-375, "
            "250 Hz 12.5-750.\n\n" + text + "\n\n"
            "The default's largest errors (0.1 and 0.2 s at 100 Hz, 20 samples per "
            "period after oversampling) come from the parabolic refinement of the "
            "sampled peak, not from the input: with 32 samples per period they fall "
            "below 0.01 % (checked by hand on the simulated records, 2026-11-27). A "
            "sinusoid fit of the three samples did worse (0.28-0.45 %).\n")
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
