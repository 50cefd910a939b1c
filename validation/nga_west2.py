"""Validate the stochastic simulator against NGA-West2 (rerun: a few minutes).

    python validation/nga_west2.py [--records 32] [--sigma-records 300] [--quick]

Checks, on a grid that is deliberately NOT the calibration grid (off-node
magnitudes, distances and Vs30 as well as nodes):

1. median: mean ln RotD50 PGA and PSA(0.05-5 s) of simulated records versus
   the ASK14+BSSA14+CB14+CY14 average (target |residual| <= 0.2);
2. total sigma: std of ln RotD50 of records that carry random between- and
   within-event terms (each record its own earthquake) versus NGA-West2's
   sigma (target within +-0.1), on a subset of scenarios with more records;
3. D5-95 (geometric mean of H1 and H2) versus Afshari & Stewart (2016) from
   pygmm (target ratio within 0.7-1.3);
4. two reported (not targeted) consistency checks: PSA(0.02, 0.03 s) on a
   stiff/soft, near/far subset (a spurious near-Nyquist peak would show
   there), and normal faulting (which uses the strike-slip calibration row)
   against the NGA-West2 average for normal faults.

Writes docs/validation/stochastic_results.json and PNG plots next to
docs/validation/stochastic.md. ``--quick`` is the coarse version the test runs.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import (
    ROOT,
    as16_d595,
    conditions,
    d595_geomean,
    nga_targets,
    record_duration,
    rotd50_psa,
)

from gm_engine.stochastic.calibration import CONTROL_PERIODS
from gm_engine.stochastic.simulator import synthesize

PERIODS = np.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0])  # 0 = PGA
LABELS = ["PGA"] + [f"SA({t:g})" for t in PERIODS[1:]]
FULL = dict(mags=[5.0, 5.75, 6.5, 7.25, 8.0], rrups=[1.0, 5.0, 20.0, 50.0, 100.0, 200.0],
            vs30s=[200.0, 400.0, 760.0, 1000.0])
# The coarse test's grid: the corners the simulator used to miss (PGA on stiff
# sites at 50 km, PSA(0.05) on Vs30 = 200 m/s at 200 km), off-node magnitudes.
QUICK = dict(mags=[5.25, 7.25], rrups=[50.0, 200.0], vs30s=[200.0, 760.0])
HF_CHECK = dict(mags=[5.0, 6.5, 8.0], rrups=[5.0, 50.0, 200.0], vs30s=[200.0, 760.0, 1000.0])
HF_PERIODS = np.array([0.0, 0.02, 0.03, 0.05])
NM_CHECK = dict(mags=[5.5, 7.0], rrups=[10.0, 80.0], vs30s=[300.0, 760.0])
TOLERANCE = 0.2
SIGMA = dict(mags=[5.5, 7.0], rrups=[10.0, 80.0], vs30s=[300.0, 760.0])
DT = 0.01
OUT_DIR = ROOT / "docs" / "validation"


def run_set(cond, n_rec: int, seed: int, random_terms: bool, periods: np.ndarray = PERIODS):
    """ln RotD50 (S, n_rec, P) and D5-95 (S, n_rec) for scenarios cond, n_rec records each."""
    n = len(cond)
    d_t = as16_d595(cond)
    rep = {k: np.repeat(cond[c].to_numpy(), n_rec) for k, c in
           (("magnitude", "magnitude"), ("rrup_km", "rrup_km"), ("vs30", "vs30"),
            ("mechanism", "mechanism"))}
    rng = np.random.default_rng(seed)
    eta = eps = None
    if random_terms:  # each record its own earthquake: independent eta and eps per record
        chol = np.linalg.cholesky(_bj(CONTROL_PERIODS))
        eta = rng.standard_normal((n * n_rec, CONTROL_PERIODS.size)) @ chol.T
        eps = rng.standard_normal((n * n_rec, CONTROL_PERIODS.size)) @ chol.T
    ln_psa = np.empty((n, n_rec, periods.size))
    d595 = np.empty((n, n_rec))
    durs = np.array([record_duration(d_t[i:i + 1]) for i in range(n)])
    for du in np.unique(durs):
        idx = np.flatnonzero(durs == du)
        rows = (idx[:, None] * n_rec + np.arange(n_rec)[None, :]).ravel()
        site = {k: v[rows] for k, v in rep.items()}
        keys = [(seed, int(r)) for r in rows]
        acc = synthesize(site, keys, dt=DT, duration=float(du),
                         eta=None if eta is None else eta[rows],
                         eps=None if eps is None else eps[rows])
        ln_psa[idx] = np.log(rotd50_psa(acc, DT, periods)).reshape(idx.size, n_rec, -1)
        d = d595_geomean(acc, DT)
        d595[idx] = d.reshape(idx.size, n_rec)
    return ln_psa, d595, d_t


def _bj(periods):
    from gm_engine.correlation import baker_jayaram_2008

    return baker_jayaram_2008(periods) + 1e-10 * np.eye(periods.size)


def grid(spec: dict, mech: str):
    m, r, v = np.meshgrid(spec["mags"], spec["rrups"], spec["vs30s"], indexing="ij")
    if mech == "NM":  # 50-degree normal fault, site on the footwall (like the RV geometry)
        cond = conditions("SS", m, r, v)
        return cond.assign(mechanism="NM", rake=-90.0, dip=50.0)
    return conditions(mech, m, r, v)


def _cell(row) -> dict:
    return dict(mechanism=row.mechanism, magnitude=row.magnitude, rrup_km=row.rrup_km,
                vs30=row.vs30)


def consistency(n_rec: int) -> dict:
    """Reported, not targeted: PSA(0.02, 0.03 s) next to PGA and PSA(0.05), and normal faulting."""
    out: dict = {"hf_periods": ["PGA"] + [f"SA({t:g})" for t in HF_PERIODS[1:]], "hf": [],
                 "nm": []}
    for mech in ("SS", "RV"):
        cond = grid(HF_CHECK, mech)
        tgt = nga_targets(cond, HF_PERIODS)
        ln_psa, _, _ = run_set(cond, n_rec, seed=555, random_terms=False, periods=HF_PERIODS)
        res = tgt["ln_med"] - ln_psa.mean(axis=1)
        out["hf"] += [{**_cell(row), "residual": np.round(res[i], 4).tolist()}
                      for i, row in enumerate(cond.itertuples())]
    cond = grid(NM_CHECK, "NM")
    tgt = nga_targets(cond, PERIODS)
    ln_psa, _, _ = run_set(cond, n_rec, seed=556, random_terms=False)
    res = tgt["ln_med"] - ln_psa.mean(axis=1)
    out["nm"] = [{**_cell(row), "residual": np.round(res[i], 4).tolist()}
                 for i, row in enumerate(cond.itertuples())]
    hf = np.array([c["residual"] for c in out["hf"]])
    nm = np.array([c["residual"] for c in out["nm"]])
    out["summary"] = {
        "hf_worst_abs_by_period": dict(zip(out["hf_periods"], np.round(np.abs(hf).max(0), 3).tolist())),
        "hf_mean_by_period": dict(zip(out["hf_periods"], np.round(hf.mean(0), 3).tolist())),
        "nm_worst_abs_by_period": dict(zip(LABELS, np.round(np.abs(nm).max(0), 3).tolist())),
        "nm_mean_by_period": dict(zip(LABELS, np.round(nm.mean(0), 3).tolist())),
    }
    return out


def validate(spec: dict, n_rec: int, sigma_spec: dict | None, n_sigma: int) -> dict:
    """Run the checks; returns a JSON-able summary with per-scenario residuals."""
    out: dict = {"periods": LABELS, "median": [], "sigma": [], "d595": []}
    for mech in ("SS", "RV"):
        cond = grid(spec, mech)
        tgt = nga_targets(cond, PERIODS)
        ln_psa, d595, d_t = run_set(cond, n_rec, seed=777, random_terms=False)
        res = tgt["ln_med"] - ln_psa.mean(axis=1)
        ratio = np.exp(np.log(d595).mean(axis=1)) / d_t
        for i, row in enumerate(cond.itertuples()):
            key = dict(mechanism=mech, magnitude=row.magnitude, rrup_km=row.rrup_km, vs30=row.vs30)
            out["median"].append({**key, "residual": np.round(res[i], 4).tolist()})
            out["d595"].append({**key, "target_s": round(float(d_t[i]), 2),
                                "ratio": round(float(ratio[i]), 4)})
        if sigma_spec is not None:
            cs = grid(sigma_spec, mech)
            tgt_s = nga_targets(cs, PERIODS)
            ln_s, _, _ = run_set(cs, n_sigma, seed=999, random_terms=True)
            sig = ln_s.std(axis=1, ddof=1)
            sig_t = np.sqrt(tgt_s["tau"] ** 2 + tgt_s["phi"] ** 2)
            # a run's median is over realizations, which carry the random terms
            res_t = tgt_s["ln_med"] - ln_s.mean(axis=1)
            for i, row in enumerate(cs.itertuples()):
                key = dict(mechanism=mech, magnitude=row.magnitude, rrup_km=row.rrup_km,
                           vs30=row.vs30)
                out["sigma"].append({**key, "sim": np.round(sig[i], 4).tolist(),
                                     "nga": np.round(sig_t[i], 4).tolist(),
                                     "median_residual_with_terms": np.round(res_t[i], 4).tolist()})
    med = np.array([m["residual"] for m in out["median"]])
    rat = np.array([d["ratio"] for d in out["d595"]])
    out["summary"] = {
        "worst_abs_median_residual": float(np.abs(med).max()),
        "worst_abs_median_residual_by_period": dict(zip(LABELS, np.round(np.abs(med).max(0), 3).tolist())),
        "mean_median_residual_by_period": dict(zip(LABELS, np.round(med.mean(0), 3).tolist())),
        "rms_median_residual": float(np.sqrt((med ** 2).mean())),
        "d595_ratio_min": float(rat.min()), "d595_ratio_max": float(rat.max()),
    }
    i, j = np.unravel_index(np.abs(med).argmax(), med.shape)
    worst = {k: v for k, v in out["median"][i].items() if k != "residual"}
    out["summary"]["worst_case"] = {**worst, "im": LABELS[j], "residual": float(med[i, j])}
    inside = np.abs(med) <= TOLERANCE
    out["summary"]["cells_within_tolerance"] = f"{int(inside.sum())}/{inside.size}"
    out["summary"]["fraction_within_tolerance"] = round(float(inside.mean()), 4)
    by_im = {}
    for j, label in enumerate(LABELS):
        i = int(np.abs(med[:, j]).argmax())
        cell = {k: v for k, v in out["median"][i].items() if k != "residual"}
        by_im[label] = {**cell, "residual": float(med[i, j])}
    out["summary"]["worst_cell_by_period"] = by_im
    out["summary"]["cells_outside_tolerance"] = [
        {**{k: v for k, v in out["median"][i].items() if k != "residual"}, "im": LABELS[j],
         "residual": float(med[i, j])} for i, j in zip(*np.nonzero(~inside))]
    if out["sigma"]:
        dsig = np.array([np.subtract(s["sim"], s["nga"]) for s in out["sigma"]])
        out["summary"]["worst_abs_sigma_difference"] = float(np.abs(dsig).max())
        out["summary"]["mean_sigma_difference"] = float(dsig.mean())
        out["summary"]["sigma_difference_by_period_min_max"] = dict(zip(
            LABELS, np.round(np.stack([dsig.min(0), dsig.max(0)], 1), 3).tolist()))
        ok = np.abs(dsig) <= 0.1
        out["summary"]["sigma_cells_within_0.1"] = f"{int(ok.sum())}/{ok.size}"
        rt = np.array([s["median_residual_with_terms"] for s in out["sigma"]])
        out["summary"]["mean_median_residual_with_terms_by_period"] = dict(zip(
            LABELS, np.round(rt.mean(0), 3).tolist()))
        out["summary"]["worst_abs_median_residual_with_terms"] = float(np.abs(rt).max())
    return out


def plots(result: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per = np.where(PERIODS == 0, 0.01, PERIODS)
    med = result["median"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, mech in zip(axes, ("SS", "RV")):
        for m in med:
            if m["mechanism"] == mech:
                ax.semilogx(per, m["residual"], color=plt.cm.viridis((m["magnitude"] - 5) / 3),
                            lw=0.6, alpha=0.7)
        ax.axhspan(-0.2, 0.2, color="0.9", zorder=0)
        ax.set_title(f"{mech}: ln(NGA-West2 avg / simulated median), colour = M 5-8")
        ax.set_xlabel("period (s); 0.01 = PGA")
    axes[0].set_ylabel("ln residual")
    fig.tight_layout()
    fig.savefig(OUT_DIR / "stochastic_median_residuals.png", dpi=110)
    plt.close(fig)
    if result["sigma"]:
        fig, ax = plt.subplots(figsize=(6, 4))
        for s in result["sigma"]:
            ax.semilogx(per, s["nga"], "k-", lw=0.8, alpha=0.5)
            ax.semilogx(per, s["sim"], "r--", lw=0.8, alpha=0.7)
        ax.set_xlabel("period (s)")
        ax.set_ylabel("total sigma (ln)")
        ax.set_title("total sigma: NGA-West2 avg (black) vs simulated (red)")
        fig.tight_layout()
        fig.savefig(OUT_DIR / "stochastic_sigma.png", dpi=110)
        plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 4))
    d = result["d595"]
    ax.loglog([x["target_s"] for x in d], [x["target_s"] * x["ratio"] for x in d], "o", ms=3)
    lim = [1, 200]
    ax.plot(lim, lim, "k-", lim, [0.7, 140], "k:", lim, [1.3, 260], "k:")
    ax.set_xlabel("Afshari & Stewart (2016) D5-95 (s)")
    ax.set_ylabel("simulated D5-95 (s)")
    fig.tight_layout()
    fig.savefig(OUT_DIR / "stochastic_d595.png", dpi=110)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=32)
    ap.add_argument("--sigma-records", type=int, default=300)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    t0 = time.time()
    if args.quick:
        result = validate(QUICK, 16, None, 0)
    else:
        result = validate(FULL, args.records, SIGMA, args.sigma_records)
        result["consistency"] = consistency(16)
        result["summary"]["consistency"] = result["consistency"]["summary"]
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "stochastic_results.json").write_text(json.dumps(result, indent=1))
        plots(result)
    result["summary"]["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(result["summary"], indent=1))


if __name__ == "__main__":
    main()
