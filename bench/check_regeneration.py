"""Is a site regenerated alone bit for bit the run's? Stage by stage, on one device.

The waveform viewer regenerates one site from the run's stored draws and
relies on getting the run's waveform. This script generates S sites x 2
realizations in one call and a few of them alone, records what each stage
produced (features, white noise, decoded envelopes, the mean correction,
waveforms) and reports, per stage, how many values differ and by how much,
with the generator's own row blocks and with a forced row block. Where the
first difference appears names the operation that depends on its batch.

    python bench/check_regeneration.py --device cuda --row-block 0 4096 --json OUT.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_gpu import conditions  # noqa: E402

STAGES = ("features", "white noise", "decoded envelope", "decoded shift", "waveform")


def record_stages(gen: Any) -> dict[str, list[torch.Tensor]]:
    """Wrap the generator's stages so each call's output is kept (rows first)."""
    seen: dict[str, list[torch.Tensor]] = {s: [] for s in STAGES}
    sample, shift, waveforms = gen.model.sample, gen._decoded_shift, gen._waveforms

    def keep(stage: str, x: Any) -> None:
        seen[stage].append(torch.as_tensor(x).detach().to("cpu", copy=True))

    def sample_(cond, eps_g, eps):
        out = sample(cond, eps_g, eps)
        keep("decoded envelope", out)
        return out

    def shift_(feats):
        keep("features", feats)
        out = shift(feats)
        keep("decoded shift", out if isinstance(out, torch.Tensor) else torch.zeros(1))
        return out

    def waveforms_(rows, eps_g, frames, noise, *args, **kw):
        if noise is not None:
            keep("white noise", noise)
        out = waveforms(rows, eps_g, frames, noise, *args, **kw)
        keep("waveform", out)
        return out

    gen.model.sample, gen._decoded_shift, gen._waveforms = sample_, shift_, waveforms_
    return seen


def rows_of(seen: dict[str, list[torch.Tensor]], n_rows: int) -> dict[str, torch.Tensor]:
    """Each stage's first ``n_rows`` real rows (padding, if any, closes the last block)."""
    out = {}
    for stage, parts in seen.items():
        if parts and parts[0].dim() >= 2:
            out[stage] = torch.cat(parts)[:n_rows]
    return out


def compare(card: str, device: str, n_sites: int, picks: list[int], row_block: int | None,
            vertical: bool, dtype: str | None = None) -> tuple[dict[str, Any], torch.Tensor]:
    from gm_engine.engines import CGMEngine
    from gm_engine.generator.sampling import draw_event_terms, draw_site_terms

    gen = CGMEngine(device, card).generator()
    if row_block is not None:
        gen.row_block = row_block or None
    if dtype is not None:
        gen.compute_in(getattr(torch, dtype))
    shp = gen.latent_shape
    cond, xy = conditions(n_sites, seed=9)
    rng = np.random.default_rng(1)
    r = 2
    ev = draw_event_terms(rng, r, shp.event)
    si = draw_site_terms(xy, r, shp.site_channels, rng, period_s=gen.site_channel_period_s)
    seen = record_stages(gen)
    gen.generate(cond, ev, si, seed=5, vertical=vertical)
    batch = rows_of(seen, n_sites * r)
    res: dict[str, Any] = {"device": str(gen.device), "row_block": gen.row_block,
                           "dtype": str(gen.dtype).removeprefix("torch."),
                           "vertical": vertical, "sites": n_sites, "picks": picks, "stages": {}}
    for i in picks:
        for s in seen.values():
            s.clear()
        gen.generate(cond.iloc[[i]].reset_index(drop=True), ev, si[[i]], seed=5,
                     site_ids=np.array([i]), vertical=vertical)
        alone = rows_of(seen, r)
        for stage, a in alone.items():
            b = batch[stage][i * r:(i + 1) * r]
            if stage == "waveform" and not vertical:
                a, b = a[:, :2], b[:, :2]
            diff = (a.double() - b.double()).abs()
            st = res["stages"].setdefault(stage, {"values": 0, "differ": 0, "max_abs": 0.0,
                                                  "max_rel": 0.0})
            st["values"] += a.numel()
            st["differ"] += int((a != b).sum())
            st["max_abs"] = max(st["max_abs"], float(diff.max()))
            st["max_rel"] = max(st["max_rel"], float((diff / b.double().abs().clamp_min(
                1e-30)).max()))
    res["identical"] = all(s["differ"] == 0 for s in res["stages"].values())
    return res, batch["waveform"]


def horizontals_differ(with_z: torch.Tensor, without_z: torch.Tensor) -> int:
    """Samples of H1 and H2 that differ between a batch made with Z and one without
    (a run measures without Z, the viewer shows all three)."""
    return int((with_z[:, :2] != without_z[:, :2]).sum())


def main() -> None:
    from gm_engine.engines import bundled_model_card

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--card", default=str(bundled_model_card()))
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--sites", type=int, default=300)
    ap.add_argument("--picks", type=int, nargs="+", default=[0, 17, 299])
    ap.add_argument("--row-block", type=int, nargs="+", default=[-1],
                    help="-1: the generator's own; 0: none (whole batches); N: pad to N rows")
    ap.add_argument("--dtype", default=None, help="network and synthesis dtype (default: "
                    "the generator's); also reports the largest difference from float64")
    ap.add_argument("--json")
    a = ap.parse_args()
    results = []
    for rb in a.row_block:
        made = {}
        for vertical in (True, False):
            res, made[vertical] = compare(a.card, a.device, a.sites, a.picks,
                                          None if rb < 0 else rb, vertical, a.dtype)
            results.append(res)
            print(json.dumps(res), flush=True)
        summary = {"row_block": results[-1]["row_block"], "dtype": results[-1]["dtype"],
                   "horizontals_differ_with_and_without_z":
                       horizontals_differ(made[True], made[False])}
        if a.dtype not in (None, "float64"):
            _, ref = compare(a.card, a.device, a.sites, a.picks[:1], None if rb < 0 else rb,
                             True, "float64")
            d = (made[True].double() - ref.double()).abs()
            summary["vs_float64_max_abs"] = float(d.max())
            summary["vs_float64_rms_rel"] = float((d.square().mean()
                                                   / ref.double().square().mean()).sqrt())
        results.append(summary)
        print(json.dumps(results[-1]), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
