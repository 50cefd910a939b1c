"""Ground-motion fields for OpenQuake's scenario_damage / scenario_risk.

OpenQuake reads precomputed fields through ``gmfs_file`` (one row per event
and site: ``event_id, site_id, gmv_<IMT>...``) with the site mesh in
``sites_csv`` (``site_id, lon, lat``), the layout its own gmf_data export
uses. One GroundShake realization is one OpenQuake event; IMT names (PGA,
PGV, SA(T)) and units (g, cm/s) are already OpenQuake's.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError
from .io import atomic_path, refuse_overwrite

#: IMTs OpenQuake's risk calculators take from a GMF file.
OQ_IMTS = ("PGA", "PGV", "SA")


def export_openquake(run_dir: str | Path, out_dir: str | Path, force: bool = False) -> list[Path]:
    """Write gmfs.csv, sites.csv and job_gmfs.ini for a finished run's point sites."""
    from .ims.names import parse_im
    from .runner import SITE_REALIZATIONS

    run = Path(run_dir)
    src = run / SITE_REALIZATIONS
    if not (run / "run.json").exists():
        raise InputError("run", f"{run} is not a GroundShake run folder (no run.json)")
    if not src.exists():
        raise InputError("run", "this run kept no per-realization values at sites: only the "
                                "point sites of a site layer keep them (grid cells keep "
                                "statistics), and earlier Dask runs did not keep them; "
                                "rerun it with a site layer")
    with np.load(src) as z:
        names = [str(n) for n in z["ims"]]
        values = {n: z[f"im{i}"] for i, n in enumerate(names)}
        lon, lat = z["lon"], z["lat"]
    imts = [n for n in names if parse_im(n).kind in OQ_IMTS]
    if not imts:
        raise InputError("intensity_measures", "the run has none of PGA, PGV, SA(T), the "
                                               "intensity measures OpenQuake's risk takes")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "gmfs.csv", out / "sites.csv", out / "job_gmfs.ini"]
    for p in paths:
        refuse_overwrite(p, force, "out")
    n_real, n_sites = values[imts[0]].shape
    with atomic_path(paths[1]) as tmp:
        rows = [f"{i},{lon[i]:.6f},{lat[i]:.6f}" for i in range(n_sites)]
        tmp.write_text("site_id,lon,lat\n" + "\n".join(rows) + "\n")
    event = np.repeat(np.arange(n_real), n_sites)
    site = np.tile(np.arange(n_sites), n_real)
    table = np.column_stack([values[n].reshape(-1) for n in imts])
    with atomic_path(paths[0]) as tmp, open(tmp, "w") as f:
        f.write("event_id,site_id," + ",".join(f"gmv_{n}" for n in imts) + "\n")
        for e, s_, row in zip(event, site, table):
            f.write(f"{e},{s_}," + ",".join(f"{v:.6g}" for v in row) + "\n")
    with atomic_path(paths[2]) as tmp:
        tmp.write_text(
            "# Hazard part of an OpenQuake scenario_damage/scenario_risk job that takes\n"
            "# GroundShake's fields; add the exposure and fragility/vulnerability files.\n"
            "[general]\ncalculation_mode = scenario_damage\n"
            "gmfs_file = gmfs.csv\nsites_csv = sites.csv\n"
            f"number_of_ground_motion_fields = {n_real}\n")
    return paths
