"""Risk zoning view: choose the unit (town / village / grid / park) and the rule; the map recolours at once.

The levels come from ``riskmap.grading.zoning.zone_project`` (written to the project with their reasons,
which identify shows); a read-only project shows the levels stored in it.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from riskmap.levels import level_info
from riskmap.fields import level_title, word
from riskmap.ui.i18n import current_language, joined, tr

UNITS = {  # unit → (layer id, zh, en)
    "town": ("towns", "镇/街道", "Towns"),
    "village": ("villages", "村/社区", "Villages"),
    "grid": ("grids", "网格", "Grids"),
    "park": ("parks", "园区", "Parks"),
}
RULES = {  # key → (rule, per, zh, en)
    "max": ("max", None, "就高（最高等级）", "Highest level inside"),
    "weighted_km2": ("weighted", "km2", "加权密度（每平方千米）", "Weighted density per km²"),
    "weighted_pop": ("weighted", "10k_people", "加权密度（每万人）", "Weighted density per 10k people"),
    "weighted_zone": ("weighted", "zone", "加权密度（每区域）", "Weighted score per zone"),
}


class ZoningPanel(QWidget):
    """Unit and rule choosers; ``zoned(unit, rule)`` after the map was recoloured."""

    zoned = Signal(str, str)
    message = Signal(str)

    def __init__(self, workspace, parent=None, run=None):
        super().__init__(parent)
        self.workspace = workspace
        self.run = run  # run(title, fn, on_done): the window's background runner; None = run here
        lang = current_language()
        self.unit = QComboBox()
        for key, (_, zh, en) in UNITS.items():
            self.unit.addItem(en if lang == "en" else zh, key)
        self.rule = QComboBox()
        for key, (_, _, zh, en) in RULES.items():
            self.rule.addItem(en if lang == "en" else zh, key)
        self.unit.currentIndexChanged.connect(self.apply)
        self.rule.currentIndexChanged.connect(self.apply)
        self.recompute = QPushButton(tr("重新计算"))
        self.recompute.clicked.connect(self.apply)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("分区单元"), self.unit)
        form.addRow(tr("定级规则"), self.rule)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.recompute)
        lay.addWidget(self.summary)
        lay.addStretch(1)
        self.last_result = None
        self.can_compute = True  # False: the user may not write zone levels (the window sets it)

    def current(self) -> tuple[str, str]:
        return self.unit.currentData(), self.rule.currentData()

    def set_unit(self, unit: str) -> None:
        self.unit.setCurrentIndex(self.unit.findData(unit))

    def set_rule(self, rule_key: str) -> None:
        self.rule.setCurrentIndex(self.rule.findData(rule_key))

    def show_unit_layer(self, unit: str) -> None:
        """Show the unit's layer, hide the other zoning units (their fills would mix)."""
        for key, (layer_id, _, _) in UNITS.items():
            if self.workspace.has_layer(layer_id):
                self.workspace.set_visible(layer_id, key == unit)

    def apply(self) -> None:
        """Show the chosen unit and level it under the chosen rule (in the background for large projects)."""
        unit, rule_key = self.current()
        project = self.workspace.project
        if project is None:
            return
        self.show_unit_layer(unit)
        rule, per, _, _ = RULES[rule_key]
        if project.readonly:
            self._show_stored(unit, tr("项目只读，显示项目中保存的分区等级。"))
            return
        if not self.can_compute:
            self._show_stored(unit, tr("当前用户无权修改分区等级，显示项目中保存的分区等级。"))
            return
        try:
            from riskmap.grading.zoning import zone_project
        except ImportError:
            self._show_stored(unit, tr("分区定级模块不可用，显示项目中保存的分区等级。"))
            return

        def work(progress, cancelled):
            return zone_project(project, unit, rule, per=per, progress=progress, cancel=cancelled)

        def done(result):
            self.last_result = result
            self.workspace.reload_layer(UNITS[unit][0])
            label = RULES[rule_key][3] if current_language() == "en" else result.settings.label_zh()
            self._summarise(unit, result.summary(), label)
            self.zoned.emit(unit, rule_key)

        if self.run is None:
            done(work(lambda *a: None, lambda: False))
        else:
            self.run(tr("正在计算风险分区"), work, done)

    def _show_stored(self, unit: str, note: str) -> None:
        layer_id = UNITS[unit][0]
        if not self.workspace.has_layer(layer_id):
            return
        gdf = self.workspace.layer(layer_id).gdf
        counts = {str(n): int((gdf["level"] == n).sum()) for n in (1, 2, 3, 4)}
        counts["none"] = int(gdf["level"].isna().sum())
        rules = gdf["level_rule"].dropna().unique().tolist() if "level_rule" in gdf else []
        names = [word("zones", "level_rule", r, current_language()) for r in rules]
        self._summarise(unit, counts, joined(names) or tr("未分级"), note)
        self.zoned.emit(unit, "stored")

    def _summarise(self, unit: str, summary: dict, rule_label: str, note: str = "") -> None:
        lang = current_language()
        parts = []
        for n in (1, 2, 3, 4):
            info = level_info(n)
            parts.append(f"<span style='color:{info.colour}'>■</span> "
                         f"{level_title(n, lang)} {summary.get(str(n), 0)}")
        if summary.get("none"):
            parts.append(tr("未分级") + f" {summary['none']}")
        _, zh, en = UNITS[unit][0], UNITS[unit][1], UNITS[unit][2]
        unit_name = f"<b>{en if lang == 'en' else zh}</b>"
        text = tr("{unit} · 规则：{rule}").format(unit=unit_name, rule=rule_label) + "<br>" + "<br>".join(parts)
        if note:
            text += f"<br><i>{escape(note)}</i>"
        self.summary.setText(text)
        self.message.emit(tr("风险分区已更新：{unit}，{rule}").format(unit=en if lang == "en" else zh, rule=rule_label))
