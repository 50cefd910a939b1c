"""Conditional band-energy correction of the sampler, fitted to the training records.

Why: the VAE's prior samples need not have the records' conditional mean.
Measured on ``cgm-ca-sim-v1``'s fine-tuned successor (docs/generator.md,
"Mean correction"): synthesised prior samples were 0.3-0.4 ln below the
held-out records they imitate at PSA(0.1-0.3 s) for 15-120 km, and at the
level of the records beyond 120 km, while the records' own envelopes
resynthesised lose only 0.02-0.06. A distance-dependent error of the
sampler, not of the representation.

What: for each component and band, the energy level of a record,
``E = 0.5 log10(mean over frames of 10^(2 L))`` (L = band log10 amplitude),
is compared between the training records and waveforms synthesised from
prior samples at the same conditions; the difference is regressed by ridge
least squares on a polynomial of degree 3 in the numeric condition features
(magnitude, ln Rrup, ln Vs30, each mapped to [-1, 1] over its trained
range), linear in Ztor, plus the mechanism indicators. The generator adds the fitted shift to
every frame of the decoded envelope. This is a second-stage fit of the
sampler to its own training data, in the spirit of the ex-post density
estimation that fits the static prior (Ghosh et al. 2020; Dai & Wipf 2019);
no ground-motion model enters it, so the NGA-West2 comparison in
validation/cgm.py stays an independent check.
"""
from __future__ import annotations

from itertools import combinations_with_replacement
from typing import Any

import numpy as np
import torch

from .envelope import batched_band_log_amplitude

DEGREE = 3
RIDGE = 1e-3


#: numeric conditions that enter the correction linearly only: Ztor matters
#: little for the motion and its validated value (0 km) is its range's edge,
#: where cubic terms swing most.
LINEAR_CONDITIONS = ("ztor",)


def numeric_columns(card: Any) -> tuple[list[int], list[int]]:
    """(polynomial, linear-only) indices of a card's numeric feature columns;
    the remaining columns are mechanism indicators."""
    poly, lin, i = [], [], 0
    for spec in card.conditions:
        if spec.kind == "numeric":
            (lin if spec.name in LINEAR_CONDITIONS else poly).append(i)
        i += spec.n_features
    return poly, lin


def polynomial_basis(feats: np.ndarray, numeric: list[int], degree: int = DEGREE,
                     linear: list[int] | tuple[()] = ()) -> np.ndarray:
    """``(N, P)`` float64: 1, the monomials up to ``degree`` of the ``numeric``
    columns, the ``linear`` columns, and the other (indicator) columns but the first."""
    x = np.asarray(feats, dtype=np.float64)
    num = x[:, numeric]
    cat = np.delete(x, list(numeric) + list(linear), axis=1)
    cols = [np.ones(len(x))]
    for d in range(1, degree + 1):
        for idx in combinations_with_replacement(range(num.shape[1]), d):
            cols.append(np.prod(num[:, list(idx)], axis=1))
    cols.extend(x[:, j] for j in linear)
    cols.extend(cat[:, j] for j in range(1, cat.shape[1]))
    return np.stack(cols, axis=1)


def energy_level(log_amp: torch.Tensor, block: int = 1024) -> np.ndarray:
    """``(N, C, K)`` log10 RMS over frames of band log10 amplitudes ``(N, C, K, M)``.

    In blocks of records: the float64 temporaries of 20,000 records held ~3 GB.
    """
    out = []
    for i in range(0, log_amp.shape[0], block):
        la = log_amp[i:i + block].double()
        peak = la.amax(dim=-1, keepdim=True)  # factored out against overflow
        e = peak[..., 0] + 0.5 * torch.log10(torch.mean(10.0 ** (2.0 * (la - peak)), dim=-1))
        out.append(e.cpu().numpy())
    return np.concatenate(out) if out else np.empty((0, *log_amp.shape[1:-1]))


def fit_mean_correction(record_env: torch.Tensor, synth_env: torch.Tensor, feats: np.ndarray,
                        numeric: list[int], ridge: float = RIDGE,
                        linear: list[int] | tuple[()] = ()) -> dict[str, Any]:
    """Ridge fit of E(records) - E(synthesised samples) on the condition basis.

    ``record_env`` and ``synth_env``: band log10 amplitudes ``(N, C, K, M)`` of
    the records and of waveforms synthesised from prior samples at the same
    conditions ``feats`` (card features).
    """
    basis = polynomial_basis(feats, numeric, DEGREE, linear)
    y = energy_level(record_env) - energy_level(synth_env)  # (N, C, K)
    n, c, k = y.shape
    yy = y.reshape(n, c * k)
    scale = np.maximum(basis.std(axis=0), 1e-12)
    scale[0] = 1.0
    b = basis / scale
    reg = ridge * n * np.eye(b.shape[1])
    reg[0, 0] = 0.0  # the intercept is not shrunk
    coef = np.linalg.solve(b.T @ b + reg, b.T @ yy) / scale[:, None]
    fitted = basis @ coef
    return {"degree": DEGREE, "numeric_columns": list(numeric),
            "linear_columns": list(linear), "ridge": ridge, "n_records": n,
            "coef_log10": coef.reshape(-1, c, k).tolist(),
            "mean_shift_log10": float(y.mean()),
            "fitted_shift_range_log10": [float(fitted.min()), float(fitted.max())],
            "note": "gm_engine.generator.calibration: energy-level difference records - "
                    "synthesised prior samples, cubic in the numeric conditions"}


def mean_shift(correction: dict[str, Any], feats: np.ndarray) -> np.ndarray:
    """``(N, C, K)`` float64 log10 shift for conditions ``feats``.

    Row by row (elementwise product and a sum over terms), so one site's shift
    does not depend on which sites share its batch.
    """
    coef = np.asarray(correction["coef_log10"], dtype=np.float64)  # (P, C, K)
    basis = polynomial_basis(feats, list(correction["numeric_columns"]), int(correction["degree"]),
                             list(correction.get("linear_columns", [])))
    return (basis[:, :, None, None] * coef[None]).sum(axis=1)


def fit_generator_correction(gen: Any, record_env: torch.Tensor, feats: np.ndarray,
                             seed: int = 0) -> dict[str, Any]:
    """Mean correction for a :class:`~gm_engine.generator.model.CGMGenerator`.

    One prior sample per record, synthesised with the generator's static
    prior and synthesis offset (its own correction switched off), then
    :func:`fit_mean_correction` against the records' envelopes.
    """
    saved = gen.mean_correction
    gen.mean_correction = None
    try:
        # batch by batch: 20,000 waveforms at once held 1 GB
        synth = torch.cat([batched_band_log_amplitude(x, gen.envelope)
                           for _, x in gen.iter_independent_waveforms(feats, seed)])
    finally:
        gen.mean_correction = saved
    poly, lin = numeric_columns(gen.card)
    return fit_mean_correction(record_env, synth, feats, poly, linear=lin)
