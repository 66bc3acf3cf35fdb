"""The layers panel: groups (底图 / 分区 / 企业 / 控制线 / 生命线 / 应急资源 / 隐患), visibility, drag order,
opacity and per-layer filters.

The top of the list is drawn last (on top), as in QGIS. Layers can be dragged within their group and
groups can be dragged among each other; a layer dropped into another group snaps back.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QHBoxLayout, QLabel, QMenu, QPushButton, QSlider, QTreeWidget, QTreeWidgetItem,
    QVBoxLayout, QWidget,
)

from riskmap.layers import GROUPS
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.icons import icon
from riskmap.ui.lazy_query import exact_counts, shown_and_total
from riskmap.ui.swatches import layer_icon

ROLE_ID = Qt.ItemDataRole.UserRole
ROLE_KIND = Qt.ItemDataRole.UserRole + 1  # 'group' | 'layer' | 'tiles'


class LayerTree(QTreeWidget):
    """A tree that lets layers move only within their group."""

    dropped = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setIndentation(14)

    def dropEvent(self, event) -> None:  # noqa: N802
        super().dropEvent(event)
        self.dropped.emit()


class LayersPanel(QWidget):
    """Layer list with visibility checkboxes, order, opacity and filter access."""

    currentLayerChanged = Signal(str)
    openTableRequested = Signal(str)
    filterRequested = Signal(str)
    zoomToLayerRequested = Signal(str)
    tilesToggled = Signal()

    def __init__(self, workspace, parent=None):
        super().__init__(parent)
        self.workspace = workspace
        self.tile_layers: list = []
        self._building = False
        self.tree = LayerTree(self)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.dropped.connect(self.apply_tree_order)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(100)
        self.opacity.setToolTip(tr("当前图层的不透明度"))
        self.opacity.valueChanged.connect(self._opacity_changed)
        self.opacity_label = QLabel("100%")
        self.filter_label = QLabel("")
        self.filter_label.setWordWrap(True)
        self.filter_label.setStyleSheet("color:#8A4B00")
        btn_filter = QPushButton(icon("filter"), tr("筛选…"))
        btn_filter.clicked.connect(lambda: self.current_layer() and self.filterRequested.emit(self.current_layer()))
        btn_table = QPushButton(icon("table"), tr("属性表"))
        btn_table.clicked.connect(lambda: self.current_layer() and self.openTableRequested.emit(self.current_layer()))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.tree, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("不透明度")))
        row.addWidget(self.opacity, 1)
        row.addWidget(self.opacity_label)
        lay.addLayout(row)
        lay.addWidget(self.filter_label)
        row2 = QHBoxLayout()
        row2.addWidget(btn_filter)
        row2.addWidget(btn_table)
        lay.addLayout(row2)
        workspace.layersReset.connect(self.rebuild)
        workspace.orderChanged.connect(self.rebuild)
        workspace.layerChanged.connect(self._layer_changed)
        exact_counts(workspace).ready.connect(self._counts_ready)
        self.rebuild()

    # ---- building
    def rebuild(self) -> None:
        current = self.current_layer()
        self._building = True
        self.tree.clear()
        lang = current_language()
        groups: dict[str, QTreeWidgetItem] = {}
        order: list[str] = []
        for layer in reversed(self.workspace.layers):  # top first
            if layer.group not in groups:
                zh, en = GROUPS.get(layer.group, (layer.group, layer.group))
                g = QTreeWidgetItem([en if lang == "en" else zh])
                g.setData(0, ROLE_ID, layer.group)
                g.setData(0, ROLE_KIND, "group")
                g.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled
                           | Qt.ItemFlag.ItemIsDropEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsAutoTristate)
                f = g.font(0)
                f.setBold(True)
                g.setFont(0, f)
                groups[layer.group] = g
                order.append(layer.group)
            item = QTreeWidgetItem([self._layer_text(layer)])
            item.setData(0, ROLE_ID, layer.id)
            item.setData(0, ROLE_KIND, "layer")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            item.setCheckState(0, Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
            item.setIcon(0, layer_icon(layer.prepared))
            item.setToolTip(0, self._layer_tip(layer))
            groups[layer.group].addChild(item)
        if self.tile_layers:
            if "basemap" not in groups:
                zh, en = GROUPS["basemap"]
                g = QTreeWidgetItem([en if lang == "en" else zh])
                g.setData(0, ROLE_ID, "basemap")
                g.setData(0, ROLE_KIND, "group")
                g.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
                groups["basemap"] = g
                order.append("basemap")
            for t in self.tile_layers:
                item = QTreeWidgetItem([t.source.name])
                item.setData(0, ROLE_ID, t.id)
                item.setData(0, ROLE_KIND, "tiles")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable)
                item.setCheckState(0, Qt.CheckState.Checked if t.visible else Qt.CheckState.Unchecked)
                item.setIcon(0, icon("basemap"))
                item.setToolTip(0, tr("在线瓦片底图，始终绘制在所有图层之下"))
                groups["basemap"].addChild(item)
        for key in order:
            self.tree.addTopLevelItem(groups[key])
            groups[key].setExpanded(True)
        self._building = False
        if current:
            self.set_current_layer(current)
        self._sync_controls()

    def _layer_text(self, layer) -> str:
        title = layer.title(current_language())
        shown, total = shown_and_total(self.workspace, layer)  # a lazy layer: counted in the project
        if total is None or shown is None:
            return f"{title} (…)"
        return f"{title} ({shown}/{total})" if shown != total else f"{title} ({total})"

    def _counts_ready(self, layer_id: str) -> None:
        item = self.item_for(layer_id)
        if item is None or not self.workspace.has_layer(layer_id):
            return
        self._building = True
        item.setText(0, self._layer_text(self.workspace.layer(layer_id)))
        self._building = False
        if self.current_layer() == layer_id:
            self._sync_controls()

    def _layer_tip(self, layer) -> str:
        tip = layer.title(current_language())
        if not layer.filter.is_empty():
            tip += "\n" + tr("已筛选")
        return tip

    def _layer_changed(self, layer_id: str, what: str) -> None:
        item = self.item_for(layer_id)
        if item is None:
            self.rebuild()
            return
        layer = self.workspace.layer(layer_id)
        self._building = True
        item.setText(0, self._layer_text(layer))
        item.setToolTip(0, self._layer_tip(layer))
        item.setCheckState(0, Qt.CheckState.Checked if layer.visible else Qt.CheckState.Unchecked)
        if what in ("data", "filter"):
            item.setIcon(0, layer_icon(layer.prepared))
        self._building = False
        if layer_id == self.current_layer():
            self._sync_controls()

    def set_tile_layers(self, tile_layers: list) -> None:
        self.tile_layers = list(tile_layers)
        self.rebuild()

    # ---- lookup
    def item_for(self, layer_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            g = self.tree.topLevelItem(i)
            for j in range(g.childCount()):
                if g.child(j).data(0, ROLE_ID) == layer_id:
                    return g.child(j)
        return None

    def group_item(self, group: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            if self.tree.topLevelItem(i).data(0, ROLE_ID) == group:
                return self.tree.topLevelItem(i)
        return None

    def current_layer(self) -> str | None:
        item = self.tree.currentItem()
        if item is not None and item.data(0, ROLE_KIND) == "layer":
            return item.data(0, ROLE_ID)
        return None

    def set_current_layer(self, layer_id: str) -> None:
        item = self.item_for(layer_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def displayed_order(self) -> list[str]:
        """Layer ids as listed, top first."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            g = self.tree.topLevelItem(i)
            for j in range(g.childCount()):
                if g.child(j).data(0, ROLE_KIND) == "layer":
                    out.append(g.child(j).data(0, ROLE_ID))
        return out

    # ---- changes from the user
    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._building:
            return
        kind = item.data(0, ROLE_KIND)
        on = item.checkState(0) == Qt.CheckState.Checked
        if kind == "layer":
            self.workspace.set_visible(item.data(0, ROLE_ID), on)
        elif kind == "tiles":
            for t in self.tile_layers:
                if t.id == item.data(0, ROLE_ID):
                    t.visible = on
            self.tilesToggled.emit()
        elif kind == "group" and item.checkState(0) != Qt.CheckState.PartiallyChecked:
            for j in range(item.childCount()):
                self._item_changed(item.child(j), 0)

    def apply_tree_order(self) -> None:
        """After a drag: check the tree's structure and hand the new order to the workspace."""
        valid = True
        for i in range(self.tree.topLevelItemCount()):
            g = self.tree.topLevelItem(i)
            if g.data(0, ROLE_KIND) != "group":
                valid = False
                break
            for j in range(g.childCount()):
                c = g.child(j)
                if c.childCount() or c.data(0, ROLE_KIND) == "group":
                    valid = False
                kind = c.data(0, ROLE_KIND)
                if kind == "layer" and self.workspace.layer(c.data(0, ROLE_ID)).group != g.data(0, ROLE_ID):
                    valid = False
        if not valid:
            self.rebuild()
            return
        ids_top_first = self.displayed_order()
        self.workspace.set_order(list(reversed(ids_top_first)))
        self.rebuild()

    def move_layer(self, layer_id: str, delta: int) -> None:
        """Move a layer up (delta > 0, towards the top) or down within its group."""
        item = self.item_for(layer_id)
        if item is None:
            return
        g = item.parent()
        i = g.indexOfChild(item)
        j = max(0, min(g.childCount() - 1, i - delta))
        if i == j:
            return
        g.takeChild(i)
        g.insertChild(j, item)
        self.apply_tree_order()
        self.set_current_layer(layer_id)

    def move_group(self, group: str, delta: int) -> None:
        item = self.group_item(group)
        if item is None:
            return
        i = self.tree.indexOfTopLevelItem(item)
        j = max(0, min(self.tree.topLevelItemCount() - 1, i - delta))
        if i == j:
            return
        self.tree.takeTopLevelItem(i)
        self.tree.insertTopLevelItem(j, item)
        self.apply_tree_order()

    def _current_changed(self, cur, prev) -> None:
        self._sync_controls()
        lid = self.current_layer()
        if lid:
            self.currentLayerChanged.emit(lid)

    def _sync_controls(self) -> None:
        lid = self.current_layer()
        enabled = lid is not None
        self.opacity.setEnabled(enabled)
        if not enabled:
            self.filter_label.setText("")
            return
        layer = self.workspace.layer(lid)
        self.opacity.blockSignals(True)
        self.opacity.setValue(round(layer.opacity * 100))
        self.opacity.blockSignals(False)
        self.opacity_label.setText(f"{round(layer.opacity * 100)}%")
        if layer.filter.is_empty():
            self.filter_label.setText("")
        else:
            shown, total = shown_and_total(self.workspace, layer)
            self.filter_label.setText(tr("筛选：显示 {shown} / {total}").format(
                shown="…" if shown is None else shown, total="…" if total is None else total))

    def _opacity_changed(self, value: int) -> None:
        lid = self.current_layer()
        self.opacity_label.setText(f"{value}%")
        if lid:
            self.workspace.set_opacity(lid, value / 100.0)

    def _double_clicked(self, item, column) -> None:
        if item.data(0, ROLE_KIND) == "layer":
            self.zoomToLayerRequested.emit(item.data(0, ROLE_ID))

    def _context_menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        kind = item.data(0, ROLE_KIND)
        ident = item.data(0, ROLE_ID)
        if kind == "layer":
            menu.addAction(icon("zoom_layer"), tr("缩放到图层"), lambda: self.zoomToLayerRequested.emit(ident))
            menu.addAction(icon("table"), tr("打开属性表"), lambda: self.openTableRequested.emit(ident))
            menu.addAction(icon("filter"), tr("筛选…"), lambda: self.filterRequested.emit(ident))
            if not self.workspace.layer(ident).filter.is_empty():
                menu.addAction(tr("清除筛选"), lambda: self.workspace.set_filter(ident, None))
            menu.addSeparator()
            menu.addAction(tr("上移一层"), lambda: self.move_layer(ident, 1))
            menu.addAction(tr("下移一层"), lambda: self.move_layer(ident, -1))
        elif kind == "group":
            menu.addAction(tr("上移分组"), lambda: self.move_group(ident, 1))
            menu.addAction(tr("下移分组"), lambda: self.move_group(ident, -1))
        if not menu.isEmpty():
            menu.exec(self.tree.viewport().mapToGlobal(pos))
