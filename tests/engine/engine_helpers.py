"""Helpers shared by engine tests (a plain module: 'conftest' is ambiguous across folders)."""
from __future__ import annotations

from pathlib import Path


def write_sites_csv(path: Path, rows: list[tuple[str, float, float, float]]) -> Path:
    lines = ["name,lon,lat,vs30"] + [f"{n},{x},{y},{v}" for n, x, y, v in rows]
    path.write_text("\n".join(lines) + "\n")
    return path
