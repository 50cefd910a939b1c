"""Files that appear whole or not at all, and never over the user's data.

Outputs are written under a temporary name next to their destination and
renamed into place at the end, so Ctrl-C, a cancelled QgsTask or a crash
leaves no half-written file; an existing output is replaced only on request.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def refuse_overwrite(path: Path, force: bool, fieldname: str) -> None:
    """InputError if ``path`` exists and the user did not ask to replace it."""
    if path.exists() and not force:
        raise InputError(fieldname, f"{path} already exists; choose another path or pass --force")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary file path in the destination folder; rename it on success."""
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part" + dest.suffix,
                               dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp makes 0600 files; the renamed result should be what open() would make.
    os.chmod(tmp_path, 0o666 & ~_umask())
    try:
        yield tmp_path
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling folder that becomes ``path`` only if the block completes."""
    dest = Path(path)
    if dest.exists() and any(dest.iterdir()) and not overwrite:
        raise InputError("out", f"{dest} exists and is not empty; choose another folder "
                                "or allow replacing it (--force on the command line)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700 folders
    try:
        yield tmp
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
