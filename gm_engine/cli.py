"""Command-line interface: ``python -m gm_engine <command> ...``.

Each command is a thin shell over an engine function; user errors print one
line naming the field to fix and exit with status 2.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import Cancelled, InputError
from .heap import retain_freed_memory


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
        siteset.table[cols].to_csv(tmp, index=False, float_format="%.4f")
    print(f"wrote {len(siteset)} sites to {out}")
    return 0


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a scenario: per-site IMs, GeoTIFFs, run.json")
    p.add_argument("--scenario", required=True, help="scenario JSON file")
    p.add_argument("--out", required=True, help="output folder (must be new or empty)")
    p.add_argument("--engine", choices=("cgm", "stochastic", "gmpe"),
                   help="override the scenario's engine")
    p.add_argument("--realizations", type=int, help="override the number of realizations")
    p.add_argument("--seed", type=int, help="override the seed")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                   help="override the device")
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, metavar="N",
                   help="run as Dask tasks on a local cluster of N worker processes "
                        "(0: the same chunked tasks, in this process)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="run as Dask tasks on an existing cluster, e.g. tcp://host:8786")
    p.add_argument("--chunk-size", type=int, default=None,
                   help="sites per Dask task (default: per engine, so a task lasts seconds)")
    p.set_defaults(func=_cmd_run)


class _LogLines:
    """Progress as a plain line per tenth of the work, for a stderr that is not a terminal.

    Why: tqdm redraws with carriage returns, which a batch job's or a cluster's
    log keeps as one ever longer line (hundreds of redraws for the example).
    """

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.shown = -1

    def __call__(self, frac: float, text: str) -> None:
        tenth = int(min(max(frac, 0.0), 1.0) * 10)
        if tenth > self.shown:
            self.shown = tenth
            print(f"[{time.monotonic() - self.start:7.1f} s] {10 * tenth:3d} % {text}",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


def _bar(quiet: bool, initial: float = 0.0) -> Any:
    """A tqdm bar on a terminal, :class:`_LogLines` elsewhere, None when ``quiet``."""
    if quiet:
        return None
    if not sys.stderr.isatty():
        return _LogLines()
    from tqdm import tqdm

    return tqdm(total=1000, initial=int(initial * 1000), unit="", file=sys.stderr,
                bar_format="{l_bar}{bar}| {elapsed}<{remaining}")


def _advance(bar: Any, frac: float, text: str, width: int) -> None:
    """Move ``bar`` (from :func:`_bar`) to ``frac``, described by ``text`` cut to ``width``."""
    if isinstance(bar, _LogLines):
        bar(frac, text)
    elif bar is not None:
        bar.set_description_str(text[:width].ljust(width))
        bar.update(int(frac * 1000) - bar.n)


class _ProgressBar:
    """Progress of one run, driven by the engine's (fraction, stage) callback."""

    def __init__(self, quiet: bool) -> None:
        self.bar = _bar(quiet)

    def __call__(self, frac: float, text: str) -> None:
        _advance(self.bar, frac, text, 40)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_scenario
    from .scenario import load_scenario, scenario_copy

    scenario = load_scenario(args.scenario)
    changes = {k: getattr(args, k) for k in ("engine", "realizations", "seed", "device")
               if getattr(args, k) is not None}
    if changes:
        scenario = scenario_copy(scenario, **changes)
    bar = _ProgressBar(args.quiet)
    try:
        if args.workers is not None or args.scheduler:
            from .distributed import run_scenario_distributed

            result = run_scenario_distributed(scenario, args.out, progress=bar,
                                              overwrite=args.force, workers=args.workers,
                                              scheduler=args.scheduler,
                                              chunk_size=args.chunk_size)
        else:
            result = run_scenario(scenario, args.out, progress=bar, overwrite=args.force)
    finally:
        bar.close()
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {result.out_dir} ({len(result.rasters)} rasters"
          f"{', sites.csv + sites.gpkg' if result.sites_csv else ''}, run.json)")
    return 0


def _add_map(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("map", help="PNG map of a finished run")
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument("--im", default="PGA", help="intensity measure, e.g. PGA or SA(1.0)")
    p.add_argument("--stat", default="median", choices=("median", "p16", "p84"))
    p.add_argument("--out", required=True, help="PNG file")
    p.add_argument("--force", action="store_true", help="replace an existing PNG")
    p.set_defaults(func=_cmd_map)


def _cmd_map(args: argparse.Namespace) -> int:
    from .io import refuse_overwrite
    from .mapping import plot_run_map

    refuse_overwrite(Path(args.out), args.force, "--out")
    print(f"wrote {plot_run_map(args.run, args.out, args.im, args.stat)}")
    return 0


def _add_corpus(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="simulate a training corpus (HDF5) with the stochastic engine")
    p.add_argument("--n", type=int, required=True, help="number of records")
    p.add_argument("--out", required=True, help="HDF5 file (refuses to overwrite without --force)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--force", action="store_true")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_corpus)


def _cmd_corpus(args: argparse.Namespace) -> int:
    from .corpus import write_corpus
    from .io import refuse_overwrite

    refuse_overwrite(Path(args.out), args.force, "--out")
    bar = _ProgressBar(args.quiet)
    try:
        out = write_corpus(args.out, args.n, args.seed, device=args.device, progress=bar)
    finally:
        bar.close()
    print(f"wrote {args.n} records to {out}")
    return 0


def _add_export_oq(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-oq", help="ground-motion fields at the sites for OpenQuake risk")
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument("--out", required=True, help="folder for gmfs.csv, sites.csv, job_gmfs.ini")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(func=_cmd_export_oq)


def _cmd_export_oq(args: argparse.Namespace) -> int:
    from .export_oq import export_openquake

    for p in export_openquake(args.run, args.out, args.force):
        print(f"wrote {p}")
    return 0


def _add_waveforms(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("waveforms", help="export chosen sites' waveforms of a run "
                                         "(MiniSEED + JSON sidecar, and CSV)")
    p.add_argument("--run", required=True, help="run folder (engine cgm or stochastic)")
    p.add_argument("--sites", required=True,
                   help="comma-separated site indices (row numbers of sites.csv), e.g. 3,17")
    p.add_argument("--realizations", default=None,
                   help="comma-separated realization numbers (default: all)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--format", default="both", choices=("mseed", "csv", "both"))
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(func=_cmd_waveforms)


def _index_list(text: str, field: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(field, f"expected comma-separated integers, got {text!r}") from None
    if not values:
        raise InputError(field, "give at least one index")
    return values


def _cmd_waveforms(args: argparse.Namespace) -> int:
    from .export import write_waveforms_csv, write_waveforms_mseed
    from .io import refuse_overwrite
    from .runner import site_waveforms

    sites = _index_list(args.sites, "--sites")
    real = None if args.realizations is None else _index_list(args.realizations, "--realizations")
    out = Path(args.out)
    planned = []
    for i in sites:  # check every destination before writing anything
        stem = out / f"site_{i:05d}"
        if args.format in ("mseed", "both"):
            planned += [stem.with_suffix(".mseed"), Path(f"{stem}.mseed.json")]
        if args.format in ("csv", "both"):
            planned.append(stem.with_suffix(".csv"))
    for p in planned:
        refuse_overwrite(p, args.force, "--out")
    out.mkdir(parents=True, exist_ok=True)
    for i in sites:
        sw = site_waveforms(args.run, i, real)
        sw.run_dir = Path(args.run)
        stem = out / f"site_{i:05d}"
        if args.format in ("mseed", "both"):
            print(f"wrote {write_waveforms_mseed(stem.with_suffix('.mseed'), sw, args.force)}")
        if args.format in ("csv", "both"):
            print(f"wrote {write_waveforms_csv(stem.with_suffix('.csv'), sw, args.force)}")
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a generative model on a corpus or recorded data")
    p.add_argument("--corpus", required=True,
                   help="HDF5 corpus (python -m gm_engine corpus) or flatfile CSV of records")
    p.add_argument("--out", required=True, help="folder for weights, model card, checkpoints, log")
    p.add_argument("--epochs", type=int, default=200, help="total epochs (a resumed run continues)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, mps")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--patience", type=int, default=15, help="early stop after N epochs without gain")
    p.add_argument("--kl-warmup", type=int, default=20, help="epochs of linear KL annealing")
    p.add_argument("--lr", type=float, default=7e-4)
    p.add_argument("--lr-decay", choices=["none", "cosine"], default="none",
                   help="learning-rate schedule over the epochs (cosine: down to 5%% of --lr)")
    p.add_argument("--init-from", default=None, metavar="CARD",
                   help="start from this model card's weights (fine-tuning; same architecture, "
                        "or another --dec-hidden: then the decoder starts afresh)")
    p.add_argument("--dec-hidden", type=int, default=None, metavar="N",
                   help="width of the decoder's and conditional mean's hidden layers "
                        "(default 256, or the --init-from model's)")
    p.add_argument("--name", default=None, help="model name in the card")
    p.add_argument("--coordinates", action="store_true",
                   help="also condition on source and site coordinates (regional models)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)


def _add_recalibrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recalibrate",
                       help="recompute a model card's post-training sampler calibration "
                            "(static prior, synthesis offset, mean correction)")
    p.add_argument("--card", required=True, help="model_card.json to update (weights unchanged)")
    p.add_argument("--corpus", required=True, help="the corpus the model was trained on")
    p.add_argument("--records", type=int, default=20000, help="training records for the static prior "
                   "(the mean correction uses all of them)")
    p.set_defaults(func=_cmd_recalibrate)


def _cmd_recalibrate(args: argparse.Namespace) -> int:
    from .train.loop import recalibrate_card

    print(f"wrote {recalibrate_card(args.card, args.corpus, n_records=args.records)}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from .train import train_main

    card = train_main(args.corpus, args.out, epochs=args.epochs, batch_size=args.batch_size,
                      device=args.device, resume=args.resume, seed=args.seed,
                      progress=False if args.quiet else None, patience=args.patience,
                      kl_warmup_epochs=args.kl_warmup, lr=args.lr, name=args.name,
                      use_coordinates=args.coordinates, init_from=args.init_from,
                      lr_decay=args.lr_decay,
                      arch=None if args.dec_hidden is None else {"dec_hidden": args.dec_hidden})
    print(f"wrote {card}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gm_engine",
                                     description="GroundShake earthquake shaking scenarios")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"GroundShake {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_distances(sub)
    _add_run(sub)
    _add_map(sub)
    _add_corpus(sub)
    _add_export_oq(sub)
    _add_train(sub)
    _add_recalibrate(sub)
    _add_waveforms(sub)
    for register in _EXTRA_COMMANDS:
        register(sub)
    return parser


_EXTRA_COMMANDS: list = []


def _add_run_set(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run-set", help="one scenario per rupture of a table; resumes where it "
                                       "stopped")
    p.add_argument("--ruptures", required=True,
                   help="CSV with a WKT 'trace' column (lon/lat) or a line layer (GPKG, ...): "
                        "id, magnitude, dip, ztor_km, zbot_km or width_km, rake, rate")
    p.add_argument("--layer", help="layer of a multi-layer ruptures file")
    p.add_argument("--ruptures-crs", metavar="CRS",
                   help="CRS of the CSV traces (default EPSG:4326), or of a layer without one")
    p.add_argument("--scenario", metavar="TEMPLATE",
                   help="template scenario JSON: sites, grid, IMs, engine, realizations, seed")
    p.add_argument("--sites", help="site file replacing the template's (CSV or vector layer)")
    p.add_argument("--sites-x", default="lon", help="x column of a CSV site file")
    p.add_argument("--sites-y", default="lat", help="y column of a CSV site file")
    p.add_argument("--sites-crs", help="CRS of the site file (CSV default EPSG:4326)")
    p.add_argument("--vs30-field", help="Vs30 column of the site file (default: 'vs30' if any)")
    p.add_argument("--out", required=True, help="set folder: new, empty, or a set to resume")
    p.add_argument("--engine", choices=("cgm", "stochastic", "gmpe"),
                   help="override the template's engine")
    p.add_argument("--realizations", type=int, help="override the number of realizations")
    p.add_argument("--seed", type=int,
                   help="set seed (each scenario's seed derives from it and its id)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                   help="override the device")
    p.add_argument("--force", action="store_true",
                   help="rerun finished scenarios whose inputs changed; allow a non-empty folder")
    p.add_argument("--fail-fast", action="store_true",
                   help="stop at the first failing scenario (default: record it, go on)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--workers", type=int, metavar="N",
                   help="run each scenario as Dask tasks on a local cluster of N worker "
                        "processes, shared by the whole set (0: in this process)")
    p.add_argument("--scheduler", metavar="ADDR",
                   help="run as Dask tasks on an existing cluster, e.g. tcp://host:8786")
    p.add_argument("--chunk-size", type=int,
                   help="sites per Dask task (default: the Dask runner's)")
    p.set_defaults(func=_cmd_run_set)


class _SetBar:
    """Progress over a whole set; scenarios finished earlier count as done from the start.

    The description says which scenario runs ("id [k/n] stage"); the bar and
    its time estimate cover the set.
    """

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None

    def __call__(self, frac: float, text: str) -> None:
        if self.quiet:
            return
        if self.bar is None:  # created at the first report: skipped scenarios are "initial"
            self.bar = _bar(False, initial=frac)
        _advance(self.bar, frac, text, 48)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _cmd_run_set(args: argparse.Namespace) -> int:
    from .runset import run_scenario_set, sites_spec

    overrides = {k: getattr(args, k) for k in ("engine", "realizations", "seed", "device")
                 if getattr(args, k) is not None}
    sites = None
    if args.sites:
        sites = sites_spec(args.sites, args.sites_x, args.sites_y, args.sites_crs,
                           args.vs30_field)
    bar = _SetBar(args.quiet)
    try:
        result = run_scenario_set(
            args.ruptures, args.out, args.scenario, sites=sites, layer=args.layer,
            ruptures_crs=args.ruptures_crs, overrides=overrides, force=args.force,
            progress=bar, keep_going=not args.fail_fast, workers=args.workers,
            scheduler=args.scheduler, chunk_size=args.chunk_size)
    except (Cancelled, KeyboardInterrupt):
        bar.close()  # before the message; close() again in finally is a no-op
        print(f"cancelled: finished scenarios are kept in {args.out}; run the same command "
              "again to resume", file=sys.stderr)
        return 130
    finally:
        bar.close()
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for sid, err in result.failed.items():
        print(f"failed: {sid}: {err}", file=sys.stderr)
    print(f"{len(result.ran)} scenarios run, {len(result.skipped)} already finished, "
          f"{len(result.failed)} failed; wrote {result.summary_csv}")
    return 1 if result.failed else 0


_EXTRA_COMMANDS.append(_add_run_set)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    retain_freed_memory()  # this process is ours (gm_engine.heap)
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
