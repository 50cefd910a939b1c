"""Execution on Dask from the dock and from Processing: settings, address checks, runs, cancel.

The clusters here are started by the tests themselves: one threaded worker
listening on 127.0.0.1 (a Dask scheduler reached over tcp://, as a remote one
would be), so every test stays within a few seconds.
"""
from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest
from qgis.core import Qgis, QgsProcessingException, QgsProcessingFeedback, QgsSettings
from test_processing import fault_layer, sites_layer  # tests/qgis is on sys.path
from test_run import tiny

HAS_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAS_DASK, reason="Dask distributed is not installed")


@pytest.fixture()
def clean_settings():
    """No execution setting before or after the test."""
    from groundshake.plugin.execution import SETTINGS_PREFIX

    settings = QgsSettings()
    settings.remove(SETTINGS_PREFIX.rstrip("/"))
    yield settings
    settings.remove(SETTINGS_PREFIX.rstrip("/"))


@pytest.fixture(scope="module")
def cluster():
    """A scheduler on 127.0.0.1 with one threaded worker (it runs this process's engine)."""
    if not HAS_DASK:
        pytest.skip("Dask distributed is not installed")
    from distributed import LocalCluster

    c = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, host="127.0.0.1",
                     protocol="tcp://", dashboard_address="127.0.0.1:0")
    yield c
    c.close()


def relative_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def raster_values(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1)


# ------------------------------------------------------------------ settings

def test_settings_persist_and_reload(plugin, clean_settings):
    from groundshake.plugin import execution

    dock = plugin.ensure_dock()
    assert dock.execution_settings().mode == execution.PROCESS  # the default
    assert dock.execution_options() == {}
    if not dock.dask_available:
        pytest.skip("Dask distributed is not installed")
    dock.exec_scheduler_radio.setChecked(True)
    dock.scheduler_edit.setText("tcp://10.0.0.5:8786")
    dock.workers_spin.setValue(3)
    saved = execution.load_settings(QgsSettings())
    assert (saved.mode, saved.scheduler, saved.workers) == ("scheduler", "tcp://10.0.0.5:8786", 3)
    assert QgsSettings().value("groundshake/execution/mode") == "scheduler"
    assert dock.scheduler_edit.isEnabled() and dock.test_connection_button.isEnabled()
    assert not dock.workers_spin.isEnabled()

    # a new dock (QGIS restarted) shows what was saved
    plugin.unload()
    plugin.initGui()
    dock = plugin.ensure_dock()
    assert dock.exec_scheduler_radio.isChecked()
    assert dock.scheduler_edit.text() == "tcp://10.0.0.5:8786"
    assert dock.workers_spin.value() == 3
    assert dock.execution_options() == {"scheduler": "tcp://10.0.0.5:8786"}

    dock.exec_local_radio.setChecked(True)
    assert execution.load_settings().mode == "local"
    assert dock.execution_options() == {"workers": 3,
                                        "processes": execution.worker_processes_possible()}
    # the execution is a machine setting: a new project keeps it
    dock.reset()
    assert dock.exec_local_radio.isChecked()


def test_dask_options_disabled_without_distributed(qgis_iface, monkeypatch, clean_settings):
    from groundshake.plugin import execution
    from groundshake.plugin.dock import GroundShakeDock

    execution.save_settings(execution.ExecutionSettings("local", 2, ""))
    monkeypatch.setattr(execution, "dask_available", lambda: False)
    dock = GroundShakeDock(qgis_iface.mapCanvas())
    try:
        assert not dock.exec_local_radio.isEnabled()
        assert not dock.exec_scheduler_radio.isEnabled()
        assert not dock.test_connection_button.isEnabled()
        assert "pip install distributed" in dock.exec_local_radio.toolTip()
        assert dock.exec_process_radio.isChecked()
        assert dock.execution_options() == {}
        dock.exec_process_radio.setChecked(True)
        dock.workers_spin.setValue(5)
        assert execution.load_settings().mode == "local"  # kept for when Dask is installed
    finally:
        dock.deleteLater()


@pytest.mark.parametrize(("text", "expected"), [
    ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"),
    ("  TCP://Scheduler.example.org:8786/ ", "tcp://scheduler.example.org:8786"),
    ("tls://dask-head:443", "tls://dask-head:443"),
    ("tcp://[::1]:8786", "tcp://[::1]:8786"),
])
def test_good_scheduler_addresses(text, expected):
    from groundshake.plugin.execution import check_scheduler_address

    assert check_scheduler_address(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "enter the scheduler address"),
    ("10.0.0.5:8786", "has no scheme: write tcp://10.0.0.5:8786"),
    ("http://10.0.0.5:8786", "must be tcp:// or tls://, not http://"),
    ("inproc://10.0.0.5/1/2", "must be tcp:// or tls://"),
    ("tcp://:8786", "no valid host"),
    ("tcp://my host:8786", "no valid host"),
    ("tcp://10.0.0.5", "needs a port"),
    ("tcp://10.0.0.5:0", "from 1 to 65535"),
    ("tcp://10.0.0.5:99999", "from 1 to 65535"),
    ("tcp://10.0.0.5:port", "from 1 to 65535"),
    ("tcp://10.0.0.5:8786/status", "only scheme://host:port"),
    ("tcp://user@10.0.0.5:8786", "only scheme://host:port"),
])
def test_bad_scheduler_addresses(text, message):
    from groundshake.gm_engine.errors import InputError
    from groundshake.plugin.execution import check_scheduler_address

    with pytest.raises(InputError, match=message) as info:
        check_scheduler_address(text)
    assert info.value.field == "execution.scheduler"


@needs_dask
def test_bad_address_is_shown_on_the_field_before_any_task(plugin, qgis_iface, tmp_path,
                                                           clean_settings):
    dock = plugin.ensure_dock()
    tiny(dock, tmp_path)
    dock.exec_scheduler_radio.setChecked(True)
    dock.scheduler_edit.setText("10.0.0.5:8786")
    assert plugin.test_connection() is None
    assert "no scheme" in dock.connection_label.text()
    assert dock.error_field == "execution.scheduler"
    qgis_iface.messageBar().clear_messages()
    assert plugin.run_scenario() is None
    messages = qgis_iface.messageBar().get_messages(Qgis.MessageLevel.Critical)
    assert any("Dask scheduler: '10.0.0.5:8786' has no scheme" in m for m in messages), messages
    assert list(tmp_path.iterdir()) == []


def test_worker_processes_only_with_this_python(monkeypatch, tmp_path):
    import sys

    from groundshake.plugin import execution

    monkeypatch.setattr(sys, "executable", "/usr/bin/qgis.bin")
    assert not execution.worker_processes_possible()
    version = "python{}.{}".format(*sys.version_info[:2])
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / version).write_text("")
    fake = tmp_path / "bin" / "python3"  # a python elsewhere on PATH (e.g. a pyenv shim)
    fake.symlink_to(tmp_path / "bin" / version)
    monkeypatch.setattr(sys, "executable", str(fake))
    assert not execution.worker_processes_possible()
    monkeypatch.setattr(sys, "exec_prefix", str(tmp_path))
    assert execution.worker_processes_possible()
    other = tmp_path / "bin" / "python3.0"  # another Python under the same prefix
    other.write_text("")
    fake.unlink()
    fake.symlink_to(other)
    assert not execution.worker_processes_possible()
    fake.unlink()
    fake.symlink_to(tmp_path / "bin" / version)
    assert execution.local_options(2) == {"workers": 2, "processes": True}
    monkeypatch.setattr(sys, "executable", "C:/OSGeo4W/bin/qgis-bin.exe")
    assert execution.local_options(2) == {"workers": 2, "processes": False}


# ------------------------------------------------------------- test button

@needs_dask
def test_connection_button_counts_workers(plugin, cluster, wait, clean_settings):
    dock = plugin.ensure_dock()
    dock.exec_scheduler_radio.setChecked(True)
    dock.scheduler_edit.setText(cluster.scheduler_address)
    dock.test_connection_button.click()
    assert "Connecting to" in dock.connection_label.text()
    assert not dock.test_connection_button.isEnabled()
    assert wait(lambda: dock.connection_label.text().startswith("Connected"), 15), \
        dock.connection_label.text()
    assert dock.connection_label.text() == "Connected: 1 workers, 1 threads."
    assert dock.test_connection_button.isEnabled()


@needs_dask
def test_connection_failure_is_reported_without_blocking(plugin, wait, monkeypatch,
                                                          clean_settings):
    from groundshake.plugin import execution

    monkeypatch.setattr(execution, "CONNECT_TIMEOUT_S", 1)
    dock = plugin.ensure_dock()
    dock.exec_scheduler_radio.setChecked(True)
    dock.scheduler_edit.setText("tcp://127.0.0.1:9")  # discard port: nothing listens
    started = time.monotonic()
    task = plugin.test_connection()
    assert task is not None and time.monotonic() - started < 0.5  # the GUI thread never waits
    assert wait(lambda: dock.connection_label.text().startswith("Cannot connect"), 15), \
        dock.connection_label.text()
    assert "tcp://127.0.0.1:9" in dock.connection_label.text()


@needs_dask
def test_connection_reports_workers_without_the_engine(cluster):
    from distributed import Client
    from groundshake.plugin.execution import _import_probe

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        ok = client.run(_import_probe("groundshake.gm_engine.distributed"))
        missing = client.run(_import_probe("groundshake_not_installed.gm_engine"))
    assert all(v[0] for v in ok.values())
    assert not any(v[0] for v in missing.values())
    assert "ModuleNotFoundError" in next(iter(missing.values()))[1]


# --------------------------------------------------------------------- runs

@needs_dask
def test_local_dask_run_matches_the_single_process_run(plugin, qgis_new_project, tmp_path,
                                                       wait, site_layer, monkeypatch,
                                                       clean_settings):
    """Same files as the run in this process, the numbers of the engine's Dask reference."""
    from groundshake.gm_engine.distributed import run_scenario_distributed
    from groundshake.gm_engine.scenario import Scenario
    from groundshake.plugin import execution

    monkeypatch.setattr(execution, "worker_processes_possible", lambda: False)  # fast start
    dock = plugin.ensure_dock()
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    tiny(dock, tmp_path / "single", sites)
    single = plugin.run_scenario()
    assert wait(lambda: not plugin.running(), 60)
    assert single.exception is None, single.exception

    dock.output_widget.setFilePath(str(tmp_path / "dask"))
    dock.exec_local_radio.setChecked(True)
    dock.workers_spin.setValue(1)
    task = plugin.run_scenario()
    assert task is not None and task.execution == {"workers": 1, "processes": False}
    progress: list[float] = []
    stages: list[str] = []
    task.progressChanged.connect(progress.append)
    task.stage_changed.connect(stages.append)
    assert wait(lambda: not plugin.running(), 60)
    assert task.exception is None, task.exception
    assert dock.progress_bar.value() == 100 and dock.stage_label.text() == "Done"
    assert any(0 < p < 100 for p in progress) and progress[-1] == 100, progress
    assert any(s.startswith("chunk 1/") for s in stages), stages

    out = Path(task.out_dir)
    # Every file of the single-process run, except the per-realization values at
    # the sites (for export-oq) that the Dask runner does not write (yet).
    missing = relative_files(Path(single.out_dir)) - relative_files(out)
    assert missing <= {"site_realizations.npz"}, missing
    assert relative_files(out) <= relative_files(Path(single.out_dir))
    record = json.loads((out / "run.json").read_text())
    assert record["distributed"]["workers"] == 1
    assert plugin.last_group is not None and plugin.last_group.name() == "Scenario"

    reference = tmp_path / "reference"
    run_scenario_distributed(Scenario.from_dict(task.scenario, task.base_dir), reference,
                             workers=0)
    for name in sorted(relative_files(reference)):
        if name.endswith(".tif"):
            np.testing.assert_array_equal(raster_values(out / name),
                                          raster_values(reference / name), err_msg=name)
    assert (out / "sites.csv").read_text() == (reference / "sites.csv").read_text()


@needs_dask
def test_cgm_runs_on_a_local_dask_cluster(plugin, qgis_new_project, tmp_path, wait, site_layer,
                                          monkeypatch, clean_settings, tiny_model_card):
    """The cgm engine on Dask from the dock: threads of this process, on 127.0.0.1 only."""
    from groundshake.plugin import execution

    monkeypatch.setattr(execution, "worker_processes_possible", lambda: False)  # fast start
    dock = plugin.ensure_dock()
    sites = site_layer()
    qgis_new_project.addMapLayer(sites)
    tiny(dock, tmp_path, sites)
    dock.grid_group.setChecked(False)
    dock.engine_combo.setCurrentIndex(dock.engine_combo.findData("cgm"))
    dock.kept_fields["model_card"] = str(tiny_model_card)  # what an import keeps
    dock.exec_local_radio.setChecked(True)
    dock.workers_spin.setValue(1)
    task = plugin.run_scenario()
    assert task is not None and task.execution == {"workers": 1, "processes": False}
    assert wait(lambda: not plugin.running(), 90)
    assert task.exception is None, task.exception
    record = json.loads((Path(task.out_dir) / "run.json").read_text())
    assert record["engine"] == "cgm" and record["distributed"]["workers"] == 1
    assert (Path(task.out_dir) / "site_terms.npz").is_file()  # the viewer can regenerate


@needs_dask
def test_scheduler_run_cancelled_leaves_nothing(plugin, cluster, tmp_path, wait, monkeypatch,
                                                clean_settings):
    dock = plugin.ensure_dock()
    tiny(dock, tmp_path)
    dock.spacing_spin.setValue(0.02)  # 20 x 20 cells, one raster row per task below
    dock.exec_scheduler_radio.setChecked(True)
    dock.scheduler_edit.setText(cluster.scheduler_address)
    options = dock.execution_options
    monkeypatch.setattr(dock, "execution_options", lambda: {**options(), "chunk_size": 20})
    task = plugin.run_scenario()
    assert task is not None and task.execution["scheduler"] == cluster.scheduler_address
    assert wait(lambda: task.progress() > 10, 30), task.progress()  # a chunk came back
    assert task.progress() < 90
    started = time.monotonic()
    dock.cancel_button.click()
    assert time.monotonic() - started < 0.5  # the GUI thread never waits
    assert wait(lambda: not plugin.running(), 30)
    assert dock.stage_label.text() == "Cancelled"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------- Processing

@pytest.fixture()
def provider(qgis_processing):
    from groundshake.plugin.processing.provider import GroundShakeProvider
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    mine = registry.providerById("groundshake") is None
    if mine:
        assert registry.addProvider(GroundShakeProvider())
    yield registry.providerById("groundshake")
    if mine:
        registry.removeProvider("groundshake")


def scenario_parameters(out: Path, **extra) -> dict:
    return {"FAULT": fault_layer(), "SITES": sites_layer(), "MAGNITUDE": 6.5, "IMS": "PGA",
            "REALIZATIONS": 2, "SEED": 3, "ENGINE": 2,  # gmpe: fast
            "GRID_EXTENT": "-122.3,-121.9,37.5,37.9 [EPSG:4326]", "GRID_RESOLUTION": 10000,
            "OUTPUT_FOLDER": str(out), **extra}


def test_processing_dask_parameters_are_advanced(provider):
    from qgis.core import QgsApplication, QgsProcessingParameterDefinition

    alg = QgsApplication.processingRegistry().algorithmById("groundshake:generatescenario")
    for name in ("DASK_SCHEDULER", "DASK_WORKERS"):
        flags = alg.parameterDefinition(name).flags()
        assert flags & QgsProcessingParameterDefinition.Flag.FlagAdvanced
        assert flags & QgsProcessingParameterDefinition.Flag.FlagOptional
    assert alg.parameterDefinition("DASK_WORKERS").defaultValue() == 0


@needs_dask
def test_processing_runs_on_a_scheduler(provider, cluster, tmp_path, monkeypatch):
    import processing
    from groundshake.plugin import execution

    out = tmp_path / "run"
    progress: list[float] = []
    feedback = QgsProcessingFeedback()
    feedback.progressChanged.connect(progress.append)
    result = processing.run("groundshake:generatescenario", scenario_parameters(
        out, DASK_SCHEDULER=cluster.scheduler_address), feedback=feedback)
    record = json.loads(Path(result["OUTPUT_RUN_JSON"]).read_text())
    assert record["distributed"]["scheduler"] == cluster.scheduler_address
    assert len(result["OUTPUT_RASTERS"]) == 3
    assert all(Path(p).is_file() for p in result["OUTPUT_RASTERS"])
    assert any(0 < p < 100 for p in progress) and max(progress) == 100, progress

    # a local cluster of one (threaded, to start fast) gives the same numbers
    monkeypatch.setattr(execution, "worker_processes_possible", lambda: False)
    local = tmp_path / "local"
    processing.run("groundshake:generatescenario", scenario_parameters(local, DASK_WORKERS=1))
    assert json.loads((local / "run.json").read_text())["distributed"]["workers"] == 1
    assert relative_files(local) == relative_files(out)
    for name in sorted(relative_files(out)):
        if name.endswith(".tif"):
            np.testing.assert_array_equal(raster_values(local / name),
                                          raster_values(out / name), err_msg=name)


@pytest.mark.parametrize(("extra", "message"), [
    ({"DASK_SCHEDULER": "localhost:8786"}, "Dask scheduler address.*has no scheme"),
    ({"DASK_SCHEDULER": "tcp://localhost"}, "needs a port"),
    ({"DASK_SCHEDULER": "tcp://localhost:8786", "DASK_WORKERS": 2}, "not both"),
])
def test_processing_refuses_bad_execution_parameters(provider, tmp_path, extra, message):
    import processing

    if not HAS_DASK and "DASK_WORKERS" not in extra:
        message = "pip install distributed"
    with pytest.raises(QgsProcessingException, match=message):
        processing.run("groundshake:generatescenario", scenario_parameters(
            tmp_path / "run", **extra))
    assert not (tmp_path / "run").exists()
