"""Fit a model card's low-frequency gain (gm_engine/generator/lowfreq.py) and write a new card.

    python validation/low_frequency_gain.py --card gm_engine/models/cgm-ca-sim-v10/model_card.json \
        --corpus corpus_rev3_200k.h5 --records 6000 --name groundshake-cgm-ca-sim-v11 \
        --out gm_engine/models/cgm-ca-sim-v11

Records are drawn from the corpus (sorted random rows, ``--seed``); each is
compared with a generated record at its conditions (each its own earthquake,
as validation/cgm.py's held-out check). The new card is the old one plus
``synthesis.low_frequency_gain`` and a ``training.low_frequency_gain`` entry
(command, corpus, records, time, the residual per iteration); same weights.
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
from gm_engine.train.corpus import fit_length

#: Record length with the padding the gain is applied with: 20.48 s of zeros
#: after a 40.96 s record hold the correction's low-frequency tail.
N_FFT = 6144


def corpus_rows(path: str, n: int, seed: int, dt: float, cfg) -> tuple[np.ndarray, pd.DataFrame]:
    import h5py

    with h5py.File(path, "r") as f:
        table = f["conditions"][()]
        rows = np.sort(np.random.default_rng(seed).choice(len(table), n, replace=False))
        acc = fit_length(f["waveforms"][rows], float(f.attrs["dt"]), cfg)
    mech = np.array(["SS", "NM", "RV"])[table["mechanism"][rows]]
    cond = pd.DataFrame({k: table[k][rows].astype(float) for k in
                         ("magnitude", "rrup_km", "vs30", "ztor_km")}).assign(mechanism=mech)
    return acc, cond


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--card", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--records", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", required=True, help="folder of the new card (must not exist)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if out.exists():
        print(f"{out} exists; choose another folder", file=sys.stderr)
        return 2
    t0 = time.time()
    gen = load_model(args.card, "cpu")
    acc, cond = corpus_rows(args.corpus, args.records, args.seed, gen.dt, gen.stft_cfg)

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


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
