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
least squares on cubic B-splines (de Boor 1978) of the numeric condition
features: tensor products ln Rrup x magnitude, ln Rrup x ln Vs30 and
magnitude x ln Vs30, one spline in Ztor and one in any other numeric
condition, and the mechanism indicators alone and times splines in
magnitude and ln Rrup. The generator adds the fitted shift to every frame of the
decoded envelope. This is a second-stage fit of the sampler to its own
training data, in the spirit of the ex-post density estimation that fits the
static prior (Ghosh et al. 2020; Dai & Wipf 2019); no ground-motion model
enters it, so the NGA-West2 comparison in validation/cgm.py stays an
independent check.

Why splines and not the cubic polynomial of the first version: the sampler's
error wobbles with distance (too strong near 20 km, too weak at 50-100 km,
too strong again beyond 150 km, by 0.2-0.4 ln at M 5-6.5) and the polynomial,
in a ln Rrup feature whose trained range starts at a few centimetres, could
not follow it. On the 5,000 held-out corpus records of the trainer's split,
grouped in 120 magnitude x distance x Vs30 bins, the root mean square of
the bins' mean residuals fell from 0.26 ln (the polynomial, refitted to the
same 45,000 records) to 0.15 ln, below the 0.17 that the bins' own sampling
noise accounts for (docs/generator.md).
"""
from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch

from ..errors import InputError
from .card import numeric_feature
from .device import to_device
from .envelope import batched_band_log_amplitude

RIDGE = 1e-3
SPLINE_DEGREE = 3
#: (condition name, knot intervals) factors of each tensor-product term.
SplineTerms = tuple[tuple[tuple[str, int], ...], ...]
#: The basis's tensor-product terms: (condition name, knot intervals) per factor;
#: a categorical factor (mechanism) enters as its indicators, the first category
#: the reference. Chosen on held-out corpus records (the mean square error of the
#: fit), never on NGA-West2: more intervals than these did not lower it; the
#: mechanism interactions did (the sampler's magnitude scaling is off by
#: mechanism, most at M 8). ln Rrup x Ztor lowered it a little but changed
#: nothing in validation/cgm.py, and a new basis would stop the bundled card's
#: recalibrate command from reproducing it (validation/mean_correction_basis.py).
SPLINE_TERMS: SplineTerms = (
    (("ln_rrup", 8), ("magnitude", 5)),
    (("ln_rrup", 3), ("ln_vs30", 3)),
    (("magnitude", 3), ("ln_vs30", 3)),
    (("ztor", 2),),
    (("mechanism", 0),),
    (("mechanism", 0), ("magnitude", 3)),
    (("mechanism", 0), ("ln_rrup", 3)),
)
#: Knot intervals of a numeric condition that no term names (e.g. coordinates).
OTHER_INTERVALS = 3
#: ln Rrup knots are uniform in ln(1 + Rrup / RRUP_KNOT_KM) rather than in the
#: feature (ln Rrup): the trained range starts near 0 km, and uniform knots in
#: ln Rrup would spend most intervals below 1 km.
RRUP_KNOT_KM = 1.0
BASIS = "bspline"


def _knot_vector(interior: np.ndarray | list[float] | tuple[float, ...],
                degree: int = SPLINE_DEGREE, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """The clamped knot vector of :func:`bspline_basis`: ``lo`` and ``hi`` repeated
    ``degree + 1`` times around the interior knots."""
    return np.r_[[lo] * (degree + 1), np.asarray(interior, dtype=np.float64),
                 [hi] * (degree + 1)]


def bspline_basis(x: np.ndarray, interior: np.ndarray | list[float], degree: int = SPLINE_DEGREE,
                  lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """``(N, len(interior) + degree + 1)`` clamped B-spline basis on [lo, hi] (Cox-de Boor).

    Values outside [lo, hi] take the boundary's value. Row by row, so a
    site's basis does not depend on its batch.
    """
    t = _knot_vector(interior, degree, lo, hi)
    x = np.clip(np.asarray(x, dtype=np.float64), lo, hi)
    b = ((x[:, None] >= t[None, :-1]) & (x[:, None] < t[None, 1:])).astype(np.float64)
    b[x >= hi, np.nonzero(t[:-1] < t[1:])[0][-1]] = 1.0  # the last interval is closed
    # Cox-de Boor, all functions of a degree at once (a loop over functions made
    # ~100 small numpy calls per basis, GIL time in the cgm engine's threads);
    # a term with a zero-width knot span is left out, as 0/0 would be.
    for d in range(1, degree + 1):
        m = len(t) - 1 - d
        left, right = t[d:d + m] - t[:m], t[d + 1:d + 1 + m] - t[1:1 + m]
        nxt = np.zeros((len(x), m))
        nxt += np.where(left > 0, (x[:, None] - t[:m]) / np.where(left > 0, left, 1.0)
                        * b[:, :m], 0.0)
        nxt += np.where(right > 0, (t[d + 1:d + 1 + m] - x[:, None])
                        / np.where(right > 0, right, 1.0) * b[:, 1:m + 1], 0.0)
        b = nxt
    return b


def _interior_knots(spec: Any, intervals: int) -> list[float]:
    """Interior knots of a numeric condition in its feature coordinate ([-1, 1])."""
    u = np.linspace(-1.0, 1.0, intervals + 1)[1:-1]
    if spec.name != "ln_rrup":
        return u.tolist()
    lo, hi = np.log1p(spec.min / RRUP_KNOT_KM), np.log1p(spec.max / RRUP_KNOT_KM)
    r = RRUP_KNOT_KM * np.expm1(lo + (u + 1.0) / 2.0 * (hi - lo))
    return numeric_feature(spec, r).tolist()


def spline_design(card: Any, spline_terms: SplineTerms | None = None) -> dict[str, Any]:
    """The basis of a card's correction: a list of terms, each a list of factors,
    a factor a numeric feature column with its interior knots or a set of
    indicator columns. ``spline_terms``: another basis than SPLINE_TERMS, to
    compare bases on held-out records (validation/mean_correction_basis.py)."""
    # a numeric factor: its column; a categorical one: its indicator columns after the first
    factor = {name: (spec, i if spec.kind == "numeric" else list(range(i + 1, i + spec.n_features)))
              for name, (spec, i) in card.feature_columns().items()}

    def make(name: str, intervals: int) -> dict[str, Any]:
        spec, col = factor[name]
        if spec.kind != "numeric":
            return {"condition": name, "indicator_columns": col}
        return {"condition": name, "column": col,
                "interior_knots": _interior_knots(spec, intervals)}

    terms, named = [], set()
    for term in SPLINE_TERMS if spline_terms is None else spline_terms:
        if all(name in factor for name, _ in term):
            terms.append([make(name, n) for name, n in term])
            named.update(name for name, _ in term)
    terms += [[make(name, OTHER_INTERVALS)] for name, (spec, _) in factor.items()
              if name not in named and spec.kind == "numeric"]
    return {"basis": BASIS, "spline_degree": SPLINE_DEGREE, "terms": terms}


def design_matrix(feats: np.ndarray, design: dict[str, Any]) -> np.ndarray:
    """``(N, P)`` float64 basis of card features ``(N, F)``: the terms' tensor products."""
    x = np.asarray(feats, dtype=np.float64)
    deg = int(design["spline_degree"])
    cols = []
    for term in design["terms"]:
        b = np.ones((len(x), 1))
        for f in term:
            s = (x[:, [int(j) for j in f["indicator_columns"]]] if "indicator_columns" in f
                 else bspline_basis(x[:, int(f["column"])], f["interior_knots"], deg))
            b = (b[:, :, None] * s[:, None, :]).reshape(len(x), -1)
        cols.append(b)
    return np.concatenate(cols, axis=1)


def active_design(feats: np.ndarray, design: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, basis)``: the columns of :func:`design_matrix` non-zero on some row
    of ``feats``, in order, and their values (the same bits).

    Why: a run's sites mostly share magnitude, mechanism and Ztor, so most
    tensor-product columns are zero on every row; building only the products of
    each factor's non-zero columns took 0.07 s instead of 0.12 s for 32,768 sites,
    host time on the GPU path (bench/profile_cgm_device.py). A column's basis is
    built once for all terms that use it (9 calls were 4 for the bundled card).
    """
    x = np.asarray(feats, dtype=np.float64)
    deg = int(design["spline_degree"])
    cols, mats, offset = [], [], 0
    bases: dict[tuple[int, tuple[float, ...]], np.ndarray] = {}  # a column's basis, once

    def spline(f: dict[str, Any]) -> np.ndarray:
        key = (int(f["column"]), tuple(float(k) for k in f["interior_knots"]))
        if key not in bases:
            bases[key] = bspline_basis(x[:, key[0]], f["interior_knots"], deg)
        return bases[key]

    for term in design["terms"]:
        idx, b, width = np.zeros(1, dtype=np.int64), np.ones((len(x), 1)), 1
        for f in term:
            s = (x[:, [int(j) for j in f["indicator_columns"]]] if "indicator_columns" in f
                 else spline(f))
            keep = np.flatnonzero((s != 0.0).any(axis=0))
            idx = (idx[:, None] * s.shape[1] + keep[None, :]).reshape(-1)
            b = (b[:, :, None] * s[:, None, keep]).reshape(len(x), -1)
            width *= s.shape[1]
        cols.append(offset + idx)
        mats.append(b)
        offset += width
    cols_all, basis = np.concatenate(cols), np.concatenate(mats, axis=1)
    # A product of non-zero factor columns can still be zero on every row.
    nonzero = _active_terms(basis)
    return cols_all[nonzero], basis[:, nonzero]


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


def fit_mean_correction(record_energy: np.ndarray, synth_energy: np.ndarray, feats: np.ndarray,
                        design: dict[str, Any], ridge: float = RIDGE) -> dict[str, Any]:
    """Ridge fit of E(records) - E(synthesised samples) on the condition basis.

    ``record_energy`` and ``synth_energy``: :func:`energy_level` ``(N, C, K)``
    of the records and of waveforms synthesised from prior samples at the
    same conditions ``feats`` (card features).
    """
    basis = design_matrix(feats, design)
    y = np.asarray(record_energy, dtype=np.float64) - np.asarray(synth_energy, dtype=np.float64)
    n, c, k = y.shape
    yy = y.reshape(n, c * k)
    scale = np.maximum(basis.std(axis=0), 1e-12)
    b = basis / scale
    coef = np.linalg.solve(b.T @ b + ridge * n * np.eye(b.shape[1]), b.T @ yy) / scale[:, None]
    fitted = basis @ coef
    return {**design, "ridge": ridge, "n_records": n,
            "coef_log10": coef.reshape(-1, c, k).tolist(),
            "mean_shift_log10": float(y.mean()),
            "fitted_shift_range_log10": [float(fitted.min()), float(fitted.max())],
            "residual_rms_log10": float(np.sqrt(np.mean((yy - fitted) ** 2))),
            "note": "gm_engine.generator.calibration: energy-level difference records - "
                    "synthesised prior samples, cubic B-splines in the numeric conditions"}


def mean_shift(correction: dict[str, Any], feats: np.ndarray) -> np.ndarray:
    """``(N, C, K)`` float64 log10 shift for conditions ``feats``.

    A sum over basis terms in a fixed order, row by row, so one site's shift
    does not depend on which sites share its batch (a matrix product might).
    """
    coef = np.asarray(correction["coef_log10"], dtype=np.float64)  # (P, C, K)
    active, basis = _checked_design(correction, feats)
    out = np.zeros((basis.shape[0], *coef.shape[1:]))
    for j, p in enumerate(active):
        out += basis[:, j, None, None] * coef[p]
    return out


def mean_shift_torch(correction: dict[str, Any], feats: np.ndarray,
                     coef: torch.Tensor) -> torch.Tensor:
    """:func:`mean_shift` as a float64 tensor on ``coef``'s device (``coef``: the
    correction's ``coef_log10`` there, converted once by the caller).

    Why: on a GPU the sum on the host took 0.46 s per 16,384 sites, more than
    the network, the synthesis and the IMs together (bench/profile_cgm_device.py,
    docs/PERFORMANCE.md); then the basis on the host took ~20 ms per 4,096-row
    block, 0.17 s of the sampler thread per 32,768 sites on an H100's host. The
    basis is now built on the device (``design_torch``, the same operations) and
    summed over the columns that the rows' ranges allow (``possible_columns``, a
    superset of the non-zero ones: the others add +-0), in order, each step
    correctly rounded in float64, so the bits are :func:`mean_shift`'s.
    """
    _check_basis(correction)
    x = to_device(np.asarray(feats, dtype=np.float64), coef.device)
    basis = design_torch(x, correction)
    out = torch.zeros((basis.shape[0], *coef.shape[1:]), dtype=torch.float64, device=coef.device)
    for p in possible_columns(feats, correction):
        out += basis[:, p, None, None] * coef[p]
    return out


def bspline_basis_torch(x: torch.Tensor, interior: np.ndarray | list[float],
                        degree: int = SPLINE_DEGREE, lo: float = -1.0,
                        hi: float = 1.0) -> torch.Tensor:
    """:func:`bspline_basis` of a float64 tensor on its device: the same elementwise
    operations in the same order, so the same bits."""
    c = _knot_constants(tuple(float(k) for k in interior), degree, lo, hi, x.device)
    x = x.clamp(lo, hi)[:, None]
    b = ((x >= c["start"]) & (x < c["stop"])).to(torch.float64)
    b[:, c["last"]] = torch.where(x[:, 0] >= hi, 1.0, b[:, c["last"]])
    for d in range(1, degree + 1):
        k = c["degrees"][d - 1]
        m = k["m"]
        nxt = torch.zeros((x.shape[0], m), dtype=torch.float64, device=x.device)
        nxt += torch.where(k["left_pos"], (x - k["t_lo"]) / k["left"] * b[:, :m], 0.0)
        nxt += torch.where(k["right_pos"], (k["t_hi"] - x) / k["right"] * b[:, 1:m + 1], 0.0)
        b = nxt
    return b


@functools.lru_cache(maxsize=64)
def _knot_constants(interior: tuple[float, ...], degree: int, lo: float, hi: float,
                    device: torch.device) -> dict[str, Any]:
    """The knot vectors :func:`bspline_basis_torch` needs, on ``device``, made once.

    Why: each host-to-device copy of a small constant made the sampler thread
    wait for the card (an H100 trace of session 12: ~40 such copies per
    4,096-row block). Read only, so shared by calls and threads.
    """
    t = _knot_vector(interior, degree, lo, hi)

    def dev(v: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(v, device=device)

    degrees = []
    for d in range(1, degree + 1):
        m = len(t) - 1 - d
        left, right = t[d:d + m] - t[:m], t[d + 1:d + 1 + m] - t[1:1 + m]
        degrees.append({"m": m, "left_pos": dev(left > 0), "right_pos": dev(right > 0),
                        "left": dev(np.where(left > 0, left, 1.0)),
                        "right": dev(np.where(right > 0, right, 1.0)),
                        "t_lo": dev(t[:m]), "t_hi": dev(t[d + 1:d + 1 + m])})
    return {"start": dev(t[:-1]), "stop": dev(t[1:]),
            "last": int(np.nonzero(t[:-1] < t[1:])[0][-1]), "degrees": degrees}


def design_torch(x: torch.Tensor, design: dict[str, Any]) -> torch.Tensor:
    """:func:`design_matrix` of float64 features ``(N, F)`` on their device (same bits)."""
    deg = int(design["spline_degree"])
    cols = []
    for term in design["terms"]:
        b = torch.ones((x.shape[0], 1), dtype=torch.float64, device=x.device)
        for f in term:
            s = (_columns(x, [int(j) for j in f["indicator_columns"]])
                 if "indicator_columns" in f
                 else bspline_basis_torch(x[:, int(f["column"])], f["interior_knots"], deg))
            b = (b[:, :, None] * s[:, None, :]).reshape(x.shape[0], -1)
        cols.append(b)
    return torch.cat(cols, dim=1)


def _columns(x: torch.Tensor, cols: list[int]) -> torch.Tensor:
    """x[:, cols], as a slice where they are consecutive (a list index is copied to
    the device, which waits for the card)."""
    if cols and cols == list(range(cols[0], cols[0] + len(cols))):
        return x[:, cols[0]:cols[0] + len(cols)]
    return x[:, cols]


def possible_columns(feats: np.ndarray, design: dict[str, Any]) -> np.ndarray:
    """Columns of :func:`design_matrix` that can be non-zero on ``feats``, in order.

    From each feature's range alone (a B-spline is zero outside its knot span;
    an indicator column is zero where no row has it), so the host reads the
    features once instead of building the basis: a superset of the columns
    :func:`active_design` keeps.
    """
    x = np.asarray(feats, dtype=np.float64)
    deg = int(design["spline_degree"])
    cols, offset = [], 0
    for term in design["terms"]:
        idx, width = np.zeros(1, dtype=np.int64), 1
        for f in term:
            if "indicator_columns" in f:
                ind = x[:, [int(j) for j in f["indicator_columns"]]]
                keep, n_f = np.flatnonzero((ind != 0.0).any(axis=0)), ind.shape[1]
            else:
                t = _knot_vector(f["interior_knots"], deg)
                v = np.clip(x[:, int(f["column"])], -1.0, 1.0)
                n_f = len(t) - deg - 1
                j = np.arange(n_f)
                keep = np.flatnonzero((t[j] <= v.max()) & (t[j + deg + 1] >= v.min()))
            idx = (idx[:, None] * n_f + keep[None, :]).reshape(-1)
            width *= n_f
        cols.append(offset + idx)
        offset += width
    return np.concatenate(cols)


def _checked_design(correction: dict[str, Any], feats: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    _check_basis(correction)
    return active_design(feats, correction)


def _check_basis(correction: dict[str, Any]) -> None:
    if correction.get("basis") != BASIS:
        raise InputError("model_card.decoder.mean_correction",
                         "written by an older GroundShake (polynomial basis); refit it with "
                         "'python -m gm_engine recalibrate --card CARD --corpus CORPUS'")


def _active_terms(basis: np.ndarray) -> np.ndarray:
    """Basis columns non-zero on some row, in order.

    The others only add +0 (B-splines are local: a cubic has 4 non-zero
    functions at any point, and a run's sites often share the magnitude), so
    they are skipped: the same sums, a shorter loop.
    """
    return np.flatnonzero((basis != 0.0).any(axis=0))


def synthesised_energy(gen: Any, feats: np.ndarray, seed: int) -> np.ndarray:
    """:func:`energy_level` of one prior sample per row of ``feats``, without the
    generator's own mean correction (what :func:`fit_mean_correction` compares)
    and without its low-frequency gain, which is fitted after the correction
    (gm_engine/generator/lowfreq.py)."""
    saved = gen.mean_correction, gen.low_frequency_gain
    gen.mean_correction = gen.low_frequency_gain = None
    try:  # batch by batch: 20,000 waveforms at once held 1 GB
        return np.concatenate(
            [energy_level(batched_band_log_amplitude(x, gen.envelope))
             for _, x in gen.iter_independent_waveforms(feats, seed, marginalise=False)])
    finally:
        gen.mean_correction, gen.low_frequency_gain = saved


def fit_generator_correction(gen: Any, record_energy: np.ndarray, feats: np.ndarray,
                             seed: int = 0) -> dict[str, Any]:
    """Mean correction for a :class:`~gm_engine.generator.model.CGMGenerator`:
    one prior sample per record, synthesised with the generator's static prior
    and synthesis offset, fitted against the records' energy levels."""
    synth = synthesised_energy(gen, feats, seed)
    return fit_mean_correction(record_energy, synth, feats, spline_design(gen.card))
