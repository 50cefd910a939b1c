"""Counter-based normal draws keyed by (seed, stream, site, realization), in torch.

Every site of a cgm run draws its own innovations and white noise from a key,
so it can be regenerated alone (the waveform viewer). One numpy Generator per
site costs ~25 us to create and runs on the CPU only: at 1e5 sites per second
on a GPU the draws alone would take longer than the model. Here a draw is a
pure function of (key, counter), evaluated elementwise on whatever device the
model runs on:

* key = SplitMix64's finaliser chained over (seed, stream, site, realization);
* word c of a key's stream = SplitMix64 output c, i.e. mix64(key + (c + 1) *
  golden gamma) (Steele, Lea & Flood 2014, "Fast splittable pseudorandom
  number generators", OOPSLA; the finaliser is Stafford's "Mix13");
* each 64-bit word gives two 32-bit uniforms and two normals by the
  Box-Muller transform (Box & Muller 1958), in float64.

torch has no unsigned 64-bit arithmetic, so words live in int64: products wrap
modulo 2^64 on CPU and CUDA alike (two's complement), and right shifts are
made logical with a mask. tests/engine/test_generator_keyed.py checks the
words against a pure-Python SplitMix64. The same key gives the same float32
normals on every device, up to the last-ulp differences of float64 log/cos
between CPU and GPU libraries (rounded away in float32 almost always).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .device import to_device

_MASK64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB
#: Version tag stored with a run's site terms: regenerating a site needs the
#: same generator that made it.
KEYED_RNG = "splitmix64-boxmuller-v1"


def _signed(v: int) -> int:
    """A uint64 constant as the int64 with the same bits."""
    v &= _MASK64
    return v - (1 << 64) if v >= 1 << 63 else v


def _shr(z: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 bit patterns."""
    return (z >> s) & ((1 << (64 - s)) - 1)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's finaliser on int64 bit patterns (bijective, full avalanche)."""
    z = (z ^ _shr(z, 30)) * _signed(_M1)
    z = (z ^ _shr(z, 27)) * _signed(_M2)
    return z ^ _shr(z, 31)


def keys(seed: int, stream: int, site_ids: np.ndarray, realization_ids: np.ndarray,
         device: torch.device | str = "cpu") -> torch.Tensor:
    """int64 keys ``(n_sites, n_realizations)`` of (seed, stream, site, realization)."""
    site_ids = np.asarray(site_ids, dtype=np.int64)
    realization_ids = np.asarray(realization_ids, dtype=np.int64)
    # checked on the host: on a GPU a check of device tensors waits for the card
    if seed < 0 or stream < 0 or (site_ids < 0).any() or (realization_ids < 0).any():
        raise ValueError("seed, stream, site ids and realization ids must be non-negative")
    device = torch.device(device)
    site = to_device(site_ids, device)
    real = to_device(realization_ids, device)
    g = _signed(GOLDEN_GAMMA)
    # (seed, stream) mixed on the host: integer arithmetic, the same bits anywhere
    h = mix64(torch.tensor(_signed(seed), dtype=torch.int64) + g)
    h = to_device(mix64(h ^ (stream + g)), device)
    h = mix64(h ^ (site + g))[:, None]
    return mix64(h ^ (real[None, :] + g))


def _mix64_(z: torch.Tensor) -> torch.Tensor:
    """:func:`mix64` in place on a tensor the caller owns, bit for bit the same.

    The words of the white noise are most of a CPU batch's keyed draws; the
    out-of-place chain allocated ~10 temporaries of their size.
    """
    for shift, mult in ((30, _signed(_M1)), (27, _signed(_M2)), (31, None)):
        t = z >> shift
        t &= (1 << (64 - shift)) - 1
        z ^= t
        if mult is not None:
            z *= mult
    return z


def words(key: torch.Tensor, n_words: int) -> torch.Tensor:
    """SplitMix64 words ``(*key.shape, n_words)`` of each key's stream."""
    c = torch.arange(1, n_words + 1, dtype=torch.int64, device=key.device)
    return _mix64_(key[..., None] + c * _signed(GOLDEN_GAMMA))


def keyed_normal(key: torch.Tensor, shape: tuple[int, ...],
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normals ``(*key.shape, *shape)`` from each key's stream (Box-Muller).

    In place where the operands are temporaries (same operations in the same
    order, so the same bits as the out-of-place form; 18.5 -> 10.4 ms for the
    white noise of 64 sites on one CPU core).
    """
    n = math.prod(shape)
    w = words(key, (n + 1) // 2)
    scale = 2.0 ** -32
    u1 = (w >> 32).bitwise_and_(0xFFFFFFFF).to(torch.float64).add_(0.5).mul_(scale)
    u2 = (w & 0xFFFFFFFF).to(torch.float64).add_(0.5).mul_(scale)
    del w
    r = u1.log_().mul_(-2.0).sqrt_()  # sqrt(-2 ln u1)
    theta = u2.mul_(2.0 * math.pi)
    z = torch.empty(*r.shape, 2, dtype=r.dtype, device=r.device)
    torch.mul(r, torch.cos(theta), out=z[..., 0])
    torch.mul(r, theta.sin_(), out=z[..., 1])
    z = z.reshape(*key.shape, -1)[..., :n]
    return z.to(dtype).reshape(*key.shape, *shape)


def keyed_uniform(key: torch.Tensor, n: int) -> torch.Tensor:
    """Uniforms in (0, 1) ``(*key.shape, n)`` float64 from each key's stream (53-bit)."""
    w = words(key, n)
    return (_shr(w, 11).to(torch.float64) + 0.5) * 2.0 ** -53
