"""Band envelopes: the time-frequency representation the bundled model learns.

The model of CGM-GM (Ren et al. 2026) learns a log-magnitude STFT bin by bin.
On stochastic (or recorded) accelerograms the bin-level detail is mostly the
random fine structure of |STFT|, which is Rayleigh-like scatter around a
smooth time-frequency envelope (the premise of the stochastic method, Boore
2003, PAGEOPH 160). GroundShake's model therefore learns the envelope: the
mean STFT power in ``n_bands`` log-spaced frequency bands per frame (as audio
models learn mel spectrograms), and the waveform is made by shaping Gaussian
white noise with it in the STFT domain (a time-varying filter, i.e. the
stochastic method's windowed noise, with the model supplying the window and
the spectrum). That makes the phase free (one STFT and one inverse STFT per
trace, no iterations) and the fine structure realistic; docs/generator.md
compares it with PGHI and 500 Griffin-Lim iterations on the same envelopes.

Grid: 100 Hz, 4096 samples, Hann window of 256 samples (2.56 s; 0.39 Hz bins
resolve 3 s periods), hop 64 (0.64 s, redundancy 4, for which the squared
Hann window overlap-adds to a constant, so ``istft`` inverts ``stft``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from .stft import STFTConfig, istft, istft_frames_major, stft

#: Default grid of the envelope representation (see module docstring).
ENVELOPE_STFT = STFTConfig(sample_rate=100.0, n_samples=4096, n_fft=256, hop=64, floor=1e-7)


def default_band_edges(n_bins: int = 129, n_bands: int = 32) -> list[int]:
    """Band edges (bin indices, ``n_bands + 1`` of them): single bins at the low end,
    then bands of near-constant relative width up to the Nyquist bin.

    The low bins stay single because long periods (1-3 s, bins 1-3) matter to
    PSA and the bins are already 0.39 Hz wide there.
    """
    def edges_for(g: float) -> list[int]:
        e = [0]
        for b in range(1, n_bands + 1):
            e.append(max(e[-1] + 1, round(g ** b)))
        return e

    lo, hi = 1.0, float(n_bins)
    for _ in range(100):  # bisection on the growth factor: last edge == n_bins
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if edges_for(mid)[-1] < n_bins else (lo, mid)
    e = edges_for(hi)
    e[-1] = n_bins
    if any(b <= a for a, b in zip(e[:-1], e[1:])):
        raise ValueError(f"cannot split {n_bins} bins into {n_bands} bands")
    return e


@dataclass
class EnvelopeConfig:
    """Frequency bands and STFT grid of a model (stored in its model card)."""

    stft: STFTConfig = field(default_factory=lambda: ENVELOPE_STFT)
    band_edges: list[int] = field(default_factory=default_band_edges)

    @property
    def n_bands(self) -> int:
        return len(self.band_edges) - 1

    @property
    def n_frames(self) -> int:
        return self.stft.n_frames

    def to_dict(self) -> dict[str, Any]:
        return {**self.stft.to_dict(), "representation": "band_envelope",
                "band_edges": list(self.band_edges)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvelopeConfig:
        return cls(stft=STFTConfig.from_dict(d), band_edges=[int(v) for v in d["band_edges"]])

    def band_matrix(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """(n_bands, n_bins) averaging matrix: row b is 1/width on the band's bins."""
        k = self.stft.n_bins
        m = torch.zeros(self.n_bands, k, dtype=dtype)
        for b, (lo, hi) in enumerate(zip(self.band_edges[:-1], self.band_edges[1:])):
            m[b, lo:hi] = 1.0 / (hi - lo)
        return m

    def centres(self) -> np.ndarray:
        """Centre of each band in (fractional) bin index."""
        e = np.asarray(self.band_edges, dtype=float)
        return 0.5 * (e[:-1] + e[1:] - 1.0)


def band_log_amplitude(x: torch.Tensor, cfg: EnvelopeConfig) -> torch.Tensor:
    """log10 RMS STFT amplitude per band and frame: ``(..., T)`` -> ``(..., n_bands, n_frames)``.

    The floor (``cfg.stft.floor``, in g) is added to the RMS amplitude, so the
    zero-padded ends of records do not dominate the loss.
    """
    power = stft(x, cfg.stft).abs() ** 2  # (..., K, M)
    band = torch.einsum("bk,...km->...bm", cfg.band_matrix(power.dtype).to(power.device), power)
    return torch.log10(band.clamp_min(0).sqrt() + cfg.stft.floor)


def bin_amplitude(log_amp: torch.Tensor, cfg: EnvelopeConfig) -> torch.Tensor:
    """Smooth per-bin STFT amplitude ``(..., n_bins, n_frames)`` from band log-amplitudes.

    Linear interpolation of log amplitude between band centres (flat beyond
    the first and last centre), then a per-band rescaling so that every band
    keeps exactly the mean power the model gave it: smooth in frequency, and
    energy-preserving band by band.
    """
    amp_b = _exp10(log_amp) - cfg.stft.floor
    amp_b = amp_b.clamp_min(0.0)
    k = cfg.stft.n_bins
    interp = torch.as_tensor(_interp_matrix(cfg), dtype=log_amp.dtype, device=log_amp.device)
    shape = _exp10(torch.einsum("kb,...bm->...km", interp, log_amp))  # (..., K, M)
    avg = cfg.band_matrix(log_amp.dtype).to(log_amp.device)  # (B, K)
    band_power = torch.einsum("bk,...km->...bm", avg, shape ** 2)
    scale = amp_b / band_power.clamp_min(torch.finfo(band_power.dtype).tiny).sqrt()  # (..., B, M)
    owner = torch.as_tensor(_bin_owner(cfg), device=log_amp.device)
    out = shape * scale.index_select(-2, owner)
    assert out.shape[-2] == k
    return out


def _exp10(x: torch.Tensor) -> torch.Tensor:
    """10**x as exp2: torch.pow with a scalar base took 4.6x longer on the CPU."""
    return torch.exp2(x * math.log2(10.0))


_CACHE: dict[tuple, Any] = {}


def _cached(kind: str, cfg: EnvelopeConfig, make):
    """Per-grid constants (interpolation weights, band owners, window energy), built once."""
    key = (kind, tuple(cfg.band_edges), cfg.stft.n_fft, cfg.stft.hop, cfg.stft.n_samples)
    if key not in _CACHE:
        _CACHE[key] = make(cfg)
    return _CACHE[key]


def _interp_matrix(cfg: EnvelopeConfig) -> np.ndarray:
    return _cached("interp", cfg, _make_interp_matrix)


def _make_interp_matrix(cfg: EnvelopeConfig) -> np.ndarray:
    """(n_bins, n_bands) weights of linear interpolation between band centres."""
    c = cfg.centres()
    k = np.arange(cfg.stft.n_bins, dtype=float)
    w = np.zeros((k.size, c.size))
    for i, kk in enumerate(k):
        if kk <= c[0]:
            w[i, 0] = 1.0
        elif kk >= c[-1]:
            w[i, -1] = 1.0
        else:
            j = int(np.searchsorted(c, kk, side="right")) - 1
            t = (kk - c[j]) / (c[j + 1] - c[j])
            w[i, j], w[i, j + 1] = 1.0 - t, t
    return w


def _bin_owner(cfg: EnvelopeConfig) -> np.ndarray:
    """Band index of every bin."""
    return _cached("owner", cfg, lambda c: np.repeat(np.arange(c.n_bands),
                                                     np.diff(np.asarray(c.band_edges))))


def noise_energy(cfg: EnvelopeConfig) -> float:
    """E|STFT|^2 of unit-variance white noise: the sum of the squared window."""
    def make(c: EnvelopeConfig) -> float:
        w = torch.hann_window(c.stft.n_fft, periodic=True, dtype=torch.float64)
        return float((w ** 2).sum())
    return _cached("energy", cfg, make)


def shape_noise(amplitude: torch.Tensor, noise: torch.Tensor, cfg: EnvelopeConfig) -> torch.Tensor:
    """Waveforms whose expected STFT amplitude is ``amplitude`` (..., K, M).

    ``noise`` (..., T) is unit-variance Gaussian white noise; its STFT is
    multiplied by amplitude / sqrt(E|W|^2) and inverted: a time-varying
    filter applied to white noise, as in the stochastic method.
    """
    w = stft(noise.to(amplitude.dtype), cfg.stft)
    return istft(w * (amplitude / noise_energy(cfg) ** 0.5), cfg.stft)


def batched_band_log_amplitude(x: np.ndarray, cfg: EnvelopeConfig, batch: int = 256
                               ) -> torch.Tensor:
    """Band log10 amplitudes ``(N, C, K, M)`` float32 of records ``(N, C, T)``, in batches
    (the complex STFT of 20,000 three-component records at once is ~8 GB)."""
    out = torch.empty(x.shape[0], x.shape[1], cfg.n_bands, cfg.n_frames)
    for i in range(0, x.shape[0], batch):
        chunk = np.asarray(x[i:i + batch], dtype=np.float64)
        out[i:i + batch] = band_log_amplitude(torch.from_numpy(chunk), cfg).float()
    return out


#: Records per block in :func:`envelope_to_waveform`. The complex STFTs of a
#: 256-record batch (100 MB) exceed glibc's largest mmap threshold (32 MB), so
#: every batch page-faulted ~1 GB of fresh temporaries: in blocks of 32 the
#: same synthesis took 0.66 ms per three-component record instead of 1.73 on
#: this 2-core CPU, bit-identical (docs/PERFORMANCE.md).
SYNTHESIS_BLOCK = 32


def envelope_to_waveform(log_amp: torch.Tensor, noise: torch.Tensor,
                         cfg: EnvelopeConfig) -> torch.Tensor:
    """Band log-amplitudes ``(..., n_bands, n_frames)`` + white noise -> waveforms ``(..., T)``.

    On the CPU frame-major (:func:`_shaped_noise_cpu`), record by record
    along the first axis in blocks of SYNTHESIS_BLOCK; a GPU takes the batch
    whole through :func:`bin_amplitude` and :func:`shape_noise`.
    """
    if log_amp.device.type != "cpu":
        return shape_noise(bin_amplitude(log_amp, cfg), noise, cfg)
    if log_amp.dim() < 4 or log_amp.shape[0] <= SYNTHESIS_BLOCK:
        return _shaped_noise_cpu(log_amp, noise, cfg)
    return torch.cat([_shaped_noise_cpu(log_amp[i:i + SYNTHESIS_BLOCK],
                                        noise[i:i + SYNTHESIS_BLOCK], cfg)
                      for i in range(0, log_amp.shape[0], SYNTHESIS_BLOCK)])


def _frames_major_operators(cfg: EnvelopeConfig, dtype: torch.dtype
                            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(interpolation (B, K), band averaging (K, B), band-to-bin spreading (B, K),
    a 1 at each bin's band) for :func:`_shaped_noise_cpu`, built once per grid and
    dtype (read-only use)."""
    def make(c: EnvelopeConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        spread = torch.zeros(c.n_bands, c.stft.n_bins, dtype=dtype)
        spread[torch.as_tensor(_bin_owner(c)), torch.arange(c.stft.n_bins)] = 1.0
        return (torch.as_tensor(_interp_matrix(c).T, dtype=dtype).contiguous(),
                c.band_matrix(dtype).T.contiguous(), spread)
    return _cached(f"frames_major/{dtype}", cfg, make)


def _shaped_noise_cpu(log_amp: torch.Tensor, noise: torch.Tensor,
                      cfg: EnvelopeConfig) -> torch.Tensor:
    """``shape_noise(bin_amplitude(log_amp), noise)`` on the CPU, frame-major.

    Why: the STFT's FFT lays the spectrogram out (frames, bins), and
    bin_amplitude made the amplitude (bins, frames) with a third layout inside
    (its einsum's), so the product with the complex STFT ran through strided
    memory and a complex promotion: 24 % of the synthesis' CPU time. Here
    every array is (..., frames, bins or bands), the amplitude scales the
    STFT's real and imaginary parts in place, and the inverse takes the
    product as it lies (``istft_frames_major``). The same arithmetic as
    the two functions it replaces, with the matrix products turned around,
    so equal to rounding (tests/engine/test_envelope.py).
    """
    interp, avg, spread = _frames_major_operators(cfg, log_amp.dtype)
    la = log_amp.transpose(-1, -2).contiguous()  # (..., M, B)
    shape = _exp10(la @ interp)  # (..., M, K)
    band_power = (shape * shape) @ avg  # (..., M, B)
    amp_b = (_exp10(la) - cfg.stft.floor).clamp_min_(0.0)
    scale = amp_b.div_(band_power.clamp_min_(torch.finfo(band_power.dtype).tiny).sqrt_())
    scale.mul_(1.0 / noise_energy(cfg) ** 0.5)
    # each bin takes its band's scale: a product with one 1 per column is exact
    # (scale is finite), and faster than index_select along the last axis
    amp = shape.mul_(scale @ spread)
    spec = stft(noise.to(amp.dtype), cfg.stft).transpose(-1, -2)  # (..., M, K), contiguous
    spec.mul_(amp)  # complex x real: the same values as scaling both parts
    lead = spec.shape[:-2]
    x = istft_frames_major(spec.reshape(-1, *spec.shape[-2:]), cfg.stft, amp.dtype)
    return x.reshape(*lead, cfg.stft.n_samples)


def synthesis_offset(log_amp: torch.Tensor, cfg: EnvelopeConfig, seed: int = 0) -> np.ndarray:
    """(C, K) log10 offset to add to decoded envelopes before shaping noise with them.

    A decoder fitted by squared error on log amplitudes predicts the *mean of
    the log*; noise shaped to an expected power 10^(2 L) has band log
    amplitudes whose mean is below L (Jensen's inequality: -0.1 log10 in
    single-bin bands, ~0 in wide ones). Measured here by shaping noise with
    ``log_amp`` (N, C, K, M), typically posterior-mean reconstructions of
    held-out records, and re-measuring the envelope over cells within 4 log10
    units of each record's maximum.
    """
    g = torch.Generator().manual_seed(int(seed))
    la = log_amp.double()
    noise = torch.randn(*la.shape[:-2], cfg.stft.n_samples, generator=g, dtype=torch.float64)
    # In blocks of records: the complex STFTs of 1000 records at once held ~1.6 GB.
    back = torch.cat([band_log_amplitude(envelope_to_waveform(la[i:i + 128], noise[i:i + 128],
                                                              cfg), cfg)
                      for i in range(0, la.shape[0], 128)])
    strong = la > la.amax(dim=(-1, -2), keepdim=True) - 4.0
    diff = ((back - la) * strong).sum(dim=(0, -1)) / strong.sum(dim=(0, -1)).clamp_min(1)
    return (-diff).numpy()


def config_dict(cfg: EnvelopeConfig) -> dict[str, Any]:
    return asdict(cfg.stft) | {"band_edges": list(cfg.band_edges)}
