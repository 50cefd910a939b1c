"""Pick the torch device: auto = CUDA, then Apple MPS, then CPU.

A device the user asked for explicitly but that is absent is an input error
with the reason, rather than a silent fall back to a device that may be 50x
slower.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from ..errors import InputError


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"``/None, ``"cpu"``, ``"cuda"``, ``"cuda:1"`` or ``"mps"`` -> torch.device."""
    if isinstance(device, torch.device):
        device = str(device)
    name = (device or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            built = torch.version.cuda is not None
            why = ("no CUDA GPU is visible (driver missing or CUDA_VISIBLE_DEVICES empty)"
                   if built else f"this torch build ({torch.__version__}) has no CUDA support")
            raise InputError("device", f"'{device}' was requested but {why}; "
                                       "use device 'auto' or 'cpu'")
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError("device", f"'{device}' was requested but only "
                                       f"{torch.cuda.device_count()} CUDA device(s) exist")
        return dev
    if name == "mps":
        if not _mps_available():
            raise InputError("device", "'mps' was requested but Apple Metal (MPS) is not "
                                       "available on this machine; use 'auto' or 'cpu'")
        return torch.device("mps")
    raise InputError("device", f"unknown device '{device}'; accepted: auto, cpu, cuda, cuda:N, mps")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op thread count set to ``n`` for a block, restored after.

    Threads started inside the block take the setting when they first run
    a torch operation (torch keeps one process-wide count).
    """
    before = torch.get_num_threads()
    if before == n:  # (the cgm engine's batch threads: already one, called per batch)
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def to_device(a: np.ndarray | torch.Tensor, device: torch.device,
              dtype: torch.dtype | None = None) -> torch.Tensor:
    """Host data on ``device`` (cast to ``dtype``), without torch's stream sync.

    Why: torch's blocking copy synchronises the stream after it, so the host
    waited for every kernel queued before it (on one stream, the other
    thread's IMs too) before preparing the next batch. An asynchronous copy
    from pageable memory returns once the driver has staged the data, so the
    source may change at once; the driver may still wait while it stages (an
    H100 trace of session 12: 0.13 s of such copies per 65,536 sites), and
    pinning first cost 10-16 ms per copy there. The values are the same: a
    copy, and an IEEE cast wherever it runs.
    """
    t = torch.as_tensor(a)
    t = t.to(device, non_blocking=device.type == "cuda" and t.device.type == "cpu")
    return t if dtype is None else t.to(dtype)


@contextmanager
def side_stream(stream: torch.cuda.Stream | None,
                ready: torch.cuda.Event | None = None) -> Iterator[None]:
    """Run a block on ``stream`` (after ``ready``), or as is when there is none (CPU)."""
    if stream is None:
        yield
        return
    with torch.cuda.stream(stream):
        if ready is not None:
            stream.wait_event(ready)
        yield
