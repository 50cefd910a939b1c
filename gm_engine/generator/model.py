"""Conditional sequential VAE over band-envelope frames (after CGM-GM).

Ren, Nakata, Lacour et al. (2026, Nat. Commun., arXiv 2407.15089) model a
ground motion as a sequence of spectrogram frames x_t with a per-frame latent
z_t whose prior is a GRU, the conditions c entering through an MLP
embedding. GroundShake keeps the frame latents, the GRU prior and the
embedding, and changes:

* the frames are band envelopes of three components (H1, H2, Z stacked as
  channels; gm_engine.generator.envelope);
* a static latent z_g per record with a N(0, I) prior next to the frame
  latents (the static/dynamic split of Li & Mandt 2018, ICML, "Disentangled
  sequential autoencoder"). z_g carries what is constant over a record
  (its level and spectral shape relative to the conditional mean); the
  sampler mixes between-event, spatially correlated and local draws in it;
* the GRU prior of z_t runs over [embedding, frame position], not over
  z_<t. In a first 50k-record run with the autoregressive prior of CGM-GM
  the prior learned to copy z_t-1, the conditions then mattered at the first
  frame only, and prior samples came out at one level whatever the distance
  (near-source records ~1.8 ln too weak; docs/generator.md);
* a conditional mean envelope m(c, t) from the embedding and a learned frame
  position code is added to the decoder output, so the latents model
  deviations from it;
* no batch normalisation, so one site's output never depends on which other
  sites share its batch (needed to regenerate one site alone).

Sizes follow CGM-GM's public defaults where they exist (latent z_dim 16,
condition embedding MLP 32-32-ncond, Adam lr ~7e-4); see docs/generator.md.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..gpu_memory import available_memory, power_of_two_within
from . import keyed
from . import phase as phase_mod
from .calibration import mean_shift, mean_shift_torch
from .card import ModelCard, load_card, numeric_feature, verify_weights
from .device import resolve_device, to_device, torch_threads
from .envelope import EnvelopeConfig, bin_amplitude, envelope_to_waveform
from .lowfreq import LowFrequencyGain
from .sampling import SITE_CHANNEL_PERIOD_S

#: bounds on predicted log-variances, a standard guard against exp overflow
#: and posterior collapse to zero variance in sequential VAEs.
LOGVAR_MIN, LOGVAR_MAX = -8.0, 4.0
#: ways of making a waveform from a generated envelope (``CGMGenerator.generate``)
PHASE_METHODS = ("noise", "pghi", "griffin-lim")
#: key streams of a site's own draws (gm_engine.generator.keyed): 1 is the white
#: noise of the waveforms, 2 the static latent's local part, 3 the frame latents'
#: innovations, 4 the pulse times of the pulse-train noise, 5 the draws of the
#: card's marginalised conditions.
NOISE_STREAM, STATIC_STREAM, FRAME_STREAM, PULSE_STREAM, MARGINAL_STREAM = 1, 2, 3, 4, 5


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
    g_dim: int = 16  # static latent (per record): level and shape deviations
    pos_dim: int = 16  # learned frame-position code of the prior and the mean path

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class LatentShape:
    """What the sampling pipeline must draw for one call of ``generate``.

    ``eps_event``: ``(R, g_dim)`` standard normals shared by all sites of a
    realization (the between-event part of the static latent). ``eps_site``:
    ``(N, R, g_dim)`` standard normals, each channel a spatially correlated
    field over the sites. The local static draws and the frame latents'
    innovations are drawn inside ``generate`` from ``(seed, site_id,
    realization_id)``.
    """

    n_frames: int
    z_dim: int
    g_dim: int

    @property
    def site_channels(self) -> int:
        return self.g_dim

    @property
    def event(self) -> tuple[int]:
        return (self.g_dim,)

    @property
    def site(self) -> tuple[int]:
        return (self.g_dim,)


def _mlp(sizes: list[int], last_act: bool) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2 or last_act:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


class CGMVAE(nn.Module):
    """Encoder q(z_g, z_t | x, c), GRU prior p(z_t | c, t), N(0, I) prior of z_g,
    decoder p(x_t | z_t, z_g, h_t, c) + conditional mean m(c, t)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        c, k = cfg.n_components, cfg.n_bins
        # Per-component, per-band normalisation of log10 amplitudes (training stats).
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
        self.enc_static = nn.Linear(cfg.enc_hidden, 2 * cfg.g_dim)
        self.pos = nn.Parameter(0.1 * torch.randn(cfg.n_frames, cfg.pos_dim))
        self.prior_rnn = nn.GRU(cfg.cond_embed + cfg.pos_dim, cfg.prior_hidden, batch_first=True)
        self.prior_out = nn.Linear(cfg.prior_hidden, 2 * cfg.z_dim)
        self.decoder = _mlp([cfg.z_dim + cfg.g_dim + cfg.prior_hidden + cfg.cond_embed,
                             cfg.dec_hidden, cfg.dec_hidden, c * k], False)
        self.mean_net = _mlp([cfg.cond_embed + cfg.pos_dim, cfg.dec_hidden,
                              cfg.dec_hidden, c * k], False)

    # -- normalisation -------------------------------------------------
    def normalise(self, logmag: torch.Tensor) -> torch.Tensor:
        """(B, C, K, M) log10 amplitude -> standardised."""
        return (logmag - self.spec_mean[..., None]) / self.spec_std[..., None]

    def denormalise(self, xn: torch.Tensor) -> torch.Tensor:
        return xn * self.spec_std[..., None] + self.spec_mean[..., None]

    # -- pieces ----------------------------------------------------------
    def _context(self, e: torch.Tensor) -> torch.Tensor:
        """(B, M, E + P): the embedding and the frame position code of every frame."""
        b, m = e.shape[0], self.cfg.n_frames
        pos = self.pos[None].expand(b, m, self.pos.shape[-1]).to(e.dtype)
        return torch.cat([e[:, None, :].expand(b, m, e.shape[-1]), pos], dim=-1)

    def encode(self, xn: torch.Tensor, e: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Frame posteriors (B, M, D) x 2 and static posterior (B, G) x 2."""
        b, c, k, m = xn.shape
        frames = xn.permute(0, 3, 1, 2).reshape(b * m, c, k)
        h = self.freq_conv(frames).reshape(b, m, -1)
        h = self.frame_proj(h)
        h, _ = self.enc_rnn(torch.cat([h, e[:, None, :].expand(b, m, e.shape[-1])], dim=-1))
        mu, logvar = self.enc_out(h).chunk(2, dim=-1)
        mu_g, lv_g = self.enc_static(h.mean(dim=1)).chunk(2, dim=-1)
        return (mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX),
                mu_g, lv_g.clamp(LOGVAR_MIN, LOGVAR_MAX))

    def prior(self, e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """GRU states h (B, M, H) and the frame latents' prior mean and log-variance."""
        h, _ = self.prior_rnn(self._context(e))
        mu, lv = self.prior_out(h).chunk(2, dim=-1)
        return h, mu, lv.clamp(LOGVAR_MIN, LOGVAR_MAX)

    def decode(self, z: torch.Tensor, zg: torch.Tensor, h: torch.Tensor,
               e: torch.Tensor) -> torch.Tensor:
        """Frames ``(B, M, D)`` + static ``(B, G)`` -> standardised envelope ``(B, C, K, M)``."""
        b, m, _ = z.shape
        ctx = self._context(e)
        ee = ctx[..., :e.shape[-1]]
        out = self.decoder(torch.cat([z, zg[:, None, :].expand(b, m, zg.shape[-1]), h, ee], -1))
        out = out + self.mean_net(ctx)
        return out.reshape(b, m, self.cfg.n_components, self.cfg.n_bins).permute(0, 2, 3, 1)

    def forward(self, xn: torch.Tensor, cond: torch.Tensor, noise: torch.Tensor,
                noise_g: torch.Tensor) -> dict[str, torch.Tensor]:
        """Training pass: reconstruction and posterior/prior parameters."""
        e = self.embed(cond)
        mu_q, lv_q, mu_g, lv_g = self.encode(xn, e)
        z = mu_q + torch.exp(0.5 * lv_q) * noise
        zg = mu_g + torch.exp(0.5 * lv_g) * noise_g
        h, mu_p, lv_p = self.prior(e)
        return {"xhat": self.decode(z, zg, h, e), "mu_q": mu_q, "lv_q": lv_q,
                "mu_p": mu_p, "lv_p": lv_p, "mu_g": mu_g, "lv_g": lv_g}

    @torch.no_grad()
    def sample(self, cond: torch.Tensor, eps_g: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """z_g = eps_g, z_t = mu_p + sigma_p * eps_t; returns log10 amplitudes (B, C, K, M).

        Deterministic given ``eps_g`` (B, G) and ``eps`` (B, M, D): all randomness
        is in the caller's draws.
        """
        e = self.embed(cond)
        h, mu, lv = self.prior(e)
        z = mu + torch.exp(0.5 * lv) * eps
        return self.denormalise(self.decode(z, eps_g, h, e))


def kl_gaussians(mu_q: torch.Tensor, lv_q: torch.Tensor, mu_p: torch.Tensor,
                 lv_p: torch.Tensor) -> torch.Tensor:
    """KL(q || p) of diagonal Gaussians, summed over the last axis."""
    return 0.5 * (lv_p - lv_q + (torch.exp(lv_q) + (mu_q - mu_p) ** 2) / torch.exp(lv_p) - 1).sum(-1)


def n_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


#: Site-realizations per model call on the CPU (see CGMGenerator.__init__).
CPU_ROW_BLOCK = 64
#: Rows per model and synthesis call on a GPU (see CGMGenerator.__init__). On
#: an H200, 100,000 sites in batches of 32,768: 47,500 sites/s unpadded, 45,800
#: in blocks of 4,096 and 45,100 of 8,192, with 54.7 / 21.7 / 25.1 GB at peak
#: (bench/bench_gpu.py --row-block, docs/PERFORMANCE.md).
GPU_ROW_BLOCK = 4096
#: Site-realizations per batch on a GPU: a multiple of GPU_ROW_BLOCK, at most
#: GPU_BATCH_MAX, as the card's memory allows at GPU_BYTES_PER_ROW each past
#: GPU_RESERVE_BYTES (the model's block and the IMs' passes). Larger batches
#: mean fewer, larger IM passes: unpadded, 4,096 / 16,384 / 32,768 ran at
#: 29,000 / 34,000 / 38,000 sites/s on an H200 before the IMs' passes grew
#: with the card's memory. The per-row figure is twice what 21.7 GB at 32,768
#: rows in blocks suggests (waveforms of two batches alive, their float64
#: synthesis and padded copies).
GPU_BATCH_MIN, GPU_BATCH_MAX = GPU_ROW_BLOCK, 32768
GPU_BYTES_PER_ROW = 400_000
GPU_RESERVE_BYTES = 8 << 30


def gpu_batch_for(available: int | None) -> int:
    """Site-realizations per GPU batch for ``available`` bytes of device memory."""
    if available is None:  # (MPS: no reading of free memory)
        return GPU_BATCH_MIN
    return power_of_two_within((available - GPU_RESERVE_BYTES) / GPU_BYTES_PER_ROW,
                               GPU_BATCH_MIN, GPU_BATCH_MAX)


def pulse_train(noise: torch.Tensor, u: torch.Tensor, p: np.ndarray) -> torch.Tensor:
    """Unit-variance Gaussian noise ``(n, 3, T)`` -> a Poisson train of Gaussian pulses.

    A sample keeps its value / sqrt(p) where the uniform ``u`` (n, T) is below
    the row's pulse probability ``p`` (n,) and is zero elsewhere: the same
    variance, the same pulse times on the three components, as the training
    simulator draws them (gm_engine.stochastic.simulator).
    """
    pt = to_device(np.asarray(p, dtype=np.float64), noise.device)[:, None]
    keep = (u < pt).to(torch.float64) / torch.sqrt(pt)
    return noise * keep.to(noise.dtype)[:, None, :]


def _pad_rows(x: Any, pad: int) -> Any:
    """``x`` (numpy or torch) with its last row repeated ``pad`` more times."""
    if pad == 0:
        return x
    if isinstance(x, np.ndarray):
        return np.concatenate([x, np.repeat(x[-1:], pad, axis=0)])
    return torch.cat([x, x[-1:].expand(pad, *x.shape[1:])])


class CGMGenerator:
    """A trained model plus its card: conditions in, three-component accelerograms out."""

    def __init__(self, model: CGMVAE, card: ModelCard, device: torch.device) -> None:
        # A map's site must regenerate alone with the bits it had in the run,
        # but matrix products, FFTs and recurrent kernels round differently
        # with the number of rows. So every model and synthesis call takes
        # exactly ``row_block`` rows (the last block padded): CPU_ROW_BLOCK on
        # the CPU, which also made float32 batch-invariant there and 2.6x
        # (model) to 3.5x (synthesis) faster than float64 (docs/PERFORMANCE.md);
        # GPU_ROW_BLOCK on a GPU. CUDA keeps float64: unpadded, its batches
        # differed from a site alone by ~1e-14 relative in the decoded
        # envelopes, enough to move float32 waveform samples by an ulp; padded,
        # every stage was bit for bit the same (bench/check_regeneration.py on an
        # H200, 2026-11-26). MPS has no float64.
        self.dtype = torch.float64 if device.type == "cuda" else torch.float32
        self.row_block = CPU_ROW_BLOCK if device.type == "cpu" else GPU_ROW_BLOCK
        self.model = model.to(device=device, dtype=self.dtype).eval()
        self.card = card
        self.device = device
        self.envelope = EnvelopeConfig.from_dict(card.stft)
        self.stft_cfg = self.envelope.stft
        lat = card.latent
        #: between-event share of the latent variance: a number, or a table by
        #: magnitude (sampling.latent_at); so is the temperature below
        self.w_between = _latent_setting(lat["w_between"])
        self.site_persistent = float(lat["site_persistent"])
        #: the period (s) whose Jayaram & Baker (2009) range the latent site channels
        #: take (sampling.draw_site_terms); 1 s unless the card says otherwise
        self.site_channel_period_s = float(lat.get("site_channel_period_s",
                                                   SITE_CHANNEL_PERIOD_S))
        #: temperature of the latent innovations (1 = the trained prior); calibrated
        #: so generated IMs have the corpus's / NGA-West2's total sigma.
        self.temperature = _latent_setting(lat.get("temperature", 1.0))
        #: log10 offset per component and band added to decoded envelopes before
        #: shaping noise (envelope.synthesis_offset): the decoder predicts the mean
        #: of a log, noise shaped to 10^(2 L) lands ~0.1 log10 below L in narrow bands.
        #: conditional prior of the static latent, p(z_g | c) = N(W [e(c), 1], L L^T),
        #: fitted to the aggregate posterior after training (static_prior()): the
        #: posterior of z_g keeps some condition-dependent level, and drawing it from
        #: N(0, I) compressed the distance and magnitude scaling (docs/generator.md).
        sp = card.decoder.get("static_prior")
        self.static_w = self.static_l = None
        if sp is not None:
            self.static_w = torch.tensor(sp["W"], dtype=self.dtype, device=device)
            self.static_l = torch.tensor(sp["L"], dtype=self.dtype, device=device)
        off = card.decoder.get("synthesis_offset_log10")
        self.synthesis_offset = None if off is None else torch.tensor(off, dtype=self.dtype,
                                                                      device=device)
        #: conditional band-energy correction fitted to the training records
        #: (gm_engine.generator.calibration); None: the decoder's envelope as is.
        mc = card.decoder.get("mean_correction")
        # Its coefficients as one array, converted once: mean_shift converted the
        # card's nested lists (18,000 numbers) at every batch (1 ms per 64 sites).
        self.mean_correction = (None if mc is None else
                                {**mc, "coef_log10": np.asarray(mc["coef_log10"], dtype=np.float64)})
        self._coef_on_device: tuple[np.ndarray, torch.Tensor] | None = None
        #: site-realizations per batch, None: :meth:`default_batch`'s choice for the
        #: device (a benchmark's knob; on the CPU the row blocks stay CPU_ROW_BLOCK)
        self.batch_rows: int | None = None
        self._gpu_batch: int | None = None
        #: "gaussian" or "pulse_train" (ModelCard.synthesis)
        self.noise = card.synthesis.get("noise", "gaussian")
        #: zero-phase gain below ~1 Hz fitted to the training records (lowfreq.py), or None
        lfg = card.synthesis.get("low_frequency_gain")
        self.low_frequency_gain = None if lfg is None else LowFrequencyGain.from_dict(lfg)

    def compute_in(self, dtype: torch.dtype) -> None:
        """Run the network and the synthesis in ``dtype`` (default: float32 on the CPU,
        float64 on CUDA): for measuring another precision on a device (bench/)."""
        self.dtype = dtype
        self.model = self.model.to(dtype)
        for name in ("static_w", "static_l", "synthesis_offset"):
            if getattr(self, name) is not None:
                setattr(self, name, getattr(self, name).to(dtype))

    def _decoded_shift(self, feats: np.ndarray) -> torch.Tensor | float:
        """log10 shift ``(B, C, K, 1)`` added to decoded envelopes: synthesis offset + mean correction."""
        shift: torch.Tensor | float = 0.0
        if self.synthesis_offset is not None:
            shift = self.synthesis_offset[..., None]
        if self.mean_correction is not None:
            if self.device.type == "cpu":
                mc = torch.from_numpy(mean_shift(self.mean_correction, feats)).to(self.dtype)
            else:
                mc = mean_shift_torch(self.mean_correction, feats,
                                      self._device_coefficients()).to(self.dtype)
            shift = shift + mc[..., None]
        return shift

    def _device_coefficients(self) -> torch.Tensor:
        """The mean correction's coefficients on the model's device, copied once per
        correction (a caller may swap ``mean_correction``, as the calibration does)."""
        coef = self.mean_correction["coef_log10"]
        if self._coef_on_device is None or self._coef_on_device[0] is not coef:
            self._coef_on_device = (coef, torch.from_numpy(coef).to(self.device))
        return self._coef_on_device[1]

    def static_latent(self, cond: torch.Tensor, eps_g: torch.Tensor) -> torch.Tensor:
        """z_g from standard innovations: through the fitted conditional prior if the card has one."""
        if self.static_w is None:
            return eps_g
        e = self.model.embed(cond)
        e1 = torch.cat([e, torch.ones_like(e[:, :1])], dim=-1)
        return e1 @ self.static_w.T + eps_g @ self.static_l.T

    @property
    def latent_shape(self) -> LatentShape:
        cfg = self.model.cfg
        return LatentShape(n_frames=cfg.n_frames, z_dim=cfg.z_dim, g_dim=cfg.g_dim)

    @property
    def dt(self) -> float:
        return self.stft_cfg.dt

    def generate(self, conditions: Any, eps_event: np.ndarray, eps_site: np.ndarray,
                 phase: str = "noise", phase_iters: int = 8, *, seed: int = 0,
                 site_ids: np.ndarray | None = None,
                 realization_ids: np.ndarray | None = None,
                 max_batch: int | None = None, vertical: bool = True) -> np.ndarray:
        """Waveforms ``(N, R, 3, T)`` float32 in g for N sites x R realizations.

        ``eps_event`` (R, n_frames, z_dim) and ``eps_site`` (N, R, z_dim) are the
        caller's standard-normal draws (see :class:`LatentShape`); the frame-wise
        site innovations and the white noise that the envelope shapes come from
        ``(seed, site_ids[n], realization_ids[r])`` (gm_engine.generator.keyed),
        so a site regenerated alone with its own ids and draws gives the same
        waveforms. ``phase``: "noise" (shaped white noise, the default, see
        :mod:`gm_engine.generator.envelope`), "pghi" (PGHI + ``phase_iters``
        fast Griffin-Lim iterations) or "griffin-lim" (``phase_iters``
        random-start iterations, the CGM-GM way with 500). Conditions outside
        the trained ranges are clamped to them and a warning says how many;
        the runner flags such sites with ``card.in_range``. ``vertical=False``
        leaves Z at zero, unsynthesised: for IMs of the horizontals (H1 and H2
        are the same bits either way, see ``_shaped_noise``).
        """
        n, r = len(conditions), eps_event.shape[0]
        shape = (n, r, 3, self.stft_cfg.n_samples)
        out = np.empty(shape, dtype=np.float32) if vertical else np.zeros(shape, dtype=np.float32)
        for sl, x in self.generate_batches(conditions, eps_event, eps_site, phase, phase_iters,
                                           seed=seed, site_ids=site_ids,
                                           realization_ids=realization_ids,
                                           max_batch=max_batch, vertical=vertical):
            out[sl, :, :x.shape[2]] = x.cpu().numpy()
        return out

    def default_batch(self) -> int:
        """Site-realizations per batch of :meth:`generate_batches`: small on the CPU, large on a GPU.

        On the CPU, batches of 256 allocated temporaries above glibc's mmap
        threshold (32 MB) that were page-faulted in again at every call: the
        sampler took 1.11 ms per site at 256, 0.70 at 64 (docs/PERFORMANCE.md).
        On a GPU, what its memory allows when first asked (:func:`gpu_batch_for`).
        """
        if self.batch_rows:
            return int(self.batch_rows)
        if self.device.type == "cpu":
            return CPU_ROW_BLOCK
        if self._gpu_batch is None:
            self._gpu_batch = gpu_batch_for(available_memory(self.device))
        return self._gpu_batch

    def generate_batches(self, conditions: Any, eps_event: np.ndarray, eps_site: np.ndarray,
                         phase: str = "noise", phase_iters: int = 8, *, seed: int = 0,
                         site_ids: np.ndarray | None = None,
                         realization_ids: np.ndarray | None = None,
                         max_batch: int | None = None, vertical: bool = True
                         ) -> Iterator[tuple[slice, torch.Tensor]]:
        """:meth:`generate` batch by batch: (site slice, ``(n, R, 3, T)`` float32 on the
        model's device), so a GPU caller computes IMs without copying waveforms back.
        With ``vertical=False`` the batches hold H1 and H2 only, ``(n, R, 2, T)``."""
        from .sampling import mix_innovations

        if phase not in PHASE_METHODS:
            raise ValueError(f"phase must be one of {PHASE_METHODS}, got {phase!r}")
        n, r = len(conditions), eps_event.shape[0]
        shp = self.latent_shape
        if eps_event.shape != (r, *shp.event):
            raise ValueError(f"eps_event must be (R, {shp.g_dim}), got {eps_event.shape}")
        if eps_site.shape != (n, r, *shp.site):
            raise ValueError(f"eps_site must be ({n}, {r}, {shp.g_dim}), got {eps_site.shape}")
        site_ids = np.arange(n) if site_ids is None else np.asarray(site_ids, dtype=np.int64)
        realization_ids = (np.arange(r) if realization_ids is None
                           else np.asarray(realization_ids, dtype=np.int64))
        bad = self.card.describe_out_of_range(conditions)
        if bad:
            warnings.warn("conditions clamped to the model's trained range: " + "; ".join(bad),
                          stacklevel=3)
        feats = self.card.features(conditions, clamp=True)
        t_len = self.stft_cfg.n_samples
        dev, dt = self.device, self.dtype
        temp_all, wb_all = self._latent_by_site(feats)
        ev = to_device(np.asarray(eps_event, dtype=np.float32), dev, dt)
        p_pulse = self.pulse_probability(feats) if phase == "noise" else None
        per = max(1, (max_batch or self.default_batch()) // max(r, 1))
        for i in range(0, n, per):
            sl = slice(i, min(n, i + per))
            nb = sl.stop - sl.start
            k_static = keyed.keys(seed, STATIC_STREAM, site_ids[sl], realization_ids, dev)
            k_frame = keyed.keys(seed, FRAME_STREAM, site_ids[sl], realization_ids, dev)
            si = to_device(np.asarray(eps_site[sl], dtype=np.float32), dev, dt)
            local_g = keyed.keyed_normal(k_static, shp.event).to(dt)
            # numbers, or per site (nb, 1, 1) for (nb, R, G) and (nb, 1, 1, 1) for frames
            eps_g = mix_innovations(ev, si, local_g, self._site_values(wb_all, sl, 2),
                                    self.site_persistent) * self._site_values(temp_all, sl, 2)
            frames = (keyed.keyed_normal(k_frame, (shp.n_frames, shp.z_dim)).to(dt)
                      * self._site_values(temp_all, sl, 3))
            rows = self.sampled_features(feats[sl], seed, site_ids[sl], realization_ids)
            wn = None
            if phase == "noise":
                # A key's stream starts with H1's then H2's normals: without the
                # vertical, the first two components' draws are the same.
                k_noise = keyed.keys(seed, NOISE_STREAM, site_ids[sl], realization_ids, dev)
                comps = 3 if vertical else 2
                wn = keyed.keyed_normal(k_noise, (comps, t_len), dtype=dt
                                        ).reshape(nb * r, comps, t_len)
                if p_pulse is not None:  # the same pulse times on every component
                    k_pulse = keyed.keys(seed, PULSE_STREAM, site_ids[sl], realization_ids, dev)
                    u = keyed.keyed_uniform(k_pulse, t_len).reshape(nb * r, t_len)
                    wn = pulse_train(wn, u, np.repeat(p_pulse[sl], r))
            x = self._waveform_rows(rows, eps_g.reshape(nb * r, shp.g_dim),
                                    frames.reshape(nb * r, shp.n_frames, shp.z_dim), wn,
                                    phase, phase_iters, vertical)
            if not vertical:
                x = x[:, :2]
            yield sl, x.reshape(nb, r, x.shape[1], -1).float()

    def sampled_features(self, feats: np.ndarray, seed: int, site_ids: np.ndarray,
                         realization_ids: np.ndarray) -> np.ndarray:
        """Rows ``(n_sites * n_realizations, F)``, site-major, that the network sees: each
        site's features ``feats`` (n_sites, F) once per realization, with the card's
        marginalised conditions drawn per (seed, site, realization)."""
        rows = np.repeat(feats, len(realization_ids), axis=0)
        if not self.card.marginalised:
            return rows
        return self.marginalised_features(
            rows, self.marginal_uniforms(seed, site_ids, realization_ids))

    def marginal_uniforms(self, seed: int, site_ids: np.ndarray,
                          realization_ids: np.ndarray) -> np.ndarray:
        """Uniforms ``(n_sites * n_realizations, n_marginalised)``, site-major, keyed by
        (seed, site, realization) on the CPU: the same on every device."""
        k = keyed.keys(seed, MARGINAL_STREAM, site_ids, realization_ids)
        u = keyed.keyed_uniform(k, len(self.card.marginalised))
        return u.reshape(len(site_ids) * len(realization_ids), -1).numpy()

    def drawn_conditions(self, conditions: Any, seed: int, site_ids: np.ndarray,
                         realization_ids: np.ndarray) -> dict[str, np.ndarray]:
        """``{column: (n_sites, n_realizations)}`` values the sampler used for the card's
        marginalised conditions (empty without any): what a waveform export reports
        next to the site's own conditions, which the model did not use."""
        if not self.card.marginalised:
            return {}
        n, r = len(conditions), len(realization_ids)
        rows = self.sampled_features(self.card.features(conditions, clamp=True), seed,
                                     np.asarray(site_ids, dtype=np.int64),
                                     np.asarray(realization_ids, dtype=np.int64))
        cond = self.card.conditions_from_features(rows)
        columns = {c.name: c.column for c in self.card.conditions}
        return {columns[name]: cond[columns[name]].to_numpy().reshape(n, r)
                for name in self.card.marginalised}

    def marginalised_features(self, rows: np.ndarray, u: np.ndarray) -> np.ndarray:
        """``rows`` (n, F) features with each marginalised condition (card order of
        ``marginalised``) replaced by a draw from its training distribution, given
        uniforms ``u`` (n, n_marginalised) in (0, 1).

        Why: a condition the training records do not depend on (Ztor for the
        bundled model, whose simulator ignores it) still moves the network's
        output, spuriously and most at the edge of its range, where the mean
        correction, fitted on average over that condition, does not reach
        (docs/generator.md). Drawing it as the corpus did makes every site the
        average the correction was fitted to.
        """
        out = np.array(rows, copy=True)
        cond = self.card.conditions_from_features(rows)
        at = self.card.feature_columns()
        for j, (name, m) in enumerate(self.card.marginalised.items()):
            spec, c = at[name]
            low = float(m["low"])
            high = np.full(len(rows), float(m["high"]))
            if m.get("at_most") is not None:
                high = np.minimum(high, cond[m["at_most"]].to_numpy(dtype=np.float64))
            value = low + u[:, j] * np.maximum(high - low, 0.0)
            out[:, c] = numeric_feature(spec, np.clip(value, spec.min, spec.max))
        return out

    def pulse_probability(self, feats: np.ndarray) -> np.ndarray | None:
        """Per-sample pulse probability ``(N,)`` of the noise at features ``feats``, or
        None for Gaussian noise: the training simulator's calibrated Poisson rate
        (gm_engine.stochastic.simulator.pulse_probability) for a ``pulse_train`` card."""
        if self.noise != "pulse_train":
            return None
        from ..stochastic.simulator import pulse_probability

        return pulse_probability(self.card.conditions_from_features(feats), self.dt)

    def _waveform_rows(self, rows: np.ndarray, eps_g: torch.Tensor, frames: torch.Tensor,
                       noise: torch.Tensor | None, phase: str, phase_iters: int,
                       vertical: bool = True) -> torch.Tensor:
        """Waveforms ``(n, 3, T)`` of n rows (site-realizations), in row blocks.

        Each block has exactly ``row_block`` rows, the last one padded with
        copies of its last row, so every matrix product has the same shape
        whichever sites share a block (see ``__init__``).
        """
        blk, n = self.row_block, len(rows)
        if blk is None:
            return self._waveforms(rows, eps_g, frames, noise, phase, phase_iters,
                                   vertical=vertical)
        out = []
        for i in range(0, n, blk):
            j = min(n, i + blk)
            pad = blk - (j - i)
            x = self._waveforms(_pad_rows(rows[i:j], pad), _pad_rows(eps_g[i:j], pad),
                                _pad_rows(frames[i:j], pad),
                                None if noise is None else _pad_rows(noise[i:j], pad),
                                phase, phase_iters, real=j - i, vertical=vertical)
            out.append(x)
        return out[0] if len(out) == 1 else torch.cat(out)

    def _waveforms(self, rows: np.ndarray, eps_g: torch.Tensor, frames: torch.Tensor,
                   noise: torch.Tensor | None, phase: str, phase_iters: int,
                   real: int | None = None, vertical: bool = True) -> torch.Tensor:
        """Conditions + latent innovations (+ white noise for ``phase="noise"``) -> ``(n, 3, T)``.

        Only the first ``real`` rows come back; the iterative phase methods,
        row-wise and slow, run on those alone.
        """
        cond = to_device(rows, self.device, self.dtype)
        with torch.no_grad():
            zg = self.static_latent(cond, eps_g)
        log_amp = self.model.sample(cond, zg, frames)
        log_amp = log_amp.to(self.dtype) + self._decoded_shift(rows)
        if phase == "noise":
            mags = (None if self.low_frequency_gain is None
                    else self.card.numeric_condition(rows, "magnitude"))
            return self._shaped_noise(log_amp, noise, vertical, mags)[:real]
        mag = bin_amplitude(log_amp[:real], self.envelope)
        if phase == "pghi":
            return phase_mod.reconstruct(mag, self.stft_cfg, n_iter=phase_iters)
        return phase_mod.griffin_lim(mag, self.stft_cfg, n_iter=phase_iters)

    def _shaped_noise(self, log_amp: torch.Tensor, noise: torch.Tensor,
                      vertical: bool, magnitude: np.ndarray | None = None) -> torch.Tensor:
        """Shaped-noise waveforms: H1 and H2 in one call and Z in another.

        Why: the cgm engine's IMs are of the horizontals, and leaving out Z
        saves a third of the synthesis. Float32 products round according to
        their shapes (see ``__init__``), so H1 and H2 are always made in a
        call of the same shape, with or without Z: their bits do not depend
        on ``vertical``, and a site regenerated for the viewer keeps the bits
        its IMs were computed from. Without ``vertical`` ``noise`` holds H1
        and H2 only. ``magnitude`` (per row): apply the card's low-frequency
        gain, to each of those calls' outputs.
        """
        def synthesise(la: torch.Tensor, wn: torch.Tensor) -> torch.Tensor:
            x = envelope_to_waveform(la, wn, self.envelope)
            if magnitude is None:
                return x
            return self.low_frequency_gain.apply(x, magnitude, self.dt)

        # One torch thread on the CPU: with 16 threads (torch 2.11, the 16-core
        # host of a lent GPU machine) a site's synthesised samples depended on its
        # row in the block (5 of 24,576 differed alone vs in a batch, the tiny
        # test card; decoded envelopes and noise were equal; with one thread
        # none), and the cgm engine synthesises with one thread per batch, so a
        # site regenerated for the viewer must be made the same way.
        with torch_threads(1) if self.device.type == "cpu" else nullcontext():
            if self.row_block is None or log_amp.shape[1] != 3:
                return synthesise(log_amp[:, :noise.shape[1]], noise)
            horizontal = synthesise(log_amp[:, :2], noise[:, :2])
            if not vertical:
                return horizontal
            z = synthesise(log_amp[:, 2:], noise[:, 2:])
            return torch.cat([horizontal, z], dim=1)

    def generate_independent(self, conditions: Any, seed: int,
                             max_batch: int = 256) -> np.ndarray:
        """Waveforms ``(N, 3, T)``, every record its own earthquake and site.

        All latent innovations are independent (scaled by the calibrated
        temperature), as for the records of the training corpus: what
        validation compares with the corpus and with NGA-West2's total sigma.
        """
        return self.independent_waveforms(self.card.features(conditions, clamp=True), seed,
                                          max_batch)

    def independent_waveforms(self, feats: np.ndarray, seed: int,
                              max_batch: int = 256) -> np.ndarray:
        """:meth:`generate_independent` from card features ``(N, F)`` (training-side use)."""
        out = np.empty((len(feats), 3, self.stft_cfg.n_samples), dtype=np.float32)
        for sl, x in self.iter_independent_waveforms(feats, seed, max_batch):
            out[sl] = x
        return out

    def iter_independent_waveforms(self, feats: np.ndarray, seed: int, max_batch: int = 256,
                                   marginalise: bool = True
                                   ) -> Iterator[tuple[slice, np.ndarray]]:
        """:meth:`independent_waveforms` batch by batch, for callers that reduce each batch.

        ``marginalise=False`` keeps the records' own values of the card's
        marginalised conditions (the calibration compares prior samples with
        the training records at their own conditions).
        """
        shp = self.latent_shape
        rng = np.random.default_rng([int(seed), 2])
        if marginalise and self.card.marginalised:
            u = np.random.default_rng([int(seed), MARGINAL_STREAM]).random(
                (len(feats), len(self.card.marginalised)))
            feats = self.marginalised_features(feats, u)
        n, t_len = len(feats), self.stft_cfg.n_samples
        temp_all = self._latent_by_site(feats)[0]
        for i in range(0, n, max_batch):
            k = min(n, i + max_batch) - i
            temp = (temp_all if isinstance(temp_all, float)
                    else temp_all[i:i + k, None])  # (k, 1): one per record
            eps_g = rng.standard_normal((k, shp.g_dim)) * temp
            eps = rng.standard_normal((k, shp.n_frames, shp.z_dim)) * (
                temp if isinstance(temp, float) else temp[..., None])
            noise = rng.standard_normal((k, 3, t_len))
            p = self.pulse_probability(feats[i:i + k])
            if p is not None:
                noise = pulse_train(torch.from_numpy(noise),
                                    torch.from_numpy(rng.random((k, t_len))), p).numpy()
            x = self._waveform_rows(feats[i:i + k], self._tensor(eps_g), self._tensor(eps),
                                    self._tensor(noise), "noise", 0)
            yield slice(i, i + k), x.cpu().numpy().astype(np.float32, copy=False)

    def _latent_by_site(self, feats: np.ndarray
                        ) -> tuple[float | np.ndarray, float | np.ndarray]:
        """(temperature, w_between) per row of card features ``feats``: numbers as the
        card gives them, or float64 arrays where the card tables them by magnitude."""
        from .sampling import is_magnitude_table, latent_at

        if not (is_magnitude_table(self.temperature) or is_magnitude_table(self.w_between)):
            return float(self.temperature), float(self.w_between)
        mags = self.card.conditions_from_features(feats)["magnitude"].to_numpy(float)
        return latent_at(self.temperature, mags), latent_at(self.w_between, mags)

    def _site_values(self, values: float | np.ndarray, sl: slice,
                     trailing: int) -> float | torch.Tensor:
        """A per-site setting for the sites ``sl`` as a tensor with ``trailing`` unit
        dimensions on the model's device (a number stays a number)."""
        if isinstance(values, float):
            return values
        t = to_device(np.ascontiguousarray(values[sl]), self.device, self.dtype)
        return t.reshape(-1, *([1] * trailing))

    def _tensor(self, a: np.ndarray) -> torch.Tensor:
        return to_device(a, self.device, self.dtype)


def _latent_setting(entry: Any) -> float | dict[str, Any]:
    """A card's latent number, or its table by magnitude (checked once, kept as is)."""
    from .sampling import is_magnitude_table, latent_at

    if is_magnitude_table(entry):
        latent_at(entry, np.zeros(1))  # raises on a malformed table
        return entry
    return float(entry)


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

