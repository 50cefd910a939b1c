"""docs/PERFORMANCE.md upkeep shared by the bench/ scripts.

Each benchmark owns one ``## `` section (and, where it runs on several
software stacks, one ``### `` subsection per stack); rewriting it leaves every
other section as it was.
"""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"
HEADER = ("# Performance\n\nMeasured figures of GroundShake's engine; "
          "each section is written by its bench/ script.\n")


def shown_path(path: str | Path) -> str:
    """A path as the docs name it: relative to the repository when it lies inside it."""
    p = Path(path).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)


def _section_pattern(section: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)


def replace_section(section: str, body: str, path: Path = PERFORMANCE_MD) -> None:
    """Put ``body`` (starting with the ``section`` heading) in place of that section."""
    doc = path.read_text(encoding="utf-8") if path.exists() else HEADER
    body = body.rstrip("\n") + "\n\n"
    found = _section_pattern(section).search(doc)
    if found:
        doc = doc[: found.start()] + body + doc[found.end():]
    else:
        doc = doc.rstrip("\n") + "\n\n" + body
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc.rstrip("\n") + "\n", encoding="utf-8")


def replace_subsection(section: str, intro: str, title: str, sub: str,
                       path: Path = PERFORMANCE_MD) -> None:
    """Replace the ``### title`` subsection of ``section``, keeping its other subsections."""
    doc = path.read_text(encoding="utf-8") if path.exists() else HEADER
    found = _section_pattern(section).search(doc)
    subs: dict[str, str] = {}
    if found:
        for block in re.split(r"(?m)^(?=### )", found.group(0))[1:]:
            subs[block.splitlines()[0][4:].strip()] = block.rstrip("\n") + "\n"
    subs[title] = sub.rstrip("\n") + "\n"
    replace_section(section, intro + "\n" + "\n".join(subs[k] for k in sorted(subs)), path)
