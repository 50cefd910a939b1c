"""The cgm engine end to end on the CPU: this tree against an earlier commit, taking turns.

    python bench/ab_cgm_cpu.py --baseline 3f78ca6 [--sites 1024] [--runs 7] [--rounds 3]

Why: this machine's speed drifts by 10-25 % within minutes, so a figure
measured now cannot be set against one from an hour ago. Here each round
runs this tree's engine and then the baseline's, each in a fresh process
(imports, model, warm-up excluded) that times ``CGMEngine.realizations`` on
the same sites ``--runs`` times, the two sides' order alternating from round
to round; the medians of a round are comparable. The
baseline's ``gm_engine`` (with its bundled model) comes from ``git archive``
into a temporary folder. Both sides keep freed memory as the CLI does
(gm_engine.heap) and run with the engine's default threads.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

#: What a side runs: the sites from the pickle, the engine of the gm_engine on
#: its PYTHONPATH, one warm-up call on 64 sites, then the timed runs.
CHILD = """
import json, pickle, sys, time
from gm_engine.engines import CGMEngine
from gm_engine.heap import retain_freed_memory
retain_freed_memory()
cond, xy, ims, runs = pickle.load(open(sys.argv[1], "rb"))
engine = CGMEngine("cpu")
engine.realizations(cond.iloc[:64], xy[:64], ims, 1, 0)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    engine.realizations(cond, xy, ims, 1, 0)
    times.append(time.perf_counter() - t0)
print(json.dumps(times))
"""


def export_tree(rev: str, dest: Path) -> Path:
    """``gm_engine`` of commit ``rev`` under ``dest`` (what the baseline side imports)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "gm_engine"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def side_times(tree: Path, inputs: Path) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", CHILD, str(inputs)], env=env, cwd=tree,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    from bench_cgm import PIPE_IMS, site_conditions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", required=True, help="a commit of this repository")
    ap.add_argument("--sites", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=7, help="timed runs per side and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="also write the times here")
    args = ap.parse_args()
    cond, xy = site_conditions(args.sites, 1)
    result = {"baseline": args.baseline, "sites": args.sites, "rounds": []}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs.pkl"
        inputs.write_bytes(pickle.dumps((cond, xy, PIPE_IMS, args.runs)))
        base = export_tree(args.baseline, Path(tmp))
        for r in range(args.rounds):
            if r % 2:  # which side goes first alternates, so neither always meets a cold machine
                there, here = side_times(base, inputs), side_times(ROOT, inputs)
            else:
                here, there = side_times(ROOT, inputs), side_times(base, inputs)
            result["rounds"].append({"this tree": here, args.baseline: there})
            mh, mb = statistics.median(here), statistics.median(there)
            print(f"round {r + 1}: this tree {mh:.3f} s ({args.sites / mh:,.0f} sites/s), "
                  f"{args.baseline} {mb:.3f} s ({args.sites / mb:,.0f} sites/s), "
                  f"ratio {mb / mh:.2f}x", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
