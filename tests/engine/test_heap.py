"""gm_engine.heap: glibc heap settings for GroundShake's own processes."""
from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_retain_freed_memory_applies_on_glibc_and_is_harmless_elsewhere():
    # in a child process: the setting is process-wide
    code = "from gm_engine.heap import retain_freed_memory; print(retain_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(ROOT))
    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert out.stdout.strip() == str(glibc)
