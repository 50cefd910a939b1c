"""Engines behind ``--engine``: one interface for the runner, whatever makes the numbers.

An engine turns a site-conditions table, site coordinates and a seed into
per-realization intensity measures ``{IM: (R, N)}``; the runner does geometry
before and statistics and files after, identically for every engine.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .ims.names import parse_im
from .scenario import Scenario

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

# Headroom over the median D5-95 for the calibrated duration correction.
DURATION_MARGIN = 1.1
# Standard gravity (m/s^2), to convert SA in g to PSV in cm/s.
G_CM_S2 = 980.665


def derived_inputs(ims: Sequence[str]) -> list[str]:
    """The directly modelled IMs needed for the requested ones (MMI needs PGA and PGV)."""
    need: list[str] = []
    for im in ims:
        spec = parse_im(im)
        if spec.kind == "MMI":
            need += ["PGA", "PGV"]
        elif spec.kind == "PSV":
            need.append(f"SA({spec.period:g})")
        else:
            need.append(spec.name)
    return list(dict.fromkeys(parse_im(n).name for n in need))


def add_derived(values: dict[str, np.ndarray], ims: Sequence[str]) -> dict[str, np.ndarray]:
    """Fill MMI and PSV from the modelled IMs; keep only the requested ones."""
    from .ims import mmi_worden2012

    out: dict[str, np.ndarray] = {}
    for im in ims:
        spec = parse_im(im)
        if spec.kind == "MMI":
            out[im] = mmi_worden2012(values["PGA"], values["PGV"])
        elif spec.kind == "PSV":
            sa = values[parse_im(f"SA({spec.period:g})").name]
            # PSV = SA / omega = SA * T / (2 pi), SA converted from g to cm/s^2.
            out[im] = sa * G_CM_S2 * spec.period / (2.0 * np.pi)
        else:
            out[im] = values[spec.name]
    return out


def clip_to_ranges(conditions: pd.DataFrame,
                   ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """Conditions moved to the nearest edge of a model's valid range.

    The runner flags those sites in ``outside_range`` (column and mask raster),
    so a map shows where values are edge values, never silent extrapolation.
    """
    out = conditions.copy()
    for col, (lo, hi) in ranges.items():
        if col in out:
            out[col] = out[col].clip(lo, hi)
    return out


def outside_ranges(conditions: pd.DataFrame,
                   ranges: dict[str, tuple[float, float]]) -> np.ndarray:
    """True for sites with any condition outside a model's valid range."""
    out = np.zeros(len(conditions), dtype=bool)
    for col, (lo, hi) in ranges.items():
        v = conditions[col].to_numpy(float)
        out |= (v < lo) | (v > hi)
    return out


class GMPEEngine:
    """NGA-West2 average (ASK14, BSSA14, CB14, CY14) with correlated random fields."""

    name = "gmpe"
    SUPPORTED = ("PGA", "PGV", "SA", "PSV", "MMI")

    def check_ims(self, ims: Sequence[str]) -> None:
        bad = [im for im in ims if parse_im(im).kind not in self.SUPPORTED]
        if bad:
            raise InputError("intensity_measures",
                             f"the gmpe engine gives PGA, PGV, SA(T), PSV(T) and MMI only; "
                             f"{', '.join(bad)} need waveforms: use engine stochastic or cgm")

    def realizations(self, conditions: pd.DataFrame, xy_km: np.ndarray, ims: Sequence[str],
                     n_realizations: int, seed: int, progress: ProgressFn | None = None,
                     is_cancelled: CancelFn | None = None) -> dict[str, np.ndarray]:
        from .gmpe import CONDITION_RANGES, gmpe_realizations

        if progress:
            progress(0.0, "NGA-West2 medians and correlated residuals")
        rng = np.random.default_rng(seed)
        base = gmpe_realizations(clip_to_ranges(conditions, CONDITION_RANGES), xy_km,
                                 derived_inputs(ims), n_realizations, rng)
        if progress:
            progress(1.0, "NGA-West2 done")
        return add_derived(base, ims)

    def outside_range(self, conditions: pd.DataFrame) -> np.ndarray:
        from .gmpe import CONDITION_RANGES

        return outside_ranges(conditions, CONDITION_RANGES)

    def site_terms(self, sl: slice) -> dict[str, np.ndarray]:
        return {}

    def info(self) -> dict[str, Any]:
        return {"models": ["ASK14", "BSSA14", "CB14", "CY14"], "implementation": "pygmm",
                "weights": "equal, ln units"}


#: Site conditions the stochastic simulator reads (stored with the site terms).
SIMULATED_CONDITIONS = ("magnitude", "rrup_km", "vs30")


class StochasticEngine:
    """The calibrated stochastic simulator: waveforms per site, IMs from gm_engine.ims."""

    name = "stochastic"
    DT = 0.01  # s: 100 Hz, as the generative model
    MIN_DURATION = 40.96  # s: the generative model's window, so records compare one to one
    MAX_DURATION = 300.0  # s: bounds memory per chunk (300 s x 100 Hz x 3 x 128 sites)

    def __init__(self, device: str = "auto") -> None:
        self.device = device
        self.duration = self.MIN_DURATION
        self._terms: dict[str, np.ndarray] = {}
        self._conditions = pd.DataFrame()

    def record_duration(self, conditions: pd.DataFrame) -> float:
        """Record length that holds the longest shaking window of the run, in s.

        The simulator's Saragoni-Hart window lasts 1.6 x D5-95 / (the window's
        own D5-95 fraction) after a lead (simulator docstring); D5-95 is the
        Afshari & Stewart (2016) median times DURATION_MARGIN for the
        calibration's duration correction (within +-5 %, docs/validation).
        Rounded up to 10 s so nearby runs share lengths.
        """
        from .gmpe import mechanism_codes
        from .stochastic import physics
        from .stochastic.simulator import LEAD_S

        c = clip_to_ranges(conditions, self._ranges())
        d595 = physics.afshari_stewart_2016_d595(
            c["magnitude"].to_numpy(float), c["rrup_km"].to_numpy(float),
            c["vs30"].to_numpy(float), mechanism_codes(c))
        need = LEAD_S + 1.6 * float(np.max(d595)) * DURATION_MARGIN / physics.WINDOW_D595_FRACTION
        return float(min(max(np.ceil(need / 10.0) * 10.0, self.MIN_DURATION), self.MAX_DURATION))

    def check_ims(self, ims: Sequence[str]) -> None:
        for im in ims:
            parse_im(im)

    def _ranges(self) -> dict[str, tuple[float, float]]:
        from .stochastic.physics import PARAMETER_RANGES

        return PARAMETER_RANGES

    def realizations(self, conditions: pd.DataFrame, xy_km: np.ndarray, ims: Sequence[str],
                     n_realizations: int, seed: int, progress: ProgressFn | None = None,
                     is_cancelled: CancelFn | None = None) -> dict[str, np.ndarray]:
        from .stochastic.simulator import simulate_realizations

        terms: dict[str, list[np.ndarray]] = {"eta": [], "eps": []}

        def keep_terms(r: int, eta: np.ndarray, eps: np.ndarray) -> None:
            terms["eta"].append(np.asarray(eta, dtype=np.float64))
            terms["eps"].append(np.asarray(eps, dtype=np.float64))

        self.duration = self.record_duration(conditions)
        clipped = clip_to_ranges(conditions, self._ranges())
        self._conditions = clipped
        out = simulate_realizations(
            clipped, xy_km, n_realizations, seed,
            derived_inputs(ims), dt=self.DT, duration=self.duration,
            device=resolve_device(self.device), progress=progress, is_cancelled=is_cancelled,
            on_terms=keep_terms)
        self._terms = {"seed": np.array(seed), "eta": np.stack(terms["eta"]),
                       "eps": np.stack(terms["eps"])}
        return add_derived(out, ims)

    def outside_range(self, conditions: pd.DataFrame) -> np.ndarray:
        return outside_ranges(conditions, self._ranges())

    def site_terms(self, sl: slice) -> dict[str, np.ndarray]:
        """Random terms of the sites in ``sl``: with the seed they regenerate any waveform."""
        if not self._terms:
            return {}
        c = self._conditions.iloc[sl]
        return {"seed": self._terms["seed"], "eta": self._terms["eta"],
                "eps": self._terms["eps"][:, sl], "dt": np.array(self.DT),
                "duration": np.array(self.duration),
                # the exact (clipped) conditions simulated: sites.csv rounds them
                **{f"cond_{k}": c[k].to_numpy() for k in SIMULATED_CONDITIONS}}

    def info(self) -> dict[str, Any]:
        return {"dt_s": self.DT, "duration_s": self.duration,
                "device": resolve_device(self.device),
                "method": "Boore (2003) stochastic method, FAS calibrated to the NGA-West2 "
                          "average (docs/validation/stochastic.md)"}


#: The bundled model's card (docs/generator.md, gm_engine/models/README.md).
BUNDLED_MODEL = "cgm-ca-sim-v11/model_card.json"
#: Site-realizations per chunk on a GPU whose IMs go to compute_ims on the
#: host: one chunk's waveforms (3 x 4096 float32 each, 48 kB) hold ~100 MB.
CGM_CHUNK = 2048
#: The same on a GPU, where waveforms and IMs stay in device memory (~1 GB).
CGM_CHUNK_GPU = 16384


def bundled_model_card():  # -> pathlib.Path
    """Path of the card of the model shipped in gm_engine/models."""
    from pathlib import Path

    return Path(__file__).resolve().parent / "models" / BUNDLED_MODEL


def shipped_model_cards() -> list[dict[str, Any]]:
    """The cards in gm_engine/models, the bundled one first: what a user may choose.

    Each: ``path``, ``name``, ``bundled``, ``noise``, ``marginalised`` (the
    conditions it draws instead of taking them from the sites) and the validation's
    ``median_fraction_within_0.25_ln`` (None when the card has none). Cards
    that cannot be read are left out: the chooser must not fail on them.
    """
    import json

    bundled = bundled_model_card()
    out = []
    for path in sorted(bundled.parent.parent.glob("*/model_card.json")):
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            out.append({"path": path, "name": str(d["name"]), "bundled": path == bundled,
                        "noise": (d.get("synthesis") or {}).get("noise", "gaussian"),
                        "marginalised": sorted(d.get("marginalised") or {}),
                        "median_fraction_within_0.25_ln":
                            (d.get("validation") or {}).get("median_fraction_within_0.25_ln")})
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda c: (not c["bundled"], _natural_key(c["name"])))


def _natural_key(name: str) -> list[Any]:
    """Sort key that orders the numbers in a name by value (model v3 before v10)."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def torch_ims_support(ims: Sequence[str]) -> bool:
    """Whether gm_engine.ims.torch_ims computes all of ``ims`` (RotD50) on the model's device."""
    from .ims.torch_ims import supports

    return supports(ims, "RotD50")


def generated_ims(acc, dt: float, ims: Sequence[str], on_device: bool) -> dict[str, np.ndarray]:
    """IMs ``(N,)`` of generated waveforms (a torch tensor (N, 3, T) on the model's device):
    on that device with gm_engine.ims.torch_ims, else copied to the CPU for compute_ims."""
    if on_device:
        from .ims.torch_ims import compute_ims_torch

        return {k: v.cpu().numpy() for k, v in compute_ims_torch(acc, dt, ims).items()}
    from .ims import compute_ims

    return compute_ims(acc.cpu().numpy(), dt, ims)


def measure_on_device(gen, conditions: pd.DataFrame, eps_event: np.ndarray,
                      eps_site: np.ndarray, seed: int, ims: Sequence[str],
                      out: dict[str, np.ndarray], progress: ProgressFn | None,
                      is_cancelled: CancelFn | None, site_offset: int = 0) -> None:
    """Fill ``out`` {IM: (R, N)} on a GPU: large batches, IMs on the card where supported.

    ``site_offset``: the run's index of the first site (a Dask task's chunk), which
    keys its draws.

    The IMs are RotD50 of the horizontals, so Z is not synthesised
    (``vertical=False``, as on the CPU) and enters the IM code as zeros.

    A batch's IMs are measured in a second thread while this one prepares and
    launches the next batch, so the host's share of a batch (conditions, the
    mean correction's basis, kernel launches) can overlap the card's work while
    the IM code waits on the card (its pruned RotD50 sizes its work from the
    data). At most two batches are alive at once, and each IM value is the
    same whichever thread measures it.
    """
    from concurrent.futures import ThreadPoolExecutor

    import torch

    from .errors import Cancelled
    from .generator.device import side_stream

    n, r = len(conditions), eps_event.shape[0]
    on_device = torch_ims_support(ims)
    chunk = max(CGM_CHUNK_GPU, gen.default_batch()) if on_device else CGM_CHUNK
    per = max(1, chunk // max(r, 1))

    # On CUDA the IMs run on a stream of their own: the syncs of either thread
    # (the IMs' data-sized steps, the sampler's host copies) then wait for that
    # thread's kernels only, and the card runs both threads' work at once.
    stream = torch.cuda.Stream(gen.device) if gen.device.type == "cuda" else None

    def measure(cols: slice, acc: torch.Tensor, ready: torch.cuda.Event | None) -> None:
        k = cols.stop - cols.start
        with torch.no_grad(), side_stream(stream, ready):
            acc = torch.nn.functional.pad(acc, (0, 0, 0, 1))  # (k, R, 3, T), Z = 0
            vals = generated_ims(acc.reshape(k * r, 3, -1), gen.dt, ims, on_device)
        for im in ims:
            out[im][:, cols] = vals[im].reshape(k, r).T

    def handed_over(acc: torch.Tensor) -> torch.cuda.Event | None:
        """The event after which the IM stream may read ``acc`` (None on the CPU)."""
        if stream is None:
            return None
        acc.record_stream(stream)  # its memory is not reused before the IMs are done
        ready = torch.cuda.Event()
        ready.record()
        return ready

    with ThreadPoolExecutor(1, thread_name_prefix="cgm-ims") as pool:
        pending = None
        for i in range(0, n, per):
            if is_cancelled is not None and is_cancelled():
                raise Cancelled("run cancelled")
            sl = slice(i, min(n, i + per))
            for bsl, acc in gen.generate_batches(conditions.iloc[sl], eps_event, eps_site[sl],
                                                 seed=seed,
                                                 site_ids=site_offset + np.arange(sl.start,
                                                                                  sl.stop),
                                                 vertical=False):
                job = pool.submit(measure, slice(sl.start + bsl.start, sl.start + bsl.stop), acc,
                                  handed_over(acc))
                if pending is not None:
                    pending.result()  # the batch before: two alive at most
                pending = job
            if progress is not None:  # (the last batch's IMs may still be under way)
                progress(sl.stop / n, f"generated {sl.stop}/{n} sites x {r} realizations")
        if pending is not None:
            pending.result()


def batch_ims(gen, conditions: pd.DataFrame, eps_event: np.ndarray, eps_site: np.ndarray,
              seed: int, site_ids: np.ndarray, ims: Sequence[str]) -> dict[str, np.ndarray]:
    """{IM: (R, k)} of k sites generated on the generator's device and measured on the
    host in the calling thread (compute_ims, one thread).

    The IMs are RotD50 of the horizontals, so Z is not synthesised
    (``vertical=False``: a third of the synthesis; H1 and H2 keep their bits).
    """
    from .ims import compute_ims

    k, r = len(conditions), eps_event.shape[0]
    acc = gen.generate(conditions, eps_event, eps_site, seed=seed, site_ids=site_ids,
                       vertical=False)
    vals = compute_ims(acc.reshape(k * r, 3, -1), gen.dt, ims, n_threads=1)
    return {im: vals[im].reshape(k, r).T for im in ims}


#: Threads that each generate and measure whole batches on the CPU (at most).
CGM_CPU_THREADS = 4
#: Share of the record length beyond which a site's expected D5-95 is cut by the
#: generative model's window (CGMEngine.window_limited): at Afshari & Stewart
#: (2016) medians of 28-30 s the generated D5-95 was 0.90-0.88 of them, at 39 s 0.71.
WINDOW_DURATION_FRACTION = 0.7
#: IM kinds that depend on how long the shaking lasts.
DURATION_KINDS = frozenset({"D5-75", "D5-95", "IA", "CAV"})


def window_limited_sites(engine: Any, conditions: pd.DataFrame,
                         ims: Sequence[str]) -> np.ndarray | None:
    """Per site, True where a duration IM is asked and the engine's records are too
    short for it (CGMEngine.window_limited); None when no duration IM is asked or
    the engine makes records as long as the shaking."""
    if not hasattr(engine, "window_limited") or not _duration_ims(ims):
        return None
    return np.asarray(engine.window_limited(conditions), dtype=bool)


def window_notes(engine: Any, limited: np.ndarray | None, ims: Sequence[str]) -> list[str]:
    """The run warning that goes with :func:`window_limited_sites`' flags."""
    n = 0 if limited is None else int(np.count_nonzero(limited))
    if not n:
        return []
    window = engine.record_seconds()
    return [f"{n} of {len(limited)} sites expect a median D5-95 (Afshari & Stewart 2016) "
            f"above {WINDOW_DURATION_FRACTION * window:.1f} s, {WINDOW_DURATION_FRACTION:g} of "
            f"the model's {window:g} s records: there {', '.join(_duration_ims(ims))} come out "
            "biased low (the generated D5-95 levels off near 28 s; docs/validation/cgm.md); "
            "flagged in sites.csv's window_limited and window_limited.tif"]


def _duration_ims(ims: Sequence[str]) -> list[str]:
    return sorted({spec.name for spec in map(parse_im, ims) if spec.kind in DURATION_KINDS})


def _measure_on_cpu_threads(gen, conditions: pd.DataFrame, eps_event: np.ndarray,
                            eps_site: np.ndarray, seed: int, ims: Sequence[str],
                            out: dict[str, np.ndarray], progress: ProgressFn | None,
                            is_cancelled: CancelFn | None) -> None:
    """Fill ``out`` {IM: (R, N)}: batches of sites generated and measured by parallel threads.

    Each thread takes one batch through the model (one torch thread) and
    compute_ims (one thread). Run one after the other with two threads each,
    the model and the IMs left a core idle much of the time (Python holds the
    GIL between small operations): whole batches in parallel threads run 1.4x
    faster on 2 cores (docs/PERFORMANCE.md). Sites' values do not depend on
    the order: every random term is keyed by site.
    """
    import os
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    from .errors import Cancelled
    from .generator.device import torch_threads

    n, r = len(conditions), eps_event.shape[0]
    per = max(1, gen.default_batch() // max(r, 1))
    threads = max(1, min(CGM_CPU_THREADS, os.cpu_count() or 1, -(-n // per)))

    def work(sl: slice) -> tuple[slice, dict[str, np.ndarray]]:
        return sl, batch_ims(gen, conditions.iloc[sl], eps_event, eps_site[sl], seed,
                             np.arange(sl.start, sl.stop), ims)

    def collect(sl: slice, vals: dict[str, np.ndarray]) -> None:
        for im in ims:
            out[im][:, sl] = vals[im]
        if progress is not None:
            progress(sl.stop / n, f"generated {sl.stop}/{n} sites x {r} realizations")

    with torch_threads(1), ThreadPoolExecutor(max_workers=threads) as pool:
        pending: deque = deque()
        for i in range(0, n, per):
            if is_cancelled is not None and is_cancelled():
                for fut in pending:
                    fut.cancel()
                raise Cancelled("run cancelled")
            pending.append(pool.submit(work, slice(i, min(n, i + per))))
            if len(pending) >= 2 * threads:
                collect(*pending.popleft().result())
        while pending:
            collect(*pending.popleft().result())


class CGMEngine:
    """The conditional generative model: waveforms per site, IMs from gm_engine.ims.

    The latent draws of a run are (gm_engine.generator.sampling): between-event
    innovations shared by all sites of a realization, spatially correlated
    site channels (Jayaram & Baker 2009 ranges) and per-site innovations and
    white noise keyed by (seed, site, realization). The first two are kept
    per site in site_terms.npz so the viewer regenerates a site alone.
    """

    name = "cgm"

    def __init__(self, device: str = "auto", model_card: str | None = None) -> None:
        self.device = device
        self.card_path = str(model_card or bundled_model_card())
        self._generator = None
        self._terms: dict[str, np.ndarray] = {}
        self.n_site_realizations = 0

    def generator(self):  # -> gm_engine.generator.CGMGenerator
        """The loaded model (weights checked against the card's SHA-256), loaded once."""
        if self._generator is None:
            from pathlib import Path

            if not Path(self.card_path).is_file():
                raise InputError("engine", f"no model card at {self.card_path}: the cgm engine "
                                           "needs gm_engine/models (reinstall the plugin)")
            from .generator import load_model

            self._generator = load_model(self.card_path, self.device)
        return self._generator

    def check_ims(self, ims: Sequence[str]) -> None:
        for im in ims:
            parse_im(im)

    def realizations(self, conditions: pd.DataFrame, xy_km: np.ndarray, ims: Sequence[str],
                     n_realizations: int, seed: int, progress: ProgressFn | None = None,
                     is_cancelled: CancelFn | None = None) -> dict[str, np.ndarray]:
        from .generator.sampling import draw_event_terms, draw_site_terms

        gen = self.generator()
        shp = gen.latent_shape
        rng = np.random.default_rng(seed)
        n, r = len(conditions), n_realizations
        eps_event = draw_event_terms(rng, r, shp.event)
        eps_site = draw_site_terms(np.asarray(xy_km, dtype=float), r, shp.site_channels, rng,
                                   device=str(gen.device), period_s=gen.site_channel_period_s)
        inputs = derived_inputs(ims)
        out = {im: np.empty((r, n), dtype=np.float64) for im in inputs}
        if gen.device.type == "cpu":
            _measure_on_cpu_threads(gen, conditions, eps_event, eps_site, seed, inputs, out,
                                    progress, is_cancelled)
        else:
            measure_on_device(gen, conditions, eps_event, eps_site, seed, inputs, out,
                              progress, is_cancelled)
        self.n_site_realizations = n * r
        self._conditions = conditions.reset_index(drop=True)
        self._terms = {"seed": np.array(seed), "eps_event": eps_event, "eps_site": eps_site}
        return add_derived(out, ims)

    def outside_range(self, conditions: pd.DataFrame) -> np.ndarray:
        return ~self.generator().card.in_range(conditions)

    def site_terms(self, sl: slice) -> dict[str, np.ndarray]:
        """The site's latent draws and exact conditions: with the seed they regenerate it."""
        if not self._terms:
            return {}
        card = self.generator().card
        c = self._conditions.iloc[sl]
        cols = {spec.column for spec in card.conditions}
        from .generator.keyed import KEYED_RNG

        return {"engine": np.array("cgm"), "seed": self._terms["seed"], "rng": np.array(KEYED_RNG),
                "eps_event": self._terms["eps_event"],
                "eps_site": self._terms["eps_site"][sl],
                "dt": np.array(self.generator().dt),
                **{f"cond_{k}": (c[k].astype(str).to_numpy().astype("U8") if k == "mechanism"
                                 else c[k].to_numpy(float)) for k in sorted(cols)}}

    @staticmethod
    def _stored_conditions(terms: dict[str, np.ndarray], site_index: int) -> pd.DataFrame:
        return pd.DataFrame({k[5:]: [terms[k][site_index]] for k in terms
                             if k.startswith("cond_")})

    def drawn_conditions(self, terms: dict[str, np.ndarray], site_index: int,
                         realizations: list[int]) -> dict[str, np.ndarray]:
        """``{column: (len(realizations),)}`` of the card's marginalised conditions as the
        run drew them for this site (empty for a card without any)."""
        drawn = self.generator().drawn_conditions(
            self._stored_conditions(terms, site_index), int(terms["seed"]),
            np.array([site_index]), np.asarray(realizations, dtype=np.int64))
        return {k: v[0] for k, v in drawn.items()}

    def regenerate(self, terms: dict[str, np.ndarray], site_index: int,
                   realizations: list[int]) -> np.ndarray:
        """``(len(realizations), 3, T)`` waveforms of one stored site, identical to the run's."""
        gen = self.generator()
        conds = self._stored_conditions(terms, site_index)
        rid = np.asarray(realizations, dtype=np.int64)
        acc = gen.generate(conds, terms["eps_event"][rid], terms["eps_site"][[site_index]][:, rid],
                           seed=int(terms["seed"]), site_ids=np.array([site_index]),
                           realization_ids=rid)
        return acc[0]

    def window_limited(self, conditions: pd.DataFrame) -> np.ndarray:
        """Sites whose expected shaking outlasts what the model's records can hold.

        Where the Afshari & Stewart (2016) median D5-95 exceeds
        WINDOW_DURATION_FRACTION of the record, the generated D5-95 fell below
        0.9 of it in validation/cgm.py (it levels off near 28 s in 40.96 s
        records, 0.3 of AS16 at M 8 and 200 km), so durations, Arias intensity
        and CAV there are biased low. Peaks and spectra are not flagged: their
        medians at M 8 held (docs/validation/cgm.md).
        """
        from .stochastic import physics

        d595 = physics.afshari_stewart_2016_d595(
            conditions["magnitude"].to_numpy(float), conditions["rrup_km"].to_numpy(float),
            conditions["vs30"].to_numpy(float), conditions["mechanism"].to_numpy())
        return d595 > WINDOW_DURATION_FRACTION * self.record_seconds()

    def record_seconds(self) -> float:
        """Length of the model's records (s)."""
        gen = self.generator()
        return gen.stft_cfg.n_samples * gen.dt

    def info(self) -> dict[str, Any]:
        gen = self.generator()
        card = gen.card
        return {"model": card.name, "model_card": str(self.card_path),
                "weights_sha256": card.sha256, "sampler_sha256": card.sampler_sha256(),
                "synthesis_noise": card.synthesis.get("noise", "gaussian"),
                "device": str(gen.device),
                # what regeneration on another device matches only to rounding
                "precision": str(gen.dtype).removeprefix("torch."),
                # rows per model call: a site regenerated on this device keeps its bits
                # with the same blocks (CPU_ROW_BLOCK, GPU_ROW_BLOCK)
                "row_block": gen.row_block,
                "dt_s": gen.dt, "duration_s": self.record_seconds(),
                "phase": ("shaped Poisson pulse train" if gen.noise == "pulse_train"
                          else "shaped white noise") + " (gm_engine.generator.envelope)",
                "latent": dict(card.latent),
                # conditions drawn from their training distribution, not the sites'
                **({"marginalised_conditions": sorted(card.marginalised)}
                   if card.marginalised else {}),
                "trained_on": card.training.get("data", "see the model card")}


def resolve_device(device: str) -> str:
    """The device name the simulator's FFTs use: torch's choice, CPU without torch."""
    if device == "cpu":
        return "cpu"
    try:
        from .generator.device import resolve_device as torch_device
    except ImportError:  # no torch: only the CPU path exists
        if device == "auto":
            return "cpu"
        raise InputError("device", f"{device!r} needs PyTorch, which is not installed") from None
    name = str(torch_device(device))
    # The simulator's FFTs are float64, which Apple's MPS backend does not support.
    return "cpu" if name.startswith("mps") else name


def engine_for(scenario: Scenario):
    """The engine object a scenario asks for, or an InputError saying why not."""
    if scenario.engine == "gmpe":
        return GMPEEngine()
    if scenario.engine == "stochastic":
        return StochasticEngine(device=scenario.device)
    if scenario.engine == "cgm":
        card = scenario.resolve(scenario.model_card) if scenario.model_card else None
        if card is not None and not card.is_file():
            raise InputError("model_card", f"no model card at {card}")
        return CGMEngine(device=scenario.device, model_card=card)
    raise InputError("engine", f"unknown engine {scenario.engine!r}: use cgm, stochastic or gmpe")
