"""What the waveform viewer shows for one site, gathered from gm_engine.

No Qt here and no science either: the arrays come from the run
(``gm_engine.runner.site_waveforms``) and every derived curve (velocity,
RotD50 spectrum, Fourier amplitude spectrum) from ``gm_engine.ims``, so the
viewer, its tests and the click-to-plot benchmark plot exactly what the engine
computes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Periods (s) of the viewer's response spectra: 0.01-10 s, log-spaced, plus the
#: usual NGA-West2 anchor periods so a spectrum can be read against a table.
SPECTRUM_PERIODS = np.unique(np.concatenate([np.geomspace(0.01, 10.0, 25),
                                             [0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0]]))
#: Konno & Ohmachi (1998) bandwidth coefficient commonly used for display (b = 40).
KO_BANDWIDTH = 40.0
#: Display band (Hz) of the smoothed Fourier spectra, cut at 0.9 x Nyquist where lower.
FAS_BAND_HZ = (0.05, 50.0)
FAS_POINTS = 80  # ~27 per decade: finer than the b = 40 window (+-0.08 decade)
COMPONENTS = ("H1", "H2", "Z")


@dataclass
class ReferenceSpectrum:
    """A ground-motion model's median PSA (g) and log-standard deviation at a site."""

    periods: np.ndarray
    median: np.ndarray
    sigma: np.ndarray
    name: str = "NGA-West2"


@dataclass
class SiteData:
    """One site's waveforms and conditions, as given to ``WaveformViewer.show_waveforms``.

    ``acc`` is (R, 3, T) in g, components H1, H2, Z (docs/CONTRACTS.md).
    ``periods``/``rotd50`` may be given (for example read from the run) or are
    computed by gm_engine.ims on demand.
    """

    label: str
    dt: float
    acc: np.ndarray
    conditions: dict[str, Any] = field(default_factory=dict)
    periods: np.ndarray | None = None
    rotd50: np.ndarray | None = None
    gmpe: ReferenceSpectrum | None = None
    site_index: int | None = None
    run_dir: str | None = None

    def __post_init__(self) -> None:
        self.acc = np.asarray(self.acc)
        if self.acc.ndim == 2:
            self.acc = self.acc[np.newaxis]
        if self.acc.ndim != 3 or self.acc.shape[1] != 3:
            raise ValueError(f"acc must be (realizations, 3, samples), got {self.acc.shape}")
        if not self.dt > 0:
            raise ValueError(f"dt must be positive, got {self.dt}")

    @property
    def time(self) -> np.ndarray:
        return np.arange(self.acc.shape[-1]) * self.dt

    @property
    def realizations(self) -> int:
        return self.acc.shape[0]


@dataclass
class SiteCurves:
    """Everything derived from ``SiteData`` that the viewer draws.

    ``rotd50`` is None until ``spectra()`` has run: RotD50 of every
    realization is the slow part (oscillators oversampled at short periods),
    so the viewer draws the rest first and the spectra when they are ready.
    """

    time: np.ndarray
    vel: np.ndarray  # (R, 3, T) cm/s
    fas_freq: np.ndarray
    fas: np.ndarray  # (R, 3, F) g*s, Konno-Ohmachi smoothed
    periods: np.ndarray
    rotd50: np.ndarray | None = None  # (R, P) g


def derive_curves(data: SiteData) -> SiteCurves:
    """Velocity and smoothed FAS of every realization (fast), RotD50 if the data carry it."""
    from ...gm_engine import ims

    vel, _ = ims.velocity_displacement(data.acc, data.dt)
    freq, amp = ims.fourier_amplitude(data.acc, data.dt)
    centres = np.geomspace(FAS_BAND_HZ[0], min(FAS_BAND_HZ[1], 0.45 / data.dt), FAS_POINTS)
    fas = ims.konno_ohmachi_smooth(freq, amp, b=KO_BANDWIDTH, center_freqs=centres)
    if data.rotd50 is not None and data.periods is not None:
        return SiteCurves(data.time, vel, centres, fas, np.asarray(data.periods, float),
                          np.asarray(data.rotd50, float))
    return SiteCurves(data.time, vel, centres, fas, SPECTRUM_PERIODS)


def spectra(data: SiteData, periods: np.ndarray = SPECTRUM_PERIODS) -> np.ndarray:
    """RotD50 PSA (R, P) in g of every realization (gm_engine.ims.rotd, 5 % damping)."""
    from ...gm_engine import ims

    return ims.rotd(data.acc[:, 0], data.acc[:, 1], data.dt, periods, percentiles=(50,))[50]


def engine_without_waveforms(run_dir: str | Path) -> str | None:
    """The engine of a finished run that kept nothing to regenerate waveforms from, else None.

    Runs of the cgm and stochastic engines store their sites' random terms in
    ``site_terms.npz`` (what ``site_waveforms`` needs); gmpe runs have none.
    None too when the folder is no readable run: ``load_site`` says why.
    """
    import json

    run = Path(run_dir)
    if (run / "site_terms.npz").is_file() or not (run / "run.json").is_file():
        return None
    try:
        engine = json.loads((run / "run.json").read_text(encoding="utf-8")).get("engine")
    except (OSError, ValueError, AttributeError):
        return None
    return str(engine or "?")


def load_site(run_dir: str | Path, site_index: int,
              realizations: list[int] | None = None) -> SiteData:
    """Regenerate one site of a finished run (identical to the run's own waveforms)."""
    from ...gm_engine.runner import site_waveforms

    sw = site_waveforms(run_dir, site_index, realizations)
    return SiteData(label=_site_label(sw.conditions, site_index), dt=float(sw.dt), acc=sw.acc,
                    conditions=dict(sw.conditions), gmpe=_reference(sw.gmpe),
                    site_index=site_index, run_dir=str(run_dir))


def _site_label(conditions: dict[str, Any], site_index: int) -> str:
    name = conditions.get("name") or conditions.get("site_name")
    return f"{name} (#{site_index})" if name else f"Site #{site_index}"


def _reference(gmpe: Any) -> ReferenceSpectrum | None:
    """The run's reference spectrum as a ReferenceSpectrum (attribute or mapping access)."""
    if gmpe is None:
        return None
    get = gmpe.get if isinstance(gmpe, dict) else (lambda k, d=None: getattr(gmpe, k, d))
    return ReferenceSpectrum(np.asarray(get("periods"), float), np.asarray(get("median"), float),
                             np.asarray(get("sigma"), float), str(get("name", "NGA-West2")))
