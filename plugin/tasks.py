"""Background work: the scenario run and the device probe, as QgsTasks.

``run()`` works on plain data only (a scenario dict and folder paths) and
never touches a layer or widget; the outcome is kept on the task and handed to
the GUI thread through ``finished()``. Cancelling sets the flag the engine
polls, and the engine writes its outputs into a temporary sibling folder that
it renames at the very end, so a cancelled run leaves no half-written file;
this task also removes the input folder the plugin wrote for it.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Callable

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..gm_engine.errors import Cancelled
from .i18n import tr

#: builds the engine's Scenario from (dict, base folder)
BuildFn = Callable[[dict, str], Any]
#: run_scenario(scenario, out_dir, progress=..., is_cancelled=...) -> RunResult
RunFn = Callable[..., Any]


def _engine_build(data: dict, base_dir: str) -> Any:
    from ..gm_engine.scenario import Scenario

    return Scenario.from_dict(data, base_dir)


def _engine_run(scenario: Any, out_dir: str, **kwargs: Any) -> Any:
    from ..gm_engine.runner import run_scenario

    return run_scenario(scenario, out_dir, **kwargs)


def _engine_run_distributed(scenario: Any, out_dir: str, **kwargs: Any) -> Any:
    from .execution import run_distributed

    return run_distributed(scenario, out_dir, **kwargs)


def runner_available() -> bool:
    """Whether ``gm_engine.runner`` can be imported (it is optional while it is being written)."""
    import importlib.util

    return importlib.util.find_spec(__package__.rsplit(".", 1)[0] + ".gm_engine.runner") is not None


class ScenarioTask(QgsTask):
    """Runs one scenario with ``gm_engine`` in a worker thread.

    Parameters
    ----------
    scenario:
        The scenario document (plain dict, docs/CONTRACTS.md).
    base_dir:
        Folder that relative paths in ``scenario`` resolve against.
    out_dir:
        The run folder; it must not exist yet (the engine creates it).
    cleanup_dirs:
        Folders the plugin wrote for this run only (e.g. the exported site
        layer); removed when the run fails or is cancelled.
    build, run:
        The engine calls; replaceable so the task's plumbing can be tested
        on its own.
    execution:
        Keyword arguments of ``execution.run_distributed`` (``workers``,
        ``processes``, ``scheduler``, ...); empty runs ``run_scenario`` in this process. With
        Dask this process only plans the chunks, sends them and writes what
        comes back; progress arrives per finished chunk.
    """

    stage_changed = pyqtSignal(str)
    #: (result or None, error text or "", field name or "", cancelled)
    done = pyqtSignal(object, str, str, bool)

    def __init__(self, description: str, scenario: dict, base_dir: str, out_dir: str,
                 cleanup_dirs: list[str] | None = None, build: BuildFn | None = None,
                 run: RunFn | None = None, execution: dict[str, Any] | None = None) -> None:
        super().__init__(description, QgsTask.Flag.CanCancel)
        self.scenario = scenario
        self.base_dir = base_dir
        self.out_dir = out_dir
        self.cleanup_dirs = list(cleanup_dirs or [])
        self.execution = dict(execution or {})
        self._build = build or _engine_build
        self._run = run or (_engine_run_distributed if self.execution else _engine_run)
        self.result: Any = None
        self.exception: BaseException | None = None
        self.stage = ""
        self.started_at = 0.0

    # -- worker thread ------------------------------------------------------
    def _progress(self, fraction: float, stage: str) -> None:
        self.setProgress(max(0.0, min(100.0, 100.0 * float(fraction))))
        if stage != self.stage:
            self.stage = stage
            self.stage_changed.emit(stage)

    def run(self) -> bool:
        self.started_at = time.monotonic()
        try:
            scenario = self._build(self.scenario, self.base_dir)
            if self.isCanceled():
                return False
            self.result = self._run(scenario, self.out_dir, progress=self._progress,
                                    is_cancelled=self.isCanceled, **self.execution)
        except Cancelled:
            return False
        except Exception as exc:  # any engine failure is shown to the user by finished()
            self.exception = exc
            return False
        return not self.isCanceled()

    # -- GUI thread ---------------------------------------------------------
    def finished(self, result: bool) -> None:
        cancelled = self.isCanceled() and self.exception is None
        if not result:
            self._remove_partial_outputs()
            message, field = "", ""
            if self.exception is not None:
                message = str(getattr(self.exception, "message", "") or self.exception)
                field = str(getattr(self.exception, "field", "") or "")
            elif not cancelled:
                message = tr("The run stopped without an error message.")
            self.done.emit(None, message, field, cancelled)
            return
        self.done.emit(self.result, "", "", False)

    def _remove_partial_outputs(self) -> None:
        """Delete what this run alone created; the engine never renamed ``out_dir`` into place."""
        for folder in self.cleanup_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        # a run that was cancelled after the engine renamed its folder into place
        # is a complete run, but the user asked to drop it: nothing of it is kept
        if self.isCanceled() and self.result is not None:
            shutil.rmtree(self.out_dir, ignore_errors=True)


def time_left(started_at: float, fraction: float, now: float | None = None) -> float | None:
    """Seconds left by linear extrapolation of the elapsed time; None until there is progress."""
    if fraction <= 0.01 or started_at <= 0:
        return None
    elapsed = (time.monotonic() if now is None else now) - started_at
    return max(0.0, elapsed * (1.0 - fraction) / fraction)


class DeviceProbeTask(QgsTask):
    """Finds out which compute devices torch sees, off the GUI thread (importing torch is slow)."""

    found = pyqtSignal(list, str)

    def __init__(self) -> None:
        super().__init__(tr("GroundShake: looking for compute devices"), QgsTask.Flag.CanCancel)
        self.devices: list[str] = []
        self.detail = ""

    def run(self) -> bool:
        self.devices = ["cpu"]
        try:
            import torch
        except ImportError:
            self.detail = tr("PyTorch is not installed: the CGM engine is unavailable; "
                             "install it with pip install torch")
            return True
        names = []
        try:
            if torch.cuda.is_available():
                self.devices.append("cuda")
                names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
            mps = getattr(torch.backends, "mps", None)
            if mps is not None and mps.is_available():
                self.devices.append("mps")
                names.append("Apple MPS")
        except Exception as exc:  # a broken GPU driver must not break the dock
            self.detail = str(exc)
            return True
        self.detail = ", ".join(names) if names else tr("CPU only (no GPU found)")
        return True

    def finished(self, result: bool) -> None:
        self.found.emit(self.devices, self.detail)


def ensure_new_folder(path: str | Path) -> Path:
    """A folder path that does not exist yet: ``path``, else ``path_2``, ``path_3`` ..."""
    p = Path(path)
    candidate, n = p, 1
    while candidate.exists():
        n += 1
        candidate = p.with_name(f"{p.name}_{n}")
    return candidate
