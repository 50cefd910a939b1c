"""OpenQuake GMF export: one realization per event, values identical to the run's."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gm_engine.cli import main
from gm_engine.errors import InputError
from gm_engine.export_oq import export_openquake
from gm_engine.runner import run_scenario
from gm_engine.scenario import Scenario


@pytest.fixture
def run_dir(scenario_dict, tmp_path):
    d = {**scenario_dict, "intensity_measures": ["PGA", "SA(1.0)", "MMI"], "realizations": 5}
    return run_scenario(Scenario.from_dict(d, tmp_path), tmp_path / "run").out_dir


def test_gmfs_and_sites_match_the_run(run_dir, tmp_path):
    out = tmp_path / "oq"
    assert main(["export-oq", "--run", str(run_dir), "--out", str(out)]) == 0
    gmf = pd.read_csv(out / "gmfs.csv")
    sites = pd.read_csv(out / "sites.csv")
    run_sites = pd.read_csv(run_dir / "sites.csv")
    assert list(gmf.columns) == ["event_id", "site_id", "gmv_PGA", "gmv_SA(1.0)"]  # no MMI
    assert list(sites.columns) == ["site_id", "lon", "lat"]
    np.testing.assert_allclose(sites["lon"], run_sites["lon"], atol=1e-6)
    assert len(gmf) == 5 * len(sites) and sorted(gmf["event_id"].unique()) == list(range(5))
    # the median over events of each site's field is the run's own median
    med = gmf.groupby("site_id")["gmv_PGA"].median().to_numpy()
    np.testing.assert_allclose(med, run_sites["PGA_median"], rtol=1e-5)
    assert "number_of_ground_motion_fields = 5" in (out / "job_gmfs.ini").read_text()
    with pytest.raises(InputError, match="exists"):
        export_openquake(run_dir, out)


def test_export_needs_a_run(tmp_path):
    with pytest.raises(InputError, match="not a GroundShake run"):
        export_openquake(tmp_path, tmp_path / "oq")


def test_export_of_a_dask_run(scenario_dict, tmp_path):
    """A Dask run keeps every realization at its point sites too (site_realizations.npz)."""
    pytest.importorskip("distributed")
    from gm_engine.distributed import run_scenario_distributed

    d = {**scenario_dict, "intensity_measures": ["PGA", "SA(1.0)"], "realizations": 4,
         "vs30": {"default": 450},
         "grid": {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326", "spacing": 0.1}}
    run = run_scenario_distributed(Scenario.from_dict(d, tmp_path), tmp_path / "run",
                                   workers=2, processes=False, chunk_size=1)
    out = tmp_path / "oq"
    assert main(["export-oq", "--run", str(run.out_dir), "--out", str(out)]) == 0
    gmf = pd.read_csv(out / "gmfs.csv")
    run_sites = pd.read_csv(run.sites_csv)
    assert len(gmf) == 4 * len(run_sites) == 16  # point sites only, not the 20 grid cells
    med = gmf.groupby("site_id")["gmv_SA(1.0)"].median().to_numpy()
    np.testing.assert_allclose(med, run_sites["SA(1.0)_median"], rtol=1e-5)
