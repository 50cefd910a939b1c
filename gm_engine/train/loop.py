"""Training loop: KL-annealed ELBO, validation split, early stopping, checkpoints.

Loss per frame (normalised log10 band amplitudes xn, reconstruction x^):
    sum_{c,k} (xn - x^)^2 + beta(epoch) * [KL(q(z_t | x, c) || sg p(z_t | c, t))
                                         + KL(q(z_g | x, c) || N(0, I)) / M]
                          + PRIOR_WEIGHT * KL(sg q || p)       (sg: stop-gradient)
i.e. a Gaussian decoder with fixed variance, as CGM-GM's MSE + beta KL
(Ren et al. 2026). beta rises linearly from 0 to ``beta_max`` over
``kl_warmup_epochs`` (KL annealing, Bowman et al. 2016, CoNLL) so the decoder
learns to use z before the prior pulls the posterior in. ``beta_max`` = 1:
CGM-GM's public tuning script searches beta in 0.01-0.2, but for log
spectrograms min-max scaled to [0, 1], whose squared errors are ~25-100 times
smaller than those of our per-bin standardised ones (per-bin std ~0.1-0.2 on
that scale), so their range maps to ~0.25-20 here. In a short run on a toy
corpus (docs/generator.md) beta 0.05 let the latents carry the amplitude and
prior samples ignored the magnitude; beta 1 learned the magnitude scaling.
Validation uses beta_max throughout, so its loss is comparable across epochs
and early stopping is not fooled by the annealing schedule.

Checkpoints hold only tensors and plain containers and are read back with
``torch.load(weights_only=True)``; the shipped weights are safetensors.
"""
from __future__ import annotations

import copy
import csv
import datetime as _dt
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import Cancelled, InputError
from ..generator.calibration import energy_level
from ..generator.card import (
    COORDINATE_CONDITIONS,
    MECHANISMS,
    TRANSFERABLE_CONDITIONS,
    ConditionSpec,
    ModelCard,
    load_card,
    mechanism_codes,
    sha256_file,
    verify_weights,
)
from ..generator.device import resolve_device
from ..generator.envelope import EnvelopeConfig, batched_band_log_amplitude, synthesis_offset
from ..generator.model import CGMVAE, ModelConfig, kl_gaussians, n_parameters
from ..generator.sampling import DEFAULT_SITE_PERSISTENT, DEFAULT_W_BETWEEN
from ..generator.stft import STFTConfig
from .corpus import WaveformSet, corpus_size, load_corpus
from .records import load_records

LR = 7e-4  # CGM-GM tuning space {6e-4, 7e-4, 8e-4}
WEIGHT_DECAY = 5e-6  # CGM-GM tuning space {1e-6, 5e-6, 1e-5}
BETA_MAX = 1.0
GRAD_CLIP = 5.0
LR_DECAYS = ("none", "cosine")
#: training records for the static prior (decoder_calibration); the mean correction
#: uses all of them
CALIBRATION_RECORDS = 20000
LR_FLOOR = 0.05  # cosine decay ends at this fraction of the initial learning rate
#: Weight of the prior's own fit to the (stopped-gradient) posterior. With a
#: single beta * KL term the GRU prior learns at rate beta (0.05) and lags the
#: encoder: prior samples then ignore the conditions. Splitting the KL into a
#: posterior part (weight beta, annealed) and a prior part (weight 1) is the
#: "KL balancing" of Hafner et al. (2021, ICLR, DreamerV2, Sec. 2); the value
#: of the ELBO is unchanged when beta = 1.
PRIOR_WEIGHT = 1.0
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "model_card.json"
CHECKPOINT_FILE = "checkpoint.pt"

ProgressFn = Callable[[float, str], None]


def load_training_data(path: str | Path, cfg: STFTConfig) -> WaveformSet:
    """HDF5 corpus, or a flatfile CSV of recorded data (by extension)."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        return load_records(p, cfg)
    return load_corpus(p, cfg)


def condition_specs(df: Any, use_coordinates: bool) -> list[ConditionSpec]:
    """Specs with trained ranges taken from the training table."""
    specs = []
    wanted = list(TRANSFERABLE_CONDITIONS) + (list(COORDINATE_CONDITIONS) if use_coordinates else [])
    for base in wanted:
        s = ConditionSpec(**{**base.__dict__, "categories": list(base.categories)})
        if s.column not in df.columns:
            raise InputError(f"corpus.conditions.{s.column}", "column needed by the model is missing")
        if s.kind == "categorical":
            codes = np.unique(mechanism_codes(df[s.column].to_numpy()))
            s.categories = [MECHANISMS[c] for c in codes if c >= 0]
        else:
            v = df[s.column].to_numpy(dtype=float)
            lo, hi = float(np.nanmin(v)), float(np.nanmax(v))
            if s.transform == "log" and lo <= 0:
                raise InputError(f"corpus.conditions.{s.column}", "must be > 0 (it enters as a log)")
            s.min, s.max = rounded_range(lo, hi, s.transform == "log")
        specs.append(s)
    return specs


def envelopes(wave: np.ndarray, cfg: EnvelopeConfig, bs: int = 512) -> torch.Tensor:
    """Band log-amplitudes ``(N, C, n_bands, n_frames)`` float32 of prepared records.

    Computed once before training (the targets do not change between epochs).
    """
    return batched_band_log_amplitude(wave, cfg, bs)


def rounded_range(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """A trained range widened to round numbers (by at most 1 % of its span, or
    to 3 significant digits for log inputs), so a corpus drawn on [0, 10] km reads [0, 10],
    not [2.3e-06, 9.99985], and an input of exactly 0 is not flagged."""
    if log:  # 3 significant digits, outwards: 150.2 -> 150, 1499.5 -> 1500
        def sig(v: float, up: bool) -> float:
            q = 10.0 ** (math.floor(math.log10(v)) - 2)
            return float((math.ceil(v / q) if up else math.floor(v / q)) * q)
        return sig(lo, False), sig(hi, True)
    span = hi - lo
    if span <= 0:
        return lo, hi
    q = 10.0 ** math.floor(math.log10(span / 100.0))
    return float(math.floor(lo / q) * q), float(math.ceil(hi / q) * q)


def _spec_stats(model: CGMVAE, env: torch.Tensor, bs: int = 1024) -> None:
    """Per component and band mean/std of the log-amplitude over the training split."""
    s1 = s2 = None
    count = 0
    for i in range(0, env.shape[0], bs):
        lm = env[i:i + bs].double()  # (b, C, K, M)
        a, b2 = lm.sum((0, 3)), (lm ** 2).sum((0, 3))
        s1 = a if s1 is None else s1 + a
        s2 = b2 if s2 is None else s2 + b2
        count += lm.shape[0] * lm.shape[-1]
    mean = s1 / count
    std = (s2 / count - mean ** 2).clamp_min(1e-8).sqrt().clamp_min(0.05)
    model.spec_mean.copy_(mean.float())
    model.spec_std.copy_(std.float())


def _loss(model: CGMVAE, x: torch.Tensor, cond: torch.Tensor, noise: torch.Tensor,
          beta: float, amp: bool) -> tuple[torch.Tensor, float, float]:
    with torch.no_grad():
        xn = model.normalise(x)
    cfg = model.cfg
    frame_noise = noise[:, :cfg.n_frames * cfg.z_dim].reshape(-1, cfg.n_frames, cfg.z_dim)
    with torch.autocast(device_type=x.device.type, dtype=torch.float16, enabled=amp):
        out = model(xn, cond, frame_noise, noise[:, cfg.n_frames * cfg.z_dim:])
    rec = ((out["xhat"].float() - xn) ** 2).sum((1, 2)).mean()
    mq, lq = out["mu_q"].float(), out["lv_q"].float()
    mp, lp = out["mu_p"].float(), out["lv_p"].float()
    # KL balancing: the posterior is pulled towards a frozen prior with the
    # annealed beta, the prior is fitted to a frozen posterior with full weight.
    kl_post = kl_gaussians(mq, lq, mp.detach(), lp.detach()).mean()
    kl_prior = kl_gaussians(mq.detach(), lq.detach(), mp, lp).mean()
    # the static latent's KL counts once per record: per frame, like the other terms
    mg, lg = out["mu_g"].float(), out["lv_g"].float()
    kl_static = kl_gaussians(mg, lg, torch.zeros_like(mg), torch.zeros_like(lg)).mean()
    kl_static = kl_static / cfg.n_frames
    loss = rec + beta * (kl_post + kl_static) + PRIOR_WEIGHT * kl_prior
    return loss, float(rec.detach()), float((kl_post + kl_static).detach())


def train_val_split(n: int, seed: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """(training rows, validation rows) of an n-record corpus, each sorted: the split
    the trainer uses, which recalibrate and the validation scripts must reproduce."""
    n_val = max(1, round(val_fraction * n)) if n > 1 else 0
    perm = np.random.default_rng([seed, 7919]).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def train_main(corpus: str, out_dir: str, epochs: int = 200, batch_size: int = 64,
               device: str = "auto", resume: bool = False, seed: int = 0,
               progress: ProgressFn | bool | None = None, *,
               val_fraction: float = 0.1, patience: int = 15, min_delta: float = 0.0,
               lr: float = LR, beta_max: float = BETA_MAX, kl_warmup_epochs: int = 20,
               arch: dict[str, Any] | None = None, use_coordinates: bool = False,
               name: str | None = None, init_from: str | Path | None = None,
               lr_decay: str = "none",
               is_cancelled: Callable[[], bool] | None = None) -> Path:
    """Train a CGM on ``corpus`` (HDF5 corpus or flatfile CSV); returns the model card path.

    ``out_dir`` receives ``model.safetensors`` (best validation epoch),
    ``model_card.json``, ``checkpoint.pt`` (every epoch, for ``resume``),
    ``train.log`` and ``history.csv``. ``epochs`` is the total: a resumed run
    continues up to it. Mixed precision (float16 autocast) on CUDA. ``progress``: a callable
    ``(fraction, text)``, True/None for a tqdm bar, False for silence.
    ``init_from``: a model card whose weights start the run (fine-tuning, e.g.
    the bundled model on regional records); same architecture and conditions.
    ``lr_decay``: "none" or "cosine" (Loshchilov & Hutter 2017, SGDR, one
    cycle without restarts, down to 5 % of ``lr`` at the last epoch).
    """
    if lr_decay not in LR_DECAYS:
        raise InputError("lr_decay", f"'{lr_decay}' is not one of {', '.join(LR_DECAYS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / CHECKPOINT_FILE
    if not resume and ckpt_path.exists():
        raise InputError("out_dir", f"{out} already holds a training run; pass resume=True "
                                    "to continue it or choose another folder")
    if resume and not ckpt_path.exists():
        raise InputError("resume", f"no checkpoint to resume in {out}")
    if epochs < 1 or batch_size < 1:
        raise InputError("epochs", "epochs and batch_size must be >= 1")
    if init_from is not None and resume:
        raise InputError("init_from", "a resumed run continues its own weights; "
                                      "drop init_from or resume")
    init_card = load_card(init_from) if init_from is not None else None

    logger = logging.getLogger(f"gm_engine.train.{out.resolve()}")
    logger.setLevel(logging.INFO)
    fh = logging.FileHandler(out / "train.log", encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(fh)
    try:
        return _train(corpus, out, epochs, batch_size, device, resume, seed, progress,
                      val_fraction, patience, min_delta, lr, beta_max, kl_warmup_epochs,
                      arch or {}, use_coordinates, name, is_cancelled, logger,
                      init_card, lr_decay)
    finally:
        logger.removeHandler(fh)
        fh.close()


def _train(corpus, out, epochs, batch_size, device, resume, seed, progress, val_fraction,
           patience, min_delta, lr, beta_max, kl_warmup_epochs, arch, use_coordinates,
           name, is_cancelled, logger, init_card=None, lr_decay="none") -> Path:
    dev = resolve_device(device)
    amp = dev.type == "cuda"
    ecfg = EnvelopeConfig()
    scfg = ecfg.stft
    data = load_training_data(corpus, scfg)
    n = data.waveforms.shape[0]
    tr_idx, val_idx = train_val_split(n, seed, val_fraction)
    if len(tr_idx) == 0:
        raise InputError("corpus", "too few records to train")
    specs = condition_specs(data.conditions.iloc[tr_idx], use_coordinates)
    card = ModelCard(name=name or f"cgm-{Path(corpus).stem}", weights_file=WEIGHTS_FILE,
                     sha256="", architecture={}, stft=ecfg.to_dict(), conditions=specs,
                     latent={"w_between": DEFAULT_W_BETWEEN,
                             "site_persistent": DEFAULT_SITE_PERSISTENT})
    feats = torch.from_numpy(card.features(data.conditions, clamp=True))
    wave = envelopes(data.waveforms, ecfg)  # the model's targets, computed once
    data.waveforms = None  # free the records: ~2.5 GB for a 50k corpus
    base_arch = init_card.architecture if init_card is not None else ModelConfig().to_dict()
    mcfg = ModelConfig.from_dict({**base_arch, **arch,
                                  "n_cond": card.n_features, "n_bins": ecfg.n_bands,
                                  "n_frames": ecfg.n_frames})
    card.architecture = mcfg.to_dict()
    torch.manual_seed(seed)
    model = CGMVAE(mcfg)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    scaler = torch.amp.GradScaler("cuda", enabled=amp)
    noise_gen = torch.Generator().manual_seed(seed)
    start_epoch, best_val, bad_epochs, history = 0, math.inf, 0, []
    init_info = None
    best_state = None
    if resume:
        ck = torch.load(out / CHECKPOINT_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        if ck["scaler"]:  # empty when the run started without mixed precision
            scaler.load_state_dict(ck["scaler"])
        noise_gen.set_state(ck["noise_gen"])
        start_epoch, best_val, bad_epochs = ck["epoch"], ck["best_val"], ck["bad_epochs"]
        history, best_state = ck["history"], ck["best_model"]
        init_info = ck.get("init")
        logger.info("resumed at epoch %d (best val %.5g)", start_epoch, best_val)
    elif init_card is not None:
        fresh = _load_initial_weights(model, init_card, card, ecfg)
        init_info = {"model": init_card.name, "sha256": init_card.sha256}
        if fresh:
            init_info["fresh"] = fresh
            logger.info("%s start afresh", fresh)
        logger.info("weights initialised from %s (%s); its normalisation statistics are kept",
                    init_card.name, init_card.sha256[:16])
        logger.info("corpus %s: %d train / %d val records; %d parameters; device %s",
                    corpus, len(tr_idx), len(val_idx), n_parameters(model), dev)
    else:
        _spec_stats(model, wave[tr_idx])
        logger.info("corpus %s: %d train / %d val records; %d parameters; device %s",
                    corpus, len(tr_idx), len(val_idx), n_parameters(model), dev)
    model.to(dev)
    for st in opt.state.values():
        for k, v in st.items():
            if torch.is_tensor(v):
                st[k] = v.to(dev)

    steps_per_epoch = math.ceil(len(tr_idx) / batch_size)
    total_steps = max(1, (epochs - start_epoch) * steps_per_epoch)
    bar = None
    if progress is None or progress is True:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_steps, desc="training", unit="batch")
    report = progress if callable(progress) else None
    done = 0
    stopped_early = False
    m_frames, zd = mcfg.n_frames, mcfg.z_dim
    try:
        for epoch in range(start_epoch, epochs):
            beta = beta_max * min(1.0, (epoch + 1) / max(1, kl_warmup_epochs))
            for group in opt.param_groups:
                group["lr"] = epoch_lr(lr, epoch, epochs, lr_decay)
            model.train()
            t_epoch = time.perf_counter()
            order = tr_idx[np.random.default_rng([seed, epoch]).permutation(len(tr_idx))]
            sums = np.zeros(3)
            for b0 in range(0, len(order), batch_size):
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled("training cancelled")
                idx = torch.from_numpy(order[b0:b0 + batch_size])
                x, c = wave[idx].to(dev), feats[idx].to(dev)
                noise = torch.randn(len(idx), m_frames * zd + mcfg.g_dim,
                                    generator=noise_gen).to(dev)
                loss, rec, kl = _loss(model, x, c, noise, beta, amp)
                opt.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
                scaler.step(opt)
                scaler.update()
                lval = float(loss.detach())
                sums += np.array([lval, rec, kl]) * len(idx)
                done += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{lval:.4g}")
                if report is not None:
                    report(done / total_steps, f"epoch {epoch + 1}/{epochs}")
            tr = sums / len(tr_idx)
            val = _validate(model, wave, feats, val_idx, batch_size, beta_max, amp, dev,
                            seed, m_frames, zd) if len(val_idx) else tr[0]
            val = float(val)
            improved = val < best_val - min_delta
            if improved:
                best_val, bad_epochs = val, 0
                best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            else:
                bad_epochs += 1
            history.append({"epoch": epoch + 1, "seconds": round(time.perf_counter() - t_epoch, 1),
                            "beta": float(beta), "lr": float(opt.param_groups[0]["lr"]), "train_loss": float(tr[0]),
                            "train_rec": float(tr[1]), "train_kl": float(tr[2]),
                            "val_loss": float(val)})
            logger.info("epoch %d beta %.4f train %.5g (rec %.5g kl %.5g) val %.5g%s",
                        epoch + 1, beta, tr[0], tr[1], tr[2], val, " *" if improved else "")
            torch.save({"model": {k: v.cpu() for k, v in model.state_dict().items()},
                        "optim": _to_cpu(opt.state_dict()), "scaler": scaler.state_dict(),
                        "noise_gen": noise_gen.get_state(), "epoch": epoch + 1,
                        "best_val": float(best_val), "bad_epochs": bad_epochs,
                        "history": history, "best_model": best_state, "init": init_info},
                       out / CHECKPOINT_FILE)
            if bad_epochs >= patience:
                stopped_early = True
                logger.info("early stop: no validation improvement for %d epochs", patience)
                break
    finally:
        if bar is not None:
            bar.close()
    _write_history(out / "history.csv", history)
    if best_state is not None:
        model.load_state_dict(best_state)
    card.decoder = decoder_calibration(model, card, wave, feats, tr_idx, val_idx, dev, seed)
    return _export(out, card, best_state or model.state_dict(), corpus, len(tr_idx),
                   len(val_idx), history, best_val, stopped_early, seed, dev, model, init_info)


def epoch_lr(lr: float, epoch: int, epochs: int, decay: str) -> float:
    """Learning rate of 0-based ``epoch``: constant, or a cosine from ``lr`` to 5 % of it."""
    if decay == "none" or epochs <= 1:
        return lr
    frac = epoch / (epochs - 1)
    return lr * (LR_FLOOR + (1.0 - LR_FLOOR) * 0.5 * (1.0 + math.cos(math.pi * frac)))


def _load_initial_weights(model: CGMVAE, init: ModelCard, card: ModelCard,
                          ecfg: EnvelopeConfig) -> str | None:
    """Copy a card's verified weights into ``model``; refuse what cannot be transferred.

    Returns what starts afresh instead (another decoder width), or None.
    """
    from safetensors.torch import load_file

    mine = [(c.name, c.kind) for c in card.conditions]
    theirs = [(c.name, c.kind) for c in init.conditions]
    if mine != theirs:
        raise InputError("init_from", f"model {init.name} is conditioned on "
                                      f"{[n for n, _ in theirs]}, this run on {[n for n, _ in mine]}")
    if init.stft != ecfg.to_dict():
        raise InputError("init_from", f"model {init.name} uses another envelope grid (stft)")
    want = model.cfg.to_dict()
    diff = sorted(k for k in set(want) | set(init.architecture)
                  if want.get(k) != init.architecture.get(k))
    if set(diff) - DECODER_WIDTH_KEYS:
        raise InputError("init_from", f"model {init.name} differs in architecture: {diff}")
    state = load_file(str(verify_weights(init)), device="cpu")
    if not diff:
        model.load_state_dict(state, strict=True)
        return None
    # another decoder width: everything but the decoder carries over
    state.update({k: v for k, v in model.state_dict().items() if k.startswith(DECODER_MODULES)})
    model.load_state_dict(state, strict=True)
    return (" and ".join(m.rstrip(".") for m in DECODER_MODULES) + " ("
            + ", ".join(f"{k} {init.architecture.get(k)} -> {want.get(k)}" for k in diff) + ")")


#: Architecture keys a warm start may change, and the modules that then start
#: afresh: the embedding, encoder, prior and normalisation carry over, so a
#: narrower (faster) decoder learns to decode latents that already mean something.
DECODER_WIDTH_KEYS = {"dec_hidden"}
DECODER_MODULES = ("decoder.", "mean_net.")


def decoder_calibration(model: CGMVAE, card: ModelCard, env: torch.Tensor, feats: torch.Tensor,
                        tr_idx: np.ndarray, val_idx: np.ndarray, dev: torch.device,
                        seed: int, n_records: int = CALIBRATION_RECORDS,
                        correction_data: tuple[np.ndarray, np.ndarray] | None = None
                        ) -> dict[str, Any]:
    """The card's ``decoder`` section: the post-training stages of the sampler.

    In order, each on top of the previous: the conditional static prior
    (``n_records`` training records), the synthesis offset (posterior-mean
    reconstructions of validation records) and the conditional mean
    correction (prior samples against training records,
    gm_engine.generator.calibration). ``correction_data``: (energy levels,
    features) of the records the correction is fitted to; by default every
    training record of ``env``.
    """
    from ..generator.calibration import fit_generator_correction
    from ..generator.model import CGMGenerator

    eval_idx = val_idx if len(val_idx) else tr_idx
    recon = reconstructions(model, env, feats, eval_idx[:1000], dev)
    decoder: dict[str, Any] = {
        "static_prior": static_prior(model, env, feats, tr_idx[:n_records], dev),
        "synthesis_offset_log10": synthesis_offset(recon, card_envelope(card), seed).tolist(),
        "note": "static_prior: fitted to the aggregate posterior of training records; "
                "synthesis_offset_log10: added to decoded envelopes before shaping noise, "
                "measured on posterior-mean reconstructions of validation records; "
                "mean_correction: conditional band-energy shift of prior samples to the "
                "training records (gm_engine.generator.calibration)"}
    card.decoder = decoder
    gen = CGMGenerator(copy.deepcopy(model).cpu(), card, torch.device("cpu"))
    if correction_data is None:
        correction_data = (record_energy(env, tr_idx), feats[tr_idx].numpy())
    decoder["mean_correction"] = fit_generator_correction(gen, *correction_data, seed)
    return decoder


def record_energy(env: torch.Tensor, idx: np.ndarray, block: int = 2048) -> np.ndarray:
    """Energy levels ``(len(idx), C, K)`` of the envelopes ``env[idx]``, block by block
    (indexing all 45,000 training envelopes at once copies 1.1 GB)."""
    parts = [energy_level(env[torch.as_tensor(idx[i:i + block])])
             for i in range(0, len(idx), block)]
    return np.concatenate(parts) if parts else np.empty((0, *env.shape[1:-1]))


def corpus_energy(corpus: str | Path, card: ModelCard, rows: np.ndarray,
                  block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(energy levels, card features) of corpus records ``rows`` (increasing), read block
    by block: the mean correction uses every training record, ~2.5 GB of waveforms."""
    ecfg = card_envelope(card)
    energy, feats = [], []
    for i in range(0, len(rows), block):
        part = load_corpus(corpus, ecfg.stft, rows=rows[i:i + block])
        energy.append(energy_level(envelopes(part.waveforms, ecfg)))
        feats.append(card.features(part.conditions, clamp=True))
    return np.concatenate(energy), np.concatenate(feats)


def command_line() -> str | None:
    """The command that runs this process, as a user types it: ``python -m gm_engine ...``
    rather than the path of gm_engine/__main__.py that ``sys.argv[0]`` holds."""
    if not sys.argv or not sys.argv[0]:
        return None
    head = sys.argv[0]
    if Path(head).name == "__main__.py" and Path(head).parent.name == "gm_engine":
        head = "python -m gm_engine"
    return " ".join([head, *sys.argv[1:]])


def card_envelope(card: ModelCard) -> EnvelopeConfig:
    return EnvelopeConfig.from_dict(card.stft)


def recalibrate_card(card_path: str | Path, corpus: str | Path, seed: int | None = None,
                     val_fraction: float = 0.1, n_records: int = CALIBRATION_RECORDS,
                     ) -> Path:
    """Recompute a card's ``decoder`` section from its weights and its training corpus.

    The train/validation split is the trainer's (its seed from the card);
    the weights and their hash do not change.
    """
    from ..generator.model import load_model

    gen = load_model(str(card_path), "cpu")
    card = gen.card
    seed = int(card.training.get("seed", 0)) if seed is None else int(seed)
    ecfg = card_envelope(card)
    is_csv = Path(corpus).suffix.lower() == ".csv"
    data = load_training_data(corpus, ecfg.stft) if is_csv else None
    n = data.waveforms.shape[0] if is_csv else corpus_size(corpus)
    tr_idx, val_idx = train_val_split(n, seed, val_fraction)
    n_tr, n_va = min(n_records, len(tr_idx)), min(1000, len(val_idx))
    keep = np.sort(np.concatenate([tr_idx[:n_tr], val_idx[:n_va]]))  # what the stages use
    if is_csv:
        wave, cond = data.waveforms[keep], data.conditions.iloc[keep]
    else:  # read only those records: a 50k corpus is ~2.5 GB
        part = load_corpus(corpus, ecfg.stft, rows=keep)
        wave, cond = part.waveforms, part.conditions
    env = envelopes(wave, ecfg)
    del wave
    feats = torch.from_numpy(card.features(cond, clamp=True))
    if is_csv:
        correction_data = (energy_level(envelopes(data.waveforms[tr_idx], ecfg)),
                           card.features(data.conditions.iloc[tr_idx], clamp=True))
    else:
        correction_data = corpus_energy(corpus, card, tr_idx)
    model = copy.deepcopy(gen.model).float()
    decoder = decoder_calibration(model, card, env, feats,
                                  np.searchsorted(keep, tr_idx[:n_tr]),
                                  np.searchsorted(keep, val_idx[:n_va]), torch.device("cpu"),
                                  seed, n_records, correction_data)
    d = json.loads(Path(card_path).read_text(encoding="utf-8"))
    d["decoder"] = decoder
    if "low_frequency_gain" in d.get("synthesis", {}):
        warnings.warn("the card's synthesis.low_frequency_gain was fitted on top of the previous "
                      "decoder calibration and is kept as it was; refit it with "
                      "validation/low_frequency_gain.py", stacklevel=2)
    d.setdefault("training", {})["decoder_recalibrated"] = {
        "corpus": str(corpus), "data": _describe_data(corpus),
        "records": int(min(n_records, len(tr_idx))),
        "mean_correction_records": len(tr_idx),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command_line()}
    Path(card_path).write_text(json.dumps(d, indent=2) + "\n", encoding="utf-8")
    return Path(card_path)


def _to_cpu(obj: Any) -> Any:
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_cpu(v) for v in obj]
    return obj


@torch.no_grad()
def _validate(model, wave, feats, val_idx, batch_size, beta, amp, dev, seed, m, zd) -> float:
    """ELBO-type loss on the validation split with a fixed noise draw."""
    model.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    total = 0.0
    for b0 in range(0, len(val_idx), batch_size):
        idx = torch.from_numpy(val_idx[b0:b0 + batch_size])
        noise = torch.randn(len(idx), m * zd + model.cfg.g_dim, generator=gen).to(dev)
        loss, _, _ = _loss(model, wave[idx].to(dev), feats[idx].to(dev), noise, beta, amp)
        total += float(loss) * len(idx)
    return total / len(val_idx)


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    if not history:
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(history[0]))
        w.writeheader()
        w.writerows(history)


@torch.no_grad()
def static_prior(model: CGMVAE, env: torch.Tensor, feats: torch.Tensor, idx: np.ndarray,
                 dev: torch.device, bs: int = 512) -> dict[str, Any]:
    """Conditional Gaussian prior of the static latent fitted to its aggregate posterior.

    Least squares of the posterior means on [e(c), 1] gives W; the residual
    covariance of the means plus the mean posterior covariance gives L L^T
    (the aggregate posterior's conditional covariance). Fitting a prior to
    the aggregate posterior after training is the "ex-post density
    estimation" of Ghosh et al. (2020, ICLR) and the second stage of Dai &
    Wipf (2019, ICLR), here conditional and linear in the embedding.
    """
    model.eval()
    es, mus, vs = [], [], []
    for b0 in range(0, len(idx), bs):
        i = torch.from_numpy(idx[b0:b0 + bs])
        x, c = env[i].to(dev), feats[i].to(dev)
        e = model.embed(c)
        _, _, mu_g, lv_g = model.encode(model.normalise(x), e)
        es.append(e.double().cpu())
        mus.append(mu_g.double().cpu())
        vs.append(torch.exp(lv_g).double().cpu())
    e1 = torch.cat([torch.cat(es), torch.ones(len(idx), 1, dtype=torch.float64)], dim=1).numpy()
    mu, var = torch.cat(mus).numpy(), torch.cat(vs).numpy()
    w, *_ = np.linalg.lstsq(e1, mu, rcond=None)  # (E + 1, G)
    resid = mu - e1 @ w
    cov = np.cov(resid, rowvar=False) + np.diag(var.mean(axis=0))
    chol = np.linalg.cholesky(cov + 1e-9 * np.eye(cov.shape[0]))
    return {"W": w.T.tolist(), "L": chol.tolist(), "n_records": len(idx),
            "r2_of_means": (1 - resid.var(0) / np.maximum(mu.var(0), 1e-12)).round(3).tolist()}


@torch.no_grad()
def reconstructions(model: CGMVAE, env: torch.Tensor, feats: torch.Tensor, idx: np.ndarray,
                    dev: torch.device, bs: int = 256) -> torch.Tensor:
    """Posterior-mean reconstructions (log10 envelopes) of the records ``idx``, on the CPU."""
    model.eval()
    cfg = model.cfg
    out = []
    for b0 in range(0, len(idx), bs):
        i = torch.from_numpy(idx[b0:b0 + bs])
        x, c = env[i].to(dev), feats[i].to(dev)
        r = model(model.normalise(x), c, x.new_zeros(len(i), cfg.n_frames, cfg.z_dim),
                  x.new_zeros(len(i), cfg.g_dim))
        out.append(model.denormalise(r["xhat"]).float().cpu())
    return torch.cat(out)


def hardware_description(dev: torch.device) -> str:
    """CPU model and core count, or the GPU's name: for the model card."""
    import os
    import platform

    if dev.type == "cuda":
        return f"{torch.cuda.get_device_name(dev)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {torch.get_num_threads()} torch threads"


def _describe_data(corpus: str | Path) -> str:
    """What the model was trained on, in words, from the corpus's own attributes."""
    p = Path(corpus)
    if p.suffix.lower() == ".csv":
        return f"recorded accelerograms listed in the flatfile {p.name}"
    try:
        import h5py

        with h5py.File(p, "r") as f:
            gen = f.attrs.get("generator", "")
            gen = gen.decode() if isinstance(gen, bytes) else str(gen)
            sim = f.attrs.get("simulator", "")
            sim = sim.decode() if isinstance(sim, bytes) else str(sim)
            return (f"{len(f['conditions'])} simulated records (seed {f.attrs.get('seed')}) "
                    f"from {gen}" + (f"; {sim}" if sim else ""))
    except (OSError, KeyError):
        return f"corpus {p.name}"


def _export(out, card, state, corpus, n_train, n_val, history, best_val, stopped_early, seed,
            dev, model, init_info=None) -> Path:
    from safetensors.torch import save_file

    wpath = out / WEIGHTS_FILE
    save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(wpath))
    card.sha256 = sha256_file(wpath)
    card.training = {
        "corpus": str(corpus), "data": _describe_data(corpus),
        "command": command_line(),
        "hardware": hardware_description(dev),
        "wall_time_s": round(sum(h.get("seconds", 0.0) for h in history), 1),
        "n_train": n_train, "n_val": n_val,
        "epochs_run": len(history), "best_val_loss": float(best_val),
        "stopped_early": stopped_early, "seed": seed, "device": str(dev),
        "torch": torch.__version__, "n_parameters": n_parameters(model),
        "weights_bytes": wpath.stat().st_size,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if init_info:
        card.training["initialised_from"] = init_info
    card.references = [
        "Ren, Nakata, Lacour et al. (2026) Learning earthquake ground motions via conditional "
        "generative modeling, Nature Communications, arXiv:2407.15089",
        "Prusa, Balazs & Sondergaard (2017) IEEE/ACM TASLP 25(5) (PGHI)",
        "Perraudin, Balazs & Sondergaard (2013) IEEE WASPAA (fast Griffin-Lim)",
        "Jayaram & Baker (2009) EESD 38(15) (spatial correlation)",
    ]
    return card.save(out / CARD_FILE)
