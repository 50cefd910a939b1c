"""Command-line interface: ``python -m gm_engine <command> ...``.

Each command is a thin shell over an engine function; user errors print one
line naming the field to fix and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from .errors import Cancelled, InputError


def _add_distances(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distances", help="source-to-site distances of a scenario's sites, as CSV")
    p.add_argument("--scenario", required=True, help="scenario JSON file")
    p.add_argument("--out", required=True, help="output CSV (refuses to overwrite without --force)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.set_defaults(func=_cmd_distances)


def _cmd_distances(args: argparse.Namespace) -> int:
    from .geometry import DISTANCE_COLUMNS, point_sites
    from .io import atomic_path, refuse_overwrite
    from .scenario import load_scenario

    out = Path(args.out)
    refuse_overwrite(out, args.force, "--out")
    scenario = load_scenario(args.scenario)
    siteset = point_sites(scenario)
    if siteset is None:
        raise InputError("sites", "the distances command needs a site file in the scenario")
    for note in [*scenario.warnings, *siteset.notes]:
        print(f"warning: {note}", file=sys.stderr)
    cols = [*siteset.input_columns, *DISTANCE_COLUMNS, "vs30"]
    with atomic_path(out) as tmp:
        siteset.gdf[cols].to_csv(tmp, index=False, float_format="%.4f")
    print(f"wrote {len(siteset)} sites to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gm_engine",
                                     description="GroundShake earthquake shaking scenarios")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"GroundShake {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_distances(sub)
    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


_EXTRA_COMMANDS: list = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # scenario warnings print below
        try:
            return int(args.func(args) or 0)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except (Cancelled, KeyboardInterrupt):
            print("cancelled: nothing was written", file=sys.stderr)
            return 130
