"""Settings: interface language, map coordinate system, labels, and the optional online base maps
(天地图 with the user's own key, or any XYZ/WMTS URL). Everything is remembered between sessions."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPushButton, QVBoxLayout,
)
from PySide6.QtCore import Qt

from riskmap.errors import RiskmapError
from riskmap.ui.errors import show_error
from riskmap.ui.forms import ok_cancel
from riskmap.ui.i18n import LANGUAGES, tr
from riskmap.ui.tiles import TileSource, tianditu_sources


class SettingsDialog(QDialog):
    def __init__(self, prefs, parent=None):
        super().__init__(parent)
        self.prefs = prefs
        self.setWindowTitle(tr("设置"))
        self.language = QComboBox()
        for key, name in LANGUAGES.items():
            self.language.addItem(name, key)
        self.language.setCurrentIndex(self.language.findData(prefs.language()))
        self.crs = QComboBox()
        self.crs.addItem(tr("高斯-克吕格 3 度带（CGCS2000，项目默认）"), "gk")
        self.crs.addItem(tr("Web 墨卡托（EPSG:3857，与在线底图一致）"), "webmercator")
        self.crs.setCurrentIndex(self.crs.findData(prefs.map_crs()))
        self.labels = QCheckBox(tr("显示标注"))
        self.labels.setChecked(prefs.labels_on())
        general = QGroupBox(tr("常规"))
        f = QFormLayout(general)
        f.addRow(tr("界面语言"), self.language)
        f.addRow(tr("地图坐标系"), self.crs)
        f.addRow("", self.labels)
        note = QLabel(tr("更改界面语言后，主窗口会立即以新语言重建。"))
        note.setStyleSheet("color:#666")
        f.addRow("", note)
        # base maps
        tiles = QGroupBox(tr("在线底图（默认关闭；离线时仅显示项目自带边界）"))
        tl = QVBoxLayout(tiles)
        self.sources = QListWidget()
        for d in prefs.tile_sources():
            self._add_item(d)
        tl.addWidget(self.sources)
        row = QHBoxLayout()
        self.tdt_key = QLineEdit(prefs.tianditu_key())
        self.tdt_key.setPlaceholderText(tr("天地图密钥 tk（在天地图官网申请）"))
        self.tdt_kind = QComboBox()
        self.tdt_kind.addItem(tr("矢量"), "vec")
        self.tdt_kind.addItem(tr("影像"), "img")
        self.tdt_kind.addItem(tr("地形"), "ter")
        add_tdt = QPushButton(tr("添加天地图"))
        add_tdt.clicked.connect(self._add_tianditu)
        row.addWidget(self.tdt_key, 1)
        row.addWidget(self.tdt_kind)
        row.addWidget(add_tdt)
        tl.addLayout(row)
        row2 = QHBoxLayout()
        self.url_name = QLineEdit()
        self.url_name.setPlaceholderText(tr("名称"))
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://…/{z}/{x}/{y}.png")
        add_url = QPushButton(tr("添加地址"))
        add_url.clicked.connect(self._add_url)
        row2.addWidget(self.url_name)
        row2.addWidget(self.url, 2)
        row2.addWidget(add_url)
        tl.addLayout(row2)
        remove = QPushButton(tr("删除选中的底图"))
        remove.clicked.connect(lambda: [self.sources.takeItem(self.sources.row(i)) for i in self.sources.selectedItems()])
        tl.addWidget(remove)
        buttons = ok_cancel(self, tr("确定"))
        lay = QVBoxLayout(self)
        lay.addWidget(general)
        lay.addWidget(tiles, 1)
        lay.addWidget(buttons)
        self.resize(620, 520)

    def _add_item(self, d: dict, enabled: bool | None = None) -> None:
        item = QListWidgetItem(f"{d.get('name')} — {d.get('url')}")
        item.setData(Qt.ItemDataRole.UserRole, d)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        on = d.get("enabled", False) if enabled is None else enabled
        item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.sources.addItem(item)

    def _add_tianditu(self) -> None:
        try:
            for src in tianditu_sources(self.tdt_key.text(), self.tdt_kind.currentData()):
                self._add_item(src.to_dict(), enabled=True)
        except RiskmapError as exc:
            show_error(self, exc)

    def _add_url(self) -> None:
        try:
            src = TileSource(self.url_name.text().strip() or tr("自定义底图"), self.url.text().strip())
        except RiskmapError as exc:
            show_error(self, exc)
            return
        self._add_item(src.to_dict(), enabled=True)
        self.url.clear()
        self.url_name.clear()

    def tile_dicts(self) -> list[dict]:
        out = []
        for i in range(self.sources.count()):
            it = self.sources.item(i)
            d = dict(it.data(Qt.ItemDataRole.UserRole))
            d["enabled"] = it.checkState() == Qt.CheckState.Checked
            out.append(d)
        return out

    def save(self) -> dict:
        """Store the choices; returns what changed: {'language', 'crs', 'labels', 'tiles'}."""
        p = self.prefs
        changed = {}
        if self.language.currentData() != p.language():
            p.set_language(self.language.currentData())
            changed["language"] = self.language.currentData()
        if self.crs.currentData() != p.map_crs():
            p.set_map_crs(self.crs.currentData())
            changed["crs"] = self.crs.currentData()
        if self.labels.isChecked() != p.labels_on():
            p.set_labels_on(self.labels.isChecked())
            changed["labels"] = self.labels.isChecked()
        tiles = self.tile_dicts()
        if tiles != p.tile_sources():
            p.set_tile_sources(tiles)
            changed["tiles"] = tiles
        if self.tdt_key.text().strip() != p.tianditu_key():
            p.set_tianditu_key(self.tdt_key.text())
        return changed
