"""Phase reconstruction from STFT magnitudes, batched over traces.

The model predicts magnitudes only. CGM-GM's public code recovers a phase with
hundreds of random-start Griffin-Lim iterations per waveform (Ren et al. 2026),
which is far too slow for maps of 10^5 sites. Here the phase comes from

1. PGHI, phase-gradient heap integration (Prusa, Balazs & Sondergaard 2017,
   "A noniterative method for reconstruction of phase from STFT magnitude",
   IEEE/ACM TASLP 25(5):1154-1164): the phase gradient of a Gaussian-window
   STFT is a function of the log-magnitude gradient, and is integrated from
   the strongest coefficients outwards; then
2. optionally K warm-started iterations of the fast Griffin-Lim algorithm
   (Perraudin, Balazs & Sondergaard 2013, "A fast Griffin-Lim algorithm",
   IEEE WASPAA), alpha = 0.99 as recommended there.

Vectorising the heap. Heap integration visits coefficients in the order of a
priority flood from the maximum; every coefficient takes its phase from an
already-visited neighbour, so the visit order defines a spanning tree that
prefers strong coefficients. We build that tree for a whole batch at once as a
maximum spanning tree of the time-frequency grid graph (edge weight = mean
log-magnitude of its two ends) with scipy's compiled Kruskal, attach each
trace's maximum to a virtual root, and sum the trapezoidal phase increments
along tree paths by pointer jumping (log2(depth) vectorised passes). Like the
heap, integration never starts in weak coefficients; coefficients below
``tol`` times the trace maximum get phase 0 (PGHI assigns them an arbitrary
phase; 0 keeps the result deterministic without a seed).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.csgraph import breadth_first_order, minimum_spanning_tree

from .stft import STFTConfig, istft, stft

#: lambda of the Gaussian window equivalent to a Hann window of length L,
#: lambda = 0.25645 L^2 (Prusa et al. 2017, Sec. IV-B, "gamma" for Hann).
HANN_GAMMA = 0.25645
#: relative magnitude below which PGHI does not integrate (Prusa et al. 2017
#: use 1e-10 for exact Gaussian STFTs; 1e-5 of the maximum is 100 dB down,
#: below the dynamic range a generative model reproduces).
PGHI_TOL = 1e-5
#: FGLA momentum (Perraudin et al. 2013, Sec. 3: alpha = 0.99 works best).
FGLA_ALPHA = 0.99


def pghi_phase_gradients(mag: np.ndarray, cfg: STFTConfig) -> tuple[np.ndarray, np.ndarray]:
    """Phase derivatives per frame step and per bin step, ``(B, K, M)`` each.

    With the window-centred phase convention and a Gaussian window
    exp(-pi t^2 / lambda) (Prusa et al. 2017, Eqs. 19-20 in discrete form)::

        dphi/dm =  2 pi a k / N + (a N / lambda) ds/dk
        dphi/dk = -(lambda / (a N)) ds/dm

    with s = ln |S|, a the hop, N = n_fft, k the bin and m the frame.
    """
    n, a = cfg.n_fft, cfg.hop
    lam = HANN_GAMMA * n * n
    peak = mag.max(axis=(1, 2), keepdims=True)
    s = np.log(np.maximum(mag, peak * 1e-12 + 1e-30))
    ds_dk = np.gradient(s, axis=1)
    ds_dm = np.gradient(s, axis=2)
    k = np.arange(mag.shape[1], dtype=np.float64)[None, :, None]
    tgrad = 2.0 * np.pi * a * k / n + (a * n / lam) * ds_dk
    fgrad = -(lam / (a * n)) * ds_dm
    return tgrad, fgrad


def _grid_edges(n_bins: int, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(n_bins * n_frames).reshape(n_bins, n_frames)
    i = np.concatenate([idx[:, :-1].ravel(), idx[:-1, :].ravel()])
    j = np.concatenate([idx[:, 1:].ravel(), idx[1:, :].ravel()])
    return i, j


def pghi(mag: np.ndarray, cfg: STFTConfig, tol: float = PGHI_TOL) -> np.ndarray:
    """Phase (torch.stft convention) for magnitudes ``(B, K, M)``; returns float64 ``(B, K, M)``."""
    mag = np.asarray(mag, dtype=np.float64)
    if mag.ndim != 3:
        raise ValueError("pghi expects magnitudes shaped (batch, bins, frames)")
    b, kb, mf = mag.shape
    nn = kb * mf
    tgrad, fgrad = pghi_phase_gradients(mag, cfg)
    peak = mag.reshape(b, -1).max(axis=1)
    s = np.log(np.maximum(mag, peak[:, None, None] * 1e-12 + 1e-30)).reshape(b, nn)

    ei, ej = _grid_edges(kb, mf)
    off = (np.arange(b) * nn)[:, None]
    gi = (ei[None, :] + off).ravel()
    gj = (ej[None, :] + off).ravel()
    smax = s.max(axis=1, keepdims=True)
    # Positive weights, smallest for the strongest pairs: a minimum spanning
    # tree on them is the maximum spanning tree on log-magnitude.
    # The ramp (< 1e-6) makes all weights distinct, so the spanning tree is
    # unique and a trace's phase does not depend on the other traces of the
    # batch (ties are common in zero-padded, equal-floor regions).
    ramp = 1e-6 * np.arange(ei.size) / ei.size
    w = (smax - 0.5 * (s[:, ei] + s[:, ej]) + 1e-3 + ramp).ravel()
    root = b * nn
    start = np.arange(b) * nn + s.argmax(axis=1)
    rows = np.concatenate([gi, np.full(b, root)])
    cols = np.concatenate([gj, start])
    vals = np.concatenate([w, np.full(b, 1e-3)])
    graph = sp.coo_matrix((vals, (rows, cols)), shape=(root + 1, root + 1)).tocsr()
    tree = minimum_spanning_tree(graph)
    _, pred = breadth_first_order(tree, root, directed=False, return_predecessors=True)

    parent = pred.astype(np.int64)
    parent[root] = root
    node = np.arange(root + 1)
    real = (parent != root) & (node != root)
    tg = np.append(tgrad.reshape(-1), 0.0)
    fg = np.append(fgrad.reshape(-1), 0.0)
    local = node % nn
    kk, mm = local // mf, local % mf
    dk = np.where(real, kk - kk[parent], 0)
    dm = np.where(real, mm - mm[parent], 0)
    acc = np.where(real, 0.5 * dm * (tg + tg[parent]) + 0.5 * dk * (fg + fg[parent]), 0.0)
    acc[root] = 0.0
    # Pointer jumping: after pass j, acc holds the sum over 2^j tree edges.
    p = parent
    while np.any(p != root):
        acc = acc + acc[p]
        p = p[p]
    phi = acc[:root].reshape(b, kb, mf)
    # Window-centred phase -> torch.stft phase (frame origin n_fft/2 earlier).
    phi = phi - np.pi * np.arange(kb)[None, :, None]
    phi[mag < tol * peak[:, None, None]] = 0.0
    return phi


def fgla(mag: torch.Tensor, phase: torch.Tensor, cfg: STFTConfig, n_iter: int,
         alpha: float = FGLA_ALPHA) -> torch.Tensor:
    """Fast Griffin-Lim from an initial phase; returns traces ``(B, n_samples)``.

    Perraudin et al. (2013), Algorithm 2: t_n = P_C1(P_C2(c_{n-1})),
    c_n = t_n + alpha (t_n - t_{n-1}); P_C2 imposes the target magnitude and
    P_C1 projects onto consistent spectrograms (STFT of the inverse STFT).
    """
    c = torch.polar(mag, phase)
    t_prev = c
    for _ in range(n_iter):
        t = stft(istft(mag * torch.exp(1j * torch.angle(c)), cfg), cfg)
        c = t + alpha * (t - t_prev)
        t_prev = t
    return istft(torch.polar(mag, torch.angle(c)) if n_iter else c, cfg)


def reconstruct(mag: torch.Tensor, cfg: STFTConfig, n_iter: int = 8,
                chunk: int = 256) -> torch.Tensor:
    """Traces from magnitudes ``(..., K, M)`` by PGHI + ``n_iter`` FGLA iterations.

    PGHI runs on the CPU in float64 (scipy); the iterations run on
    ``mag.device``. Chunks bound the size of the batched spanning-tree graph.
    """
    lead = mag.shape[:-2]
    flat = mag.reshape(-1, mag.shape[-2], mag.shape[-1])
    out = []
    for i in range(0, flat.shape[0], chunk):
        m = flat[i:i + chunk]
        ph = pghi(m.detach().to("cpu", torch.float64).numpy(), cfg)
        ph_t = torch.from_numpy(ph).to(device=m.device, dtype=m.dtype)
        out.append(fgla(m, ph_t, cfg, n_iter))
    x = torch.cat(out) if out else flat.new_zeros((0, cfg.n_samples))
    return x.reshape(*lead, cfg.n_samples)


def griffin_lim(mag: torch.Tensor, cfg: STFTConfig, n_iter: int = 500,
                generator: torch.Generator | None = None,
                momentum: float = FGLA_ALPHA) -> torch.Tensor:
    """Random-start Griffin-Lim as in CGM-GM's code (torchaudio's GriffinLim:
    random initial phase, momentum 0.99); the reference for the benchmark."""
    phase = 2 * np.pi * torch.rand(mag.shape, generator=generator, dtype=mag.dtype) - np.pi
    return fgla(mag, phase.to(mag.device), cfg, n_iter, alpha=momentum)


def spectral_convergence(mag: torch.Tensor, x: torch.Tensor, cfg: STFTConfig) -> torch.Tensor:
    """|| S - |STFT(x)| ||_F / || S ||_F per trace, the PGHI paper's measure
    (Prusa et al. 2017, Eq. 27); in dB take 20 log10."""
    rec = stft(x, cfg).abs()
    dims = (-2, -1)
    return torch.linalg.vector_norm(mag - rec, dim=dims) / torch.linalg.vector_norm(mag, dim=dims)
