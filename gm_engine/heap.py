"""glibc heap settings for the processes GroundShake owns (the CLI, local Dask workers).

Why: glibc hands out blocks above its mmap threshold (128 kB, adapting up to
32 MB) as fresh pages and returns freed heap tops above the trim threshold
to the kernel. The engines allocate the same 1-15 MB temporaries for every
batch of records (STFTs, waveforms, filter states), so with the defaults
every batch page-faulted its working memory in again: on this project's
2-core machine a third of the cgm pipeline's CPU time was the kernel's
(docs/PERFORMANCE.md). Keeping blocks up to 32 MB on the heap and freed
memory up to 1 GB in the process lets the next batch reuse it.

Not applied inside a host application (QGIS): its allocator settings are its
own, and the plugin runs the engine in QGIS's process.
"""
from __future__ import annotations

import ctypes
import sys

#: mallopt parameters (glibc malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: The largest mmap threshold glibc accepts on 64-bit (HEAP_MAX_SIZE / 2).
MMAP_THRESHOLD_BYTES = 32 << 20
#: Free memory the heap keeps before returning its top to the kernel.
TRIM_THRESHOLD_BYTES = 1 << 30


def retain_freed_memory() -> bool:
    """Set this process's glibc mmap and trim thresholds; False where that is not glibc."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1
            and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1)
