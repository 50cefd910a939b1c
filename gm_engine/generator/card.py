"""Model card: the JSON that says what a set of weights is and where it is valid.

The card is the single source for a model's conditions and their trained
ranges (the way pygmm declares ``NumericParameter`` next to each model), so the
feature builder, the validity mask the runner writes as
``outside_trained_range`` and the documentation all read the same numbers.
Weights are only accepted when their SHA-256 matches the card.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError

CARD_FORMAT = "groundshake-model-card"
CARD_VERSION = 1
MECHANISMS = ("SS", "NM", "RV")  # docs/CONTRACTS.md: int8 codes 0, 1, 2


@dataclass
class ConditionSpec:
    """One model input. Numeric ranges are in the column's own units (before
    ``transform``); features are the transformed value mapped so the trained
    range spans [-1, 1]."""

    name: str
    column: str
    kind: str = "numeric"  # "numeric" | "categorical"
    transform: str = "identity"  # "identity" | "log"
    units: str = ""
    min: float | None = None
    max: float | None = None
    categories: list[str] = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return len(MECHANISMS) if self.kind == "categorical" else 1


#: Conditions that transfer between regions (issue 4). ln Rrup and ln Vs30
#: follow the functional forms of the NGA-West2 models (e.g. Boore et al.
#: 2014, Eqs. 3 and 6), which are close to linear in the logarithms.
TRANSFERABLE_CONDITIONS: tuple[ConditionSpec, ...] = (
    ConditionSpec("magnitude", "magnitude", units="Mw"),
    ConditionSpec("ln_rrup", "rrup_km", transform="log", units="km"),
    ConditionSpec("ln_vs30", "vs30", transform="log", units="m/s"),
    ConditionSpec("ztor", "ztor_km", units="km"),
    ConditionSpec("mechanism", "mechanism", kind="categorical", categories=list(MECHANISMS)),
)
#: Optional inputs of region-specific models (CGM-GM's own conditioning uses
#: source and station coordinates, Ren et al. 2026).
COORDINATE_CONDITIONS: tuple[ConditionSpec, ...] = (
    ConditionSpec("src_lon", "src_lon", units="deg"),
    ConditionSpec("src_lat", "src_lat", units="deg"),
    ConditionSpec("site_lon", "site_lon", units="deg"),
    ConditionSpec("site_lat", "site_lat", units="deg"),
)


#: Noises a card's decoded envelopes may shape (ModelCard.synthesis).
SYNTHESIS_NOISES = ("gaussian", "pulse_train")


def mechanism_codes(values: Any) -> np.ndarray:
    """Mechanism column (``"SS"/"NM"/"RV"`` or int codes 0/1/2) -> int codes, -1 if unknown."""
    arr = np.asarray(values)
    out = np.full(arr.shape, -1, dtype=np.int64)
    if arr.dtype.kind in "iuf":
        ok = np.isfinite(arr.astype(float))
        codes = np.where(ok, arr.astype(float), -1).astype(np.int64)
        out = np.where((codes >= 0) & (codes < len(MECHANISMS)), codes, -1)
        return out
    # Each distinct value is read once: np.char.upper over every row took
    # 22 ms per 32,768 sites, twice per GPU batch (features, range check).
    codes, uniques = pd.factorize(arr.ravel(), use_na_sentinel=True)
    names = [str(u).upper() for u in uniques]
    table = np.array([MECHANISMS.index(v) if v in MECHANISMS else -1 for v in names] + [-1],
                     dtype=np.int64)
    return table[codes].reshape(arr.shape)  # a missing value's code -1 reads the last entry


def _column(df: Any, spec: ConditionSpec) -> np.ndarray:
    if spec.column not in df.columns:
        raise InputError(f"conditions.{spec.column}",
                         f"this model needs a '{spec.column}' column ({spec.name})")
    return np.asarray(df[spec.column])


def numeric_feature(spec: ConditionSpec, v: np.ndarray) -> np.ndarray:
    """A numeric condition's values in its feature coordinate: the trained range -> [-1, 1]."""
    lo, hi = _transform(spec, np.array([spec.min, spec.max]))
    half = max((hi - lo) / 2.0, 1e-6)
    return (_transform(spec, np.asarray(v)) - (lo + hi) / 2.0) / half


def _transform(spec: ConditionSpec, v: np.ndarray) -> np.ndarray:
    v = v.astype(np.float64)
    if spec.transform == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(v)
    return v


@dataclass
class ModelCard:
    """Parsed model card (see docs/generator.md for the JSON layout)."""

    name: str
    weights_file: str
    sha256: str
    architecture: dict[str, Any]
    stft: dict[str, Any]
    conditions: list[ConditionSpec]
    latent: dict[str, float]
    training: dict[str, Any] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)
    validation: dict[str, Any] = field(default_factory=dict)
    #: the decoder's Gaussian observation model: ``residual_std_log10`` (C x K)
    decoder: dict[str, Any] = field(default_factory=dict)
    #: the noise the decoded envelope shapes: ``{"noise": "gaussian"}`` (default) or
    #: ``{"noise": "pulse_train", "rate": "gm_engine.stochastic"}`` (the training
    #: simulator's Poisson pulse rate at the record's conditions; docs/generator.md)
    synthesis: dict[str, Any] = field(default_factory=lambda: {"noise": "gaussian"})
    #: conditions the training data do not depend on, drawn per site and
    #: realization from their training distribution instead of taken from the
    #: site: ``{name: {"distribution": "uniform", "low": a, "high": b,
    #: "at_most": column (optional), "why": text}}`` (docs/generator.md, "Ztor")
    marginalised: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    # -- validity -------------------------------------------------------
    def site_conditions(self) -> list[ConditionSpec]:
        """The conditions taken from the sites: all but the marginalised ones."""
        return [c for c in self.conditions if c.name not in self.marginalised]

    def in_range(self, conditions: Any) -> np.ndarray:
        """Bool per row: every site condition finite and inside its trained range
        (a marginalised condition's value is not used, so it is not checked)."""
        ok = np.ones(len(conditions), dtype=bool)
        for spec in self.site_conditions():
            v = _column(conditions, spec)
            if spec.kind == "categorical":
                codes = mechanism_codes(v)
                allowed = [MECHANISMS.index(c) for c in spec.categories]
                ok &= np.isin(codes, allowed)
            else:
                x = v.astype(np.float64)
                ok &= np.isfinite(x) & (x >= spec.min) & (x <= spec.max)
        return ok

    def describe_out_of_range(self, conditions: Any) -> list[str]:
        """Human-readable reasons, one per offending condition (for warnings)."""
        msgs = []
        for spec in self.site_conditions():
            v = _column(conditions, spec)
            if spec.kind == "categorical":
                bad = ~np.isin(mechanism_codes(v), [MECHANISMS.index(c) for c in spec.categories])
                rng = "/".join(spec.categories)
            else:
                x = v.astype(np.float64)
                bad = ~(np.isfinite(x) & (x >= spec.min) & (x <= spec.max))
                rng = f"[{spec.min:g}, {spec.max:g}] {spec.units}"
            if bad.any():
                msgs.append(f"{int(bad.sum())} site(s) with {spec.column} outside the trained range {rng}")
        return msgs

    # -- features -------------------------------------------------------
    @property
    def n_features(self) -> int:
        return sum(s.n_features for s in self.conditions)

    def features(self, conditions: Any, clamp: bool = True) -> np.ndarray:
        """Condition table -> float32 features ``(N, n_features)``.

        With ``clamp`` numeric values are clamped to the trained range, so the
        network is never evaluated outside it; the caller flags those sites
        with :meth:`in_range`. Unknown mechanisms raise.
        """
        cols = []
        for spec in self.conditions:
            v = _column(conditions, spec)
            if spec.kind == "categorical":
                codes = mechanism_codes(v)
                if (codes < 0).any():
                    raise InputError(f"conditions.{spec.column}",
                                     f"unknown mechanism; accepted: {', '.join(MECHANISMS)} or 0/1/2")
                cols.append(np.eye(len(MECHANISMS))[codes])
            else:
                x = v.astype(np.float64)
                if clamp:
                    x = np.clip(x, spec.min, spec.max)
                cols.append(numeric_feature(spec, x)[:, None])
        feats = np.concatenate(cols, axis=1).astype(np.float32)
        if not np.isfinite(feats).all():
            raise InputError("conditions", "non-finite condition values (NaN, or Rrup/Vs30 <= 0)")
        return feats

    def feature_columns(self) -> dict[str, tuple[ConditionSpec, int]]:
        """``{condition name: (spec, first column)}``: where :meth:`features` puts each
        condition (a categorical one takes ``spec.n_features`` columns from there)."""
        out, i = {}, 0
        for spec in self.conditions:
            out[spec.name] = (spec, i)
            i += spec.n_features
        return out

    def conditions_from_features(self, feats: np.ndarray) -> pd.DataFrame:
        """The condition table of features ``(N, n_features)``: :meth:`features` inverted
        (clamped values stay clamped)."""
        x = np.asarray(feats, dtype=np.float64)
        out: dict[str, Any] = {}
        for name, (spec, j) in self.feature_columns().items():
            if spec.kind == "categorical":
                out[spec.column] = np.asarray(MECHANISMS)[
                    x[:, j:j + spec.n_features].argmax(axis=1)]
            else:
                out[spec.column] = self.numeric_condition(x, name)
        return pd.DataFrame(out)

    def numeric_condition(self, feats: np.ndarray, name: str) -> np.ndarray:
        """One numeric condition's values ``(N,)`` from features ``(N, n_features)``
        (without building the whole table: the synthesis needs the magnitude per row block)."""
        spec, j = self.feature_columns()[name]
        lo, hi = _transform(spec, np.array([spec.min, spec.max]))
        t = np.asarray(feats[:, j], dtype=np.float64) * max((hi - lo) / 2.0, 1e-6) + (lo + hi) / 2.0
        return np.exp(t) if spec.transform == "log" else t

    # -- I/O ------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": CARD_FORMAT,
            "version": CARD_VERSION,
            "name": self.name,
            "weights": {"file": self.weights_file, "sha256": self.sha256},
            "architecture": self.architecture,
            "stft": self.stft,
            "conditions": [asdict(c) for c in self.conditions],
            "latent": self.latent,
            "training": self.training,
            "decoder": self.decoder,
            "synthesis": self.synthesis,
            **({"marginalised": self.marginalised} if self.marginalised else {}),
            "validation": self.validation,
            "references": self.references,
        }

    def sampler_sha256(self) -> str:
        """SHA-256 of everything a generated waveform depends on besides its draws.

        The weights' hash alone misses a recalibrated card (same weights, new
        latent mixing or decoder correction) or another synthesis noise: a run
        regenerated with it would show other waveforms than it measured.
        """
        d = self.to_dict()
        keep = {k: d[k] for k in ("architecture", "stft", "conditions", "latent", "decoder",
                                  "synthesis")}
        keep["weights_sha256"] = self.sha256
        if self.marginalised:  # absent from older cards: their hashes stay the same
            keep["marginalised"] = self.marginalised
        return hashlib.sha256(json.dumps(keep, sort_keys=True).encode("utf-8")).hexdigest()

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        self.path = path
        return path

    @property
    def weights_path(self) -> Path:
        base = self.path.parent if self.path is not None else Path(".")
        return base / self.weights_file


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_card(path: str | Path) -> ModelCard:
    """Parse and check a card; raises InputError naming the bad field."""
    path = Path(path)
    if not path.is_file():
        raise InputError("model_card", f"no model card at {path}")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError("model_card", f"{path} is not valid JSON: {exc}") from exc
    if d.get("format") != CARD_FORMAT or d.get("version") != CARD_VERSION:
        raise InputError("model_card.format",
                         f"expected format '{CARD_FORMAT}' version {CARD_VERSION}")
    try:
        conds = [ConditionSpec(**c) for c in d["conditions"]]
        card = ModelCard(name=d["name"], weights_file=d["weights"]["file"],
                         sha256=d["weights"]["sha256"], architecture=d["architecture"],
                         stft=d["stft"], conditions=conds, latent=d["latent"],
                         training=d.get("training", {}), references=d.get("references", []),
                         validation=d.get("validation", {}), decoder=d.get("decoder", {}),
                         synthesis=d.get("synthesis", {"noise": "gaussian"}),
                         marginalised=d.get("marginalised", {}), path=path)
    except (KeyError, TypeError) as exc:
        raise InputError("model_card", f"missing or malformed entry: {exc}") from exc
    if card.synthesis.get("noise") not in SYNTHESIS_NOISES:
        raise InputError("model_card.synthesis.noise",
                         f"{card.synthesis.get('noise')!r}; accepted: {', '.join(SYNTHESIS_NOISES)}")
    for c in card.conditions:
        if c.kind == "numeric" and (c.min is None or c.max is None or not c.min <= c.max):
            raise InputError(f"model_card.conditions.{c.name}", "needs a trained range min <= max")
    check_marginalised(card)
    return card


def check_marginalised(card: ModelCard) -> None:
    """InputError naming the entry unless every marginalised condition is a numeric
    condition of the card with a uniform distribution the sampler can draw."""
    numeric = {c.name: c for c in card.conditions if c.kind == "numeric"}
    columns = {c.column for c in numeric.values()}
    for name, m in card.marginalised.items():
        where = f"model_card.marginalised.{name}"
        if name not in numeric:
            raise InputError(where, f"not a numeric condition of this card ({', '.join(numeric)})")
        if not isinstance(m, dict) or m.get("distribution") != "uniform":
            raise InputError(where, "needs 'distribution': 'uniform' (the only one supported)")
        try:
            low, high = float(m["low"]), float(m["high"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(where, "needs numeric 'low' and 'high'") from exc
        if not (np.isfinite(low) and np.isfinite(high) and low <= high):
            raise InputError(where, f"needs finite low <= high, got {low}, {high}")
        if m.get("at_most") is not None and m["at_most"] not in columns:
            raise InputError(where, f"'at_most' must name a numeric condition's column "
                                    f"({', '.join(sorted(columns))}), got {m['at_most']!r}")


def verify_weights(card: ModelCard) -> Path:
    """Path of the card's weights after checking their SHA-256 against the card."""
    wpath = card.weights_path
    if not wpath.is_file():
        raise InputError("model_card.weights.file", f"weights file {wpath} not found")
    digest = sha256_file(wpath)
    if digest != card.sha256:
        raise InputError("model_card.weights.sha256",
                         f"{wpath.name} has sha256 {digest}, the card says {card.sha256}; "
                         "the file is corrupt or does not belong to this card")
    return wpath
