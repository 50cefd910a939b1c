"""GPU benchmark of the cgm pipeline: sites per second on one card, and GPU-vs-CPU agreement.

Runs the engine the way ``python -m gm_engine run --engine cgm --device cuda``
does (gm_engine.engines.CGMEngine.realizations: latent draws, the neural
sampler, keyed white noise shaped into waveforms, and PGA, PGV, RotD50 PSA
at 0.1, 0.3, 1 and 3 s computed on the GPU by gm_engine.ims.torch_ims) for
N sites x 1 realization of an M 7 strike-slip scenario, and times each stage
separately on the same sites. Side by side: the same model with 500
Griffin-Lim iterations (CGM-GM's way of making phase) on a few sites. Checks:
the GPU IMs against gm_engine.ims.compute_ims on the CPU for the same
waveforms, and the keyed draws of gm_engine.generator.keyed on GPU and CPU.

A GPU machine is lent to some sessions only, so the measurement runs there and
writes JSON; the PERFORMANCE.md section is written from that JSON here:

    python bench/bench_gpu.py --sites 10000 100000 --json OUT.json      # on the GPU
    python bench/bench_gpu.py --from-json OUT.json --write               # anywhere
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

IMS = ["PGA", "PGV", "SA(0.1)", "SA(0.3)", "SA(1.0)", "SA(3.0)"]
SECTION = "## Generative model on a GPU"


def conditions(n: int, seed: int = 5):
    """Sites on a 300 x 300 km square around a 60 km strike-slip trace, M 7."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, 300.0, (n, 2))
    along = np.clip(xy[:, 0], 120.0, 180.0)
    rrup = np.hypot(xy[:, 0] - along, xy[:, 1] - 150.0) + 1.0
    cond = pd.DataFrame({"magnitude": 7.0, "rrup_km": rrup, "vs30": rng.uniform(200, 900, n),
                         "ztor_km": 0.0, "mechanism": "SS"})
    return cond, xy


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def engine_run(card: str, device: str, n: int, stages: bool = True,
               batch: int | None = None, row_block: int | None = None,
               dtype: str | None = None) -> dict:
    """End to end through CGMEngine.realizations, then (``stages``) stage by stage;
    ``batch``: site-realizations per batch, ``row_block``: rows per model call
    (padded), ``dtype``: of the network and synthesis; None: the generator's
    defaults."""
    import torch

    from gm_engine.engines import CGMEngine, generated_ims, torch_ims_support
    from gm_engine.generator.sampling import draw_event_terms, draw_site_terms

    eng = CGMEngine(device, card)
    gen = eng.generator()
    gen.batch_rows = batch
    if row_block is not None:
        gen.row_block = row_block
    if dtype is not None:
        gen.compute_in(getattr(torch, dtype))
    cond, xy = conditions(n)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    sync()
    t0 = time.perf_counter()
    eng.realizations(cond, xy, IMS, 1, seed=0)
    sync()
    total = time.perf_counter() - t0
    row = {"sites": n, "device": str(gen.device), "end_to_end_s": total,
           "sites_per_s": n / total, "batch": gen.default_batch(), "row_block": gen.row_block,
           "dtype": str(gen.dtype).removeprefix("torch."),
           "gpu_peak_mib": (torch.cuda.max_memory_allocated() / 2 ** 20
                            if torch.cuda.is_available() else None),
           "host_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if not stages:
        return {**row, "stages_s": {}, "ims_on_device": None}
    stages = {}
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    ev = draw_event_terms(rng, 1, gen.latent_shape.event)
    si = draw_site_terms(xy, 1, gen.latent_shape.site_channels, rng, device=str(gen.device),
                         period_s=gen.site_channel_period_s)
    sync()
    stages["latent draws"] = time.perf_counter() - t0
    on_device = gen.device.type != "cpu" and torch_ims_support(IMS)
    t_gen = t_ims = 0.0
    t0 = time.perf_counter()
    for _bsl, acc in gen.generate_batches(cond, ev, si, seed=0):
        sync()
        t1 = time.perf_counter()
        t_gen += t1 - t0
        generated_ims(acc.reshape(-1, 3, acc.shape[-1]), gen.dt, IMS, on_device)
        sync()
        t0 = time.perf_counter()
        t_ims += t0 - t1
    stages["sampler + waveforms"] = t_gen
    stages["IMs"] = t_ims
    return {**row, "stages_s": stages, "ims_on_device": on_device}


def griffin_lim_run(card: str, device: str, n: int, iters: int) -> dict:
    """The same sampler with CGM-GM's phase: ``iters`` Griffin-Lim iterations per waveform."""
    from gm_engine.engines import CGMEngine, generated_ims, torch_ims_support
    from gm_engine.generator.sampling import draw_event_terms, draw_site_terms

    gen = CGMEngine(device, card).generator()
    cond, xy = conditions(n)
    rng = np.random.default_rng(0)
    ev = draw_event_terms(rng, 1, gen.latent_shape.event)
    si = draw_site_terms(xy, 1, gen.latent_shape.site_channels, rng,
                         period_s=gen.site_channel_period_s)
    on_device = gen.device.type != "cpu" and torch_ims_support(IMS)
    sync()
    t0 = time.perf_counter()
    for _bsl, acc in gen.generate_batches(cond, ev, si, phase="griffin-lim", phase_iters=iters,
                                          seed=0):
        generated_ims(acc.reshape(-1, 3, acc.shape[-1]), gen.dt, IMS, on_device)
    sync()
    dt = time.perf_counter() - t0
    return {"sites": n, "iterations": iters, "seconds": dt, "sites_per_s": n / dt}


def agreement(card: str, device: str, n: int) -> dict:
    """Max |ln(GPU IM / CPU IM)| for the same waveforms; keyed draws GPU vs CPU."""
    import torch

    from gm_engine.engines import CGMEngine
    from gm_engine.generator.keyed import keyed_normal, keys, words
    from gm_engine.ims import compute_ims
    from gm_engine.ims.torch_ims import compute_ims_torch

    gen = CGMEngine(device, card).generator()
    cond, _ = conditions(n, seed=9)
    acc = gen.generate_independent(cond, seed=3)
    ref = compute_ims(acc, gen.dt, IMS)
    got = compute_ims_torch(torch.from_numpy(acc).to(gen.device), gen.dt, IMS)
    out = {im: float(np.abs(np.log(got[im].cpu().numpy() / ref[im])).max()) for im in IMS}
    k = keys(11, 1, np.arange(256), np.arange(2))
    same_words = bool(torch.equal(words(k, 64), words(k.to(gen.device), 64).cpu()))
    a = keyed_normal(k, (3, 4096))
    b = keyed_normal(k.to(gen.device), (3, 4096)).cpu()
    # A map's site regenerated alone (the waveform viewer) must be the run's
    # waveform bit for bit, and its IMs the run's, whatever the batch.
    from gm_engine.generator.sampling import draw_event_terms, draw_site_terms

    shp = gen.latent_shape
    cond, xy = conditions(300, seed=9)
    rng = np.random.default_rng(1)
    ev = draw_event_terms(rng, 2, shp.event)
    si = draw_site_terms(xy, 2, shp.site_channels, rng, period_s=gen.site_channel_period_s)
    batch = gen.generate(cond, ev, si, seed=5)
    picks = [0, 17, 299]
    alone = [gen.generate(cond.iloc[[i]].reset_index(drop=True), ev, si[[i]], seed=5,
                          site_ids=np.array([i]))[0] for i in picks]
    x = torch.from_numpy(batch.reshape(-1, 3, batch.shape[-1])).to(gen.device)
    ims_batch = compute_ims_torch(x, gen.dt, IMS)
    ims_alone = [compute_ims_torch(x[j:j + 1], gen.dt, IMS) for j in (0, 35, 599)]
    return {"records": n, "max_abs_ln_ratio": out,
            "engine_matches_generate": engine_matches_generate(card, device),
            "site_alone_identical": all(np.array_equal(batch[i], a) for i, a in zip(picks, alone)),
            "ims_alone_identical": all(torch.equal(one[im], ims_batch[im][j:j + 1])
                                       for j, one in zip((0, 35, 599), ims_alone) for im in IMS),
            "keyed_words_identical": same_words,
            "keyed_normals_max_abs_diff": float((a - b).abs().max()),
            "keyed_normals_identical_fraction": float((a == b).double().mean())}


def engine_matches_generate(card: str, device: str, n: int = 300) -> bool:
    """The engine's IMs (batches measured in a second thread) are those of the same
    sites generated with ``generate`` and measured in one call, bit for bit."""
    import torch

    from gm_engine.engines import CGMEngine
    from gm_engine.ims.torch_ims import compute_ims_torch

    eng = CGMEngine(device, card)
    cond, xy = conditions(n, seed=11)
    got = eng.realizations(cond, xy, IMS, 2, seed=4)
    gen, terms = eng.generator(), eng._terms
    acc = gen.generate(cond, terms["eps_event"], terms["eps_site"], seed=4, vertical=False)
    x = torch.from_numpy(acc.reshape(-1, 3, acc.shape[-1])).to(gen.device)
    ref = compute_ims_torch(x, gen.dt, IMS) if gen.device.type != "cpu" else None
    if ref is None:  # the CPU engine measures with compute_ims
        from gm_engine.ims import compute_ims

        ref = {k: torch.from_numpy(v) for k, v in compute_ims(acc.reshape(-1, 3, acc.shape[-1]),
                                                             gen.dt, IMS, n_threads=1).items()}
    return all(np.array_equal(got[im], ref[im].cpu().numpy().reshape(n, 2).T) for im in IMS)


def machine() -> dict:
    import torch

    info = {"date": datetime.date.today().isoformat(), "python": platform.python_version(),
            "torch": torch.__version__, "cpus": os.cpu_count(), "numpy": np.__version__}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        info.update(gpu=torch.cuda.get_device_name(0), gpu_memory_gib=p.total_memory / 2 ** 30,
                    cuda=torch.version.cuda)
    return info


def section(res: dict) -> str:
    m = res["machine"]
    lines = [SECTION, "",
             f"`python bench/bench_gpu.py --sites {' '.join(str(r['sites']) for r in res['runs'])}"
             f" --json OUT.json` on {m.get('gpu', 'no GPU')} ({m.get('gpu_memory_gib', 0):.0f} GiB"
             f"), {m['cpus']} CPUs, torch {m['torch']} (CUDA {m.get('cuda')}), Python "
             f"{m['python']}, {m['date']}; written here with `--from-json OUT.json --write`.",
             "", "The bundled model, 1 realization, IMs " + ", ".join(IMS) + " (RotD50). "
             "End to end is `CGMEngine.realizations` as a run calls it; the stages are timed "
             "again separately on the same sites (model in float64).", "",
             "| sites | end to end (s) | sites/s | latent draws (s) | sampler + waveforms (s)"
             " | IMs (s) | IMs on GPU | GPU peak (MiB) | host peak RSS (MiB) |",
             "|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in res["runs"]:
        s = r["stages_s"]
        draws = s.get("latent draws", s.get("latent draws (CPU)"))
        cells = [f"{v:.2f}" if v is not None else "-"
                 for v in (draws, s.get("sampler + waveforms"), s.get("IMs"))]
        on_dev = {True: "yes", False: "no", None: "-"}[r["ims_on_device"]]
        lines.append(f"| {r['sites']:,} | {r['end_to_end_s']:.2f} | {r['sites_per_s']:,.0f} | "
                     f"{' | '.join(cells)} | {on_dev} | "
                     f"{r['gpu_peak_mib'] or 0:,.0f} | {r['host_peak_rss_mib']:,.0f} |")
    if res.get("batches"):
        lines += ["", "Other settings, end to end (site-realizations per batch, rows per "
                  "model call, dtype; the table's are the defaults): " + ", ".join(f"{r['batch']:,}"
                                           + (f" in row blocks of {r['row_block']:,}"
                                              if r.get("row_block") else "")
                                           + (f" in {r['dtype']}" if r.get("dtype") else "")
                                           + f": {r['sites_per_s']:,.0f} sites/s, "
                                           f"{r['gpu_peak_mib'] or 0:,.0f} MiB GPU peak"
                                           for r in res["batches"]) + f" ({res['batches'][0]['sites']:,} sites)."]
    g = res.get("griffin_lim")
    if g:
        best = max(r["sites_per_s"] for r in res["runs"])
        lines += ["", f"CGM-GM's phase on the same card: {g['iterations']} Griffin-Lim "
                  f"iterations per waveform, {g['sites']} sites in {g['seconds']:.1f} s = "
                  f"{g['sites_per_s']:.1f} sites/s, {best / g['sites_per_s']:,.0f} x slower than "
                  "shaped noise."]
    a = res.get("agreement")
    if a:
        lines += ["", f"GPU vs CPU on {a['records']} generated records: max |ln(IM_GPU / "
                  "IM_CPU)| " + ", ".join(f"{k} {v:.1e}" for k, v in a["max_abs_ln_ratio"].items())
                  + f"; keyed draws: words identical {a['keyed_words_identical']}, normals "
                  f"identical for {100 * a['keyed_normals_identical_fraction']:.4f} % of values, "
                  f"max difference {a['keyed_normals_max_abs_diff']:.1e}."]
        if "engine_matches_generate" in a:
            lines[-1] += (" The engine's threaded batches give the IMs of the same sites "
                          f"generated and measured in one call: {a['engine_matches_generate']}.")
        if "site_alone_identical" in a:
            lines[-1] += (" On the GPU, sites regenerated alone are bit for bit the batch's: "
                          f"waveforms {a['site_alone_identical']}, IMs "
                          f"{a['ims_alone_identical']}.")
    if res.get("note"):
        lines += ["", res["note"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from gm_engine.engines import bundled_model_card

    ap.add_argument("--card", default=str(bundled_model_card()))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sites", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--gl-sites", type=int, default=256)
    ap.add_argument("--gl-iters", type=int, default=500)
    ap.add_argument("--batch", type=int, nargs="+", default=[],
                    help="also time the largest --sites end to end at these batch sizes")
    ap.add_argument("--row-block", type=int, nargs="+", default=[],
                    help="also time the largest --sites with model calls of this many rows")
    ap.add_argument("--dtype", nargs="+", default=[],
                    help="also time the largest --sites with the model in this dtype")
    ap.add_argument("--check-records", type=int, default=512)
    ap.add_argument("--stages-max", type=int, default=20_000,
                    help="time the stages separately only up to this many sites")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--from-json", help="read results measured elsewhere instead of running")
    ap.add_argument("--note", default="")
    ap.add_argument("--write", action="store_true", help=f"replace '{SECTION}' in PERFORMANCE.md")
    a = ap.parse_args()
    if a.from_json:
        res = json.loads(Path(a.from_json).read_text())
    else:
        res = {"machine": machine(), "runs": []}
        print(res["machine"], flush=True)
        engine_run(a.card, a.device, min(2000, a.sites[0]), False)  # warm-up: plans, kernels
        if a.check_records:  # small and first: a short lease still brings it back
            res["agreement"] = agreement(a.card, a.device, a.check_records)
            print(json.dumps(res["agreement"]), flush=True)
        for n in a.sites:
            res["runs"].append(engine_run(a.card, a.device, n, n <= a.stages_max))
            print(json.dumps(res["runs"][-1]), flush=True)
            if a.json:
                Path(a.json).write_text(json.dumps(res, indent=1))
        for b, rb, dt in ([(b, None, None) for b in a.batch]
                          + [(None, rb, None) for rb in a.row_block]
                          + [(None, None, dt) for dt in a.dtype]):
            res.setdefault("batches", []).append(engine_run(a.card, a.device, max(a.sites),
                                                            False, b, rb, dt))
            print(json.dumps(res["batches"][-1]), flush=True)
            if a.json:
                Path(a.json).write_text(json.dumps(res, indent=1))
        if a.gl_sites:
            res["griffin_lim"] = griffin_lim_run(a.card, a.device, a.gl_sites, a.gl_iters)
            print(json.dumps(res["griffin_lim"]), flush=True)
    if a.note:
        res["note"] = a.note
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    text = section(res)
    print(text)
    if a.write:
        from perfdoc import replace_section

        replace_section(SECTION, text)


if __name__ == "__main__":
    main()
