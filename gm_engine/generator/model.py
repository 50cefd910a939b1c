"""Conditional dynamical VAE over log-magnitude STFT frames (after CGM-GM).

Ren, Nakata, Lacour et al. (2026, Nat. Commun., arXiv 2407.15089) model a
ground motion as a sequence of spectrogram frames x_t with a per-frame latent
z_t; the prior p(z_t | z_<t, c) is a GRU and the decoder maps (z_t, c) to a
frame, the conditions c entering through an MLP embedding. GroundShake keeps
that structure and changes:

* three components per frame (H1, H2, Z stacked as channels), so the
  components of one record share one latent sequence;
* the encoder convolves over frequency before its GRU over frames (a frame of
  3 x 129 bins is too wide for a plain GRU input);
* the prior runs teacher-forced on posterior samples during training (the
  VRNN/DVAE practice, Chung et al. 2015, Girin et al. 2021), and the decoder
  also sees the prior GRU state h_t, which carries the temporal context;
* no batch normalisation, so one site's output never depends on which other
  sites share its batch (needed to regenerate one site alone).

Sizes follow CGM-GM's public defaults where they exist (latent z_dim 16,
condition embedding MLP 32-32-ncond, Adam lr ~7e-4); see docs/generator.md.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from . import phase as phase_mod
from .card import ModelCard, load_card, verify_weights
from .device import resolve_device
from .envelope import EnvelopeConfig, bin_amplitude, envelope_to_waveform

#: bounds on predicted log-variances, a standard guard against exp overflow
#: and posterior collapse to zero variance in sequential VAEs.
LOGVAR_MIN, LOGVAR_MAX = -8.0, 4.0
#: ways of making a waveform from a generated envelope (``CGMGenerator.generate``)
PHASE_METHODS = ("noise", "pghi", "griffin-lim")


@dataclass
class ModelConfig:
    """Architecture hyper-parameters (stored in the model card)."""

    n_cond: int = 7  # magnitude, ln Rrup, ln Vs30, Ztor, 3 mechanism one-hot
    n_components: int = 3
    n_bins: int = 32  # frequency bands of the envelope (envelope.default_band_edges)
    n_frames: int = 65  # envelope frames (hop 0.64 s over 40.96 s)
    z_dim: int = 16  # CGM-GM default latent size (train_hyperopt.py --z_dim)
    cond_embed: int = 32  # CGM-GM ncond search space {16, 32}
    cond_hidden: int = 32  # CGM-GM label embedding MLP [in, 32, 32, ncond]
    # Widths sized so that 50k records train at ~1.5 ms per record on two CPU
    # cores (docs/generator.md); a GPU user can widen them with ``arch``.
    conv_channels: int = 16
    enc_hidden: int = 128
    prior_hidden: int = 96
    dec_hidden: int = 256

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class LatentShape:
    """What the sampling pipeline must draw for one call of ``generate``.

    ``eps_event``: ``(R, n_frames, z_dim)`` standard normals shared by all sites
    of a realization. ``eps_site``: ``(N, R, site_channels)`` standard normals,
    each channel a spatially correlated field over the sites (one frame-constant
    offset per latent dimension). Frame-wise site innovations are drawn inside
    ``generate`` from ``(seed, site_id, realization_id)``.
    """

    n_frames: int
    z_dim: int
    site_channels: int

    @property
    def event(self) -> tuple[int, int]:
        return (self.n_frames, self.z_dim)

    @property
    def site(self) -> tuple[int]:
        return (self.site_channels,)


def _mlp(sizes: list[int], last_act: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or last_act:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


class CGMVAE(nn.Module):
    """Encoder q(z_t | x, c), GRU prior p(z_t | z_<t, c), decoder p(x_t | z_t, h_t, c)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, k = cfg.n_components, cfg.n_bins
        # Per-component, per-bin normalisation of log10 magnitudes (training stats).
        self.register_buffer("spec_mean", torch.zeros(c, k))
        self.register_buffer("spec_std", torch.ones(c, k))
        self.embed = _mlp([cfg.n_cond, cfg.cond_hidden, cfg.cond_hidden, cfg.cond_embed], True)
        ch = cfg.conv_channels
        self.freq_conv = nn.Sequential(
            nn.Conv1d(c, ch // 2, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv1d(ch // 2, ch, 5, stride=2, padding=2), nn.GELU(),
        )
        n_red = math.ceil(math.ceil(k / 2) / 2)
        self.frame_proj = nn.Linear(ch * n_red, cfg.enc_hidden)
        self.enc_rnn = nn.GRU(cfg.enc_hidden + cfg.cond_embed, cfg.enc_hidden // 2,
                              batch_first=True, bidirectional=True)
        self.enc_out = nn.Linear(cfg.enc_hidden, 2 * cfg.z_dim)
        self.prior_rnn = nn.GRU(cfg.z_dim + cfg.cond_embed, cfg.prior_hidden, batch_first=True)
        self.prior_out = nn.Linear(cfg.prior_hidden, 2 * cfg.z_dim)
        self.decoder = _mlp([cfg.z_dim + cfg.prior_hidden + cfg.cond_embed,
                             cfg.dec_hidden, cfg.dec_hidden, c * k], False)

    # -- normalisation -------------------------------------------------
    def normalise(self, logmag: torch.Tensor) -> torch.Tensor:
        """(B, C, K, M) log10 magnitude -> standardised."""
        return (logmag - self.spec_mean[..., None]) / self.spec_std[..., None]

    def denormalise(self, xn: torch.Tensor) -> torch.Tensor:
        return xn * self.spec_std[..., None] + self.spec_mean[..., None]

    # -- pieces ----------------------------------------------------------
    def encode(self, xn: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance, each ``(B, M, D)``."""
        b, c, k, m = xn.shape
        frames = xn.permute(0, 3, 1, 2).reshape(b * m, c, k)
        h = self.freq_conv(frames).reshape(b, m, -1)
        h = self.frame_proj(h)
        h, _ = self.enc_rnn(torch.cat([h, e[:, None, :].expand(b, m, e.shape[-1])], dim=-1))
        mu, logvar = self.enc_out(h).chunk(2, dim=-1)
        return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def decode(self, z: torch.Tensor, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, M, D)`` -> standardised log-spectrogram ``(B, C, K, M)``."""
        b, m, _ = z.shape
        out = self.decoder(torch.cat([z, h, e[:, None, :].expand(b, m, e.shape[-1])], dim=-1))
        return out.reshape(b, m, self.cfg.n_components, self.cfg.n_bins).permute(0, 2, 3, 1)

    def forward(self, xn: torch.Tensor, cond: torch.Tensor,
                noise: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training pass: returns reconstruction and posterior/prior parameters."""
        e = self.embed(cond)
        mu_q, lv_q = self.encode(xn, e)
        z = mu_q + torch.exp(0.5 * lv_q) * noise
        b, m, d = z.shape
        z_prev = torch.cat([z.new_zeros(b, 1, d), z[:, :-1]], dim=1)
        h, _ = self.prior_rnn(torch.cat([z_prev, e[:, None, :].expand(b, m, e.shape[-1])], -1))
        mu_p, lv_p = self.prior_out(h).chunk(2, dim=-1)
        lv_p = lv_p.clamp(LOGVAR_MIN, LOGVAR_MAX)
        return {"xhat": self.decode(z, h, e), "mu_q": mu_q, "lv_q": lv_q,
                "mu_p": mu_p, "lv_p": lv_p}

    @torch.no_grad()
    def sample(self, cond: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Ancestral sampling z_t = mu_p + sigma_p * eps_t; returns log10 magnitudes (B, C, K, M).

        Deterministic given ``eps`` (B, M, D): all randomness is in the caller's draws.
        """
        e = self.embed(cond)
        b, m, d = eps.shape
        z_t = eps.new_zeros(b, 1, d)
        hx = None
        zs, hs = [], []
        for t in range(m):
            out, hx = self.prior_rnn(torch.cat([z_t, e[:, None, :]], dim=-1), hx)
            mu, lv = self.prior_out(out).chunk(2, dim=-1)
            z_t = mu + torch.exp(0.5 * lv.clamp(LOGVAR_MIN, LOGVAR_MAX)) * eps[:, t:t + 1]
            zs.append(z_t)
            hs.append(out)
        return self.denormalise(self.decode(torch.cat(zs, 1), torch.cat(hs, 1), e))


def kl_gaussians(mu_q: torch.Tensor, lv_q: torch.Tensor, mu_p: torch.Tensor,
                 lv_p: torch.Tensor) -> torch.Tensor:
    """KL(q || p) of diagonal Gaussians, summed over the last axis."""
    return 0.5 * (lv_p - lv_q + (torch.exp(lv_q) + (mu_q - mu_p) ** 2) / torch.exp(lv_p) - 1).sum(-1)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class CGMGenerator:
    """A trained model plus its card: conditions in, three-component accelerograms out."""

    def __init__(self, model: CGMVAE, card: ModelCard, device: torch.device) -> None:
        # Sampling runs in float64 (except on MPS, which has none): float32
        # matrix products differ in the last bits with the batch size; in
        # float64 the float32 output of a site is the same whether it is
        # generated alone or in a chunk (so a map's site can be regenerated).
        self.dtype = torch.float32 if device.type == "mps" else torch.float64
        self.model = model.to(device=device, dtype=self.dtype).eval()
        self.card = card
        self.device = device
        self.envelope = EnvelopeConfig.from_dict(card.stft)
        self.stft_cfg = self.envelope.stft
        lat = card.latent
        self.w_between = float(lat["w_between"])
        self.site_persistent = float(lat["site_persistent"])
        #: temperature of the latent innovations (1 = the trained prior); calibrated
        #: so generated IMs have the corpus's / NGA-West2's total sigma.
        self.temperature = float(lat.get("temperature", 1.0))

    @property
    def latent_shape(self) -> LatentShape:
        cfg = self.model.cfg
        return LatentShape(n_frames=cfg.n_frames, z_dim=cfg.z_dim, site_channels=cfg.z_dim)

    @property
    def dt(self) -> float:
        return self.stft_cfg.dt

    def generate(self, conditions: Any, eps_event: np.ndarray, eps_site: np.ndarray,
                 phase: str = "noise", phase_iters: int = 8, *, seed: int = 0,
                 site_ids: np.ndarray | None = None,
                 realization_ids: np.ndarray | None = None,
                 max_batch: int = 256) -> np.ndarray:
        """Waveforms ``(N, R, 3, T)`` float32 in g for N sites x R realizations.

        ``eps_event`` (R, n_frames, z_dim) and ``eps_site`` (N, R, z_dim) are the
        caller's standard-normal draws (see :class:`LatentShape`); the frame-wise
        site innovations and the white noise that the envelope shapes come from
        ``(seed, site_ids[n], realization_ids[r])``, so a site regenerated alone
        with its own ids and draws gives the same waveforms. ``phase``:
        "noise" (shaped white noise, the default, see
        :mod:`gm_engine.generator.envelope`), "pghi" (PGHI + ``phase_iters``
        fast Griffin-Lim iterations) or "griffin-lim" (``phase_iters``
        random-start iterations, the CGM-GM way with 500). Conditions outside
        the trained ranges are clamped to them and a warning says how many;
        the runner flags such sites with ``card.in_range``.
        """
        from .sampling import mix_innovations, site_innovations, synthesis_noise

        if phase not in PHASE_METHODS:
            raise ValueError(f"phase must be one of {PHASE_METHODS}, got {phase!r}")
        n, r = len(conditions), eps_event.shape[0]
        shp = self.latent_shape
        if eps_event.shape != (r, *shp.event):
            raise ValueError(f"eps_event must be (R, {shp.n_frames}, {shp.z_dim}), got {eps_event.shape}")
        if eps_site.shape != (n, r, *shp.site):
            raise ValueError(f"eps_site must be ({n}, {r}, {shp.site_channels}), got {eps_site.shape}")
        site_ids = np.arange(n) if site_ids is None else np.asarray(site_ids, dtype=np.int64)
        realization_ids = (np.arange(r) if realization_ids is None
                           else np.asarray(realization_ids, dtype=np.int64))
        bad = self.card.describe_out_of_range(conditions)
        if bad:
            warnings.warn("conditions clamped to the model's trained range: " + "; ".join(bad),
                          stacklevel=2)
        feats = self.card.features(conditions, clamp=True)
        t_len = self.stft_cfg.n_samples
        out = np.empty((n, r, 3, t_len), dtype=np.float32)
        per = max(1, max_batch // max(r, 1))
        for i in range(0, n, per):
            sl = slice(i, min(n, i + per))
            local = site_innovations(seed, site_ids[sl], realization_ids, shp.event)
            eps = mix_innovations(eps_event, eps_site[sl], local,
                                  self.w_between, self.site_persistent) * np.float32(self.temperature)
            nb = eps.shape[0]
            cond = torch.from_numpy(np.repeat(feats[sl], r, axis=0)).to(self.device, self.dtype)
            eps_t = torch.from_numpy(eps.reshape(nb * r, *shp.event)).to(self.device, self.dtype)
            # Rounded to float32 once, so later float64 steps see the same input
            # whatever the batch.
            log_amp = self.model.sample(cond, eps_t).float().to(self.dtype)
            if phase == "noise":
                noise = synthesis_noise(seed, site_ids[sl], realization_ids, (3, t_len))
                wn = torch.from_numpy(noise.reshape(nb * r, 3, t_len)).to(self.device, self.dtype)
                x = envelope_to_waveform(log_amp, wn, self.envelope)
            else:
                mag = bin_amplitude(log_amp, self.envelope)
                x = (phase_mod.reconstruct(mag, self.stft_cfg, n_iter=phase_iters)
                     if phase == "pghi" else
                     phase_mod.griffin_lim(mag, self.stft_cfg, n_iter=phase_iters))
            out[sl] = x.reshape(nb, r, 3, -1).cpu().numpy()
        return out


    def generate_independent(self, conditions: Any, seed: int,
                             max_batch: int = 256) -> np.ndarray:
        """Waveforms ``(N, 3, T)``, every record its own earthquake and site.

        All latent innovations are independent (scaled by the calibrated
        temperature), as for the records of the training corpus: what
        validation compares with the corpus and with NGA-West2's total sigma.
        """
        feats = self.card.features(conditions, clamp=True)
        shp = self.latent_shape
        rng = np.random.default_rng([int(seed), 2])
        n, t_len = len(feats), self.stft_cfg.n_samples
        out = np.empty((n, 3, t_len), dtype=np.float32)
        for i in range(0, n, max_batch):
            k = min(n, i + max_batch) - i
            eps = rng.standard_normal((k, *shp.event)) * self.temperature
            noise = rng.standard_normal((k, 3, t_len))
            cond = torch.from_numpy(feats[i:i + k]).to(self.device, self.dtype)
            log_amp = self.model.sample(cond, torch.from_numpy(eps).to(self.device, self.dtype))
            x = envelope_to_waveform(log_amp, torch.from_numpy(noise).to(self.device, self.dtype),
                                     self.envelope)
            out[i:i + k] = x.cpu().numpy()
        return out


def load_model(card_path: str, device: str = "auto") -> CGMGenerator:
    """Load weights named by a model card, after checking their SHA-256.

    safetensors holds only tensors, so loading executes no code.
    """
    from safetensors.torch import load_file

    card = load_card(card_path)
    wpath = verify_weights(card)
    dev = resolve_device(device)
    model = CGMVAE(ModelConfig.from_dict(card.architecture))
    state = load_file(str(wpath), device="cpu")
    model.load_state_dict(state, strict=True)
    return CGMGenerator(model, card, dev)

