"""``compute_ims_torch``: PGA, PGV, PGD, SA and PSV in PyTorch, on the model's device.

The generative model produces records on the GPU; copying them to the host
for ``compute_ims`` (numpy/scipy, the reference) costs more than the IMs. This
module computes the IMs the engine ranks and conditions on with the same
definitions, so the two agree to float rounding (PGA, PGV, PGD) or to a small
fraction of a percent (SA, PSV); anything else (MMI, IA, CAV, durations) stays
with ``compute_ims`` (see ``supports``). Every operation is row-wise and
sums in an order that does not depend on the batch, so a record's values are
the same bits whichever records share its batch (checked on the CPU with MKL
and on an H200 with cuFFT, torch 2.11; see _sdof_displacement and
_velocity_displacement for the two places where that took care).

- PGA: peak |a|; PGV, PGD: trapezoid integration in float64 and the polynomial
  baseline adjustment of peaks.py (Boore & Bommer 2005); PGV without PGD skips
  the displacement (peaks.ground_velocity). As in compute_ims, the velocity's
  peaks are taken in the records' precision.
- SA, PSV: the oscillator u'' + 2 zeta w u' + w^2 u = -a is applied in the
  frequency domain with the transfer function of the piecewise-linear
  recursion of Nigam & Jennings (1969) that response.py runs as an IIR filter,
  evaluated on the unit circle: same oscillator, same input interpolation, so
  the FFT only replaces lfilter. Short periods are read on the band-limited
  oversampled grid of response.py (zero-padded spectrum, inverse FFT k times
  longer), one damped period of free vibration follows the record, and the
  sampled peak is refined by a parabola, all as the CPU code does.
- RotDnn (Boore 2010): percentile over 0..179 deg of the rotated peaks, pruned
  exactly to candidate samples (``_rotated_peaks``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from scipy.fft import next_fast_len

from ..errors import InputError
from ..gpu_memory import available_memory
from ._validate import check_damping, check_dt, check_min_samples
from .compute import parse_horizontal
from .names import IMSpec, im_name, parse_im
from .peaks import BASELINE_DEGREES, _baseline_operators, _velocity_to_coefficients
from .response import (
    BAND_LIMIT_WEIGHT,
    G_CMS2,
    MIN_SAMPLES_PER_PERIOD,
    free_vibration_samples,
    oversampling_factor,
    sdof_filter_coefficients,
)
from .rotation import ANGLES_DEG, _needed_top, _percentile_of_top, prune_fraction

#: IM kinds computed here; ``compute_ims`` computes the others.
TORCH_IM_KINDS = frozenset({"PGA", "PGV", "PGD", "SA", "PSV"})
_COMPONENT = {"H1": 0, "H2": 1, "Z": 2}
_RAD = np.deg2rad(ANGLES_DEG)
# FFT wrap-around: the circular convolution adds the oscillator's ringing from
# the record's end onto its start (smallest lag (L - n) dt for FFT length L),
# decayed by exp(-zeta w (L - n) dt): L - n >= ln(1e4) / (zeta w dt) makes it
# 1e-4 of the ringing amplitude. That is 29 periods at 5 % damping, but grows
# without bound as zeta -> 0 (no decay at zeta = 0), so it is capped at
# _MAX_DECAY_SAMPLES: past the cap the call raises, and ``supports`` sends
# damping < _MIN_DAMPING to compute_ims (at 0.5 % the cap allows T/dt <= 7000).
_WRAP_LOG = math.log(1e4)
_MAX_DECAY_SAMPLES = 1 << 21
_MIN_DAMPING = 0.005
# Records per pass are bounded by this many fine-grid samples (~128 MB float32
# per copy) on the CPU; on CUDA, where fewer, larger launches keep the GPU busy
# (8192 records of 4096 samples and 6 IMs went from 0.40 s to 0.18 s on an
# H200 at 4x), by the card's available memory at _CUDA_BYTES_PER_SAMPLE (a
# pass holds several float32 copies and the spectra: twice a generous count)
# between 1x (a small card) and 16x. The rotation's [rows, K, 180] block by
# _ROT_BYTES.
_BLOCK_SAMPLES = 1 << 25
_CUDA_BYTES_PER_SAMPLE = 64
_ROT_BYTES = 1 << 28
# Fewest candidate samples per trace for RotDnn.
_MIN_K = 32


def supports(ims: Sequence[str] | str, horizontal: str, damping: float = 0.05) -> bool:
    """True if ``compute_ims_torch`` computes all of ``ims`` (else use ``compute_ims``)."""
    try:
        parse_horizontal(horizontal)
        names = [ims] if isinstance(ims, str) else list(ims)
        return (
            bool(names)
            and all(parse_im(n).kind in TORCH_IM_KINDS for n in names)
            and (float(damping) >= _MIN_DAMPING)
        )
    except (InputError, TypeError, ValueError):
        return False


def compute_ims_torch(
    acc: torch.Tensor,
    dt: float,
    ims: Sequence[str],
    damping: float = 0.05,
    horizontal: str = "RotD50",
    *,
    min_samples_per_period: int | None = MIN_SAMPLES_PER_PERIOD,
) -> dict[str, torch.Tensor]:
    """IMs of (N, 3, T) accelerograms in g (H1, H2, Z) on their own device.

    Arguments and units as ``compute_ims`` (PGA, SA in g; PGV, PSV in cm/s;
    PGD in cm); returns canonical name -> (N,) float64 tensor on acc's device.
    """
    if not isinstance(acc, torch.Tensor) or acc.ndim != 3 or acc.shape[1] != 3:
        raise InputError("acc", "expected a tensor of shape (n_records, 3, n_samples)")
    if acc.shape[0] == 0 or acc.shape[2] < 2:
        raise InputError("acc", f"no records or fewer than 2 samples (shape {tuple(acc.shape)})")
    if acc.dtype not in (torch.float32, torch.float64):
        acc = acc.to(torch.float64)
    if not bool(torch.isfinite(acc).all()):
        raise InputError("acc", "contains NaN or infinite values")
    dt = check_dt(dt)
    damping = check_damping(damping)
    min_samples = check_min_samples(min_samples_per_period)
    mode, pct = parse_horizontal(horizontal)
    specs: dict[str, IMSpec] = {}
    for name in [ims] if isinstance(ims, str) else ims:
        spec = parse_im(name)
        if spec.kind not in TORCH_IM_KINDS:
            raise InputError(
                "ims",
                f"{name!r} is not computed on torch (only "
                f"{', '.join(sorted(TORCH_IM_KINDS))}); use compute_ims",
            )
        specs[spec.name] = spec
    if not specs:
        raise InputError("ims", "no intensity measure requested")

    comps = (
        acc[:, :2]
        if mode in ("rotd", "geomean")
        else acc[:, _COMPONENT[mode] : _COMPONENT[mode] + 1]
    )
    n_rec, _, n_t = comps.shape
    periods = sorted({float(s.period) for s in specs.values() if s.period is not None})
    plans = [_sdof_plan(t, dt, damping, n_t, min_samples) for t in periods]
    # One FFT length for all periods, the longest any needs (a longer circle only
    # delays the wrap-around): the record's spectrum is then computed once per
    # block instead of once per period.
    n_common = max([plan[2] for plan in plans], default=0)
    plans = [(k, pad, n_common, band) for k, pad, _, band in plans]
    longest = max([plan[0] * plan[2] for plan in plans] + [n_t])
    rows = max(1, _block_samples(acc.device) // (2 * longest))  # two FFT rows per record
    out = {name: torch.empty(n_rec, dtype=torch.float64, device=acc.device) for name in specs}
    kinds = {s.kind for s in specs.values()}
    for start in range(0, n_rec, rows):
        x = comps[start : start + rows]
        res: dict[str, torch.Tensor] = {}
        if "PGA" in kinds:
            res["PGA"] = _combine(x, mode, pct)
        if "PGD" in kinds:
            vel, disp = _velocity_displacement(x, dt)
            res["PGD"] = _combine(disp, mode, pct)
            if "PGV" in kinds:
                res["PGV"] = _combine(vel, mode, pct)
            del vel, disp
        elif "PGV" in kinds:
            res["PGV"] = _combine(_ground_velocity(x, dt), mode, pct)
        spectrum = _record_spectrum(x, n_common) if periods else None
        for period, plan in zip(periods, plans):
            u = _sdof_displacement(x, dt, period, damping, *plan, spectrum=spectrum)
            peak_u = _combine(u, mode, pct, samples_per_period=period * plan[0] / dt)
            w = 2.0 * math.pi / period
            res[im_name("SA", period)] = peak_u * w**2  # PSA = w^2 max|u|, g
            res[im_name("PSV", period)] = peak_u * w * G_CMS2  # PSV = w max|u|, cm/s
        for name in specs:
            out[name][start : start + x.shape[0]] = res[name]
    return out


def _block_samples(device: torch.device) -> int:
    """Fine-grid samples per pass on ``device`` (see _BLOCK_SAMPLES)."""
    avail = available_memory(device)
    if avail is None:
        return _BLOCK_SAMPLES
    return max(_BLOCK_SAMPLES, min(16 * _BLOCK_SAMPLES, avail // _CUDA_BYTES_PER_SAMPLE))


def _sdof_plan(
    period: float, dt: float, damping: float, n_t: int, min_samples: int | None
) -> tuple[int, int, int, bool]:
    """(oversampling k, free-vibration samples on the fine grid, coarse FFT length,
    band-limited input).

    Without oversampling the wrap-around is removed exactly (``_wrap_basis``),
    so the FFT need only hold the window; oversampled responses are padded
    until it has decayed (see _WRAP_LOG). With ``min_samples`` the input is
    corrected to its band-limited signal as response.band_limited_input does.
    """
    band_limited = min_samples is not None
    k = 1 if min_samples is None else oversampling_factor(period, dt, min_samples)
    pad = free_vibration_samples(period, dt / k, damping)  # window [0, n k + pad), as the CPU
    w = 2.0 * math.pi / period
    decay = math.inf if damping == 0.0 else math.ceil(_WRAP_LOG / (damping * w * dt))
    if decay > _MAX_DECAY_SAMPLES:
        raise InputError(
            "damping",
            f"damping {damping} is too light for the FFT oscillator at "
            f"T = {period} s (the response does not decay); use compute_ims",
        )
    if k == 1:
        return k, pad, next_fast_len(n_t + pad, True), band_limited
    return k, pad, next_fast_len(n_t + max(math.ceil(pad / k), decay), True), band_limited


def _wrap_basis(period: float, dt: float, damping: float, n_t: int, n_fft: int,
                window: int, band_limited: bool = False) -> tuple[int, int, np.ndarray]:
    """(i0, i1, phi (2, window)): the wrap-around of a circular response c of length
    n_fft is ``c[i0] * phi[0] + c[i1] * phi[1]`` on the window.

    Why: the circular convolution is the linear response u folded with period
    L = n_fft, c[j] = sum_m u[j + m L]. Past the record (j >= n + 2, b has
    three taps) u obeys the filter's homogeneous recursion, u[n + s] =
    d1 l1^s + d2 l2^s with l = exp(-zeta w dt +- i w_d dt), so the folded part
    sum_{m >= 1} u[j + m L] is a fixed combination of two samples of c (the
    geometric factors 1 / (1 - l^L) cancel). Subtracting it is exact, where
    padding until the ringing decays took FFTs 1.7x (T = 1 s) to 2.9x (3 s)
    longer at dt = 0.01 s. The two samples are a quarter damped period apart,
    which keeps the 2x2 solve well conditioned. The band-limited input's
    correction adds a sample at n (and one at -1, folded to n_fft - 1, outside
    the window), so the free ringing starts a sample later.
    """
    wd = 2.0 * math.pi / period * math.sqrt(1.0 - damping * damping)
    mu = complex(-damping * 2.0 * math.pi / period * dt, wd * dt)
    q = max(1, round(math.pi / 2.0 / (wd * dt)))
    i0 = n_t + 1 if band_limited else n_t
    i1 = i0 + q
    lam = np.array([np.exp(mu), np.exp(mu.conjugate())])
    v_inv = np.linalg.inv(np.stack([np.ones(2), lam**q]))  # (p, r): d = v_inv @ c[[i0, i1]]
    e = np.arange(window) - i0 + n_fft  # exponents of the folded terms, all > 0
    phi = (np.exp(np.outer(e, np.log(lam))) @ v_inv).real  # (window, r)
    return i0, i1, np.ascontiguousarray(phi.T)


def _record_spectrum(x: torch.Tensor, n_fft: int) -> torch.Tensor:
    """rfft of length ``n_fft`` of the traces of ``x`` (N, C, T), as (2 N, n_fft // 2 + 1).

    FFT libraries may transform two real rows as one complex row (cuFFT
    evidently does for some lengths: on an H200 rows at aligned pairs kept
    their bits across batches, others did not; MKL treats a batch of one
    apart), coupling the rounding of neighbouring rows. So a record's traces
    always fill an aligned pair of rows (one trace twice), never another's.
    """
    pairs = x if x.shape[1] == 2 else x[:, :1].expand(-1, 2, -1)
    return torch.fft.rfft(pairs.reshape(-1, x.shape[-1]), n=n_fft)


def _sdof_displacement(
    x: torch.Tensor, dt: float, period: float, damping: float, k: int, pad: int, n_fft: int,
    band_limited: bool = False, spectrum: torch.Tensor | None = None,
) -> torch.Tensor:
    """Relative displacement (g s^2) on the k-times finer grid, window [0, n k + pad).

    The transfer function is that of response.py's recursion at the fine step
    dt / k, H(z) = b(z^-1) / a(z^-1) on the unit circle; the zero-padded
    spectrum is the band-limited oversampled record (response._oversampled).
    ``band_limited`` multiplies it by the response of
    response.band_limited_input's three-point correction, 1 + 2c - 2c cos(w).
    ``spectrum``: ``_record_spectrum(x, n_fft)`` when the caller has it (the
    periods of compute_ims_torch share one).
    """
    b, a = sdof_filter_coefficients(period, dt / k, damping)
    zinv = np.exp(-2j * np.pi * np.arange(n_fft // 2 + 1) / (n_fft * k))
    # The irfft's 1/(n_fft k) is k times the band-limited record's 1/n_fft, so
    # the response is scaled by k; k is a power of two (oversampling_factor),
    # which makes scaling h instead of u exact: the same bits, one pass fewer.
    h = k * np.polyval(b[::-1], zinv) / np.polyval(a[::-1], zinv)
    if band_limited:
        c = BAND_LIMIT_WEIGHT
        h = h * (1.0 + 2.0 * c - 2.0 * c * zinv.real)
    cdtype = torch.complex64 if x.dtype == torch.float32 else torch.complex128
    if spectrum is None:
        spectrum = _record_spectrum(x, n_fft)
    spec = spectrum * torch.as_tensor(h, dtype=cdtype, device=x.device)
    window = x.shape[-1] * k + pad
    u = torch.fft.irfft(spec, n=n_fft * k)
    if k == 1:  # the plan's FFT is too short for the ringing to decay: unfold it
        i0, i1, phi = _wrap_basis(period, dt, damping, x.shape[-1], n_fft, window,
                                  band_limited)
        phi_t = torch.as_tensor(phi, dtype=u.dtype, device=u.device)
        c0, c1 = u[:, i0, None].clone(), u[:, i1, None].clone()
        u = u[:, :window]
        u.addcmul_(c0, phi_t[0], value=-1.0).addcmul_(c1, phi_t[1], value=-1.0)
    else:
        u = u[:, :window]
    return u.reshape(x.shape[0], 2, -1)[:, : x.shape[1]]


def _velocity_displacement(x: torch.Tensor, dt: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Velocity (cm/s, in x's dtype) and displacement (cm, float64), as
    peaks.velocity_displacement.

    Sums run in an order fixed per trace, so a trace's bits do not depend on
    the batch (``_time_major``).
    """
    n = x.shape[-1]
    y, t, traces = _time_major(x)
    vel = _integrate(y, t, dt)
    vel *= G_CMS2
    disp = _integrate(vel, t, dt)
    if n > len(BASELINE_DEGREES) + 2:
        pinv, basis, dbasis = _baseline_operators(n, dt)  # (K, n), (n, K), (n, K)
        _remove_baseline(disp, pinv, [(disp, basis), (vel, dbasis)], t)
    return (_traces_back(vel, t, traces, x.shape, x.dtype),
            _traces_back(disp, t, traces, x.shape, torch.float64))


def _ground_velocity(x: torch.Tensor, dt: float) -> torch.Tensor:
    """Baseline-adjusted velocity (cm/s) in x's dtype, as peaks.ground_velocity.

    Why: PGV without PGD needs no displacement; the baseline polynomial's
    coefficients are linear in the velocity (peaks._velocity_to_coefficients),
    which saves an integration and five passes over the displacement. Sums in
    a per-trace order, as ``_velocity_displacement``.
    """
    n = x.shape[-1]
    y, t, traces = _time_major(x)
    vel = _integrate(y, t, dt)
    if n > len(BASELINE_DEGREES) + 2:
        weights = _velocity_to_coefficients(n, dt).T  # (K, n)
        _remove_baseline(vel, weights, [(vel, _baseline_operators(n, dt)[2])], t)
    vel *= G_CMS2
    return _traces_back(vel, t, traces, x.shape, x.dtype)


def _time_major(x: torch.Tensor) -> tuple[torch.Tensor, int, int]:
    """(float64 traces, their time dimension t, the number of traces) for per-trace sums.

    On the CPU the traces stay (traces, n) and scans run along the last
    dimension; on CUDA a scan or sum along the last dimension changes its order
    with the batch size, so there the traces become an (n, traces) copy scanned
    along dim 0, and the baseline's coefficients are pairwise sums
    (``_pairwise_sum0``).
    """
    n = x.shape[-1]
    t = _time_dim(x)
    if t:
        y = x.to(torch.float64).reshape(-1, n)  # (traces, n)
        return y, t, y.shape[0]
    traces = x.numel() // n
    # (an (n, 1) tensor would be scanned as a last dimension: pad to 2)
    y = torch.zeros((n, 2), dtype=torch.float64, device=x.device) if traces == 1 else \
        torch.empty((n, traces), dtype=torch.float64, device=x.device)
    y[:, :traces].view(n, *x.shape[:-1]).copy_(x.permute(-1, *range(x.dim() - 1)))
    return y, t, traces


def _time_dim(x: torch.Tensor) -> int:
    """1 (traces, n) on the CPU, 0 (n, traces) on CUDA (``_time_major``)."""
    return int(not x.is_cuda)


def _integrate(z: torch.Tensor, t: int, dt: float) -> torch.Tensor:
    """Running trapezoid integral along dimension t, starting at 0 (same length)."""
    n = z.shape[t]
    out = torch.empty_like(z)
    out.narrow(t, 0, 1).zero_()
    steps = z.narrow(t, 1, n - 1) + z.narrow(t, 0, n - 1)
    steps *= 0.5 * dt
    if t:  # (a cumsum into a strided view would go through a copy anyway)
        out.narrow(t, 1, n - 1).copy_(steps.cumsum(t))
    else:
        torch.cumsum(steps, t, out=out.narrow(t, 1, n - 1))
    return out


def _remove_baseline(z: torch.Tensor, weights: np.ndarray,
                     targets: list[tuple[torch.Tensor, np.ndarray]], t: int) -> None:
    """Subtract a baseline polynomial from each target series, in place.

    Its coefficients are, per trace, the sums over time of z times each row of
    ``weights`` (K, n), in an order fixed per trace (a cumsum along the CPU's
    time dimension, ``_pairwise_sum0`` on CUDA); a target (series, basis (n, K))
    loses basis @ coefficients, one fused multiply-subtract per term (no
    temporary the size of the series).
    """
    n, dev = z.shape[t], z.device
    shape = (1, n) if t else (n, 1)
    coefs = [(z * w).cumsum(t).narrow(t, n - 1, 1) if t else _pairwise_sum0(z * w)
             for w in torch.as_tensor(weights, device=dev).reshape(-1, *shape)]
    for series, basis in targets:
        for c, f in zip(coefs, torch.as_tensor(basis.T, device=dev).reshape(-1, *shape)):
            series.addcmul_(c, f, value=-1.0)


def _traces_back(z: torch.Tensor, t: int, traces: int, shape: torch.Size,
                 dtype: torch.dtype) -> torch.Tensor:
    """``_time_major``'s layout undone: the series in ``shape`` and ``dtype``, one copy."""
    if t:
        return z.reshape(shape).to(dtype)
    out = torch.empty(shape, dtype=dtype, device=z.device)
    out.permute(-1, *range(len(shape) - 1)).copy_(z[:, :traces].view(shape[-1], *shape[:-1]))
    return out


def _pairwise_sum0(z: torch.Tensor) -> torch.Tensor:
    """Sum over dim 0 as ``(1, ...)``, by halving with elementwise adds.

    Why: on CUDA a scan along dim 0 ran at ~0.4 TB/s on an H200 and the five
    baseline coefficients took a fifth of the IMs' GPU time; adding the two
    halves of the rows (rows 2i and 2i+1) until one is left is elementwise,
    so a trace's sum has the same bits in any batch, at the card's bandwidth.
    (A matrix product would read the series once for all five, but its bits
    follow a column's place in the product: with MKL a column alone and in a
    16-column block differed.)
    """
    while z.shape[0] > 1:
        if z.shape[0] % 2:
            z = torch.cat([z, torch.zeros_like(z[:1])])
        z = z[0::2] + z[1::2]
    return z


def _combine(
    x: torch.Tensor, mode: str, pct: float | None, samples_per_period: float | None = None
) -> torch.Tensor:
    """(B,) horizontal value from series x (B, C, T): RotDnn, geometric mean or one component.

    Oscillator responses (``samples_per_period`` given) get the parabolic peak
    refinement of response.peak_abs; ground motions keep the largest sample.
    """
    if mode == "rotd":
        assert pct is not None
        return _percentile(_rotated_peaks(x[:, 0], x[:, 1], pct, samples_per_period), pct)
    mag = x.abs()
    peak, idx = mag.max(dim=-1)
    peak = peak.to(torch.float64)
    if samples_per_period is not None:
        side = [
            mag.gather(-1, (idx + s).clamp(0, x.shape[-1] - 1)[..., None])[..., 0] for s in (-1, 1)
        ]
        interior = (idx > 0) & (idx < x.shape[-1] - 1)
        peak = _parabola_peak(side[0].double(), peak, side[1].double(), interior)
    return torch.sqrt(peak[:, 0] * peak[:, 1]) if mode == "geomean" else peak[:, 0]


def _parabola_peak(
    left: torch.Tensor, mid: torch.Tensor, right: torch.Tensor, interior: torch.Tensor
) -> torch.Tensor:
    """Vertex of the parabola through three samples around a peak (response.parabola_peak)."""
    curv = 2.0 * mid - left - right
    ok = interior & (curv > 0.0) & (mid >= left) & (mid >= right)
    bump = torch.where(ok, (right - left) ** 2 / (8.0 * torch.where(ok, curv, 1.0)), 0.0)
    return mid + torch.minimum(bump, 0.5 * mid)


def _percentile(peaks: torch.Tensor, pct: float) -> torch.Tensor:
    """numpy's linear-interpolation percentile over the last axis (same lerp branches)."""
    s = peaks.sort(dim=-1).values
    pos = pct / 100.0 * (s.shape[-1] - 1)
    lo = math.floor(pos)
    hi, t = min(lo + 1, s.shape[-1] - 1), pos - lo
    lower, upper = s[..., lo], s[..., hi]
    diff = upper - lower
    return upper - diff * (1.0 - t) if t >= 0.5 else lower + diff * t


def _rotated_peaks(
    a: torch.Tensor, b: torch.Tensor, pct: float, samples_per_period: float | None
) -> torch.Tensor:
    """Peak |a cos + b sin| at 0..179 deg (B, 180) float64, exact where the percentile reads.

    The percentile reads the m largest angle peaks (rotation._needed_top);
    rotation.py bounds the m-th largest from below by L (magnitude and
    probe bounds), so samples with |x|^2 < L^2 cannot set any peak it
    reads. Each row projects only its samples with |x|^2 >= L^2, in K slots
    (that count rounded up to a power of two, so rows share a few K; the
    spare slots repeat a kept sample), [rows, K, 180] at a time. Other
    angles may come out low, which the percentile never sees.

    With refinement (oscillator responses, N = ``samples_per_period``) the
    refined peaks decide the order, and an angle's refined peak can exceed
    its sampled one by up to ~1/cos(pi/N); the bound is lowered by
    cos^2(2 pi/N) (twice that angle, a margin) so that an angle whose refined
    peak reaches L keeps its sampled peak among the candidates. (The CPU
    rotation.py prunes at L itself and can then miss the angle whose refined
    peak is largest: 0.18 % low for RotD100, 0.05 % for RotD50, measured on
    synthetic records against the unpruned refined definition.)
    """
    n_rows, n_t = a.shape
    cos = torch.as_tensor(np.cos(_RAD), dtype=a.dtype, device=a.device)
    sin = torch.as_tensor(np.sin(_RAD), dtype=a.dtype, device=a.device)
    mag2 = a * a + b * b
    m = _needed_top(pct)
    if m >= ANGLES_DEG.size:  # the percentile reads every angle: no pruning
        thresh = torch.full((n_rows,), -1.0, dtype=a.dtype, device=a.device)
    else:  # slightly below the bound, as the CPU code: rounding only adds candidates
        slack = 1.0 - 1e-5
        if samples_per_period is not None:
            slack *= math.cos(min(2.0 * math.pi / samples_per_period, math.pi / 2)) ** 2
        thresh = (_probe_threshold(a, b, mag2, m, cos, sin) * slack).to(a.dtype)
    keep = mag2 >= thresh[:, None]
    count = keep.sum(dim=1)
    # Each row's own slot count, rounded up to a power of two (few distinct K).
    k_row = (2 ** torch.ceil(torch.log2(count.clamp(min=_MIN_K).double()))).clamp(
        max=n_t).to(torch.int64)
    peaks = torch.empty((n_rows, ANGLES_DEG.size), dtype=a.dtype, device=a.device)
    at = torch.empty((n_rows, ANGLES_DEG.size), dtype=torch.int64, device=a.device)
    for k in k_row.unique().tolist():
        group = (k_row == k).nonzero()[:, 0]
        step = max(1, _ROT_BYTES // (k * ANGLES_DEG.size * a.element_size()))
        for s in range(0, group.numel(), step):
            rows = group[s : s + step]
            cand = _candidates(keep[rows], count[rows], k)
            proj = a[rows].gather(1, cand)[..., None] * cos  # (rows, K, 180)
            proj += b[rows].gather(1, cand)[..., None] * sin  # separate ops: no FMA, same bits anywhere
            peak, arg = proj.abs_().max(dim=1)
            peaks[rows] = peak
            at[rows] = cand.gather(1, arg)
    # Refined once for all rows (row-wise, so the same bits as group by group,
    # with a tenth of the GPU launches: the groups are few but each refinement
    # is ~60 small operations).
    return peaks.to(torch.float64) if samples_per_period is None else _refined(a, b, at)


def _candidates(keep: torch.Tensor, count: torch.Tensor, k: int) -> torch.Tensor:
    """(rows, k) sample indices: each row's kept samples in time order, then copies
    of its first (count >= 1: the bound is below the largest |x|^2).

    Why: ``topk`` of the k largest |x|^2 ran a radix selection over every
    sample; the kept samples are already known, and compacting a boolean mask
    is one cheap pass. A repeated sample changes no maximum, nor which sample
    is the first to reach it.
    """
    rows, cols = keep.nonzero(as_tuple=True)  # row-major: each row's samples in time order
    first = torch.cumsum(count, 0) - count
    slot = torch.arange(rows.numel(), device=keep.device) - first[rows]
    cand = torch.empty((keep.shape[0], k), dtype=torch.int64, device=keep.device)
    cand[rows, slot] = cols
    spare = torch.arange(k, device=keep.device) >= count[:, None]
    return torch.where(spare, cand[:, :1], cand)


def _refined(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Parabolic refinement (float64) of each angle's peak at sample t (rows, 180).

    t is the arg-max of the float32 projections; where a neighbour is larger
    in float64 (a near tie), step to it first, else the parabola, which needs
    a local maximum in the middle, would be skipped.
    """
    cos = torch.as_tensor(np.cos(_RAD), device=a.device)
    sin = torch.as_tensor(np.sin(_RAD), device=a.device)
    n_t = a.shape[1]

    def value(s: torch.Tensor) -> torch.Tensor:
        s = s.clamp(0, n_t - 1)
        return (a.gather(1, s).double() * cos + b.gather(1, s).double() * sin).abs()

    left, mid, right = value(t - 1), value(t), value(t + 1)
    t = t + (right > mid).long() - ((left > mid) & (right <= mid)).long()
    return _parabola_peak(value(t - 1), value(t), value(t + 1), (t > 0) & (t < n_t - 1))


def _probe_threshold(
    a: torch.Tensor,
    b: torch.Tensor,
    mag2: torch.Tensor,
    m: int,
    cos: torch.Tensor,
    sin: torch.Tensor,
) -> torch.Tensor:
    """Lower bound L^2 (float64) of the m-th largest angle peak (rotation._probe_threshold)."""
    # The CPU's probes are the peaks of |x|, |a|, |b|, |a + b| and |a - b|; a
    # peak of |y| is y's maximum or its minimum, and taking both (a superset:
    # the bound can only rise) reads each series without writing |y|.
    sum_, diff = a + b, a - b
    probes = torch.stack(
        [mag2.argmax(1)] + [f(1) for y in (a, b, sum_, diff) for f in (y.argmax, y.argmin)],
        dim=1,
    )
    del sum_, diff
    pa, pb = a.gather(1, probes), b.gather(1, probes)
    lower = (pa[..., None] * cos + pb[..., None] * sin).abs().amax(dim=1)  # (B, 180)
    bound = lower.topk(m, dim=1).values[:, -1].to(torch.float64)
    magnitude = mag2.amax(dim=1).to(torch.float64) * prune_fraction(_percentile_of_top(m))
    return torch.maximum(bound**2, magnitude)
