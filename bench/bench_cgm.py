"""Generative-model benchmark: phase methods on band envelopes, and the full pipeline.

Part A, phase (issue 4: "choose on measurements"). Simulated records
(gm_engine.stochastic, the corpus generator) are reduced to the model's band
envelope (gm_engine.generator.envelope), and each method makes a waveform
from that envelope alone:

* ``noise``: shaped white noise (one STFT + one inverse STFT, no iterations);
* ``pghi+8``: PGHI (Prusa et al. 2017) + 8 fast Griffin-Lim iterations on the
  smooth per-bin amplitude;
* ``gl500``: 500 random-start Griffin-Lim iterations, CGM-GM's way.

Reported per method: bias and scatter of ln(IM_reconstructed / IM_source) for
PGA and PSA(0.1, 0.3, 1, 3 s) (component H1), the spectral convergence
against the smooth amplitude (dB, Prusa et al. 2017 Eq. 27), and time per trace.

Part B, pipeline: the bundled model generates N sites x 1 realization at
scenario-like conditions and the IMs (PGA, PGV, RotD50 PSA at 0.1, 0.3, 1,
3 s) are computed: end to end through ``CGMEngine.realizations``, as a run
does, and stage by stage on one core (latent draws over the sites, the neural
sampler with waveform synthesis, the IMs). Side by side, the same pipeline
with 500 Griffin-Lim iterations instead of shaped noise on a few sites.
Part C: peak memory of the engine for growing site counts (the engine works
in batches of the generator's default_batch site-realizations).

The process keeps freed memory as the CLI does (gm_engine.heap).

Run: python bench/bench_cgm.py [--card CARD] [--baseline-card CARD] [--sites 1024]
     [--gl-sites 6] [--threads 2] [--memory-sites 2000,8000] [--write]

``--baseline-card`` times a second card's engine end to end in the same
process, the two taking turns run by run, so a faster model is compared
under the same load.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from perfdoc import replace_section, shown_path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gm_engine.engines import bundled_model_card  # noqa: E402
from gm_engine.generator import phase as P  # noqa: E402
from gm_engine.generator.card import load_card  # noqa: E402
from gm_engine.generator.envelope import (  # noqa: E402
    EnvelopeConfig,
    band_log_amplitude,
    bin_amplitude,
    envelope_to_waveform,
)
from gm_engine.heap import retain_freed_memory  # noqa: E402
from gm_engine.ims import compute_ims  # noqa: E402

PHASE_IMS = ["PGA", "SA(0.1)", "SA(0.3)", "SA(1.0)", "SA(3.0)"]
PIPE_IMS = ["PGA", "PGV", "SA(0.1)", "SA(0.3)", "SA(1.0)", "SA(3.0)"]


def simulated_records(n: int, seed: int, cfg: EnvelopeConfig) -> np.ndarray:
    """(n, 4096) H1 traces of the stochastic simulator over M 5-7.8, Rrup 3-200 km."""
    from gm_engine.stochastic import simulate
    from gm_engine.train.corpus import fit_length

    rng = np.random.default_rng(seed)
    cond = pd.DataFrame({"magnitude": rng.uniform(5.0, 7.8, n),
                         "rrup_km": np.exp(rng.uniform(np.log(3.0), np.log(200.0), n)),
                         "vs30": rng.uniform(200.0, 1000.0, n), "mechanism": ["SS"] * n})
    acc = simulate(cond, rng, dt=0.01, duration=81.92)
    return fit_length(acc, 0.01, cfg.stft)[:, 0].astype(np.float64)


def phase_part(n: int, gl_iters: int) -> list[dict]:
    cfg = EnvelopeConfig()
    x = torch.from_numpy(simulated_records(n, 3, cfg))
    la = band_log_amplitude(x, cfg)
    amp = bin_amplitude(la, cfg)
    ref = compute_ims(x.numpy()[:, None].repeat(3, 1), 0.01, PHASE_IMS, horizontal="H1")
    rows = []
    methods = {
        "noise": lambda: envelope_to_waveform(
            la, torch.randn(x.shape, generator=torch.Generator().manual_seed(1),
                            dtype=torch.float64), cfg),
        "pghi+8": lambda: P.reconstruct(amp, cfg.stft, n_iter=8),
        f"gl{gl_iters}": lambda: P.griffin_lim(amp, cfg.stft, n_iter=gl_iters,
                                               generator=torch.Generator().manual_seed(1)),
    }
    for name, fn in methods.items():
        t0 = time.perf_counter()
        y = fn()
        dt = (time.perf_counter() - t0) / n
        got = compute_ims(y.numpy()[:, None].repeat(3, 1), 0.01, PHASE_IMS, horizontal="H1")
        r = {im: np.log(got[im] / ref[im]) for im in PHASE_IMS}
        sc = 20 * torch.log10(P.spectral_convergence(amp, y, cfg.stft)).mean()
        rows.append({"method": name, "ms_per_trace": 1e3 * dt, "sc_db": float(sc),
                     **{f"{im} bias": float(r[im].mean()) for im in PHASE_IMS},
                     **{f"{im} std": float(r[im].std()) for im in PHASE_IMS}})
        print(rows[-1])
    return rows


def site_conditions(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (n, 2))
    rrup = np.hypot(xy[:, 0] - 50, np.minimum(np.abs(xy[:, 1] - 50), 1e9)) + 1.0
    cond = pd.DataFrame({"magnitude": np.full(n, 7.0), "rrup_km": rrup,
                         "vs30": rng.uniform(200, 900, n), "ztor_km": np.zeros(n),
                         "mechanism": ["SS"] * n})
    return cond, xy


def pipeline_part(card: str, n: int, phase: str, phase_iters: int, threads: int,
                  repeats: int = 1, baseline: str | None = None) -> dict:
    """Stage times on one core, then the whole pipeline as a run computes it (median of runs).

    With ``baseline`` (shaped noise only) that card's engine takes turns with
    ``card``'s (``interleaved_runs``); its runs come back as ``baseline_runs``.
    """
    from gm_engine.generator import load_model
    from gm_engine.generator.sampling import draw_event_terms, draw_site_terms

    gen = load_model(card, "cpu")
    cond, xy = site_conditions(n, 5)
    t = {}
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    shp = gen.latent_shape
    ev = draw_event_terms(rng, 1, shp.event)
    si = draw_site_terms(xy, 1, shp.site_channels, rng, period_s=gen.site_channel_period_s)
    t["latent draws"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    acc = gen.generate(cond, ev, si, phase=phase, phase_iters=phase_iters, seed=0,
                       vertical=False)  # as the engine: its IMs are of H1, H2
    t["sampler + waveforms"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    compute_ims(acc.reshape(n, 3, -1), gen.dt, PIPE_IMS, n_threads=1)
    t["IMs"] = time.perf_counter() - t0
    del acc
    torch.set_num_threads(threads)
    runs: list[list[float]] = []
    if phase == "noise":  # the engine: what `gm_engine run --engine cgm` calls
        runs = interleaved_runs([card] + ([baseline] if baseline else []), n, threads, repeats)
        total = float(np.median(runs[0]))
        t["runs"] = runs[0]
    else:  # no engine option for slow phase: the stages with ``threads`` threads
        t0 = time.perf_counter()
        acc = gen.generate(cond, ev, si, phase=phase, phase_iters=phase_iters, seed=0)
        compute_ims(acc.reshape(n, 3, -1), gen.dt, PIPE_IMS, n_threads=threads)
        total = time.perf_counter() - t0 + t["latent draws"]
    out = {"phase": phase if phase == "noise" else f"{phase} x{phase_iters}", "sites": n,
           **{k: v for k, v in t.items()},
           "one_core_s": sum(v for k, v in t.items() if k != "runs"),
           "total_s": total, "sites_per_s": n / total}
    if len(runs) > 1:
        out["baseline_runs"] = runs[1]
    return out


def interleaved_runs(cards: list[str], n: int, threads: int, repeats: int) -> list[list[float]]:
    """End-to-end seconds of each card's engine, the cards taking turns run by run.

    Why: on a shared 2-core machine the same process measured 755-888 sites/s
    within an hour; alternating the cards puts both under the same load, so
    their ratio means something even when the absolute figures drift.
    """
    from gm_engine.engines import CGMEngine

    torch.set_num_threads(threads)
    cond, xy = site_conditions(n, 5)
    engines = [CGMEngine("cpu", c) for c in cards]
    for e in engines:
        e.realizations(cond.iloc[:64], xy[:64], PIPE_IMS, 1, 0)  # load, warm up
    runs: list[list[float]] = [[] for _ in cards]
    for _ in range(repeats):
        for e, r in zip(engines, runs):
            t0 = time.perf_counter()
            e.realizations(cond, xy, PIPE_IMS, 1, 0)
            r.append(time.perf_counter() - t0)
    return runs


def memory_part(card: str, sizes: list[int]) -> list[dict]:
    """Peak RSS of a child process running the engine on N sites x 1 realization."""
    rows = []
    code = (
        "import sys, resource, numpy as np, pandas as pd, torch\n"
        "sys.path.insert(0, {root!r})\n"
        "torch.set_num_threads(2)\n"
        "from gm_engine.heap import retain_freed_memory; retain_freed_memory()\n"
        "from gm_engine.engines import CGMEngine\n"
        "n = int(sys.argv[1]); rng = np.random.default_rng(1)\n"
        "xy = rng.uniform(0, 300, (n, 2))\n"
        "c = pd.DataFrame({'magnitude': 7.0, 'rrup_km': np.hypot(*(xy - 150).T) + 1,\n"
        "                  'vs30': rng.uniform(200, 900, n), 'ztor_km': 0.0, 'mechanism': 'SS'})\n"
        "e = CGMEngine('cpu', {card!r})\n"
        "import time; t = time.perf_counter()\n"
        "e.realizations(c, xy, ['PGA', 'PGV', 'SA(1.0)'], 1, 0)\n"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    ).replace("{root!r}", repr(str(ROOT))).replace("{card!r}", repr(card))
    for n in sizes:
        out = subprocess.run([sys.executable, "-c", code, str(n)], capture_output=True,
                             text=True, check=True).stdout.split()
        rows.append({"sites": n, "seconds": float(out[0]), "peak_rss_mb": float(out[1]) / 1024})
        print(rows[-1])
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0]
    return (f"{cpu}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, "
            f"torch {torch.__version__}, load average {load:.1f} at start")


def write(phase_rows, pipe_rows, mem_rows, args) -> None:
    lines = ["## Generative model (cgm)", "",
             f"`python bench/bench_cgm.py --sites {args.sites} --gl-sites {args.gl_sites} "
             f"--threads {args.threads} --repeats {args.repeats}"
             + (f" --baseline-card {shown_path(args.baseline_card)}" if args.baseline_card else "")
             + f"`, {datetime.date.today()}, on the CPU "
             "(the GPU figures are in the next section); " + machine() + ".", ""]
    if args.note:
        lines += [args.note, ""]
    lines += ["### Phase from a band envelope (one thread)", "",
              f"{args.phase_records} simulated records reduced to the model's envelope; "
              "ln(IM reconstructed / IM of the source record), mean and std.", "",
              "| method | ms/trace | SC (dB) | " + " | ".join(PHASE_IMS) + " |",
              "|---|---|---|" + "---|" * len(PHASE_IMS)]
    for r in phase_rows:
        lines.append(f"| {r['method']} | {r['ms_per_trace']:.1f} | {r['sc_db']:.1f} | " + " | ".join(
            f"{r[im + ' bias']:+.2f} / {r[im + ' std']:.2f}" for im in PHASE_IMS) + " |")
    lines += ["", f"### Pipeline, {args.threads} threads", "",
              "End to end: `CGMEngine.realizations` as a run calls it (shaped noise; "
              "latent draws, sampler, waveforms and IMs, batches in parallel threads), "
              "or for Griffin-Lim the stages below with the same threads. "
              "The stages are also timed one after the other on one core.", "",
              "| phase | sites | end to end (s) | sites/s | one core: latent draws (s) | "
              "sampler + waveforms (s) | IMs (s) | total (s) |",
              "|---|---|---|---|---|---|---|---|"]
    def stage(r: dict, key: str) -> str:
        return f"{r[key]:.2f}" if key in r else "-"

    for r in pipe_rows:
        lines.append(f"| {r['phase']} | {r['sites']} | {r['total_s']:.2f} | "
                     f"{r['sites_per_s']:.1f} | {stage(r, 'latent draws')} | "
                     f"{stage(r, 'sampler + waveforms')} | {stage(r, 'IMs')} | "
                     f"{stage(r, 'one_core_s')} |")
    timed = [r for r in pipe_rows if r.get("runs")]
    for r in timed:
        lines += ["", f"End-to-end runs (s), {r['phase']}: "
                  + ", ".join(f"{v:.2f}" for v in r["runs"]) + " (median in the table)."]
    if len(timed) > 1:
        lines += ["", f"The two cards took turns run by run (`--baseline-card`): "
                  f"{timed[0]['sites_per_s'] / timed[1]['sites_per_s']:.2f} x."]
    gl = [r for r in pipe_rows if r["phase"].startswith("griffin-lim")]
    if gl:
        lines += ["", f"Shaped noise is {pipe_rows[0]['sites_per_s'] / gl[0]['sites_per_s']:.0f}"
                  " x faster end to end than 500 Griffin-Lim iterations."]
    if mem_rows:
        lines += ["", "### Engine memory (1 realization, child process)", "",
                  "| sites | seconds | peak RSS (MB) |", "|---|---|---|"]
        lines += [f"| {r['sites']} | {r['seconds']:.1f} | {r['peak_rss_mb']:.0f} |"
                  for r in mem_rows]
    replace_section("## Generative model (cgm)", "\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--card", default=str(bundled_model_card()))
    ap.add_argument("--phase-records", type=int, default=24)
    ap.add_argument("--gl-iters", type=int, default=500)
    ap.add_argument("--sites", type=int, default=1024)
    ap.add_argument("--gl-sites", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5,
                    help="end-to-end runs of the engine; the median is reported")
    ap.add_argument("--baseline-card", default=None,
                    help="also time this card's engine end to end, taking turns with --card")
    ap.add_argument("--memory-sites", default="2000,8000")
    ap.add_argument("--note", default="")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    retain_freed_memory()  # as the CLI does (gm_engine.heap)
    torch.set_num_threads(1)
    phase_rows = phase_part(args.phase_records, args.gl_iters)
    pipe = [pipeline_part(args.card, args.sites, "noise", 0, args.threads, args.repeats,
                          baseline=args.baseline_card),
            pipeline_part(args.card, args.gl_sites, "griffin-lim", args.gl_iters, args.threads)]
    if args.baseline_card:
        base_runs = pipe[0].pop("baseline_runs")
        pipe[0]["phase"] = f"noise, {load_card(args.card).name}"
        pipe.insert(1, {"phase": f"noise, {load_card(args.baseline_card).name}",
                        "sites": args.sites, "runs": base_runs,
                        "total_s": float(np.median(base_runs)),
                        "sites_per_s": args.sites / float(np.median(base_runs))})
    torch.set_num_threads(args.threads)
    for r in pipe:
        print(r)
    sizes = [int(v) for v in args.memory_sites.split(",") if v]
    mem = memory_part(args.card, sizes) if sizes else []
    if args.write:
        write(phase_rows, pipe, mem, args)


if __name__ == "__main__":
    main()
