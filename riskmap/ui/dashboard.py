"""The dashboard dock: enterprises by level × industry × town (painted charts), plan indicator progress
and the overdue 重大隐患. Clicking a bar filters the map's enterprises to that industry/town and level.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QScrollArea, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from riskmap.dangers import STATUS_ZH
from riskmap.fields import level_title, word
from riskmap.industries import industry_name
from riskmap.levels import level_info
from riskmap.stats import UNKNOWN_TOWN, enterprise_frame, project_stats
from riskmap.ui.charts import StackedBarChart
from riskmap.ui.i18n import current_language, joined, tr
from riskmap.ui.workspace import LayerFilter

LEVELS = (1, 2, 3, 4)
ENTERPRISES = "enterprises"


def _title(text: str) -> QLabel:
    lab = QLabel(text)
    f = lab.font()
    f.setBold(True)
    f.setPointSizeF(f.pointSizeF() + 1)
    lab.setFont(f)
    return lab


class LevelBox(QPushButton):
    """A coloured count of one level; clicking filters to it."""

    def __init__(self, n: int, parent=None):
        super().__init__(parent)
        self.n = n
        info = level_info(n)
        fg = "#000000" if n == 3 else "#FFFFFF"
        self.setStyleSheet(f"QPushButton {{background:{info.colour}; color:{fg}; border-radius:4px; padding:6px;"
                           f" font-weight:bold}}")
        self.setMinimumHeight(44)

    def set_count(self, count: int, lang: str) -> None:
        self.setText(f"{level_title(self.n, lang)}\n{count:,}")


class Dashboard(QWidget):
    """Statistics and lists; emits ``filterApplied(text)`` after it filtered the map."""

    filterApplied = Signal(str)
    dangerActivated = Signal(int)  # hidden danger id

    def __init__(self, workspace, parent=None, today: dt.date | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.today = today
        self.lang = current_language()
        self.industry_keys: list[str] = []
        self.town_scope: str | None = None  # a town clicked in the town chart narrows the industry chart
        self.town_keys: list[str] = []
        self.frame: pd.DataFrame | None = None  # id, industry, town (by location), level_key per enterprise
        self.stats: dict | None = None  # riskmap.stats.project_stats
        self.at: dt.date | None = None  # the date shown (riskmap.ui.timeline); None = today
        self._task = None  # statistics of another date being computed
        inner = QWidget()
        lay = QVBoxLayout(inner)
        lay.addWidget(_title(tr("企业风险等级")))
        boxes = QHBoxLayout()
        self.level_boxes = {n: LevelBox(n) for n in LEVELS}
        for n, b in self.level_boxes.items():
            b.clicked.connect(lambda _=False, n=n: self.apply({"level": n}))
            boxes.addWidget(b)
        lay.addLayout(boxes)
        self.total_label = QLabel()
        lay.addWidget(self.total_label)
        self.industry_title = _title(tr("按行业"))
        lay.addWidget(self.industry_title)
        self.by_industry = StackedBarChart()
        self.by_industry.barClicked.connect(lambda i, j: self._bar("industry", self.industry_keys, i, j))
        lay.addWidget(self.by_industry)
        lay.addWidget(_title(tr("按镇街")))
        self.by_town = StackedBarChart()
        self.by_town.barClicked.connect(lambda i, j: self._bar("town", self.town_keys, i, j))
        lay.addWidget(self.by_town)
        self.clear_btn = QPushButton(tr("清除地图筛选"))
        self.clear_btn.clicked.connect(self.clear_filter)
        lay.addWidget(self.clear_btn)
        lay.addWidget(_title(tr("规划指标进度")))
        self.indicators = QGridLayout()
        self.indicators_box = QWidget()
        self.indicators_box.setLayout(self.indicators)
        lay.addWidget(self.indicators_box)
        lay.addWidget(_title(tr("逾期重大隐患")))
        self.overdue = QTableWidget(0, 5)
        self.overdue.setHorizontalHeaderLabels([tr("隐患"), tr("企业"), tr("整改期限"), tr("逾期天数"), tr("状态")])
        self.overdue.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.overdue.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.overdue.verticalHeader().setVisible(False)
        self.overdue.horizontalHeader().setStretchLastSection(True)
        self.overdue.itemDoubleClicked.connect(self._danger_clicked)
        lay.addWidget(self.overdue)
        lay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._stale = True
        workspace.layersReset.connect(self.mark_stale)
        workspace.layerChanged.connect(lambda lid, what: lid == ENTERPRISES and what == "data" and self.mark_stale())

    def mark_stale(self) -> None:
        """Recompute now if on screen, else when the dock is next shown (keeps project opening fast); a project
        too large to read whole (a lazy enterprises layer: a city's million) is counted in the background."""
        self._stale = True
        if self.on_screen():
            self._refresh_soon()

    def on_screen(self) -> bool:
        """Whether the dashboard can be seen: shown, and not in a dock tab behind another one (Qt calls such a
        widget visible; it has no visible region). At the window's opening the dashboard is the tab behind
        识别结果: counted there anyway, the ×10 city's million enterprises were read twice on opening (about 20 s
        of two workers and 1.9 GB instead of 0.73 GB)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def dock_shown(self, visible: bool) -> None:
        """Its dock became visible or hidden (its tab brought forward or left: QDockWidget.visibilityChanged):
        the statistics left stale meanwhile are computed once it is seen."""
        if visible and self._stale:
            self._refresh_soon()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale and self.on_screen():
            self._refresh_soon()

    def _refresh_soon(self) -> None:
        ws = self.workspace
        if ws.project is not None and ws.has_layer(ENTERPRISES) and ws.layer(ENTERPRISES).lazy:
            self._compute_in_background(self.at)
        else:
            self.refresh()

    # ---- data (riskmap.stats: the numbers of ``riskmap stats``, towns by location)
    def compute(self) -> None:
        """Read the project's statistics (``self.stats``) and each enterprise's town (``self.frame``)."""
        project = self.workspace.project
        if project is None or not self.workspace.has_layer(ENTERPRISES):
            self.frame, self.stats = None, None
            return
        self.frame = enterprise_frame(project)
        if self.at is not None:  # as of a past date: the numbers of ``riskmap stats --at``
            self.stats = project_stats(project, at=self.at)
        else:
            self.stats = project_stats(project, self.today or dt.date.today(), frame=self.frame)

    def set_at(self, at: dt.date | None) -> None:
        """Show the statistics as of ``at`` (None: today). While shown, they are computed in the background
        (a county's history takes seconds) and drawn when ready; the date control does not wait for them."""
        if at == self.at:
            return
        self.at = at
        self._stale = True
        if not self.on_screen() or self.workspace.project is None:
            return
        self._compute_in_background(at)

    def _compute_in_background(self, at: dt.date | None) -> None:
        """Compute the statistics of ``at`` (None: today) on a worker; drawn when ready."""
        from riskmap.ui import tasks

        project, today = self.workspace.project, self.today or dt.date.today()

        def work(progress, cancelled):
            frame = enterprise_frame(project)
            stats = project_stats(project, at=at) if at is not None else project_stats(project, today, frame=frame)
            return frame, stats

        if self._task is not None:
            self._task.cancel()
        task = self._task = tasks.Task(work)

        def done(result):
            import shiboken6

            if not shiboken6.isValid(self):  # the window closed meanwhile
                return
            if self._task is task and self.at == at and self.workspace.project is project:
                self._task = None
                self.frame, self.stats = result
                self.refresh(compute=False)

        task.succeeded.connect(done)
        tasks.start(task)

    def busy(self) -> bool:
        """True while statistics of another date are being computed."""
        return self._task is not None

    @staticmethod
    def level_rows(counts: dict) -> tuple[list, np.ndarray]:
        """(keys by graded total, descending; counts per level 1–4) of ``riskmap stats``' rows
        (key → {"1": n, … "none": n}); keys without a graded enterprise are left out."""
        keys = list(counts)
        vals = np.array([[counts[k].get(str(n), 0) for n in LEVELS] for k in keys], dtype=np.int64).reshape(-1, 4)
        order = [i for i in np.argsort(-vals.sum(axis=1), kind="stable") if vals[i].sum()]
        return [keys[i] for i in order], vals[order]

    def industry_counts(self) -> dict:
        """Level counts per industry, within the chosen town if one is chosen."""
        if self.town_scope is None:
            return self.stats["by_industry"]
        out: dict = {}
        for r in self.stats["level_industry_town"]:
            if r["town"] == self.town_scope:
                out.setdefault(r["industry"], {})[r["level"]] = r["count"]
        return out

    def refresh(self, compute: bool = True) -> None:
        self._stale = False
        self.lang = current_language()
        if compute:
            self.compute()
        colours = [level_info(n).colour for n in LEVELS]
        names = [level_title(n, self.lang) for n in LEVELS]
        st = self.stats
        if st is not None:
            for n, b in self.level_boxes.items():
                b.set_count(st["by_level"][str(n)], self.lang)
            self.total_label.setText(tr("企业共 {n} 家，未评估 {u} 家，未定位 {l} 家").format(
                n=f"{st['enterprises']:,}", u=f"{st['by_level']['none']:,}", l=f"{st.get('unlocated', 0):,}"))
        self.industry_keys, vals = self.level_rows(self.industry_counts() if st else {})
        self.by_industry.set_data([industry_name(k, self.lang) for k in self.industry_keys], vals, colours, names)
        self.industry_title.setText(tr("按行业（{town}）").format(town=self._town_label(self.town_scope)) if self.town_scope
                                    else tr("按行业"))
        self.town_keys, vals = self.level_rows(st["by_town"] if st else {})
        self.by_town.set_data([self._town_label(k) for k in self.town_keys], vals, colours, names)
        self._refresh_indicators()
        self._refresh_overdue()

    @staticmethod
    def _town_label(town: str) -> str:
        return tr("未知") if town == UNKNOWN_TOWN else town

    def _refresh_indicators(self) -> None:
        while self.indicators.count():
            w = self.indicators.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        project = self.workspace.project
        rows = []
        if project is not None:
            try:
                from riskmap.indicators import project_progress

                rows = project_progress(project)
            except ImportError:
                rows = []
        if not rows:
            self.indicators.addWidget(QLabel(tr("项目中暂无规划指标")), 0, 0)
            return
        from riskmap.indicators import STATUS_ZH

        for i, p in enumerate(rows):
            name = QLabel(p.name)
            name.setToolTip(p.explanation or p.target_text or "")
            name.setWordWrap(True)
            bar = QProgressBar()
            bar.setRange(0, 100)
            frac = p.fraction
            bar.setValue(int(round(max(0.0, min(1.0, frac)) * 100)) if frac is not None else 0)
            bar.setFormat(f"{frac * 100:.0f}%" if frac is not None else tr("无数据"))
            bar.setToolTip(p.explanation or "")
            status = QLabel(STATUS_ZH.get(p.status, p.status) if self.lang != "en" else p.status.replace("_", " "))
            colour = {"met": "#2E7D32", "on_track": "#2E7D32", "at_risk": "#E65100", "missed": "#C62828"}.get(p.status)
            if colour:
                status.setStyleSheet(f"color:{colour}")
            self.indicators.addWidget(name, i, 0)
            self.indicators.addWidget(bar, i, 1)
            self.indicators.addWidget(status, i, 2)
        self.indicators.setColumnStretch(0, 3)
        self.indicators.setColumnStretch(1, 2)

    def overdue_major(self) -> pd.DataFrame:
        """Open 重大隐患 past their deadline (``riskmap stats``' overdue list), longest overdue first."""
        today = self.today or dt.date.today()
        rows = [r for r in (self.stats or {}).get("hidden_dangers", {}).get("overdue_list", []) if r["grade"] == "major"]
        d = pd.DataFrame(rows, columns=["id", "title", "enterprise", "grade", "status", "deadline"])
        d["status_zh"] = [STATUS_ZH.get(x, x) if self.lang != "en" else word("hidden_dangers", "status", x, "en")
                          for x in d["status"]]
        d["days"] = [(today - dt.date.fromisoformat(x[:10])).days for x in d["deadline"]]
        return d.sort_values("days", ascending=False, kind="stable")

    def _refresh_overdue(self) -> None:
        d = self.overdue_major()
        self.overdue.setRowCount(len(d))
        for i, r in enumerate(d.itertuples()):
            cells = [r.title, r.enterprise or "", str(r.deadline or ""), str(r.days or ""), r.status_zh]
            for j, c in enumerate(cells):
                item = QTableWidgetItem(c)
                item.setData(Qt.ItemDataRole.UserRole, int(r.id))
                if j == 3:
                    item.setForeground(Qt.GlobalColor.red)
                self.overdue.setItem(i, j, item)
        self.overdue.resizeColumnsToContents()
        self.overdue.setFixedHeight(min(60 + 24 * max(len(d), 1), 320))

    def _danger_clicked(self, item) -> None:
        self.dangerActivated.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    # ---- filtering the map
    def _bar(self, field: str, keys: list, i: int, j: int) -> None:
        """A click on a chart: level × industry (within the chosen town) or level × town."""
        values = {field: keys[i]}
        if field == "industry" and self.town_scope is not None:
            values = {"town": self.town_scope, **values}
        if j >= 0:
            values["level"] = LEVELS[j]
        if field == "town":
            self.town_scope = keys[i]
            highlight = self.by_town.highlight
            self.refresh()
            self.by_town.highlight = highlight
        self.apply(values)

    def apply(self, values: dict) -> None:
        """Filter the enterprises on the map, e.g. ``{"industry": "gas_station", "level": 1}``."""
        if not self.workspace.has_layer(ENTERPRISES):
            return
        allowed = {k: frozenset({v}) for k, v in values.items() if k != "town"}
        if "town" in values:  # the town by location, as counted (the record's town may say otherwise)
            ids = self.frame.loc[self.frame["town"] == values["town"], "id"] if self.frame is not None else []
            allowed["id"] = frozenset(int(i) for i in ids)
        flt = LayerFilter(allowed)
        self.workspace.set_filter(ENTERPRISES, flt)
        self.workspace.set_visible(ENTERPRISES, True)
        parts = []
        for k, v in values.items():
            if k == "level":
                parts.append(level_title(v, self.lang))
            elif k == "industry":
                parts.append(industry_name(v, self.lang))
            else:
                parts.append(self._town_label(str(v)))
        layer = self.workspace.layer(ENTERPRISES)
        self.filterApplied.emit(tr("地图已筛选：{what}（{n} 家企业）").format(what=joined(parts), n=layer.shown_count()))

    def clear_filter(self) -> None:
        if self.workspace.has_layer(ENTERPRISES):
            self.workspace.set_filter(ENTERPRISES, None)
            self.town_scope = None
            self.refresh()
            self.by_industry.highlight = self.by_town.highlight = None
            self.by_industry.update()
            self.by_town.update()
            self.filterApplied.emit(tr("已清除地图筛选"))
