"""Fit a model card's low-frequency gain (gm_engine/generator/lowfreq.py) and write a new card.

    python validation/low_frequency_gain.py --card gm_engine/models/cgm-ca-sim-v10/model_card.json \
        --corpus corpus_rev3_200k.h5 --records 20000 --iterations 4 \
        --name groundshake-cgm-ca-sim-v11 --out gm_engine/models/cgm-ca-sim-v11

(the command behind the bundled v11, 3 min on this 2-core CPU).

Records are drawn from the corpus (sorted random rows, ``--seed``); each is
compared with a generated record at its conditions (each its own earthquake,
as validation/cgm.py's held-out check). The new card is the old one plus
``synthesis.low_frequency_gain`` and a ``training.low_frequency_gain`` entry
(command, corpus, records, time, the residual per iteration); same weights.
A gain the card already has is ignored and replaced.

    python validation/low_frequency_gain.py --card CARD --corpus corpus_rev3.h5 \
        --figure docs/validation/cgm_low_frequency.png

draws instead the figure of docs/generator.md: the mean Fourier amplitude and
displacement of held-out records of the trainer's split against generated
records at their conditions, with and without the card's gain.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import ROOT

from gm_engine.generator.card import load_card
from gm_engine.generator.lowfreq import MAG_NODES, fit_low_frequency_gain
from gm_engine.generator.model import load_model
from gm_engine.train.corpus import corpus_size, load_corpus

#: Record length with the padding the gain is applied with: 20.48 s of zeros
#: after a 40.96 s record hold the correction's low-frequency tail.
N_FFT = 6144


def corpus_rows(path: str, n: int, seed: int, cfg) -> tuple[np.ndarray, pd.DataFrame]:
    """``n`` random records (sorted rows, ``seed``) of a corpus, fitted to the model's
    grid, and their conditions."""
    rows = np.sort(np.random.default_rng(seed).choice(corpus_size(path), n, replace=False))
    part = load_corpus(path, cfg, rows=rows)
    return part.waveforms, part.conditions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--card", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--records", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--iterations", type=int, default=4)
    ap.add_argument("--name")
    ap.add_argument("--out", help="folder of the new card (must not exist)")
    ap.add_argument("--figure", help="draw this PNG from held-out records instead of fitting")
    args = ap.parse_args(argv)
    if args.figure:
        figure(args.card, args.corpus, Path(args.figure), min(args.records, 2000))
        return 0
    if not (args.name and args.out):
        ap.error("--name and --out are needed to fit")
    out = Path(args.out)
    if out.exists():
        print(f"{out} exists; choose another folder", file=sys.stderr)
        return 2
    t0 = time.time()
    gen = load_model(args.card, "cpu")
    acc, cond = corpus_rows(args.corpus, args.records, args.seed, gen.stft_cfg)

    def generate(gain):
        gen.low_frequency_gain = gain
        return gen.generate_independent(cond, args.seed + 1)

    gain, history = fit_low_frequency_gain(generate, acc, cond.magnitude.to_numpy(), gen.dt,
                                           N_FFT, iterations=args.iterations)
    for h in history:
        print(f"iteration {h['iteration']}: rms of the mean residual {h['rms_residual']:.3f}; "
              f"by magnitude node {MAG_NODES}:")
        for m, row in zip(MAG_NODES, h["mean_residual_by_magnitude"]):
            print(f"  M {m}: {row}")
    src = Path(args.card)
    card = json.loads(src.read_text())
    weights = (src.parent / card["weights"]["file"]).resolve()
    out.mkdir(parents=True)
    card["name"] = args.name
    card["weights"]["file"] = str(Path("..") / weights.parent.name / weights.name)
    card["synthesis"]["low_frequency_gain"] = gain.to_dict()
    card["training"]["low_frequency_gain"] = {
        "command": "python validation/low_frequency_gain.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "from_card": load_card(args.card).name,
        "corpus": str(args.corpus), "records": args.records, "seed": args.seed,
        "wall_time_s": round(time.time() - t0, 1),
        "residual_by_iteration": history,
        "note": "ln FAS(record) - ln FAS(generated) of H1 and H2, log-averaged over +-0.2 in "
                "ln f at each node, regressed on piecewise-linear functions of magnitude; "
                "gm_engine/generator/lowfreq.py",
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"wrote {out / 'model_card.json'} ({time.time() - t0:.0f} s)")
    return 0


FIGURE_BINS = ((4.5, 5.5), (7.0, 8.01))


def figure(card: str, corpus: str, path: Path, n: int) -> None:
    """Mean ln FAS of H1 and H2 (records, generated with and without the gain) by
    magnitude bin, and one record's displacement beside its generated twins."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gm_engine.generator.lowfreq import smoothed_ln_fas
    from gm_engine.ims import velocity_displacement
    from gm_engine.train.loop import train_val_split

    gen = load_model(card, "cpu")
    gain = gen.low_frequency_gain
    if gain is None:
        raise SystemExit(f"{card} has no low_frequency_gain")
    val = np.sort(train_val_split(corpus_size(corpus), 0, 0.1)[1][:n])
    part = load_corpus(corpus, gen.stft_cfg, rows=val)
    acc, cond = part.waveforms, part.conditions
    with_gain = gen.generate_independent(cond, 41)
    gen.low_frequency_gain = None
    without = gen.generate_independent(cond, 41)
    gen.low_frequency_gain = gain
    freqs = np.geomspace(0.03, 5.0, 40)
    fas = {k: smoothed_ln_fas(a[:, :2], gen.dt, freqs).mean(1)
           for k, a in (("records", acc), ("generated", with_gain), ("without gain", without))}
    fig, axes = plt.subplots(1, len(FIGURE_BINS) + 1, figsize=(13, 4))
    for ax, (lo, hi) in zip(axes, FIGURE_BINS):
        k = ((cond.magnitude >= lo) & (cond.magnitude < hi)).to_numpy()
        for (name, v), style in zip(fas.items(), ("k-", "C0-", "C3--")):
            ax.loglog(freqs, np.exp(v[k].mean(0)), style, label=name)
        ax.set(title=f"M {lo:g}-{min(hi, 8.0):g}, {k.sum()} held-out records",
               xlabel="frequency (Hz)", ylabel="geometric-mean Fourier amplitude (g s)")
        ax.legend()
    i = int(np.flatnonzero(((cond.magnitude >= 5.0) & (cond.magnitude < 5.5)).to_numpy())[0])
    t = np.arange(acc.shape[-1]) * gen.dt
    for (name, a), style in zip((("record", acc), ("generated", with_gain),
                                 ("without gain", without)), ("k-", "C0-", "C3--")):
        axes[-1].plot(t, velocity_displacement(a[i, 0].astype(np.float64), gen.dt)[1], style,
                      label=name)
    axes[-1].set(title=f"H1 displacement, M {cond.magnitude.iloc[i]:.1f}, "
                       f"{cond.rrup_km.iloc[i]:.0f} km",
                 xlabel="time (s)", ylabel="cm")
    axes[-1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
