"""Where a run executes: this QGIS process, a local Dask cluster, or a Dask scheduler.

The choice is a property of the machine, not of the scenario, so it lives in
QgsSettings (``groundshake/execution/...``) rather than in the project. This
module only stores the choice, validates the scheduler address and turns the
choice into the keyword arguments of
``gm_engine.distributed.run_scenario_distributed``; the engine does the work.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qgis.core import QgsSettings, QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from ..gm_engine.errors import InputError
from .i18n import tr

#: QgsSettings prefix, the same ``groundshake/`` the plugin uses for its layer properties
SETTINGS_PREFIX = "groundshake/execution/"
PROCESS, LOCAL, SCHEDULER = "process", "local", "scheduler"
MODES = (PROCESS, LOCAL, SCHEDULER)
SCHEMES = ("tcp", "tls")
MAX_WORKERS = 256
#: seconds the "Test connection" button waits for the scheduler
CONNECT_TIMEOUT_S = 10
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$")


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class ExecutionSettings:
    """The user's choice; ``scheduler`` is kept as typed (it is validated when used)."""

    mode: str = PROCESS
    workers: int = 0
    scheduler: str = ""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            self.mode = PROCESS
        if not 1 <= int(self.workers or 0) <= MAX_WORKERS:
            self.workers = default_workers()
        self.workers = int(self.workers)


def load_settings(settings: QgsSettings | None = None) -> ExecutionSettings:
    s = settings or QgsSettings()
    return ExecutionSettings(
        mode=s.value(SETTINGS_PREFIX + "mode", PROCESS, type=str),
        workers=s.value(SETTINGS_PREFIX + "workers", default_workers(), type=int),
        scheduler=s.value(SETTINGS_PREFIX + "scheduler", "", type=str))


def save_settings(value: ExecutionSettings, settings: QgsSettings | None = None) -> None:
    s = settings or QgsSettings()
    s.setValue(SETTINGS_PREFIX + "mode", value.mode)
    s.setValue(SETTINGS_PREFIX + "workers", int(value.workers))
    s.setValue(SETTINGS_PREFIX + "scheduler", value.scheduler)


def dask_available() -> bool:
    """Whether ``distributed`` can be imported (looked up, not imported: that takes seconds)."""
    return importlib.util.find_spec("distributed") is not None


def install_hint() -> str:
    return tr("Dask distributed is not installed in the Python that QGIS uses. Install it "
              "with: python -m pip install distributed (on Windows in the OSGeo4W Shell), "
              "then restart QGIS.")


def check_scheduler_address(text: str, field: str = "execution.scheduler") -> str:
    """The address normalised to ``scheme://host:port``; InputError(field) says what is wrong."""
    address = (text or "").strip()
    example = "tcp://192.168.1.10:8786"
    if not address:
        raise InputError(field, tr("enter the scheduler address, for example {example}")
                         .format(example=example))
    if "://" not in address:
        raise InputError(field, tr("'{address}' has no scheme: write tcp://{address} or "
                                   "tls://{address}").format(address=address))
    parts = urlsplit(address)
    if parts.scheme.lower() not in SCHEMES:
        raise InputError(field, tr("the scheme must be tcp:// or tls://, not {scheme}://")
                         .format(scheme=parts.scheme))
    host = parts.hostname or ""
    if not host or not _valid_host(host):
        raise InputError(field, tr("'{address}' has no valid host name or IP address")
                         .format(address=address))
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        raise InputError(field, tr("the address needs a port, for example {example}")
                         .format(example=example))
    if not 1 <= port <= 65535:
        raise InputError(field, tr("the port must be a number from 1 to 65535"))
    if parts.username or parts.password or parts.path not in ("", "/") or parts.query \
            or parts.fragment:
        raise InputError(field, tr("only scheme://host:port is accepted, got '{address}'")
                         .format(address=address))
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme.lower()}://{shown}:{port}"


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOST.match(host))


def worker_processes_possible() -> bool:
    """Whether ``sys.executable`` is this process's own Python, so workers can be processes.

    Inside QGIS ``sys.executable`` is often not the embedded interpreter (the
    QGIS binary on Windows, whatever ``python3`` is first on PATH on Linux);
    multiprocessing would start that program, so the local cluster then uses
    threads of the QGIS process instead.
    """
    exe = Path(sys.executable or "")
    if not exe.name.lower().startswith("python") or not exe.is_file():
        return False
    prefixes = {Path(sys.exec_prefix), Path(getattr(sys, "base_exec_prefix", sys.exec_prefix))}
    if not any(p in exe.parents for p in prefixes):
        return False
    # /usr/bin/python3 must be this Python's version (a venv's python links to it)
    name = exe.resolve().name.lower()
    name = name[:-4] if name.endswith(".exe") else name
    major, minor = sys.version_info[:2]
    return name in (f"python{major}.{minor}", "python" if os.name == "nt" else "")


def engine_options(value: ExecutionSettings) -> dict[str, Any]:
    """Keyword arguments for run_scenario_distributed; empty means run_scenario in this process."""
    if value.mode == PROCESS:
        return {}
    if not dask_available():
        raise InputError("execution", install_hint())
    if value.mode == SCHEDULER:
        return {"scheduler": check_scheduler_address(value.scheduler)}
    if not 1 <= value.workers <= MAX_WORKERS:
        raise InputError("execution.workers", tr("use 1 to {n} workers").format(n=MAX_WORKERS))
    return local_options(value.workers)


def local_options(workers: int) -> dict[str, Any]:
    """A local cluster of ``workers``: processes when this Python can start them, else threads.

    The engine starts the cluster for the run and stops it afterwards; either
    kind listens on 127.0.0.1 only, and the engine uses its own client, never
    Dask's default one, so nothing of a run outlives it in the QGIS process.
    """
    return {"workers": int(workers), "processes": worker_processes_possible()}


def run_distributed(scenario: Any, out_dir: str, **kwargs: Any) -> Any:
    """``gm_engine.distributed.run_scenario_distributed`` with ``engine_options()``' keywords.

    Imported only when called: ``distributed`` takes seconds to import.
    """
    from ..gm_engine.distributed import run_scenario_distributed

    return run_scenario_distributed(scenario, out_dir, **kwargs)


def engine_package() -> str:
    """The import name of the engine here (``groundshake.gm_engine`` when installed as a plugin)."""
    return __package__.rsplit(".", 1)[0] + ".gm_engine"


def _import_probe(module: str):
    """A function that Dask ships by value (it is local) to try an import on a worker."""
    def probe() -> tuple[bool, str]:
        import importlib

        try:
            mod = importlib.import_module(module)
        except Exception as exc:  # reported back to the user, never raised on the worker
            return False, f"{type(exc).__name__}: {exc}"
        return True, str(getattr(mod, "__version__", ""))
    return probe


class ConnectionTestTask(QgsTask):
    """Connects to a scheduler off the GUI thread and says how many workers and threads it has."""

    #: (connected, text for the user)
    tested = pyqtSignal(bool, str)

    def __init__(self, address: str, timeout: float | None = None) -> None:
        super().__init__(tr("GroundShake: connecting to {address}").format(address=address),
                         QgsTask.Flag.CanCancel)
        self.address = address
        self.timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
        self.ok = False
        self.message = ""

    def run(self) -> bool:
        try:
            from distributed import Client
        except ImportError:
            self.message = install_hint()
            return True
        try:
            client = Client(self.address, timeout=self.timeout, set_as_default=False)
        except Exception as exc:  # OSError, TimeoutError, ValueError: all end up in the dock
            self.message = tr("Cannot connect to {address} within {s} s: {err}").format(
                address=self.address, s=self.timeout, err=str(exc) or type(exc).__name__)
            return True
        try:
            nthreads = client.nthreads()
            package = engine_package()
            checks = client.run(_import_probe(package + ".distributed")) if nthreads else {}
        except Exception as exc:
            self.message = tr("Connected to {address}, but the scheduler did not answer: {err}"
                              ).format(address=self.address, err=exc)
            return True
        finally:
            client.close()
        self.ok = True
        self.message = tr("Connected: {w} workers, {t} threads.").format(
            w=len(nthreads), t=sum(nthreads.values()))
        if not nthreads:
            self.message += " " + tr("The cluster has no worker yet; a run would wait for one.")
        failed = sorted(w for w, (ok, _) in checks.items() if not ok)
        if failed:
            self.ok = False
            detail = checks[failed[0]][1]
            self.message += " " + tr(
                "{n} workers cannot import {module} ({err}): start them with the folder that "
                "holds the plugin folder on PYTHONPATH.").format(
                n=len(failed), module=package, err=detail)
        else:
            from ..gm_engine import __version__

            versions = {v for _, (_, v) in checks.items()} - {__version__}
            if versions:
                self.message += " " + tr("Workers run GroundShake {theirs}, this QGIS {ours}."
                                         ).format(theirs=", ".join(sorted(versions)),
                                                  ours=__version__)
        return True

    def finished(self, result: bool) -> None:
        if not result and not self.message:
            self.message = tr("The connection test was cancelled.")
        self.tested.emit(self.ok, self.message)
