"""The attribute table of a layer: sort, filter (level, industry, town, department, free text), selection
linked both ways with the map, and export of the filtered rows to XLSX.

The model reads straight from the layer's GeoDataFrame: display strings are computed per column once
(by unique value), filtering and sorting are numpy operations over row positions, so 100k rows stay fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QTableView,
    QVBoxLayout, QWidget,
)

from riskmap.fields import display_column, field_title, value_mapping
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.icons import icon
from riskmap.ui.workspace import LayerFilter

FILTER_FIELDS = ("level", "industry", "town", "department", "kind", "category", "grade", "status")
ANY = "__any__"
NONE = "__none__"


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
        self._map_selection_changed(layer_id)

    def _combo(self, layer, field: str) -> QComboBox:
        combo = QComboBox()
        combo.addItem(tr("全部"), ANY)
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
        combo.setMaxVisibleItems(25)
        combo.currentIndexChanged.connect(self.apply_filter)
        return combo

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
        mask = flt.mask(layer) if not flt.is_empty() else np.ones(len(layer.gdf), dtype=bool)
        self.model.set_rows(mask)
        self.count_label.setText(tr("显示 {shown} / {total} 条").format(shown=len(self.model.rows), total=len(layer.gdf)))
        if self.map_follow.isChecked():
            self.workspace.set_filter(self.layer_id, flt)
        elif not layer.filter.is_empty() and getattr(self, "_applied_to_map", False):
            self.workspace.set_filter(self.layer_id, None)
        self._applied_to_map = self.map_follow.isChecked()
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
        self.model.beginResetModel()
        self.model.layer = self.workspace.layer(layer_id)
        self.model._display.clear()
        self.model.endResetModel()
        self.apply_filter()

    # ---- export
    def export_columns(self) -> tuple[list[str], list]:
        """Headers and column data of the rows shown (numbers stay numbers)."""
        headers, columns = [], []
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
        headers, columns = self.export_columns()
        demo = bool(self.workspace.project is not None and self.workspace.project.is_demo)

        def work(progress, cancelled):
            from riskmap.export.table import write_rows

            return write_rows(path, layer.title(self.lang), headers, columns, demo=demo, progress=progress,
                              cancelled=cancelled)

        run_task(self, tr("正在导出 XLSX"), work,
                 on_done=lambda n: self.window().statusBar().showMessage(
                     tr("已导出 {n} 条记录到 {path}").format(n=n, path=path), 8000)
                 if hasattr(self.window(), "statusBar") else None)


def _no_level(layer_def) -> str:
    """An enterprise without a level is 未评估 (not assessed); a zone without one 未定级 (not levelled)."""
    return tr("未评估") if layer_def.table == "enterprises" else tr("未定级")
