"""Scenario sets: many ruptures, one scenario each, resumable after an interruption.

A rupture table (CSV with a WKT ``trace`` column, or any OGR line layer such
as a GeoPackage) gives one rupture per row; a template scenario gives
everything else (sites, grid, IMs, engine, realizations, seed). Each row runs
as an ordinary scenario into ``<out>/scenarios/<id>/`` with
:func:`gm_engine.runner.run_scenario` (or the Dask runner), which writes into
a temporary folder renamed into place at the end: a scenario folder holding a
``run.json`` is finished, anything else is not. Rerunning the same command
therefore skips finished scenarios and redoes only the rest, and a scenario
interrupted half-way leaves nothing behind.

Seeds are keyed on the scenario id, not on the row order (:func:`scenario_seed`),
so resuming, reordering or extending the table gives the same numbers for
every id. A finished scenario whose inputs have changed since (its
``scenario_hash`` in run.json differs) is refused unless ``force``: mixing
results of two different tables in one summary would go unnoticed otherwise.

Layout of ``<out>``::

    runset.json        inputs of the set (ruptures file hash, template, seed rule, versions)
    summary.csv/.gpkg  one row per rupture: status and per-IM mean/max of the site medians
    scenarios/<id>/    an ordinary run folder (sites.csv, GeoTIFFs, run.json, ...)
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import re
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .errors import Cancelled, InputError
from .io import atomic_path
from .runner import im_file_stem, package_versions, run_scenario
from .scenario import Scenario

ProgressFn = Callable[[float, str], None]
CancelFn = Callable[[], bool]

RUNSET_FORMAT = 1
SCENARIOS_DIR = "scenarios"
RUNSET_JSON = "runset.json"
SUMMARY_CSV = "summary.csv"
SUMMARY_GPKG = "summary.gpkg"
LOCK_FILE = ".runset.lock"
#: Column -> scenario field. Names are matched case-insensitively; aliases in ALIASES.
RUPTURE_COLUMNS = {"magnitude": "magnitude", "dip": "rupture.dip", "ztor_km": "rupture.ztor",
                   "zbot_km": "rupture.zbot", "width_km": "rupture.width",
                   "rake": "rupture.rake", "dip_direction": "rupture.dip_direction"}
ALIASES = {"ztor": "ztor_km", "zbot": "zbot_km", "width": "width_km", "wkt": "trace",
           "mag": "magnitude"}
OTHER_COLUMNS = ("id", "name", "rate", "trace")
# Safe as a folder name on Linux, macOS and Windows: no separators, no leading
# dot or dash, no trailing dot, short; Windows device names are refused below.
_ID_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9_-])?$")
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                     *(f"LPT{i}" for i in range(1, 10))}
SEED_RULE = ("seed of scenario <id> = first 8 bytes of sha256('groundshake-runset/<set seed>/"
             "<id>') as a big-endian integer, shifted right by 11 bits (53 bits)")


def scenario_seed(set_seed: int, scenario_id: str) -> int:
    """The seed of one scenario of a set: keyed on its id, so row order never matters.

    53 bits, so the seed survives any tool that reads JSON numbers as doubles.
    """
    digest = hashlib.sha256(f"groundshake-runset/{int(set_seed)}/{scenario_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 11


@dataclass
class SetMember:
    """One row of the rupture table, validated into a scenario."""

    row: int  # 1-based data row (header not counted)
    id: str
    scenario: Scenario
    rate: float
    trace_lonlat: list[list[float]]


@dataclass
class RunSetResult:
    out_dir: Path
    summary_csv: Path
    summary_gpkg: Path
    runset_json: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- reading

def _row_error(row: int, sid: str | None, column: str, message: str) -> InputError:
    who = f" (id {sid!r})" if sid is not None else ""
    return InputError(f"ruptures[row {row}].{column}", f"{message}{who}")


def _missing(value: Any) -> bool:
    """An empty cell: "", None, NaN or pandas' NA (OGR nulls arrive as any of these)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def _as_float(value: Any, row: int, sid: str | None, column: str) -> float:
    if isinstance(value, (bool, np.bool_)):
        raise _row_error(row, sid, column, f"must be a number, got {value!r}")
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise _row_error(row, sid, column, f"must be a number, got {value!r}") from None


def _id_text(value: Any) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _line_coords(geom, row: int, column: str) -> list[list[float]]:
    """[[x, y], ...] of a LineString (or a one-part MultiLineString)."""
    if geom is None or geom.is_empty:
        raise _row_error(row, None, column, "has no geometry")
    if geom.geom_type == "MultiLineString":
        parts = list(geom.geoms)
        if len(parts) != 1:
            raise _row_error(row, None, column, f"is a MultiLineString of {len(parts)} parts; "
                                                "give one LineString per rupture")
        geom = parts[0]
    if geom.geom_type != "LineString":
        raise _row_error(row, None, column, f"must be a LineString, got {geom.geom_type}")
    return [[float(c[0]), float(c[1])] for c in geom.coords]


def _to_lonlat(traces: list[list[list[float]]], crs) -> list[list[list[float]]]:
    from pyproj import CRS, Transformer

    src = CRS.from_user_input(crs)
    if src == CRS.from_epsg(4326):
        return traces
    t = Transformer.from_crs(src, "EPSG:4326", always_xy=True)
    out = []
    for tr in traces:
        x, y = t.transform([p[0] for p in tr], [p[1] for p in tr])
        out.append([[float(a), float(b)] for a, b in zip(x, y)])
    return out


def read_rupture_table(path: str | Path, layer: str | None = None,
                       crs: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a rupture table as dicts (lower-case column names, ``trace`` in lon/lat).

    CSV: a WKT ``trace`` (or ``wkt``) column in ``crs`` (default EPSG:4326).
    Anything else is read with geopandas (GeoPackage, GeoJSON, shapefile...) and
    reprojected to EPSG:4326; ``crs`` is used only when the layer has none.
    Returns (rows, ignored column names).
    """
    import pandas as pd

    p = Path(path).expanduser()
    if not p.exists():
        raise InputError("ruptures", f"file not found: {p}")
    if p.suffix.lower() in (".csv", ".txt"):
        try:  # all text: ids stay as written ("007"), empty cells stay empty
            df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
        except Exception as exc:  # pandas raises several parser error classes
            raise InputError("ruptures", f"cannot read {p.name} as CSV: {exc}") from None
        geoms = None
        src_crs = crs or "EPSG:4326"
    else:
        import geopandas as gpd

        try:
            gdf = gpd.read_file(p, layer=layer) if layer else gpd.read_file(p)
        except Exception as exc:  # GDAL/OGR errors come in many classes
            raise InputError("ruptures", f"cannot read {p.name}: {exc}") from None
        if gdf.crs is None and crs is None:
            raise InputError("ruptures", f"{p.name} has no CRS; give the CRS of its traces")
        src_crs = gdf.crs if gdf.crs is not None else crs
        geoms = list(gdf.geometry)
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    names: dict[str, str] = {}
    for c in df.columns:
        key = str(c).strip().lower()
        key = ALIASES.get(key, key)
        if key in names:
            raise InputError(f"ruptures.{key}", f"{p.name} has two columns for {key!r}: "
                                                f"{names[key]!r} and {c!r}")
        names[key] = str(c)
    if geoms is None and "trace" not in names:
        raise InputError("ruptures.trace", f"{p.name} needs a 'trace' column of WKT "
                                           "LineStrings (lon/lat)")
    if len(df) == 0:
        raise InputError("ruptures", f"{p.name} has no rows")
    known = {*RUPTURE_COLUMNS, *OTHER_COLUMNS}
    ignored = [names[k] for k in names if k not in known]
    rows: list[dict[str, Any]] = []
    traces: list[list[list[float]]] = []
    for i, rec in enumerate(df.to_dict("records")):
        row = {k: rec[c] for k, c in names.items() if k != "trace"}
        n = i + 1
        if geoms is None:
            from shapely import wkt
            from shapely.errors import ShapelyError

            text = rec[names["trace"]]
            if _missing(text):
                raise _row_error(n, None, "trace", "is empty")
            try:
                g = wkt.loads(str(text))
            except (ShapelyError, ValueError, TypeError) as exc:  # shapely 1.8: WKTReadingError
                raise _row_error(n, None, "trace", f"is not WKT: {exc}") from None
            traces.append(_line_coords(g, n, "trace"))
        else:
            traces.append(_line_coords(geoms[i], n, "geometry"))
        rows.append(row)
    try:
        traces = _to_lonlat(traces, src_crs)
    except Exception as exc:  # pyproj CRSError / ProjError
        raise InputError("ruptures", f"cannot reproject the traces to EPSG:4326: {exc}") from None
    for row, tr in zip(rows, traces):
        row["trace"] = tr
    return rows, ignored


# --------------------------------------------------------------------------- validation

def _load_template(template: str | Path | dict | None) -> tuple[dict[str, Any], Path]:
    if template is None:
        return {}, Path.cwd()
    if isinstance(template, dict):
        return copy.deepcopy(template), Path.cwd()
    p = Path(template).expanduser()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("scenario", f"file not found: {p}") from None
    except json.JSONDecodeError as exc:
        raise InputError("scenario", f"{p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InputError("scenario", f"{p} must hold a JSON object")
    return data, p.resolve().parent


def sites_spec(path: str | Path, x: str = "lon", y: str = "lat", crs: str | None = None,
               vs30_field: str | None = None, layer: str | None = None) -> dict[str, Any]:
    """The scenario ``sites`` object for a site file; ``vs30`` is used when the file has it.

    The path is made absolute so the set runs the same from any folder.
    """
    p = Path(path).expanduser().resolve()
    if not p.exists():
        raise InputError("sites.path", f"file not found: {p}")
    is_csv = p.suffix.lower() in (".csv", ".txt")
    if vs30_field is None:
        try:
            if is_csv:
                import pandas as pd

                cols = list(pd.read_csv(p, nrows=0).columns)
            else:
                import geopandas as gpd

                cols = list(gpd.read_file(p, layer=layer, rows=1).columns) if layer \
                    else list(gpd.read_file(p, rows=1).columns)
        except Exception as exc:  # pandas / GDAL errors
            raise InputError("sites.path", f"cannot read {p.name}: {exc}") from None
        vs30_field = next((c for c in cols if str(c).lower() == "vs30"), None)
    return {"path": str(p), "x": x if is_csv else None, "y": y if is_csv else None,
            "crs": crs or ("EPSG:4326" if is_csv else None), "vs30_field": vs30_field,
            "layer": layer}


def _column_of(exc_field: str, given: dict[str, str]) -> str | None:
    """The table column an InputError from Scenario.from_dict is about (None: not a row's)."""
    if exc_field.startswith("rupture.trace"):
        return given["trace"]
    for col, fld in RUPTURE_COLUMNS.items():
        if exc_field == fld or exc_field.startswith(fld + "."):
            if col == "zbot_km" and "width_km" in given:
                return "width_km"
            return col
    if exc_field.startswith("rupture"):
        return given["trace"]
    return None


def build_members(rows: list[dict[str, Any]], template: dict[str, Any], base_dir: Path,
                  set_seed: int, overrides: dict[str, Any] | None = None,
                  geometry_column: str = "trace") -> list[SetMember]:
    """Validate every row into a scenario (all rows first; InputError names row and column)."""
    tmpl_rup = template.get("rupture") if isinstance(template.get("rupture"), dict) else {}
    # dip direction and hypocentre belong to the template's own trace, not to the rows'
    base_rup = {k: tmpl_rup[k] for k in ("dip", "ztor", "zbot", "width", "rake")
                if tmpl_rup.get(k) is not None}
    errors: list[InputError] = []
    members: list[SetMember] = []
    seen: dict[str, int] = {}
    for n, rec in enumerate(rows, start=1):
        try:
            members.append(_member(n, rec, template, base_rup, base_dir, set_seed,
                                   overrides or {}, geometry_column, seen))
        except InputError as exc:
            if not exc.field.startswith("ruptures"):
                raise  # the template's or the sites' fault: the same for every row
            errors.append(exc)
    if errors:
        more = "".join(f"; {e}" for e in errors[1:10])
        if len(errors) > 10:
            more += f"; and {len(errors) - 10} more"
        raise InputError(errors[0].field, f"{errors[0].message}{more}")
    return members


def _member(n: int, rec: dict[str, Any], template: dict[str, Any], base_rup: dict[str, Any],
            base_dir: Path, set_seed: int, overrides: dict[str, Any], geometry_column: str,
            seen: dict[str, int]) -> SetMember:
    sid = _id_text(rec["id"]) if not _missing(rec.get("id")) else str(n)
    if not _ID_RE.match(sid) or sid.split(".")[0].upper() in _WINDOWS_RESERVED:
        raise _row_error(n, None, "id", f"{sid!r} cannot be a folder name: use letters, digits, "
                                        "'.', '_' and '-' (not first or last), at most 100")
    if sid.lower() in seen:
        raise _row_error(n, sid, "id", f"is also the id of row {seen[sid.lower()]} "
                                       "(ids must be unique, ignoring case)")
    seen[sid.lower()] = n
    given = {"trace": geometry_column}
    vals: dict[str, float] = {}
    for col in (*RUPTURE_COLUMNS, "rate"):
        if not _missing(rec.get(col)):
            vals[col] = _as_float(rec[col], n, sid, col)
            given[col] = col
    if "zbot_km" in vals and "width_km" in vals:
        raise _row_error(n, sid, "width_km", "give zbot_km or width_km, not both")
    rate = vals.pop("rate", float("nan"))
    if not math.isnan(rate) and not (math.isfinite(rate) and rate >= 0):
        raise _row_error(n, sid, "rate", f"must be a finite annual rate >= 0, got {rate:g}")
    rup = dict(base_rup)
    if "width_km" in vals:
        rup.pop("zbot", None)
    if "zbot_km" in vals:
        rup.pop("width", None)
    for col, v in vals.items():
        key = RUPTURE_COLUMNS[col]
        if key.startswith("rupture."):
            rup[key.split(".", 1)[1]] = v
    rup.update(trace=rec["trace"], crs="EPSG:4326")
    d = copy.deepcopy(template)
    d["rupture"] = rup
    # Like its dip direction, the template's magnitude belongs to its own trace:
    # an empty cell means "from the scaling law", as a null magnitude does.
    d["magnitude"] = vals.get("magnitude")
    d["name"] = str(rec["name"]).strip() if not _missing(rec.get("name")) else sid
    d.update(overrides)
    d["seed"] = scenario_seed(set_seed, sid)
    try:
        with warnings.catch_warnings():  # scenario warnings go to run.json, not 100 times here
            warnings.simplefilter("ignore")
            scen = Scenario.from_dict(d, base_dir)
    except InputError as exc:
        col = _column_of(exc.field, given)
        if col is None:
            raise
        msg = exc.message
        if col == "magnitude" and col not in given:
            msg += "; the cell is empty, so it came from the magnitude-scaling law"
        elif col not in given:  # the value (or its absence) came from the template
            in_template = RUPTURE_COLUMNS[col].split(".", 1)[1] in base_rup
            msg += ("; the cell is empty and the template's value was used" if in_template
                    else "; the cell is empty (or the column missing) and the template has "
                         "no value")
        raise _row_error(n, sid, col, msg) from None
    return SetMember(n, sid, scen, rate, rec["trace"])


# --------------------------------------------------------------------------- the set folder

@contextlib.contextmanager
def _set_lock(out: Path) -> Iterator[None]:
    """One process at a time per set folder; released by the OS if the process dies."""
    fh = open(out / LOCK_FILE, "a+b")  # held for the whole block
    try:
        try:
            if os.name == "nt":
                import msvcrt

                fh.seek(0)  # both processes lock the same first byte
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError("out", f"another run-set is writing into {out}") from None
        yield
    finally:
        fh.close()


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: d}


def _differences(old: dict[str, Any], new: dict[str, Any], limit: int = 3) -> str:
    a, b = _flatten(old), _flatten(new)
    keys = [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    shown = [f"{k}: {_short(a.get(k))} -> {_short(b.get(k))}" for k in keys[:limit]]
    if len(keys) > limit:
        shown.append(f"{len(keys) - limit} more")
    return ", ".join(shown) or "execution mode"


def _short(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _finished_state(folder: Path, member: SetMember, distributed: bool) -> str | None:
    """None if ``folder`` is this member's finished run, else why it cannot be reused."""
    try:
        meta = json.loads((folder / "run.json").read_text())
    except (OSError, ValueError):
        return f"{folder} exists but holds no finished run (no readable run.json)"
    same_mode = ("distributed" in meta) == distributed
    if meta.get("scenario_hash") == member.scenario.content_hash() and same_mode:
        return None
    try:
        old = json.loads((folder / "scenario.json").read_text())
    except (OSError, ValueError):
        old = {}
    what = _differences(old, member.scenario.to_dict()) if meta.get(
        "scenario_hash") != member.scenario.content_hash() else (
        "it ran " + ("as Dask tasks" if not distributed else "in one process")
        + ", which draws other random fields")
    return f"scenario {member.id!r} (row {member.row}) finished with other inputs ({what})"


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _run_stats(folder: Path, ims: list[str]) -> dict[str, Any]:
    """Site count and, per IM, mean and max over sites (else grid cells) of the median."""
    import pandas as pd

    meta = json.loads((folder / "run.json").read_text())
    out: dict[str, Any] = {"magnitude": meta.get("magnitude"), "n_sites": meta.get("n_sites"),
                           "n_grid_cells": meta.get("n_grid_cells")}
    if (folder / "sites.csv").exists():
        df = pd.read_csv(folder / "sites.csv")
        for im in ims:
            v = df[f"{im}_median"].to_numpy(float)
            out[f"{im}_median_mean"] = float(np.nanmean(v)) if v.size else float("nan")
            out[f"{im}_median_max"] = float(np.nanmax(v)) if v.size else float("nan")
    else:  # grid only: the median rasters
        import rasterio

        for im in ims:
            with rasterio.open(folder / f"{im_file_stem(im)}_median.tif") as src:
                v = src.read(1, masked=True).compressed().astype(float)
            out[f"{im}_median_mean"] = float(v.mean()) if v.size else float("nan")
            out[f"{im}_median_max"] = float(v.max()) if v.size else float("nan")
    return out


def _write_summary(out: Path, members: list[SetMember], ims: list[str],
                   stats: dict[str, dict[str, Any]], status: dict[str, str],
                   errors: dict[str, str]) -> None:
    """summary.csv and summary.gpkg, each replaced whole (never half-written)."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString

    recs = []
    for m in members:
        s = stats.get(m.id, {})
        rec = {"id": m.id, "row": m.row, "name": m.scenario.name,
               "magnitude": s.get("magnitude", m.scenario.magnitude),
               "mechanism": m.scenario.rupture.mechanism, "rate": m.rate,
               "seed": m.scenario.seed, "status": status[m.id],
               "n_sites": s.get("n_sites"), "n_grid_cells": s.get("n_grid_cells")}
        for im in ims:
            for k in ("mean", "max"):
                rec[f"{im}_median_{k}"] = s.get(f"{im}_median_{k}", float("nan"))
        rec["error"] = errors.get(m.id, "")
        recs.append(rec)
    df = pd.DataFrame(recs)
    for c in ("n_sites", "n_grid_cells"):
        df[c] = df[c].astype("Int64")
    with atomic_path(out / SUMMARY_CSV) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    # GeoPackage field names cannot hold "(" portably: SA(0.3) becomes SA_0.3 there.
    gp = df.rename(columns={f"{im}_median_{k}": f"{im_file_stem(im)}_median_{k}"
                            for im in ims for k in ("mean", "max")})
    for c in ("n_sites", "n_grid_cells"):
        gp[c] = gp[c].astype(float)  # nullable ints: not every OGR stack writes pandas' NA
    gdf = gpd.GeoDataFrame(gp, geometry=[LineString(m.trace_lonlat) for m in members],
                           crs="EPSG:4326")
    with atomic_path(out / SUMMARY_GPKG) as tmp:
        tmp.unlink()  # the GPKG driver makes its own file
        gdf.to_file(tmp, layer="scenarios", driver="GPKG")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _remove_stale_parts(out: Path) -> None:
    """Temporary folders and files of a run that was killed (we hold the set's lock)."""
    ours = tuple(f".{name}." for name in (SUMMARY_CSV, SUMMARY_GPKG, RUNSET_JSON))
    for p in out.iterdir():
        if p.is_file() and p.name.startswith(ours) and ".part" in p.name:
            p.unlink(missing_ok=True)
    scen_dir = out / SCENARIOS_DIR
    if scen_dir.is_dir():  # atomic_dir's temporary folders: .<id>.XXXXXXXX.part
        for p in scen_dir.iterdir():
            if p.is_dir() and p.name.startswith(".") and p.name.endswith(".part"):
                shutil.rmtree(p, ignore_errors=True)


# --------------------------------------------------------------------------- the run

def run_scenario_set(ruptures: str | Path, out_dir: str | Path,
                     template: str | Path | dict | None = None, *,
                     sites: str | Path | dict | None = None, layer: str | None = None,
                     ruptures_crs: str | None = None, overrides: dict[str, Any] | None = None,
                     force: bool = False, progress: ProgressFn | None = None,
                     is_cancelled: CancelFn | None = None, keep_going: bool = True,
                     workers: int | None = None, scheduler: str | None = None, client=None,
                     chunk_size: int | None = None) -> RunSetResult:
    """Run one scenario per rupture of ``ruptures`` into ``out_dir``; resumes where it stopped.

    ``template``: a scenario JSON file (or dict) giving everything but the
    rupture; ``sites``: a site file (or a scenario ``sites`` object) replacing
    the template's; ``overrides``: top-level scenario fields (engine,
    realizations, device; ``seed`` is the set seed). ``force`` reruns finished
    scenarios whose inputs changed and allows a non-empty folder that is not a
    set. ``keep_going``: a failing scenario is recorded (status ``failed``) and
    the others still run; otherwise its error propagates. ``workers``,
    ``scheduler``, ``client``, ``chunk_size``: run every scenario as Dask tasks
    (see :func:`gm_engine.distributed.run_scenario_distributed`), on one cluster
    for the whole set. Every row is validated before anything runs.
    """
    t0 = time.perf_counter()
    out = Path(out_dir)
    overrides = dict(overrides or {})
    tmpl, base_dir = _load_template(template)
    set_seed = overrides.pop("seed", None)
    if set_seed is None:
        set_seed = tmpl.get("seed", 42)
    if isinstance(set_seed, bool) or not isinstance(set_seed, int) or set_seed < 0:
        raise InputError("seed", f"must be an integer >= 0, got {set_seed!r}")
    if sites is not None:
        tmpl["sites"] = dict(sites) if isinstance(sites, dict) else sites_spec(sites)
    if tmpl.get("sites") is None and tmpl.get("grid") is None:
        raise InputError("sites", "give a site file (--sites) or a template scenario with "
                                  "sites or a grid")
    rows, ignored = read_rupture_table(ruptures, layer, ruptures_crs)
    geometry_column = "trace" if Path(ruptures).suffix.lower() in (".csv", ".txt") else "geometry"
    members = build_members(rows, tmpl, base_dir, set_seed, overrides, geometry_column)
    first = members[0].scenario
    distributed = workers is not None or scheduler is not None or client is not None
    _check_inputs(first)

    # The folder: ours (a set), new/empty, or --force.
    if out.exists() and any(p.name != LOCK_FILE for p in out.iterdir()) \
            and not (out / RUNSET_JSON).exists() and not force:
        raise InputError("out", f"{out} is not empty and holds no scenario set; choose another "
                                "folder or pass --force")
    record = _runset_record(ruptures, layer, ruptures_crs, template, tmpl, overrides, set_seed,
                            members, distributed, workers, scheduler, chunk_size)
    run_one, close = _runner(distributed, workers, scheduler, client, chunk_size)
    try:
        result = RunSetResult(out, out / SUMMARY_CSV, out / SUMMARY_GPKG, out / RUNSET_JSON)
        if ignored:
            result.warnings.append(f"columns ignored in {Path(ruptures).name}: "
                                   f"{', '.join(ignored)}")
        _run_members(members, result, record, force, progress, is_cancelled, keep_going,
                     distributed, run_one)
    finally:
        close()
    if progress is not None:
        progress(1.0, f"{len(members)} scenarios in {time.perf_counter() - t0:.1f} s")
    return result


def _run_members(members: list[SetMember], result: RunSetResult, record: dict[str, Any],
                 force: bool, progress: ProgressFn | None, is_cancelled: CancelFn | None,
                 keep_going: bool, distributed: bool, run_one: Callable[..., None]) -> None:
    """The set folder: lock, resume state, runs in table order, summary after each."""
    first = members[0].scenario
    ims = list(first.intensity_measures)
    out = result.out_dir
    out.mkdir(parents=True, exist_ok=True)
    scaled = [m.id for m in members if m.scenario.magnitude_from_scaling]
    if scaled:
        result.warnings.append(f"{len(scaled)} ruptures have no magnitude; it comes from the "
                               f"{first.magnitude_scaling} scaling law (ids "
                               f"{', '.join(scaled[:5])}{', ...' if len(scaled) > 5 else ''})")
    with _set_lock(out):
        _remove_stale_parts(out)
        scen_dir = out / SCENARIOS_DIR
        status: dict[str, str] = {}
        stats: dict[str, dict[str, Any]] = {}
        errors: dict[str, str] = {}
        replace: set[str] = set()
        conflicts: list[tuple[SetMember, str]] = []
        for m in members:
            folder = scen_dir / m.id
            if not folder.exists() or not any(folder.iterdir()):
                status[m.id] = "pending"
                continue
            why = _finished_state(folder, m, distributed)
            if why is None:
                status[m.id] = "done"
                stats[m.id] = _run_stats(folder, ims)
            elif force:
                status[m.id] = "pending"
                replace.add(m.id)
            else:
                conflicts.append((m, why))
        if conflicts:
            more = f" (and {len(conflicts) - 3} more)" if len(conflicts) > 3 else ""
            raise InputError(f"ruptures[row {conflicts[0][0].row}]",
                             "; ".join(w for _, w in conflicts[:3]) + more
                             + ": keep the inputs they ran with, choose another --out, or pass "
                               "--force to rerun them")
        known = {m.id.lower() for m in members}
        if scen_dir.is_dir():
            extra = [p.name for p in scen_dir.iterdir()
                     if p.is_dir() and not p.name.startswith(".") and p.name.lower() not in known]
            if extra:
                result.warnings.append(f"{len(extra)} scenario folders are not rows of the "
                                       f"table and were left alone: {', '.join(sorted(extra)[:5])}")
        _write_json(out / RUNSET_JSON, record)
        summary = _SummaryWriter(lambda: _write_summary(out, members, ims, stats, status,
                                                        errors))
        summary.write()

        todo = [m for m in members if status[m.id] != "done"]
        result.skipped = [m.id for m in members if status[m.id] == "done"]
        n_total, n_done = len(members), len(result.skipped)
        try:
            for m in todo:
                if is_cancelled is not None and is_cancelled():
                    raise Cancelled("scenario set cancelled")
                k = n_done

                def report(frac: float, text: str, k: int = k, sid: str = m.id) -> None:
                    if progress is not None:
                        progress((k + min(max(frac, 0.0), 1.0)) / n_total,
                                 f"{sid} [{k + 1}/{n_total}] {text}")
                try:
                    run_one(m.scenario, scen_dir / m.id, report, is_cancelled, m.id in replace)
                except (Cancelled, KeyboardInterrupt):
                    raise
                except Exception as exc:
                    if not keep_going:
                        raise
                    status[m.id] = "failed"
                    errors[m.id] = f"{type(exc).__name__}: {exc}"
                    result.failed[m.id] = errors[m.id]
                else:
                    status[m.id] = "done"
                    errors.pop(m.id, None)
                    stats[m.id] = _run_stats(scen_dir / m.id, ims)
                    result.ran.append(m.id)
                n_done += 1
                summary.changed()
        finally:  # also on Ctrl-C, cancel or an error: the summary says what is finished
            summary.flush()


class _SummaryWriter:
    """Rewrites the summary after each scenario, but spends at most ~5 % of the time on it.

    A rewrite costs O(rows) (~50 ms for 100 rows, mostly the GeoPackage), so
    after every scenario it would be O(n^2) over a large set of fast
    scenarios; a rewrite is skipped while less than 20 times the last
    rewrite's duration has passed, and ``flush`` writes whatever is left.
    """

    def __init__(self, write: Callable[[], None]) -> None:
        self._write = write
        self.pending = False
        self.last_end = 0.0
        self.last_cost = 0.0

    def write(self) -> None:
        t = time.perf_counter()
        self._write()
        self.last_end = time.perf_counter()
        self.last_cost = self.last_end - t
        self.pending = False

    def changed(self) -> None:
        self.pending = True
        if time.perf_counter() - self.last_end >= 20 * self.last_cost:
            self.write()

    def flush(self) -> None:
        if self.pending:
            self.write()


def _check_inputs(first: Scenario) -> None:
    """What every scenario of the set shares, checked once before anything runs."""
    from .engines import engine_for
    from .sites import read_site_table

    engine_for(first).check_ims(list(first.intensity_measures))
    if first.sites is not None:
        table = read_site_table(first.sites, first.base_dir)
        f = first.sites.vs30_field
        if f and f not in table.columns:
            raise InputError("sites.vs30_field", f"column {f!r} not in {first.sites.path}")


def _runner(distributed: bool, workers: int | None, scheduler: str | None, client,
            chunk_size: int | None):
    """(run one scenario, close) for local or Dask execution; one cluster for the whole set."""
    if not distributed:
        def run_local(scen, folder, report, is_cancelled, overwrite):
            run_scenario(scen, folder, progress=report, is_cancelled=is_cancelled,
                         overwrite=overwrite)
        return run_local, lambda: None
    from .distributed import make_client, run_scenario_distributed

    if workers is not None and int(workers) < 0:
        raise InputError("workers", f"must be 0 (in this process) or more, got {workers}")
    if workers == 0 and client is None and not scheduler:
        dclient, owned = None, []
    else:
        dclient, owned = make_client(client, workers, scheduler, True)
    # None: the Dask runner's own default chunk size
    sized = {} if chunk_size is None else {"chunk_size": int(chunk_size)}

    def run_dask(scen, folder, report, is_cancelled, overwrite):
        run_scenario_distributed(scen, folder, progress=report, is_cancelled=is_cancelled,
                                 overwrite=overwrite, client=dclient,
                                 workers=0 if dclient is None else None, **sized)

    def close():
        for o in reversed(owned):
            o.close()
    return run_dask, close


def _runset_record(ruptures, layer, ruptures_crs, template, tmpl, overrides, set_seed,
                   members, distributed, workers, scheduler, chunk_size) -> dict[str, Any]:
    p = Path(ruptures).expanduser().resolve()
    return {
        "groundshake_runset": RUNSET_FORMAT,
        "groundshake": __version__,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ruptures": {"path": str(p), "sha256": _file_sha256(p), "layer": layer,
                     "crs": ruptures_crs, "rows": len(members)},
        "template": None if template is None or isinstance(template, dict)
        else str(Path(template).expanduser().resolve()),
        "template_scenario": tmpl,  # its rupture gives defaults for empty cells, not the trace
        "overrides": overrides,
        "seed": set_seed,
        "seed_rule": SEED_RULE,
        "execution": {"distributed": distributed, "workers": workers, "scheduler": scheduler,
                      "chunk_size": chunk_size},
        "scenarios": [m.id for m in members],
        "versions": package_versions(),
    }
