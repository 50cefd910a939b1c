"""Interactive waveform viewer: waveforms, spectra and conditions of one or more sites.

Imports pyqtgraph at module level: import this module only after
``plugin.viewer.missing_dependency()`` returned None. Every curve comes from
gm_engine (through ``site_data``); this module only draws and exports.
"""
from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from qgis.PyQt.QtCore import QCoreApplication, QEventLoop, Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QIcon, QPixmap
from qgis.PyQt.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..i18n import tr
from .site_data import COMPONENTS, SiteCurves, SiteData, derive_curves, load_site, spectra

#: Site colours: a qualitative palette that reads on white (Tableau 10 hues).
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
            "#17becf", "#7f7f7f", "#bcbd22")
#: Line style of each component in the Fourier spectrum plot (H1, H2, Z).
_COMPONENT_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine)


class _Slot:
    """The curve items of the n-th drawn site, created once and then only updated.

    Items are never removed from a plot: with QGIS's PyQt5 (QVariant
    auto-conversion off) pyqtgraph's ``itemChange`` raises on every removal,
    which QGIS would show as a Python error. Unused slots are hidden.
    """

    def __init__(self, viewer: WaveformViewer) -> None:
        self.acc = [plot.plot() for plot in viewer.acc_plots]
        self.vel = [plot.plot() for plot in viewer.vel_plots]
        self.fas = [viewer.fas_plot.plot() for _ in COMPONENTS]
        self.realizations: list[pg.PlotDataItem] = []
        sp = viewer.spectrum_plot
        self.lower, self.upper, self.median = sp.plot(), sp.plot(), sp.plot()
        self.band = pg.FillBetweenItem(self.lower, self.upper)
        sp.addItem(self.band)
        self.spectrum_plot = sp
        self._shown: tuple | None = None  # what the items hold, to skip redrawing it

    def items(self) -> list[pg.GraphicsObject]:
        return [*self.acc, *self.vel, *self.fas, *self.realizations, self.lower, self.upper,
                self.median, self.band]

    def hide(self) -> None:
        for item in self.items():
            item.setVisible(False)
        self._shown = None

    def draw(self, data: SiteData, curves: SiteCurves, r: int, colour: QColor) -> None:
        """Show one site; a site already shown as asked is left alone (clicks stay fast)."""
        key = (data, curves.rotd50, r, colour.name())  # objects, not ids: ids get reused
        shown = self._shown
        if (shown is not None and shown[0] is data and shown[1] is curves.rotd50
                and shown[2:] == key[2:]):
            return
        self._shown = key
        pen = pg.mkPen(colour)
        for c in range(3):
            self.acc[c].setData(curves.time, data.acc[r, c], pen=pen)
            self.vel[c].setData(curves.time, curves.vel[r, c], pen=pen)
            self.fas[c].setData(curves.fas_freq, _positive(curves.fas[r, c]), connect="finite",
                                pen=pg.mkPen(colour, style=_COMPONENT_STYLES[c]))
        for item in (*self.acc, *self.vel, *self.fas):
            item.setVisible(True)
        self._draw_spectra(curves, colour)
        self._draw_reference(data, colour)

    def _draw_spectra(self, curves: SiteCurves, colour: QColor) -> None:
        faint = QColor(colour)
        faint.setAlpha(90)
        rows = curves.rotd50 if curves.rotd50 is not None else np.empty((0, 0))
        while len(self.realizations) < rows.shape[0]:
            self.realizations.append(self.spectrum_plot.plot())
        for i, item in enumerate(self.realizations):
            if i < rows.shape[0]:
                item.setData(curves.periods, _positive(rows[i]), pen=pg.mkPen(faint),
                             connect="finite")
            item.setVisible(i < rows.shape[0])

    def _draw_reference(self, data: SiteData, colour: QColor) -> None:
        ref = data.gmpe
        for item in (self.lower, self.upper, self.median, self.band):
            item.setVisible(ref is not None)
        if ref is None:
            return
        edge = pg.mkPen(colour, width=1, style=Qt.PenStyle.DotLine)
        self.lower.setData(ref.periods, ref.median * np.exp(-ref.sigma), pen=edge)
        self.upper.setData(ref.periods, ref.median * np.exp(ref.sigma), pen=edge)
        self.median.setData(ref.periods, ref.median, pen=pg.mkPen(
            colour, width=2.5, style=Qt.PenStyle.DashLine))
        band = QColor(colour)
        band.setAlpha(40)
        self.band.setBrush(pg.mkBrush(band))


class WaveformViewer(QWidget):
    """Three-component acceleration/velocity, RotD50 vs the GMPE band, FAS, site conditions.

    ``show_site(run_dir, i)`` regenerates a site of a run and adds it;
    ``show_waveforms(data)`` adds any ``SiteData``. Every site added stays in the
    list; the ticked ones are drawn together for comparison. Waveforms, Fourier
    spectra, the GMPE band and the conditions are drawn at once; the RotD50
    spectra of the realizations are computed in a worker thread and drawn when
    ready (``wait_for_spectra`` blocks until then).
    """

    spectraReady = pyqtSignal(str, object, object)  # label, SiteData it belongs to, rotd50

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("GroundShake waveforms"))
        self._sites: dict[str, tuple[SiteData, SiteCurves]] = {}
        self._slots: list[_Slot] = []
        self._pending: dict[str, Future] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gs-spectra")
        self.spectraReady.connect(self._on_spectra)
        executor = self._executor  # not self: the slot runs while the widget is being destroyed
        self.destroyed.connect(lambda *_: executor.shutdown(wait=False, cancel_futures=True))
        self.site_list = QListWidget()
        self.site_list.itemChanged.connect(lambda _item: self._redraw())
        self.realization = QSpinBox()
        self.realization.setRange(0, 0)
        self.realization.setToolTip(tr("Realization drawn in the waveform and Fourier panels"))
        self.realization.valueChanged.connect(lambda _value: self._redraw())
        self.conditions_table = QTableWidget()
        self.conditions_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)

        buttons = QHBoxLayout()
        for text, slot in ((tr("PNG…"), self._ask_png), (tr("CSV…"), self._ask_csv),
                           (tr("MiniSEED…"), self._ask_mseed)):
            button = QPushButton(text)
            button.setToolTip(tr("Export the selected site"))
            button.clicked.connect(slot)
            buttons.addWidget(button)
        remove = QPushButton(tr("Remove site"))
        remove.clicked.connect(self._remove_selected)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.site_list, 1)
        side_layout.addWidget(remove)
        form = QFormLayout()
        form.addRow(tr("Realization"), self.realization)
        side_layout.addLayout(form)
        side_layout.addWidget(self.conditions_table, 2)
        side_layout.addLayout(buttons)

        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.acc_plots = [self._time_plot(i, tr("{c} acc. (g)").format(c=c))
                          for i, c in enumerate(COMPONENTS)]
        self.vel_plots = [self._time_plot(3 + i, tr("{c} vel. (cm/s)").format(c=c))
                          for i, c in enumerate(COMPONENTS)]
        self.vel_plots[-1].setLabel("bottom", tr("Time (s)"))
        for plot in (*self.acc_plots[1:], *self.vel_plots):
            plot.setXLink(self.acc_plots[0])
        self.spectrum_plot = self._log_plot(0, tr("Period (s)"), tr("PSA RotD50 (g)"))
        self.spectrum_plot.setTitle(tr("RotD50 (5 %): realizations; GMPE median ± 1σ"),
                                    size="9pt")
        self.fas_plot = self._log_plot(3, tr("Frequency (Hz)"), tr("Fourier amplitude (g·s)"))
        self.plots.ci.layout.setColumnStretchFactor(0, 3)
        self.plots.ci.layout.setColumnStretchFactor(1, 2)
        self.fas_plot.setTitle(tr("Smoothed FAS: H1 solid, H2 dashed, Z dotted"), size="9pt")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(side)
        splitter.addWidget(self.plots)
        splitter.setStretchFactor(1, 4)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.resize(1200, 800)

    # -- building the plots ------------------------------------------------
    def _time_plot(self, row: int, label: str) -> pg.PlotItem:
        plot = self.plots.addPlot(row=row, col=0)
        plot.setLabel("left", label)
        plot.showGrid(x=True, y=True, alpha=0.3)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        return plot

    def _log_plot(self, row: int, xlabel: str, ylabel: str) -> pg.PlotItem:
        plot = self.plots.addPlot(row=row, col=1, rowspan=3)
        plot.setLogMode(x=True, y=True)
        plot.setLabel("bottom", xlabel)
        plot.setLabel("left", ylabel)
        plot.showGrid(x=True, y=True, alpha=0.3)
        return plot

    # -- public API --------------------------------------------------------
    def show_site(self, run_dir: str | Path, site_index: int,
                  realizations: list[int] | None = None) -> SiteData:
        """Regenerate site ``site_index`` of the run in ``run_dir`` and show it."""
        data = load_site(run_dir, site_index, realizations)
        self.show_waveforms(data)
        return data

    def show_waveforms(self, data: SiteData) -> None:
        """Add (or replace, by label) a site and draw it with the other ticked sites."""
        curves = derive_curves(data)
        new = data.label not in self._sites
        self._sites[data.label] = (data, curves)
        self.site_list.blockSignals(True)
        if new:
            item = QListWidgetItem(data.label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.site_list.addItem(item)
        self.site_list.setCurrentRow(list(self._sites).index(data.label))
        self.site_list.blockSignals(False)
        self.realization.blockSignals(True)
        self.realization.setMaximum(max(d.realizations for d, _ in self._sites.values()) - 1)
        self.realization.blockSignals(False)
        self._redraw()
        stale = self._pending.pop(data.label, None)
        if stale is not None:
            stale.cancel()
        if curves.rotd50 is None:  # after drawing, so the worker does not delay the plot
            self._pending[data.label] = self._executor.submit(self._compute_spectra, data)

    def spectra_pending(self) -> bool:
        """Whether RotD50 spectra are still being computed."""
        return bool(self._pending)

    def wait_for_spectra(self, timeout_s: float = 60.0) -> bool:
        """Process events until every pending spectrum is drawn; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while self._pending and time.monotonic() < deadline:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        return not self._pending

    def sites(self) -> list[SiteData]:
        """Every site in the list, in the order added."""
        return [data for data, _ in self._sites.values()]

    def shown_sites(self) -> list[SiteData]:
        """The ticked sites, the ones drawn."""
        return [self._sites[label][0] for label in self._checked_labels()]

    def current_site(self) -> SiteData | None:
        """The site selected in the list (what the export buttons write)."""
        item = self.site_list.currentItem()
        return self._sites[item.text()][0] if item is not None else None

    def remove_site(self, label: str) -> None:
        if self._sites.pop(label, None) is None:
            return
        future = self._pending.pop(label, None)
        if future is not None:
            future.cancel()
        for item in self.site_list.findItems(label, Qt.MatchFlag.MatchExactly):
            self.site_list.takeItem(self.site_list.row(item))
        self._redraw()

    def export_png(self, path: str | Path) -> Path:
        """Save the plots as a PNG image of the size they have on screen."""
        path = Path(path)
        if not self.plots.grab().save(str(path), "PNG"):
            raise OSError(tr("Cannot write the image {path}").format(path=path))
        return path

    def export_csv(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the selected site's waveforms as CSV (gm_engine.export)."""
        from ...gm_engine.export import write_waveforms_csv

        return Path(write_waveforms_csv(path, self._export_site(), overwrite=overwrite))

    def export_mseed(self, path: str | Path, overwrite: bool = False) -> Path:
        """Write the selected site's waveforms as MiniSEED with a JSON sidecar (gm_engine.export)."""
        from ...gm_engine.export import write_waveforms_mseed

        return Path(write_waveforms_mseed(path, self._export_site(), overwrite=overwrite))

    # -- drawing -----------------------------------------------------------
    def _checked_labels(self) -> list[str]:
        items = (self.site_list.item(i) for i in range(self.site_list.count()))
        return [it.text() for it in items if it.checkState() == Qt.CheckState.Checked]

    def _redraw(self) -> None:
        labels = self._checked_labels()
        while len(self._slots) < len(labels):
            self._slots.append(_Slot(self))
        for n, slot in enumerate(self._slots):
            if n >= len(labels):
                slot.hide()
                continue
            data, curves = self._sites[labels[n]]
            r = min(self.realization.value(), data.realizations - 1)
            slot.draw(data, curves, r, self._colour(n))
        self.site_list.blockSignals(True)  # icons are not a change of the ticked sites
        for i in range(self.site_list.count()):
            item = self.site_list.item(i)
            n = labels.index(item.text()) if item.text() in labels else None
            item.setIcon(_swatch(self._colour(n)) if n is not None else QIcon())
        self.site_list.blockSignals(False)
        self._fill_conditions(labels)

    @staticmethod
    def _colour(n: int) -> QColor:
        return QColor(_PALETTE[n % len(_PALETTE)])

    def _compute_spectra(self, data: SiteData) -> None:
        """Worker thread: RotD50 of every realization (or the error), handed over by signal."""
        try:
            result: np.ndarray | Exception = spectra(data)
        except Exception as exc:  # shown in the GUI thread, never lost in the worker
            result = exc
        self.spectraReady.emit(data.label, data, result)

    def _on_spectra(self, label: str, data: SiteData, result: np.ndarray | Exception) -> None:
        entry = self._sites.get(label)
        if entry is None or entry[0] is not data:  # removed or replaced meanwhile
            return
        self._pending.pop(label, None)
        if isinstance(result, Exception):
            self.spectrum_plot.setTitle(tr("RotD50 of {site} failed: {error}").format(
                site=label, error=result), size="9pt", color="#d62728")
            return
        entry[1].rotd50 = result
        self._redraw()

    def _fill_conditions(self, labels: list[str]) -> None:
        keys: list[str] = []
        for label in labels:
            keys += [k for k in self._sites[label][0].conditions if k not in keys]
        table = self.conditions_table
        table.clear()
        table.setRowCount(len(keys))
        table.setColumnCount(len(labels))
        table.setVerticalHeaderLabels(keys)
        table.setHorizontalHeaderLabels(labels)
        for col, label in enumerate(labels):
            conditions = self._sites[label][0].conditions
            for row, key in enumerate(keys):
                table.setItem(row, col, QTableWidgetItem(_format(conditions.get(key, ""))))
        table.resizeColumnsToContents()

    # -- export buttons ----------------------------------------------------
    def _export_site(self) -> SiteData:
        site = self.current_site()
        if site is None:
            raise ValueError(tr("No site is selected in the viewer."))
        return site

    def _ask(self, title: str, filters: str, suffix: str, export) -> None:
        site = self.current_site()
        if site is None:
            return
        default = site.label.replace(" ", "_").replace("#", "").strip("()") + suffix
        path, _ = QFileDialog.getSaveFileName(self, title, default, filters)
        if not path:
            return
        try:
            export(path)
        except Exception as exc:  # shown to the user, not swallowed
            QMessageBox.warning(self, title, str(exc))

    def _ask_png(self) -> None:
        self._ask(tr("Export plots as PNG"), tr("PNG image (*.png)"), ".png", self.export_png)

    def _ask_csv(self) -> None:
        # The file dialog already asked before replacing a file.
        self._ask(tr("Export waveforms as CSV"), tr("CSV (*.csv)"), ".csv",
                  lambda p: self.export_csv(p, overwrite=True))

    def _ask_mseed(self) -> None:
        self._ask(tr("Export waveforms as MiniSEED"), tr("MiniSEED (*.mseed)"), ".mseed",
                  lambda p: self.export_mseed(p, overwrite=True))

    def _remove_selected(self) -> None:
        item = self.site_list.currentItem()
        if item is not None:
            self.remove_site(item.text())


def _swatch(colour: QColor) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(colour)
    return QIcon(pixmap)


def _positive(values: np.ndarray) -> np.ndarray:
    """NaN where a log axis cannot show the value (zero or negative)."""
    out = np.asarray(values, dtype=float).copy()
    out[~(out > 0)] = np.nan
    return out


def _format(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple, np.ndarray)):  # one value per realization
        return ", ".join(_format(v) for v in value)
    return str(value)
