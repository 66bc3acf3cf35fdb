"""Identify: the features under a click, and the chosen one's record.

For an enterprise: its fields (Chinese names from the catalogue), the 5个清单, risk points with the
assessment history, hidden dangers and its QR code (一企一码). For a zone: its level, the rule and the
objects that decided it. Several features under the cursor are all listed.
"""

from __future__ import annotations

from html import escape

import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMenu, QPushButton, QSplitter, QTableWidget,
    QTableWidgetItem, QTabWidget, QTextBrowser, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from riskmap.fields import LIST_KINDS, display_column, format_timestamp, format_value, level_title, word
from riskmap.records import (
    assessment_history, danger_events, enterprise_dangers, enterprise_lists, risk_points, zone_decisions,
)
from riskmap.ui.i18n import current_language, tr
from riskmap.ui.qr import enterprise_qr_content, qr_image

ROLE = Qt.ItemDataRole.UserRole
NAME_FIELDS = ("name", "title", "facility")


def feature_name(layer, row) -> str:
    for f in NAME_FIELDS:
        if f in row.index and isinstance(row[f], str) and row[f].strip():
            return row[f]
    return f"#{int(row['id'])}" if "id" in row.index else "?"


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setStretchLastSection(True)
    t.setWordWrap(True)
    return t


def _fill(t: QTableWidget, rows: list[list[str]]) -> None:
    t.setRowCount(len(rows))
    for i, r in enumerate(rows):
        for j, v in enumerate(r):
            t.setItem(i, j, QTableWidgetItem("" if v is None else str(v)))
    t.resizeColumnsToContents()
    t.horizontalHeader().setStretchLastSection(True)


class IdentifyPanel(QWidget):
    """Results list + record tabs."""

    featureActivated = Signal(str, int)  # layer id, feature id (zoom and flash)
    plantRequested = Signal(int)  # enterprise id: open its plant view (厂区图)

    def __init__(self, workspace, parent=None):
        super().__init__(parent)
        self.workspace = workspace
        self.current: tuple[str, int] | None = None
        self.qr_content = ""
        self.results = QTreeWidget()
        self.results.setHeaderLabels([tr("要素"), tr("图层")])
        self.results.setRootIsDecorated(False)
        self.results.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.results.currentItemChanged.connect(self._picked)
        self.results.itemDoubleClicked.connect(lambda it, c: self.featureActivated.emit(*it.data(0, ROLE)))
        self.results.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.results.customContextMenuRequested.connect(self._results_menu)
        self.plant_button = QPushButton(tr("厂区图"))
        self.plant_button.setToolTip(tr("打开该企业的厂区平面图、风险点和告知卡"))
        self.plant_button.clicked.connect(self._plant_clicked)
        self.plant_button.hide()
        self.hint = QLabel(tr("使用“识别”工具单击地图上的要素"))
        self.hint.setStyleSheet("color:#666")
        self.tabs = QTabWidget()
        self.attrs = _table([tr("字段"), tr("值")])
        self.lists = QTreeWidget()
        self.lists.setHeaderLabels([tr("项目"), tr("内容")])
        self.lists.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.history = _table([tr("时间"), tr("对象"), tr("方法"), tr("等级"), tr("分值"), tr("说明"), tr("评估人")])
        self.points = _table([tr("名称"), tr("类型"), tr("风险等级"), tr("重大危险源")])
        self.dangers = _table([tr("隐患"), tr("等级"), tr("状态"), tr("发现日期"), tr("整改期限"), tr("责任人"),
                               tr("督办部门")])
        self.events = _table([tr("时间"), tr("状态"), tr("经办人"), tr("说明")])
        self.reason = QTextBrowser()
        self.qr_label = QLabel()
        self.qr_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr_text = QLabel()
        self.qr_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.qr_text.setWordWrap(True)
        self.qr_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        qr_save = QPushButton(tr("保存二维码图片…"))
        qr_save.clicked.connect(self._save_qr)
        self.qr_page = QWidget()
        ql = QVBoxLayout(self.qr_page)
        ql.addWidget(self.qr_label, 1)
        ql.addWidget(self.qr_text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(qr_save)
        row.addStretch(1)
        ql.addLayout(row)
        self.pages = {
            "attrs": (self.attrs, tr("属性")),
            "lists": (self.lists, tr("五个清单")),
            "points": (self.points, tr("风险点")),
            "history": (self.history, tr("评估记录")),
            "dangers": (self.dangers, tr("隐患")),
            "reason": (self.reason, tr("定级依据")),
            "events": (self.events, tr("处置过程")),
            "qr": (self.qr_page, tr("一企一码")),
        }
        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.hint)
        tl.addWidget(self.results)
        tl.addWidget(self.plant_button)
        split.addWidget(top)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 3)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(split)
        workspace.layersReset.connect(self.clear)

    # ---- results
    def clear(self) -> None:
        self.results.clear()
        self.tabs.clear()
        self.current = None
        self.plant_button.hide()

    def show_hits(self, hits: list[tuple[str, int]]) -> None:
        """List the features found under a click; the first one is shown."""
        self.results.blockSignals(True)
        self.results.clear()
        lang = current_language()
        for lid, fid in hits:
            row = self.workspace.record(lid, fid)
            if row is None:
                continue
            layer = self.workspace.layer(lid)
            item = QTreeWidgetItem([feature_name(layer, row), layer.title(lang)])
            item.setData(0, ROLE, (lid, int(fid)))
            self.results.addTopLevelItem(item)
        self.results.blockSignals(False)
        self.hint.setText(tr("找到 {n} 个要素").format(n=self.results.topLevelItemCount()) if hits
                          else tr("此处没有要素"))
        if self.results.topLevelItemCount():
            self.results.setCurrentItem(self.results.topLevelItem(0))
        else:
            self.tabs.clear()
            self.current = None
            self.plant_button.hide()

    def _picked(self, item, prev) -> None:
        if item is not None:
            self.show_feature(*item.data(0, ROLE))

    # ---- one feature
    def show_feature(self, layer_id: str, feature_id: int) -> None:
        self.current = (layer_id, int(feature_id))
        layer = self.workspace.layer(layer_id)
        row = self.workspace.record(layer_id, feature_id)
        self.tabs.clear()
        self.plant_button.setVisible(row is not None and self.plant_enterprise(layer_id, row) is not None)
        if row is None:
            return
        self._attributes(layer, row)
        self._add("attrs")
        table = layer.layer_def.table
        project = self.workspace.project
        if table == "enterprises":
            self._enterprise(project, int(feature_id), row)
            for key in ("lists", "points", "history", "dangers", "qr"):
                self._add(key)
        elif table == "zones":
            self._zone(project, int(feature_id), row)
            self._add("reason")
        elif table == "hidden_dangers":
            self._danger_events(project, int(feature_id))
            self._add("events")

    # ---- the plant view (厂区图) of an enterprise or of the enterprise of a risk point
    def plant_enterprise(self, layer_id: str, row) -> int | None:
        table = self.workspace.layer(layer_id).layer_def.table
        if table == "enterprises":
            return int(row["id"])
        if table == "risk_points" and "enterprise_id" in row.index and pd.notna(row["enterprise_id"]):
            return int(row["enterprise_id"])
        return None

    def _plant_clicked(self) -> None:
        if self.current is None:
            return
        row = self.workspace.record(*self.current)
        eid = None if row is None else self.plant_enterprise(self.current[0], row)
        if eid is not None:
            self.plantRequested.emit(eid)

    def _results_menu(self, pos) -> None:
        item = self.results.itemAt(pos)
        if item is None:
            return
        lid, fid = item.data(0, ROLE)
        row = self.workspace.record(lid, fid)
        eid = None if row is None else self.plant_enterprise(lid, row)
        if eid is None:
            return
        menu = QMenu(self)
        menu.addAction(tr("厂区图…")).triggered.connect(lambda: self.plantRequested.emit(eid))
        menu.exec(self.results.viewport().mapToGlobal(pos))

    def _add(self, key: str) -> None:
        widget, title = self.pages[key]
        self.tabs.addTab(widget, title)

    def _attributes(self, layer, row: pd.Series) -> None:
        lang = current_language()
        rows = []
        shown = set()
        for f in layer.layer_def.fields:
            if f.name in row.index:
                value = display_column(layer.layer_def, f.name, pd.Series([row[f.name]], dtype=object), lang)[0]
                rows.append([f.en if lang == "en" else f.zh, value])
                shown.add(f.name)
        extra = {"credit_code": ("统一社会信用代码", "Credit code"), "legal_person": ("主要负责人", "Legal person"),
                 "phone": ("电话", "Phone"), "contact": ("联系人", "Contact"), "level_reason": ("定级理由", "Level reason"),
                 "area_km2": ("面积(km²)", "Area (km²)"), "description": ("描述", "Description"),
                 "measures": ("措施", "Measures"), "funds_wan": ("资金(万元)", "Funds (10k CNY)"), "plan": ("预案", "Plan"),
                 "supervising_department": ("督办部门", "Supervising dept."), "specialty": ("专业", "Specialty"),
                 "found_date": ("发现日期", "Found"), "updated_at": ("更新时间", "Updated")}
        for name, (zh, en) in extra.items():
            if name in row.index and name not in shown:
                v = format_timestamp(row[name]) if name == "updated_at" else format_value(row[name], lang)
                if v:
                    rows.append([en if lang == "en" else zh, v])
        rows.append(["ID", str(int(row["id"]))])
        _fill(self.attrs, rows)

    def _enterprise(self, project, eid: int, row) -> None:
        lang = current_language()
        # 5个清单
        self.lists.clear()
        lists = enterprise_lists(project, eid)
        for kind, (zh, en) in LIST_KINDS.items():
            top = QTreeWidgetItem([en if lang == "en" else zh, ""])
            f = top.font(0)
            f.setBold(True)
            top.setFont(0, f)
            self.lists.addTopLevelItem(top)
            contents = lists.get(kind)
            if not contents:
                top.setText(1, tr("（未填写）"))
                continue
            for data in contents:
                for k, v in data.items():
                    if k == "external_distance_insufficient":
                        k = tr("外部安全防护距离不足")
                    if k == "行业":
                        v = _industry(v, lang)
                    top.addChild(QTreeWidgetItem([str(k), format_value(v, lang)]))
            top.setExpanded(True)
        # risk points and history
        points = risk_points(project, eid)
        prow = []
        for _, p in points.iterrows():
            prow.append([p["name"], word("risk_points", "kind", p["kind"], lang), _level(p["level"], lang),
                         {1: tr("一级"), 2: tr("二级"), 3: tr("三级"), 4: tr("四级")}.get(
                             _int(p["major_hazard_grade"]), "")])
        _fill(self.points, prow)
        hrows = []
        for _, a in assessment_history(project, eid).iterrows():
            obj = a["point_name"] if pd.notna(a["risk_point_id"]) and a["point_name"] else tr("企业")
            hrows.append([format_timestamp(a["assessed_at"]), obj, word("assessments", "method", a["method"], lang),
                          _level(a["level"], lang), format_value(a["score"], lang), a["explanation"] or "",
                          a["assessor"] or ""])
        _fill(self.history, hrows)
        # hidden dangers
        dangers = enterprise_dangers(project, eid)
        drows = []
        for _, d in dangers.iterrows():
            drows.append([d["title"], word("hidden_dangers", "grade", d["grade"], lang),
                          word("hidden_dangers", "status", d["status"], lang), format_value(d["found_date"], lang),
                          format_value(d["deadline"], lang), d["responsible_person"] or "",
                          d["supervising_department"] or ""])
        _fill(self.dangers, drows)
        # QR
        self.qr_content = enterprise_qr_content(row["qr_id"], eid)
        self.qr_image = qr_image(self.qr_content)
        self.qr_label.setPixmap(QPixmap.fromImage(self.qr_image))
        self.qr_text.setText(f"{row['name']}\n{self.qr_content}")

    def _zone(self, project, zid: int, row) -> None:
        lang = current_language()
        kind = word("zones", "kind", row["kind"], lang)
        parts = [tr("{name}（{kind}）").format(name=f"<b>{escape(str(row['name']))}</b>", kind=escape(kind)),
                 tr("风险等级：{level}").format(level=_level(row["level"], lang) or tr("未定级"))]
        if isinstance(row.get("level_rule"), str) and row["level_rule"]:
            parts.append(tr("分级规则：{rule}").format(rule=word("zones", "level_rule", row["level_rule"], lang)))
        if isinstance(row.get("level_reason"), str) and row["level_reason"]:
            parts.append(tr("定级理由：{reason}").format(reason=escape(row["level_reason"])))
        n_dec, dec = zone_decisions(project, zid)
        if n_dec:
            parts.append(tr("<b>决定等级的对象</b>（{n}）：").format(n=n_dec))
            items = []
            for _, d in dec.iterrows():
                label = d["name"] or f"{d['object_table']} #{int(d['object_id'])}"
                extra = f" — {escape(d['note'])}" if isinstance(d["note"], str) and d["note"] else ""
                items.append("<li>" + tr("{name}：{level}").format(name=escape(str(label)), level=_level(d["object_level"], lang))
                             + extra + "</li>")
            parts.append("<ul>" + "".join(items) + "</ul>")
        elif row.get("level") is None or pd.isna(row.get("level")):
            parts.append(tr("该区域尚未分级：在“风险分区”面板选择单元和规则后计算。"))
        self.reason.setHtml("<br>".join(parts))

    def _danger_events(self, project, did: int) -> None:
        lang = current_language()
        rows = []
        for _, e in danger_events(project, did).iterrows():
            rows.append([format_timestamp(e["at"]), word("hidden_dangers", "status", e["to_status"], lang),
                         e["by"] or "", e["note"] or ""])
        _fill(self.events, rows)

    def _save_qr(self) -> None:
        if not self.qr_content:
            return
        path, _ = QFileDialog.getSaveFileName(self, tr("保存二维码图片"), "qr.png", "PNG (*.png)")
        if path:
            qr_image(self.qr_content, scale=10).save(path)


def _int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _level(v, lang: str) -> str:
    n = _int(v) if v is not None and not (isinstance(v, float) and pd.isna(v)) else None
    if n not in (1, 2, 3, 4):
        return ""
    return level_title(n, lang)


def _industry(code, lang: str) -> str:
    from riskmap.industries import industry_name

    return industry_name(str(code), lang)
