"""Three-component stochastic acceleration time series for scenario sites.

Method (Boore 2003 stochastic method, per site):

1. target horizontal FAS = BA18 spectrum (:mod:`.physics`; Bayless & Abrahamson
   2019) x the calibration correction (:mod:`.calibration`; per mechanism row
   SS, RV, NM) x exp(tau eta(f) + phi' eps(f)),
   where eta (between-event, one per earthquake) and eps (within-event, one
   per site, spatially correlated when the caller passes a field) are
   standard normals at the control periods, interpolated in ln f;
   phi' = sqrt(phi^2 - sigma_int^2) so that the TOTAL scatter (random phase +
   FAS terms) equals the NGA-West2 sigma;
2. white noise, shaped by a Saragoni-Hart window whose length gives the
   Afshari & Stewart (2016) D5-95, Fourier transformed and normalised to
   unit mean-square amplitude, multiplied by the target FAS, transformed back.
   The noise is a Poisson train of Gaussian pulses (Housner 1947, BSSA 37(1);
   Lin 1965, J. Acoust. Soc. Am. 38, 453-460): each sample carries a pulse with
   probability min(1, dt nu), nu the calibrated pulse rate (the table's
   ``pulse_q`` = nu^-1/2), the same pulse times on the three components.
   nu -> infinity (``pulse_q`` = 0) is Boore's (2003) Gaussian white noise;
   a finite rate makes the motion more impulsive, which raises PGA relative
   to PSA as in recorded motions on stiff sites (the expected spectrum is
   unchanged: the normalisation is the same);
3. two horizontals from two independent noise draws with the same target (this
   is what gives realistic H1/H2 differences and a RotD50/GMRotD50 ratio close
   to recorded ones), and a vertical with the target times the Gulerce &
   Abrahamson (2011) V/H PSA ratio at f = 1/T.

Each site draws its noise from its own generator, so a site's waveforms depend
only on the seed and the site key, never on how the sites are chunked.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import fft as sfft

from ..correlation import baker_jayaram_2008, correlated_normal_field
from ..errors import Cancelled, InputError
from ..gmpe import mechanism_codes, validate_conditions
from ..ims import compute_ims, parse_im
from . import physics
from .calibration import CONTROL_PERIODS, Table, load_table

#: Changes whenever the same inputs give other waveforms; corpora record it.
#: 2: a record shorter than its noise window is cut from the whole motion (was squeezed).
#: 3: random terms come with the table's terms_shift (their mean ln PSA is the median's).
SYNTHESIS_REVISION = 3
#: Stream tag of the per-site noise keys (see site_noise_key).
SITE_NOISE_STREAM = 1
LEAD_S = 2.0         # quiet time before the S window starts (alignment, not travel time)
DT_RANGE = (0.001, 0.02)      # s; 0.02 s still resolves PSA(0.05 s) (Nyquist 25 Hz)
DURATION_RANGE = (10.0, 600.0)  # s


def simulate(conditions: pd.DataFrame, rng: np.random.Generator, dt: float = 0.01,
             duration: float = 60.0, between_event: np.ndarray | None = None,
             within_event: np.ndarray | None = None, device: str = "cpu") -> np.ndarray:
    """Simulate one (N, 3, T) float32 array of accelerations in g.

    Parameters
    ----------
    conditions : site-conditions table (magnitude, rrup_km, vs30, mechanism or rake).
    rng : explicit generator; the per-site noise seeds and any random term left
        as None are drawn from it.
    dt, duration : time step and record length in s (T = round(duration / dt)).
        The noise window lasts about 3.4 x D5-95 (Afshari & Stewart 2016) after a
        2 s lead, but 95 % of the energy has arrived by 1.2 x D5-95 + 2 s;
        a shorter record is truncated (60 s suffices up to M 7 within 200 km;
        use 90-140 s for M 7.5-8).
    between_event : standard normals at ``CONTROL_PERIODS``, shape (P,) (one
        earthquake) or (N, P); None draws one (P,) vector correlated across
        periods (Baker & Jayaram 2008).
    within_event : (N, P) standard normals at ``CONTROL_PERIODS`` (e.g. from
        :func:`gm_engine.correlation.correlated_normal_field`); None draws
        sites independently (correlated across periods only).
    device : "cpu" (numpy), "auto" (a GPU through torch when present) or a
        torch device such as "cuda" for the FFT work.
    """
    site = _site_arrays(conditions)
    n = site["magnitude"].size
    eta, eps = _random_terms(n, rng, between_event, within_event)
    keys = [int(k) for k in rng.integers(0, 2 ** 63 - 1, size=n)]
    return synthesize(site, keys, dt=dt, duration=duration, eta=eta, eps=eps, device=device)


def simulate_realizations(conditions: pd.DataFrame, xy_km: np.ndarray, n_realizations: int,
                          seed: int, ims: Sequence[str], *, dt: float = 0.01,
                          duration: float = 60.0, damping: float = 0.05, device: str = "cpu",
                          vs30_clustered: bool = False,
                          progress: Callable[[float, str], None] | None = None,
                          is_cancelled: Callable[[], bool] | None = None,
                          chunk_size: int = 128,
                          on_terms: Callable[[int, np.ndarray, np.ndarray], None] | None = None,
                          ) -> dict[str, np.ndarray]:
    """Per-site RotD50 IMs of many realizations, with bounded memory.

    Realization r draws one between-event vector and one spatially correlated
    within-event field (Jayaram & Baker 2009) from seed (seed, r); site i
    draws its noise from (seed, r, i). Waveforms exist only chunk_size sites
    at a time, and results do not depend on chunk_size.

    ``on_terms(r, eta (P,), eps (N, P))`` receives each realization's random
    terms, so a caller can store them and later regenerate any site's
    waveforms with :func:`synthesize_site` instead of storing waveforms.

    Returns
    -------
    dict IM name -> (R, N) float32 array (g; PGV in cm/s).
    """
    site = _site_arrays(conditions)
    n = site["magnitude"].size
    xy = np.asarray(xy_km, dtype=float)
    if xy.shape != (n, 2):
        raise InputError("xy_km", f"expected shape ({n}, 2), got {xy.shape}")
    if int(n_realizations) < 1:
        raise InputError("realizations", f"must be at least 1, got {n_realizations}")
    if int(chunk_size) < 1:
        raise InputError("chunk_size", f"must be at least 1, got {chunk_size}")
    names = list(ims)
    _check_ims(names)
    out = {name: np.empty((int(n_realizations), n), dtype=np.float32) for name in names}
    n_chunks = -(-n // int(chunk_size))
    total = int(n_realizations) * n_chunks
    done = 0
    factors: dict = {}  # exact fields: each covariance factored once for all realizations
    for r in range(int(n_realizations)):
        rng_r = np.random.default_rng([int(seed), r])
        eta, _ = _random_terms(1, rng_r, None, np.zeros((1, CONTROL_PERIODS.size)))
        eps = correlated_normal_field(xy, CONTROL_PERIODS, rng_r, vs30_clustered=vs30_clustered,
                                      factor_cache=factors)
        if on_terms is not None:
            on_terms(r, eta[0].copy(), eps)
        for c0 in range(0, n, int(chunk_size)):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled("stochastic simulation cancelled")
            sl = slice(c0, min(n, c0 + int(chunk_size)))
            sub = {k: v[sl] for k, v in site.items()}
            keys = [site_noise_key(seed, r, i) for i in range(sl.start, sl.stop)]
            acc = synthesize(sub, keys, dt=dt, duration=duration, eta=eta[0], eps=eps[sl],
                             device=device)
            vals = intensity_measures(acc, dt, names, damping)
            for name in names:
                out[name][r, sl] = vals[name]
            done += 1
            if progress is not None:
                progress(done / total, f"stochastic realization {r + 1}/{n_realizations}")
    return out


def site_noise_key(seed: int, realization: int, site_index: int) -> tuple[int, int, int, int]:
    """Seed of one site's noise in one realization of a scenario run.

    The trailing stream tag keeps it apart from the realization's own key
    ``[seed, r]``: numpy's SeedSequence pads entropy with zeros, so
    ``(seed, r, 0)`` would be the same seed as ``[seed, r]``.
    """
    return (int(seed), int(realization), int(site_index), SITE_NOISE_STREAM)


def synthesize_site(conditions: pd.DataFrame, seed: int, realization: int, site_index: int,
                    eta: np.ndarray, eps: np.ndarray, *, dt: float = 0.01,
                    duration: float = 60.0, device: str = "cpu") -> np.ndarray:
    """One site's (3, T) waveforms of one realization of :func:`simulate_realizations`.

    ``conditions`` is that site's one-row table, ``eta`` (P,) and ``eps`` (P,)
    the realization's between-event vector and the site's within-event row
    (as given to ``on_terms``). With the same seed, realization, site index,
    dt and duration the result equals the waveform the run used.
    """
    if len(conditions) != 1:
        raise InputError("conditions", f"expected one site, got {len(conditions)}")
    site = _site_arrays(conditions)
    p = CONTROL_PERIODS.size
    eta = np.asarray(eta, dtype=float)
    eps = np.asarray(eps, dtype=float).reshape(1, -1)
    if eta.shape != (p,) or eps.shape != (1, p):
        raise InputError("eta", f"expected eta and eps of shape ({p},)")
    return synthesize(site, [site_noise_key(seed, realization, site_index)], dt=dt,
                      duration=duration, eta=eta, eps=eps, device=device)[0]


def intensity_measures(acc: np.ndarray, dt: float, ims: Sequence[str],
                       damping: float = 0.05) -> dict[str, np.ndarray]:
    """RotD50 IMs of (N, 3, T) records, keyed by the requested names.

    :func:`gm_engine.ims.compute_ims`: one definition of IMs for every engine
    and for the validation scripts.
    """
    res = compute_ims(acc, dt, ims=list(ims), damping=damping, horizontal="RotD50")
    return {n: np.asarray(res[parse_im(n).name], dtype=np.float32) for n in ims}


def _check_ims(names: Sequence[str]) -> None:
    if not names:
        raise InputError("ims", "no intensity measure requested")
    for name in names:
        parse_im(name)


def synthesize(site: dict[str, np.ndarray], keys: Sequence[int | Sequence[int]], *,
               dt: float, duration: float, eta: np.ndarray | None = None,
               eps: np.ndarray | None = None, device: str = "cpu",
               table: Table | None = None) -> np.ndarray:
    """Low-level synthesis from site arrays and per-site generator keys (see module docstring).

    ``table`` lets the calibration script run with a table under construction.
    """
    _check_time(dt, duration)
    tab = table if table is not None else load_table()
    m, r, v = site["magnitude"], site["rrup_km"], site["vs30"]
    mech = site["mechanism"]
    n = m.size
    cal = tab.interpolate(m, r, v, mech)
    n_out = round(duration / dt)
    pad = int(np.ceil(20.0 / dt))  # room for the acausal spread of the zero-phase filter
    lead = round(LEAD_S / dt)
    d595 = physics.afshari_stewart_2016_d595(m, r, v, mech) * np.exp(cal["ln_dur"])
    t_eta = d595 / physics.WINDOW_D595_FRACTION
    n_w = np.ceil(1.6 * t_eta / dt).astype(np.int64)
    # A window longer than the record is simulated whole and the record cut
    # from it (truncation). Squeezing the window into the record, as before,
    # kept the FAS energy in a shorter time: +0.07 to +0.24 ln in PSA for M 8
    # in a 40.96 s record. Each record's FFT length depends on its own window
    # only, so a site's waveform does not depend on its batch.
    n_base = sfft.next_fast_len(n_out + pad, real=True)
    n_ints = np.array([n_base if lead + w + pad // 2 <= n_base else
                       sfft.next_fast_len(int(lead + w + pad // 2), real=True) for w in n_w])
    e_b = e_w = None
    if eta is not None or eps is not None:
        e_b = np.zeros((n, tab.periods.size)) if eta is None else np.broadcast_to(eta, (n, tab.periods.size))
        e_w = np.zeros((n, tab.periods.size)) if eps is None else np.asarray(eps, dtype=float)
    p_pulse = _pulse_probability(cal["pulse_q"], dt)
    out = np.empty((n, 3, n_out), dtype=np.float32)
    for n_int in np.unique(n_ints):
        idx = np.nonzero(n_ints == n_int)[0]
        freq = sfft.rfftfreq(int(n_int), dt)
        wts = _ctrl_to_freq(freq, tab.periods)  # (P, F)
        ln_h = physics.ln_fas(freq, m[idx], r[idx], v[idx], mech[idx]) + cal["ln_c"][idx] @ wts
        if e_b is not None:
            phi_fas = np.sqrt(np.maximum(cal["phi"][idx] ** 2 - cal["sigma_int"][idx] ** 2, 0.0))
            ln_h = ln_h + (tab.sigma_gain * (cal["tau"][idx] * e_b[idx] + phi_fas * e_w[idx])
                           - tab.terms_shift) @ wts
        ln_v = ln_h + cal["ln_vh"][idx] @ wts
        noise = np.zeros((idx.size, 3, int(n_int)))
        for j, i in enumerate(idx):
            g = np.random.default_rng(keys[i])
            w = physics.saragoni_hart((np.arange(n_w[i]) * dt) / t_eta[i])
            z = g.standard_normal((3, n_w[i]))
            if p_pulse[i] < 1.0:
                hit = g.random(n_w[i]) < p_pulse[i]
                if not hit.any():  # a very short window may draw no pulse: keep its peak sample
                    hit[int(np.argmax(w))] = True
                w = w * hit
            noise[j, :, lead:lead + n_w[i]] = z * w
        amp = np.exp(np.stack([ln_h, ln_h, ln_v], axis=1))  # (n, 3, F)
        out[idx] = _shape_noise(noise, amp, int(n_int), device)[..., :n_out] / dt
    return out


def _pulse_probability(pulse_q: np.ndarray, dt: float) -> np.ndarray:
    """Probability that a sample carries a pulse: dt nu = dt / pulse_q^2 (1: Gaussian noise)."""
    q = np.maximum(pulse_q, 0.0)
    return np.where(q > 0.0, np.minimum(1.0, dt / np.maximum(q, 1e-12) ** 2), 1.0)


def pulse_probability(conditions: pd.DataFrame, dt: float) -> np.ndarray:
    """(N,) per-sample pulse probability of this simulator's noise at ``conditions``.

    For generators trained on this simulator's records: shaping noise with the
    same pulse rate keeps the records' peak factor (docs/generator.md).
    """
    site = _site_arrays(conditions)
    cal = load_table().interpolate(site["magnitude"], site["rrup_km"], site["vs30"],
                                   site["mechanism"], fields=("pulse_q",))
    return _pulse_probability(cal["pulse_q"], float(dt))


def _shape_noise(noise: np.ndarray, amp: np.ndarray, n_int: int, device: str) -> np.ndarray:
    """FFT, unit mean-square normalisation (Boore 2003), times target FAS, inverse FFT."""
    if device == "auto":
        device = _auto_device()
    if device == "cpu":
        spec = sfft.rfft(noise, n_int, axis=-1)
        spec /= np.sqrt(np.mean(np.abs(spec) ** 2, axis=-1, keepdims=True))
        return sfft.irfft(spec * amp, n_int, axis=-1)
    return _shape_noise_torch(noise, amp, n_int, device)


def _auto_device() -> str:
    """"cuda" when torch sees a GPU, else "cpu" (numpy)."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _shape_noise_torch(noise: np.ndarray, amp: np.ndarray, n_int: int, device: str) -> np.ndarray:
    """The same as the numpy path, with torch FFTs on ``device`` (GPU when present)."""
    try:
        import torch
    except ImportError as exc:
        raise InputError("device", f"{device!r} needs torch, which is not installed") from exc
    try:
        dev = torch.device(device)
        x = torch.as_tensor(noise, device=dev)
        spec = torch.fft.rfft(x, n_int, dim=-1)
        spec = spec / torch.sqrt(torch.mean(spec.abs() ** 2, dim=-1, keepdim=True))
        out = torch.fft.irfft(spec * torch.as_tensor(amp, device=dev), n_int, dim=-1)
        return out.cpu().numpy()
    except RuntimeError as exc:
        raise InputError("device", f"cannot run on {device!r}: {exc}") from exc


def _ctrl_to_freq(freq: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """(P, F) weights: linear interpolation in ln f of control-period values, flat outside."""
    lf = np.log(1.0 / periods[::-1])
    x = np.log(np.maximum(freq, 1e-6))
    eye = np.eye(periods.size)[::-1]
    return np.stack([np.interp(x, lf, eye[:, p]) for p in range(periods.size)])


def _random_terms(n: int, rng: np.random.Generator, between: np.ndarray | None,
                  within: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Check or draw eta (N, P) and eps (N, P); draws are correlated across periods (BJ08)."""
    p = CONTROL_PERIODS.size
    chol = np.linalg.cholesky(baker_jayaram_2008(CONTROL_PERIODS) + 1e-10 * np.eye(p))
    if between is None:
        eta = np.broadcast_to(chol @ rng.standard_normal(p), (n, p))
    else:
        eta = np.asarray(between, dtype=float)
        if eta.shape not in ((p,), (n, p)) or not np.all(np.isfinite(eta)):
            raise InputError("between_event", f"expected finite shape ({p},) or ({n}, {p}), "
                                              f"got {eta.shape}")
        eta = np.broadcast_to(eta, (n, p))
    if within is None:
        eps = rng.standard_normal((n, p)) @ chol.T
    else:
        eps = np.asarray(within, dtype=float)
        if eps.shape != (n, p) or not np.all(np.isfinite(eps)):
            raise InputError("within_event", f"expected finite shape ({n}, {p}), got {eps.shape}")
    return np.array(eta), eps


def _site_arrays(conditions: pd.DataFrame) -> dict[str, np.ndarray]:
    validate_conditions(conditions, {k: physics.PARAMETER_RANGES[k]
                                     for k in ("magnitude", "rrup_km", "vs30")})
    return {"magnitude": conditions["magnitude"].to_numpy(dtype=float),
            "rrup_km": conditions["rrup_km"].to_numpy(dtype=float),
            "vs30": conditions["vs30"].to_numpy(dtype=float),
            "mechanism": mechanism_codes(conditions)}


def _check_time(dt: float, duration: float) -> None:
    lo, hi = DT_RANGE
    if not (np.isfinite(dt) and lo <= dt <= hi):
        raise InputError("dt", f"{dt!r} s is outside the valid range [{lo}, {hi}] s")
    lo, hi = DURATION_RANGE
    if not (np.isfinite(duration) and lo <= duration <= hi):
        raise InputError("duration", f"{duration!r} s is outside the valid range [{lo}, {hi}] s")
