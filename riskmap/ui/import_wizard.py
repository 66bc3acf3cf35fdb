"""The import wizard (文件 → 导入数据…): choose file and layer → map fields → coordinate system → preview
in a table and on a small map → validation report → import in one transaction.

The wizard holds no import logic: it calls :mod:`riskmap.io.importer` (read_for, auto_mapping,
plan_from_source, commit_import) — the same functions as ``riskmap import`` — in the background.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QMessageBox, QPushButton, QSpinBox, QSplitter, QTableView, QTableWidget, QTableWidgetItem, QVBoxLayout,
    QWidget, QWizard, QWizardPage,
)

from riskmap.errors import RiskmapError
from riskmap.io.fieldmap import Mapping, auto_mapping, load_synonyms, resolve_layer
from riskmap.scalars import plain_scalar
from riskmap.ui import tasks
from riskmap.ui.errors import show_error
from riskmap.ui.i18n import current_language, joined, tr

FILE_FILTER = "*.xlsx *.xls *.xlsm *.ods *.csv *.txt *.shp *.zip *.gpkg *.geojson *.json *.kml *.kmz *.dxf"
NONE = "—"
STATUS_COLOURS = {"error": "#D32F2F", "repaired": "#F57C00", "warning": "#F9A825", "ok": "#202020",
                  "skipped": "#9E9E9E",
                  # an enterprise list against the project's enterprises (row_change)
                  "new": "#2E7D32", "updated": "#1565C0", "unchanged": "#757575"}


def zone_kind_titles() -> dict[str, str]:
    return {"county": tr("县（区）界"), "town": tr("乡镇/街道"), "village": tr("村/社区"), "grid": tr("网格"),
            "chemical_park": tr("化工园区"), "industrial_park": tr("工业园区"), "functional": tr("功能区"),
            "custom": tr("自定义区域")}


def importable_layers() -> list[tuple[str, str]]:
    """(layer id, title in the UI language) of every catalogue layer that import can fill, in drawing order."""
    from riskmap.layers import load_catalogue

    targets = load_synonyms().targets
    lang = current_language()
    return [(d.id, d.title(lang)) for d in reversed(load_catalogue().values()) if d.table in targets]


def field_title(spec, name: str) -> str:
    """A field's name in the UI language: the layer catalogue's, else its first header synonym (in English:
    its first header without Chinese, else the field's own name)."""
    from riskmap.layers import load_catalogue

    en = current_language() == "en"
    for d in load_catalogue().values():
        if d.table == spec.table:
            for f in d.fields:
                if f.name == name:
                    return f.en if en else f.zh
    f = spec.fields[name]
    if en:
        return next((h for h in f.headers if h.isascii()), name)
    return f.headers[0] if f.headers else name


# ====================================================================== pages


class FilePage(QWizardPage):
    """Step 1: the file, the target layer, and (for spreadsheets) the sheet and header row."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(tr("选择文件和图层"))
        self.setSubTitle(tr("支持 Excel、CSV、Shapefile、GeoPackage、GeoJSON、KML/KMZ、DXF。"))
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("import_path")
        browse = QPushButton(tr("浏览…"))
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        self.layer_combo = QComboBox()
        for lid, title in importable_layers():
            self.layer_combo.addItem(title, lid)
        self.kind_combo = QComboBox()
        self.sheet_combo = QComboBox()
        self.sheet_combo.addItem(tr("（自动）"), None)
        self.header_spin = QSpinBox()
        self.header_spin.setRange(0, 1000)
        self.header_spin.setSpecialValueText(tr("自动识别"))
        form = QFormLayout(self)
        form.addRow(tr("文件"), row)
        form.addRow(tr("导入到图层"), self.layer_combo)
        form.addRow(tr("分区类型"), self.kind_combo)
        form.addRow(tr("工作表/源图层"), self.sheet_combo)
        form.addRow(tr("表头所在行"), self.header_spin)
        self.layer_combo.currentIndexChanged.connect(self._layer_changed)
        self.path_edit.textChanged.connect(self._path_changed)
        self._layer_changed()

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("选择要导入的文件"), self.path_edit.text() or str(Path.home()),
                                              tr("数据文件 ({patterns});;所有文件 (*)").format(patterns=FILE_FILTER))
        if path:
            self.path_edit.setText(path)

    def _path_changed(self) -> None:
        self.sheet_combo.clear()
        self.sheet_combo.addItem(tr("（自动）"), None)
        self.completeChanged.emit()

    def _layer_changed(self) -> None:
        lid = self.layer_combo.currentData()
        spec, constants = resolve_layer(lid)
        self.kind_combo.clear()
        needs_kind = "kind" in spec.fields and spec.table == "zones" and "kind" not in constants
        if needs_kind:
            titles = zone_kind_titles()
            kinds = ["chemical_park", "industrial_park"] if lid == "parks" else list(titles)
            for k in kinds:
                self.kind_combo.addItem(titles[k], k)
            self.kind_combo.addItem(tr("按文件中的类型列"), None)
        self.kind_combo.setEnabled(needs_kind)

    def isComplete(self) -> bool:  # noqa: N802 (Qt name)
        return bool(self.path_edit.text().strip())

    def choice(self) -> dict:
        return {"path": self.path_edit.text().strip(), "layer": self.layer_combo.currentData(),
                "kind": self.kind_combo.currentData() if self.kind_combo.isEnabled() else None,
                "sheet": self.sheet_combo.currentData(), "header_row": self.header_spin.value() or None}

    def validatePage(self) -> bool:  # noqa: N802
        """Leave only once the file is read (in the background); reading again when anything changed."""
        choice = self.choice()
        if self.wiz.source is not None and self.wiz.read_choice == choice:
            return True
        self.wiz.read_file(choice, on_done=self.wiz.next)
        return False

    def show_sheets(self, names: list[str], chosen: str | None) -> None:
        self.sheet_combo.blockSignals(True)
        self.sheet_combo.clear()
        self.sheet_combo.addItem(tr("（自动）"), None)
        for n in names:
            self.sheet_combo.addItem(n, n)
        if chosen and len(names) > 1:
            self.sheet_combo.setCurrentIndex(self.sheet_combo.findData(chosen))
        self.sheet_combo.blockSignals(False)


class MappingPage(QWizardPage):
    """Step 2: which column fills which field (detected from the headers; can be loaded and saved)."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(tr("字段对应"))
        self.setSubTitle(tr("已按表头自动对应，带 * 的为必填字段。可调整，也可载入或保存对应关系。"))
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("mapping_table")
        self.table.setHorizontalHeaderLabels([tr("字段"), tr("文件中的列"), tr("示例值")])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        load = QPushButton(tr("载入对应…"))
        save = QPushButton(tr("保存对应…"))
        load.clicked.connect(self.load)
        save.clicked.connect(self.save)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(load)
        buttons.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.combos: dict[str, QComboBox] = {}

    def initializePage(self) -> None:  # noqa: N802
        self.fill(self.wiz.mapping)

    def roles(self) -> list[tuple[str, str]]:
        """(role, title): the fields, then the coordinate columns for points from a table."""
        spec = self.wiz.spec
        out = [(name, field_title(spec, name) + (" *" if f.required else ""))
               for name, f in spec.fields.items() if name not in self.wiz.mapping.constants]
        if self.wiz.source.is_table and spec.geometry == "point":
            out += [("@x", tr("经度 / X")), ("@y", tr("纬度 / Y")), ("@xy", tr("经纬度（同一列）"))]
        return out

    def fill(self, mapping: Mapping) -> None:
        columns = self.wiz.source.columns
        roles = self.roles()
        self.table.setRowCount(len(roles))
        self.combos = {}
        for r, (role, title) in enumerate(roles):
            item = QTableWidgetItem(title)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(r, 0, item)
            combo = QComboBox()
            combo.addItem(NONE, None)
            for c in columns:
                combo.addItem(c, c)
            current = {"@x": mapping.x, "@y": mapping.y, "@xy": mapping.xy}.get(role, mapping.fields.get(role))
            combo.setCurrentIndex(max(combo.findData(current), 0) if current else 0)
            combo.currentIndexChanged.connect(lambda _i, r=r: self._show_sample(r))
            self.table.setCellWidget(r, 1, combo)
            self.combos[role] = combo
            self._show_sample(r)

    def _show_sample(self, r: int) -> None:
        combo = self.table.cellWidget(r, 1)
        col = combo.currentData()
        text = ""
        if col is not None:
            values = self.wiz.source.frame[col]
            nonblank = values[values.notna()]
            text = str(nonblank.iloc[0]) if len(nonblank) else ""
        item = QTableWidgetItem(text[:40])
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.table.setItem(r, 2, item)

    def mapping(self) -> Mapping:
        m = Mapping(table=self.wiz.spec.table, constants=dict(self.wiz.mapping.constants))
        for role, combo in self.combos.items():
            col = combo.currentData()
            if col is None:
                continue
            if role.startswith("@"):
                setattr(m, role[1:], col)
            else:
                m.fields[role] = col
        return m

    def validatePage(self) -> bool:  # noqa: N802
        self.wiz.mapping = self.mapping()
        return True

    def load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("载入字段对应"), str(Path.home()), "*.json")
        if not path:
            return
        try:
            m = Mapping.load(path)
            m.check(self.wiz.spec, self.wiz.source.columns, where=Path(path).name)
        except RiskmapError as exc:
            show_error(self, exc)
            return
        m.constants = {**m.constants, **self.wiz.mapping.constants}
        self.fill(m)

    def save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("保存字段对应"), str(Path.home() / (tr("字段对应") + ".json")), "*.json")
        if path:
            self.mapping().save(path)


class CrsPage(QWizardPage):
    """Step 3: the coordinate system of the file (or: detect it), and whether to repair."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(tr("坐标系"))
        self.setSubTitle(tr("坐标取自高德、腾讯地图的选 GCJ-02，取自百度地图的选 BD-09。"))
        self.crs_combo = QComboBox()
        self.crs_combo.setObjectName("crs_combo")
        self.code_edit = QLineEdit()
        self.code_edit.setPlaceholderText(tr("EPSG 代码，如 4523"))
        self.declared = QLabel()
        self.repair_box = QCheckBox(tr("自动修复无效几何（如自相交）和颠倒的经纬度"))
        self.repair_box.setChecked(True)
        form = QFormLayout(self)
        form.addRow(tr("坐标系"), self.crs_combo)
        form.addRow(tr("其他坐标系"), self.code_edit)
        form.addRow(tr("文件声明"), self.declared)
        form.addRow("", self.repair_box)
        self.crs_combo.currentIndexChanged.connect(
            lambda: self.code_edit.setEnabled(self.crs_combo.currentData() == "other"))

    def initializePage(self) -> None:  # noqa: N802
        self.crs_combo.clear()
        self.crs_combo.addItem(tr("自动（按文件声明，或按县域识别）"), None)
        self.crs_combo.addItem(tr("CGCS2000 经纬度（EPSG:4490）"), "4490")
        self.crs_combo.addItem(tr("WGS84 经纬度（EPSG:4326，GPS）"), "4326")
        self.crs_combo.addItem(tr("GCJ-02（高德、腾讯地图）"), "gcj02")
        self.crs_combo.addItem(tr("BD-09（百度地图）"), "bd09")
        epsg = self.wiz.project.metric_epsg
        if epsg:
            self.crs_combo.addItem(tr("本县高斯-克吕格 3 度带（EPSG:{code}）").format(code=epsg), str(epsg))
        self.crs_combo.addItem(tr("Web 墨卡托（EPSG:3857）"), "3857")
        self.crs_combo.addItem(tr("其他 EPSG 代码…"), "other")
        given = self.wiz.mapping.crs
        if given:
            i = self.crs_combo.findData(str(given))
            if i < 0:
                self.crs_combo.setCurrentIndex(self.crs_combo.findData("other"))
                self.code_edit.setText(str(given))
            else:
                self.crs_combo.setCurrentIndex(i)
        self.code_edit.setEnabled(self.crs_combo.currentData() == "other")
        src = self.wiz.source
        self.declared.setText(src.crs.name if src.crs is not None else tr("（无）"))

    def crs(self) -> str | None:
        value = self.crs_combo.currentData()
        if value == "other":
            return self.code_edit.text().strip() or None
        return value

    def validatePage(self) -> bool:  # noqa: N802
        value = self.crs()
        if value is not None:
            from riskmap.io.coords import parse_crs

            try:
                parse_crs(value)
            except RiskmapError as exc:
                show_error(self, exc)
                return False
        self.wiz.crs = value
        self.wiz.repair = self.repair_box.isChecked()
        return True


class PreviewModel(QAbstractTableModel):
    """Rows of a validated import: row number, status, (an enterprise list: 新增 / 更新 / 无变化), then the
    mapped fields."""

    def __init__(self, plan, parent=None):
        super().__init__(parent)
        self.plan = plan
        self.fields = [f for f in plan.spec.fields if f in plan.mapping.fields or f in plan.mapping.constants]
        self.change = row_change(plan) if plan.update is not None else None
        self.change_col = 2 if self.change is not None else None
        self.first_field = 3 if self.change is not None else 2
        self.titles = ([tr("行"), tr("状态")] + ([tr("与项目比对")] if self.change is not None else [])
                       + [field_title(plan.spec, f) for f in self.fields] + [tr("位置")])
        self.status = row_status(plan)
        self.tips = {}
        for i in plan.report.issues:
            if i.row is not None:
                self.tips.setdefault(i.row, []).append(f"{i.field}: {i.en if current_language() == 'en' else i.zh}")
        self.values = {f: plan.values[f].to_numpy(dtype=object) for f in self.fields}
        self.enum_names = {}  # (field, code) -> the first spelling of the code in field_synonyms.toml
        vocabularies = load_synonyms().vocabularies
        for f in self.fields:
            spec = plan.spec.fields[f]
            if spec.type == "enum":
                for spelling, code in vocabularies[spec.vocab].values.items():
                    self.enum_names.setdefault((f, code), spelling)
        if "kind" in self.fields and plan.spec.table == "zones":
            self.enum_names.update({("kind", k): t for k, t in zone_kind_titles().items()})

    def shown(self, field: str, v) -> str:
        """A value as the user knows it: levels and industries by their names in the UI language."""
        if v is None:
            return ""
        if field == "geom":
            p = v if v.geom_type == "Point" else v.centroid
            return f"{p.x:.6f}, {p.y:.6f}"
        if field not in self.plan.spec.fields:
            return str(v)
        ftype = self.plan.spec.fields[field].type
        if ftype == "level":
            from riskmap.fields import level_title

            return level_title(v, current_language())
        if ftype == "industry":
            from riskmap.industries import industry_name

            return industry_name(v, current_language())
        if ftype == "enum":
            return self.enum_names.get((field, v), str(v))
        return str(v)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.plan.bad)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.titles)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.titles[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        r, c = index.row(), index.column()
        status = self.status[r]
        if role == Qt.ItemDataRole.DisplayRole:
            if c == 0:
                return str(self.plan.source.rows[r])
            if c == 1:
                return {"ok": tr("可导入"), "error": tr("错误"), "repaired": tr("已修复"), "warning": tr("警告"),
                        "skipped": tr("跳过")}[status]
            if c == self.change_col:
                return change_titles().get(self.change[r], "")
            if c == len(self.titles) - 1:
                g = self.plan.geoms[r]
                if g is None:
                    return ""
                p = g if g.geom_type == "Point" else g.centroid
                return f"{p.x:.6f}, {p.y:.6f}"
            f = self.fields[c - self.first_field]
            return self.shown(f, self.values[f][r])
        if role == Qt.ItemDataRole.ForegroundRole and c == 1:
            return QBrush(QColor(STATUS_COLOURS[status]))
        if role == Qt.ItemDataRole.ForegroundRole and c == self.change_col and self.change[r]:
            return QBrush(QColor(STATUS_COLOURS[self.change[r]]))
        if role == Qt.ItemDataRole.ToolTipRole:
            if c == self.change_col and self.change[r] == "updated":
                return self.change_tip(r)
            return "\n".join(self.tips.get(plain_scalar(self.plan.source.rows[r]), [])) or None
        return None

    def change_tip(self, r: int) -> str:
        """The fields a row changes in the enterprise it names, with the stored and the new value."""
        upd = self.plan.update
        lines = [tr("更新项目中的企业（id={id}）：").format(id=int(upd.match[r]))]
        for f, (old, new) in upd.changes.get(r, {}).items():
            lines.append(tr("{field}：{old} → {new}").format(
                field=changed_field_title(self.plan.spec, f), old=self.shown(f, old) or tr("（空）"),
                new=self.shown(f, new) or tr("（空）")))
        return "\n".join(lines)


def change_titles() -> dict[str, str]:
    """The 与项目比对 column: what a row of an enterprise list does to the project."""
    return {"new": tr("新增"), "updated": tr("更新"), "unchanged": tr("无变化")}


def changed_field_title(spec, name: str) -> str:
    """A field an update changes, in the UI language (the point is 位置)."""
    if name == "geom":
        return tr("位置")
    if name == "zone_id":
        return tr("所属分区")
    return field_title(spec, name) if name in spec.fields else name


def row_change(plan) -> list[str]:
    """What each row of an enterprise list does to the project: 'new' (added), 'updated' (changes the
    enterprise it names), 'unchanged', or '' (a row with errors, or left out: nothing)."""
    upd = plan.update
    n = len(plan.bad)
    if upd is None:
        return [""] * n
    good = plan.good
    unchanged = set(upd.unchanged)
    out = []
    for k in range(n):
        if not good[k]:
            out.append("")
        elif upd.match[k] < 0:
            out.append("new")
        elif k in upd.changes:
            out.append("updated")
        elif k in unchanged:
            out.append("unchanged")
        else:
            out.append("")
    return out


def update_summary(plan) -> str | None:
    """An enterprise list against the project, as ``riskmap import`` prints it: 新增 N 家，更新 M 家（字段…），
    无变化 K 家，新名单中没有 L 家；未定位 U 家，未评估 V 家，行业按“其他” W 家. None for other layers."""
    upd = plan.update
    if upd is None:
        return None
    per_field: dict[str, int] = {}
    for diff in upd.changes.values():
        for f in diff:
            per_field[f] = per_field.get(f, 0) + 1
    ordered = sorted(per_field.items(), key=lambda kv: -kv[1])
    fields = ""
    if ordered:
        fields = tr("（{fields}）").format(fields=joined(
            tr("{field} {n} 家").format(field=changed_field_title(plan.spec, f), n=n) for f, n in ordered))
    missing = 0 if upd.missing is None else len(upd.missing)
    c = plan.counts
    return tr("新增 {new} 家，更新 {changed} 家{fields}，无变化 {same} 家，新名单中没有 {missing} 家；"
              "未定位 {unlocated} 家，未评估 {unassessed} 家，行业按“其他” {other} 家").format(
        new=int(plan.good_new.sum()), changed=len(upd.changes), fields=fields, same=len(upd.unchanged),
        missing=missing, unlocated=c.get("unlocated", 0), unassessed=c.get("unassessed", 0),
        other=c.get("industry_other", 0))


def row_status(plan) -> list[str]:
    """'ok', 'error', 'repaired', 'warning' or 'skipped' for each row of a plan."""
    rows = [plain_scalar(r) for r in plan.source.rows]
    sev = {}
    rank = {"repaired": 1, "warning": 2}
    for i in plan.report.issues:
        if i.row is not None and i.severity in rank and rank[i.severity] > rank.get(sev.get(i.row), 0):
            sev[i.row] = i.severity
    out = []
    skipped = plan.skipped if plan.skipped is not None else np.zeros(len(rows), dtype=bool)
    for k, r in enumerate(rows):
        if skipped[k]:
            out.append("skipped")
        elif plan.bad[k]:
            out.append("error")
        else:
            out.append(sev.get(r, "ok"))
    return out


class PreviewMap(QWidget):
    """The rows on a small map over the county boundary: black good, orange repaired, red errors."""

    MAX_SHOWN = 5000

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumSize(260, 220)
        self.setObjectName("preview_map")
        self.background = []
        self.features: list[tuple[object, str]] = []
        self.extent = None

    def set_data(self, boundary, geoms, status) -> None:
        self.background = [] if boundary is None else [boundary]
        idx = [i for i, g in enumerate(geoms) if g is not None]
        if len(idx) > self.MAX_SHOWN:
            idx = [idx[i] for i in np.linspace(0, len(idx) - 1, self.MAX_SHOWN).astype(int)]
        self.features = [(geoms[i], status[i]) for i in idx]
        allg = [g for g, _s in self.features] + self.background
        self.extent = shapely.total_bounds(np.array(allg, dtype=object)) if allg else None
        self.update()

    def _transform(self):
        minx, miny, maxx, maxy = self.extent
        k = np.cos(np.radians((miny + maxy) / 2))  # metres per degree of longitude shrink with latitude
        w, h = max(maxx - minx, 1e-9) * k, max(maxy - miny, 1e-9)
        m = 8
        s = min((self.width() - 2 * m) / w, (self.height() - 2 * m) / h)
        ox = m + (self.width() - 2 * m - w * s) / 2
        oy = m + (self.height() - 2 * m - h * s) / 2

        def to_px(xy):
            return np.column_stack([ox + (xy[:, 0] - minx) * k * s, oy + (maxy - xy[:, 1]) * s])

        return to_px

    def _path(self, geom, to_px) -> QPainterPath:
        path = QPainterPath()
        for part in shapely.get_parts(geom):
            rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
            for ring in rings:
                pts = to_px(np.asarray(ring.coords)[:, :2])
                path.moveTo(*pts[0])
                for x, y in pts[1:]:
                    path.lineTo(x, y)
        return path

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#FFFFFF"))
        if self.extent is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        to_px = self._transform()
        p.setPen(QPen(QColor("#606060"), 1.2))
        for g in self.background:
            p.drawPath(self._path(g, to_px))
        for order in ("ok", "warning", "repaired", "error"):
            colour = QColor(STATUS_COLOURS[order])
            p.setPen(QPen(colour, 1.5))
            p.setBrush(QBrush(colour))
            for g, s in self.features:
                if s != order:
                    continue
                if g.geom_type in ("Point", "MultiPoint"):
                    for x, y in to_px(shapely.get_coordinates(g)):
                        p.drawEllipse(QPointF(x, y), 2.5, 2.5)
                else:
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawPath(self._path(g, to_px))
                    p.setBrush(QBrush(colour))
        p.end()


class PreviewPage(QWizardPage):
    """Step 4: every row with its status, in a table and on a small map (validated in the background)."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(tr("预览"))
        self.setSubTitle(tr("红色为有错误的行，橙色为已自动修复的行；把鼠标停在行上可看原因。"))
        self.view = QTableView()
        self.view.setObjectName("preview_table")
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.map = PreviewMap()
        self.summary = QLabel()
        self.summary.setObjectName("preview_summary")
        self.summary.setWordWrap(True)
        self.show_button = QPushButton(tr("在主窗口地图上显示"))
        self.show_button.clicked.connect(self.show_on_main_map)
        split = QSplitter()
        split.addWidget(self.view)
        split.addWidget(self.map)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.show_button)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

    def initializePage(self) -> None:  # noqa: N802
        self.view.setModel(None)
        self.summary.setText(tr("正在校验……"))
        self.wiz.validate(on_done=self.show_plan)

    def show_plan(self, plan) -> None:
        model = PreviewModel(plan, self.view)
        self.view.setModel(model)
        self.view.resizeColumnsToContents()
        self.map.set_data(self.wiz.county(), list(plan.geoms), model.status)
        c = plan.report.counts()
        text = tr("共 {n} 行：可导入 {good} 行，有错误 {bad} 行，已修复 {rep} 处").format(
            n=plan.n_rows, good=plan.n_good, bad=plan.n_bad, rep=c["repaired"])
        compared = update_summary(plan)
        self.summary.setText(text if compared is None else text + "\n" + compared)
        self.show_button.setEnabled(self.wiz.main_window is not None)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.wiz.plan is not None

    def show_on_main_map(self) -> None:
        w = self.wiz.main_window
        plan = self.wiz.plan
        if w is None or plan is None:
            return
        from riskmap.ui.workspace import project_geoms

        geoms = [g for g in plan.geoms if g is not None]
        if not geoms:
            return
        shown = project_geoms(np.array(geoms, dtype=object), w.workspace.map_epsg)
        w.canvas.set_extent(tuple(shapely.total_bounds(shown)), margin=0.2)
        w.canvas.flash(list(shown[:2000]))


class ReportPage(QWizardPage):
    """Step 5: the validation report; import all rows, or only the good ones."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.wiz = wizard
        self.setTitle(tr("校验报告"))
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("report_table")
        self.table.setHorizontalHeaderLabels([tr("行"), tr("字段"), tr("值"), tr("级别"), tr("原因")])
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts = QLabel()
        self.counts.setObjectName("report_counts")
        self.counts.setWordWrap(True)
        self.compare = QLabel()  # an enterprise list against the project's enterprises
        self.compare.setObjectName("update_summary")
        self.compare.setWordWrap(True)
        # enterprises of the project the new list no longer names: listed on demand, deleted only when asked
        self.missing_button = QPushButton()
        self.missing_button.setObjectName("missing_button")
        self.missing_button.setCheckable(True)
        self.delete_box = QCheckBox()
        self.delete_box.setObjectName("delete_missing")
        self.missing_table = QTableWidget(0, 3)
        self.missing_table.setObjectName("missing_table")
        self.missing_table.setHorizontalHeaderLabels(["id", tr("企业名称"), tr("乡镇")])
        self.missing_table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.missing_table.verticalHeader().setVisible(False)
        self.missing_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.missing_table.setMaximumHeight(120)
        self.missing_table.setVisible(False)
        self.missing_button.toggled.connect(self._show_missing)
        missing_row = QHBoxLayout()
        missing_row.addWidget(self.missing_button)
        missing_row.addWidget(self.delete_box, 1)
        self.missing_box = QWidget()
        box_layout = QVBoxLayout(self.missing_box)
        box_layout.setContentsMargins(0, 0, 0, 0)
        box_layout.addLayout(missing_row)
        box_layout.addWidget(self.missing_table)
        self.skip_box = QCheckBox(tr("跳过有错误的行，只导入正确的行"))
        self.skip_box.setObjectName("skip_bad_rows")
        self.skip_box.toggled.connect(self.completeChanged)
        export = QPushButton(tr("导出报告…"))
        export.clicked.connect(self.export_csv)
        bottom = QHBoxLayout()
        bottom.addWidget(self.skip_box, 1)
        bottom.addWidget(export)
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.compare)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.missing_box)
        layout.addLayout(bottom)

    def initializePage(self) -> None:  # noqa: N802
        plan = self.wiz.plan
        issues = plan.report.sorted()
        sev = {"error": tr("错误"), "repaired": tr("已修复"), "warning": tr("警告"), "info": tr("说明")}
        shown = issues[:5000]
        self.table.setRowCount(len(shown))
        for r, i in enumerate(shown):
            value = "" if i.value is None else str(i.value)
            reason = i.en if current_language() == "en" else i.zh  # core messages carry both languages
            cells = ["" if i.row is None else str(i.row), i.field, value, sev[i.severity], reason]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 3:
                    item.setForeground(QBrush(QColor(STATUS_COLOURS.get(i.severity, "#202020"))))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        if plan.n_bad:
            text = tr("{bad} 行有错误，{good} 行可导入。改正文件后重新导入，或勾选下方选项只导入正确的行。").format(
                bad=plan.n_bad, good=plan.n_good)
        else:
            text = tr("全部 {good} 行可导入，将在一次操作中写入项目。").format(good=plan.n_good)
        self.counts.setText(text)
        compared = update_summary(plan)
        self.compare.setText(compared or "")
        self.compare.setVisible(compared is not None)
        self._fill_missing(plan)
        self.skip_box.setEnabled(plan.n_bad > 0 and plan.n_good > 0)
        self.skip_box.setChecked(False)
        self.wiz.setButtonText(QWizard.WizardButton.FinishButton, tr("导入"))

    def missing(self):
        """id, name, town of the project's enterprises the new list does not name (empty for other layers)."""
        plan = self.wiz.plan
        if plan is None or plan.update is None or plan.update.missing is None:
            return None
        return plan.update.missing

    def _fill_missing(self, plan) -> None:
        missing = self.missing()
        n = 0 if missing is None else len(missing)
        self.missing_box.setVisible(n > 0)
        self.delete_box.setChecked(False)  # nothing is deleted without the user's word
        self.missing_button.setChecked(False)
        self.missing_table.setRowCount(0)
        if not n:
            return
        self.missing_button.setText(tr("查看新名单中没有的 {n} 家企业").format(n=n))
        self.delete_box.setText(tr("删除新名单中没有的 {n} 家企业").format(n=n))
        self.missing_table.setRowCount(n)
        for r, (eid, name, town) in enumerate(zip(missing["id"], missing["name"], missing["town"])):
            for c, v in enumerate((eid, name, town)):
                self.missing_table.setItem(r, c, QTableWidgetItem("" if v is None or v != v else str(plain_scalar(v))))
        self.missing_table.resizeColumnsToContents()

    def _show_missing(self, shown: bool) -> None:
        self.missing_table.setVisible(shown)

    def delete_missing(self) -> bool:
        """Whether the user asked to delete the enterprises the new list no longer names."""
        missing = self.missing()
        return missing is not None and len(missing) > 0 and self.delete_box.isChecked()

    def isComplete(self) -> bool:  # noqa: N802
        plan = self.wiz.plan
        if plan is None or plan.n_good == 0:
            return False
        return plan.n_bad == 0 or self.skip_box.isChecked()

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, tr("导出校验报告"), str(Path.home() / (tr("校验报告") + ".csv")), "*.csv")
        if path:
            self.wiz.plan.report.write_csv(path)


# ====================================================================== the wizard


class ImportWizard(QWizard):
    """The import steps over one project; ``main_window`` (optional) gets the new features shown."""

    imported = Signal(object)  # the ImportResult, after the commit

    def __init__(self, project, parent=None, main_window=None):
        super().__init__(parent)
        self.setObjectName("import_wizard")
        self.setWindowTitle(tr("导入数据"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(900, 620)
        self.project = project
        self.main_window = main_window
        self.source = None
        self.read_choice: dict | None = None
        self.spec = None
        self.mapping: Mapping | None = None
        self.crs: str | None = None
        self.repair = True
        self.plan = None
        self.result = None
        self.message = ""  # what the commit did (shown in the main window's status bar)
        self.task = None
        self._county = False
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.crs_page = CrsPage(self)
        self.preview_page = PreviewPage(self)
        self.report_page = ReportPage(self)
        for page in (self.file_page, self.mapping_page, self.crs_page, self.preview_page, self.report_page):
            self.addPage(page)
        for button, text in ((QWizard.WizardButton.BackButton, tr("< 上一步")),
                             (QWizard.WizardButton.NextButton, tr("下一步 >")),
                             (QWizard.WizardButton.CancelButton, tr("取消")),
                             (QWizard.WizardButton.FinishButton, tr("导入"))):
            self.setButtonText(button, text)

    def preset_layer(self, layer_id: str) -> None:
        """Start with ``layer_id`` as the target layer (the user may still change it)."""
        i = self.file_page.layer_combo.findData(layer_id)
        if i >= 0:
            self.file_page.layer_combo.setCurrentIndex(i)

    # ---- background steps
    def _run(self, title: str, fn, on_done):
        self.task = tasks.run_task(self, title, fn, on_done=on_done)
        return self.task

    def read_file(self, choice: dict, on_done=None):
        """Read the chosen file (background); then detect the mapping."""
        from riskmap.io.importer import read_for

        spec, constants = resolve_layer(choice["layer"], choice["kind"])

        def work(progress, cancelled):
            progress(0.1, tr("正在读取文件"))
            return read_for(choice["path"], spec, sheet=choice["sheet"], header_row=choice["header_row"])

        def done(source):
            self.source, self.spec, self.read_choice = source, spec, choice
            self.mapping = auto_mapping(source.columns, spec, constants)
            self.plan = None
            self.file_page.show_sheets(source.layers, source.layer)
            self.read_choice = self.file_page.choice()
            if on_done is not None:
                on_done()

        return self._run(tr("正在读取文件"), work, done)

    def validate(self, on_done=None):
        """Check every row (background) under the current mapping and CRS."""
        from riskmap.io.importer import plan_from_source

        self.plan = None
        source, spec, mapping, crs, repair = self.source, self.spec, self.mapping, self.crs, self.repair

        def work(progress, cancelled):
            return plan_from_source(self.project, source, spec, mapping, crs=crs, repair=repair,
                                    progress=progress, cancel=cancelled)

        def done(plan):
            self.plan = plan
            if on_done is not None:
                on_done(plan)

        return self._run(tr("正在校验"), work, done)

    def result_message(self, result) -> str:
        """What the import did, for the status bar: rows added, or for an enterprise list added / updated /
        unchanged / deleted (and the missing ones kept)."""
        layer = self.file_page.layer_combo.currentText()
        if result.plan.update is None:
            return tr("已导入 {n} 行到“{layer}”").format(n=len(result.ids), layer=layer)
        text = tr("已导入“{layer}”：新增 {added} 家，更新 {updated} 家，无变化 {same} 家，删除 {deleted} 家").format(
            layer=layer, added=len(result.ids), updated=len(result.updated), same=result.unchanged,
            deleted=len(result.deleted))
        kept = len(result.missing) - len(result.deleted)
        if kept > 0:
            text += tr("；新名单中没有的 {n} 家未删除").format(n=kept)
        return text

    def county(self):
        """The project's county boundary (EPSG:4490) for the preview map, read once."""
        if self._county is False:
            zones = self.project.read_table("zones", where="kind = 'county'", columns=["id"])
            self._county = shapely.union_all(zones.geometry.to_numpy()) if len(zones) else None
        return self._county

    def accept(self) -> None:
        """导入: write in one transaction in the background; close when done."""
        from riskmap.io.importer import commit_import

        plan = self.plan
        if plan is None:
            return
        skip = self.report_page.skip_box.isChecked()
        delete = self.report_page.delete_missing()
        if delete:
            n = len(self.report_page.missing())
            answer = QMessageBox.question(
                self, tr("删除企业"),
                tr("将从项目中删除新名单中没有的 {n} 家企业（连同其评估记录），确定吗？").format(n=n),
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
        project = self.project
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)

        def work(progress, cancelled):
            return commit_import(project, plan, skip_bad_rows=skip, delete_missing=delete, progress=progress,
                                 cancel=cancelled)

        def done(result):
            self.result = result
            self.message = self.result_message(result)
            w = self.main_window
            if w is not None:
                w.workspace.reload_table(plan.spec.table)
                if plan.spec.table == "enterprises":
                    w.workspace.reload_table("zones")  # the import recoloured the zones around them
                w.show_message(self.message)
            self.imported.emit(result)
            QWizard.accept(self)

        self.task = tasks.run_task(self, tr("正在导入"), work, on_done=done,
                                   on_error=lambda exc: (show_error(self, exc), self.button(
                                       QWizard.WizardButton.FinishButton).setEnabled(True)))


def open_import_wizard(window, layer: str | None = None) -> ImportWizard | None:
    """Open the wizard on the window's project (it must be open and writable); ``layer``: the target layer
    chosen at the start (e.g. "towns")."""
    project = window.project
    if project is None:
        window.show_message(tr("请先打开项目"))
        return None
    if project.readonly:
        show_error(window, RiskmapError("项目以只读方式打开，不能导入", "the project is read-only: cannot import"))
        return None
    wizard = ImportWizard(project, window, main_window=window)
    if layer is not None:
        wizard.preset_layer(layer)
    return window.show_dialog("import_wizard", wizard)


def install(window) -> None:
    """文件 → 导入数据…"""
    action = QAction(tr("导入数据…"), window)
    action.setObjectName("action_import_data")
    action.triggered.connect(lambda: open_import_wizard(window))
    window.register_action("file", action, permission="edit_features")


__all__ = ["ImportWizard", "open_import_wizard", "install", "importable_layers", "row_change", "row_status",
           "update_summary"]
