"""The risk point dialog: name, category, grading by LEC or LS with the level shown live in its colour, the
content of the 风险告知卡 (hazards, possible accidents, measures, responsible person) and its safety signs.

The values go to :func:`riskmap.plant.add_risk_point` (a new point) or :func:`riskmap.plant.update_risk_point`
and :func:`riskmap.plant.grade_point` (an existing one); the dialog itself writes nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
    QListWidgetItem, QPlainTextEdit, QStackedWidget, QTabWidget, QVBoxLayout, QWidget,
)

from riskmap.errors import RiskmapError
from riskmap.ui.i18n import current_language, tr

CATEGORIES = ("area", "device", "facility", "place", "post")
CARD_TEXTS = ("hazard_factors", "accident_types", "control_measures", "emergency_measures")
SIGN_ICON = 28
ROLE = Qt.ItemDataRole.UserRole


def category_title(code: str | None) -> str:
    return {"area": tr("区域"), "device": tr("装置"), "facility": tr("设施"), "place": tr("场所"),
            "post": tr("岗位")}.get(code or "", "")


def kind_title(kind: str | None) -> str:
    return {"risk_point": tr("风险点"), "hazard_source": tr("危险源")}.get(kind or "", "")


def _factor_values(method: str) -> dict[str, dict[float, str]]:
    """The allowed values of each factor of LEC or LS, with their meanings, from the standards files."""
    if method == "lec":
        from riskmap.grading.lec import load
    else:
        from riskmap.grading.ls import load
    return load().values


def sign_icon(sign) -> QIcon:
    """A safety sign drawn by the print pictograms, as a small icon."""
    from riskmap.render.pictograms import draw_sign

    pm = QPixmap(SIGN_ICON, SIGN_ICON)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        draw_sign(p, QRectF(1, 1, SIGN_ICON - 2, SIGN_ICON - 2), sign)
    finally:
        p.end()
    return QIcon(pm)


def load_signs() -> dict:
    """The safety signs of resources/standards/safety_signs.toml by code ({} when they cannot be read)."""
    try:
        from riskmap.render.pictograms import load_signs as load
    except ImportError:
        return {}
    try:
        return load()
    except RiskmapError:
        return {}


class RiskPointDialog(QDialog):
    """Name, category and grading of a risk point, with its card. ``values()`` after ``exec()``.

    ``point``: the current values of an existing point (a row of ``plant_data(...).points``), else None.
    ``assessor``: the default assessor's name.
    """

    def __init__(self, parent=None, *, point=None, assessor: str = "", geometry_kind: str = "polygon"):
        super().__init__(parent)
        self.setWindowTitle(tr("风险点评估") if point is not None else tr("新风险点"))
        self.point = point
        self.name = QLineEdit()
        self.kind = QComboBox()
        for k in ("risk_point", "hazard_source"):
            self.kind.addItem(kind_title(k), k)
        self.category = QComboBox()
        for c in CATEGORIES:
            self.category.addItem(category_title(c), c)
        if geometry_kind == "polygon":
            self.category.setCurrentIndex(0)
        else:
            self.category.setCurrentIndex(CATEGORIES.index("post"))
        # grading
        self.method = QComboBox()
        self.method.addItem(tr("LEC 作业条件危险性分析"), "lec")
        self.method.addItem(tr("LS 风险矩阵"), "ls")
        self.factors: dict[str, dict[str, QComboBox]] = {}
        self.stack = QStackedWidget()
        for method, names in (("lec", ("L", "E", "C")), ("ls", ("L", "S"))):
            page = QWidget()
            form = QFormLayout(page)
            values = _factor_values(method)
            boxes = {}
            for f in names:
                box = QComboBox()
                for v, meaning in values[f].items():
                    box.addItem(f"{v:g}  {meaning}", float(v))
                box.currentIndexChanged.connect(self._update_level)
                boxes[f] = box
                form.addRow(self._factor_title(method, f), box)
            self.factors[method] = boxes
            self.stack.addWidget(page)
        self.method.currentIndexChanged.connect(lambda i: (self.stack.setCurrentIndex(i), self._update_level()))
        self.level = QLabel()
        self.level.setMinimumHeight(30)
        self.level.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.level.setObjectName("levelLabel")
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setStyleSheet("color:#555")
        self.assessor = QLineEdit(assessor)
        # the card
        self.texts = {k: QPlainTextEdit() for k in CARD_TEXTS}
        for w in self.texts.values():
            w.setMinimumHeight(48)
        self.person = QLineEdit()
        self.phone = QLineEdit()
        self.signs = QListWidget()
        self.signs.setIconSize(QSize(SIGN_ICON, SIGN_ICON))
        lang = current_language()
        for code, sign in load_signs().items():
            name = getattr(sign, "en" if lang == "en" else "zh", "") or ""
            item = QListWidgetItem(sign_icon(sign), f"{code}  {name}")
            item.setData(ROLE, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.signs.addItem(item)
        # layout
        basic = QWidget()
        form = QFormLayout(basic)
        form.addRow(tr("名称"), self.name)
        form.addRow(tr("类型"), self.kind)
        form.addRow(tr("类别"), self.category)
        grading = QGroupBox(tr("风险评估"))
        gl = QVBoxLayout(grading)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("方法")))
        row.addWidget(self.method, 1)
        gl.addLayout(row)
        gl.addWidget(self.stack)
        gl.addWidget(self.level)
        gl.addWidget(self.explanation)
        ar = QFormLayout()
        ar.addRow(tr("评估人"), self.assessor)
        gl.addLayout(ar)
        form.addRow(grading)
        card = QWidget()
        cf = QFormLayout(card)
        titles = {"hazard_factors": tr("危险有害因素"), "accident_types": tr("可能导致的事故类型"),
                  "control_measures": tr("管控措施"), "emergency_measures": tr("应急处置措施")}
        for k in CARD_TEXTS:
            cf.addRow(titles[k], self.texts[k])
        cf.addRow(tr("责任人"), self.person)
        cf.addRow(tr("联系电话"), self.phone)
        tabs = QTabWidget()
        tabs.addTab(basic, tr("风险点"))
        tabs.addTab(card, tr("告知卡"))
        tabs.addTab(self.signs, tr("安全标志"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("确定"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setStyleSheet("color:#B71C1C")
        self.error.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(tabs, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(560, 620)
        if point is not None:
            self._fill(point)
        self._update_level()

    @staticmethod
    def _factor_title(method: str, f: str) -> str:
        if method == "lec":
            return {"L": tr("L 事故发生的可能性"), "E": tr("E 暴露于危险环境的频繁程度"),
                    "C": tr("C 事故后果")}[f]
        return {"L": tr("L 可能性"), "S": tr("S 严重性")}[f]

    def _fill(self, p) -> None:
        def text(key):
            v = p.get(key) if hasattr(p, "get") else None
            return "" if v is None or (isinstance(v, float) and v != v) else str(v)

        self.name.setText(text("name"))
        i = self.kind.findData(text("kind") or "risk_point")
        self.kind.setCurrentIndex(max(0, i))
        i = self.category.findData(text("category"))
        if i >= 0:
            self.category.setCurrentIndex(i)
        for k in CARD_TEXTS:
            self.texts[k].setPlainText(text(k))
        self.person.setText(text("responsible_person"))
        self.phone.setText(text("responsible_phone"))
        signs = p.get("signs") if hasattr(p, "get") else None
        chosen = set(signs or []) if isinstance(signs, (list, tuple)) else set()
        for i in range(self.signs.count()):
            it = self.signs.item(i)
            if it.data(ROLE) in chosen:
                it.setCheckState(Qt.CheckState.Checked)
        if text("method") in ("lec", "ls"):
            self.method.setCurrentIndex(self.method.findData(text("method")))

    # ---- grading
    def method_name(self) -> str:
        return self.method.currentData()

    def inputs(self) -> dict:
        return {f: box.currentData() for f, box in self.factors[self.method_name()].items()}

    def set_inputs(self, method: str, inputs: dict) -> None:
        """Choose the method and factor values (tests, and a point graded before)."""
        self.method.setCurrentIndex(self.method.findData(method))
        for f, v in inputs.items():
            box = self.factors[method][f]
            i = box.findData(float(v))
            if i < 0:
                raise RiskmapError(f"{f} 的取值 {v} 不在表中", f"{f} = {v} is not a value of its table", where=f)
            box.setCurrentIndex(i)
        self._update_level()

    def result(self):
        """The grading of the chosen inputs (riskmap.grading.GradeResult)."""
        from riskmap.grading import grade

        return grade(self.method_name(), self.inputs())

    def _update_level(self) -> None:
        try:
            r = self.result()
        except (RiskmapError, KeyError, TypeError):
            self.level.setText("")
            return
        colour = QColor(r.colour)
        ink = "#000000" if colour.lightnessF() > 0.55 else "#FFFFFF"
        name = r.level_name if current_language() != "en" else {1: "Major", 2: "Significant", 3: "General",
                                                               4: "Low"}.get(r.level, r.level_name)
        score = "D" if self.method_name() == "lec" else "R"
        self.level.setText(f"{name}  {score} = {r.score:g}")
        self.level.setStyleSheet(f"background:{r.colour};color:{ink};font-weight:bold;border-radius:3px;padding:4px")
        self.level.setProperty("level", r.level)
        self.explanation.setText(r.explanation if current_language() != "en" else "")

    # ---- values
    def checked_signs(self) -> list[str]:
        return [self.signs.item(i).data(ROLE) for i in range(self.signs.count())
                if self.signs.item(i).checkState() == Qt.CheckState.Checked]

    def card(self) -> dict:
        out = {k: self.texts[k].toPlainText().strip() or None for k in CARD_TEXTS}
        out["responsible_person"] = self.person.text().strip() or None
        out["responsible_phone"] = self.phone.text().strip() or None
        out["signs"] = self.checked_signs()
        return out

    def values(self) -> dict:
        """name, kind, category, method, inputs, assessor and the card fields."""
        return {"name": self.name.text().strip(), "kind": self.kind.currentData(),
                "category": self.category.currentData(), "method": self.method_name(), "inputs": self.inputs(),
                "assessor": self.assessor.text().strip(), **self.card()}

    def _accept(self) -> None:
        if not self.name.text().strip():
            self.error.setText(tr("请填写风险点名称"))
            self.name.setFocus()
            return
        if not self.assessor.text().strip():
            self.error.setText(tr("请填写评估人"))
            self.assessor.setFocus()
            return
        self.accept()
