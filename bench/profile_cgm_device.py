"""Where a cgm batch spends its time on one device: host-side steps, GPU kernels, IMs.

bench_gpu.py gives sites/s end to end and three coarse stages; this script
splits one chunk of sites the way ``CGMGenerator.generate_batches`` handles
it (features, marginalised draws, pulse probability, mean correction, keyed
draws, network, synthesis, each IM) with a device synchronisation around
each step, and adds ``torch.profiler``'s table of the busiest operators. The
generator's float64 (its CUDA default) and float32 are both timed, so the cost
of float64 on the card is a measurement. Output: JSON and the profiler tables.

    python bench/profile_cgm_device.py --device cuda --sites 16384 --out DIR
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_gpu import IMS, conditions  # noqa: E402


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Best of ``repeats`` synchronised wall times (s) and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best, out


def steps(gen: Any, n: int, repeats: int) -> dict[str, float]:
    """Seconds per step for ``n`` sites x 1 realization, one batch, in the sampler's order."""
    from gm_engine.generator import keyed
    from gm_engine.generator.calibration import possible_columns
    from gm_engine.generator.envelope import envelope_to_waveform
    from gm_engine.generator.model import (
        FRAME_STREAM,
        NOISE_STREAM,
        PULSE_STREAM,
        STATIC_STREAM,
        pulse_train,
    )
    from gm_engine.ims.torch_ims import compute_ims_torch

    dev, dt = gen.device, gen.dtype
    shp = gen.latent_shape
    cond, _ = conditions(n)
    ids, real = np.arange(n), np.arange(1)
    t: dict[str, float] = {}
    t["features (host)"], feats = timed(lambda: gen.card.features(cond, clamp=True), repeats)
    if gen.card.marginalised:
        t["marginal uniforms (host)"], u = timed(
            lambda: gen.marginal_uniforms(0, ids, real), repeats)
        t["marginalised features (host)"], feats = timed(
            lambda: gen.marginalised_features(feats, u), repeats)
    t["pulse probability (host)"], p = timed(lambda: gen.pulse_probability(feats), repeats)
    if gen.mean_correction is not None:  # the GPU path's host share (the basis is on the card)
        t["mean correction columns (host)"], _ = timed(
            lambda: possible_columns(feats, gen.mean_correction), repeats)

    def latent() -> tuple[torch.Tensor, torch.Tensor]:
        ks = keyed.keys(0, STATIC_STREAM, ids, real, dev)
        kf = keyed.keys(0, FRAME_STREAM, ids, real, dev)
        return (keyed.keyed_normal(ks, shp.event).to(dt).reshape(n, -1),
                keyed.keyed_normal(kf, (shp.n_frames, shp.z_dim)).to(dt).reshape(
                    n, shp.n_frames, shp.z_dim))
    t["keyed latent draws"], (eps_g, frames) = timed(latent, repeats)

    def noise() -> torch.Tensor:
        k = keyed.keys(0, NOISE_STREAM, ids, real, dev)
        wn = keyed.keyed_normal(k, (2, gen.stft_cfg.n_samples), dtype=dt).reshape(n, 2, -1)
        if p is None:
            return wn
        kp = keyed.keys(0, PULSE_STREAM, ids, real, dev)
        uu = keyed.keyed_uniform(kp, gen.stft_cfg.n_samples).reshape(n, -1)
        return pulse_train(wn, uu, p)
    t["keyed white noise + pulses (H1, H2)"], wn = timed(noise, repeats)

    def network() -> torch.Tensor:
        c = torch.from_numpy(feats).to(dev, dt)
        with torch.no_grad():
            zg = gen.static_latent(c, eps_g)
            return gen.model.sample(c, zg, frames)
    t["network"], log_amp = timed(network, repeats)
    t["decoded shift (host + copy)"], shift = timed(lambda: gen._decoded_shift(feats), repeats)
    la = (log_amp.to(dt) + shift)[:, :2]
    t["synthesis (H1, H2)"], acc = timed(lambda: envelope_to_waveform(la, wn, gen.envelope),
                                          repeats)
    x = torch.cat([acc.float(), torch.zeros_like(acc[:, :1]).float()], dim=1)
    for im in IMS:
        t[f"IM {im}"], _ = timed(lambda im=im: compute_ims_torch(x, gen.dt, [im]), repeats)
    t["IMs together"], _ = timed(lambda: compute_ims_torch(x, gen.dt, IMS), repeats)
    return t


def engine_loop(gen: Any, n: int) -> None:
    """The engine's GPU loop (``measure_on_device``: the sampler in this thread, each
    batch's IMs in a second one on its own stream) for n sites x 1 realization."""
    from gm_engine.engines import measure_on_device
    from gm_engine.generator.sampling import draw_event_terms, draw_site_terms

    cond, xy = conditions(n)
    rng = np.random.default_rng(0)
    ev = draw_event_terms(rng, 1, gen.latent_shape.event)
    si = draw_site_terms(xy, 1, gen.latent_shape.site_channels, rng, device=str(gen.device),
                         period_s=gen.site_channel_period_s)
    out = {im: np.zeros((1, n)) for im in IMS}
    measure_on_device(gen, cond, ev, si, 0, IMS, out, None, None)


def profiler_table(fn: Callable[[], Any], device: torch.device, rows: int = 30,
                   trace: str | None = None) -> str:
    """torch.profiler's busiest operators for ``fn`` (and its Chrome trace, gzipped, at
    ``trace``: the timeline shows when each thread and stream waits)."""
    from torch.profiler import ProfilerActivity, profile

    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=acts) as prof:
        fn()
        sync()
    if trace:
        import gzip
        import shutil

        raw = Path(trace).with_suffix("")
        prof.export_chrome_trace(str(raw))
        with open(raw, "rb") as src, gzip.open(trace, "wb") as dst:
            shutil.copyfileobj(src, dst)
        raw.unlink()
    key = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    avg = prof.key_averages()
    return (f"sorted by {key}\n" + avg.table(sort_by=key, row_limit=rows) +
            "\nsorted by self_cpu_time_total\n" +
            avg.table(sort_by="self_cpu_time_total", row_limit=rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    from gm_engine.engines import bundled_model_card

    ap.add_argument("--card", default=str(bundled_model_card()))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sites", type=int, default=16384)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    ap.add_argument("--out", default="profile_out")
    ap.add_argument("--loop-sites", type=int, default=None,
                    help="sites of the profiled engine loop (default --sites; more than a "
                         "batch shows how batches overlap)")
    ap.add_argument("--trace", action="store_true",
                    help="also write the engine loop's Chrome trace (trace.json.gz in --out)")
    a = ap.parse_args()
    from gm_engine.engines import CGMEngine

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    res: dict[str, Any] = {"sites": a.sites, "device": a.device, "ims": IMS,
                           "torch": torch.__version__,
                           "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available()
                           else None}
    for name in a.dtypes:
        gen = CGMEngine(a.device, a.card).generator()
        gen.compute_in(getattr(torch, name))
        steps(gen, min(a.sites, 1024), 1)  # warm-up: plans, kernels, caches
        res[name] = steps(gen, a.sites, a.repeats)
        print(name, json.dumps(res[name], indent=1), flush=True)
        (out / "profile.json").write_text(json.dumps(res, indent=1))
        if name == a.dtypes[0]:
            (out / f"profiler_{name}.txt").write_text(profiler_table(
                lambda g=gen: engine_loop(g, a.loop_sites or a.sites), gen.device,
                trace=str(out / "trace.json.gz") if a.trace else None))
    print((out / "profile.json").read_text())


if __name__ == "__main__":
    main()
