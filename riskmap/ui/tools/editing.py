"""Editing features on the map: an edit session per layer with undo/redo, saved as one transaction.

- :class:`EditController` — which layer is being edited, one ``QUndoStack`` per layer in a ``QUndoGroup``
  (kept until the project is closed, so undo/redo work across saves), saving, and the display of unsaved
  edits (the layer on the map shows the working copy).
- :class:`~riskmap.edit.LayerEdits` (Qt-free, in :mod:`riskmap.edit`) — the working copy; here it keeps its
  ``QUndoStack`` and is drawn through :func:`display_layer`.
- Tools: :class:`DrawTool` (points, lines, polygons; holes), :class:`VertexTool` (select features; move,
  add and delete vertices; move points), :class:`SplitTool`.
- :class:`AttributeForm` — the layer's fields from the catalogue (required ones marked).

Every change is a :class:`FeatureCommand` (``QUndoCommand``) that sets features from one state to another.
Saving writes all changed features in one ``project.session()`` (the edit history records who, when, what).
"""

from __future__ import annotations


import numpy as np
import shapely
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QUndoCommand, QUndoGroup, QUndoStack
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QMessageBox, QVBoxLayout,
)

from riskmap.analysis.editing import (
    check_geometry, coerce_value, delete_vertex, editable_columns, insert_vertex, merge_geometries,
    move_vertex, nearest_edge, nearest_vertex, required_columns, rings_of, save_edits, split_geometry,
)
from riskmap.edit import FeatureState, LayerEdits
from riskmap.errors import RiskmapError
from riskmap.grading.zoning import zoned_units
from riskmap.ui.errors import error_text, show_error
from riskmap.fields import value_mapping
from riskmap.ui.i18n import current_language, joined, tr
from riskmap.ui.map_tools import MapTool
from riskmap.ui.tools.capture import CaptureTool, Snapper, paint_snap_marker
from riskmap.ui.workspace import MapLayer

EDITABLE_LAYERS = ("control_lines", "parks", "towns", "villages", "grids", "protected_targets", "enterprises",
                   "lifelines", "lifeline_points", "emergency_resources", "risk_contours")
VERTEX_TOL_PX = 8.0


# ------------------------------------------------------------------------------------------ display

def display_layer(edits: LayerEdits) -> MapLayer:
    """The layer as the working copy has it, ready to draw; remembered as ``edits.display``."""
    gdf, proj = edits.display_gdf()
    layer = MapLayer(edits.layer_def, gdf, proj, edits.map_epsg)
    layer.prepare()
    edits.display = layer
    return layer


class FeatureCommand(QUndoCommand):
    """Set features of a layer from their states before to their states after (one undo step)."""

    def __init__(self, controller: EditController, edits: LayerEdits, text: str,
                 changes: list[tuple[int, FeatureState | None, FeatureState | None]]):
        super().__init__(text)
        self.controller = controller
        self.edits = edits
        self.changes = changes

    def redo(self) -> None:
        for key, _before, after in self.changes:
            self.edits.set_state(key, after)
        self.controller.refresh(self.edits)

    def undo(self) -> None:
        for key, before, _after in reversed(self.changes):
            self.edits.set_state(key, before)
        self.controller.refresh(self.edits)


# ------------------------------------------------------------------------------------------ controller

class EditController(QObject):
    """The editing state of a window: the layer being edited, undo stacks, saving.

    Geometries handed in by the tools are in the map CRS; the working copy keeps EPSG:4490.
    """

    editingChanged = Signal(str)  # layer id ('' = not editing)
    edited = Signal(str)  # layer id; after every change, undo or redo
    saved = Signal(str, int)  # layer id, number of features written
    formOpened = Signal(object)  # the AttributeForm just shown (tests fill it)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.workspace = window.workspace
        self.canvas = window.canvas
        self.group = QUndoGroup(self)
        self.edits: dict[str, LayerEdits] = {}
        self.current: LayerEdits | None = None
        self.snapper = Snapper(self.canvas)
        self.last_form: AttributeForm | None = None
        self._project = None
        self.workspace.layersReset.connect(self._layers_reset)
        self.workspace.layerChanged.connect(self._layer_changed)

    # ---- confirmation hooks (tests replace them)
    def confirm(self, text: str) -> bool:
        return QMessageBox.question(self.window, tr("riskmap 提示"), text) == QMessageBox.StandardButton.Yes

    def ask_unsaved(self) -> str:
        """'save' | 'discard' | 'cancel' for unsaved edits when editing stops."""
        box = QMessageBox(QMessageBox.Icon.Question, tr("停止编辑"), tr("有未保存的编辑，是否保存？"),
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        r = box.exec()
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            QMessageBox.StandardButton(r), "cancel")

    # ---- project and layers
    def _layers_reset(self) -> None:
        project = self.workspace.project
        if project is not None and project is self._project:
            # the same project shown in another map CRS: keep the edits, show them again
            for e in self.edits.values():
                if self.workspace.has_layer(e.layer_id):
                    e.set_base(self.workspace.layer(e.layer_id))
                    if e.working:
                        self.refresh(e)
            return
        self._project = project
        for e in self.edits.values():
            self.group.removeStack(e.stack)
            e.stack.deleteLater()
        self.edits.clear()
        self.current = None
        self.editingChanged.emit("")

    def _layer_changed(self, layer_id: str, what: str) -> None:
        """A layer re-read from the project (after a save here or an import elsewhere): rebase on it."""
        e = self.edits.get(layer_id)
        if what != "data" or e is None or not self.workspace.has_layer(layer_id):
            return
        layer = self.workspace.layer(layer_id)
        if layer is e.display:
            return
        e.set_base(layer)
        if e.differs_from_base():
            self.refresh(e)

    @property
    def layer_id(self) -> str:
        return self.current.layer_id if self.current else ""

    def start(self, layer_id: str) -> LayerEdits:
        """Begin editing a layer (keeping its undo history from earlier in this project)."""
        if self.workspace.project is None:
            raise RiskmapError("请先打开项目", "open a project first")
        if self.workspace.project.readonly:
            raise RiskmapError("项目以只读方式打开，不能编辑", "the project is open read-only")
        if layer_id not in EDITABLE_LAYERS or not self.workspace.has_layer(layer_id):
            raise RiskmapError(f"该图层不能编辑: {layer_id}", f"layer {layer_id} cannot be edited")
        if self.current is not None and self.current.layer_id != layer_id:
            if not self.stop():
                return self.current
        self._project = self.workspace.project
        layer = self.workspace.layer(layer_id)
        edits = self.edits.get(layer_id)
        if edits is None:
            stack = QUndoStack(self)
            self.group.addStack(stack)
            edits = LayerEdits(layer, stack)
            self.edits[layer_id] = edits
        elif layer is not edits.display:
            edits.set_base(layer)
        self.current = edits
        self.group.setActiveStack(edits.stack)
        self.workspace.set_visible(layer_id, True)
        self.editingChanged.emit(layer_id)
        return edits

    def stop(self, ask: bool = True) -> bool:
        """Stop editing; unsaved edits are saved or discarded, or editing goes on (returns False)."""
        e = self.current
        if e is None:
            return True
        if e.is_dirty() and ask:
            answer = self.ask_unsaved()
            if answer == "cancel":
                return False
            if answer == "save" and not self.save():
                return False
            if answer == "discard":
                self.discard()
        self.current = None
        self.group.setActiveStack(None)
        self.canvas.set_map_tool(None)
        self.editingChanged.emit("")
        return True

    def discard(self) -> None:
        """Go back to the last saved state of the current layer (the undo history stays)."""
        e = self._need()
        if e.stack.cleanIndex() >= 0:
            e.stack.setIndex(e.stack.cleanIndex())
        if e.revert():
            self.refresh(e)

    def refresh(self, edits: LayerEdits) -> None:
        if self.workspace.has_layer(edits.layer_id):
            self.workspace.replace_layer(display_layer(edits))
        self.edited.emit(edits.layer_id)

    def push(self, text: str, changes: list[tuple[int, FeatureState | None, FeatureState | None]]) -> None:
        e = self._need()
        e.stack.push(FeatureCommand(self, e, text, changes))

    def _need(self) -> LayerEdits:
        if self.current is None:
            raise RiskmapError("请先选择要编辑的图层（编辑 → 开始编辑）", "start editing a layer first")
        return self.current

    def save(self) -> bool:
        """Write the current layer's changes as one transaction; True when saved (or nothing to save)."""
        e = self.current
        if e is None:
            return True
        keys, changes = e.changes()
        if not changes:
            e.stack.setClean()
            return True
        labels = {f.name: f.zh for f in e.layer_def.fields}
        try:
            ids = save_edits(self.workspace.project, e.table, changes, labels)
        except RiskmapError as exc:
            show_error(self.window, exc)
            return False
        e.mark_saved(keys, ids)
        e.stack.setClean()
        self.workspace.reload_layer(e.layer_id)  # rebases this session (see _layer_changed)
        for other in list(self.workspace.layers):  # other layers of the same table (zones) show it too
            if other.layer_def.table == e.table and other.id != e.layer_id:
                self.workspace.reload_layer(other.id)
        if e.table == "enterprises" and zoned_units(self.workspace.project):
            self.workspace.reload_table("zones")  # the save recoloured the zones around the enterprises
        self.saved.emit(e.layer_id, len(changes))
        return True

    # ---- geometry helpers
    def _checked(self, geom_map):
        """Check a map-CRS geometry for the current layer; repair with consent; EPSG:4490 or None."""
        e = self._need()
        chk = check_geometry(geom_map, e.kind)
        if not chk.ok:
            if chk.repaired is None:
                show_error(self.window, RiskmapError(chk.problem_zh, chk.problem_en))
                return None
            problem = chk.problem_en if current_language() == "en" else chk.problem_zh
            if not self.confirm(tr("{problem}。是否自动修复？").format(problem=problem)):
                return None
            geom_map = chk.repaired
        return e.to_geo(geom_map)

    def default_attrs(self) -> dict:
        """Defaults for a new feature of the current layer (e.g. the zone kind of a zones layer)."""
        import re

        e = self._need()
        where = e.layer_def.where or ""
        m = re.fullmatch(r"\s*(\w+)\s*=\s*'([^']*)'\s*", where)
        if m:
            return {m.group(1): m.group(2)}
        m = re.fullmatch(r"\s*(\w+)\s+IN\s*\(\s*'([^']*)'.*\)\s*", where, flags=re.I)
        if m:
            return {m.group(1): m.group(2)}
        if e.table == "control_lines":
            return {"status": "draft"}
        if e.table == "risk_contours":
            return {"installation_status": "in_service"}
        return {}

    # ---- edits (geometries in the map CRS)
    def add_feature(self, geom_map, attrs: dict | None = None, ask_attributes: bool = True):
        """A newly drawn geometry: check it, ask for attributes, then one undoable add.

        Returns the attribute form (None when nothing was asked or the geometry was refused).
        """
        e = self._need()
        geom = self._checked(geom_map)
        if geom is None:
            return None
        attrs = {**self.default_attrs(), **(attrs or {})}
        if not ask_attributes:
            self.push(tr("添加要素"), [(e.new_key(), None, FeatureState(geom, attrs))])
            return None
        form = AttributeForm(e, attrs, self.window, title=tr("新要素属性"))
        self.last_form = form

        def accepted():
            self.push(tr("添加要素"), [(e.new_key(), None, FeatureState(geom, form.values()))])

        form.accepted.connect(accepted)
        form.open()
        self.formOpened.emit(form)
        return form

    def set_geometry(self, display_id: int, geom_map, text: str | None = None) -> bool:
        e = self._need()
        key = e.key_for_display_id(display_id)
        before = e.state(key)
        if before is None:
            return False
        geom = self._checked(geom_map)
        if geom is None:
            return False
        self.push(text or tr("修改几何"), [(key, before, FeatureState(geom, dict(before.attrs)))])
        return True

    def edit_attributes(self, display_id: int):
        e = self._need()
        key = e.key_for_display_id(display_id)
        before = e.state(key)
        if before is None:
            return None
        form = AttributeForm(e, dict(before.attrs), self.window, title=tr("编辑属性"))
        self.last_form = form

        def accepted():
            after = FeatureState(before.geom, {**before.attrs, **form.values()})
            if not after.same_as(before):
                self.push(tr("修改属性"), [(key, before, after)])

        form.accepted.connect(accepted)
        form.open()
        self.formOpened.emit(form)
        return form

    def delete_features(self, display_ids) -> int:
        e = self._need()
        changes = []
        for fid in display_ids:
            key = e.key_for_display_id(fid)
            st = e.state(key)
            if st is not None:
                changes.append((key, st, None))
        if changes:
            self.push(tr("删除 {n} 个要素").format(n=len(changes)), changes)
            self.workspace.select(e.layer_id, [], "replace")
        return len(changes)

    def add_hole(self, ring_pts) -> bool:
        """Cut a hole (a drawn ring, map CRS) out of the polygon of the current layer that contains it."""
        e = self._need()
        if e.kind != "polygon":
            show_error(self.window, RiskmapError("只有面图层可以绘制洞", "holes belong to polygon layers"))
            return False
        ring = shapely.Polygon(ring_pts)
        if not ring.is_valid or ring.area <= 0:
            show_error(self.window, RiskmapError("洞的边界无效", "the hole's outline is invalid"))
            return False
        holders = []
        for fid in e.display_ids():
            g = e.display_geometry(fid)
            if g is not None and g.contains(ring):
                holders.append((fid, g))
        if holders:
            # the selected polygon if it holds the ring, else the smallest one that does
            selected = set(int(i) for i in self.workspace.selected_ids(e.layer_id))
            holders.sort(key=lambda fg: (fg[0] not in selected, fg[1].area))
            fid, g = holders[0]
            return self.set_geometry(fid, g.difference(ring), tr("绘制洞"))
        show_error(self.window, RiskmapError("洞必须完全位于一个面要素之内", "a hole must lie inside one polygon"))
        return False

    def split(self, blade_pts) -> int:
        """Split the current layer's features that the drawn line crosses; returns how many were split."""
        e = self._need()
        if e.kind == "point":
            show_error(self.window, RiskmapError("点要素不能分割", "points cannot be split"))
            return 0
        blade = shapely.LineString(blade_pts)
        changes = []
        for fid in e.display_ids():
            key = e.key_for_display_id(fid)
            st = e.state(key)
            g = e.display_geometry(fid)
            if st is None or not g.intersects(blade):
                continue
            try:
                pieces = split_geometry(g, blade)
            except RiskmapError:
                continue
            changes.append((key, st, FeatureState(e.to_geo(pieces[0]), dict(st.attrs))))
            for piece in pieces[1:]:
                changes.append((e.new_key(), None, FeatureState(e.to_geo(piece), dict(st.attrs))))
        if not changes:
            show_error(self.window, RiskmapError("分割线没有完整穿过任何要素", "the line splits no feature"))
            return 0
        self.push(tr("分割要素"), changes)
        return sum(1 for _, before, _ in changes if before is not None)

    def merge(self, display_ids) -> bool:
        """Merge features into the first (its attributes are kept, the others deleted)."""
        e = self._need()
        keys = [e.key_for_display_id(i) for i in display_ids]
        pairs = [(k, e.state(k)) for k in keys]
        pairs = [(k, s) for k, s in pairs if s is not None]
        try:
            geom_map = merge_geometries([e.to_map(s.geom) for _, s in pairs])
        except RiskmapError as exc:
            show_error(self.window, exc)
            return False
        geom = self._checked(geom_map)
        if geom is None:
            return False
        (k0, s0), rest = pairs[0], pairs[1:]
        changes = [(k0, s0, FeatureState(geom, dict(s0.attrs)))] + [(k, s, None) for k, s in rest]
        self.push(tr("合并 {n} 个要素").format(n=len(pairs)), changes)
        self.workspace.select(e.layer_id, [e.fid.get(k0) or k0], "replace")
        return True


# ------------------------------------------------------------------------------------------ form

class AttributeForm(QDialog):
    """The attributes of one feature, with the layer's catalogue fields (required ones marked *)."""

    def __init__(self, edits: LayerEdits, values: dict, parent=None, title: str = ""):
        super().__init__(parent)
        self.setWindowTitle(title or tr("属性"))
        self.edits = edits
        self.columns = {c.name: c for c in editable_columns(edits.table)}
        self.required = set(required_columns(edits.table))
        names = [f.name for f in edits.layer_def.fields if f.name in self.columns]
        names += [n for n in self.required if n not in names]
        self.labels = {f.name: f.en if current_language() == "en" else f.zh for f in edits.layer_def.fields}
        self.editors: dict[str, QLineEdit | QComboBox] = {}
        self.initial = dict(values)
        lay = QVBoxLayout(self)
        form = QFormLayout()
        for name in names:
            label = self.labels.get(name, name) + (" *" if name in self.required else "")
            form.addRow(QLabel(label), self._editor(name, values.get(name)))
        lay.addLayout(form)
        self.message = QLabel("")
        self.message.setStyleSheet("color:#C00000")
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _editor(self, name: str, value):
        choices = value_mapping(self.edits.layer_def, name, current_language()) or self._model_choices(name)
        if choices:
            box = QComboBox()
            if name not in self.required:
                box.addItem("", None)
            for code, text in choices.items():
                box.addItem(f"{text}" if str(text) == str(code) else tr("{text}（{code}）").format(text=text, code=code),
                            code)
            idx = box.findData(value)
            if idx < 0 and value is not None:
                box.addItem(str(value), value)
                idx = box.count() - 1
            box.setCurrentIndex(max(idx, 0))
            self.editors[name] = box
            return box
        edit = QLineEdit("" if value is None or (isinstance(value, float) and np.isnan(value)) else
                         (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)))
        self.editors[name] = edit
        return edit

    def _model_choices(self, name: str) -> dict | None:
        from riskmap.model import class_for_table

        cls = class_for_table(self.edits.table)
        consts = {"kind": "KINDS", "category": "CATEGORIES", "gb36894_class": "CLASSES", "status": None}
        attr = consts.get(name)
        if name == "status" and self.edits.table == "control_lines":
            return {"draft": tr("草稿"), "approved": tr("已批准")}
        if name == "installation_status":
            return {"new": tr("新建装置"), "in_service": tr("在役装置")}
        if attr and hasattr(cls, attr):
            return {v: v for v in getattr(cls, attr)}
        return None

    def set_value(self, name: str, value) -> None:
        ed = self.editors[name]
        if isinstance(ed, QComboBox):
            idx = ed.findData(value)
            if idx < 0:
                ed.addItem(str(value), value)
                idx = ed.count() - 1
            ed.setCurrentIndex(idx)
        else:
            ed.setText("" if value is None else str(value))

    def raw_values(self) -> dict:
        out = {}
        for name, ed in self.editors.items():
            out[name] = ed.currentData() if isinstance(ed, QComboBox) else ed.text()
        return out

    def values(self) -> dict:
        """Values in their column types (RiskmapError for a bad number or date)."""
        out = {**self.initial}
        for name, raw in self.raw_values().items():
            out[name] = coerce_value(self.columns[name], raw, self.labels.get(name, name))
        return out

    def accept(self) -> None:
        try:
            vals = self.values()
        except RiskmapError as exc:
            self.message.setText(error_text(exc))
            return
        missing = [self.labels.get(n, n) for n in self.required if vals.get(n) is None]
        if missing:
            self.message.setText(tr("请填写：{fields}").format(fields=joined(missing)))
            return
        super().accept()


# ------------------------------------------------------------------------------------------ tools

class DrawTool(CaptureTool):
    """Draw new features of the layer being edited (``hole=True``: cut a hole into a polygon)."""

    name = "draw"

    def __init__(self, controller: EditController, hole: bool = False):
        super().__init__(controller.canvas, controller.snapper)
        self.controller = controller
        self.hole = hole

    def activate(self) -> None:
        e = self.controller.current
        self.kind = "polygon" if self.hole else (e.kind if e else "polygon")
        self.reset()

    def too_few(self, pts) -> None:
        self.controller.window.show_message(
            tr("点数不足：线至少两个点，面至少三个点") if self.kind != "point" else "")

    def finished(self, pts) -> None:
        if self.hole:
            self.controller.add_hole(pts)
        else:
            self.controller.add_feature(self.geometry(pts))


class SplitTool(CaptureTool):
    """Draw a line across features of the edited layer to split them."""

    name = "split"
    kind = "line"
    colour = QColor("#6A1B9A")

    def __init__(self, controller: EditController):
        super().__init__(controller.canvas, controller.snapper)
        self.controller = controller

    def finished(self, pts) -> None:
        self.controller.split(pts)


class VertexTool(MapTool):
    """Click a feature of the edited layer to select it (Shift adds); drag a vertex to move it (points move
    whole), double-click an edge to add a vertex, Delete removes the chosen vertex."""

    cursor = Qt.CursorShape.PointingHandCursor
    name = "vertex"

    def __init__(self, controller: EditController):
        super().__init__(controller.canvas)
        self.controller = controller
        self.snapper = controller.snapper
        self.feature: int | None = None  # display id of the feature whose vertices are shown
        self.vertex = None  # chosen vertex address
        self._drag = None  # (display id, address, start pixel)
        self.hover = None
        self.hover_kind = None

    def _tol(self) -> float:
        return self.canvas.pixel_tolerance(VERTEX_TOL_PX)

    def _geom(self, fid):
        e = self.controller.current
        return None if e is None or fid is None else e.display_geometry(fid)

    def _hit_vertex(self, xy):
        """(display id, address) of a vertex of the shown or another feature under the cursor."""
        e = self.controller.current
        if e is None:
            return None
        order = [self.feature] if self.feature is not None else []
        for fid in order + [i for i in self._features_at(xy) if i != self.feature]:
            g = self._geom(fid)
            if g is None:
                continue
            addr = nearest_vertex(g, xy, self._tol())
            if addr is not None:
                return fid, addr
        return None

    def _features_at(self, xy) -> list[int]:
        e = self.controller.current
        if e is None:
            return []
        fids = [fid for lid, fid in self.canvas.workspace.features_at(xy[0], xy[1], self._tol(), layers=[e.layer_id])]
        if e.kind == "polygon" and len(fids) > 1:  # nested polygons: the smallest one under the cursor first
            fids.sort(key=lambda f: self._geom(f).area)
        return fids

    def press(self, ev, map_pt) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._hit_vertex(map_pt)
        if hit is not None:
            self.feature, self.vertex = hit
            self._drag = (hit[0], hit[1], ev.position())
            self.canvas.update()

    def move(self, ev, map_pt) -> None:
        if self._drag is not None:
            self.snapper.extra = []
            self.hover, self.hover_kind = self.snapper.snap(map_pt)
            self.canvas.update()

    def release(self, ev, map_pt) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        e = self.controller.current
        if e is None:
            return
        if self._drag is not None:
            fid, addr, start = self._drag
            self._drag = None
            moved = (ev.position() - start).manhattanLength() > 3
            if moved:
                xy, _ = self.snapper.snap(map_pt)
                g = self._geom(fid)
                new = shapely.Point(xy) if g.geom_type == "Point" else move_vertex(g, addr, xy)
                self.controller.set_geometry(fid, new, tr("移动节点"))
                self.feature = self._display_id_after(fid)
            self.hover = None
            self.canvas.update()
            return
        hits = self._features_at(map_pt)
        ws = self.canvas.workspace
        add = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if hits:
            self.feature, self.vertex = hits[0], None
            ws.select(e.layer_id, [hits[0]], "add" if add else "replace")
        elif not add:
            self.feature, self.vertex = None, None
            ws.select(e.layer_id, [], "replace")
        self.canvas.update()

    def _display_id_after(self, fid):
        return fid

    def double_click(self, ev, map_pt) -> None:
        g = self._geom(self.feature)
        if g is None or g.geom_type == "Point":
            return
        hit = nearest_edge(g, map_pt, self._tol())
        if hit is not None:
            addr, xy = hit
            self.controller.set_geometry(self.feature, insert_vertex(g, addr, xy), tr("添加节点"))
            self.vertex = addr
            self.canvas.update()

    def key_press(self, ev) -> bool:
        if ev.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.vertex is not None:
            g = self._geom(self.feature)
            if g is not None and g.geom_type != "Point":
                try:
                    self.controller.set_geometry(self.feature, delete_vertex(g, self.vertex), tr("删除节点"))
                except RiskmapError as exc:
                    show_error(self.controller.window, exc)
                self.vertex = None
                self.canvas.update()
            return True
        if ev.key() == Qt.Key.Key_Escape:
            self.feature = self.vertex = None
            self.canvas.update()
            return True
        return False

    def paint(self, painter: QPainter) -> None:
        g = self._geom(self.feature)
        if g is None:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#1565C0"), 1))
        for p, rings in enumerate(rings_of(g)):
            for r, ring in enumerate(rings):
                px = self.canvas.view.map_to_pixel(ring) if len(ring) else []
                for i, (x, y) in enumerate(px):
                    chosen = self.vertex == (p, r, i)
                    painter.setBrush(QColor("#E53935") if chosen else QColor("#FFFFFF"))
                    painter.drawRect(QRectF(float(x) - 4, float(y) - 4, 8, 8))
        if self._drag is not None and self.hover is not None:
            paint_snap_marker(painter, self.canvas.pixel_point(*self.hover), self.hover_kind)
            painter.setPen(QPen(QColor("#E53935"), 1, Qt.PenStyle.DashLine))
            painter.drawEllipse(self.canvas.pixel_point(*self.hover), 5, 5)
        painter.restore()


__all__ = ["EditController", "LayerEdits", "FeatureState", "FeatureCommand", "AttributeForm", "DrawTool",
           "VertexTool", "SplitTool", "EDITABLE_LAYERS", "QPointF"]
