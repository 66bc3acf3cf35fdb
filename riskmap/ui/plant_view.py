"""The plant view (厂区图): one enterprise's own four-colour layout, opened from the county map.

A window with a map canvas of the main window's workspace (the same layers, drawn by the same renderer),
zoomed to the plant: its georeferenced plan, its risk points in the four colours, hazard sources and the
hidden dangers placed in it; beside it the tables 风险点, 5个清单, 隐患 and 危险源. Its toolbar georeferences the
plan (:mod:`riskmap.ui.georef_dialog`), draws a risk point as an area or a point and grades it
(:mod:`riskmap.ui.risk_point_dialog`, :func:`riskmap.plant.add_risk_point`), re-assesses, reshapes or deletes
the selected one, and prints the plant map, the 风险告知卡 or exports the plant package when those are
installed. After each change the workspace reloads the risk points, the enterprises and the zones, so the
county canvas recolours the enterprise (就高) and its zones.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHeaderView, QInputDialog, QLabel, QMainWindow, QMessageBox, QSplitter, QTableWidget,
    QTableWidgetItem, QTabWidget, QToolBar, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from riskmap.errors import RiskmapError
from riskmap.fields import LIST_KINDS, format_value, level_title, word
from riskmap.render.plans import extent_in
from riskmap.ui import errors as ui_errors
from riskmap.ui.canvas import MapCanvas
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.map_tools import CLICK_SLOP_PX, PanTool
from riskmap.ui.risk_point_dialog import RiskPointDialog, category_title
from riskmap.ui.tools.capture import CaptureTool

PLANT_LAYERS = ("risk_points", "risk_point_points", "hazard_sources")  # the layers a pick selects in
ROLE = Qt.ItemDataRole.UserRole


def point_layer(kind, geom) -> str:
    """The layer that draws a risk point: areas in ``risk_points``, points by their kind."""
    if geom is not None and not geom.is_empty and geom.geom_type in ("Polygon", "MultiPolygon"):
        return "risk_points"
    return "hazard_sources" if kind == "hazard_source" else "risk_point_points"


def to_4490(geom, epsg: int):
    from riskmap.crs import reproject

    return reproject(geom, epsg, 4490)


def _optional(module: str, name: str):
    """A function of another module when it is installed (the plant print, the cards, the plant package)."""
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _level_text(v) -> str:
    try:
        n = int(v)
    except (TypeError, ValueError):
        return tr("未评估")
    return level_title(n, current_language()) if n in (1, 2, 3, 4) else tr("未评估")


def _level_colour(v) -> str:
    from riskmap.levels import colour

    try:
        n = int(v)
    except (TypeError, ValueError):
        return "#9E9E9E"
    return colour(n) if n in (1, 2, 3, 4) else "#9E9E9E"


def _text(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return ""
    return str(v)


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    return t


class PickTool(PanTool):
    """Drag to pan; a click picks the plant feature under the cursor (``picked(layer id, feature id)``)."""

    name = "plant_pick"

    def __init__(self, canvas, picked):
        super().__init__(canvas)
        self.picked = picked
        self._press = None

    def press(self, ev, map_pt) -> None:
        self._press = ev.position()
        super().press(ev, map_pt)

    def release(self, ev, map_pt) -> None:
        start, self._press = self._press, None
        if start is not None and ev.button() == Qt.MouseButton.LeftButton:
            d = ev.position() - start
            if abs(d.x()) <= CLICK_SLOP_PX and abs(d.y()) <= CLICK_SLOP_PX:
                self._start = None
                self.canvas.setCursor(self.cursor)
                ws = self.canvas.workspace
                layers = [lid for lid in PLANT_LAYERS if ws.has_layer(lid)]
                hits = ws.features_at(*map_pt, self.canvas.pixel_tolerance(5), layers=layers)
                self.picked(*(hits[0] if hits else ("", 0)))
                return
        super().release(ev, map_pt)


class RiskPointCaptureTool(CaptureTool):
    """Draw a risk point: an area (polygon) or a point, snapped to the map's vertices and edges; Backspace
    takes back the last vertex, Esc starts again, Enter, a right click or a double click finishes."""

    name = "risk_point_capture"

    def __init__(self, canvas, kind: str, done):
        super().__init__(canvas, kind=kind)
        self.done = done
        self.colour = QColor("#D50000")

    def finished(self, pts) -> None:
        self.done(self.geometry(pts))


class PlantView(QMainWindow):
    """The plant of one enterprise (see the module docstring). ``changed`` follows every stored change."""

    changed = Signal()

    def __init__(self, window, enterprise_id: int, parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.main = window
        self.workspace = window.workspace
        self.project = window.project
        if self.project is None:
            raise RiskmapError("请先打开项目", "open a project first")
        self.eid = int(enterprise_id)
        self.data = None
        self.busy = None  # the background task of a change on the way
        self.canvas = MapCanvas(self.workspace, self)
        self.canvas.demo_mark = bool(self.project.is_demo)
        self.pick_tool = PickTool(self.canvas, self._picked)
        self.canvas.pan_tool = self.pick_tool
        self.canvas.set_map_tool(self.pick_tool)
        self.area_tool = RiskPointCaptureTool(self.canvas, "polygon", self._drawn)
        self.point_tool = RiskPointCaptureTool(self.canvas, "point", self._drawn)
        self.reshape_tool = RiskPointCaptureTool(self.canvas, "polygon", self._reshaped)
        self._zoomed = False
        # side panel
        self.points = _table([tr("名称"), tr("类别"), tr("风险等级"), tr("方法"), tr("分值")])
        self.points.itemSelectionChanged.connect(self._row_selected)
        self.points.itemDoubleClicked.connect(lambda *_: self.assess())
        self.lists = QTreeWidget()
        self.lists.setHeaderLabels([tr("项目"), tr("内容")])
        self.lists.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.dangers = _table([tr("隐患"), tr("等级"), tr("状态"), tr("整改期限"), tr("责任人")])
        self.dangers.itemDoubleClicked.connect(lambda item: self._zoom_row(self.dangers, item.row()))
        self.hazards = _table([tr("名称"), tr("重大危险源"), tr("风险等级"), tr("方法"), tr("分值")])
        self.hazards.itemDoubleClicked.connect(lambda item: self._zoom_row(self.hazards, item.row()))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.points, tr("风险点"))
        self.tabs.addTab(self.lists, tr("5个清单"))
        self.tabs.addTab(self.dangers, tr("隐患"))
        self.tabs.addTab(self.hazards, tr("危险源"))
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.PlainText)
        side = QWidget()
        sl = QVBoxLayout(side)
        sl.setContentsMargins(4, 4, 4, 4)
        sl.addWidget(self.header)
        sl.addWidget(self.tabs, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.setCentralWidget(split)
        self._build_toolbar()
        self.workspace.layersReset.connect(self.close)  # another project: this plant is gone
        self.reload()
        self.resize(1280, 800)

    # ------------------------------------------------------------------ toolbar
    def _action(self, text: str, slot, *, checkable: bool = False, enabled: bool = True) -> QAction:
        a = QAction(text, self)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        a.setEnabled(enabled)
        return a

    def _build_toolbar(self) -> None:
        w = self.main
        may_edit = (not self.project.readonly and w.may("edit_features") and w.may("assess")) if hasattr(w, "may") \
            else not self.project.readonly
        self.act_full = self._action(tr("厂区全图"), self.zoom_to_plant)
        self.act_georef = self._action(tr("配准平面图…"), self.georeference, enabled=may_edit)
        self.act_area = self._action(tr("绘制风险点（区域）"), lambda on: self._set_tool(self.area_tool, on),
                                     checkable=True, enabled=may_edit)
        self.act_point = self._action(tr("绘制风险点（点位）"), lambda on: self._set_tool(self.point_tool, on),
                                      checkable=True, enabled=may_edit)
        self.act_assess = self._action(tr("评估…"), self.assess, enabled=may_edit)
        self.act_reshape = self._action(tr("重绘范围"), lambda on: self._set_tool(self.reshape_tool, on),
                                        checkable=True, enabled=may_edit)
        self.act_delete = self._action(tr("删除"), self.delete_point, enabled=may_edit)
        self.may_edit = may_edit
        tb = QToolBar(tr("厂区"), self)
        tb.setObjectName("plant_toolbar")
        for a in (self.act_full, None, self.act_georef, self.act_area, self.act_point, self.act_reshape,
                  self.act_assess, self.act_delete):
            if a is None:
                tb.addSeparator()
            else:
                tb.addAction(a)
        outputs = [
            (tr("打印厂区图…"), "riskmap.printing.plant_print", "print_plant", self.print_plant),
            (tr("风险告知卡…"), "riskmap.printing.cards", "export_cards", self.export_cards),
            (tr("导出厂区包…"), "riskmap.io.plant_package", "export_package", self.export_package),
        ]
        self.output_actions = {}
        first = True
        for text, module, name, slot in outputs:
            if _optional(module, name) is None:
                continue  # not installed: no button rather than a button that fails
            if first:
                tb.addSeparator()
                first = False
            a = self._action(text, slot)
            self.output_actions[name] = a
            tb.addAction(a)
        self.addToolBar(tb)
        self.toolbar = tb
        asof = self._asof()
        if asof is not None:
            asof.dateChanged.connect(self._update_actions)  # editing off while a past date is shown
        self._update_actions()

    def _set_tool(self, tool, on: bool) -> None:
        for a, t in ((self.act_area, self.area_tool), (self.act_point, self.point_tool),
                     (self.act_reshape, self.reshape_tool)):
            if t is not tool:
                a.setChecked(False)
        self.canvas.set_map_tool(tool if on else self.pick_tool)
        if on:
            self.statusBar().showMessage(tr("单击添加顶点，双击、回车或右键结束；Backspace 撤销上一点，Esc 重来")
                                         if tool.kind == "polygon" else tr("单击风险点的位置"), 15000)
            self.canvas.setFocus()

    def _end_tool(self) -> None:
        for a in (self.act_area, self.act_point, self.act_reshape):
            a.setChecked(False)
        self.canvas.set_map_tool(self.pick_tool)

    def _asof(self):
        ext = self.main.extension("timeline") if hasattr(self.main, "extension") else None
        return getattr(getattr(ext, "panel", None), "asof", None)

    def editable(self) -> bool:
        """The user may change the plant now: allowed to edit and assess, and the map shows today (a past date is
        for looking, as on the county map)."""
        asof = self._asof()
        return self.may_edit and not (asof is not None and asof.is_past())

    def _update_actions(self, *_) -> None:
        sel = self.selected() is not None
        ok = self.editable()
        for a in (self.act_georef, self.act_area, self.act_point):
            a.setEnabled(ok)
        for a in (self.act_assess, self.act_delete, self.act_reshape):
            a.setEnabled(ok and sel)
        if not ok and self.canvas.map_tool is not self.pick_tool:
            self._end_tool()

    # ------------------------------------------------------------------ data
    def reload(self) -> None:
        """Read the plant again (after a change here or elsewhere) and fill the tables."""
        from riskmap.plant import plant_data

        selected = self.selected()
        self.data = plant_data(self.project, self.eid)
        ent = self.data.enterprise
        lang = current_language()
        self.setWindowTitle(tr("厂区图 — {name}").format(name=ent.get("name") or ""))
        parts = [str(ent.get("name") or ""), tr("企业风险等级：{level}").format(level=_level_text(ent.get("level")))]
        plan = self.data.plan
        if plan is not None and plan.rms_m is not None:
            parts.append(tr("平面图配准中误差 {rms:.2f} m（{n} 个控制点）").format(rms=plan.rms_m, n=len(plan.gcps)))
        elif plan is None:
            parts.append(tr("尚无厂区平面图：用“配准平面图…”加入"))
        self.header.setText("\n".join(parts))
        pts = self.data.points
        self.points.setRowCount(0)
        self.hazards.setRowCount(0)
        for _, r in pts.iterrows():
            target = self.hazards if r["kind"] == "hazard_source" else self.points
            k = target.rowCount()
            target.insertRow(k)
            if target is self.points:
                cells = [_text(r["name"]), category_title(r["category"]), _level_text(r["level"]),
                         word("assessments", "method", r["method"], lang) if _text(r["method"]) else "",
                         format_value(r["score"], lang)]
                level_col = 2
            else:
                grade = {1: tr("一级"), 2: tr("二级"), 3: tr("三级"), 4: tr("四级")}
                try:
                    g = grade.get(int(r["major_hazard_grade"]), "")
                except (TypeError, ValueError):
                    g = ""
                cells = [_text(r["name"]), g, _level_text(r["level"]),
                         word("assessments", "method", r["method"], lang) if _text(r["method"]) else "",
                         format_value(r["score"], lang)]
                level_col = 2
            for j, v in enumerate(cells):
                item = QTableWidgetItem(v)
                item.setData(ROLE, (point_layer(r["kind"], r.geometry), int(r["id"])))
                if j == level_col:
                    c = QColor(_level_colour(r["level"]))
                    item.setBackground(QBrush(c))
                    item.setForeground(QBrush(QColor("#000000" if c.lightnessF() > 0.55 else "#FFFFFF")))
                target.setItem(k, j, item)
        for t in (self.points, self.hazards):
            t.resizeColumnsToContents()
            t.horizontalHeader().setStretchLastSection(True)
        self._fill_lists()
        self._fill_dangers()
        if selected is not None:
            self.select_point(selected[1], zoom=False)
        self._update_actions()

    def _fill_lists(self) -> None:
        lang = current_language()
        self.lists.clear()
        for kind, (zh, en) in LIST_KINDS.items():
            top = QTreeWidgetItem([en if lang == "en" else zh, ""])
            f = top.font(0)
            f.setBold(True)
            top.setFont(0, f)
            self.lists.addTopLevelItem(top)
            content = (self.data.lists or {}).get(kind)
            if not content:
                top.setText(1, tr("（未填写）"))
                continue
            for data in content if isinstance(content, list) else [content]:
                items = data.items() if isinstance(data, dict) else [("", data)]
                for k, v in items:
                    top.addChild(QTreeWidgetItem([str(k), format_value(v, lang)]))
            top.setExpanded(True)

    def _fill_dangers(self) -> None:
        lang = current_language()
        d = self.data.dangers
        self.dangers.setRowCount(0)
        if d is None:
            return
        for _, r in d.iterrows():
            k = self.dangers.rowCount()
            self.dangers.insertRow(k)
            cells = [_text(r.get("title")), word("hidden_dangers", "grade", r.get("grade"), lang),
                     word("hidden_dangers", "status", r.get("status"), lang), format_value(r.get("deadline"), lang),
                     _text(r.get("responsible_person"))]
            for j, v in enumerate(cells):
                item = QTableWidgetItem(v)
                item.setData(ROLE, ("hidden_dangers", int(r["id"])))
                self.dangers.setItem(k, j, item)
        self.dangers.resizeColumnsToContents()
        self.dangers.horizontalHeader().setStretchLastSection(True)

    # ------------------------------------------------------------------ map
    def plant_extent(self):
        """The plant's extent in the map CRS (plan, points and the enterprise's point, padded)."""
        if self.data is None or self.data.extent_4490 is None:
            return None
        return extent_in(self.workspace.map_epsg, self.data.extent_4490)

    def zoom_to_plant(self) -> None:
        ext = self.plant_extent()
        if ext is not None:
            self.canvas.set_extent(ext, margin=0.02)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._zoomed:
            self._zoomed = True
            QTimer.singleShot(0, self.zoom_to_plant)  # once the canvas has its size

    def closeEvent(self, event) -> None:  # noqa: N802
        self.canvas.shutdown()
        super().closeEvent(event)

    # ------------------------------------------------------------------ selection
    def selected(self) -> tuple[str, int] | None:
        """(layer id, risk point id) of the risk point or hazard source selected in the tables."""
        for t in (self.points, self.hazards):
            rows = t.selectionModel().selectedRows() if t.selectionModel() else []
            if rows:
                item = t.item(rows[0].row(), 0)
                if item is not None:
                    return item.data(ROLE)
        return None

    def _row_selected(self) -> None:
        sel = self.selected()
        self._update_actions()
        if sel is None:
            return
        lid, fid = sel
        if self.workspace.has_layer(lid):
            self.workspace.select(lid, [fid])
            self.canvas.zoom_to_feature(lid, fid, scale=2000)

    def _zoom_row(self, table, row: int) -> None:
        item = table.item(row, 0)
        if item is None:
            return
        lid, fid = item.data(ROLE)
        if self.workspace.has_layer(lid):
            self.workspace.select(lid, [fid])
            self.canvas.zoom_to_feature(lid, fid, scale=2000)

    def select_point(self, rp_id: int, zoom: bool = True) -> bool:
        """Select a risk point (or hazard source) in its table and on the map."""
        for t in (self.points, self.hazards):
            for k in range(t.rowCount()):
                item = t.item(k, 0)
                if item is not None and item.data(ROLE)[1] == int(rp_id):
                    self.tabs.setCurrentWidget(t)
                    if not zoom:
                        t.blockSignals(True)
                    t.selectRow(k)
                    t.blockSignals(False)
                    self._update_actions()
                    return True
        return False

    def _picked(self, layer_id: str, fid: int) -> None:
        if not layer_id:
            self.points.clearSelection()
            self.hazards.clearSelection()
            self.workspace.clear_selection()
            self._update_actions()
            return
        self.select_point(fid, zoom=False)
        self.workspace.select(layer_id, [fid])

    def point_row(self, rp_id: int):
        pts = self.data.points
        hit = pts[pts["id"].astype(int) == int(rp_id)]
        return hit.iloc[0] if len(hit) else None

    # ------------------------------------------------------------------ changes
    def assessor(self) -> str:
        return getattr(self.project, "user", "") or ""

    def _run(self, title: str, fn, done=None) -> None:
        """A change in the background; afterwards the layers, the county map and the tables follow."""

        def finished(result):
            self.busy = None
            self.after_change()
            if done is not None:
                done(result)

        def failed(exc):
            self.busy = None
            ui_errors.show_error(self, exc)

        self.busy = self.main.run_task(title, lambda progress, cancelled: fn(), finished, failed)

    def after_change(self) -> None:
        """Reload what a change of the plant touches: the plant layers, the enterprises (their level follows
        the highest risk point) and the zones (recoloured), then this view's tables."""
        for table in ("risk_points", "plant_plans", "enterprises", "zones"):
            self.workspace.reload_table(table)
        self.reload()
        self.changed.emit()

    def _drawn(self, geom) -> None:
        """A new risk point was drawn (map CRS): ask for its name, card and grading, then store it."""
        self._end_tool()
        g = to_4490(geom, self.workspace.map_epsg)
        dlg = RiskPointDialog(self, assessor=self.assessor(), geometry_kind="polygon" if geom.geom_type != "Point"
                              else "point")
        self.last_dialog = dlg
        if not dlg.exec():
            return
        self.store_new(g, dlg.values())

    def store_new(self, geom_4490, values: dict) -> None:
        """Store a new risk point (``values`` as :meth:`RiskPointDialog.values`) in the background."""
        from riskmap.plant import add_risk_point

        v = dict(values)
        args = {k: v.pop(k) for k in ("name", "category", "method", "inputs", "assessor", "kind")}
        self._run(tr("正在保存风险点"), lambda: add_risk_point(self.project, self.eid, geom=geom_4490, **args, **v),
                  lambda result: self.select_point(result[0], zoom=False))

    def assess(self) -> None:
        """Re-assess the selected risk point: its card and a new grading (appended to its history)."""
        sel = self.selected()
        if sel is None:
            return
        row = self.point_row(sel[1])
        if row is None:
            return
        dlg = RiskPointDialog(self, point=row, assessor=self.assessor(),
                              geometry_kind="polygon" if sel[0] == "risk_points" else "point")
        self.last_dialog = dlg
        if not dlg.exec():
            return
        self.store_assessment(sel[1], dlg.values())

    def store_assessment(self, rp_id: int, values: dict) -> None:
        from riskmap.plant import grade_point, update_risk_point

        v = dict(values)
        method, inputs, assessor = v.pop("method"), v.pop("inputs"), v.pop("assessor")

        def work():
            update_risk_point(self.project, rp_id, **v)
            return grade_point(self.project, rp_id, method, inputs, assessor=assessor)

        self._run(tr("正在保存评估"), work)

    def _reshaped(self, geom) -> None:
        sel = self.selected()
        self._end_tool()
        if sel is None:
            return
        from riskmap.plant import update_risk_point

        g = to_4490(geom, self.workspace.map_epsg)
        self._run(tr("正在保存风险点范围"), lambda: update_risk_point(self.project, sel[1], geom=g))

    def delete_point(self) -> None:
        sel = self.selected()
        if sel is None:
            return
        row = self.point_row(sel[1])
        name = _text(row["name"]) if row is not None else str(sel[1])
        answer = QMessageBox.question(self, tr("删除风险点"),
                                      tr("删除风险点“{name}”？其评估记录随之删除（保留在编辑历史中），企业等级重新判定。")
                                      .format(name=name))
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.remove_point(sel[1])

    def remove_point(self, rp_id: int) -> None:
        from riskmap.plant import delete_risk_point

        self._run(tr("正在删除风险点"), lambda: delete_risk_point(self.project, rp_id, assessor=self.assessor()))

    # ------------------------------------------------------------------ plan and outputs
    def georeference(self) -> None:
        from riskmap.ui.georef_dialog import GeorefDialog

        dlg = GeorefDialog(self.main, self.eid, parent=self)
        dlg.stored.connect(lambda *_: self.after_change())
        self.georef_dialog = dlg
        dlg.show()

    def _save_path(self, caption: str, name: str, filt: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, caption, str(Path.home() / name), filt)
        return path

    def _stem(self) -> str:
        name = str((self.data.enterprise or {}).get("name") or "plant")
        return "".join(ch for ch in name if ch not in '\\/:*?"<>|').strip() or "plant"

    def print_plant(self) -> None:
        path = self._save_path(tr("打印厂区图"), f"{self._stem()}_四色分布图.pdf", "PDF (*.pdf)")
        if path:
            fn = _optional("riskmap.printing.plant_print", "print_plant")
            self._output(tr("正在打印厂区图"), lambda: fn(self.project, self.eid, path, paper="A3",
                                                            lang=current_language()), path)

    def ask_bureau_phone(self) -> bool:
        """The bureau's duty phone printed on the cards (project setting ``bureau_phone``): asked once when the
        project has none and may be written; False when the user cancels."""
        meta = self.project.meta()
        if meta.get("bureau_phone") or self.project.readonly:
            return True
        text, ok = QInputDialog.getText(self, tr("风险告知卡"), tr("应急管理局值班电话（印在每张告知卡上，可留空）"))
        if not ok:
            return False
        phone = text.strip()
        if phone:
            if len(phone) > 40:
                ui_errors.show_error(self, tr("电话应为 1–40 个字符"))
                return False
            self.project.set_meta(bureau_phone=phone)
        return True

    def export_cards(self) -> None:
        if not self.ask_bureau_phone():
            return
        path = self._save_path(tr("风险告知卡"), f"{self._stem()}_风险告知卡.pdf", "PDF (*.pdf)")
        if path:
            fn = _optional("riskmap.printing.cards", "export_cards")
            self._output(tr("正在生成风险告知卡"), lambda: fn(self.project, self.eid, path, paper="A4"), path)

    def export_package(self) -> None:
        path = self._save_path(tr("导出厂区包"), f"{self._stem()}_厂区包.gpkg", "GeoPackage (*.gpkg)")
        if path:
            fn = _optional("riskmap.io.plant_package", "export_package")
            self._output(tr("正在导出厂区包"), lambda: fn(self.project, self.eid, path), path)

    def _output(self, title: str, fn, path: str) -> None:
        def done(_):
            self.statusBar().showMessage(tr("已保存：{path}").format(path=path), 15000)

        self.main.run_task(title, lambda progress, cancelled: fn(), done)


def open_plant_view(window, enterprise_id: int, views: dict | None = None) -> PlantView | None:
    """Open (or raise) the plant view of an enterprise of the window's project; ``views`` keeps the open ones
    by enterprise id."""
    views = {} if views is None else views
    old = views.get(int(enterprise_id))
    try:
        if old is not None and old.isVisible():
            old.raise_()
            old.activateWindow()
            return old
    except RuntimeError:  # closed and deleted
        pass
    if window.project is None:
        return None
    from riskmap.plant import plant_data

    try:
        data = plant_data(window.project, int(enterprise_id))
    except RiskmapError as exc:
        ui_errors.show_error(window, exc)
        return None
    if data.extent_4490 is None:
        ui_errors.show_error(window, tr("企业“{name}”尚未定位，无法打开厂区图：请先在地图上定位").format(
            name=data.enterprise.get("name") or ""))
        return None
    view = PlantView(window, int(enterprise_id))
    views[int(enterprise_id)] = view
    view.show()
    return view


class PlantViews:
    """The open plant views of one main window, by enterprise id."""

    def __init__(self, window):
        self.window = window
        self.views: dict = {}

    def open(self, enterprise_id: int):
        return open_plant_view(self.window, enterprise_id, self.views)

    def close_all(self) -> None:
        for view in list(self.views.values()):
            try:
                view.close()
            except RuntimeError:  # already deleted
                pass
        self.views.clear()

    def choose(self) -> None:
        """Pick one of the project's enterprises with plant data (a plan or risk points drawn in it)."""
        from riskmap.plant import plants

        project = self.window.project
        if project is None:
            return
        table = plants(project)
        if not len(table):
            QMessageBox.information(self.window, tr("厂区图"),
                                    tr("项目中还没有厂区数据。用“识别要素”单击一家企业，再点“厂区图”，即可配准平面图、绘制风险点。"))
            return
        names = [tr("{name}（{code}）").format(name=r["name"], code=r["credit_code"] or "-") for _, r in table.iterrows()]
        name, ok = QInputDialog.getItem(self.window, tr("厂区图"), tr("企业"), names, 0, False)
        if ok and name in names:
            self.open(int(table["id"].iloc[names.index(name)]))


    def import_package(self, path: str | None = None) -> None:
        """文件 → 导入厂区包…: a plant package an enterprise sent. What it would change is worked out first (a dry
        run, nothing written) and shown; the import runs, in one transaction, only when the user confirms."""
        window = self.window
        if window.project is None:
            return
        if path is None:
            path, _ = QFileDialog.getOpenFileName(window, tr("导入厂区包"), str(Path.home()), "GeoPackage (*.gpkg)")
        if not path:
            return
        self._check_package(path, create=False)

    def _check_package(self, path: str, *, create: bool) -> None:
        from riskmap.io.plant_package import import_package

        window = self.window

        def failed(exc):
            if isinstance(exc, RiskmapError) and "--create" in exc.en and not create:
                answer = QMessageBox.question(window, tr("导入厂区包"), tr(
                    "项目中没有与厂区包统一社会信用代码相同的企业。\n\n{msg}\n\n是否在项目中新建这家企业？").format(
                    msg=exc.en if current_language() == "en" else exc.zh))
                if answer == QMessageBox.StandardButton.Yes:
                    self._check_package(path, create=True)
                return
            ui_errors.show_error(window, exc)

        window.run_task(tr("正在检查厂区包"),
                        lambda progress, cancelled: import_package(window.project, path, dry_run=True, create=create),
                        lambda report: self._confirm_package(path, report, create), failed)

    def _confirm_package(self, path: str, report, create: bool) -> None:
        from riskmap.io.plant_package import import_package

        window = self.window
        lines = report.lines()
        self.last_report = report
        if not report.changed:
            QMessageBox.information(window, tr("导入厂区包"), tr("厂区包与项目一致，没有需要导入的内容。") + "\n\n"
                                    + "\n".join(lines[:12]))
            return
        box = QMessageBox(QMessageBox.Icon.Question, tr("导入厂区包"), tr("导入后项目将有以下变化，是否导入？"),
                          QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel, window)
        box.setInformativeText("\n".join(lines[:12]) + ("\n…" if len(lines) > 12 else ""))
        box.setDetailedText("\n".join(lines))
        self.confirm_box = box
        if box.exec() != QMessageBox.StandardButton.Ok:
            return

        def done(final):
            self.last_report = final
            for table in ("risk_points", "plant_plans", "enterprises", "zones", "hidden_dangers"):
                window.workspace.reload_table(table)
            window.show_message(tr("厂区包已导入：{name}").format(name=final.enterprise_name), 15000)

        from riskmap.ui import tasks

        # one transaction that is not stopped half way: no cancel button
        tasks.run_task(window, tr("正在导入厂区包"),
                       lambda progress, cancelled: import_package(window.project, path, create=create,
                                                                  assessor=getattr(window.project, "user", None)),
                       on_done=done, cancellable=False)


def install(window) -> None:
    """Connect the identify panel's 厂区图 button and context menu to the plant view and add 地图 → 厂区图…
    (called by the main window's extension loader)."""
    views = PlantViews(window)
    window.register_extension("plant_views", views)
    panel = getattr(window, "identify_panel", None)
    if panel is not None and hasattr(panel, "plantRequested"):
        panel.plantRequested.connect(views.open)
    action = QAction(tr("厂区图…"), window)
    action.setObjectName("map_plant_view")
    action.triggered.connect(views.choose)
    window.register_action("map", action, id="map_plant_view")
    imp = QAction(tr("导入厂区包…"), window)
    imp.setObjectName("file_import_plant_package")
    imp.triggered.connect(lambda: views.import_package())
    window.register_action("file", imp, id="file_import_plant_package", permission="edit_features")
    if hasattr(window, "windowReplaced"):  # a language switch rebuilds the window: the views belong to the old one
        window.windowReplaced.connect(lambda *_: views.close_all())
