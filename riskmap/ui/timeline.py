"""Risk over time on the desktop: the map as of any date, and what changed between two dates.

The 时间 dock holds a slider over the project's dated history (from its first assessment or hidden-danger
event to today), a date edit and a 今天 button. Moving it redraws the map and the legend counts for that
date without reading the layers again: enterprise colours come from :func:`riskmap.asof.levels_at` (the level
column of the prepared layer is substituted, :meth:`PreparedLayer.reclassified`), zone colours and hidden
dangers (by their status then) from :func:`riskmap.asof.snapshot`, computed off the GUI thread and drawn when
ready. The canvas and the status bar say 截至 YYYY-MM-DD while the map is not at today, the dashboard shows
``project_stats(project, at=…)``, and the editing actions are disabled (a past date is for looking; 今天
returns to editing).

变化 mode (two dates) draws :func:`riskmap.asof.changes` as a change layer over the map — raised (red up
arrow), lowered (green down arrow), new (plus), removed (×), hidden dangers closed (check), the marks of
:mod:`riskmap.render.changes` — with its own legend and a table whose rows select and zoom on the map.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import NamedTuple

import numpy as np
import pandas as pd
import shapely
import shiboken6
from PySide6.QtCore import QT_TR_NOOP, QDate, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QDateEdit, QHBoxLayout, QLabel, QPushButton, QSlider, QSplitter, QTableWidget,
    QTableWidgetItem, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from riskmap.asof import LevelHistory
from riskmap.fields import level_title
from riskmap.render.changes import CHANGE_KINDS, change_kind, change_legend, draw_change_marks
from riskmap.ui import tasks
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.swatches import entry_icon
from riskmap.ui.workspace import MapLayer, project_geoms

log = logging.getLogger("riskmap.ui")

ENTERPRISES = "enterprises"
DANGERS = "hidden_dangers"
EDIT_PERMISSIONS = ("edit_features", "assess")
STEP_DELAY_MS = 0  # slider moves are coalesced: the latest position is drawn when the event loop is idle


def _date(value) -> dt.date | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return pd.Timestamp(value).date()
    except (ValueError, TypeError):
        return None


def history_start(project) -> dt.date | None:
    """The first dated record of the project: its earliest assessment or hidden-danger event."""
    out = []
    with project.engine.connect() as conn:
        for sql in ("SELECT min(assessed_at) FROM assessments", "SELECT min(at) FROM hidden_danger_events"):
            try:
                out.append(_date(conn.exec_driver_sql(sql).scalar()))
            except Exception:  # an older project without the table
                log.debug("no %s", sql)
    out = [d for d in out if d is not None]
    return min(out) if out else None


class _Snapshot(NamedTuple):
    at: dt.date
    enterprises: pd.DataFrame | None
    zone_levels: dict
    dangers: pd.DataFrame


def _snapshot(project, at: dt.date, history: LevelHistory | None):
    """The zones and hidden dangers as of ``at``: :func:`riskmap.asof.snapshot`, or with the level history in
    memory the same zone levelling (every zoned unit with its stored settings, nothing written) from its levels
    and the dangers' states then (:func:`riskmap.dangers.danger_table`), without reading the levels by SQL."""
    if history is None:
        from riskmap.asof import snapshot

        return snapshot(project, at)
    from riskmap.dangers import danger_table
    from riskmap.grading.zoning import level_unit, zoned_units

    levels = history.levels_at(at)
    zones = {}
    with project.engine.connect() as conn:
        for unit, cfg in zoned_units(conn).items():
            res = level_unit(conn, unit, cfg, metric_epsg=project.metric_epsg, required=False, levels=levels,
                             write=False)
            zones[unit] = pd.DataFrame({"id": pd.Series([z.id for z in res.zones], dtype="int64"),
                                        "level": pd.Series([z.level for z in res.zones], dtype=object)})
    return _Snapshot(at, None, zones, danger_table(project, at=at))


class AsOfView(QObject):
    """The workspace's layers as they stood on a date (None = today); state restored exactly at today."""

    dateChanged = Signal(object)  # the date shown (None = today)
    applied = Signal(object)  # enterprise colours of this date are on the map
    completed = Signal(object)  # zones and hidden dangers of this date are on the map too

    def __init__(self, workspace, parent: QObject | None = None, today=dt.date.today):
        super().__init__(parent)
        self.workspace = workspace
        self.today = today
        self.at: dt.date | None = None
        self.levels: dict | None = None
        self.snapshot = None
        self._saved: dict[str, MapLayer | tuple] = {}  # layer id → (mask, prepared) or the replaced MapLayer
        self._applying = False
        self._task: tasks.Task | None = None
        self._dangers_all = None  # (gdf of every hidden danger, projected geometries, epsg)
        self.history: LevelHistory | None = None  # read in the background after a project opens
        self._history_task: tasks.Task | None = None
        self._ids = None  # (enterprise layer frame, its ids)
        workspace.layersReset.connect(self._reset)
        workspace.layerChanged.connect(self._layer_changed)

    # ---- public
    def is_past(self) -> bool:
        return self.at is not None

    def set_date(self, at: dt.date | None) -> None:
        """Show the map as of ``at``; today (or later, or None) shows the project as it is."""
        if at is not None and at >= self.today():
            at = None
        if at == self.at:
            return
        if at is None:
            self._restore()
            self.at = None
            self.levels = self.snapshot = None
            self.dateChanged.emit(None)
            self.applied.emit(None)
            self.completed.emit(None)
            return
        self.at = at
        self._apply_enterprises()
        self.dateChanged.emit(at)
        self.applied.emit(at)
        self._start_snapshot(at)

    # ---- enterprises: levels_at → the level column of the prepared layer
    def _apply_enterprises(self) -> None:
        ws = self.workspace
        if ws.project is None or not ws.has_layer(ENTERPRISES):
            return
        self.levels = None
        self._show_enterprises()

    def levels_at(self, at: dt.date) -> dict:
        """Enterprise levels as of ``at``: from the history in memory once it is read, else from the project."""
        if self.history is not None:
            return self.history.levels_at(at)
        from riskmap.asof import levels_at

        return levels_at(self.workspace.project, at)

    def load_history(self, wait: bool = False) -> None:
        """Read the dated records into memory in the background (``wait``: here and now)."""
        project = self.workspace.project
        if project is None:
            return
        if wait:
            self.history = LevelHistory(project)
            return
        if self._history_task is not None:
            self._history_task.cancel()
        task = tasks.Task(lambda progress, cancelled: LevelHistory(project))
        self._history_task = task

        def done(history):
            if not shiboken6.isValid(self):
                return
            if self._history_task is task and self.workspace.project is project:
                self._history_task = None
                self.history = history

        task.succeeded.connect(done)
        task.failed.connect(lambda exc: log.warning("level history not read: %s", exc))
        tasks.start(task)

    def _show_enterprises(self) -> None:
        ws = self.workspace
        layer = ws.layer(ENTERPRISES)
        if layer.lazy:  # too large to hold: its compact arrays are drawn with the levels of the date
            self._show_lazy_enterprises(layer)
            return
        if not len(layer.gdf) or layer.prepared is None:
            return
        mask0, prep0 = self._saved.setdefault(layer.id, (layer.mask, layer.prepared))
        if self._ids is None or self._ids[0] is not layer.gdf:
            self._ids = (layer.gdf, layer.ids)  # read once per layer data (a 100k column takes ~10 ms)
        ids = self._ids[1]
        if self.history is not None:
            exists, lv = self.history.arrays_at(self.at, ids)
        else:
            if self.levels is None:
                self.levels = self.levels_at(self.at)
            levels = self.levels
            exists = pd.Index(levels.keys()).get_indexer(ids) >= 0 if levels else np.zeros(len(ids), dtype=bool)
            lv = pd.Series(ids).map(levels).to_numpy(dtype=float, na_value=np.nan)
        gone = self._not_existing()
        if gone is not None:
            exists &= ~np.isin(ids, gone)
        level = pd.array(lv, dtype="Int64")  # NaN: 未评估 (grey)
        mask = mask0 & exists
        self._applying = True
        try:
            if prep0.n != int(mask0.sum()):  # the prepared layer is not of these rows (a filter on its way)
                prepared = self._prepare_subset(layer, mask, {"level": level})
            elif np.array_equal(mask, mask0):
                prepared = prep0.reclassified(pd.DataFrame({"level": level[mask0]}), labels=False)
            elif prep0.kind == "point" and prep0.geoms is None:
                prepared = prep0.subset(exists[mask0], pd.DataFrame({"level": level[mask]}))
            else:
                prepared = self._prepare_subset(layer, mask, {"level": level})
            ws.show_prepared(layer.id, prepared, mask)
        finally:
            self._applying = False

    def _show_lazy_enterprises(self, layer) -> None:
        mask0, prep0 = self._saved.setdefault(layer.id, (layer.mask, layer.prepared))
        ids = prep0.ids
        if self.history is not None:
            exists, lv = self.history.arrays_at(self.at, ids)
        else:
            if self.levels is None:
                self.levels = self.levels_at(self.at)
            levels = self.levels
            exists = pd.Index(levels.keys()).get_indexer(ids) >= 0 if levels else np.zeros(len(ids), dtype=bool)
            lv = pd.Series(ids).map(levels).to_numpy(dtype=float, na_value=np.nan)
        gone = self._not_existing()
        if gone is not None:
            exists &= ~np.isin(ids, gone)
        self._applying = True
        try:
            self.workspace.show_prepared(layer.id, prep0.with_levels(exists, lv), mask0)
        finally:
            self._applying = False

    def _not_existing(self):
        snap = self.snapshot
        if snap is None or getattr(snap, "at", None) != self.at:
            return None
        ent = getattr(snap, "enterprises", None)
        if ent is None or "exists" not in ent.columns:
            return None
        return ent.loc[~ent["exists"].astype(bool), "id"].to_numpy()

    @staticmethod
    def _prepare_subset(layer: MapLayer, mask: np.ndarray, columns: dict):
        from riskmap.render.prepared import PreparedLayer
        from riskmap.ui.workspace import _with_geometry

        sub = layer.gdf[mask]
        keep = ["id"] + [c for c in (layer.layer_def.label.field if layer.layer_def.label else None,)
                         if c and c in sub.columns]
        frame = sub[[c for c in keep if c in sub.columns] + [sub.geometry.name]].copy()
        for name, values in columns.items():
            frame[name] = values[mask]
        return PreparedLayer.from_gdf(layer.layer_def, _with_geometry(frame, layer.projected[mask]), layer.map_epsg,
                                      projected=True)

    # ---- zones and hidden dangers: the snapshot, off the GUI thread
    def _start_snapshot(self, at: dt.date) -> None:
        if self._task is not None:
            self._task.cancel()
        project, epsg = self.workspace.project, self.workspace.map_epsg
        need_dangers = self.workspace.has_layer(DANGERS) and (self._dangers_all is None
                                                                or self._dangers_all[2] != epsg)

        history = self.history

        def work(progress, cancelled):
            snap = _snapshot(project, at, history)
            dangers = None
            if need_dangers:
                gdf = project.read_table(DANGERS)
                dangers = (gdf, project_geoms(gdf.geometry.array, epsg), epsg)
            return snap, dangers

        task = tasks.Task(work)
        self._task = task

        def done(result):
            if not shiboken6.isValid(self):  # the window closed meanwhile
                return
            if self._task is task:
                self._task = None
            if self.at != at or self.workspace.project is not project:
                return
            snap, dangers = result
            if dangers is not None:
                self._dangers_all = dangers
            self.snapshot = snap
            self._apply_snapshot()
            self.completed.emit(at)

        def failed(exc):
            if not shiboken6.isValid(self):
                return
            if self._task is task:
                self._task = None
            if not isinstance(exc, tasks.Cancelled):
                from riskmap.ui.errors import show_error

                show_error(None, exc)

        task.succeeded.connect(done)
        task.failed.connect(failed)
        tasks.start(task)

    def wait(self, timeout_s: float = 60.0) -> None:
        """Process events until the snapshot of the date shown is drawn (tests, benchmarks)."""
        _process_events_while(lambda: self._task is not None, timeout_s)

    def _apply_snapshot(self) -> None:
        snap = self.snapshot
        if self._not_existing() is not None and len(self._not_existing()):
            self._show_enterprises()
        zone_levels: dict = {}
        for frame in (getattr(snap, "zone_levels", None) or {}).values():
            if frame is not None and len(frame):
                zone_levels.update(zip(frame["id"].astype(int), frame["level"]))
        ws = self.workspace
        self._applying = True
        try:
            if zone_levels:
                for layer in list(ws.layers):
                    style = layer.layer_def.style
                    if layer.layer_def.table != "zones" or style.type != "level" or layer.prepared is None:
                        continue
                    mask0, prep0 = self._saved.setdefault(layer.id, (layer.mask, layer.prepared))
                    ids = np.asarray(prep0.ids)
                    cur = prep0.source[style.field] if style.field in prep0.source.columns else pd.Series(
                        [None] * prep0.n)
                    lv = [zone_levels.get(int(i), c) for i, c in zip(ids, cur)]
                    frame = pd.DataFrame({style.field: pd.array([None if pd.isna(v) else int(v) for v in lv],
                                                                dtype="Int64")})
                    label = layer.layer_def.label
                    if label is not None and label.field in prep0.source.columns:
                        frame[label.field] = prep0.source[label.field].to_numpy()
                    ws.show_prepared(layer.id, prep0.reclassified(frame), mask0)
            self._apply_dangers()
        finally:
            self._applying = False

    def _apply_dangers(self) -> None:
        ws = self.workspace
        snap = self.snapshot
        d = getattr(snap, "dangers", None)
        if not ws.has_layer(DANGERS) or self._dangers_all is None or d is None:
            return
        gdf, projected, epsg = self._dangers_all
        current = ws.layer(DANGERS)
        if DANGERS not in self._saved:
            self._saved[DANGERS] = current
        layer = MapLayer(current.layer_def, gdf, projected, epsg)
        open_ids = d.loc[d["status"].astype(str) != "closed", "id"].astype(int).to_numpy()
        layer.mask = np.isin(layer.ids, open_ids)
        layer.prepare()
        layer.filter = current.filter
        layer.visible, layer.opacity = current.visible, current.opacity
        idx = ws.layers.index(current)
        ws.layers[idx] = layer
        ws.show_prepared(DANGERS, layer.prepared, layer.mask, "data")

    # ---- back to today
    def _restore(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        ws = self.workspace
        self._applying = True
        try:
            for layer_id, saved in list(self._saved.items()):
                if not ws.has_layer(layer_id):
                    continue
                if isinstance(saved, MapLayer):
                    current = ws.layer(layer_id)
                    saved.visible, saved.opacity = current.visible, current.opacity
                    ws.layers[ws.layers.index(current)] = saved
                    ws.show_prepared(layer_id, saved.prepared, saved.mask, "data")
                else:
                    mask, prepared = saved
                    ws.show_prepared(layer_id, prepared, mask)
        finally:
            self._applying = False
            self._saved.clear()

    def _reset(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._saved.clear()
        self._dangers_all = None
        self._ids = None
        if self._history_task is not None:
            self._history_task.cancel()
            self._history_task = None
        self.history = None
        was = self.at
        self.at = self.levels = self.snapshot = None
        if was is not None:
            self.dateChanged.emit(None)
        if self.workspace.project is not None:
            self.load_history()

    def _layer_changed(self, layer_id: str, what: str) -> None:
        """A layer filtered or re-read while a past date is shown: keep its new state as today's and draw it
        again as of the date. Re-read enterprises (an edit, an import, another user) are read into the level
        history again."""
        if layer_id == ENTERPRISES and what == "data" and not self._applying and self.history is not None:
            self.history = None  # until read again, levels come from the project
            self.load_history()
        if self._applying or self.at is None or what not in ("filter", "data"):
            return
        ws = self.workspace
        if layer_id == DANGERS:
            self._saved.pop(DANGERS, None)
            if what == "data":
                self._dangers_all = None
            self._start_snapshot(self.at)
            return
        if layer_id not in self._saved:
            return
        layer = ws.layer(layer_id)
        self._saved[layer_id] = (layer.mask, layer.prepared)
        if layer_id == ENTERPRISES:
            self._show_enterprises()
        elif self.snapshot is not None:
            self._apply_snapshot()


class ChangeLayer(QObject):
    """The changes between two dates as marks over the canvas (an overlay drawn by riskmap.render.changes)."""

    changed = Signal()

    def __init__(self, canvas, parent: QObject | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.kinds = np.zeros(0, dtype=object)
        self.xy = np.zeros((0, 2))
        self.visible = False

    def set_marks(self, kinds, xy) -> None:
        self.kinds = np.asarray(kinds, dtype=object)
        self.xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self.changed.emit()
        self.canvas.update()

    def set_visible(self, on: bool) -> None:
        self.visible = bool(on)
        overlays = self.canvas.overlays
        if on and self.paint not in overlays:
            overlays.append(self.paint)
        elif not on and self.paint in overlays:
            overlays.remove(self.paint)
        self.canvas.update()

    def counts(self) -> dict:
        return {k.key: int((self.kinds == k.key).sum()) for k in CHANGE_KINDS}

    def paint(self, painter, view) -> None:
        if self.visible and len(self.xy):
            draw_change_marks(painter, view, self.kinds, self.xy)


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


def _level_text(value, lang: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return tr("未评估")
    try:
        return level_title(int(value), lang)
    except (TypeError, ValueError):
        return str(value)


class TimelinePanel(QWidget):
    """The 时间 dock: date slider, date edit and 今天; 变化 mode with two dates, its legend and table."""

    rowActivated = Signal(str, int)  # layer id, feature id

    COLUMNS = (QT_TR_NOOP("变化"), QT_TR_NOOP("名称"), QT_TR_NOOP("镇街"), QT_TR_NOOP("原"), QT_TR_NOOP("现"),
               QT_TR_NOOP("日期"), QT_TR_NOOP("说明"))

    def __init__(self, workspace, canvas, dashboard=None, parent=None, today=dt.date.today):
        super().__init__(parent)
        self.workspace = workspace
        self.canvas = canvas
        self.dashboard = dashboard
        self.today = today
        self.lang = current_language()
        self.asof = AsOfView(workspace, self, today=today)
        self.change_layer = ChangeLayer(canvas, self)
        self.changes = None
        self.rows: list[tuple[str, str, int | None, tuple | None]] = []  # kind, layer id, feature id, map xy
        self.start = today()
        self._timer = QTimer(self, singleShot=True, interval=STEP_DELAY_MS, timeout=self._apply_slider)
        self._syncing = False
        self._change_task: tasks.Task | None = None
        # row 1: the date shown
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(tr("拖动查看任一日期的风险图（从第一次评估到今天）"))
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.today_button = QPushButton(tr("今天"))
        self.today_button.setToolTip(tr("回到今天（可编辑）"))
        self.state_label = QLabel()
        self.state_label.setStyleSheet("color:#B71C1C; font-weight:bold")
        row1 = QHBoxLayout()
        row1.addWidget(QLabel(tr("日期")))
        row1.addWidget(self.slider, 1)
        row1.addWidget(self.date_edit)
        row1.addWidget(self.today_button)
        row1.addWidget(self.state_label)
        # row 2: 变化 between two dates
        self.change_box = QCheckBox(tr("变化"))
        self.change_box.setToolTip(tr("在地图上显示两个日期之间的变化：等级升降、新增与减少企业、隐患销号"))
        self.from_edit = QDateEdit()
        self.to_edit = QDateEdit()
        for e in (self.from_edit, self.to_edit):
            e.setCalendarPopup(True)
            e.setDisplayFormat("yyyy-MM-dd")
        self.compute_button = QPushButton(tr("计算变化"))
        self.summary_label = QLabel()
        row2 = QHBoxLayout()
        row2.addWidget(self.change_box)
        row2.addWidget(QLabel(tr("从")))
        row2.addWidget(self.from_edit)
        row2.addWidget(QLabel(tr("到")))
        row2.addWidget(self.to_edit)
        row2.addWidget(self.compute_button)
        row2.addWidget(self.summary_label, 1)
        # the change legend and table
        self.legend = QTreeWidget()
        self.legend.setColumnCount(2)
        self.legend.setHeaderLabels([tr("变化图例"), tr("数量")])
        self.legend.setRootIsDecorated(False)
        self.legend.setMaximumWidth(220)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(c) for c in self.COLUMNS])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._row_selected)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.legend)
        self.split.addWidget(self.table)
        self.split.setStretchFactor(1, 1)
        self.split.hide()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 2)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.split, 1)
        self.slider.valueChanged.connect(self._slider_moved)
        self.date_edit.dateChanged.connect(self._date_edited)
        self.today_button.clicked.connect(self.go_today)
        self.change_box.toggled.connect(self.set_change_mode)
        self.compute_button.clicked.connect(self.compute_changes)
        self.asof.dateChanged.connect(self._shown)
        workspace.layersReset.connect(self.reset_range)
        self._fill_legend()
        self.reset_range()

    # ---- the date shown
    def reset_range(self) -> None:
        """The slider spans the project's history: its first dated record to today."""
        project = self.workspace.project
        today = self.today()
        start = (history_start(project) if project is not None else None) or today
        self.start = min(start, today)
        self._syncing = True
        try:
            self.slider.setRange(0, (today - self.start).days)
            self.slider.setValue(self.slider.maximum())
            self.date_edit.setDateRange(_qdate(self.start), _qdate(today))
            self.date_edit.setDate(_qdate(today))
            for e in (self.from_edit, self.to_edit):
                e.setDateRange(_qdate(self.start), _qdate(today))
            self.from_edit.setDate(_qdate(max(self.start, today - dt.timedelta(days=90))))
            self.to_edit.setDate(_qdate(today))
        finally:
            self._syncing = False
        self.setEnabled(project is not None)
        self.change_box.setChecked(False)

    def date(self) -> dt.date:
        return self.start + dt.timedelta(days=self.slider.value())

    def set_date(self, at: dt.date | None) -> None:
        """Move the control to ``at`` (None: today) and redraw the map for it now."""
        today = self.today()
        at = today if at is None else min(max(at, self.start), today)
        self._syncing = True
        try:
            self.slider.setValue((at - self.start).days)
            self.date_edit.setDate(_qdate(at))
        finally:
            self._syncing = False
        self._timer.stop()
        self.asof.set_date(at)

    def go_today(self) -> None:
        self.set_date(None)

    def _slider_moved(self, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.date_edit.setDate(_qdate(self.date()))
        finally:
            self._syncing = False
        self._timer.start()

    def _date_edited(self, q: QDate) -> None:
        if self._syncing:
            return
        self.set_date(_pydate(q))

    def _apply_slider(self) -> None:
        self.asof.set_date(self.date())

    def _shown(self, at) -> None:
        text = "" if at is None else tr("截至 {date}").format(date=at.isoformat())
        self.state_label.setText(text)
        self.canvas.asof_mark = text
        self.canvas.update()
        if self.dashboard is not None:
            self.dashboard.set_at(at)

    # ---- 变化
    def set_change_mode(self, on: bool) -> None:
        self.split.setVisible(on)
        self.change_layer.set_visible(on)
        if on and self.changes is None:
            self.compute_changes()

    def compute_changes(self, wait: bool = False) -> None:
        """Compute the changes between the two dates in the background, then draw and list them."""
        project = self.workspace.project
        if project is None:
            return
        start, end = _pydate(self.from_edit.date()), _pydate(self.to_edit.date())
        if start > end:
            start, end = end, start
        epsg = self.workspace.map_epsg
        if self._change_task is not None:
            self._change_task.cancel()

        def work(progress, cancelled):
            from riskmap.asof import changes

            ch = changes(project, start, end)
            closed_ids = [int(d["id"]) for d in getattr(ch, "dangers_closed", [])]
            where = None
            danger_xy = {}
            if closed_ids:
                where = f"id IN ({','.join(str(i) for i in closed_ids)})"  # integers only
                gdf = project.read_table(DANGERS, where=where)
                geoms = project_geoms(gdf.geometry.array, epsg)
                for i, g in zip(gdf["id"].astype(int), geoms):
                    if g is not None and not shapely.is_empty(g):
                        danger_xy[int(i)] = (shapely.get_x(g), shapely.get_y(g))
            return ch, danger_xy

        task = tasks.Task(work)
        self._change_task = task
        self.summary_label.setText(tr("正在计算…"))

        def done(result):
            if not shiboken6.isValid(self):
                return
            if self._change_task is task:
                self._change_task = None
                self.show_changes(*result)

        def failed(exc):
            if not shiboken6.isValid(self):
                return
            if self._change_task is task:
                self._change_task = None
            self.summary_label.setText("")
            if not isinstance(exc, tasks.Cancelled):
                from riskmap.ui.errors import show_error

                show_error(self, exc)

        task.succeeded.connect(done)
        task.failed.connect(failed)
        tasks.start(task)

    def wait_changes(self, timeout_s: float = 60.0) -> None:
        """Process events until the changes asked for are shown (tests, benchmarks)."""
        _process_events_while(lambda: self._change_task is not None, timeout_s)

    def _enterprise_xy(self) -> dict:
        ws = self.workspace
        if not ws.has_layer(ENTERPRISES):
            return {}
        layer = ws.layer(ENTERPRISES)
        geoms = layer.projected
        ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms) if len(geoms) else np.zeros(0, dtype=bool)
        ids = layer.ids[ok]
        x, y = shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])
        return {int(i): (float(a), float(b)) for i, a, b in zip(ids, x, y)}

    def show_changes(self, ch, danger_xy: dict | None = None) -> None:
        """Draw and list ``ch`` (a :class:`riskmap.asof.Changes`)."""
        self.changes = ch
        lang = current_language()
        exy = self._enterprise_xy()
        danger_xy = danger_xy or {}
        kinds, xy, rows = [], [], []

        def add(kind, layer_id, fid, pos, cells):
            rows.append((kind, layer_id, fid, pos, cells))
            if pos is not None and kind in {k.key for k in CHANGE_KINDS}:
                kinds.append(kind)
                xy.append(pos)

        for kind in ("raised", "lowered", "first_graded", "added", "removed"):
            for e in getattr(ch, kind, []) or []:
                fid = int(e["id"]) if e.get("id") is not None else None
                moved = kind in ("raised", "lowered", "first_graded")
                frm = _level_text(e.get("from"), lang) if moved else ""
                to = _level_text(e.get("to"), lang) if moved else ""
                if kind == "added":
                    to = _level_text(e.get("level"), lang) if "level" in e else ""
                title = tr("首次评估") if kind == "first_graded" else change_kind(kind).label(lang)
                add(kind, ENTERPRISES, fid, exy.get(fid), [title, e.get("name") or "",
                                                            e.get("town") or "", frm, to, _text(e.get("at")),
                                                            e.get("reason") or ""])
        for z in getattr(ch, "zones", []) or []:
            add("zone", _zone_layer(self.workspace, z.get("unit")), int(z["id"]), None,
                [tr("分区变色"), z.get("name") or "", "", _level_text(z.get("from"), lang), _level_text(z.get("to"), lang),
                 "", (z.get("unit_zh") if lang == "zh" else z.get("unit")) or ""])
        for kind, zh in (("dangers_closed", QT_TR_NOOP("隐患销号")), ("dangers_opened", QT_TR_NOOP("隐患新增")),
                         ("dangers_overdue", QT_TR_NOOP("隐患逾期"))):
            for d in getattr(ch, kind, []) or []:
                fid = int(d["id"])
                key = "danger_closed" if kind == "dangers_closed" else kind
                note = tr("挂牌督办") if d.get("supervised") else ""
                add(key, DANGERS, fid, danger_xy.get(fid) if kind == "dangers_closed" else None,
                    [tr(zh), d.get("title") or "", d.get("enterprise") or "", "", _status_text(d.get("status")),
                     _text(d.get("deadline")), note])
        self.rows = [(r[0], r[1], r[2], r[3]) for r in rows]
        self.change_layer.set_marks(kinds, xy)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, text in enumerate(r[4]):
                item = QTableWidgetItem(str(text))
                if j == 0 and r[0] in {k.key for k in CHANGE_KINDS}:
                    item.setForeground(Qt.GlobalColor.black)
                    item.setIcon(entry_icon(change_legend(None, lang)[[k.key for k in CHANGE_KINDS].index(r[0])]))
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        self._fill_legend()
        start, end = _pydate(self.from_edit.date()), _pydate(self.to_edit.date())
        c = self.change_layer.counts()
        self.summary_label.setText(tr("{a} 至 {b}：上升 {up}，下降 {down}，新增 {new}，减少 {gone}，销号 {closed}").format(
            a=min(start, end).isoformat(), b=max(start, end).isoformat(), up=c["raised"], down=c["lowered"],
            new=c["added"], gone=c["removed"], closed=c["danger_closed"]))

    def _fill_legend(self) -> None:
        self.legend.clear()
        counts = self.change_layer.counts() if self.changes is not None else None
        for e in change_legend(counts, current_language()):
            item = QTreeWidgetItem([e.label, "" if e.count is None else f"{e.count:,}"])
            item.setIcon(0, entry_icon(e))
            self.legend.addTopLevelItem(item)

    def table_rows(self) -> list[list[str]]:
        """The changes table as text (tests read it)."""
        return [[self.table.item(i, j).text() for j in range(self.table.columnCount())]
                for i in range(self.table.rowCount())]

    def _row_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedItems()}
        if not rows:
            return
        kind, layer_id, fid, pos = self.rows[min(rows)]
        ws = self.workspace
        if fid is not None and layer_id and ws.has_layer(layer_id) and len(ws.layer(layer_id).row_of([fid])):
            self.rowActivated.emit(layer_id, int(fid))
        elif pos is not None:
            self.canvas.centre_on(pos[0], pos[1], min(self.canvas.scale(), 10_000))
            self.canvas.flash([shapely.Point(*pos)])


def _text(value) -> str:
    if value is None:
        return ""
    d = _date(value)
    return d.isoformat() if d is not None else str(value)


def _status_text(status) -> str:
    from riskmap.dangers import STATUS_ZH

    if status is None:
        return ""
    return STATUS_ZH.get(status, str(status)) if current_language() == "zh" else str(status)


_UNIT_LAYERS = {"town": "towns", "village": "villages", "grid": "grids", "park": "parks", "county": "counties"}


def _zone_layer(workspace, unit) -> str:
    layer_id = _UNIT_LAYERS.get(str(unit), str(unit))
    return layer_id if workspace.has_layer(layer_id) else "towns"


class TimelineExtension(QObject):
    """The window's side of the time control: the dock, the status bar note and the editing actions."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = TimelinePanel(window.workspace, window.canvas, window.dashboard)
        self.dock = window.add_dock(self.panel, tr("时间"), Qt.DockWidgetArea.BottomDockWidgetArea, "timeline")
        self.status_label = QLabel()
        self.status_label.setStyleSheet("color:#B71C1C; font-weight:bold")
        self.status_label.hide()
        window.statusBar().addPermanentWidget(self.status_label)
        self.panel.asof.dateChanged.connect(self._date_shown)
        self.panel.rowActivated.connect(window.go_to_feature)
        self._disabled: list = []
        window.windowReplaced.connect(self._replaced)

    def _replaced(self, new) -> None:
        """A language switch rebuilt the window around the same layers: put today's drawing back into them,
        then let the new window show the same date."""
        asof = self.panel.asof
        at, changed = asof.at, list(asof._saved)
        asof.set_date(None)
        for layer_id in changed:
            if new.workspace.has_layer(layer_id):
                new.workspace.layerChanged.emit(layer_id, "filter")
        ext = new.extension("timeline")
        if ext is not None and at is not None:
            ext.panel.set_date(at)

    def _date_shown(self, at) -> None:
        w = self.window
        if at is None:
            self.status_label.hide()
            for target in self._disabled:
                target.setEnabled(True)
            self._disabled = []
            w.apply_permissions()  # back to what the user may do
            w.show_message(tr("已回到今天，可以编辑"))
            return
        text = tr("截至 {date}").format(date=at.isoformat())
        self.status_label.setText(text)
        self.status_label.setToolTip(tr("地图显示历史日期；编辑已停用，点“今天”返回后可编辑"))
        self.status_label.show()
        self._disable_editing()
        w.show_message(tr("地图显示 {date} 的风险状况（编辑已停用，点“今天”返回）").format(date=at.isoformat()))

    def _disable_editing(self) -> None:
        """Editing while a past date is shown would mix two dates: the edit and assess actions are off until 今天."""
        for entry in self.window.registry.gated():
            if entry.permission in EDIT_PERMISSIONS:
                t = entry.target
                if t.isEnabled():
                    t.setEnabled(False)
                    t.setToolTip(tr("正在查看历史日期，请先点“今天”返回"))
                    if t not in self._disabled:
                        self._disabled.append(t)
        self.window.zoning_panel.can_compute = False


def install(window) -> TimelineExtension:
    ext = TimelineExtension(window)
    window.register_extension("timeline", ext)
    view = window.menu("view")
    view.addAction(ext.dock.toggleViewAction())
    return ext


def _process_events_while(busy, timeout_s: float) -> None:
    """Process Qt events while ``busy()`` holds, for at most ``timeout_s`` seconds."""
    import time

    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + timeout_s
    while busy() and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)
