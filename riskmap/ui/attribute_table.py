"""The attribute table of a layer: sort, filter (level, industry, town, department, free text), selection
linked both ways with the map, and export of the filtered rows to XLSX.

The model reads straight from the layer's GeoDataFrame: display strings are computed per column once
(by unique value), filtering and sorting are numpy operations over row positions, so 100k rows stay fast.

A lazy layer (``layer.lazy``: too large to read whole; only the rows of the view in memory) has every row in
the table all the same: :class:`LazyFeatureTableModel` holds the ids in their order (one query: ORDER BY the
sorted column, WHERE the filter, in the database) and reads the rows shown 200 at a time.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

from riskmap.fields import display_column, field_title, value_mapping
from riskmap.store import layer_query
from riskmap.ui import lazy_query
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.icons import icon
from riskmap.ui.workspace import LayerFilter

log = logging.getLogger("riskmap.ui")
FILTER_FIELDS = ("level", "industry", "town", "department", "kind", "category", "grade", "status")
ANY = "__any__"
NONE = "__none__"
WINDOW = 200  # rows of a lazy layer read at once
WINDOWS_KEPT = 50  # windows kept (10 000 rows)
COMBO_VALUES = 500  # values listed in a filter combo of a lazy layer (SELECT DISTINCT … LIMIT)
EXPORT_CHUNK = 5000


class FeatureTableModel(QAbstractTableModel):
    """Rows = the layer's features (filtered, sorted); columns = id + the catalogue's fields."""

    def __init__(self, layer, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.layer = layer
        self.lang = lang
        gdf = layer.gdf
        self.fields = ["id"] + [f.name for f in layer.layer_def.fields if f.name in gdf.columns and f.name != "id"]
        self._display: dict[str, np.ndarray] = {}
        self.rows = np.arange(len(gdf), dtype=np.int64)
        self.sort_col: int | None = None
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._numeric = {f for f in self.fields
                         if gdf[f].dtype.kind in "iuf" and value_mapping(layer.layer_def, f, lang) is None}
        self._level_col = self.fields.index("level") if "level" in self.fields else -1
        self._level_colours = None
        if self._level_col >= 0:
            from riskmap.levels import colour

            self._level_colours = {n: QColor(colour(n)).lighter(170) for n in (1, 2, 3, 4)}

    def display(self, field: str) -> np.ndarray:
        arr = self._display.get(field)
        if arr is None:
            arr = display_column(self.layer.layer_def, field, self.layer.gdf[field], self.lang)
            self._display[field] = arr
        return arr

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.fields)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        field = self.fields[index.column()]
        row = int(self.rows[index.row()])
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(field)[row]
        if role == Qt.ItemDataRole.BackgroundRole and index.column() == self._level_col:
            v = self.layer.gdf["level"].iloc[row]
            try:
                return self._level_colours.get(int(v))
            except (TypeError, ValueError):
                return None
        if role == Qt.ItemDataRole.TextAlignmentRole and field in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            f = self.fields[section]
            return "ID" if f == "id" else field_title(self.layer.layer_def, f, self.lang)
        return str(section + 1)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        self.sort_col, self.sort_order = column, order
        self.layoutAboutToBeChanged.emit()
        self.rows = self._sorted(self.rows)
        self.layoutChanged.emit()

    def _sorted(self, rows: np.ndarray) -> np.ndarray:
        if self.sort_col is None or not len(rows):
            return rows
        field = self.fields[self.sort_col]
        raw = self.layer.gdf[field].iloc[rows]
        numeric = raw.dtype.kind in "iufb" or str(raw.dtype) in ("Int64", "Float64", "boolean")
        key = raw.reset_index(drop=True) if numeric else pd.Series(self.display(field)[rows])
        order = key.sort_values(ascending=self.sort_order == Qt.SortOrder.AscendingOrder, kind="stable",
                                na_position="last").index.to_numpy()
        return rows[order]

    def set_rows(self, mask: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = self._sorted(np.flatnonzero(mask).astype(np.int64))
        self.endResetModel()

    def ids(self, positions=None) -> np.ndarray:
        """Feature ids of the model rows (all, or the given row numbers)."""
        all_ids = self.layer.ids
        rows = self.rows if positions is None else self.rows[np.asarray(positions, dtype=np.int64)]
        return all_ids[rows]


class LazyFeatureTableModel(QAbstractTableModel):
    """Every feature of a lazy layer (filtered and sorted in the database): the ids in their order are held
    (8 bytes a row), the rows shown are read by id, :data:`WINDOW` at a time, the last :data:`WINDOWS_KEPT`
    windows kept. ``loaded`` fires when a new order (filter, sort, data) has arrived from the worker."""

    loaded = Signal()

    def __init__(self, layer, project, lang: str = "zh", parent=None):
        super().__init__(parent)
        self.layer = layer
        self.project = project
        self.lang = lang
        ld = layer.layer_def
        self.fields = layer_query.columns(ld)
        self.order = np.zeros(0, dtype=np.int64)
        self.total: int | None = None  # rows of the layer, unfiltered
        self.where = None
        self.sort_col: int | None = None
        self.sort_order = Qt.SortOrder.AscendingOrder
        self.loading = False
        self._windows: OrderedDict[int, tuple] = OrderedDict()
        self._generation = 0
        self._reload_pending = False
        self._numeric = {f for f in self.fields if layer_query.numeric(ld, f) and value_mapping(ld, f, lang) is None}
        self._level_col = self.fields.index("level") if "level" in self.fields else -1
        self._level_colours = None
        if self._level_col >= 0:
            from riskmap.levels import colour

            self._level_colours = {n: QColor(colour(n)).lighter(170) for n in (1, 2, 3, 4)}

    @property
    def rows(self) -> np.ndarray:
        """The ids in table order (what FeatureTableModel.rows counts)."""
        return self.order

    # ---- the order, from the database
    def _order_by(self):
        if self.sort_col is None or self.sort_col < 0:
            return None, False
        field, desc = self.fields[self.sort_col], self.sort_order == Qt.SortOrder.DescendingOrder
        return (None, False) if field == "id" and not desc else (field, desc)

    def reload(self, wait: bool = False) -> None:
        """Ask again for the ids in order (filter, sort, the layer's rows): on a worker, once for all the
        changes made before the event loop runs again (the view sorts twice as it starts); here with ``wait``."""
        if wait:
            self._load(True)
            return
        self.loading = True
        self._generation += 1  # an answer on its way is stale now
        if not self._reload_pending:
            self._reload_pending = True
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self, self._load)  # not after the model is gone

    def _load(self, wait: bool = False) -> None:
        self._reload_pending = False
        self._generation += 1
        gen = self._generation
        project, ld, where = self.project, self.layer.layer_def, self.where
        order_by, desc = self._order_by()
        need_total = self.total is None

        def work(progress=None, cancelled=None):
            ids = layer_query.ordered_ids(project, ld, order_by=order_by, descending=desc, where=where)
            total = layer_query.row_count(project, ld) if need_total else None
            return ids, total

        self.loading = True
        if wait:
            self._arrived(gen, work())
            return
        from riskmap.ui import tasks

        task = tasks.Task(work)
        task.succeeded.connect(lambda result: self._arrived(gen, result))
        task.failed.connect(lambda exc: self._failed(gen, exc))
        self._task = task
        lazy_query.start(task)

    def _arrived(self, gen: int, result) -> None:
        if gen != self._generation:
            return  # a newer filter or sort is on its way
        ids, total = result
        self.beginResetModel()
        self.order = ids
        if total is not None:
            self.total = total
        self._windows.clear()
        self.loading = False
        self.endResetModel()
        self.loaded.emit()

    def _failed(self, gen: int, exc) -> None:
        if gen == self._generation:
            self.loading = False
            log.error("attribute table of %s: %s", self.layer.id, exc)
            from riskmap.ui.errors import show_error

            show_error(None, exc)

    def set_where(self, where, wait: bool = False) -> None:
        self.where = where
        self.reload(wait)

    def data_changed(self) -> None:
        """The layer's rows changed (an edit, another user): count and order again."""
        self.total = None
        self.reload()

    # ---- Qt model
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.order)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.fields)

    def window(self, w: int) -> tuple:
        """(rows, display strings per field) of window ``w``, read when first shown."""
        got = self._windows.get(w)
        if got is not None:
            self._windows.move_to_end(w)
            return got
        ids = self.order[w * WINDOW:(w + 1) * WINDOW]
        df = layer_query.rows_by_ids(self.project, self.layer.layer_def, ids)
        df = df.set_index("id", drop=False).reindex(ids)  # a row deleted meanwhile shows empty
        df["id"] = ids
        shown = {f: display_column(self.layer.layer_def, f, df[f].reset_index(drop=True), self.lang)
                 for f in self.fields}
        got = self._windows[w] = (df.reset_index(drop=True), shown)
        while len(self._windows) > WINDOWS_KEPT:
            self._windows.popitem(last=False)
        return got

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.order):
            return None
        field = self.fields[index.column()]
        row = index.row()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.window(row // WINDOW)[1][field][row % WINDOW]
        if role == Qt.ItemDataRole.BackgroundRole and index.column() == self._level_col:
            v = self.window(row // WINDOW)[0]["level"].iloc[row % WINDOW]
            try:
                return self._level_colours.get(int(v))
            except (TypeError, ValueError):
                return None
        if role == Qt.ItemDataRole.TextAlignmentRole and field in self._numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            f = self.fields[section]
            return "ID" if f == "id" else field_title(self.layer.layer_def, f, self.lang)
        return str(section + 1)

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        before = self._order_by()
        self.sort_col, self.sort_order = column, order
        if self._order_by() != before:
            self.reload()

    def ids(self, positions=None) -> np.ndarray:
        """Feature ids of the model rows (all, or the given row numbers)."""
        return self.order if positions is None else self.order[np.asarray(positions, dtype=np.int64)]

    def read_rows(self, progress=None, cancelled=None):
        """Every row in table order, :data:`EXPORT_CHUNK` at a time (for an export), as one DataFrame."""
        parts = []
        n = len(self.order)
        for a in range(0, n, EXPORT_CHUNK):
            if cancelled is not None and cancelled():
                from riskmap.progress import Cancelled

                raise Cancelled()
            ids = self.order[a:a + EXPORT_CHUNK]
            df = layer_query.rows_by_ids(self.project, self.layer.layer_def, ids)
            parts.append(df.set_index("id", drop=False).reindex(ids).assign(id=ids))
            if progress is not None:
                progress(0.5 * min(1.0, (a + EXPORT_CHUNK) / max(n, 1)), "")
        if not parts:
            return layer_query.rows_by_ids(self.project, self.layer.layer_def, [])
        return pd.concat(parts, ignore_index=True)


class AttributeTable(QWidget):
    """Table view + filter bar + actions, for one layer."""

    zoomRequested = Signal()

    def __init__(self, workspace, layer_id: str, parent=None):
        super().__init__(parent)
        self.workspace = workspace
        self.layer_id = layer_id
        self._syncing = False
        layer = workspace.layer(layer_id)
        self.lang = current_language()
        self.lazy = lazy_query.is_lazy(layer)
        if self.lazy:  # every row, from the database, in windows
            self.model = LazyFeatureTableModel(layer, lazy_query.project_of(layer, workspace), self.lang, self)
            self.model.loaded.connect(self._lazy_loaded)
        else:
            self.model = FeatureTableModel(layer, self.lang, self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.horizontalHeader().setSortIndicatorShown(True)
        self.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.setAlternatingRowColors(True)
        self.view.selectionModel().selectionChanged.connect(self._table_selection_changed)
        self.view.doubleClicked.connect(self._double_clicked)
        # filter bar
        self.combos: dict[str, QComboBox] = {}
        bar = QHBoxLayout()
        for field in FILTER_FIELDS:
            if field in self.model.fields:
                combo = self._combo(layer, field)
                self.combos[field] = combo
                bar.addWidget(QLabel(field_title(layer.layer_def, field, self.lang)))
                bar.addWidget(combo)
        self.text = QLineEdit()
        self.text.setPlaceholderText(tr("搜索任意字段…"))
        self.text.setClearButtonEnabled(True)
        self.text.textChanged.connect(self.apply_filter)
        bar.addWidget(self.text, 1)
        self.map_follow = QCheckBox(tr("地图同步筛选"))
        self.map_follow.setToolTip(tr("勾选后地图上只显示表中筛选出的要素"))
        self.map_follow.toggled.connect(self.apply_filter)
        bar.addWidget(self.map_follow)
        # actions
        actions = QHBoxLayout()
        self.count_label = QLabel()
        b_all = QPushButton(tr("全选筛选结果"))
        b_all.clicked.connect(self.select_all_rows)
        b_clear = QPushButton(icon("clear_selection"), tr("取消选择"))
        b_clear.clicked.connect(lambda: self.workspace.select(self.layer_id, [], "replace"))
        b_zoom = QPushButton(icon("zoom_selection"), tr("缩放到选中"))
        b_zoom.clicked.connect(self.zoomRequested.emit)
        b_xlsx = QPushButton(icon("export"), tr("导出为 XLSX…"))
        b_xlsx.clicked.connect(self.export_dialog)
        actions.addWidget(self.count_label, 1)
        for b in (b_all, b_clear, b_zoom, b_xlsx):
            actions.addWidget(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)
        lay.addLayout(actions)
        workspace.selectionChanged.connect(self._map_selection_changed)
        workspace.layerChanged.connect(self._layer_changed)
        self.apply_filter()
        if self.lazy:  # after the rows are asked for (the worker takes them first)
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self, self._fill_lazy_combos)
        self._map_selection_changed(layer_id)

    def _combo(self, layer, field: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(tr("全部"), ANY)
        combo.setMaxVisibleItems(25)
        combo.currentIndexChanged.connect(self.apply_filter)
        if self.lazy:  # filled from SELECT DISTINCT on a worker (_fill_lazy_combos)
            return combo
        col = layer.gdf[field]
        mapping = value_mapping(layer.layer_def, field, self.lang) or {}
        values = col.dropna().unique().tolist()
        try:
            values.sort()
        except TypeError:
            values.sort(key=str)
        for v in values:
            key = int(v) if isinstance(v, float | np.floating) and float(v).is_integer() else v
            if isinstance(key, np.integer):
                key = int(key)
            combo.addItem(str(mapping.get(key, mapping.get(str(key), key))), key)
        if col.isna().any():
            combo.addItem(tr("（空）") if field != "level" else _no_level(layer.layer_def), NONE)
        return combo

    def _fill_lazy_combos(self) -> None:
        """The values of a lazy layer's filter combos: its distinct values in the database (at most
        :data:`COMBO_VALUES` a field), read on a worker."""
        from riskmap.ui import tasks

        layer = self.workspace.layer(self.layer_id)
        project, ld, fields = self.model.project, layer.layer_def, list(self.combos)

        def work(progress, cancelled):
            return {f: layer_query.distinct_values(project, ld, f, limit=COMBO_VALUES) for f in fields}

        task = tasks.Task(work)
        task.succeeded.connect(self._lazy_combos_arrived)
        self._combo_task = task
        lazy_query.start(task)

    def _lazy_combos_arrived(self, values: dict) -> None:
        layer = self.model.layer
        for field, pairs in values.items():
            combo = self.combos.get(field)
            if combo is None:
                continue
            mapping = value_mapping(layer.layer_def, field, self.lang) or {}
            combo.blockSignals(True)
            for v, _n in pairs:
                if v is None:
                    continue
                key = int(v) if isinstance(v, float) and float(v).is_integer() else v
                combo.addItem(str(mapping.get(key, mapping.get(str(key), key))), key)
            if any(v is None for v, _n in pairs):
                combo.addItem(tr("（空）") if field != "level" else _no_level(layer.layer_def), NONE)
            combo.blockSignals(False)
        self.combos_loaded = True

    def set_combo(self, field: str, value) -> None:
        """Choose a value in a filter combo by its stored value (tests, dashboard)."""
        combo = self.combos[field]
        for i in range(combo.count()):
            if combo.itemData(i) == value:
                combo.setCurrentIndex(i)
                return
        raise KeyError(value)

    def current_filter(self) -> LayerFilter:
        values = {}
        for field, combo in self.combos.items():
            v = combo.currentData()
            if v == ANY or v is None:
                continue
            values[field] = frozenset({None}) if v == NONE else frozenset({v})
        return LayerFilter(values, self.text.text())

    def apply_filter(self) -> None:
        layer = self.workspace.layer(self.layer_id)
        flt = self.current_filter()
        if self.lazy:  # the filter as SQL; the rows come from a worker (_lazy_loaded)
            self.model.set_where(lazy_query.filter_where(layer, flt))
            self.count_label.setText(tr("正在查询…"))
        else:
            mask = flt.mask(layer) if not flt.is_empty() else np.ones(len(layer.gdf), dtype=bool)
            self.model.set_rows(mask)
            self.count_label.setText(tr("显示 {shown} / {total} 条").format(shown=len(self.model.rows),
                                                                        total=len(layer.gdf)))
        if self.map_follow.isChecked():
            self.workspace.set_filter(self.layer_id, flt)
        elif not layer.filter.is_empty() and getattr(self, "_applied_to_map", False):
            self.workspace.set_filter(self.layer_id, None)
        self._applied_to_map = self.map_follow.isChecked()
        self._map_selection_changed(self.layer_id)

    def _lazy_loaded(self) -> None:
        self.count_label.setText(tr("显示 {shown} / {total} 条").format(
            shown=len(self.model.order), total="…" if self.model.total is None else self.model.total))
        self._map_selection_changed(self.layer_id)

    # ---- selection, both ways
    def select_all_rows(self) -> None:
        self.workspace.select(self.layer_id, self.model.ids(), "replace")

    def _table_selection_changed(self, *_) -> None:
        if self._syncing:
            return
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        self._syncing = True
        try:
            self.workspace.select(self.layer_id, self.model.ids(rows), "replace")
        finally:
            self._syncing = False

    def _map_selection_changed(self, layer_id: str) -> None:
        if self._syncing or (layer_id and layer_id != self.layer_id):
            return
        selected = self.workspace.selected_ids(self.layer_id)
        pos = np.flatnonzero(np.isin(self.model.ids(), selected)) if len(selected) else np.zeros(0, dtype=np.int64)
        sel = QItemSelection()
        if len(pos):
            breaks = np.flatnonzero(np.diff(pos) != 1)
            starts = np.concatenate([[pos[0]], pos[breaks + 1]])
            ends = np.concatenate([pos[breaks], [pos[-1]]])
            last_col = self.model.columnCount() - 1
            for a, b in zip(starts.tolist(), ends.tolist()):
                sel.select(self.model.index(a, 0), self.model.index(b, last_col))
        self._syncing = True
        try:
            self.view.selectionModel().select(sel, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                              | QItemSelectionModel.SelectionFlag.Rows)
            if len(pos):
                self.view.scrollTo(self.model.index(int(pos[0]), 0))
        finally:
            self._syncing = False

    def selected_ids(self) -> np.ndarray:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return self.model.ids(rows)

    def _double_clicked(self, index) -> None:
        fid = int(self.model.ids([index.row()])[0])
        self.workspace.select(self.layer_id, [fid], "replace")
        self.zoomRequested.emit()

    def _layer_changed(self, layer_id: str, what: str) -> None:
        if layer_id != self.layer_id or what != "data":
            return
        if self.lazy:
            self.model.layer = self.workspace.layer(layer_id)
            self.model.data_changed()
            return
        self.model.beginResetModel()
        self.model.layer = self.workspace.layer(layer_id)
        self.model._display.clear()
        self.model.endResetModel()
        self.apply_filter()

    # ---- export
    def export_columns(self, progress=None, cancelled=None) -> tuple[list[str], list]:
        """Headers and column data of the rows shown (numbers stay numbers); a lazy layer's read from the
        database in chunks (``progress``, ``cancelled`` as for a task)."""
        headers, columns = [], []
        if self.lazy:
            gdf = self.model.read_rows(progress, cancelled)
            rows = np.arange(len(gdf))
        else:
            gdf = self.model.layer.gdf
            rows = self.model.rows
        for i, f in enumerate(self.model.fields):
            headers.append(self.model.headerData(i, Qt.Orientation.Horizontal))
            col = gdf[f]
            mapped = value_mapping(self.model.layer.layer_def, f, self.lang) is not None
            if col.dtype.kind in "iuf" and not mapped:
                columns.append([None if pd.isna(v) else v for v in col.iloc[rows].tolist()])
            elif str(col.dtype) in ("Int64", "Float64") and not mapped:
                columns.append([None if pd.isna(v) else v for v in col.iloc[rows].tolist()])
            elif self.lazy:
                columns.append(display_column(self.model.layer.layer_def, f, col.reset_index(drop=True),
                                              self.lang).tolist())
            else:
                columns.append(self.model.display(f)[rows].tolist())
        return headers, columns

    def export_xlsx(self, path, progress=None, cancelled=None) -> int:
        from riskmap.export.table import write_rows

        headers, columns = self.export_columns()
        layer = self.model.layer
        return write_rows(path, layer.title(self.lang), headers, columns,
                          demo=bool(self.workspace.project is not None and self.workspace.project.is_demo),
                          progress=progress, cancelled=cancelled)

    def export_dialog(self) -> None:
        from riskmap.ui.tasks import run_task

        layer = self.model.layer
        path, _ = QFileDialog.getSaveFileName(self, tr("导出为 XLSX"), f"{layer.title(self.lang)}.xlsx",
                                              tr("Excel 工作簿 (*.xlsx)"))
        if not path:
            return
        read_now = not self.lazy  # a lazy layer's rows are read on the worker
        headers, columns = self.export_columns() if read_now else (None, None)
        demo = bool(self.workspace.project is not None and self.workspace.project.is_demo)

        def work(progress, cancelled):
            from riskmap.export.table import write_rows

            h, c = (headers, columns) if read_now else self.export_columns(progress, cancelled)
            return write_rows(path, layer.title(self.lang), h, c, demo=demo, progress=progress,
                              cancelled=cancelled)

        run_task(self, tr("正在导出 XLSX"), work,
                 on_done=lambda n: self.window().statusBar().showMessage(
                     tr("已导出 {n} 条记录到 {path}").format(n=n, path=path), 8000)
                 if hasattr(self.window(), "statusBar") else None)


def _no_level(layer_def) -> str:
    """An enterprise without a level is 未评估 (not assessed); a zone without one 未定级 (not levelled)."""
    return tr("未评估") if layer_def.table == "enterprises" else tr("未定级")
