"""The legend: each visible layer's symbols with live feature counts (the four risk colours with their
level names for enterprises and zones).

Counts follow filters and data changes at once; with "当前视图" they count only what lies in the view. A lazy
layer (too large to read whole) is counted in the project, not by what is drawn (riskmap.ui.lazy_query): the
numbers follow a moment later, from a worker.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from riskmap.render.decorations import legend_entries
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.lazy_query import ExactCountLayer, exact_counts, is_lazy, view_box_4490
from riskmap.ui.swatches import entry_icon


class LegendPanel(QWidget):
    def __init__(self, workspace, canvas=None, parent=None):
        super().__init__(parent)
        self.workspace = workspace
        self.canvas = canvas
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([tr("图例"), tr("数量")])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        self.in_view = QCheckBox(tr("仅统计当前视图"))
        self.in_view.toggled.connect(self.refresh)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.in_view)
        self.entries = []
        for sig in (workspace.layersReset, workspace.orderChanged):
            sig.connect(self.refresh)
        workspace.layerChanged.connect(lambda *_: self.refresh())
        exact_counts(workspace).ready.connect(lambda *_: self.refresh())
        if canvas is not None:
            canvas.extentChanged.connect(lambda: self.in_view.isChecked() and self.refresh())
            canvas.lodChanged.connect(self.refresh)  # a lazy layer's title says when it is drawn aggregated
        self.refresh()

    def refresh(self) -> None:
        settings = self.canvas.view if (self.canvas is not None and self.in_view.isChecked()) else None
        layers = [self._legend_layer(layer, settings) for layer in self.workspace.visible_layers()]
        self.entries = legend_entries(layers, current_language(), settings=settings)
        self.tree.clear()
        header_item = None
        for e in self.entries:
            if e.kind == "header":
                header_item = QTreeWidgetItem([e.label, ""])
                f = header_item.font(0)
                f.setBold(True)
                header_item.setFont(0, f)
                header_item.setFirstColumnSpanned(False)
                self.tree.addTopLevelItem(header_item)
                continue
            item = QTreeWidgetItem(["  " + e.label if header_item is not None else e.label,
                                    "" if e.count is None else f"{e.count:,}"])
            item.setIcon(0, entry_icon(e))
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.tree.addTopLevelItem(item)
            if e.kind != "point" or e.count is None:
                header_item = header_item

    def _legend_layer(self, layer, settings):
        """A layer's drawing for the legend; a lazy layer's with its exact counts (its filter applied; the
        view's box with 当前视图), never the counts of the rows it has cached or drawn."""
        if not is_lazy(layer):
            return layer.prepared
        bbox = view_box_4490(settings) if settings is not None else None
        return ExactCountLayer(layer.prepared, exact_counts(self.workspace).get(layer, bbox=bbox))

    def counts(self, label: str) -> list[int]:
        """Counts shown for rows labelled ``label`` (tests and the dashboard read these)."""
        return [e.count for e in self.entries if e.kind != "header" and e.label == label]
