"""The per-layer filter dialog: tick the values to show for any field with few distinct values, plus free text.

A lazy layer (too large to read whole: only the view's rows in memory) takes its fields, values and counts
from the project (SELECT DISTINCT … LIMIT, on a worker), and counts what the filter lets through there."""

from __future__ import annotations

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
    QVBoxLayout,
)

from riskmap.fields import field_title, value_mapping
from riskmap.store import layer_query
from riskmap.ui import lazy_query
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.workspace import LayerFilter

MAX_VALUES = 80
NONE_KEY = "__none__"


def lazy_values(layer, project=None) -> dict[str, list[tuple]]:
    """A lazy layer's catalogue fields with at most MAX_VALUES distinct values, each with its (value, count)
    pairs (missing last), asked of the project; a field with more values is left out without counting them."""
    project = project if project is not None else lazy_query.project_of(layer)
    out = {}
    for f in layer_query.columns(layer.layer_def):
        if f == "id":
            continue
        pairs = layer_query.distinct_values(project, layer.layer_def, f, limit=MAX_VALUES + 1)
        n = sum(1 for v, _ in pairs if v is not None)
        if 0 < n <= MAX_VALUES and all(c is not None for _, c in pairs):
            out[f] = pairs
    return out


def filter_fields(layer) -> list[str]:
    """Catalogue fields with at most MAX_VALUES distinct values (level, industry, town, kind …)."""
    if lazy_query.is_lazy(layer):
        return list(lazy_values(layer))
    out = []
    for f in layer.layer_def.fields:
        if f.name in layer.gdf.columns:
            n = layer.gdf[f.name].nunique(dropna=True)
            if 0 < n <= MAX_VALUES:
                out.append(f.name)
    return out


class FilterDialog(QDialog):
    def __init__(self, layer, parent=None):
        super().__init__(parent)
        self.layer = layer
        self.lang = current_language()
        self.setWindowTitle(tr("筛选图层：") + layer.title(self.lang))
        self.chosen: dict[str, frozenset | None] = dict(layer.filter.values)
        self.lazy = lazy_query.is_lazy(layer)
        self.lazy_values: dict[str, list[tuple]] | None = None
        self._total: int | None = None
        self._count_gen = 0
        self.field = QComboBox()
        if not self.lazy:
            for f in filter_fields(layer):
                self.field.addItem(field_title(layer.layer_def, f, self.lang), f)
        self.values = QListWidget()
        self.values.itemChanged.connect(self._ticked)
        self.text = QLineEdit(layer.filter.text)
        self.text.setPlaceholderText(tr("任意字段包含的文字"))
        self.count = QLabel()
        all_btn = QPushButton(tr("全选"))
        all_btn.clicked.connect(lambda: self._tick_all(True))
        none_btn = QPushButton(tr("全不选"))
        none_btn.clicked.connect(lambda: self._tick_all(False))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
                                   | QDialogButtonBox.StandardButton.Reset)
        buttons.button(QDialogButtonBox.StandardButton.Reset).setText(tr("清除筛选"))
        buttons.button(QDialogButtonBox.StandardButton.Reset).clicked.connect(self._reset)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("确定"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("字段"), self.field)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.values, 1)
        row = QFormLayout()
        lay.addWidget(all_btn)
        lay.addWidget(none_btn)
        row.addRow(tr("文字"), self.text)
        lay.addLayout(row)
        lay.addWidget(self.count)
        lay.addWidget(buttons)
        self.field.currentIndexChanged.connect(self._load_values)
        self.text.textChanged.connect(self._update_count)
        if self.lazy:
            self._read_lazy_values()
        self._load_values()
        self.resize(380, 480)

    def _read_lazy_values(self) -> None:
        from riskmap.ui import tasks

        layer, project = self.layer, lazy_query.project_of(self.layer)
        self.count.setText(tr("正在读取字段值…"))
        task = tasks.Task(lambda progress, cancelled: (lazy_values(layer, project),
                                                       layer_query.row_count(project, layer.layer_def)))
        task.succeeded.connect(self._lazy_values_arrived)
        self._values_task = task
        lazy_query.start(task)

    def _lazy_values_arrived(self, result) -> None:
        self.lazy_values, self._total = result
        self.field.blockSignals(True)
        for f in self.lazy_values:
            self.field.addItem(field_title(self.layer.layer_def, f, self.lang), f)
        self.field.blockSignals(False)
        self._load_values()

    def _load_values(self) -> None:
        name = self.field.currentData()
        self.values.blockSignals(True)
        self.values.clear()
        if name is None:
            self.values.blockSignals(False)
            return
        mapping = value_mapping(self.layer.layer_def, name, self.lang) or {}
        if self.lazy:  # the whole layer's values, from the project
            pairs = self.lazy_values.get(name, []) if self.lazy_values else []
            counts = pd.Series({v: n for v, n in pairs if v is not None}, dtype=object)
            n_na = sum(n for v, n in pairs if v is None)
        else:
            col = self.layer.gdf[name]
            counts = col.value_counts(dropna=True)
            n_na = int(col.isna().sum())
        allowed = self.chosen.get(name)
        keys = list(counts.index)
        try:
            keys.sort()
        except TypeError:
            keys.sort(key=str)
        for v in keys:
            key = int(v) if isinstance(v, float | np.floating) and float(v).is_integer() else v
            if isinstance(key, np.integer):
                key = int(key)
            text = str(mapping.get(key, mapping.get(str(key), key)))
            item = QListWidgetItem(f"{text}  ({int(counts[v])})")
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if allowed is None or key in allowed else Qt.CheckState.Unchecked)
            self.values.addItem(item)
        if n_na:
            empty = tr("（空）")
            item = QListWidgetItem(f"{empty}  ({n_na})")
            item.setData(Qt.ItemDataRole.UserRole, NONE_KEY)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if allowed is None or None in allowed else Qt.CheckState.Unchecked)
            self.values.addItem(item)
        self.values.blockSignals(False)
        self._update_count()

    def _ticked(self, item=None) -> None:
        name = self.field.currentData()
        keys, all_on = set(), True
        for i in range(self.values.count()):
            it = self.values.item(i)
            k = it.data(Qt.ItemDataRole.UserRole)
            if it.checkState() == Qt.CheckState.Checked:
                keys.add(None if k == NONE_KEY else k)
            else:
                all_on = False
        self.chosen[name] = None if all_on else frozenset(keys)
        self._update_count()

    def _tick_all(self, on: bool) -> None:
        self.values.blockSignals(True)
        for i in range(self.values.count()):
            self.values.item(i).setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.values.blockSignals(False)
        self._ticked()

    def _reset(self) -> None:
        self.chosen = {}
        self.text.clear()
        self._load_values()

    def result_filter(self) -> LayerFilter:
        return LayerFilter({k: v for k, v in self.chosen.items() if v is not None}, self.text.text())

    def _update_count(self) -> None:
        flt = self.result_filter()
        if self.lazy:
            self._lazy_count(flt)
            return
        n = int(flt.mask(self.layer).sum()) if not flt.is_empty() else len(self.layer.gdf)
        self.count.setText(tr("将显示 {n} / {total} 个要素").format(n=n, total=len(self.layer.gdf)))

    def _lazy_count(self, flt) -> None:
        """Count in the project what ``flt`` lets through, on a worker (the latest request wins)."""
        if self._total is None:
            return  # the values are still being read; counted when they come
        from riskmap.ui import tasks

        self._count_gen += 1
        gen = self._count_gen
        if flt.is_empty():
            self._count_arrived(gen, self._total)
            return
        project, ld, where = lazy_query.project_of(self.layer), self.layer.layer_def, lazy_query.filter_where(self.layer, flt)
        self.count.setText(tr("将显示 {n} / {total} 个要素").format(n="…", total=self._total))
        task = tasks.Task(lambda progress, cancelled: layer_query.row_count(project, ld, where))
        task.succeeded.connect(lambda n: self._count_arrived(gen, n))
        self._count_task = task
        lazy_query.start(task)

    def _count_arrived(self, gen: int, n: int) -> None:
        if gen == self._count_gen:
            self.shown = int(n)
            self.count.setText(tr("将显示 {n} / {total} 个要素").format(n=n, total=self._total))


def edit_filter(layer, parent=None) -> LayerFilter | None:
    """Run the dialog; the new filter, or None when cancelled."""
    dlg = FilterDialog(layer, parent)
    if dlg.exec() == QDialog.DialogCode.Accepted:
        return dlg.result_filter()
    return None

