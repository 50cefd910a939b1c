"""Fourier amplitude spectra and Konno & Ohmachi (1998) smoothing.

Konno & Ohmachi (1998, BSSA 88(1), 228-241) smooth a spectrum with a window
of constant width on a logarithmic frequency axis (their smoothing function):

    W_b(f, fc) = [ sin(b log10(f/fc)) / (b log10(f/fc)) ]^4,

b = 40 being their usual bandwidth. The window is normalised to unit sum
over the discrete frequencies, as in common implementations, so that a flat
spectrum stays flat.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..errors import InputError
from ._validate import as_records, check_dt

# Elements of one (centre frequencies x frequencies) weight block (~128 MB float64).
_BLOCK_ELEMENTS = 1 << 24


def fourier_amplitude(acc: ArrayLike, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided Fourier amplitude spectrum |FFT(a)| * dt, in g*s.

    Returns (freqs (F,) in Hz, amps (..., F)); F = T // 2 + 1. Multiplying by
    dt makes the discrete spectrum approximate the continuous transform, so
    amplitudes do not depend on the sampling rate.
    """
    arr = as_records(acc)
    dt = check_dt(dt)
    n = arr.shape[-1]
    amps = np.abs(np.fft.rfft(arr.astype(np.float64, copy=False), axis=-1)) * dt
    return np.fft.rfftfreq(n, dt), amps


def konno_ohmachi_weights(freqs: np.ndarray, centers: np.ndarray, b: float) -> np.ndarray:
    """Normalised Konno & Ohmachi (1998) window weights, shape (len(centers), len(freqs))."""
    f = freqs[None, :]
    fc = centers[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        x = b * np.log10(f / fc)
        w = (np.sin(x) / x) ** 4
    w = np.where(x == 0.0, 1.0, w)  # the limit sin(x)/x -> 1 at f = fc
    w = np.where((f > 0.0) & (fc > 0.0) & np.isfinite(w), w, 0.0)
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def konno_ohmachi_smooth(
    freqs: ArrayLike, amps: ArrayLike, b: float = 40.0, center_freqs: ArrayLike | None = None
) -> np.ndarray:
    """Konno-Ohmachi smoothed spectra (..., C) at ``center_freqs`` (default: ``freqs``).

    A centre frequency of 0 Hz returns the raw value there (the window is
    undefined at zero frequency). The weight matrix is applied in blocks of
    centre frequencies, so long records stay within memory; passing a few
    dozen log-spaced ``center_freqs`` is much faster than the full grid.
    """
    f = np.asarray(freqs, dtype=np.float64)
    if f.ndim != 1 or f.size < 2 or not np.isfinite(f).all() or (f < 0).any():
        raise InputError("freqs", "expected a 1-D array of at least 2 frequencies >= 0 Hz")
    a = as_records(amps, "amps")
    if a.shape[-1] != f.size:
        raise InputError(
            "amps", f"last axis has {a.shape[-1]} values but there are {f.size} frequencies"
        )
    if not np.isfinite(b) or b <= 0:
        raise InputError("b", f"the Konno-Ohmachi bandwidth must be positive, got {b!r}")
    fc = f if center_freqs is None else np.atleast_1d(np.asarray(center_freqs, dtype=np.float64))
    if not np.isfinite(fc).all() or (fc < 0).any():
        raise InputError("center_freqs", "centre frequencies must be finite and >= 0 Hz")
    flat = a.reshape(-1, f.size).astype(np.float64, copy=False)
    out = np.empty((flat.shape[0], fc.size))
    step = max(1, _BLOCK_ELEMENTS // f.size)
    for i in range(0, fc.size, step):
        w = konno_ohmachi_weights(f, fc[i : i + step], b)
        out[:, i : i + step] = flat @ w.T
    zero = fc == 0.0
    if zero.any():
        # Raw amplitude at 0 Hz (nearest frequency bin to 0).
        out[:, zero] = flat[:, [int(np.argmin(f))]]
    return out.reshape((*a.shape[:-1], fc.size))
