"""The GroundShake dock: every input of a scenario, the run controls and progress.

The dock only turns widget values into the scenario document of
docs/CONTRACTS.md (and back); validation ranges, scaling laws and magnitude
checks come from ``gm_engine`` so the plugin, the CLI and Processing agree.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsDistanceArea,
    QgsFieldProxyModel,
    QgsGeometry,
    QgsMapLayerProxyModel,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsUnitTypes,
    QgsVectorLayer,
)
from qgis.gui import (
    QgsCollapsibleGroupBox,
    QgsDockWidget,
    QgsExtentWidget,
    QgsFieldComboBox,
    QgsFileWidget,
    QgsMapCanvas,
    QgsMapLayerComboBox,
)
from qgis.PyQt.QtCore import Qt, QTimer, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..gm_engine import scaling
from ..gm_engine.errors import InputError
from ..gm_engine.rupture import build_rupture
from ..gm_engine.scenario import (
    DEVICES,
    ENGINES,
    MAGNITUDE_RANGE,
    MAX_REALIZATIONS,
    SCHEMA_VERSION,
    VS30_RANGE,
    GridSpec,
)
from . import execution
from .i18n import tr
from .resources import icon
from .scenario_io import FALLBACK_ENGINE, PREFERRED_ENGINE, cgm_unavailable_reason, crs_string

STATE_VERSION = 1
#: rake presets offered by the mechanism box (Aki & Richards convention)
MECHANISMS = (
    ("SS_R", 180.0), ("SS_L", 0.0), ("NM", -90.0), ("RV", 90.0),
)


def _mechanism_labels() -> dict[str, str]:
    return {
        "SS_R": tr("Strike-slip, right-lateral (rake 180°)"),
        "SS_L": tr("Strike-slip, left-lateral (rake 0°)"),
        "NM": tr("Normal (rake −90°)"),
        "RV": tr("Reverse (rake 90°)"),
        "custom": tr("Other rake"),
    }


def _engine_labels() -> dict[str, str]:
    return {
        "cgm": tr("Conditional generative model (CGM)"),
        "stochastic": tr("Stochastic simulation"),
        "gmpe": tr("NGA-West2 ground-motion models (GMPE)"),
    }


def _device_labels() -> dict[str, str]:
    return {"auto": tr("Automatic"), "cpu": tr("CPU"), "cuda": tr("GPU (CUDA)"),
            "mps": tr("GPU (Apple MPS)")}


def format_duration(seconds: float | None) -> str:
    """``1 min 05 s``-style text for the time-left label."""
    if seconds is None or not math.isfinite(seconds):
        return tr("estimating…")
    s = round(seconds)
    if s >= 60:
        return tr("{m} min {s:02d} s left").format(m=s // 60, s=s % 60)
    return tr("{s} s left").format(s=s)


class GroundShakeDock(QgsDockWidget):
    """Scenario editor and run panel.

    Signals tell the plugin what to do (draw, run, cancel, import, export);
    the dock never starts work itself, so it can be driven from tests.
    """

    draw_trace_toggled = pyqtSignal(bool)
    run_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    import_requested = pyqtSignal()
    export_requested = pyqtSignal()
    trace_changed = pyqtSignal()
    test_connection_requested = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas, parent: QWidget | None = None) -> None:
        super().__init__(tr("GroundShake"), parent)
        self.setObjectName("GroundShakeDock")
        self.canvas = canvas
        self.trace: list[list[float]] = []
        self.trace_crs = QgsCoordinateReferenceSystem("EPSG:4326")
        self.kept_fields: dict[str, Any] = {"max_distance_km": 300.0, "hypocentre": None,
                                            "model_card": None}
        #: why the cgm engine cannot run its bundled model here (None: it can)
        self.cgm_unavailable = cgm_unavailable_reason()
        #: the engine of a new scenario: cgm, or stochastic when its model is missing
        self.default_engine = FALLBACK_ENGINE if self.cgm_unavailable else PREFERRED_ENGINE
        self.error_field = ""
        self.found_devices: list[str] = []
        from ..gm_engine.engines import shipped_model_cards

        #: the cards in gm_engine/models, read once: every reset and import lists them
        self.shipped_cards = shipped_model_cards()
        self._build_ui()
        self._connect()
        self.update_trace_info()
        self.update_cell_count()

    # ------------------------------------------------------------------ UI
    def _build_ui(self) -> None:
        body = QWidget()
        outer = QVBoxLayout(body)

        top = QHBoxLayout()
        self.name_edit = QLineEdit(tr("Scenario"))
        self.name_edit.setToolTip(tr("Name of the scenario and of its layer group"))
        self.import_button = QToolButton()
        self.import_button.setText(tr("Import…"))
        self.import_button.setToolTip(tr("Read a scenario JSON file"))
        self.export_button = QToolButton()
        self.export_button.setText(tr("Export…"))
        self.export_button.setToolTip(tr("Write the scenario as a JSON file for the command line"))
        top.addWidget(QLabel(tr("Name")))
        top.addWidget(self.name_edit, 1)
        top.addWidget(self.import_button)
        top.addWidget(self.export_button)
        outer.addLayout(top)

        # -- fault
        self.fault_group = QgsCollapsibleGroupBox(tr("Fault"))
        form = QFormLayout(self.fault_group)
        row = QHBoxLayout()
        self.draw_button = QToolButton()
        self.draw_button.setIcon(icon("draw_fault.svg"))
        self.draw_button.setText(tr("Draw on map"))
        self.draw_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip(tr("Click the trace's vertices; Backspace removes the last one, "
                                       "right click finishes, Esc cancels"))
        row.addWidget(self.draw_button)
        self.line_layer_combo = QgsMapLayerComboBox()
        self.line_layer_combo.setFilters(QgsMapLayerProxyModel.Filter.LineLayer)
        self.line_layer_combo.setAllowEmptyLayer(True)
        self.line_layer_combo.setLayer(None)
        self.line_layer_combo.setToolTip(tr("Line layer holding the fault trace"))
        self.from_feature_button = QToolButton()
        self.from_feature_button.setText(tr("Use selected"))
        self.from_feature_button.setToolTip(
            tr("Take the trace from the selected feature of the line layer"))
        row.addWidget(self.line_layer_combo, 1)
        row.addWidget(self.from_feature_button)
        form.addRow(tr("Trace"), row)
        self.trace_label = QLabel()
        form.addRow("", self.trace_label)

        self.dip_spin = QDoubleSpinBox()
        self.dip_spin.setRange(1.0, 90.0)
        self.dip_spin.setValue(90.0)
        self.dip_spin.setSuffix(" °")
        form.addRow(tr("Dip"), self.dip_spin)
        row = QHBoxLayout()
        self.rhr_check = QCheckBox(tr("Right-hand rule"))
        self.rhr_check.setChecked(True)
        self.rhr_check.setToolTip(tr("Dip to the right when walking along the trace"))
        self.dipdir_spin = QDoubleSpinBox()
        self.dipdir_spin.setRange(0.0, 360.0)
        self.dipdir_spin.setSuffix(" °")
        self.dipdir_spin.setEnabled(False)
        row.addWidget(self.rhr_check)
        row.addWidget(self.dipdir_spin, 1)
        form.addRow(tr("Dip direction"), row)
        self.ztor_spin = QDoubleSpinBox()
        self.ztor_spin.setRange(0.0, 50.0)
        self.ztor_spin.setSuffix(" km")
        form.addRow(tr("Top depth"), self.ztor_spin)
        self.zbot_spin = QDoubleSpinBox()
        self.zbot_spin.setRange(0.0, 100.0)
        self.zbot_spin.setValue(12.0)
        self.zbot_spin.setSuffix(" km")
        form.addRow(tr("Bottom depth"), self.zbot_spin)
        row = QHBoxLayout()
        self.mechanism_combo = QComboBox()
        labels = _mechanism_labels()
        for key, _ in MECHANISMS:
            self.mechanism_combo.addItem(labels[key], key)
        self.mechanism_combo.addItem(labels["custom"], "custom")
        self.rake_spin = QDoubleSpinBox()
        self.rake_spin.setRange(-180.0, 180.0)
        self.rake_spin.setValue(180.0)
        self.rake_spin.setSuffix(" °")
        row.addWidget(self.mechanism_combo, 1)
        row.addWidget(self.rake_spin)
        form.addRow(tr("Mechanism"), row)
        outer.addWidget(self.fault_group)

        # -- magnitude
        self.magnitude_group = QgsCollapsibleGroupBox(tr("Magnitude"))
        form = QFormLayout(self.magnitude_group)
        row = QHBoxLayout()
        self.magnitude_spin = QDoubleSpinBox()
        self.magnitude_spin.setRange(*MAGNITUDE_RANGE)
        self.magnitude_spin.setDecimals(3)
        self.magnitude_spin.setSingleStep(0.1)
        self.magnitude_spin.setValue(7.0)
        self.magnitude_from_law_check = QCheckBox(tr("From the scaling law"))
        row.addWidget(self.magnitude_spin)
        row.addWidget(self.magnitude_from_law_check)
        form.addRow(tr("Moment magnitude"), row)
        self.law_combo = QComboBox()
        for law in scaling.LAWS:
            self.law_combo.addItem(law, law)
        form.addRow(tr("Scaling law"), self.law_combo)
        row = QHBoxLayout()
        self.law_label = QLabel()
        self.use_law_button = QToolButton()
        self.use_law_button.setText(tr("Use"))
        self.use_law_button.setToolTip(tr("Set the magnitude to the scaling-law value"))
        row.addWidget(self.law_label, 1)
        row.addWidget(self.use_law_button)
        form.addRow("", row)
        self.magnitude_warning = QLabel()
        self.magnitude_warning.setWordWrap(True)
        self.magnitude_warning.setStyleSheet("color: #b35900;")
        self.magnitude_warning.hide()
        form.addRow(self.magnitude_warning)
        outer.addWidget(self.magnitude_group)

        # -- sites
        self.sites_group = QgsCollapsibleGroupBox(tr("Sites"))
        self.sites_group.setCheckable(True)
        self.sites_group.setChecked(False)
        form = QFormLayout(self.sites_group)
        self.sites_layer_combo = QgsMapLayerComboBox()
        self.sites_layer_combo.setFilters(QgsMapLayerProxyModel.Filter.PointLayer
                                          | QgsMapLayerProxyModel.Filter.PolygonLayer)
        self.sites_layer_combo.setToolTip(tr("Point layer of sites; polygons use their centroids"))
        form.addRow(tr("Layer"), self.sites_layer_combo)
        outer.addWidget(self.sites_group)

        # -- vs30
        self.vs30_group = QgsCollapsibleGroupBox(tr("Site conditions (Vs30)"))
        form = QFormLayout(self.vs30_group)
        self.vs30_field_radio = QRadioButton(tr("Field of the site layer"))
        self.vs30_field_combo = QgsFieldComboBox()
        self.vs30_field_combo.setFilters(QgsFieldProxyModel.Filter.Numeric)
        self.vs30_field_combo.setAllowEmptyFieldName(True)
        form.addRow(self.vs30_field_radio, self.vs30_field_combo)
        self.vs30_raster_radio = QRadioButton(tr("Raster"))
        self.vs30_raster_combo = QgsMapLayerComboBox()
        self.vs30_raster_combo.setFilters(QgsMapLayerProxyModel.Filter.RasterLayer)
        self.vs30_raster_combo.setAllowEmptyLayer(True)
        self.vs30_raster_combo.setLayer(None)
        form.addRow(self.vs30_raster_radio, self.vs30_raster_combo)
        self.vs30_default_radio = QRadioButton(tr("Default only"))
        self.vs30_default_radio.setChecked(True)
        self.vs30_default_spin = QDoubleSpinBox()
        self.vs30_default_spin.setRange(*VS30_RANGE)
        self.vs30_default_spin.setDecimals(0)
        self.vs30_default_spin.setValue(760.0)
        self.vs30_default_spin.setSuffix(" m/s")
        self.vs30_default_spin.setToolTip(tr("Used where the Vs30 raster has no value, and for every site when neither a field "
           "nor a raster is chosen (an empty or invalid field value is an error)"))
        form.addRow(self.vs30_default_radio, self.vs30_default_spin)
        outer.addWidget(self.vs30_group)

        # -- grid
        self.grid_group = QgsCollapsibleGroupBox(tr("Raster grid"))
        self.grid_group.setCheckable(True)
        self.grid_group.setChecked(True)
        form = QFormLayout(self.grid_group)
        self.extent_widget = QgsExtentWidget()
        self.extent_widget.setMapCanvas(self.canvas)
        crs = self.canvas.mapSettings().destinationCrs()
        self.extent_widget.setOutputCrs(crs)
        self.extent_widget.setOriginalExtent(self.canvas.extent(), crs)
        self.extent_widget.setCurrentExtent(self.canvas.extent(), crs)
        form.addRow(self.extent_widget)
        self.extent_from_sites_button = QPushButton(tr("Extent of the sites"))
        form.addRow("", self.extent_from_sites_button)
        self.spacing_spin = QDoubleSpinBox()
        self.spacing_spin.setDecimals(5)
        self.spacing_spin.setRange(1e-5, 1e7)
        self.spacing_spin.setValue(0.01)
        form.addRow(tr("Resolution"), self.spacing_spin)
        self.cells_label = QLabel()
        form.addRow(tr("Cells"), self.cells_label)
        outer.addWidget(self.grid_group)

        # -- intensity measures
        self.ims_group = QgsCollapsibleGroupBox(tr("Intensity measures"))
        form = QFormLayout(self.ims_group)
        row = QHBoxLayout()
        self.pga_check = QCheckBox("PGA")
        self.pga_check.setChecked(True)
        self.pgv_check = QCheckBox("PGV")
        self.pgv_check.setChecked(True)
        self.mmi_check = QCheckBox("MMI")
        for w in (self.pga_check, self.pgv_check, self.mmi_check):
            row.addWidget(w)
        form.addRow(row)
        self.sa_check = QCheckBox(tr("SA at periods (s)"))
        self.sa_check.setChecked(True)
        self.sa_periods_edit = QLineEdit("0.3, 1.0, 3.0")
        self.sa_periods_edit.setToolTip(tr("Spectral acceleration periods in seconds, "
                                           "separated by commas"))
        form.addRow(self.sa_check, self.sa_periods_edit)
        outer.addWidget(self.ims_group)

        # -- run settings
        self.run_group = QgsCollapsibleGroupBox(tr("Run"))
        form = QFormLayout(self.run_group)
        self.engine_combo = QComboBox()
        engines = _engine_labels()
        for key in ENGINES:
            self.engine_combo.addItem(engines.get(key, key), key)
        if self.cgm_unavailable:  # still selectable: a scenario may name its own model card
            self.engine_combo.setItemData(self.engine_combo.findData(PREFERRED_ENGINE),
                                          self.cgm_unavailable, Qt.ItemDataRole.ToolTipRole)
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(self.default_engine))
        form.addRow(tr("Engine"), self.engine_combo)
        self.model_combo = QComboBox()
        self.model_combo.setToolTip(tr("The generative model the CGM engine samples"))
        self._fill_model_combo(None)
        form.addRow(tr("Model"), self.model_combo)
        self.realizations_spin = QSpinBox()
        self.realizations_spin.setRange(1, MAX_REALIZATIONS)
        self.realizations_spin.setValue(10)
        form.addRow(tr("Realizations"), self.realizations_spin)
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(42)
        form.addRow(tr("Seed"), self.seed_spin)
        self.device_combo = QComboBox()
        devices = _device_labels()
        for key in DEVICES:
            self.device_combo.addItem(devices.get(key, key), key)
        form.addRow(tr("Device"), self.device_combo)
        self.device_label = QLabel(tr("Looking for devices…"))
        self.device_label.setWordWrap(True)
        form.addRow("", self.device_label)
        self.output_widget = QgsFileWidget()
        self.output_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.output_widget.lineEdit().setPlaceholderText(tr("Temporary folder"))
        self.output_widget.setToolTip(tr("Each run writes a new sub-folder here; "
                                         "existing files are never replaced"))
        form.addRow(tr("Output folder"), self.output_widget)
        outer.addWidget(self.run_group)
        self._build_execution_group(outer)

        # -- run controls
        row = QHBoxLayout()
        self.run_button = QPushButton(icon("icon.svg"), tr("Run"))
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.setEnabled(False)
        row.addWidget(self.run_button, 1)
        row.addWidget(self.cancel_button)
        outer.addLayout(row)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setValue(0)
        outer.addWidget(self.progress_bar)
        row = QHBoxLayout()
        self.stage_label = QLabel()
        self.time_label = QLabel()
        row.addWidget(self.stage_label, 1)
        row.addWidget(self.time_label)
        outer.addLayout(row)
        outer.addStretch(1)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        self.setWidget(self.scroll)

        self._field_widgets: dict[str, tuple[QWidget, QWidget]] = {
            "name": (self.name_edit, self.name_edit),
            "rupture.trace": (self.draw_button, self.fault_group),
            "rupture.crs": (self.draw_button, self.fault_group),
            "rupture.dip": (self.dip_spin, self.fault_group),
            "rupture.dip_direction": (self.dipdir_spin, self.fault_group),
            "rupture.ztor": (self.ztor_spin, self.fault_group),
            "rupture.zbot": (self.zbot_spin, self.fault_group),
            "rupture.rake": (self.rake_spin, self.fault_group),
            "rupture": (self.draw_button, self.fault_group),
            "magnitude": (self.magnitude_spin, self.magnitude_group),
            "magnitude_scaling": (self.law_combo, self.magnitude_group),
            "sites.vs30_field": (self.vs30_field_combo, self.vs30_group),
            "sites": (self.sites_layer_combo, self.sites_group),
            "vs30.raster": (self.vs30_raster_combo, self.vs30_group),
            "vs30": (self.vs30_default_spin, self.vs30_group),
            "grid.spacing": (self.spacing_spin, self.grid_group),
            "grid": (self.extent_widget, self.grid_group),
            "intensity_measures": (self.sa_periods_edit, self.ims_group),
            "realizations": (self.realizations_spin, self.run_group),
            "seed": (self.seed_spin, self.run_group),
            "engine": (self.engine_combo, self.run_group),
            "model_card": (self.model_combo, self.run_group),
            "device": (self.device_combo, self.run_group),
            "output": (self.output_widget, self.run_group),
            "out": (self.output_widget, self.run_group),
            "execution.scheduler": (self.scheduler_edit, self.execution_group),
            "execution.workers": (self.workers_spin, self.execution_group),
            "execution": (self.execution_group, self.execution_group),
            # the field names gm_engine.distributed uses
            "scheduler": (self.scheduler_edit, self.execution_group),
            "workers": (self.workers_spin, self.execution_group),
        }

    def _fill_model_combo(self, card: str | None) -> None:
        """The shipped model cards, plus ``card`` when it is another one; selects ``card``."""
        noises = {"gaussian": tr("Gaussian synthesis noise"),
                  "pulse_train": tr("the training simulator's pulse-train noise")}
        target = Path(card).resolve() if card else None
        index = 0  # the bundled model, listed first
        self.model_combo.blockSignals(True)
        self.model_combo.clear()
        for c in self.shipped_cards:
            label = tr("{name} (default)").format(name=c["name"]) if c["bundled"] else c["name"]
            # the bundled card travels as "no model_card", so scenarios stay portable
            self.model_combo.addItem(label, None if c["bundled"] else str(c["path"]))
            tip = noises.get(c["noise"], c["noise"])
            if c["marginalised"]:
                tip += "; " + tr("does not use the scenario's {names}: drawn per site as in "
                                 "its training data").format(names=", ".join(c["marginalised"]))
            share = c["median_fraction_within_0.25_ln"]
            if share is not None:
                tip += "; " + tr("{pct:.1f} % of median PGA and PSA within 0.25 ln of "
                                 "NGA-West2 (docs/generator.md)").format(pct=100 * share)
            self.model_combo.setItemData(self.model_combo.count() - 1, tip,
                                         Qt.ItemDataRole.ToolTipRole)
            if target is not None and c["path"].resolve() == target:
                index, target = self.model_combo.count() - 1, None
        if target is not None:  # a card of the user's own, e.g. from an imported scenario
            self.model_combo.addItem(tr("Scenario's card: {file}").format(file=target.name),
                                     str(card))
            self.model_combo.setItemData(self.model_combo.count() - 1, str(target),
                                         Qt.ItemDataRole.ToolTipRole)
            index = self.model_combo.count() - 1
        self.model_combo.setCurrentIndex(index)
        self.model_combo.blockSignals(False)
        self._engine_chosen()

    def _engine_chosen(self, *_: Any) -> None:
        self.model_combo.setEnabled(self.engine_combo.currentData() == "cgm")

    def _build_execution_group(self, outer: QVBoxLayout) -> None:
        """Where runs execute: a machine setting kept in QgsSettings, not in the project."""
        self.execution_group = QgsCollapsibleGroupBox(tr("Execution"))
        form = QFormLayout(self.execution_group)
        self.exec_process_radio = QRadioButton(tr("This QGIS (single process)"))
        self.exec_process_radio.setToolTip(tr("Every engine and device; the run uses this "
                                              "QGIS process only"))
        form.addRow(self.exec_process_radio)
        self.exec_local_radio = QRadioButton(tr("Local Dask cluster"))
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, execution.MAX_WORKERS)
        self.workers_spin.setValue(execution.default_workers())
        self.workers_spin.setSuffix(tr(" workers"))
        form.addRow(self.exec_local_radio, self.workers_spin)
        self.exec_scheduler_radio = QRadioButton(tr("Dask scheduler at"))
        self.scheduler_edit = QLineEdit()
        self.scheduler_edit.setPlaceholderText("tcp://host:8786")
        self.scheduler_edit.setToolTip(tr("Address of a running Dask scheduler, "
                                          "tcp://host:port or tls://host:port"))
        form.addRow(self.exec_scheduler_radio, self.scheduler_edit)
        self.test_connection_button = QPushButton(tr("Test connection"))
        self.test_connection_button.setToolTip(tr("Connect to the scheduler and count its "
                                                  "workers (in the background)"))
        form.addRow("", self.test_connection_button)
        self.connection_label = QLabel()
        self.connection_label.setWordWrap(True)
        self.connection_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow(self.connection_label)
        self.execution_note = QLabel(tr("Dask runs support every engine: the CGM uses the "
                                        "chosen device on each worker, the stochastic "
                                        "simulation the workers' CPUs. This QGIS only sends "
                                        "the tasks and writes the outputs."))
        self.execution_note.setWordWrap(True)
        form.addRow(self.execution_note)
        self.dask_available = execution.dask_available()
        if not self.dask_available:
            hint = execution.install_hint()
            for w in (self.exec_local_radio, self.workers_spin, self.exec_scheduler_radio,
                      self.scheduler_edit, self.test_connection_button):
                w.setEnabled(False)
                w.setToolTip(hint)
            self.connection_label.setText(hint)
        self.set_execution_settings(execution.load_settings())
        outer.addWidget(self.execution_group)

    def _connect(self) -> None:
        self.draw_button.toggled.connect(self.draw_trace_toggled)
        self.from_feature_button.clicked.connect(self.trace_from_selected_feature)
        self.rhr_check.toggled.connect(lambda on: self.dipdir_spin.setEnabled(not on))
        self.mechanism_combo.activated.connect(self._mechanism_chosen)
        self.engine_combo.currentIndexChanged.connect(self._engine_chosen)
        self.rake_spin.valueChanged.connect(self._rake_changed)
        self.use_law_button.clicked.connect(self.use_law_magnitude)
        self.magnitude_from_law_check.toggled.connect(
            lambda on: self.magnitude_spin.setEnabled(not on))
        self.sites_layer_combo.layerChanged.connect(self._sites_layer_changed)
        self.extent_from_sites_button.clicked.connect(self.extent_from_sites)
        self.extent_widget.extentChanged.connect(lambda *_: self.update_cell_count())
        self.spacing_spin.valueChanged.connect(lambda *_: self.update_cell_count())
        self.run_button.clicked.connect(self.run_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        self.import_button.clicked.connect(self.import_requested)
        self.export_button.clicked.connect(self.export_requested)
        for spin in (self.dip_spin, self.ztor_spin, self.zbot_spin, self.rake_spin,
                     self.magnitude_spin, self.dipdir_spin):
            spin.valueChanged.connect(lambda *_: self.update_trace_info())
        self.rhr_check.toggled.connect(lambda *_: self.trace_changed.emit())
        self.dip_spin.valueChanged.connect(lambda *_: self.trace_changed.emit())
        self.dipdir_spin.valueChanged.connect(lambda *_: self.trace_changed.emit())
        self.law_combo.currentIndexChanged.connect(lambda *_: self.update_trace_info())
        self._sites_layer_changed(self.sites_layer_combo.currentLayer())
        self._rake_changed(self.rake_spin.value())
        for radio in (self.exec_process_radio, self.exec_local_radio, self.exec_scheduler_radio):
            radio.toggled.connect(self._execution_changed)
        self.workers_spin.valueChanged.connect(self._execution_changed)
        self.scheduler_edit.textChanged.connect(self._execution_changed)
        self.scheduler_edit.textEdited.connect(lambda *_: self.connection_label.setText(""))
        self.test_connection_button.clicked.connect(self.test_connection_requested)
        self._update_execution_widgets()
        self._marked: QWidget | None = None
        self._error_timer = QTimer(self)
        self._error_timer.setSingleShot(True)
        self._error_timer.setInterval(4000)
        self._error_timer.timeout.connect(self._clear_error_mark)

    # ----------------------------------------------------------- reactions
    def _mechanism_chosen(self, index: int) -> None:
        key = self.mechanism_combo.itemData(index)
        for name, rake in MECHANISMS:
            if name == key:
                self.rake_spin.setValue(rake)

    def _rake_changed(self, rake: float) -> None:
        """Keep the mechanism box in step with a typed rake."""
        key = next((name for name, r in MECHANISMS if abs(r - rake) < 1e-9), "custom")
        self.mechanism_combo.blockSignals(True)
        self.mechanism_combo.setCurrentIndex(self.mechanism_combo.findData(key))
        self.mechanism_combo.blockSignals(False)

    def _sites_layer_changed(self, layer: Any) -> None:
        self.vs30_field_combo.setLayer(layer if isinstance(layer, QgsVectorLayer) else None)
        if isinstance(layer, QgsVectorLayer):
            for name in ("vs30", "Vs30", "VS30", "vs30_mps"):
                if layer.fields().indexOf(name) >= 0:
                    self.vs30_field_combo.setField(name)
                    self.vs30_field_radio.setChecked(True)
                    break

    def set_trace(self, points: list[QgsPointXY], crs: QgsCoordinateReferenceSystem) -> None:
        """Take a trace drawn on the map or read from a layer."""
        self.trace = [[float(p.x()), float(p.y())] for p in points]
        self.trace_crs = QgsCoordinateReferenceSystem(crs)
        self.draw_button.setChecked(False)
        self.update_trace_info()
        self.trace_changed.emit()

    def trace_points(self) -> list[QgsPointXY]:
        return [QgsPointXY(x, y) for x, y in self.trace]

    def trace_from_selected_feature(self) -> bool:
        """Use the (first) selected line of the chosen layer; multi-part lines use the longest part."""
        layer = self.line_layer_combo.currentLayer()
        if not isinstance(layer, QgsVectorLayer) or layer.selectedFeatureCount() == 0:
            self.show_field_error("rupture.trace",
                                  tr("Select one feature of a line layer first."))
            return False
        feature = next(layer.getSelectedFeatures())
        geom: QgsGeometry = feature.geometry()
        if geom.isMultipart():
            parts = geom.asMultiPolyline()
            line = max(parts, key=lambda part: QgsGeometry.fromPolylineXY(part).length())
        else:
            line = geom.asPolyline()
        if len(line) < 2:
            self.show_field_error("rupture.trace", tr("The selected feature has no line."))
            return False
        self.set_trace([QgsPointXY(p) for p in line], layer.crs())
        return True

    def trace_length_km(self) -> float | None:
        """Ellipsoidal length of the trace (QGIS measures it; WGS 84 ellipsoid)."""
        if len(self.trace) < 2:
            return None
        da = QgsDistanceArea()
        da.setSourceCrs(self.trace_crs, QgsProject.instance().transformContext())
        da.setEllipsoid("EPSG:7030")
        metres = da.measureLength(QgsGeometry.fromPolylineXY(self.trace_points()))
        return metres / 1000.0 if metres > 0 else None

    def rupture_area_km2(self) -> float | None:
        """Area of the rupture the engine will build (None while the inputs are incomplete)."""
        if len(self.trace) < 2:
            return None
        try:
            rupture = build_rupture(
                [list(p) for p in self.trace], crs_string(self.trace_crs),
                dip=self.dip_spin.value(), ztor=self.ztor_spin.value(),
                zbot=self.zbot_spin.value(),
                dip_direction=None if self.rhr_check.isChecked() else self.dipdir_spin.value())
        except InputError:
            return None
        return rupture.area_km2

    def law_magnitude(self) -> float | None:
        area = self.rupture_area_km2()
        if area is None:
            return None
        try:
            return scaling.magnitude_from_area(area, self.rake_spin.value(),
                                               self.law_combo.currentData())
        except InputError:
            return None

    def update_trace_info(self) -> None:
        """Trace summary, the scaling-law magnitude and the disagreement warning."""
        length = self.trace_length_km()
        if length is None:
            self.trace_label.setText(tr("No trace yet: draw it or take a selected feature."))
            self.law_label.setText("")
            self.use_law_button.setEnabled(False)
            self.magnitude_warning.hide()
            return
        self.trace_label.setText(tr("{n} vertices, {km:.1f} km").format(
            n=len(self.trace), km=length))
        area = self.rupture_area_km2()
        m_law = self.law_magnitude()
        if m_law is None or area is None:
            self.law_label.setText(tr("Scaling law: needs bottom depth > top depth"))
            self.use_law_button.setEnabled(False)
            self.magnitude_warning.hide()
            return
        self.law_label.setText(tr("{law}: M {m:.2f} for {area:.0f} km²").format(
            law=self.law_combo.currentText(), m=m_law, area=area))
        self.use_law_button.setEnabled(True)
        mismatch = None
        if not self.magnitude_from_law_check.isChecked():
            mismatch = scaling.magnitude_area_mismatch(
                self.magnitude_spin.value(), area, self.rake_spin.value(),
                self.law_combo.currentData())
        if mismatch:
            self.magnitude_warning.setText(
                tr("Magnitude and rupture size disagree: {law} gives M {m:.2f} for this "
                   "rupture ({area:.0f} km²).").format(
                    law=self.law_combo.currentText(), m=m_law, area=area))
            self.magnitude_warning.show()
        else:
            self.magnitude_warning.hide()

    def use_law_magnitude(self) -> None:
        m = self.law_magnitude()
        if m is not None:
            self.magnitude_spin.setValue(min(max(m, MAGNITUDE_RANGE[0]), MAGNITUDE_RANGE[1]))

    def extent_from_sites(self) -> None:
        layer = self.sites_layer_combo.currentLayer()
        if layer is None:
            self.show_field_error("sites", tr("Choose a site layer first."))
            return
        extent = QgsRectangle(layer.extent())
        extent.grow(max(extent.width(), extent.height()) * 0.05 or 0.01)
        self.extent_widget.setOutputExtentFromUser(extent, layer.crs())

    def grid_shape(self) -> tuple[int, int] | None:
        """(rows, cols) of the grid, counted by the engine's GridSpec."""
        extent = self.extent_widget.outputExtent()
        spacing = self.spacing_spin.value()
        if extent.isEmpty() or spacing <= 0:
            return None
        bounds = (extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum())
        return GridSpec(bounds, "", spacing).shape

    def update_cell_count(self) -> None:
        crs = self.extent_widget.outputCrs()
        unit = QgsUnitTypes.toAbbreviatedString(crs.mapUnits()) if crs.isValid() else ""
        self.spacing_spin.setSuffix(f" {unit}" if unit else "")
        shape = self.grid_shape()
        if shape is None:
            self.cells_label.setText(tr("no extent"))
            return
        rows, cols = shape
        self.cells_label.setText(tr("{cols} × {rows} = {n} cells").format(
            cols=cols, rows=rows, n=f"{rows * cols:,}"))

    def set_devices(self, devices: list[str], detail: str) -> None:
        """Show what the device probe found; GPU entries stay selectable for saved scenarios."""
        self.found_devices = list(devices)
        self.device_label.setText(tr("Found: {detail}").format(detail=detail))

    # ----------------------------------------------------------- execution
    def execution_settings(self) -> execution.ExecutionSettings:
        """The execution the widgets show; without Dask always this process."""
        mode = execution.PROCESS
        if self.dask_available and self.exec_local_radio.isChecked():
            mode = execution.LOCAL
        elif self.dask_available and self.exec_scheduler_radio.isChecked():
            mode = execution.SCHEDULER
        return execution.ExecutionSettings(mode, self.workers_spin.value(),
                                           self.scheduler_edit.text().strip())

    def set_execution_settings(self, value: execution.ExecutionSettings) -> None:
        """Show saved settings (signals blocked: showing them must not save them again)."""
        widgets = (self.exec_process_radio, self.exec_local_radio, self.exec_scheduler_radio,
                   self.workers_spin, self.scheduler_edit)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.workers_spin.setValue(value.workers)
            self.scheduler_edit.setText(value.scheduler)
            mode = value.mode if self.dask_available else execution.PROCESS
            {execution.LOCAL: self.exec_local_radio,
             execution.SCHEDULER: self.exec_scheduler_radio}.get(
                mode, self.exec_process_radio).setChecked(True)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._update_execution_widgets()

    def execution_options(self) -> dict[str, Any]:
        """Keyword arguments for the distributed runner ({} = this process); InputError if bad."""
        return execution.engine_options(self.execution_settings())

    def _execution_changed(self, *_: Any) -> None:
        self._update_execution_widgets()
        current = self.execution_settings()
        if not self.dask_available:  # keep a Dask choice saved while Dask is missing
            current.mode = execution.load_settings().mode
        execution.save_settings(current)

    def _update_execution_widgets(self) -> None:
        on = self.dask_available
        self.workers_spin.setEnabled(on and self.exec_local_radio.isChecked())
        scheduler = on and self.exec_scheduler_radio.isChecked()
        self.scheduler_edit.setEnabled(scheduler)
        self.test_connection_button.setEnabled(scheduler)

    def set_connection_testing(self, address: str) -> None:
        self.test_connection_button.setEnabled(False)
        self.connection_label.setStyleSheet("")
        self.connection_label.setText(tr("Connecting to {address}…").format(address=address))

    def show_connection_result(self, ok: bool, message: str) -> None:
        self._update_execution_widgets()
        self.connection_label.setStyleSheet("" if ok else "color: #c0392b;")
        self.connection_label.setText(message)

    # -------------------------------------------------------------- errors
    def show_field_error(self, field: str, message: str) -> None:
        """Bring the widget of ``field`` into view and mark it; the plugin shows the message."""
        self.error_field = field
        widget, group = self.widget_for_field(field)
        if isinstance(group, QgsCollapsibleGroupBox):
            group.setCollapsed(False)
        self.scroll.ensureWidgetVisible(widget)
        widget.setFocus()
        widget.setToolTip(message)
        self._clear_error_mark()
        widget.setStyleSheet("border: 1px solid #c0392b;")
        self._marked = widget
        self._error_timer.start()  # owned by the dock: never fires after it is gone

    def _clear_error_mark(self) -> None:
        if self._marked is not None:
            self._marked.setStyleSheet("")
            self._marked = None

    def widget_for_field(self, field: str) -> tuple[QWidget, QWidget]:
        """The widget (and its group) for a dotted engine field, by longest known prefix."""
        parts = field.split(".")
        for n in range(len(parts), 0, -1):
            key = ".".join(parts[:n])
            if key in self._field_widgets:
                return self._field_widgets[key]
        return self.run_button, self.run_group

    def field_label(self, field: str) -> str:
        """The label the user sees for an engine field, for error messages."""
        labels = {
            "rupture.trace": tr("Fault trace"), "rupture.dip": tr("Dip"),
            "rupture.dip_direction": tr("Dip direction"), "rupture.ztor": tr("Top depth"),
            "rupture.zbot": tr("Bottom depth"), "rupture.rake": tr("Mechanism"),
            "rupture": tr("Fault"), "magnitude": tr("Moment magnitude"),
            "magnitude_scaling": tr("Scaling law"), "sites": tr("Sites"),
            "sites.vs30_field": tr("Vs30 field"), "vs30.raster": tr("Vs30 raster"),
            "vs30": tr("Site conditions (Vs30)"), "grid": tr("Raster grid"),
            "grid.spacing": tr("Resolution"), "intensity_measures": tr("Intensity measures"),
            "realizations": tr("Realizations"), "seed": tr("Seed"), "engine": tr("Engine"),
            "model_card": tr("Model"),
            "device": tr("Device"), "output": tr("Output folder"), "out": tr("Output folder"),
            "name": tr("Name"), "scenario": tr("Scenario"),
            "execution": tr("Execution"), "execution.scheduler": tr("Dask scheduler"),
            "execution.workers": tr("Local Dask workers"), "scheduler": tr("Dask scheduler"),
            "workers": tr("Local Dask workers"),
        }
        parts = field.split(".")
        for n in range(len(parts), 0, -1):
            label = labels.get(".".join(parts[:n]))
            if label:
                return label
        return field

    # ------------------------------------------------------------ scenario
    def intensity_measures(self) -> list[str]:
        """IM names as the engine writes them, e.g. ``SA(0.3)``; bad periods raise InputError."""
        ims = [name for name, box in (("PGA", self.pga_check), ("PGV", self.pgv_check))
               if box.isChecked()]
        if self.sa_check.isChecked():
            text = self.sa_periods_edit.text().replace(";", ",")
            for token in filter(None, (t.strip() for t in text.split(","))):
                try:
                    period = float(token)
                except ValueError:
                    raise InputError("intensity_measures", tr(
                        "'{t}' is not a period in seconds").format(t=token)) from None
                if not (period > 0 and math.isfinite(period)):
                    raise InputError("intensity_measures", tr(
                        "periods must be positive, got {t}").format(t=token))
                name = f"SA({period!r})"
                if name not in ims:
                    ims.append(name)
        if self.mmi_check.isChecked():
            ims.append("MMI")
        if not ims:
            raise InputError("intensity_measures", tr("choose at least one intensity measure"))
        return ims

    def sites_layer(self) -> QgsVectorLayer | None:
        layer = self.sites_layer_combo.currentLayer()
        return layer if self.sites_group.isChecked() and isinstance(layer, QgsVectorLayer) else None

    def vs30_mode(self) -> str:
        if self.vs30_field_radio.isChecked():
            return "field"
        if self.vs30_raster_radio.isChecked():
            return "raster"
        return "default"

    def build_scenario(self, sites_file: tuple[str, str] | None = None,
                       strict: bool = True) -> dict[str, Any]:
        """The scenario document from the widgets.

        ``sites_file`` is (path, layer name) of the copy of the site layer
        written for a run or an export; without it the layer's own source is
        named. ``strict=False`` never raises (used to save the project).
        """
        def fail(field: str, message: str) -> None:
            if strict:
                raise InputError(field, message)

        if len(self.trace) < 2:
            fail("rupture.trace", tr("draw the fault trace or take a selected line feature"))
        if self.zbot_spin.value() <= self.ztor_spin.value():
            fail("rupture.zbot", tr("the bottom depth must be greater than the top depth"))
        try:
            ims = self.intensity_measures()
        except InputError:
            if strict:
                raise
            ims = []
        doc: dict[str, Any] = {
            "groundshake_scenario": SCHEMA_VERSION,
            "name": self.name_edit.text().strip() or "scenario",
            "rupture": {
                "trace": [list(p) for p in self.trace],
                "crs": crs_string(self.trace_crs),
                "dip": self.dip_spin.value(),
                "dip_direction": None if self.rhr_check.isChecked() else self.dipdir_spin.value(),
                "ztor": self.ztor_spin.value(),
                "zbot": self.zbot_spin.value(),
                "rake": self.rake_spin.value(),
                "hypocentre": self.kept_fields["hypocentre"],
            },
            "magnitude": None if self.magnitude_from_law_check.isChecked()
            else self.magnitude_spin.value(),
            "magnitude_scaling": self.law_combo.currentData(),
            "max_distance_km": self.kept_fields["max_distance_km"],
            "sites": None,
            "grid": None,
            "vs30": {"default": self.vs30_default_spin.value(), "raster": None},
            "intensity_measures": ims,
            "realizations": self.realizations_spin.value(),
            "seed": self.seed_spin.value(),
            "engine": self.engine_combo.currentData(),
            "device": self.device_combo.currentData(),
        }
        card = self.model_combo.currentData() or self.kept_fields.get("model_card")
        if card:  # only when set, as the engine writes it: None is the bundled model
            doc["model_card"] = card
        mode = self.vs30_mode()
        layer = self.sites_layer()
        if self.sites_group.isChecked():
            if layer is None:
                fail("sites", tr("choose a point or polygon layer of sites"))
            else:
                path, name = sites_file or (layer.source().split("|")[0], None)
                doc["sites"] = {"path": path, "layer": name, "crs": crs_string(layer.crs()),
                                "vs30_field": None}
                if mode == "field":
                    field = self.vs30_field_combo.currentField()
                    if not field:
                        fail("sites.vs30_field", tr("choose the field that holds Vs30 in m/s"))
                    doc["sites"]["vs30_field"] = field or None
        elif mode == "field":
            fail("sites.vs30_field", tr("a Vs30 field needs a site layer"))
        if mode == "raster":
            raster = self.vs30_raster_combo.currentLayer()
            path = raster.source() if isinstance(raster, QgsRasterLayer) else ""
            if not isinstance(raster, QgsRasterLayer) or raster.providerType() != "gdal":
                fail("vs30.raster", tr("choose a Vs30 raster stored in a file"))
            doc["vs30"]["raster"] = path or None
        if self.grid_group.isChecked():
            shape = self.grid_shape()
            extent = self.extent_widget.outputExtent()
            if shape is None:
                fail("grid", tr("set the grid extent"))
            else:
                doc["grid"] = {
                    "extent": [extent.xMinimum(), extent.yMinimum(),
                               extent.xMaximum(), extent.yMaximum()],
                    "crs": crs_string(self.extent_widget.outputCrs()),
                    "spacing": self.spacing_spin.value(),
                }
        if doc["sites"] is None and doc["grid"] is None:
            fail("sites", tr("use sites, a raster grid or both"))
        return doc

    def apply_scenario(self, doc: dict[str, Any]) -> None:
        """Set the widgets from a scenario document (layers are chosen by the caller)."""
        seed = int(doc.get("seed", 42))
        if not 0 <= seed <= self.seed_spin.maximum():
            raise InputError("seed", tr("the dock takes seeds from 0 to {hi}; got {seed}").format(
                hi=self.seed_spin.maximum(), seed=seed))
        # Fields without a widget travel with the scenario unchanged.
        self.kept_fields = {"max_distance_km": doc.get("max_distance_km", 300.0),
                            "hypocentre": (doc.get("rupture") or {}).get("hypocentre"),
                            "model_card": doc.get("model_card")}
        try:
            self.name_edit.setText(str(doc.get("name") or "scenario"))
            rup = doc.get("rupture") or {}
            crs = QgsCoordinateReferenceSystem(rup.get("crs") or "EPSG:4326")
            self.trace = [[float(p[0]), float(p[1])] for p in rup.get("trace") or []]
            self.trace_crs = crs
            self.dip_spin.setValue(float(rup.get("dip", 90.0)))
            dipdir = rup.get("dip_direction")
            self.rhr_check.setChecked(dipdir is None)
            if dipdir is not None:
                self.dipdir_spin.setValue(float(dipdir))
            self.ztor_spin.setValue(float(rup.get("ztor", 0.0)))
            self.zbot_spin.setValue(float(rup.get("zbot", 12.0)))
            self.rake_spin.setValue(float(rup.get("rake", 0.0)))
            mag = doc.get("magnitude")
            self.magnitude_from_law_check.setChecked(mag is None)
            if mag is not None:
                self.magnitude_spin.setValue(float(mag))
            law = self.law_combo.findData(doc.get("magnitude_scaling", "WC94"))
            if law >= 0:
                self.law_combo.setCurrentIndex(law)
            vs30 = doc.get("vs30") or {}
            if vs30.get("default") is not None:
                self.vs30_default_spin.setValue(float(vs30["default"]))
            sites = doc.get("sites")
            self.sites_group.setChecked(bool(sites))
            if sites and sites.get("vs30_field"):
                self.vs30_field_radio.setChecked(True)
                self.vs30_field_combo.setField(sites["vs30_field"])
            elif vs30.get("raster"):
                self.vs30_raster_radio.setChecked(True)
            else:
                self.vs30_default_radio.setChecked(True)
            grid = doc.get("grid")
            self.grid_group.setChecked(bool(grid))
            if grid:
                gcrs = QgsCoordinateReferenceSystem(grid.get("crs") or "EPSG:4326")
                self.extent_widget.setOutputCrs(gcrs)
                self.extent_widget.setOutputExtentFromUser(QgsRectangle(*grid["extent"]), gcrs)
                self.spacing_spin.setValue(float(grid["spacing"]))
            ims = [str(i) for i in doc.get("intensity_measures") or []]
            self.pga_check.setChecked("PGA" in ims)
            self.pgv_check.setChecked("PGV" in ims)
            self.mmi_check.setChecked("MMI" in ims)
            periods = [i[3:-1] for i in ims if i.upper().startswith("SA(") and i.endswith(")")]
            self.sa_check.setChecked(bool(periods))
            if periods:
                self.sa_periods_edit.setText(", ".join(periods))
            self.realizations_spin.setValue(int(doc.get("realizations", 10)))
            self.seed_spin.setValue(seed)
            for combo, key in ((self.engine_combo, "engine"), (self.device_combo, "device")):
                idx = combo.findData(doc.get(key))
                if idx >= 0:
                    combo.setCurrentIndex(idx)
            self._fill_model_combo(doc.get("model_card"))
            self.kept_fields["model_card"] = None  # the combo holds it now
        finally:
            self.update_trace_info()
        self.update_cell_count()
        self.trace_changed.emit()

    # ------------------------------------------------------ project state
    def state(self) -> dict[str, Any]:
        """Everything to save in the project: the scenario plus the chosen layers by id."""
        sites = self.sites_layer_combo.currentLayer()
        raster = self.vs30_raster_combo.currentLayer()
        line = self.line_layer_combo.currentLayer()
        return {
            "version": STATE_VERSION,
            "scenario": self.build_scenario(strict=False),
            "sites_enabled": self.sites_group.isChecked(),
            "sites_layer": sites.id() if sites else None,
            "vs30_mode": self.vs30_mode(),
            "vs30_field": self.vs30_field_combo.currentField(),
            "vs30_raster_layer": raster.id() if raster else None,
            "line_layer": line.id() if line else None,
            "sa_periods": self.sa_periods_edit.text(),
            "output_dir": self.output_widget.filePath(),
        }

    def restore_state(self, state: dict[str, Any], project: QgsProject | None = None) -> None:
        """Inverse of ``state()``; layers that are gone from the project are left unset."""
        project = project or QgsProject.instance()
        self.apply_scenario(state.get("scenario") or {})
        for combo, key in ((self.sites_layer_combo, "sites_layer"),
                           (self.vs30_raster_combo, "vs30_raster_layer"),
                           (self.line_layer_combo, "line_layer")):
            layer = project.mapLayer(state.get(key) or "")
            if layer is not None:
                combo.setLayer(layer)
        self.sites_group.setChecked(bool(state.get("sites_enabled")))
        radio = {"field": self.vs30_field_radio, "raster": self.vs30_raster_radio}.get(
            state.get("vs30_mode", ""), self.vs30_default_radio)
        radio.setChecked(True)
        if state.get("vs30_field"):
            self.vs30_field_combo.setField(state["vs30_field"])
        if state.get("sa_periods"):
            self.sa_periods_edit.setText(state["sa_periods"])
        self.output_widget.setFilePath(state.get("output_dir") or "")

    def reset(self) -> None:
        """Back to the defaults (a new project starts a new scenario)."""
        self.apply_scenario({
            "name": tr("Scenario"), "rupture": {"dip": 90, "ztor": 0, "zbot": 12, "rake": 180},
            "magnitude": 7.0, "grid": None, "sites": None,
            "intensity_measures": ["PGA", "PGV", "SA(0.3)", "SA(1.0)", "SA(3.0)"],
            "engine": self.default_engine, "device": "auto", "vs30": {"default": 760},
        })
        self.grid_group.setChecked(True)
        self.output_widget.setFilePath("")

    # -------------------------------------------------------- run display
    def set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress_bar.setValue(0)
            self.stage_label.setText(tr("Starting…"))
            self.time_label.setText("")
        else:
            self.time_label.setText("")

    def show_progress(self, percent: float, stage: str | None = None,
                      seconds_left: float | None = None) -> None:
        self.progress_bar.setValue(round(percent))
        if stage is not None:
            self.stage_label.setText(stage)
        self.time_label.setText(format_duration(seconds_left))

    def transform_to(self, points: list[QgsPointXY],
                     dest: QgsCoordinateReferenceSystem) -> list[QgsPointXY]:
        """The trace in another CRS (for drawing it on the canvas)."""
        xform = QgsCoordinateTransform(self.trace_crs, dest, QgsProject.instance())
        return [xform.transform(p) for p in points]
