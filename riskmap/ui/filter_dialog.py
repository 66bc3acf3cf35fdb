"""The per-layer filter dialog: tick the values to show for any field with few distinct values, plus free text."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
    QVBoxLayout,
)

from riskmap.fields import field_title, value_mapping
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.workspace import LayerFilter

MAX_VALUES = 80
NONE_KEY = "__none__"


def filter_fields(layer) -> list[str]:
    """Catalogue fields with at most MAX_VALUES distinct values (level, industry, town, kind …)."""
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
        self.field = QComboBox()
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
        self._load_values()
        self.resize(380, 480)

    def _load_values(self) -> None:
        name = self.field.currentData()
        self.values.blockSignals(True)
        self.values.clear()
        if name is None:
            self.values.blockSignals(False)
            return
        col = self.layer.gdf[name]
        mapping = value_mapping(self.layer.layer_def, name, self.lang) or {}
        counts = col.value_counts(dropna=True)
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
        n_na = int(col.isna().sum())
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
        n = int(flt.mask(self.layer).sum()) if not flt.is_empty() else len(self.layer.gdf)
        self.count.setText(tr("将显示 {n} / {total} 个要素").format(n=n, total=len(self.layer.gdf)))


def edit_filter(layer, parent=None) -> LayerFilter | None:
    """Run the dialog; the new filter, or None when cancelled."""
    dlg = FilterDialog(layer, parent)
    if dlg.exec() == QDialog.DialogCode.Accepted:
        return dlg.result_filter()
    return None

