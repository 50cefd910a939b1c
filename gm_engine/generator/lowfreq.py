"""Low-frequency gain of shaped-noise waveforms, fitted to the training records.

Why: the band envelope's lowest bands are the STFT bins at 0 and 0.39 Hz
(a 2.56 s Hann window). Below ~0.4 Hz a record's Fourier spectrum falls
towards zero frequency as the source spectrum does below its corner (omega
squared, Brune 1970; Boore 2003, PAGEOPH 160), but white noise shaped by
those two bins keeps a nearly flat spectrum there. Measured on the 2,000
held-out corpus records of validation/cgm.py (cgm-ca-sim-v10, session 14):
the generated Fourier amplitude was 2.25 ln units above the records' at
0.05 Hz for M 4.5-5.5 and 0.74 for M 7.5-8, 0.58 and 0.08 at 0.2 Hz, 0.26 and
0.05 at 0.3 Hz; PGD came out 0.42-0.70 ln high and PSA(3 s) 0.09 high at
M < 6.

What: ln G(f, M) on nodes of frequency and magnitude, linear in ln f and in
M between them (clamped to the magnitude nodes; the first frequency node's
value below it, zero above the last), applied to every component as a
zero-phase gain on the record's spectrum, zero-padded to ``n_fft`` samples
so that the correction does not wrap around the record. Fitted to training
records after everything else (:func:`fit_low_frequency_gain`): like the
mean correction (calibration.py), a fit of the sampler to its own training
data, with no ground-motion model in it.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from .device import to_device

#: Frequency nodes (Hz) of the fitted gain: the first FFT bin of a 40.96 s
#: record, then up to 1 Hz, where the generated spectrum already matched.
FREQ_NODES_HZ = (0.0244, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.8, 1.0)
#: Magnitude nodes over the bundled model's trained range, 0.75 apart: with
#: nodes 0.5 apart, 20,000 records left node-to-node wiggles of ~0.1 ln in the
#: fitted table (its fit noise) and did no better on held-out records.
MAG_NODES = (4.5, 5.25, 6.0, 6.75, 7.5, 8.0)
#: Half-width in ln f of the window over which Fourier amplitudes are
#: log-averaged at a node when fitting (+-22 %, at least one bin each side).
SMOOTH_LN_F = 0.2


@dataclass(frozen=True)
class LowFrequencyGain:
    """ln G at ``freq_hz`` (F,) x ``magnitude`` (Mn,) nodes, ``ln_gain`` (Mn, F)."""

    freq_hz: tuple[float, ...]
    magnitude: tuple[float, ...]
    ln_gain: tuple[tuple[float, ...], ...]
    n_fft: int

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LowFrequencyGain:
        """From a model card's ``synthesis.low_frequency_gain``; a malformed one is an input error."""
        field = "model_card.synthesis.low_frequency_gain"
        try:
            g = cls(tuple(float(v) for v in d["freq_hz"]),
                    tuple(float(v) for v in d["magnitude"]),
                    tuple(tuple(float(v) for v in row) for row in d["ln_gain"]), int(d["n_fft"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(field, f"needs freq_hz, magnitude, ln_gain and n_fft ({exc})") from exc
        if np.shape(g.ln_gain) != (len(g.magnitude), len(g.freq_hz)):
            raise InputError(field, "ln_gain must have one row per magnitude node and one "
                                    "value per frequency node")
        if (len(g.magnitude) < 2 or len(g.freq_hz) < 2 or np.any(np.diff(g.freq_hz) <= 0)
                or np.any(np.diff(g.magnitude) <= 0) or g.freq_hz[0] <= 0):
            raise InputError(field, "needs at least two increasing, positive nodes of each kind")
        if not np.isfinite(g.ln_gain).all() or g.n_fft < 2:
            raise InputError(field, "ln_gain must be finite and n_fft at least 2")
        return g

    def to_dict(self) -> dict[str, Any]:
        return {"freq_hz": list(self.freq_hz), "magnitude": list(self.magnitude),
                "ln_gain": [[round(v, 4) for v in row] for row in self.ln_gain],
                "n_fft": self.n_fft}

    def gains(self, magnitude: np.ndarray, dt: float, n: int) -> np.ndarray:
        """G (N, bins) for each magnitude at the FFT bins of ``n`` samples up to the last node."""
        f = np.arange(int(np.floor(self.freq_hz[-1] * n * dt)) + 1) / (n * dt)
        lf = np.log(np.maximum(f, self.freq_hz[0]))
        by_node = np.stack([np.interp(lf, np.log(self.freq_hz), row, right=0.0)
                            for row in np.asarray(self.ln_gain)])  # (Mn, bins)
        j, w = _bracket(np.asarray(self.magnitude), magnitude)
        w = w[:, None]
        return np.exp((1.0 - w) * by_node[j] + w * by_node[j + 1])

    def apply(self, x: torch.Tensor, magnitude: np.ndarray, dt: float) -> torch.Tensor:
        """Waveforms ``x`` (N, C, T) with the gain of each row's magnitude (N,).

        Rows are transformed independently, so a row's bits depend on the
        shape of ``x`` only (the generator passes whole row blocks).
        """
        n_t = x.shape[-1]
        n = max(self.n_fft, n_t)
        # (an asynchronous copy: a blocking one would wait for the card's queue)
        g = to_device(self.gains(magnitude, dt, n), x.device, x.dtype)
        spec = torch.fft.rfft(x, n=n)
        spec[..., :g.shape[-1]] *= g[:, None, :]
        return torch.fft.irfft(spec, n=n)[..., :n_t].contiguous()


def _bracket(nodes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left node j, weight w of node j + 1) of each value clamped to the nodes: the
    piecewise-linear interpolation the gain applies and its fit regresses on."""
    v = np.clip(np.asarray(values, dtype=np.float64), nodes[0], nodes[-1])
    j = np.clip(np.searchsorted(nodes, v, side="right") - 1, 0, nodes.size - 2)
    return j, (v - nodes[j]) / (nodes[j + 1] - nodes[j])


def smoothed_ln_fas(x: np.ndarray, dt: float, freq_hz: np.ndarray) -> np.ndarray:
    """ln Fourier amplitude (..., F) of traces (..., T), log-averaged over the FFT bins
    within ``SMOOTH_LN_F`` in ln f of each frequency (at least the nearest bin each side)."""
    spec = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64), axis=-1)) ** 2
    f = np.fft.rfftfreq(x.shape[-1], dt)
    out = []
    for fc in freq_hz:
        k = np.flatnonzero((f > 0) & (np.abs(np.log(np.maximum(f, 1e-12) / fc)) <= SMOOTH_LN_F))
        near = int(np.clip(np.searchsorted(f, fc), 1, f.size - 2))
        k = np.union1d(k, [near - 1 if near > 1 else near, near, near + 1])
        out.append(0.5 * np.log(spec[..., k] + 1e-300).mean(-1))
    return np.stack(out, axis=-1)


def fit_low_frequency_gain(generate: Callable[[LowFrequencyGain | None], np.ndarray],
                           records: np.ndarray, magnitude: np.ndarray, dt: float,
                           n_fft: int, iterations: int = 3, ridge: float = 1e-3,
                           freq_hz: tuple[float, ...] = FREQ_NODES_HZ,
                           mag_nodes: tuple[float, ...] = MAG_NODES
                           ) -> tuple[LowFrequencyGain, list[dict[str, Any]]]:
    """The gain that brings generated horizontals' low-frequency spectrum to the records'.

    ``generate(gain)`` returns waveforms (N, C, T) at the records' conditions
    with that gain in place (None: without one). Each iteration regresses the
    per-record residual ln FAS(record) - ln FAS(generated) at the nodes on
    piecewise-linear functions of magnitude (ridge least squares), adds it to
    ln G and generates again; the last node stays 0 so the gain meets 1.
    Returns the gain and, per iteration, the mean residual by magnitude node.
    """
    nodes = np.asarray(mag_nodes)
    j, w = _bracket(nodes, magnitude)
    hat = np.zeros((j.size, nodes.size))  # piecewise-linear basis in magnitude
    hat[np.arange(j.size), j] = 1.0 - w
    hat[np.arange(j.size), j + 1] += w
    target = smoothed_ln_fas(records[:, :2], dt, np.asarray(freq_hz)).mean(1)  # (N, F)
    ln_gain = np.zeros((nodes.size, len(freq_hz)))
    gain, history = None, []
    for it in range(iterations + 1):
        gen = smoothed_ln_fas(generate(gain)[:, :2], dt, np.asarray(freq_hz)).mean(1)
        resid = target - gen  # (N, F)
        coef = np.linalg.solve(hat.T @ hat + ridge * np.eye(nodes.size), hat.T @ resid)
        history.append({"iteration": it, "mean_residual_by_magnitude": np.round(coef, 3).tolist(),
                        "rms_residual": float(np.sqrt(np.mean(resid.mean(0) ** 2)))})
        if it == iterations:
            break
        ln_gain = ln_gain + coef
        ln_gain[:, -1] = 0.0
        gain = LowFrequencyGain(tuple(freq_hz), tuple(float(m) for m in nodes),
                                tuple(tuple(float(v) for v in row) for row in ln_gain), n_fft)
    return gain, history
