"""The scenario: one versioned JSON document that fully describes a run.

Everything a run needs (rupture, magnitude, sites, grid, Vs30, IMs, engine,
seed) is here, so a run is reproducible from its scenario file alone and the
CLI, the plugin and Dask workers all read the same thing. Validation happens
once, at load, and every problem is reported as an ``InputError`` naming the
field and the accepted range.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .scaling import LAWS, magnitude_area_mismatch, magnitude_from_area, mechanism_from_rake

SCHEMA_VERSION = 1
ENGINES = ("cgm", "stochastic", "gmpe")
DEVICES = ("auto", "cpu", "cuda", "mps")
MAGNITUDE_RANGE = (3.0, 9.5)
MAX_REALIZATIONS = 10_000
DEFAULT_IMS = ("PGA", "PGV", "SA(0.3)", "SA(1.0)", "SA(3.0)")
# Vs30 range in which NGA-West2 models are defined (Boore et al. 2014, Sec. 2).
VS30_RANGE = (150.0, 2000.0)


class ScenarioWarning(UserWarning):
    """Something legal but suspicious (default Vs30, M vs area, excluded sites)."""


@dataclass
class RuptureSpec:
    trace: list[list[float]]
    crs: str
    dip: float
    ztor: float
    zbot: float
    rake: float
    dip_direction: float | None = None
    hypocentre: dict[str, float] | None = None

    @property
    def mechanism(self) -> str:
        return mechanism_from_rake(self.rake)


@dataclass
class SitesSpec:
    path: str
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    vs30_field: str | None = None
    layer: str | None = None


@dataclass
class GridSpec:
    extent: tuple[float, float, float, float]
    crs: str
    spacing: float

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of cells whose centres cover the extent."""
        xmin, ymin, xmax, ymax = self.extent
        cols = max(1, math.ceil((xmax - xmin) / self.spacing - 1e-9))
        rows = max(1, math.ceil((ymax - ymin) / self.spacing - 1e-9))
        return rows, cols


@dataclass
class Vs30Spec:
    default: float | None = 760.0
    raster: str | None = None


@dataclass
class Scenario:
    rupture: RuptureSpec
    magnitude: float
    sites: SitesSpec | None = None
    grid: GridSpec | None = None
    vs30: Vs30Spec = field(default_factory=Vs30Spec)
    name: str = "scenario"
    magnitude_scaling: str = "WC94"
    magnitude_from_scaling: bool = False
    max_distance_km: float = 300.0
    intensity_measures: list[str] = field(default_factory=lambda: list(DEFAULT_IMS))
    realizations: int = 10
    seed: int = 42
    engine: str = "cgm"
    device: str = "auto"
    #: model card of engine cgm (a path, relative to the scenario file); None = bundled model
    model_card: str | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    warnings: list[str] = field(default_factory=list)

    # -- I/O ---------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], base_dir: str | Path | None = None) -> Scenario:
        """Validate a scenario document; raises InputError on the first bad field."""
        return _parse(data, Path(base_dir) if base_dir is not None else Path.cwd())

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (magnitude null again if it came from the scaling law)."""
        r = self.rupture
        out: dict[str, Any] = {
            "groundshake_scenario": SCHEMA_VERSION,
            "name": self.name,
            "rupture": {"trace": [list(map(float, p)) for p in r.trace], "crs": r.crs,
                        "dip": r.dip, "dip_direction": r.dip_direction, "ztor": r.ztor,
                        "zbot": r.zbot, "rake": r.rake, "hypocentre": r.hypocentre},
            "magnitude": None if self.magnitude_from_scaling else self.magnitude,
            "magnitude_scaling": self.magnitude_scaling,
            "sites": None if self.sites is None else dict(vars(self.sites)),
            "grid": None if self.grid is None else {
                "extent": list(self.grid.extent), "crs": self.grid.crs,
                "spacing": self.grid.spacing},
            "vs30": {"default": self.vs30.default, "raster": self.vs30.raster},
            "max_distance_km": self.max_distance_km,
            "intensity_measures": list(self.intensity_measures),
            "realizations": self.realizations,
            "seed": self.seed,
            "engine": self.engine,
            "device": self.device,
        }
        if self.model_card is not None:  # only when set: older scenarios keep their hash
            out["model_card"] = self.model_card
        return out

    def resolve(self, path: str) -> Path:
        """A path from the document, relative to the scenario file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    def content_hash(self) -> str:
        """sha256 of the canonical JSON: tags outputs with the scenario they came from."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def build_rupture(self):  # -> rupture.Rupture (import kept lazy: pyproj/shapely)
        """The finite rupture in its local projected CRS."""
        from .rupture import build_rupture

        r = self.rupture
        return build_rupture(r.trace, r.crs, dip=r.dip, ztor=r.ztor, zbot=r.zbot,
                             dip_direction=r.dip_direction, hypocentre=r.hypocentre)


def schema_path() -> Path:
    """The published JSON Schema of the scenario document."""
    return Path(__file__).with_name("scenario.schema.json")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario JSON file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("scenario", f"file not found: {p}") from None
    except json.JSONDecodeError as exc:
        raise InputError("scenario", f"{p} is not valid JSON: {exc}") from None
    return Scenario.from_dict(data, base_dir=p.resolve().parent)


def save_scenario(scenario: Scenario, path: str | Path, overwrite: bool = False) -> Path:
    """Write the scenario JSON; refuses to replace an existing file unless asked."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise InputError("scenario", f"{p} exists; pass overwrite=True to replace it")
    tmp = p.with_name(p.name + ".part")
    tmp.write_text(json.dumps(scenario.to_dict(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(p)
    return p


# -- validation helpers ------------------------------------------------------

def _number(data: dict[str, Any], key: str, fieldname: str, *, default: Any = ...,
            lo: float | None = None, hi: float | None = None,
            lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite float inside [lo, hi] (open ends where asked) or InputError."""
    if key not in data or data[key] is None:
        if default is ...:
            raise InputError(fieldname, "is required")
        return default
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(fieldname, f"must be a number, got {value!r}")
    value = float(value)
    lo_txt = "(" if lo_open else "["
    hi_txt = ")" if hi_open else "]"
    lo_s = "-inf" if lo is None else f"{lo:g}"
    hi_s = "inf" if hi is None else f"{hi:g}"
    rng = f"{lo_txt}{lo_s}, {hi_s}{hi_txt}"
    bad = not math.isfinite(value)
    if lo is not None:
        bad |= value <= lo if lo_open else value < lo
    if hi is not None:
        bad |= value >= hi if hi_open else value > hi
    if bad:
        raise InputError(fieldname, f"{value:g} is outside the accepted range {rng}")
    return value


def _integer(data: dict[str, Any], key: str, fieldname: str, default: int, lo: int, hi: int) -> int:
    value = data.get(key, default)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InputError(fieldname, f"must be an integer, got {value!r}")
    if not lo <= value <= hi:
        raise InputError(fieldname, f"{value} is outside the accepted range [{lo}, {hi}]")
    return value


def _crs(value: Any, fieldname: str) -> str:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if not isinstance(value, str) or not value.strip():
        raise InputError(fieldname, f"must be a CRS string such as 'EPSG:4326', got {value!r}")
    try:
        CRS.from_user_input(value)
    except CRSError:
        raise InputError(fieldname, f"unknown CRS {value!r}") from None
    return value


def _choice(value: Any, fieldname: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InputError(fieldname, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _parse_rupture(d: Any) -> RuptureSpec:
    if not isinstance(d, dict):
        raise InputError("rupture", "is required: an object with trace, crs, dip, ztor, zbot, rake")
    trace = d.get("trace")
    if not isinstance(trace, list) or len(trace) < 2:
        raise InputError("rupture.trace", "needs at least 2 [x, y] points")
    pts: list[list[float]] = []
    for i, p in enumerate(trace):
        if (not isinstance(p, (list, tuple)) or len(p) < 2
                or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in p[:2])
                or not all(math.isfinite(v) for v in p[:2])):
            raise InputError("rupture.trace", f"point {i} must be two finite numbers, got {p!r}")
        pts.append([float(p[0]), float(p[1])])
    crs = _crs(d.get("crs", "EPSG:4326"), "rupture.crs")
    dip = _number(d, "dip", "rupture.dip", lo=0.0, hi=90.0, lo_open=True)
    ztor = _number(d, "ztor", "rupture.ztor", default=0.0, lo=0.0, hi=50.0)
    if d.get("zbot") is None and d.get("width") is not None:
        width = _number(d, "width", "rupture.width", lo=0.0, hi=500.0, lo_open=True)
        zbot = ztor + width * math.sin(math.radians(dip))
    else:
        zbot = _number(d, "zbot", "rupture.zbot", lo=0.0, hi=100.0)
    if zbot <= ztor:
        raise InputError("rupture.zbot", f"bottom depth {zbot:g} km must be greater than "
                                         f"the top depth ztor {ztor:g} km")
    rake = _number(d, "rake", "rupture.rake", default=0.0, lo=-180.0, hi=180.0)
    dip_dir = d.get("dip_direction")
    if dip_dir is not None:
        dip_dir = _number(d, "dip_direction", "rupture.dip_direction", lo=0.0, hi=360.0) % 360.0
    hyp = d.get("hypocentre")
    if hyp is not None and not isinstance(hyp, dict):
        raise InputError("rupture.hypocentre", "must be null or an object")
    return RuptureSpec(pts, crs, dip, ztor, zbot, rake, dip_dir, hyp)


def _parse_sites(d: Any) -> SitesSpec | None:
    if d is None:
        return None
    if not isinstance(d, dict) or not isinstance(d.get("path"), str) or not d["path"]:
        raise InputError("sites.path", "must name a vector file or a CSV of points")
    spec = SitesSpec(path=d["path"], x=d.get("x"), y=d.get("y"), crs=d.get("crs"),
                     vs30_field=d.get("vs30_field"), layer=d.get("layer"))
    if spec.path.lower().endswith((".csv", ".txt")):
        if not spec.x or not spec.y:
            raise InputError("sites.x", "a CSV site file needs the x and y column names")
        spec.crs = _crs(spec.crs or "EPSG:4326", "sites.crs")
    elif spec.crs is not None:
        _crs(spec.crs, "sites.crs")
    return spec


def _parse_grid(d: Any) -> GridSpec | None:
    if d is None:
        return None
    if not isinstance(d, dict):
        raise InputError("grid", "must be null or an object with extent, crs, spacing")
    ext = d.get("extent")
    if (not isinstance(ext, (list, tuple)) or len(ext) != 4
            or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in ext)):
        raise InputError("grid.extent", "must be [xmin, ymin, xmax, ymax]")
    xmin, ymin, xmax, ymax = map(float, ext)
    if xmax <= xmin or ymax <= ymin:
        raise InputError("grid.extent", "needs xmax > xmin and ymax > ymin")
    crs = _crs(d.get("crs", "EPSG:4326"), "grid.crs")
    spacing = _number(d, "spacing", "grid.spacing", lo=0.0, lo_open=True)
    grid = GridSpec((xmin, ymin, xmax, ymax), crs, spacing)
    rows, cols = grid.shape
    if rows * cols > 50_000_000:
        raise InputError("grid.spacing", f"{rows} x {cols} cells is over the 5e7 cell limit; "
                                         "use a coarser spacing")
    return grid


def _parse(data: dict[str, Any], base_dir: Path) -> Scenario:
    if not isinstance(data, dict):
        raise InputError("scenario", "must be a JSON object")
    version = data.get("groundshake_scenario", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise InputError("groundshake_scenario",
                         f"version {version!r} is not supported (this engine reads {SCHEMA_VERSION})")
    rupture = _parse_rupture(data.get("rupture"))
    sites = _parse_sites(data.get("sites"))
    grid = _parse_grid(data.get("grid"))
    if sites is None and grid is None:
        raise InputError("sites", "give sites (a point file) or a grid, or both")

    vs30_d = data.get("vs30") or {}
    if not isinstance(vs30_d, dict):
        raise InputError("vs30", "must be an object with default and/or raster")
    vs30 = Vs30Spec(
        default=_number(vs30_d, "default", "vs30.default", default=None,
                        lo=VS30_RANGE[0], hi=VS30_RANGE[1]),
        raster=vs30_d.get("raster"),
    )
    if vs30.raster is not None and not isinstance(vs30.raster, str):
        raise InputError("vs30.raster", "must be a raster file path or null")

    law = _choice(data.get("magnitude_scaling", "WC94"), "magnitude_scaling", LAWS)
    engine = _choice(data.get("engine", "cgm"), "engine", ENGINES)
    device = _choice(data.get("device", "auto"), "device", DEVICES)
    model_card = data.get("model_card")
    if model_card is not None and (not isinstance(model_card, str) or not model_card.strip()):
        raise InputError("model_card", "must be the path of a model card JSON file, or null "
                                       "for the bundled model")
    ims = data.get("intensity_measures", list(DEFAULT_IMS))
    if not isinstance(ims, list) or not ims:
        raise InputError("intensity_measures", "must be a non-empty list such as ['PGA', 'SA(1.0)']")
    from .ims.names import parse_im

    canonical = []
    for name in ims:
        try:
            canonical.append(parse_im(str(name)).name)
        except InputError as exc:
            raise InputError("intensity_measures", exc.message) from None
    if len(set(canonical)) != len(canonical):
        raise InputError("intensity_measures", "lists the same intensity measure twice")

    scen = Scenario(
        rupture=rupture,
        magnitude=float("nan"),
        sites=sites,
        grid=grid,
        vs30=vs30,
        name=str(data.get("name") or "scenario"),
        magnitude_scaling=law,
        max_distance_km=_number(data, "max_distance_km", "max_distance_km", default=300.0,
                                lo=0.0, hi=2000.0, lo_open=True),
        intensity_measures=canonical,
        realizations=_integer(data, "realizations", "realizations", 10, 1, MAX_REALIZATIONS),
        seed=_integer(data, "seed", "seed", 42, 0, 2**63 - 1),
        engine=engine,
        device=device,
        model_card=model_card,
        base_dir=base_dir,
    )
    rup = scen.build_rupture()  # validates the geometry (zero-length, self-intersecting)
    if data.get("magnitude") is None:
        scen.magnitude = magnitude_from_area(rup.area_km2, rupture.rake, law)
        scen.magnitude_from_scaling = True
        scen.warnings.append(f"magnitude not given: M {scen.magnitude:.2f} from {law} "
                             f"for a {rup.area_km2:.0f} km^2 rupture")
    else:
        scen.magnitude = _number(data, "magnitude", "magnitude",
                                 lo=MAGNITUDE_RANGE[0], hi=MAGNITUDE_RANGE[1])
        msg = magnitude_area_mismatch(scen.magnitude, rup.area_km2, rupture.rake, law)
        if msg:
            scen.warnings.append(msg)
    if not MAGNITUDE_RANGE[0] <= scen.magnitude <= MAGNITUDE_RANGE[1]:
        raise InputError("magnitude", f"{scen.magnitude:.2f} from the scaling law is outside "
                                      f"[{MAGNITUDE_RANGE[0]}, {MAGNITUDE_RANGE[1]}]")
    if vs30.default is None and vs30.raster is None and (sites is None or not sites.vs30_field):
        raise InputError("vs30", "no Vs30 source: give sites.vs30_field, vs30.raster or vs30.default")
    if grid is not None and vs30.default is None and vs30.raster is None:
        raise InputError("vs30.default", "grid cells have no Vs30 attribute: give vs30.default "
                                         "or vs30.raster for the grid")
    for w in scen.warnings:
        warnings.warn(w, ScenarioWarning, stacklevel=3)
    return scen


def scenario_copy(scenario: Scenario, **changes: Any) -> Scenario:
    """A validated copy with top-level fields changed (CLI overrides)."""
    data = copy.deepcopy(scenario.to_dict())
    data.update(changes)
    return Scenario.from_dict(data, scenario.base_dir)
