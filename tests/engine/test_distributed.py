"""Distributed runs: bit-identical to the single-process run, whatever the chunking,
the number of workers, or a worker dying mid-run."""
from __future__ import annotations

import json
import os
import signal

import numpy as np
import pandas as pd
import pytest

from gm_engine.correlation import correlated_normal_field, draw_fourier_features, evaluate_field
from gm_engine.distributed import (
    MIN_TASKS_PER_WORKER,
    WRITE_ROWS,
    default_chunk_size,
    plan_chunks,
    run_scenario_distributed,
)
from gm_engine.errors import InputError
from gm_engine.scenario import Scenario

distributed = pytest.importorskip("distributed")


@pytest.fixture
def scenario(scenario_dict, tmp_path) -> Scenario:
    scenario_dict["grid"] = {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326",
                             "spacing": 0.02}
    scenario_dict["vs30"] = {"default": 450}
    scenario_dict["intensity_measures"] = ["PGA", "PGV", "SA(1.0)", "MMI"]
    scenario_dict["realizations"] = 5
    return Scenario.from_dict({**scenario_dict, "engine": "gmpe"}, tmp_path)


@pytest.fixture(scope="module")
def client():
    """Two single-threaded worker processes on loopback (shared by this module)."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def _read_run(run) -> dict:
    import rasterio

    out = {}
    for key, path in sorted(run.rasters.items()):
        with rasterio.open(path) as src:
            out[key] = src.read(1)
    with rasterio.open(run.mask_raster) as src:
        out["mask"] = src.read(1)
    if run.sites_csv is not None:
        out["sites"] = pd.read_csv(run.sites_csv)
        for name in ("site_realizations", "site_terms"):
            path = run.out_dir / f"{name}.npz"
            if path.exists():
                with np.load(path) as z:
                    out.update({f"{name}:{k}": z[k] for k in z.files})
    return out


def _assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        if k == "sites":
            pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)
        else:
            assert np.array_equal(a[k], b[k]), k  # bit for bit (NaN-free: nodata is -9999)


def test_field_is_chunk_invariant_and_fourier_path_unchanged():
    xy = np.random.default_rng(0).uniform(-60, 60, (3001, 2))
    periods = [0.0, 0.3, 1.0, 3.0]
    feats = draw_fourier_features(periods, np.random.default_rng([5, 1]), 256)
    whole = evaluate_field(feats, xy)
    for size in (1, 7, 500, 2999):
        parts = np.vstack([evaluate_field(feats, xy[i:i + size])
                           for i in range(0, len(xy), size)])
        assert np.array_equal(whole, parts)
    # the "fourier" method of correlated_normal_field is the same draw
    same = correlated_normal_field(xy, periods, np.random.default_rng([5, 1]),
                                   method="fourier", n_features=256)
    assert np.array_equal(whole, same)


def test_plan_chunks_keeps_whole_rows():
    rows = np.repeat(np.arange(10), 7)[3:]  # 10 rows of 7 cells, 3 excluded
    chunks = plan_chunks(5, rows, 7, 15)
    assert [c.kind for c in chunks[:3]] == ["sites"] * 1 + ["grid"] * 2
    grid = [c for c in chunks if c.kind == "grid"]
    assert grid[0].start == 5 and grid[-1].stop == 5 + rows.size
    for c in grid:  # no raster row shared by two chunks
        r = rows[c.start - 5:c.stop - 5]
        assert not np.isin(r, rows[:c.start - 5]).any()
    with pytest.raises(InputError):
        plan_chunks(5, rows, 7, 0)


def test_two_workers_bit_identical_to_single_process(scenario, tmp_path, client):
    ref = run_scenario_distributed(scenario, tmp_path / "ref", workers=0, chunk_size=10 ** 6)
    meta = json.loads(ref.run_json.read_text())
    assert meta["distributed"]["chunks"] == 2 and meta["n_grid_cells"] == 500
    dist = run_scenario_distributed(scenario, tmp_path / "dist", client=client, chunk_size=37)
    meta = json.loads(dist.run_json.read_text())
    assert meta["distributed"]["workers"] == 2 and meta["distributed"]["chunks"] > 10
    a, b = _read_run(ref), _read_run(dist)
    _assert_identical(a, b)
    assert np.all(a[("PGA", "median")] > 0) and len(dist.rasters) == 12
    # and the statistics are sane
    df = a["sites"]
    assert (df["PGA_p16"] <= df["PGA_median"]).all() and (df["PGA_median"] <= df["PGA_p84"]).all()
    # every realization at the point sites (export-oq), consistent with the statistics
    assert list(a["site_realizations:ims"]) == ["PGA", "PGV", "SA(1.0)", "MMI"]
    pga = a["site_realizations:im0"]
    assert pga.shape == (5, 4)
    np.testing.assert_allclose(np.median(pga, axis=0), df["PGA_median"], rtol=1e-5)


def test_own_local_cluster_threads_and_other_seed(scenario, tmp_path):
    ref = _read_run(run_scenario_distributed(scenario, tmp_path / "ref", workers=0,
                                             chunk_size=64))
    thr = run_scenario_distributed(scenario, tmp_path / "thr", workers=2, processes=False)
    # the default chunk size cuts this small grid into several tasks per worker
    meta = json.loads(thr.run_json.read_text())["distributed"]
    assert meta["workers"] == 2 and meta["chunks"] >= 2 * MIN_TASKS_PER_WORKER
    _assert_identical(ref, _read_run(thr))
    scenario.seed = 8
    other = _read_run(run_scenario_distributed(scenario, tmp_path / "other", workers=0))
    assert not np.array_equal(ref[("PGA", "median")], other[("PGA", "median")])


def test_stochastic_chunked_identical_and_waveforms_regenerate(scenario_dict, tmp_path, client):
    from gm_engine.ims import compute_ims
    from gm_engine.runner import site_waveforms

    d = {**scenario_dict, "engine": "stochastic", "realizations": 2,
         "intensity_measures": ["PGA", "SA(1.0)"], "vs30": {"default": 450},
         "grid": {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326", "spacing": 0.1}}
    s = Scenario.from_dict(d, tmp_path)
    ref = run_scenario_distributed(s, tmp_path / "ref", workers=0, chunk_size=10 ** 6)
    dist = run_scenario_distributed(s, tmp_path / "dist", client=client, chunk_size=3)
    _assert_identical(_read_run(ref), _read_run(dist))
    df = pd.read_csv(dist.sites_csv)
    sw = site_waveforms(dist.out_dir, 2, realizations=[0])
    got = compute_ims(sw.acc, sw.dt, ["PGA", "SA(1.0)"])
    sw1 = site_waveforms(dist.out_dir, 2, realizations=[1])
    got1 = compute_ims(sw1.acc, sw1.dt, ["PGA", "SA(1.0)"])
    for im in ("PGA", "SA(1.0)"):  # two realizations: the median is their mean
        np.testing.assert_allclose((got[im][0] + got1[im][0]) / 2, df[f"{im}_median"][2],
                                   rtol=1e-5)


def test_cancel_leaves_nothing(scenario, tmp_path):
    from gm_engine.errors import Cancelled

    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        run_scenario_distributed(scenario, tmp_path / "run", workers=0, chunk_size=50,
                                 is_cancelled=cancel)
    assert not (tmp_path / "run").exists()
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_killed_worker_mid_run_gives_identical_results(scenario, tmp_path, client):
    """SIGKILL one worker while it computes: Dask reruns its tasks, same bits."""
    ref = _read_run(run_scenario_distributed(scenario, tmp_path / "ref", workers=0))
    before = set(client.scheduler_info()["workers"])
    killed = []

    def kill_busy_worker(frac: float, text: str) -> None:
        if killed or not text.startswith("chunk"):
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if not busy:
            return
        running = client.processing()[busy[0]]
        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(pid, signal.SIGKILL)  # a worker process this test module started
        killed.append((busy[0], running))

    # one raster row per task, all tasks submitted at once: the killed worker holds some
    run = run_scenario_distributed(scenario, tmp_path / "dist", client=client, chunk_size=25,
                                   max_in_flight=100, progress=kill_busy_worker)
    assert killed and killed[0][1], "no task was running on the killed worker"
    _assert_identical(ref, _read_run(run))
    client.wait_for_workers(2, timeout=30)
    assert set(client.scheduler_info()["workers"]) != before  # the nanny started a new one
    assert WRITE_ROWS == 256


def test_bad_inputs_name_the_field(scenario, tmp_path, monkeypatch):
    import gm_engine.distributed as gd

    with pytest.raises(InputError, match="workers"):
        run_scenario_distributed(scenario, tmp_path / "a", workers=-1)
    monkeypatch.setattr(gd, "SCHEDULER_TIMEOUT_S", 1)
    with pytest.raises(InputError, match="scheduler"):
        run_scenario_distributed(scenario, tmp_path / "b", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "b").exists()


def test_grid_writer_block_rows_out_of_order_equal_whole_write(tmp_path):
    """Tiled 600 x 300 raster filled by 7-row chunks in shuffled order, some cells excluded."""
    from types import SimpleNamespace

    import rasterio
    from rasterio.transform import from_origin

    from gm_engine.distributed import GridWriter
    from gm_engine.raster import write_geotiff

    n_rows, n_cols = 600, 300
    grid = SimpleNamespace(rows=n_rows, cols=n_cols, transform=from_origin(500000, 4200000, 100, 100),
                           spec=SimpleNamespace(crs="EPSG:32610"))
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    keep = ~((rows >= 260) & (rows < 520))  # a whole block-row without cells
    rows, cols = rows[keep], cols[keep]
    vals = np.random.default_rng(3).normal(size=rows.size).astype(np.float32)
    key = ("PGA", "median")
    desc = {key: ("PGA median (g)", "g", "PGA_median.tif", {"IM": "PGA"})}
    w = GridWriter(tmp_path, grid, rows, cols, [key], {"seed": 1}, desc)
    starts = np.searchsorted(rows, np.arange(0, n_rows + 7, 7))
    bounds = [(a, b) for a, b in zip(starts[:-1], starts[1:]) if b > a]
    for i in np.random.default_rng(4).permutation(len(bounds)):
        a, b = bounds[i]
        w.add(slice(a, b), {key: vals[a:b]})
    path = w.close()[key]
    img = np.full((n_rows, n_cols), np.nan, np.float32)
    img[rows, cols] = vals
    whole = write_geotiff(tmp_path / "whole.tif", img, grid.transform, "EPSG:32610",
                          description="x", tags={})
    with rasterio.open(path) as a, rasterio.open(whole) as b:
        assert np.array_equal(a.read(1), b.read(1))
        assert a.overviews(1) == b.overviews(1) and a.block_shapes == [(256, 256)]
        assert np.array_equal(a.read(1, out_shape=(150, 75)), b.read(1, out_shape=(150, 75)))
        assert a.tags()["IM"] == "PGA" and a.descriptions[0] == "PGA median (g)"
    # whole block-rows are written once: no rewritten (orphaned) deflate tiles
    assert path.stat().st_size <= 1.1 * whole.stat().st_size


def test_cli_workers_option_runs_the_chunked_path(scenario_file, tmp_path):
    import json

    from gm_engine.cli import main

    out = tmp_path / "o"
    assert main(["run", "--scenario", str(scenario_file), "--out", str(out), "--workers", "0",
                 "--chunk-size", "2", "--realizations", "3", "--quiet"]) == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["realizations"] == 3
    assert "fourier" in json.dumps(meta)


def test_default_chunk_size_per_engine_and_small_runs():
    assert default_chunk_size("gmpe", 10) == 2048
    assert default_chunk_size("stochastic", 10) < default_chunk_size("cgm", 10) <= 128
    assert default_chunk_size("stochastic", 10_000) == 1
    # a small run is cut so that every worker gets several tasks
    assert default_chunk_size("gmpe", 10, n_sites=500, n_workers=2) == 63
    assert default_chunk_size("gmpe", 10, n_sites=10 ** 6, n_workers=2) == 2048


def _listening_hosts(pids: set[int]) -> set[str]:
    psutil = pytest.importorskip("psutil")
    try:
        conns = psutil.net_connections("inet")
    except psutil.AccessDenied:
        pytest.skip("cannot list sockets here")
    return {c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN and c.pid in pids}


@pytest.mark.parametrize("processes", [False, True])
def test_local_cluster_listens_on_loopback_only(processes):
    """SCALING.md promises a local cluster opens no port to the network, threads included."""
    from distributed.client import _get_global_client

    from gm_engine.distributed import make_client

    c, owned = make_client(None, 1, None, processes)
    try:
        assert c.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(a.startswith("tcp://127.0.0.1:") for a in c.scheduler_info()["workers"])
        assert _get_global_client() is not c  # the caller's default client is left alone
        psutil = pytest.importorskip("psutil")
        me = psutil.Process()
        pids = {me.pid, *(p.pid for p in me.children(recursive=True))}
        hosts = _listening_hosts(pids)
        assert hosts and hosts <= {"127.0.0.1"}, hosts
    finally:
        for o in reversed(owned):
            o.close()


def test_given_client_need_not_be_the_default(scenario, tmp_path, monkeypatch, client):
    """A client made with set_as_default=False, with no default client at all: as the plugin."""
    import distributed.client as dc
    from distributed import Client, LocalCluster

    from gm_engine.distributed import LOOPBACK

    ref = _read_run(run_scenario_distributed(scenario, tmp_path / "ref", workers=0))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, **LOOPBACK) as cl, \
            Client(cl, set_as_default=False) as mine:
        monkeypatch.setattr(dc, "_get_global_client", lambda: None)
        with pytest.raises(ValueError, match="No clients found"):
            dc.default_client()
        run = run_scenario_distributed(scenario, tmp_path / "mine", client=mine, chunk_size=50)
        prefixes = mine.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    assert any("groundshake" in str(p) for p in prefixes)  # ran on the given client's cluster
    _assert_identical(ref, _read_run(run))


def test_cancel_is_seen_while_a_task_runs(scenario_dict, tmp_path, client):
    """The flag is polled while a long task runs, and the outstanding task is cancelled."""
    import time

    from gm_engine.errors import Cancelled

    d = {**scenario_dict, "engine": "stochastic", "realizations": 20,
         "intensity_measures": ["PGA"], "vs30": {"default": 450}, "sites": None,
         "grid": {"extent": [-122.4, 37.5, -121.9, 37.9], "crs": "EPSG:4326", "spacing": 0.1}}
    s = Scenario.from_dict(d, tmp_path)  # 20 cells x 20 realizations in one task: > 2 s
    progress: list[str] = []
    seen: list[float] = []

    def cancel() -> bool:
        seen.append(time.perf_counter())
        return seen[-1] - seen[0] > 0.8

    with pytest.raises(Cancelled):
        run_scenario_distributed(s, tmp_path / "run", client=client, chunk_size=10 ** 6,
                                 is_cancelled=cancel, progress=lambda f, t: progress.append(t))
    raised = time.perf_counter()
    assert not any(t.startswith("chunk") for t in progress)  # no task had finished
    assert len(seen) >= 4 and raised - seen[-1] < 1.0  # polled, and acted on at once
    assert not (tmp_path / "run").exists()
    deadline = time.time() + 10
    while any("groundshake" in str(k) for k in client.futures) and time.time() < deadline:
        time.sleep(0.05)
    assert not any("groundshake" in str(k) for k in client.futures)
