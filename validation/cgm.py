"""Validate (and calibrate) the generative model against NGA-West2 and its corpus.

    python validation/cgm.py [--card CARD (default: the bundled model)]
                             [--corpus corpus.h5] [--quick] [--calibrate] [--write]

Checks (issue 4), over M 5-8, Rrup 1-200 km, Vs30 200-1000 m/s, SS and RV:

1. median RotD50 PGA and PSA(0.1-3 s) of generated records (every record its
   own earthquake) versus the ASK14+BSSA14+CB14+CY14 average (pygmm):
   target |ln residual| <= 0.25;
2. between-event tau and within-event phi of generated ln IMs (N sites x R
   realizations with the run's latent mixing) versus NGA-West2: +-0.1;
3. correlation of within-event ln PSA(1 s) residuals at 5, 10, 20 km versus
   Jayaram & Baker (2009): +-0.1;
4. D5-95 versus Afshari & Stewart (2016, pygmm): ratio 0.7-1.3;
5. with ``--corpus``: held-out corpus records (the trainer's validation split)
   versus generated records at the same conditions: IM bias, FAS shape per
   band, and a classifier two-sample test (C2ST: a logistic-regression and
   an MLP classifier try to tell generated from corpus records by their IMs
   and conditions; 0.5 accuracy = indistinguishable; CGM-GM reports the same
   kind of score).

``--calibrate`` first sets the latent mixing (temperature, w_between,
site_persistent) so that total sigma, tau/phi and the 10 km correlation match
NGA-West2 / Jayaram & Baker, and writes them into the model card (its SHA-256
covers the weights only). ``--write`` writes docs/validation/cgm_results.json
and plots; the report docs/validation/cgm.md quotes them.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from common import ROOT, as16_d595, conditions, nga_targets

from gm_engine.corpus import draw_ztor
from gm_engine.correlation import jayaram_baker_2009_range
from gm_engine.engines import bundled_model_card
from gm_engine.generator import load_model
from gm_engine.generator.sampling import draw_site_terms, is_magnitude_table
from gm_engine.gmpe import nga_west2_average
from gm_engine.ims import compute_ims

PERIODS = np.array([0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0])  # 0 = PGA
LABELS = ["PGA"] + [f"SA({t:g})" for t in PERIODS[1:]]
IMS = ["PGA"] + [f"SA({t:.1f})" for t in PERIODS[1:]]
FULL = dict(mags=[5.0, 5.75, 6.5, 7.25, 8.0], rrups=[1.0, 5.0, 20.0, 50.0, 100.0, 200.0],
            vs30s=[200.0, 400.0, 760.0, 1000.0])
QUICK = dict(mags=[5.5, 7.0], rrups=[5.0, 50.0], vs30s=[400.0])
SIGMA = dict(mags=[5.5, 7.0], rrups=[10.0, 80.0], vs30s=[300.0, 760.0])
#: Cells (strike-slip) whose average NGA-West2 total sigma and tau ``--calibrate``
#: matches: none is a cell of the sigma check (SIGMA), so that check stays out of
#: sample. One cell (M 6.5, 30 km, 400 m/s) calibrated v3's mixing; the 16 cells of
#: the check then found tau 0.02-0.08 high at every IM (docs/validation/cgm-ca-sim-v7/).
CALIBRATION = dict(mags=[6.0, 6.5], rrups=[20.0, 50.0], vs30s=[400.0, 600.0])
#: Magnitude nodes of the temperature and w_between tables and the cells each is
#: calibrated on: SS, Rrup 20 and 50 km, Vs30 400 and 600 m/s; no magnitude of the
#: sigma check (SIGMA), so that check stays out-of-sample.
CALIBRATION_NODES = (
    (5.25, dict(CALIBRATION, mags=[5.25])),
    (6.25, CALIBRATION),
    (7.5, dict(CALIBRATION, mags=[7.5])),
)
CORR_DISTANCES = (5.0, 10.0, 20.0)
OUT_DIR = ROOT / "docs" / "validation"
DEFAULT_CARD = bundled_model_card()


def grid(spec: dict, mech: str) -> pd.DataFrame:
    m, r, v = np.meshgrid(spec["mags"], spec["rrups"], spec["vs30s"], indexing="ij")
    return conditions(mech, m, r, v)


def ln_ims(acc: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """ln RotD50 (N, P) at LABELS and D5-95 (N,) of (N, 3, T) records."""
    v = compute_ims(acc, dt, [*IMS, "D5-95"])
    return np.log(np.stack([v[k] for k in IMS], axis=1)), v["D5-95"]


def ln_ims_and_pgv(acc: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ln_ims` and ln RotD50 PGV (N,) of the same records."""
    v = compute_ims(acc, dt, [*IMS, "D5-95", "PGV"])
    return np.log(np.stack([v[k] for k in IMS], axis=1)), v["D5-95"], np.log(v["PGV"])


# -- 1 and 4: medians and durations -------------------------------------------
def simulated_ln_ims(rep: pd.DataFrame, n_samples: int, dt: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """ln RotD50 (N, P) and ln PGV (N,) of the training simulator's records at
    conditions ``rep``, made as the corpus makes them
    (gm_engine.corpus.simulate_records), cut to the model's record length."""
    from gm_engine.corpus import between_event_factor, simulate_records

    rng = np.random.default_rng([seed, 7])
    chol = between_event_factor()
    ln, pgv = [], []
    for i in range(0, len(rep), 256):
        sub = rep.iloc[i:i + 256].reset_index(drop=True)
        a, _, v = ln_ims_and_pgv(simulate_records(sub, rng, chol, dt=dt, n_samples=n_samples),
                                 dt)
        ln.append(a)
        pgv.append(v)
    return np.concatenate(ln), np.concatenate(pgv)


def median_check(gen, spec: dict, n_rec: int, seed: int = 11, ztor: str = "0") -> dict:
    """Generated medians against NGA-West2, and the training simulator's own medians in
    the same records: what separates the model's error from its training data's.

    ``ztor``: the generated records' Ztor (km; the cells and NGA-West2 have Ztor 0),
    or "corpus" for Ztor drawn as the corpus draws it (uniform 0-10 km, at most
    Rrup). The corpus's simulator ignores Ztor, so this shows what the network's
    learnt Ztor dependence does to the medians (docs/generator.md)."""
    out = {"cells": []}
    rng = np.random.default_rng([seed, 13])
    for mech in ("SS", "RV"):
        cond = grid(spec, mech)
        rep = cond.loc[cond.index.repeat(n_rec)].reset_index(drop=True)
        gen_rep = rep.copy()
        if ztor == "corpus":
            gen_rep["ztor_km"] = draw_ztor(rng, rep["rrup_km"].to_numpy())
        else:
            gen_rep["ztor_km"] = np.minimum(float(ztor), rep["rrup_km"])
        ln, d595, pgv = ln_ims_and_pgv(gen.generate_independent(gen_rep, seed), gen.dt)
        ln = ln.reshape(len(cond), n_rec, -1)
        ln_sim, pgv_sim = simulated_ln_ims(rep, gen.stft_cfg.n_samples, gen.dt, seed)
        ln_sim = ln_sim.reshape(ln.shape)
        tgt = nga_targets(cond, PERIODS)
        res = ln.mean(axis=1) - tgt["ln_med"]
        res_sim = ln_sim.mean(axis=1) - tgt["ln_med"]
        pgv_nga = nga_west2_average(cond, ["PGV"])["PGV"].ln_median
        res_pgv = pgv.reshape(len(cond), n_rec).mean(axis=1) - pgv_nga
        res_pgv_sim = pgv_sim.reshape(len(cond), n_rec).mean(axis=1) - pgv_nga
        sig = ln.std(axis=1, ddof=1)
        d_t = as16_d595(cond)
        ratio = np.exp(np.log(d595.reshape(len(cond), n_rec)).mean(axis=1)) / d_t
        for i, row in enumerate(cond.itertuples()):
            out["cells"].append({"mechanism": mech, "magnitude": row.magnitude,
                                 "rrup_km": row.rrup_km, "vs30": row.vs30,
                                 "residual": np.round(res[i], 4).tolist(),
                                 "residual_simulator": np.round(res_sim[i], 4).tolist(),
                                 "sigma_total": np.round(sig[i], 4).tolist(),
                                 "sigma_nga": np.round(np.hypot(tgt["tau"][i], tgt["phi"][i]),
                                                       4).tolist(),
                                 "d595_ratio": round(float(ratio[i]), 4),
                                 "pgv_residual": round(float(res_pgv[i]), 4),
                                 "pgv_residual_simulator": round(float(res_pgv_sim[i]), 4)})
    res = np.array([c["residual"] for c in out["cells"]])
    sim = np.array([c["residual_simulator"] for c in out["cells"]])
    rat = np.array([c["d595_ratio"] for c in out["cells"]])
    dsig = np.array([np.subtract(c["sigma_total"], c["sigma_nga"]) for c in out["cells"]])
    i, j = np.unravel_index(np.abs(res).argmax(), res.shape)
    out["summary"] = {
        "n_cells": len(out["cells"]), "records_per_cell": n_rec, "ztor_generated": ztor,
        # sampling noise of a cell's mean ln: total sigma / sqrt(records)
        "standard_error_of_cell_mean": float(np.mean([c["sigma_total"] for c in out["cells"]])
                                             / np.sqrt(n_rec)),
        "fraction_within_0.25": float((np.abs(res) <= 0.25).mean()),
        "cells_all_ims_within_0.25": float((np.abs(res) <= 0.25).all(axis=1).mean()),
        "mean_residual_by_im": dict(zip(LABELS, np.round(res.mean(0), 3).tolist())),
        "worst_abs_residual_by_im": dict(zip(LABELS, np.round(np.abs(res).max(0), 3).tolist())),
        "rms_residual": float(np.sqrt((res ** 2).mean())),
        "worst_case": {**{k: v for k, v in out["cells"][i].items()
                          if k in ("mechanism", "magnitude", "rrup_km", "vs30")},
                       "im": LABELS[j], "residual": float(res[i, j])},
        "total_sigma_minus_nga_mean_by_im": dict(zip(LABELS, np.round(dsig.mean(0), 3).tolist())),
        "simulator_fraction_within_0.25": float((np.abs(sim) <= 0.25).mean()),
        "simulator_rms_residual": float(np.sqrt((sim ** 2).mean())),
        "simulator_mean_residual_by_im": dict(zip(LABELS, np.round(sim.mean(0), 3).tolist())),
        "generated_minus_simulator_rms": float(np.sqrt(((res - sim) ** 2).mean())),
        "generated_minus_simulator_fraction_within_0.25": float((np.abs(res - sim)
                                                                 <= 0.25).mean()),
        "d595_ratio_min": float(rat.min()), "d595_ratio_max": float(rat.max()),
        "d595_fraction_within_30pct": float(((rat >= 0.7) & (rat <= 1.3)).mean()),
        "pgv": _pgv_summary(np.array([c["pgv_residual"] for c in out["cells"]]),
                            np.array([c["pgv_residual_simulator"] for c in out["cells"]])),
    }
    return out


def _pgv_summary(res: np.ndarray, sim: np.ndarray) -> dict:
    """PGV's median residuals against the NGA-West2 average (reported, not a target)."""
    return {"mean_residual": round(float(res.mean()), 3),
            "worst_abs_residual": round(float(np.abs(res).max()), 3),
            "fraction_within_0.25": float((np.abs(res) <= 0.25).mean()),
            "simulator_mean_residual": round(float(sim.mean()), 3),
            "simulator_fraction_within_0.25": float((np.abs(sim) <= 0.25).mean()),
            "generated_minus_simulator_mean": round(float((res - sim).mean()), 3)}


# -- 2: between- and within-event sigma ---------------------------------------
def run_like_draw(gen, cond: pd.DataFrame, n_sites: int, n_real: int, seed: int,
                  xy_km: np.ndarray | None = None, n_far: int = 0) -> np.ndarray:
    """ln IMs (n_real, n_sites, P) of one scenario cell repeated at n_sites sites, with
    the run's latent mixing. Without ``xy_km`` the sites are far apart (independent
    site terms); with it, site terms are the Jayaram & Baker correlated field, and
    ``n_far`` more sites far from everything (independent site terms) follow."""
    shp = gen.latent_shape
    rng = np.random.default_rng(seed)
    eps_event = rng.standard_normal((n_real, *shp.event)).astype(np.float32)
    if xy_km is None:
        eps_site = rng.standard_normal((n_sites, n_real, *shp.site)).astype(np.float32)
    else:
        eps_site = draw_site_terms(xy_km, n_real, shp.site_channels, rng,
                                   period_s=gen.site_channel_period_s)
        far = rng.standard_normal((n_far, n_real, *shp.site)).astype(np.float32)
        eps_site = np.concatenate([eps_site, far])
        n_sites = n_sites + n_far
    rep = cond.loc[cond.index.repeat(n_sites)].reset_index(drop=True)
    acc = gen.generate(rep, eps_event, eps_site, seed=seed)
    ln, _ = ln_ims(acc.reshape(n_sites * n_real, 3, -1), gen.dt)
    return ln.reshape(n_sites, n_real, -1).transpose(1, 0, 2)


def tau_phi(ln: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Between-event tau and within-event phi (P,) of (R, N, P) ln IMs (one-way ANOVA)."""
    _r, n, _ = ln.shape
    phi2 = ln.var(axis=1, ddof=1).mean(axis=0)
    tau2 = np.maximum(ln.mean(axis=1).var(axis=0, ddof=1) - phi2 / n, 0.0)
    return np.sqrt(tau2), np.sqrt(phi2)


def tau_standard_error(tau: np.ndarray, phi: np.ndarray, n_sites: int, n_real: int) -> np.ndarray:
    """Sampling standard error of :func:`tau_phi`'s tau (delta method).

    The realizations' means have variance s2 = tau^2 + phi^2 / N, estimated from
    R of them with variance 2 s2^2 / (R - 1) (normal residuals); tau's error is
    that over 2 tau. R, not N, sets it: 24 realizations leave ~0.05 at tau 0.35.
    """
    s2 = tau**2 + phi**2 / n_sites
    return np.sqrt(2.0 / (n_real - 1)) * s2 / (2.0 * np.maximum(tau, 1e-6))


def sigma_check(gen, n_sites: int, n_real: int, seed: int = 21) -> dict:
    """tau and phi per SIGMA cell, every cell with its own draws (seed + cell number).

    (The SS and RV cells once shared their seeds: each pair had the same event
    terms, so the two halves of the table were one sample twice.)
    """
    rows, ses = [], []
    for k, mech in enumerate(("SS", "RV")):
        cond = grid(SIGMA, mech)
        tgt = nga_targets(cond, PERIODS)
        for i in range(len(cond)):
            ln = run_like_draw(gen, cond.iloc[[i]].reset_index(drop=True), n_sites, n_real,
                               seed + k * len(cond) + i)
            tau, phi = tau_phi(ln)
            ses.append(tau_standard_error(tau, phi, n_sites, n_real))
            c = cond.iloc[i]
            rows.append({"mechanism": mech, "magnitude": c.magnitude, "rrup_km": c.rrup_km,
                         "vs30": c.vs30, "tau": np.round(tau, 4).tolist(),
                         "phi": np.round(phi, 4).tolist(),
                         "tau_nga": np.round(tgt["tau"][i], 4).tolist(),
                         "phi_nga": np.round(tgt["phi"][i], 4).tolist()})
    mags = np.array([r["magnitude"] for r in rows])
    dt_ = np.array([np.subtract(r["tau"], r["tau_nga"]) for r in rows])
    dp = np.array([np.subtract(r["phi"], r["phi_nga"]) for r in rows])
    return {"cells": rows, "summary": {
        "sites": n_sites, "realizations": n_real,
        "tau_minus_nga_mean_by_im": dict(zip(LABELS, np.round(dt_.mean(0), 3).tolist())),
        "phi_minus_nga_mean_by_im": dict(zip(LABELS, np.round(dp.mean(0), 3).tolist())),
        "worst_abs_tau_difference": float(np.abs(dt_).max()),
        "worst_abs_phi_difference": float(np.abs(dp).max()),
        "fraction_tau_within_0.1": float((np.abs(dt_) <= 0.1).mean()),
        "fraction_phi_within_0.1": float((np.abs(dp) <= 0.1).mean()),
        "tau_standard_error_median": float(np.median(ses)),
        # NGA-West2's tau and sigma fall with magnitude: the trend is the check's point
        "by_magnitude": {f"{m:g}": {
            "tau_minus_nga": dict(zip(LABELS, np.round(dt_[mags == m].mean(0), 3).tolist())),
            "phi_minus_nga": dict(zip(LABELS, np.round(dp[mags == m].mean(0), 3).tolist()))}
            for m in sorted(set(mags.tolist()))}}}


# -- 3: spatial correlation ---------------------------------------------------
def correlation_check(gen, n_side: int, spacing_km: float, n_real: int, seed: int = 31) -> dict:
    g = np.arange(n_side) * spacing_km
    xy = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    cond = conditions("SS", [6.5], [30.0], [400.0])
    n_far = 64
    ln = run_like_draw(gen, cond, len(xy), n_real, seed, xy_km=xy, n_far=n_far)
    j = LABELS.index("SA(1)")
    # The event term of each realization comes from the far sites (independent site
    # terms): the lattice's own mean would absorb the spatially correlated part of
    # a field whose range (~26 km) is comparable to the lattice.
    lat, far = ln[:, :len(xy), j], ln[:, len(xy):, j]
    within = lat - far.mean(axis=1, keepdims=True)  # (R, N)
    within = within / np.sqrt(far.var(axis=1, ddof=1).mean())
    h = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    b = float(jayaram_baker_2009_range(np.array([1.0]))[0])
    out = {"sites": len(xy), "spacing_km": spacing_km, "realizations": n_real,
           "jb09_range_km": round(b, 2), "at": []}
    for d in CORR_DISTANCES:
        mask = np.abs(h - d) <= 0.5 * spacing_km
        ii, jj = np.nonzero(np.triu(mask, 1))
        rho = float((within[:, ii] * within[:, jj]).mean())
        out["at"].append({"distance_km": d, "rho": round(rho, 3),
                          "rho_jb09": round(float(np.exp(-3.0 * d / b)), 3), "pairs": int(ii.size)})
    return out


# -- 3b: correlation across periods --------------------------------------------
#: Cells (SS, Vs30 400 m/s) and pairs of the cross-period check (periods in s; 0 = PGV).
PERIOD_CELLS = ((6.0, 20.0), (7.25, 50.0))
PERIOD_PAIRS = ((0.1, 1.0), (0.3, 3.0), (1.0, 3.0), (0.1, 3.0))


def period_correlation_check(gen, n_rec: int, seed: int = 61) -> dict:
    """Correlation across periods of ln RotD50 at fixed conditions (each record its own
    earthquake), generated and simulated, next to Baker & Jayaram (2008); and the mean
    ln PGV of both: with the same mean ln PSA, a spectrum whose ordinates move more
    together gives a lower mean ln of a broadband measure such as PGV."""
    from gm_engine.corpus import between_event_factor, simulate_records
    from gm_engine.correlation import baker_jayaram_2008

    names = ["SA(0.1)", "SA(0.3)", "SA(1.0)", "SA(3.0)", "PGV"]
    col = {0.1: 0, 0.3: 1, 1.0: 2, 3.0: 3}
    out = {"records": n_rec, "pairs": [list(p) for p in PERIOD_PAIRS], "cells": []}
    for m, r in PERIOD_CELLS:
        cond = conditions("SS", [m], [r], [400.0])
        rep = cond.loc[cond.index.repeat(n_rec)].reset_index(drop=True)
        sim = simulate_records(rep, np.random.default_rng([seed, 7]), between_event_factor(),
                               dt=gen.dt, n_samples=gen.stft_cfg.n_samples)
        cell = {"magnitude": m, "rrup_km": r}
        for name, acc in (("generated", gen.generate_independent(rep, seed)), ("simulator", sim)):
            v = compute_ims(acc, gen.dt, names)
            c = np.corrcoef(np.log(np.stack([v[k] for k in names])))
            cell[name] = {"rho": [round(float(c[col[a], col[b]]), 3) for a, b in PERIOD_PAIRS],
                          "rho_pgv_sa1": round(float(c[4, 2]), 3),
                          "mean_ln_pgv": round(float(np.log(v["PGV"]).mean()), 3)}
        out["cells"].append(cell)
    bj = baker_jayaram_2008(np.array(sorted(col)))
    out["baker_jayaram_2008"] = [round(float(bj[col[a], col[b]]), 3) for a, b in PERIOD_PAIRS]
    return out


# -- 5: held-out corpus -------------------------------------------------------
def corpus_check(gen, corpus: str, n: int, seed: int = 41, val_fraction: float = 0.1,
                 train_seed: int = 0) -> dict:
    import h5py

    from gm_engine.generator.envelope import band_log_amplitude
    from gm_engine.train.corpus import fit_length
    from gm_engine.train.loop import train_val_split

    with h5py.File(corpus, "r") as f:
        table = f["conditions"][()]
        total = len(table)
        val = train_val_split(total, train_seed, val_fraction)[1][:n]
        acc_real = fit_length(f["waveforms"][val], float(f.attrs["dt"]), gen.stft_cfg)
    mech = np.array(["SS", "NM", "RV"])[table["mechanism"][val]]
    cond = pd.DataFrame({k: table[k][val].astype(float) for k in
                         ("magnitude", "rrup_km", "vs30", "ztor_km")}).assign(mechanism=mech)
    acc_gen = gen.generate_independent(cond, seed)
    ln_r, d_r = ln_ims(acc_real, gen.dt)
    ln_g, d_g = ln_ims(acc_gen, gen.dt)
    bias = (ln_g - ln_r).mean(0)
    # FAS shape: time-averaged band amplitude (log10), generated minus corpus
    env_r = band_log_amplitude(torch.from_numpy(acc_real[:, :2]).double(), gen.envelope)
    env_g = band_log_amplitude(torch.from_numpy(acc_gen[:, :2]).double(), gen.envelope)
    fas = lambda e: torch.log10((10 ** (2 * e)).mean(-1).sqrt()).mean(1)  # noqa: E731
    fas_diff = (fas(env_g) - fas(env_r)).mean(0).numpy() * np.log(10)  # ln units
    edges = np.asarray(gen.envelope.band_edges)
    freqs = 0.5 * (edges[:-1] + edges[1:] - 1) / (gen.stft_cfg.n_fft * gen.dt)
    bins = {"M<6": cond.magnitude < 6, "M>=6": cond.magnitude >= 6,
            "R<20": cond.rrup_km < 20, "R>=20": cond.rrup_km >= 20}
    c2st = classifier_two_sample(cond, ln_r, d_r, ln_g, d_g, seed)
    low = low_frequency_check(acc_real, acc_gen, cond.magnitude.to_numpy(), gen.dt)
    return {"records": len(val),
            "ln_bias_by_im": dict(zip(LABELS, np.round(bias, 3).tolist())),
            "ln_bias_by_subset": {k: dict(zip(LABELS, np.round((ln_g - ln_r)[m.to_numpy()].mean(0),
                                                               3).tolist()))
                                  for k, m in bins.items()},
            "ln_std_corpus": dict(zip(LABELS, np.round(ln_r.std(0), 3).tolist())),
            "ln_std_generated": dict(zip(LABELS, np.round(ln_g.std(0), 3).tolist())),
            "d595_ratio_median": float(np.median(d_g / d_r)),
            "fas_ln_difference": {"freq_hz": np.round(freqs, 3).tolist(),
                                  "difference": np.round(fas_diff, 3).tolist()},
            "low_frequency": low,
            "c2st": c2st}


#: Frequencies (Hz) and magnitude bins of the held-out low-frequency check.
LOW_FREQ_HZ = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0)
LOW_FREQ_MAGNITUDES = ((4.5, 5.5), (5.5, 6.5), (6.5, 7.5), (7.5, 8.01))


def low_frequency_check(acc_real: np.ndarray, acc_gen: np.ndarray, mags: np.ndarray,
                        dt: float) -> dict:
    """Mean ln(generated / record) of the Fourier amplitude of H1 and H2 below 1 Hz
    (log-averaged over +-0.2 in ln f), of PGV and of PGD, by magnitude bin: where
    the envelope's two lowest bins (0 and 0.39 Hz) leave the spectrum to the
    synthesis (gm_engine/generator/lowfreq.py)."""
    from gm_engine.generator.lowfreq import smoothed_ln_fas

    f = np.asarray(LOW_FREQ_HZ)
    d = (smoothed_ln_fas(acc_gen[:, :2], dt, f) - smoothed_ln_fas(acc_real[:, :2], dt, f)).mean(1)
    v_r, v_g = (compute_ims(a, dt, ["PGV", "PGD"]) for a in (acc_real, acc_gen))
    rows = []
    for lo, hi in LOW_FREQ_MAGNITUDES:
        k = (mags >= lo) & (mags < hi)
        rows.append({"magnitude": [lo, min(hi, 8.0)], "records": int(k.sum()),
                     "ln_fas": np.round(d[k].mean(0), 3).tolist(),
                     **{f"ln_{im.lower()}": round(float(np.log(v_g[im][k] / v_r[im][k]).mean()), 3)
                        for im in ("PGV", "PGD")}})
    return {"freq_hz": list(LOW_FREQ_HZ), "by_magnitude": rows}


def classifier_two_sample(cond, ln_r, d_r, ln_g, d_g, seed: int) -> dict:
    """Held-out accuracy of classifiers telling generated from corpus records (0.5 = ideal)."""
    base = np.column_stack([cond.magnitude, np.log(cond.rrup_km), np.log(cond.vs30)])
    x = np.vstack([np.column_stack([base, ln_r, np.log(d_r)]),
                   np.column_stack([base, ln_g, np.log(d_g)])]).astype(np.float32)
    y = np.r_[np.zeros(len(ln_r)), np.ones(len(ln_g))].astype(np.float32)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(y))
    half = len(y) // 2
    tr, te = idx[:half], idx[half:]
    mu, sd = x[tr].mean(0), x[tr].std(0) + 1e-6
    xt = torch.from_numpy((x - mu) / sd)
    yt = torch.from_numpy(y)
    out = {}
    torch.manual_seed(seed)
    for name, hidden in (("logistic", 0), ("mlp", 64)):
        net = (torch.nn.Linear(x.shape[1], 1) if hidden == 0 else torch.nn.Sequential(
            torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)))
        opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
        for _ in range(400):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(xt[tr]).squeeze(-1), yt[tr])
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = float(((net(xt[te]).squeeze(-1) > 0).float() == yt[te]).float().mean())
        out[f"{name}_accuracy"] = round(acc, 3)
    out["test_records"] = len(te)
    return out


# -- calibration of the latent mixing -----------------------------------------
def _mean_total_sigma(gen, cells: pd.DataFrame, k: int) -> float:
    """Std of ln IMs of k records per cell, each its own earthquake, over cells and IMs."""
    rep = cells.loc[cells.index.repeat(k)].reset_index(drop=True)  # cell by cell
    ln, _ = ln_ims(gen.generate_independent(rep, 5), gen.dt)
    return float(np.mean([ln[i * k:(i + 1) * k].std(0, ddof=1) for i in range(len(cells))]))


def _mean_tau(gen, cells: pd.DataFrame, n_sites: int, n_real: int) -> float:
    """tau over cells and IMs, from many realizations of few sites: its error is set
    by the realizations (tau_standard_error)."""
    return float(np.mean([tau_phi(run_like_draw(gen, cells.iloc[[i]].reset_index(drop=True),
                                                n_sites, n_real, 7 + i))[0]
                          for i in range(len(cells))]))


def calibrate(gen, n_sites: int, n_real: int) -> dict:
    """Temperature for total sigma, then w_between for tau, at each magnitude node
    (CALIBRATION_NODES; both averaged over the node's cells and the IMs), then
    site_persistent for the 10 km correlation; each by bisection on a monotone
    response. Temperature and w_between go into the card as tables by magnitude
    (gm_engine.generator.sampling.latent_at): NGA-West2's tau and sigma fall with
    magnitude, and one value for all left tau 0.05-0.12 high at M 7."""
    log: list = []
    saturated: list[str] = []

    def bisect(setter, lo, hi, measure, target, increasing, n_iter=5, label=None):
        moved = set()
        name = label or setter.__name__
        for _ in range(n_iter):
            mid = 0.5 * (lo + hi)
            setter(mid)
            v = measure()
            log.append((name, round(mid, 4), round(v, 4), round(target, 4)))
            if (v < target) == increasing:
                lo = mid
                moved.add("lo")
            else:
                hi = mid
                moved.add("hi")
        if len(moved) == 1:  # every step went one way: the target lies outside the bracket
            saturated.append(name)
            print(f"calibration: {name} ran to the end of its range without "
                  f"reaching the target {target:.3f}")
        setter(0.5 * (lo + hi))
        return 0.5 * (lo + hi)

    def temperature(v):
        gen.temperature = v

    def w_between(v):
        gen.w_between = v

    def site_persistent(v):
        gen.site_persistent = v

    temps, shares, targets = [], [], []
    for node, spec in CALIBRATION_NODES:
        cells = grid(spec, "SS")
        tgt = nga_targets(cells, PERIODS)
        sig_t = float(np.hypot(tgt["tau"], tgt["phi"]).mean())
        tau_t = float(tgt["tau"].mean())

        temps.append(bisect(temperature, 0.3, 2.0,
                            partial(_mean_total_sigma, gen, cells, 4 * n_sites), sig_t, True,
                            label=f"temperature at M {node:g}"))
        shares.append(bisect(w_between, 0.0, 1.0,
                             partial(_mean_tau, gen, cells, n_sites, n_real), tau_t, True,
                             label=f"w_between at M {node:g}"))
        targets.append({"magnitude": node, "sigma": sig_t, "tau": tau_t})
    nodes = [node for node, _ in CALIBRATION_NODES]
    table_t = {"magnitude": nodes, "value": [round(v, 4) for v in temps]}
    table_w = {"magnitude": nodes, "value": [round(v, 4) for v in shares]}
    gen.temperature, gen.w_between = table_t, table_w
    b = float(jayaram_baker_2009_range(np.array([1.0]))[0])

    # The 10 km correlation of one realization's field is a noisy estimate: on a
    # 10 x 10 lattice with 12 realizations it ranged 0.02-0.36 between seeds for the
    # same model (the bisection then just ran to its upper end); 16 x 16 sites and
    # a few times the realizations bring its standard error to a few hundredths.
    def rho10() -> float:
        res = correlation_check(gen, 16, 2.5, n_real)
        return next(a["rho"] for a in res["at"] if a["distance_km"] == 10.0)

    p = bisect(site_persistent, 0.0, 1.0, rho10, float(np.exp(-30.0 / b)), True, n_iter=4)
    # The generator keeps the card's rounded values, so the checks that follow see
    # what any later run does (with the bisection's unrounded ones the MLP two-sample
    # score moved by 0.01); the tables above are rounded already.
    gen.site_persistent = round(p, 4)
    return {"temperature": table_t, "w_between": table_w, "site_persistent": round(p, 4),
            "targets": targets, "nodes": {f"{n:g}": s for n, s in CALIBRATION_NODES},
            "saturated": saturated, "log": log}


def main() -> None:
    global OUT_DIR
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--card", default=str(DEFAULT_CARD))
    ap.add_argument("--corpus", default=None, help="corpus HDF5 for the held-out checks")
    ap.add_argument("--quick", action="store_true", help="the coarse version the test runs")
    ap.add_argument("--records", type=int, default=48, help="records per median cell")
    ap.add_argument("--calibrate", action="store_true", help="calibrate the latent mixing first")
    ap.add_argument("--median-ztor", default="0",
                    help="Ztor (km) of the generated records of the median check, or 'corpus' "
                         "(drawn as in the training corpus); the cells' NGA-West2 Ztor stays 0")
    ap.add_argument("--write", action="store_true", help="write results JSON and plots")
    ap.add_argument("--out", default=str(OUT_DIR),
                    help="folder of the report, results and plots (another model than the "
                         "bundled one: its own folder)")
    args = ap.parse_args()
    OUT_DIR = Path(args.out).resolve()
    torch.set_num_threads(1)
    gen = load_model(args.card, "cpu")
    t0 = time.perf_counter()
    result: dict = {"card": str(args.card), "model": gen.card.name,
                    "weights_sha256": gen.card.sha256}
    if gen.card.marginalised:
        result["marginalised"] = list(gen.card.marginalised)
    if args.calibrate:
        cal = calibrate(gen, 16 if args.quick else 24, 12 if args.quick else 96)
        result["calibration"] = cal
        card = json.loads(Path(args.card).read_text())
        card["latent"].update({k: cal[k] for k in ("temperature", "w_between", "site_persistent")})
        card["latent"]["calibrated_by"] = "validation/cgm.py --calibrate"
        Path(args.card).write_text(json.dumps(card, indent=2) + "\n")
        print("calibration:", {k: cal[k] for k in ("temperature", "w_between", "site_persistent")})
    else:
        kept = earlier_calibration(gen)
        if kept:
            result["calibration"] = kept
    result["command"] = ("python validation/cgm.py" + (" --calibrate" if args.calibrate else "")
                         + (" --corpus corpus.h5" if args.corpus else "")
                         + f" --records {args.records}"
                         + (f" --median-ztor {args.median_ztor}" if args.median_ztor != "0"
                            else "")
                         + (f" --out {_shown(OUT_DIR)}" if OUT_DIR != ROOT / "docs" / "validation"
                            else "")
                         + (f" --card {_shown(Path(args.card).resolve())}"
                            if Path(args.card).resolve() != Path(DEFAULT_CARD).resolve() else "")
                         + " --write")
    spec = QUICK if args.quick else FULL
    result["record_s"] = gen.stft_cfg.n_samples * gen.dt
    result["site_channel_period_s"] = gen.site_channel_period_s
    result["median"] = median_check(gen, spec, 8 if args.quick else args.records,
                                    ztor=args.median_ztor)
    print("median:", json.dumps(result["median"]["summary"], indent=1))
    # 96 realizations of 24 sites: tau's standard error is set by the realizations
    # (tau_standard_error: 0.05 with the 24 used before), phi's by all records
    result["sigma"] = sigma_check(gen, 16 if args.quick else 24, 8 if args.quick else 96)
    print("sigma:", json.dumps(result["sigma"]["summary"], indent=1))
    # 96 realizations: with 24 the 10 km value moved by +-0.05 between seeds (0.315 in
    # v7's first report, 0.25-0.28 with 96 at two seeds)
    result["correlation"] = correlation_check(gen, 10 if args.quick else 16, 2.5,
                                              8 if args.quick else 96)
    print("correlation:", json.dumps(result["correlation"], indent=1))
    result["period_correlation"] = period_correlation_check(gen, 100 if args.quick else 400)
    print("period correlation:", json.dumps(result["period_correlation"], indent=1))
    if args.corpus:
        result["corpus"] = corpus_check(gen, args.corpus, 300 if args.quick else 2000)
        print("corpus:", json.dumps(result["corpus"], indent=1))
    result["seconds"] = round(time.perf_counter() - t0, 1)
    if args.write:
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "cgm_results.json").write_text(json.dumps(result, indent=1) + "\n")
        plots(result)
        write_report(result, OUT_DIR / "cgm.md")
        record_in_card(Path(args.card), result)


def record_in_card(card_path: Path, result: dict) -> None:
    """The validation summary goes into the model card (the SHA-256 covers the weights only)."""
    card = json.loads(card_path.read_text())
    med = result["median"]["summary"]
    card["validation"] = {
        "script": "validation/cgm.py", "report": _shown(OUT_DIR / "cgm.md"),
        "median_fraction_within_0.25_ln": med["fraction_within_0.25"],
        "median_mean_residual_by_im": med["mean_residual_by_im"],
        "median_worst_abs_residual_by_im": med["worst_abs_residual_by_im"],
        "tau_minus_nga_mean_by_im": result["sigma"]["summary"]["tau_minus_nga_mean_by_im"],
        "phi_minus_nga_mean_by_im": result["sigma"]["summary"]["phi_minus_nga_mean_by_im"],
        "psa1_within_event_correlation": result["correlation"]["at"],
        "d595_ratio_range": [med["d595_ratio_min"], med["d595_ratio_max"]],
    }
    if "corpus" in result:
        card["validation"]["heldout_corpus_ln_bias_by_im"] = result["corpus"]["ln_bias_by_im"]
        card["validation"]["c2st"] = result["corpus"]["c2st"]
    card_path.write_text(json.dumps(card, indent=2) + "\n")


def _shown(path: Path) -> str:
    """A path as the report names it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _row(label: str, d: dict, fmt: str = "{:+.2f}") -> str:
    return f"| {label} | " + " | ".join(fmt.format(d[k]) for k in LABELS) + " |"


def earlier_calibration(gen) -> dict | None:
    """The calibration of written results whose values the card still holds: this
    folder's, the bundled model's, then any shipped model's report (a card that
    carries over an earlier model's latent mixing)."""
    keys = ("temperature", "w_between", "site_persistent")
    folders = [OUT_DIR, ROOT / "docs" / "validation",
               *sorted(p.parent for p in (ROOT / "docs" / "validation").glob("*/cgm_results.json"))]
    for folder in folders:
        path = folder / "cgm_results.json"
        cal = json.loads(path.read_text()).get("calibration") if path.is_file() else None
        if cal and all(_same_setting(cal[k], gen.card.latent.get(k)) for k in keys):
            return {**cal, "carried_over": True}
    return None


def _same_setting(a, b) -> bool:
    """Whether a report's latent setting is the card's (numbers to 1e-9, tables exactly)."""
    if is_magnitude_table(a) or is_magnitude_table(b):
        return a == b
    return b is not None and abs(float(a) - float(b)) <= 1e-9


def _setting_text(name: str, v) -> str:
    """A latent setting as the report states it: a number, or its values by magnitude."""
    if is_magnitude_table(v):
        return (f"{name} " + " / ".join(f"{x:g}" for x in v["value"]) + " at M "
                + " / ".join(f"{m:g}" for m in v["magnitude"]))
    return f"{name} {v}"


def _calibration_text(c: dict) -> str:
    """The calibration paragraph: per-magnitude tables (CALIBRATION_NODES) or, for reports
    of earlier cards, one value each."""
    head = (f"{_setting_text('Temperature', c['temperature'])}; "
            f"{_setting_text('between-event share w_b', c['w_between'])}; "
            f"site-persistent share p {c['site_persistent']}")
    if isinstance(c["targets"], list):  # by magnitude node
        tg = ", ".join(f"M {t['magnitude']:g}: sigma {t['sigma']:.3f}, tau {t['tau']:.3f}"
                       for t in c["targets"])
        cells = "; ".join(f"M {n}: {spec['mags']}" for n, spec in c["nodes"].items())
        text = (f"{head}. Linear in magnitude between the nodes and constant beyond them. "
                f"Targets: NGA-West2 total sigma and tau ({tg}) averaged over the IMs below "
                f"and the SS cells of each node (magnitudes {cells}; Rrup "
                f"{next(iter(c['nodes'].values()))['rrups']} km, Vs30 "
                f"{next(iter(c['nodes'].values()))['vs30s']} m/s; no magnitude of section 2)")
    else:
        text = (f"{head} (targets: NGA-West2 total sigma {c['targets']['sigma']:.3f} and tau "
                f"{c['targets']['tau']:.3f} "
                + (f"averaged over the SS cells M {c['cells']['mags']}, Rrup "
                   f"{c['cells']['rrups']} km, Vs30 {c['cells']['vs30s']} m/s (none a cell of "
                   "section 2) and the IMs below" if c.get("cells") else
                   "at M 6.5, Rrup 30 km, Vs30 400 m/s, SS, averaged over the IMs below") + ")")
    return (text + "; and Jayaram & Baker (2009) correlation of PSA(1 s) residuals at 10 km "
            "for p." + (f" {', '.join(c['saturated'])} ran to the end of its range without "
                        "reaching its target." if c.get("saturated") else ""))


def _ztor_note(median: dict) -> str:
    z = median.get("ztor_generated", "0")
    if z == "0":
        return ""
    if z == "corpus":
        return " (generated with Ztor drawn as in the corpus, uniform 0-10 km and at most Rrup)"
    return f" (generated with Ztor {z} km, at most Rrup)"


def write_report(result: dict, path: Path) -> None:
    """docs/validation/cgm.md from the results (rerunning the script rewrites it)."""
    med, sig, cor = result["median"]["summary"], result["sigma"]["summary"], result["correlation"]
    head = "| | " + " | ".join(LABELS) + " |\n|---|" + "---|" * len(LABELS)
    lines = [
        "# Validation of the generative model (engine cgm)", "",
        f"Written by `{result.get('command', 'python validation/cgm.py --write')}` "
        f"({result['seconds']:.0f} s on the CPU) for model `{result['model']}` "
        f"(weights SHA-256 `{result['weights_sha256'][:16]}...`). Numbers below are "
        "copied from `cgm_results.json` by the script itself.", "",
        "The model was trained on 50,000 records simulated by GroundShake's stochastic "
        "engine (calibrated to NGA-West2; "
        f"[stochastic.md]({os.path.relpath(ROOT / 'docs' / 'validation' / 'stochastic.md', OUT_DIR)})"
        "), not on recorded "
        "data: agreement with NGA-West2 below is agreement of a model of the simulator "
        "with the GMPEs the simulator was calibrated to.", "",
    ]
    if result.get("marginalised"):
        lines += [
            "The model marginalises " + ", ".join(result["marginalised"]) + " (its card's "
            "`marginalised`): every generated record draws it from the training corpus's "
            "distribution and ignores the value of its cell, because the training simulator "
            "does not depend on it (docs/generator.md).", ""]
    if "calibration" in result:
        c = result["calibration"]
        how = (" Set by an earlier `--calibrate` run; the card still holds these values."
               if c.get("carried_over") else "")
        lines += ["## Latent calibration", "", _calibration_text(c) + how, ""]
    period = result.get("site_channel_period_s", 1.0)
    if period != 1.0:
        b = float(jayaram_baker_2009_range(np.array([period]))[0])
        lines += [f"The latent site channels are correlated over Jayaram & Baker's "
                  f"range at {period:g} s ({b:.1f} km; the card's "
                  "`latent.site_channel_period_s`), not at 1 s: the IMs' within-event "
                  "correlation is weaker than the latent field's (docs/generator.md).", ""]
    lines += [
        "## 1. Median RotD50 versus the NGA-West2 average (target |ln residual| <= 0.25)", "",
        f"{med['n_cells']} cells: M {FULL['mags']}, Rrup {FULL['rrups']} km, Vs30 "
        f"{FULL['vs30s']} m/s, SS and RV, Ztor 0; {med['records_per_cell']} generated records "
        "per cell, each its own earthquake" + _ztor_note(med) + ". Residual = mean "
        "ln(generated) - ln(NGA-West2 average median).", "", head,
        _row("mean residual", med["mean_residual_by_im"]),
        _row("worst abs residual", med["worst_abs_residual_by_im"], "{:.2f}"),
        _row("total sigma - NGA", med["total_sigma_minus_nga_mean_by_im"]), "",
        f"Within +-0.25: {100 * med['fraction_within_0.25']:.1f} % of cell x IM values; "
        f"{100 * med['cells_all_ims_within_0.25']:.1f} % of cells in every IM. "
        f"Worst: {med['worst_case']}. RMS residual {med['rms_residual']:.3f}. "
        + (f"A cell's mean has a sampling standard error of "
           f"{med['standard_error_of_cell_mean']:.2f} ln (total sigma / sqrt(records)): part "
           "of each residual is that noise." if "standard_error_of_cell_mean" in med else ""), "",
    ]
    if "simulator_rms_residual" in med:
        lines += [
            "Training data or model? The same cells simulated as the corpus was (the "
            "stochastic engine, each record its own earthquake, cut to the model's "
            f"{result.get('record_s', 40.96):g} s records; same number of records):", "",
            head, _row("simulator: mean residual", med["simulator_mean_residual_by_im"]), "",
            f"The simulator's records are within +-0.25 in "
            f"{100 * med['simulator_fraction_within_0.25']:.1f} % (RMS "
            f"{med['simulator_rms_residual']:.3f}); generated minus simulated cell means: "
            f"RMS {med['generated_minus_simulator_rms']:.3f}, within +-0.25 in "
            f"{100 * med['generated_minus_simulator_fraction_within_0.25']:.1f} %. Both "
            "columns carry sampling noise, so the difference has about sqrt(2) times "
            "a cell's standard error.", ""]
    if "pgv" in med:
        p = med["pgv"]
        lines += [
            "PGV (RotD50; reported, not a target), the same cells and records against the "
            f"NGA-West2 average: mean residual {p['mean_residual']:+.2f}, worst "
            f"{p['worst_abs_residual']:.2f}, within +-0.25 in "
            f"{100 * p['fraction_within_0.25']:.1f} % of cells; the simulator "
            f"{p['simulator_mean_residual']:+.2f} and "
            f"{100 * p['simulator_fraction_within_0.25']:.1f} %; generated minus simulated "
            f"{p['generated_minus_simulator_mean']:+.2f} on average.", ""]
    lines += [
        "![residuals](cgm_median_residuals.png)", "",
        "![PGA residual versus distance](cgm_pga_residual_vs_distance.png)", "",
        "## 2. Between- and within-event sigma (target +-0.1)", "",
        f"{len(result['sigma']['cells'])} cells (M {SIGMA['mags']}, Rrup {SIGMA['rrups']} km, "
        f"Vs30 {SIGMA['vs30s']}, SS and RV), {sig['sites']} sites far apart x "
        f"{sig['realizations']} realizations with the run's latent mixing; one-way ANOVA.",
        "", head,
        _row("tau - NGA (mean)", sig["tau_minus_nga_mean_by_im"]),
        *[_row(f"tau - NGA, M {m}", d["tau_minus_nga"])
          for m, d in sig.get("by_magnitude", {}).items()],
        _row("phi - NGA (mean)", sig["phi_minus_nga_mean_by_im"]),
        *[_row(f"phi - NGA, M {m}", d["phi_minus_nga"])
          for m, d in sig.get("by_magnitude", {}).items()], "",
        f"Within +-0.1: tau {100 * sig['fraction_tau_within_0.1']:.0f} %, phi "
        f"{100 * sig['fraction_phi_within_0.1']:.0f} % of cell x IM values; worst |tau "
        f"difference| {sig['worst_abs_tau_difference']:.2f}, worst |phi difference| "
        f"{sig['worst_abs_phi_difference']:.2f}."
        + (f" A cell's tau has a sampling standard error of about "
           f"{sig['tau_standard_error_median']:.2f} (set by the number of realizations; "
           "`tau_standard_error`), shared by the cell's IMs, whose event terms are the same "
           "draws." if "tau_standard_error_median" in sig else ""), "",
        "## 3. Spatial correlation of within-event ln PSA(1 s) (target +-0.1)", "",
        f"{cor['sites']} sites on a {cor['spacing_km']} km lattice, identical conditions "
        f"(M 6.5, Rrup 30 km, Vs30 400, SS), {cor['realizations']} realizations; Jayaram & "
        f"Baker (2009) range {cor['jb09_range_km']} km.", "",
        "| distance (km) | generated | Jayaram & Baker | pairs |", "|---|---|---|---|",
        *[f"| {a['distance_km']:g} | {a['rho']:.2f} | {a['rho_jb09']:.2f} | {a['pairs']} |"
          for a in cor["at"]], "",
        *_period_correlation_lines(result.get("period_correlation")),
        "## 4. Durations versus Afshari & Stewart (2016) (target ratio 0.7-1.3)", "",
        f"D5-95 ratio generated / AS16 over the median cells: {med['d595_ratio_min']:.2f} to "
        f"{med['d595_ratio_max']:.2f}; {100 * med['d595_fraction_within_30pct']:.0f} % of "
        "cells within 30 %.", "",
    ]
    if "corpus" in result:
        c = result["corpus"]
        lines += [
            "## 5. Held-out corpus records (the trainer's validation split)", "",
            f"{c['records']} held-out records against generated records at the same "
            "conditions (each generated record its own earthquake).", "", head,
            _row("ln bias", c["ln_bias_by_im"]),
            _row("std ln IM, corpus", c["ln_std_corpus"], "{:.2f}"),
            _row("std ln IM, generated", c["ln_std_generated"], "{:.2f}"),
            *[_row(f"ln bias, {k}", v) for k, v in c["ln_bias_by_subset"].items()], "",
            f"Median D5-95 ratio generated / corpus: {c['d595_ratio_median']:.2f}.", "",
            "FAS shape (time-averaged band amplitude of H1 and H2, mean ln generated - "
            "corpus):", "",
            "| f (Hz) | " + " | ".join(f"{f:.2g}" for f in c["fas_ln_difference"]["freq_hz"][::3])
            + " |", "|---|" + "---|" * len(c["fas_ln_difference"]["freq_hz"][::3]),
            "| ln diff | " + " | ".join(f"{v:+.2f}" for v in
                                        c["fas_ln_difference"]["difference"][::3]) + " |", "",
            *_low_frequency_lines(c.get("low_frequency")),
            "Classifier two-sample test: classifiers trained on half of the records (ln IMs, "
            "ln D5-95 and the conditions) tell generated from corpus records on the other "
            f"half with accuracy {c['c2st']['logistic_accuracy']:.2f} (logistic regression) "
            f"and {c['c2st']['mlp_accuracy']:.2f} (MLP); 0.5 means indistinguishable. "
            "CGM-GM reports the same kind of score for its model.", "",
        ]
    path.write_text("\n".join(lines))


def _period_correlation_lines(pc: dict | None) -> list[str]:
    """Section 3b (absent from reports written before it)."""
    if not pc:
        return []
    pairs = [f"SA({a:g})-SA({b:g})" for a, b in pc["pairs"]]
    rows = []
    for c in pc["cells"]:
        for name in ("generated", "simulator"):
            d = c[name]
            rows.append(f"| M {c['magnitude']:g}, {c['rrup_km']:g} km | {name} | "
                        + " | ".join(f"{v:.2f}" for v in d["rho"])
                        + f" | {d['rho_pgv_sa1']:.2f} | {d['mean_ln_pgv']:.2f} |")
    return [
        "## 3b. Correlation across periods (reported, not a target)", "",
        f"ln RotD50 of {pc['records']} records per cell (SS, Vs30 400 m/s, each record its "
        "own earthquake), generated and simulated as the corpus is; Baker & Jayaram (2008) "
        "for reference. With the same mean ln PSA, ordinates that move more together give "
        "a lower mean ln of a broadband measure such as PGV (ln cm/s in the last column).",
        "", "| cell | source | " + " | ".join(pairs) + " | PGV-SA(1) | mean ln PGV |",
        "|---|---|" + "---|" * (len(pairs) + 2), *rows,
        "| | Baker & Jayaram (2008) | " + " | ".join(f"{v:.2f}" for v in
                                                   pc["baker_jayaram_2008"]) + " | | |", "",
    ]


def _low_frequency_lines(low: dict | None) -> list[str]:
    """The held-out low-frequency table (absent from reports written before it)."""
    if not low:
        return []
    freqs = low["freq_hz"]
    return [
        "Below 1 Hz (Fourier amplitude of H1 and H2 log-averaged over +-0.2 in ln f; PGV, "
        "PGD RotD50), mean ln generated - corpus by magnitude: the envelope's lowest bins are "
        "0 and 0.39 Hz, and the spectrum between and below them comes from the synthesis "
        "(docs/generator.md, \"Low-frequency gain\"):", "",
        "| M | records | " + " | ".join(f"{f:g} Hz" for f in freqs) + " | PGV | PGD |",
        "|---|---|" + "---|" * (len(freqs) + 2),
        *[f"| {r['magnitude'][0]:g}-{r['magnitude'][1]:g} | {r['records']} | "
          + " | ".join(f"{v:+.2f}" for v in r["ln_fas"])
          + f" | {r['ln_pgv']:+.2f} | {r['ln_pgd']:+.2f} |" for r in low["by_magnitude"]], "",
    ]


def plots(result: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = result["median"]["cells"]
    res = np.array([c["residual"] for c in cells])
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.boxplot(res, labels=LABELS)
    ax.axhline(0.25, color="r", ls="--")
    ax.axhline(-0.25, color="r", ls="--")
    ax.set_ylabel("ln(generated / NGA-West2 average)")
    ax.set_title(f"CGM median residuals, {len(cells)} cells (M, Rrup, Vs30, SS/RV)")
    fig.tight_layout()
    fig.savefig(OUT_DIR / "cgm_median_residuals.png", dpi=110)
    plt.close(fig)
    fig, axs = plt.subplots(1, 4, figsize=(13, 3.4), sharey=True)
    for ax, vs in zip(axs, FULL["vs30s"]):
        for mag in FULL["mags"]:
            sel = [c for c in cells if c["mechanism"] == "SS" and c["vs30"] == vs
                   and c["magnitude"] == mag]
            if sel:
                ax.plot([c["rrup_km"] for c in sel], [c["residual"][0] for c in sel], "o-",
                        label=f"M{mag:g}")
        ax.set_xscale("log")
        ax.axhspan(-0.25, 0.25, color="0.9")
        ax.set_title(f"PGA, SS, Vs30 {vs:g}")
        ax.set_xlabel("Rrup (km)")
    axs[0].set_ylabel("ln residual")
    axs[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(OUT_DIR / "cgm_pga_residual_vs_distance.png", dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
