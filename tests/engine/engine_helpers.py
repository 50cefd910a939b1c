"""Helpers shared by engine tests (a plain module: 'conftest' is ambiguous across folders)."""
from __future__ import annotations

from pathlib import Path


def write_sites_csv(path: Path, rows: list[tuple[str, float, float, float]]) -> Path:
    lines = ["name,lon,lat,vs30"] + [f"{n},{x},{y},{v}" for n, x, y, v in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


#: A tiny untrained generator (seconds on a CPU), as tests/engine/test_generator.py's.
TINY_ARCH = dict(conv_channels=8, enc_hidden=32, prior_hidden=32, dec_hidden=64,
                 cond_embed=16, cond_hidden=16)
TINY_RANGES = {"magnitude": (5.0, 8.0), "rrup_km": (1.0, 300.0), "vs30": (150.0, 1500.0),
               "ztor_km": (0.0, 20.0)}


def make_tiny_model_card(folder: Path, seed: int = 0, synthesis: dict | None = None,
                         marginalised: dict | None = None) -> Path:
    """Card + safetensors weights of an untrained tiny CGM in ``folder``; returns the card."""
    import torch
    from safetensors.torch import save_file

    from gm_engine.generator import CGMVAE, ModelConfig
    from gm_engine.generator.card import (
        TRANSFERABLE_CONDITIONS,
        ConditionSpec,
        ModelCard,
        sha256_file,
    )
    from gm_engine.generator.envelope import EnvelopeConfig

    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    cfg = ModelConfig(**TINY_ARCH)
    model = CGMVAE(cfg)
    model.spec_mean.fill_(-3.0)  # log10 g: roughly accelerogram scale
    model.spec_std.fill_(1.0)
    save_file(model.state_dict(), str(folder / "model.safetensors"))
    specs = []
    for base in TRANSFERABLE_CONDITIONS:
        s = ConditionSpec(**{**base.__dict__, "categories": list(base.categories)})
        if s.kind == "numeric":
            s.min, s.max = TINY_RANGES[s.column]
        specs.append(s)
    card = ModelCard(name="tiny", weights_file="model.safetensors",
                     sha256=sha256_file(folder / "model.safetensors"),
                     architecture=cfg.to_dict(), stft=EnvelopeConfig().to_dict(),
                     conditions=specs, latent={"w_between": 0.3, "site_persistent": 0.5})
    if synthesis is not None:
        card.synthesis = synthesis
    if marginalised is not None:
        card.marginalised = marginalised
    return card.save(folder / "card.json")
