"""The waveform viewer: synthetic sites drawn in every panel, comparison, exports, real runs."""
from __future__ import annotations

import importlib.util
import json
import sys

import numpy as np
import pytest

pytest.importorskip("pyqtgraph")

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QImage

DT = 0.01
N = 1500


@pytest.fixture()
def python_errors(monkeypatch):
    """Exceptions raised inside Qt virtuals/slots (QGIS would show each one as an error)."""
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, exc, tb: seen.append(exc))
    return seen


@pytest.fixture()
def viewer(qgis_app):
    from groundshake.plugin.viewer.waveform_viewer import WaveformViewer

    widget = WaveformViewer()
    widget.show()
    yield widget
    widget.close()
    widget.deleteLater()


def synthetic_site(label: str, scale: float = 1.0, realizations: int = 3, seed: int = 0):
    """Noise under a smooth envelope (g), with a made-up reference spectrum."""
    from groundshake.plugin.viewer.site_data import ReferenceSpectrum, SiteData

    rng = np.random.default_rng(seed)
    t = np.arange(N) * DT
    envelope = (t / 3.0) ** 2 * np.exp(-t / 3.0)
    acc = scale * 0.05 * rng.standard_normal((realizations, 3, N)) * envelope
    periods = np.geomspace(0.02, 5.0, 12)
    reference = ReferenceSpectrum(periods, 0.2 * scale * np.exp(-np.log(periods / 0.3) ** 2 / 4),
                                  np.full(periods.size, 0.6), "BSSA14")
    return SiteData(label, DT, acc, {"magnitude": 6.5, "rrup_km": 12.5 / scale, "vs30": 400.0},
                    gmpe=reference, site_index=int(100 * scale))


def visible_curves(plot):
    return [item for item in plot.listDataItems() if item.isVisible()]


def test_missing_pyqtgraph_is_explained(monkeypatch):
    from groundshake.plugin import viewer

    assert viewer.missing_dependency() is None
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyqtgraph" else real(name, *a))
    message = viewer.missing_dependency()
    assert "pyqtgraph" in message
    assert "apt install python3-pyqtgraph" in message and "pip install pyqtgraph" in message


def test_synthetic_site_fills_every_panel(viewer, python_errors):
    from groundshake.gm_engine import ims

    site = synthetic_site("A")
    viewer.show_waveforms(site)
    vel, _ = ims.velocity_displacement(site.acc, DT)
    for c in range(3):
        (acc_curve,) = visible_curves(viewer.acc_plots[c])
        np.testing.assert_allclose(acc_curve.yData, site.acc[0, c])
        np.testing.assert_allclose(acc_curve.xData, np.arange(N) * DT)
        (vel_curve,) = visible_curves(viewer.vel_plots[c])
        np.testing.assert_allclose(vel_curve.yData, vel[0, c])
    # Six time panels share the first panel's time axis.
    first = viewer.acc_plots[0].getViewBox()
    for plot in (*viewer.acc_plots[1:], *viewer.vel_plots):
        assert plot.getViewBox().linkedView(first.XAxis) is first
    viewer.acc_plots[0].setXRange(2.0, 4.0, padding=0)
    low, high = viewer.vel_plots[2].getViewBox().viewRange()[0]
    assert (low, high) == pytest.approx((2.0, 4.0))
    assert len(visible_curves(viewer.fas_plot)) == 3

    assert viewer.wait_for_spectra(60)
    spectra = visible_curves(viewer.spectrum_plot)
    # Three realizations + median + the two band edges.
    assert len(spectra) == 3 + 3
    from groundshake.plugin.viewer.site_data import SPECTRUM_PERIODS

    expected = ims.rotd(site.acc[:, 0], site.acc[:, 1], DT, SPECTRUM_PERIODS, percentiles=(50,))[50]
    drawn = sorted((c for c in spectra if c.yData.size == SPECTRUM_PERIODS.size),
                   key=lambda c: c.yData[0])
    np.testing.assert_allclose(sorted(expected, key=lambda row: row[0]),
                               [c.yData for c in drawn], rtol=1e-10)
    medians = [c for c in spectra if c.yData.size == site.gmpe.median.size
               and np.allclose(c.yData, site.gmpe.median)]
    assert len(medians) == 1
    table = viewer.conditions_table
    rows = [table.verticalHeaderItem(i).text() for i in range(table.rowCount())]
    assert table.item(rows.index("vs30"), 0).text() == "400"
    assert python_errors == []


def test_several_sites_compared_and_realization_switch(viewer, python_errors):
    near, far = synthetic_site("near", 1.0, seed=1), synthetic_site("far", 0.3, seed=2)
    viewer.show_waveforms(near)
    viewer.show_waveforms(far)
    assert viewer.wait_for_spectra(60)
    curves = visible_curves(viewer.acc_plots[0])
    assert len(curves) == 2
    assert len({c.opts["pen"].color().name() for c in curves}) == 2
    assert viewer.conditions_table.columnCount() == 2

    viewer.realization.setValue(2)
    np.testing.assert_allclose(
        sorted(c.yData[500] for c in visible_curves(viewer.acc_plots[1])),
        sorted([near.acc[2, 1, 500], far.acc[2, 1, 500]]))

    viewer.site_list.item(0).setCheckState(Qt.CheckState.Unchecked)
    (only,) = visible_curves(viewer.acc_plots[0])
    np.testing.assert_allclose(only.yData, far.acc[2, 0])
    viewer.remove_site("far")
    assert visible_curves(viewer.acc_plots[0]) == []
    assert [s.label for s in viewer.sites()] == ["near"]
    assert python_errors == []


def test_exports_write_readable_files(viewer, tmp_path):
    from groundshake.gm_engine.errors import InputError
    from obspy import read

    site = synthetic_site("Site #7", realizations=2)
    viewer.show_waveforms(site)
    assert viewer.wait_for_spectra(60)

    png = viewer.export_png(tmp_path / "site.png")
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 100

    csv = viewer.export_csv(tmp_path / "site.csv")
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("# ") and "units: g" in lines[0]
    header = next(line for line in lines if not line.startswith("#"))
    assert header.split(",")[:4] == ["time_s", "r0_H1_g", "r0_H2_g", "r0_Z_g"]
    table = np.loadtxt(csv, delimiter=",", comments="#", skiprows=len(lines) - N)
    np.testing.assert_allclose(table[:, 0], np.arange(N) * DT)
    np.testing.assert_allclose(table[:, 1 + 3 * 1 + 2], site.acc[1, 2], rtol=1e-8, atol=1e-15)

    mseed = viewer.export_mseed(tmp_path / "site.mseed")
    stream = read(str(mseed))
    assert len(stream) == 2 * 3
    assert {tr.stats.channel for tr in stream} == {"HN1", "HN2", "HNZ"}
    assert {tr.stats.station for tr in stream} == {"00100"}
    trace = stream.select(location="01", channel="HN2")[0]
    assert trace.stats.delta == pytest.approx(DT)
    np.testing.assert_allclose(trace.data, site.acc[1, 1].astype(np.float32))
    meta = json.loads((tmp_path / "site.mseed.json").read_text())
    assert meta["units"] == "g" and meta["site_index"] == 100
    assert meta["conditions"]["vs30"] == 400.0

    with pytest.raises(InputError):  # nothing is overwritten unless asked
        viewer.export_mseed(tmp_path / "site.mseed")
    viewer.export_csv(tmp_path / "site.csv", overwrite=True)


@pytest.mark.parametrize(("index", "code"), [(0, "00000"), (42, "00042"), (99_999, "99999"),
                                             (100_000, "A0000"), (100_035, "A000Z")])
def test_station_codes_are_five_characters_and_distinct(index, code):
    from groundshake.gm_engine.export import station_code

    assert station_code(index) == code


def test_station_code_beyond_range_is_refused():
    from groundshake.gm_engine.errors import InputError
    from groundshake.gm_engine.export import station_code

    assert station_code(43_770_015) == "ZZZZZ"
    with pytest.raises(InputError):
        station_code(43_770_016)


def _has_site_waveforms() -> bool:
    from groundshake.gm_engine import runner

    return hasattr(runner, "site_waveforms")


@pytest.mark.skipif(not _has_site_waveforms(),
                    reason="gm_engine.runner.site_waveforms is not written yet")
@pytest.mark.parametrize("engine", ["stochastic", "cgm"])
def test_show_site_regenerates_the_runs_waveforms(viewer, tmp_path, python_errors, engine,
                                                  request):
    """A clicked site shows the very waveforms whose PGA the run wrote to its site layer."""
    import warnings

    import geopandas as gpd
    from groundshake.gm_engine import ims
    from groundshake.gm_engine.runner import run_scenario
    from groundshake.gm_engine.scenario import Scenario

    (tmp_path / "sites.csv").write_text("name,lon,lat,vs30\na,-122.05,37.62,400\n"
                                        "b,-121.95,37.75,600\n")
    extra = {}
    if engine == "cgm":  # an untrained tiny model: the plumbing, not the science
        extra["model_card"] = str(request.getfixturevalue("tiny_model_card"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = Scenario.from_dict({
            "rupture": {"trace": [[-122.0, 37.6], [-122.2, 37.8]], "crs": "EPSG:4326",
                        "dip": 90, "ztor": 0, "zbot": 12, "rake": 180},
            "magnitude": 6.5, "engine": engine, "realizations": 3, "seed": 5,
            "intensity_measures": ["PGA"],
            "sites": {"path": "sites.csv", "x": "lon", "y": "lat", "crs": "EPSG:4326",
                      "vs30_field": "vs30"}, **extra}, tmp_path)
        result = run_scenario(scenario, tmp_path / "run")
    table = gpd.read_file(result.sites_gpkg)

    data = viewer.show_site(result.out_dir, 1)
    assert data.acc.shape[:2] == (3, 3)
    assert data.conditions["rrup_km"] == pytest.approx(table["rrup_km"][1], rel=1e-5)  # sites.csv: 6 digits
    pga = ims.rotd_peaks(data.acc[:, 0], data.acc[:, 1], percentiles=(50,))[50]
    assert np.median(pga) == pytest.approx(table["PGA_median"][1], rel=1e-4)
    (curve,) = visible_curves(viewer.acc_plots[0])
    np.testing.assert_allclose(curve.yData, data.acc[0, 0])
    assert data.gmpe is not None
    assert viewer.wait_for_spectra(60)
    assert len(visible_curves(viewer.spectrum_plot)) == 3 + 3
    assert python_errors == []
