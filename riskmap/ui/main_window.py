"""The main window: map canvas in the middle, layers and legend on the left, identify, zoning and the
dashboard on the right, attribute tables below; menus, toolbar, search box and status bar.

API for other modules (import wizard, exports, print layouts, planning tools):

- ``window.canvas`` (:class:`~riskmap.ui.canvas.MapCanvas`), ``window.workspace``
  (:class:`~riskmap.ui.workspace.Workspace`), ``window.project`` (the open Project or None);
- ``window.add_dock(widget, title, area=…, name=…)`` → QDockWidget;
- ``window.register_action(menu_name, action, id=…, permission=…, managed=…)`` declares an action in the
  window's :class:`~riskmap.ui.registry.ActionRegistry` and puts it into its menu: menu_name is a key of
  :data:`MENUS` ("file", "view", "map", "layer", "edit", "analysis", "tools", "settings", "help"), its
  Chinese title ("文件" …) or None; in 文件 actions go into the section above 最近打开/退出 (where
  导入/导出/打印 belong); permission is a key of :data:`~riskmap.ui.registry.PERMISSIONS`;
- ``window.add_toolbar_action(action, toolbar="map")`` ("map": the main toolbar; another key names a toolbar
  made by ``window.add_toolbar(key, title)``); ``window.run_task(title, fn, on_done)`` for background work;
- ``window.register_extension(name, obj)`` / ``window.extension(name)``; ``window.show_dialog(name, dialog)``
  shows a dialog and keeps it as ``window.dialogs[name]``. ``window.action(id)`` is a registered action; extensions
  never set attributes on the window;
- ``window.unsaved_layers()``: layers with unsaved edits, from every extension that is an
  :class:`~riskmap.ui.registry.EditSession`;
- ``window.workspace.reload_layer(layer_id)`` / ``reload_table(table)`` after an edit (only that layer is
  read and prepared again);
- ``window.permissions`` (what the current user may do, :class:`~riskmap.store.roles.Permissions`) and
  ``window.apply_permissions()``: after a project opens, registered actions the user may not use are disabled
  with a tooltip saying why; on PostgreSQL ``window.change_poller``
  (:class:`~riskmap.ui.workspace.ChangePoller`) reloads the layers other users changed.

Extensions: every module
``riskmap/ui/{import_wizard,export,print,planning,new_project,first_steps,locate,timeline,briefing,plant_view}*.py``
and every module of the package ``riskmap.ui.tools`` that defines ``install(window)`` is imported and installed
when a window is built (also after a language switch, which rebuilds the window).
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
import threading
from concurrent import futures
from pathlib import Path

from PySide6.QtCore import QT_TR_NOOP, QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QComboBox, QDockWidget, QFileDialog, QFrame, QHBoxLayout, QLabel, QMainWindow, QMenu, QProgressBar,
    QPushButton, QToolBar, QVBoxLayout, QWidget,
)

from riskmap.ui import errors as ui_errors
from riskmap.ui import tasks
from riskmap.ui.canvas import MapCanvas
from riskmap.ui.i18n import LANGUAGES, current_language, install_language, joined, tr
from riskmap.ui.icons import icon
from riskmap.ui.map_tools import IdentifyTool, SelectTool, ZoomBoxTool
from riskmap.ui.prefs import Prefs, cache_dir, data_dir
from riskmap.ui.registry import PERMISSIONS, ActionRegistry, Entry
from riskmap.ui.tiles import TileLayer, TileSource, TileStore
from riskmap.ui.workspace import (
    ChangePoller, Workspace, empty_layer, layer_sizes, load_layers, map_epsg_for, project_catalogue, reads_by_view,
)

log = logging.getLogger("riskmap.ui")

MENUS = {  # key → Chinese title (marked for the translation tools, translated at build time)
    "file": QT_TR_NOOP("文件"), "view": QT_TR_NOOP("视图"), "map": QT_TR_NOOP("地图"), "layer": QT_TR_NOOP("图层"),
    "edit": QT_TR_NOOP("编辑"), "analysis": QT_TR_NOOP("分析"), "tools": QT_TR_NOOP("工具"), "settings": QT_TR_NOOP("设置"),
    "help": QT_TR_NOOP("帮助"),
}


def menu_titles() -> dict[str, str]:
    """The menus' titles in the current language."""
    return {key: tr(zh) for key, zh in MENUS.items()}


EXTENSION_PREFIXES = ("import_wizard", "export", "print", "planning", "new_project", "first_steps", "locate",
                      "timeline", "briefing", "plant_view")
EXTENSION_PACKAGES = ("riskmap.ui.tools",)
SCALES = (1_000, 2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)
DEMO_PLACE = "会宁县"
BIG_LAYER = 10_000  # rows: larger layers load after the first map frame
ON_DEMAND_MENUS = ("edit", "analysis", "tools")  # created when an extension first puts an action there
ROLE_NAMES = {"viewer": QT_TR_NOOP("查看者"), "editor": QT_TR_NOOP("编辑者"), "assessor": QT_TR_NOOP("评估者"),
              "admin": QT_TR_NOOP("管理员")}


def discover_extensions() -> list[str]:
    """Module names that may extend the window (see the module docstring)."""
    # pkgutil, not a glob of *.py: in the bundle the modules sit in PyInstaller's archive, not as files
    here = [str(Path(__file__).parent)]
    names = sorted(f"riskmap.ui.{m.name}" for m in pkgutil.iter_modules(here)
                   if m.name.startswith(EXTENSION_PREFIXES))
    for pkg in EXTENSION_PACKAGES:
        try:
            mod = importlib.import_module(pkg)
        except ImportError:
            continue
        names.append(pkg)
        names += sorted(f"{pkg}.{m.name}" for m in pkgutil.iter_modules(mod.__path__))
    return names


def demo_path() -> Path:
    return data_dir() / "demo" / f"{DEMO_PLACE}示例.gpkg"


def _ask_server(project, lazy_points: dict, epsg: int) -> dict:
    """PostgreSQL: ask on threads of their own, while the first frame's small layers are read, what opening
    asks the server anyway: the user's permissions and the stamps of the large point layers whose arrays an
    earlier session kept (a scan of 1M rows, 0.15 s for the ×10 city; taken before their arrays are read, so
    the arrays' cache stays valid; in a first session the stamp comes with the arrays:
    riskmap.store.viewport.read_points_first). Waiting on the server releases the interpreter.
    {"permissions": future, "stamps": {id: future}}; {} for a GeoPackage (a file's permissions and stamp are
    quick)."""
    if project.dialect != "postgresql":
        return {}
    from concurrent.futures import ThreadPoolExecutor

    from riskmap.store.viewport import points_family, points_stamp
    from riskmap.ui.workspace import lod_cache

    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="riskmap-open")
    try:
        return {"permissions": pool.submit(project.permissions),
                "stamps": {k: pool.submit(points_stamp, project, d) for k, d in lazy_points.items()
                           if points_family(project, d, lod_cache(), epsg=epsg)}}
    finally:
        pool.shutdown(wait=False)


def _read_points_early(project, epsg: int, defs: dict, sizes: dict, stamps: dict | None) -> dict:
    """PostgreSQL: the large point layers read by view (a city's 1M enterprises) loaded on a thread of their
    own while the small layers load on the caller's: the server reads the points (the client waits, the
    interpreter free) while the small layers are read. {id: future of load_layer(quick=True)}; {} for a
    GeoPackage (its read takes the interpreter: no gain measured)."""
    if not defs or project.dialect != "postgresql":
        return {}
    from riskmap.ui.workspace import load_layer

    pool = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskmap-points")
    try:
        return {k: pool.submit(load_layer, project, d, epsg, sizes.get(k), quick=True, stamp=(stamps or {}).get(k))
                for k, d in defs.items()}
    finally:
        pool.shutdown(wait=False)


EARLY_READ_MARGIN = 2  # _start_points: tables the planner estimates at this many times LAZY_ROWS or more


def _start_points(project, epsg: int, catalogue: dict) -> dict:
    """PostgreSQL: the large point layers read by view (a city's 1M enterprises) known by the planner's estimate
    (riskmap.store.viewport.estimated_rows, no scan) at :data:`EARLY_READ_MARGIN` times LAZY_ROWS or more, far
    enough above it to be read by view: such a layer is not counted apart (×10 city: 1M rows, 40–80 ms before
    anything else), its row count is the arrays' once read. In a first session (the user's cache holds nothing
    of the layer) its exact arrays (read_points_first, with their stamp) are asked of the server at once, on a
    thread of their own, before the other layers are counted. {id: (future or None when the arrays are kept,
    estimated rows)}; {} for a GeoPackage."""
    if project.dialect != "postgresql":
        return {}
    from riskmap.store.viewport import LAZY_ROWS, estimated_rows, points_family, read_points_first
    from riskmap.ui.workspace import lod_cache

    cache = lod_cache()
    try:
        guess = estimated_rows(project, [d for d in catalogue.values() if d.geometry == "point"])
    except Exception:  # noqa: BLE001 (no estimate: the layers are counted and read the usual way)
        return {}
    big = {k: n for k, n in guess.items() if n is not None and n >= EARLY_READ_MARGIN * LAZY_ROWS}
    fresh = [k for k in big if not points_family(project, catalogue[k], cache, epsg=epsg)]
    out = {k: (None, n) for k, n in big.items()}
    if fresh:
        pool = futures.ThreadPoolExecutor(max_workers=len(fresh), thread_name_prefix="riskmap-points-read")
        try:
            out.update({k: (pool.submit(read_points_first, project, catalogue[k], cache, epsg=epsg), big[k])
                        for k in fresh})
        finally:
            pool.shutdown(wait=False)
    return out


def _load_started(project, epsg: int, defs: dict, started: dict) -> dict:
    """The layers of :func:`_start_points` made on a thread of their own while their arrays are read (their
    empty frames asked meanwhile), each taking its arrays when they come. {id: future of load_layer}."""
    if not started:
        return {}
    from riskmap.ui.workspace import load_layer

    pool = futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskmap-points")
    try:
        return {k: pool.submit(load_layer, project, defs[k], epsg, n, first=f) for k, (f, n) in started.items()}
    finally:
        pool.shutdown(wait=False)


def _start_quick(project, epsg: int, catalogue: dict) -> dict:
    """GeoPackage, a first session (the user's cache holds no exact arrays of the layer): the R-tree reads of
    each point layer whose largest id (a bound of its rows, no count) is above LAZY_ROWS started on two threads
    of their own (riskmap.store.viewport.start_points_quick) before the layers are counted and the small ones
    read; the layer takes them when it is placed (LazyPrepared.load_quick). SQLite runs the reads without the
    interpreter, so they overlap the counting and the small layers. {id: reads}; {} for PostgreSQL."""
    if project.dialect == "postgresql":
        return {}
    from riskmap.store.viewport import LAZY_ROWS, points_kept, start_points_quick
    from riskmap.ui.workspace import lod_cache

    out = {}
    with project.engine.connect() as conn:
        for k, d in catalogue.items():
            if d.geometry != "point" or d.where:
                continue
            try:
                top = conn.exec_driver_sql(f"SELECT max(rowid) FROM {d.table}").scalar()
            except Exception:  # noqa: BLE001 (no such table: the layer's own read reports it)
                continue
            if top is None or top <= LAZY_ROWS or points_kept(project, d, lod_cache(), epsg=epsg):
                continue
            reads = start_points_quick(project, d, epsg=epsg)
            if reads is not None:
                out[k] = reads
    return out


_warmed = False


def _warm_driver() -> None:
    """On a thread of their own while the window is built and waits for the user (once per process): import
    the PostgreSQL driver and SQLAlchemy's dialect for it, the modules opening a project imports, and configure
    the ORM's mappers, so that opening a project does not pay for them (a shared database 0.10–0.16 s of
    Project.open on the ×10 city, a GeoPackage about 0.03 s; the roles module, imported for the permissions
    on the GUI thread before the first frame, 11 ms), and read the layer catalogue (19 files, 19 ms before the
    points' read of a first session). Nothing is connected; a failure is no error here (reported when a
    project is opened)."""
    global _warmed
    if _warmed:
        return
    _warmed = True

    def warm():
        try:
            from riskmap.layers import load_catalogue

            load_catalogue()  # (kept: project_catalogue takes it)
        except Exception:  # noqa: BLE001
            pass
        for name in ("riskmap.store", "riskmap.store.viewport", "riskmap.store.roles", "riskmap.render.lazy",
                     "sqlalchemy.dialects.postgresql.psycopg", "psycopg"):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001
                pass
        try:
            from sqlalchemy.orm import configure_mappers

            configure_mappers()
        except Exception:  # noqa: BLE001
            pass

    threading.Thread(target=warm, name="riskmap-warm", daemon=True).start()


_frozen = False


def _freeze_startup() -> None:
    """Once per process, as the first project is opened: the objects made so far (modules, classes, Qt's
    wrappers, the window: about 146k, nearly none of them garbage) moved out of the cyclic collector's reach
    (``gc.freeze``), so that its full passes look only at what came after. Opening the ×10 city made one such
    pass over all of them in the middle of its read: 0.2–0.38 s (load 2–4; 0.18–0.22 s each at the window's
    start), about nothing once frozen; the same pause no longer comes back in later work either."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


class _LayerTask(tasks.Task):
    layer_ready = Signal(object)


class MessageBar(QFrame):
    """A thin bar above the map for notices (like QGIS's message bar)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setStyleSheet("MessageBar {background:#FFF8E1; border-bottom:1px solid #FFB300}")
        self.label = QLabel()
        self.label.setWordWrap(True)
        close = QPushButton("×")
        close.setFlat(True)
        close.setFixedWidth(24)
        close.clicked.connect(self.hide)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 3, 4, 3)
        lay.addWidget(self.label, 1)
        lay.addWidget(close)
        self.hide()
        self.messages: list[str] = []

    def show_message(self, text: str) -> None:
        self.messages.append(text)
        self.label.setText(text)
        self.show()


class MainWindow(QMainWindow):
    """The application window. Build one, then ``open_project(path)`` (or ``adopt`` another window's state)."""

    projectOpened = Signal()
    windowReplaced = Signal(object)  # the new window after a language switch

    def __init__(self, prefs: Prefs | None = None, *, install_extensions: bool = True):
        super().__init__()
        _warm_driver()
        self.prefs = prefs or Prefs()
        self.lang = current_language()
        self.setObjectName("MainWindow")
        self.setWindowTitle("riskmap")
        self.workspace = Workspace(self)
        self.workspace.lang = self.lang
        self.workspace.labels = self.prefs.labels_on()
        self.tile_store = TileStore(cache_dir() / "tiles", self)
        self.canvas = MapCanvas(self.workspace, tile_store=self.tile_store)
        self.message_bar = MessageBar()
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        cl.addWidget(self.message_bar)
        cl.addWidget(self.canvas, 1)
        self.setCentralWidget(central)
        self.setDockNestingEnabled(True)
        self.registry = ActionRegistry()
        self.menus: dict[str, QMenu] = {}
        self.toolbars: dict[str, QToolBar] = {}
        self.docks: dict[str, QDockWidget] = {}
        self.dialogs: dict[str, QWidget] = {}
        self.tables: dict[str, QDockWidget] = {}
        self.opening: tasks.Task | None = None
        self.loading_rest: tasks.Task | None = None
        self._handing_off = False
        self.permissions = None  # the current user's Permissions once a project is open
        self.change_poller = ChangePoller(self.workspace, busy=lambda: self.loading, unsaved=self.unsaved_layers,
                                          parent=self)
        self.change_poller.reloaded.connect(self._changes_reloaded)
        self._build_tools()
        self._build_docks()
        self._build_menus()
        self._build_toolbar()
        self._build_statusbar()
        self._connect()
        self._load_tile_layers()
        self.extensions: list[str] = []
        if install_extensions:
            self._install_extensions()
        self.docks["identify"].raise_()
        self._restore_state()
        self._update_title()

    # ================================================================== public API
    @property
    def project(self):
        return self.workspace.project

    def add_dock(self, widget: QWidget, title: str, area=Qt.DockWidgetArea.RightDockWidgetArea,
                 name: str | None = None, tabify_with: str | None = None) -> QDockWidget:
        """Add a dock (remembered in the window state by ``name``); returns it."""
        name = name or f"dock_{len(self.docks)}"
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if tabify_with and tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[name] = dock
        if "view" in self.menus and hasattr(self, "_docks_menu"):
            self._docks_menu.addAction(dock.toggleViewAction())
        return dock

    def menu(self, menu_name: str) -> QMenu:
        """The menu by key ("file") or Chinese title ("文件"); created before 帮助 if new."""
        titles = menu_titles()
        key = self._menu_key(menu_name)
        if key not in self.menus:
            title = titles[key] if key in MENUS else menu_name
            m = QMenu(title, self)
            m.setObjectName(f"menu_{key}")
            help_menu = self.menus.get("help")
            if help_menu is not None:
                self.menuBar().insertMenu(help_menu.menuAction(), m)
            else:
                self.menuBar().addMenu(m)
            self.menus[key] = m
        return self.menus[key]

    def _menu_key(self, menu_name: str) -> str:
        titles = menu_titles()
        return next((k for k, zh in MENUS.items() if menu_name in (k, zh, titles[k])), menu_name)

    def register_action(self, menu_name: str | None, action, before: QAction | None = None, *,
                        id: str | None = None, permission: str | None = None, managed: bool = False):  # noqa: A002
        """Declare ``action`` (a QAction, or a button when ``menu_name`` is None) under ``id`` (default: its
        objectName) and put it into a menu (in 文件: the section for 导入/导出/打印). ``permission``: what the
        user needs to use it; ``managed``: its owner enables it, the window only disables it without the
        permission. Returns the action."""
        key = None if menu_name is None else self._menu_key(menu_name)
        entry_id = id or action.objectName()
        self.registry.add(Entry(entry_id, action, menu=key, permission=permission, managed=managed))
        if key is not None:
            m = self.menu(key)
            if before is None and m is self.menus.get("file"):
                before = self._file_tail
            if before is not None:
                m.insertAction(before, action)
            else:
                m.addAction(action)
        if isinstance(action, QAction) and action.parent() is None:
            action.setParent(self)
        if self.project is not None and permission is not None:
            self._gate(self.registry[entry_id], self.permissions)
        return action

    def add_toolbar(self, key: str, title: str) -> QToolBar:
        """The toolbar ``key`` ("map" is the main one), made with ``title`` if new."""
        if key not in self.toolbars:
            bar = QToolBar(title, self)
            bar.setObjectName(f"{key}_toolbar")
            self.addToolBar(bar)
            self.toolbars[key] = bar
        return self.toolbars[key]

    def add_toolbar_action(self, action: QAction, toolbar: str = "map") -> QAction:
        """Put ``action`` on a toolbar (the main one: before the search box); a registered action records it."""
        bar = self.toolbars[toolbar]
        if toolbar == "map":
            bar.insertAction(self._toolbar_tail, action)
        else:
            bar.addAction(action)
        entry = self.registry.entry_of(action)
        if entry is not None:
            entry.toolbar = toolbar
        return action

    def register_extension(self, name: str, obj):
        """Keep an extension's object under ``name`` (read back with :meth:`extension`); returns it."""
        return self.registry.add_extension(name, obj)

    def extension(self, name: str):
        """A registered extension by name, or None."""
        return self.registry.extension(name)

    def show_dialog(self, name: str, dialog: QWidget) -> QWidget:
        """Show a modeless dialog and keep it (the last one of each name) in ``self.dialogs``."""
        self.dialogs[name] = dialog
        dialog.show()
        return dialog

    def unsaved_layers(self) -> set[str]:
        """Ids of the layers with unsaved edits (asked of every extension that is an EditSession)."""
        return self.registry.unsaved_layers()

    def action(self, action_id: str):
        """The registered action (or button) with ``action_id``; KeyError when none."""
        return self.registry[action_id].target

    def run_task(self, title: str, fn, on_done=None, on_error=None) -> tasks.Task:
        """Run ``fn(progress, cancelled)`` off the GUI thread with a progress dialog after 0.5 s."""
        return tasks.run_task(self, title, fn, on_done=on_done, on_error=on_error)

    def show_message(self, text: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ================================================================== building
    def _action(self, text: str, slot=None, icon_name: str | None = None, shortcut=None, checkable=False,
                tip: str | None = None) -> QAction:
        a = QAction(icon(icon_name) if icon_name else icon(""), text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if checkable:
            a.setCheckable(True)
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        if slot is not None:
            a.triggered.connect(slot)
        return a

    def _build_tools(self) -> None:
        c = self.canvas
        self.zoom_tool = ZoomBoxTool(c)
        self.identify_tool = IdentifyTool(c)
        self.select_tool = SelectTool(c, lambda: self.layers_panel.current_layer())

    def _build_docks(self) -> None:
        from riskmap.ui.dashboard import Dashboard
        from riskmap.ui.identify_panel import IdentifyPanel
        from riskmap.ui.layers_panel import LayersPanel
        from riskmap.ui.legend_panel import LegendPanel
        from riskmap.ui.zoning_panel import ZoningPanel

        L, R = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        self.layers_panel = LayersPanel(self.workspace)
        self.legend_panel = LegendPanel(self.workspace, self.canvas)
        self.identify_panel = IdentifyPanel(self.workspace)
        self.zoning_panel = ZoningPanel(self.workspace, run=lambda title, fn, done: self.run_task(title, fn, done))
        self.dashboard = Dashboard(self.workspace)
        self.add_dock(self.layers_panel, tr("图层"), L, "layers")
        self.add_dock(self.legend_panel, tr("图例"), L, "legend")
        self.add_dock(self.identify_panel, tr("识别结果"), R, "identify")
        self.add_dock(self.dashboard, tr("统计看板"), R, "dashboard", tabify_with="identify")
        self.docks["dashboard"].visibilityChanged.connect(self.dashboard.dock_shown)
        self.add_dock(self.zoning_panel, tr("风险分区"), R, "zoning", tabify_with="identify")
        self.register_action(None, self.zoning_panel.recompute, id="zoning_recompute", permission="assess")
        self.docks["identify"].raise_()
        self.resize(1440, 900)

    def _build_menus(self) -> None:
        mb = self.menuBar()
        for key in MENUS:
            if key in ON_DEMAND_MENUS:
                continue
            m = QMenu(menu_titles()[key], self)
            m.setObjectName(f"menu_{key}")
            mb.addMenu(m)
            self.menus[key] = m
        c = self.canvas
        # 文件
        f = self.menus["file"]
        self.act_open = self._action(tr("打开项目…"), self.open_dialog, "open", QKeySequence.StandardKey.Open)
        f.addAction(self.act_open)
        f.addAction(self._action(tr("打开示例项目"), self.open_demo))
        self._file_tail = f.addSeparator()
        self.recent_menu = f.addMenu(tr("最近打开"))
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        f.addSeparator()
        f.addAction(self._action(tr("退出"), self.close, None, QKeySequence.StandardKey.Quit))
        # 视图
        v = self.menus["view"]
        self._docks_menu = v.addMenu(tr("面板"))
        for dock in self.docks.values():
            self._docks_menu.addAction(dock.toggleViewAction())
        self.act_labels = self._action(tr("显示标注"), self._toggle_labels, checkable=True)
        self.act_labels.setChecked(self.workspace.labels)
        v.addAction(self.act_labels)
        crs_menu = v.addMenu(tr("地图坐标系"))
        group = QActionGroup(self)
        for key, text in (("gk", tr("高斯-克吕格 3 度带（项目坐标系）")), ("webmercator", tr("Web 墨卡托"))):
            a = self._action(text, lambda _=False, k=key: self.set_map_crs(k), checkable=True)
            a.setChecked(self.prefs.map_crs() == key)
            group.addAction(a)
            crs_menu.addAction(a)
        # 地图
        m = self.menus["map"]
        self.act_pan = self._action(tr("平移"), lambda: c.set_map_tool(None), "pan", "P", True)
        self.act_zoom_box = self._action(tr("框选放大"), lambda: c.set_map_tool(self.zoom_tool), "zoom_box", "Z", True)
        self.act_identify = self._action(tr("识别要素"), lambda: c.set_map_tool(self.identify_tool), "identify", "I", True)
        self.act_select = self._action(tr("选择要素"), lambda: c.set_map_tool(self.select_tool), "select", "S", True)
        tool_group = QActionGroup(self)
        for a in (self.act_pan, self.act_zoom_box, self.act_identify, self.act_select):
            tool_group.addAction(a)
        self.act_pan.setChecked(True)
        self.act_zoom_in = self._action(tr("放大"), c.zoom_in, "zoom_in", QKeySequence.StandardKey.ZoomIn)
        self.act_zoom_out = self._action(tr("缩小"), c.zoom_out, "zoom_out", QKeySequence.StandardKey.ZoomOut)
        self.act_full = self._action(tr("全图"), c.zoom_full, "full_extent", "Ctrl+Shift+F")
        self.act_zoom_sel = self._action(tr("缩放到选中要素"), c.zoom_to_selection, "zoom_selection", "Ctrl+J")
        self.act_zoom_layer = self._action(tr("缩放到当前图层"), self._zoom_current_layer, "zoom_layer")
        self.act_prev = self._action(tr("上一视图"), c.zoom_previous, "previous", "Alt+Left")
        self.act_next = self._action(tr("下一视图"), c.zoom_next, "next", "Alt+Right")
        self.act_clear_sel = self._action(tr("取消全部选择"), self.workspace.clear_selection, "clear_selection",
                                          "Ctrl+Shift+A")
        self.act_refresh = self._action(tr("刷新地图"), lambda: c.refresh(), "refresh", "F5")
        for a in (self.act_pan, self.act_zoom_box, self.act_identify, self.act_select, None, self.act_zoom_in,
                  self.act_zoom_out, self.act_full, self.act_zoom_layer, self.act_zoom_sel, self.act_prev,
                  self.act_next, None, self.act_clear_sel, self.act_refresh):
            m.addSeparator() if a is None else m.addAction(a)
        # 图层
        lm = self.menus["layer"]
        self.act_table = self._action(tr("打开属性表"), self._open_current_table, "table", "F6")
        lm.addAction(self.act_table)
        lm.addAction(self._action(tr("筛选当前图层…"), self._filter_current_layer, "filter"))
        lm.addAction(self._action(tr("清除全部筛选"), self._clear_filters))
        lm.addSeparator()
        lm.addAction(self._action(tr("在线底图…"), self.open_settings, "basemap"))
        # 设置
        s = self.menus["settings"]
        s.addAction(self._action(tr("设置…"), self.open_settings, "settings"))
        lang_menu = s.addMenu(tr("界面语言"))
        lg = QActionGroup(self)
        for key, name in LANGUAGES.items():  # each language by its own name
            a = self._action(name, lambda _=False, k=key: self.set_language(k), checkable=True)
            a.setChecked(self.lang == key)
            lg.addAction(a)
            lang_menu.addAction(a)
        # 帮助
        h = self.menus["help"]
        h.addAction(self._action(tr("关于 riskmap"), self._about))

    def _build_toolbar(self) -> None:
        from riskmap.ui.search import SearchBox

        tb = QToolBar(tr("地图工具"), self)
        tb.setObjectName("toolbar_map")
        tb.setMovable(True)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        self.toolbar = self.toolbars["map"] = tb
        for a in (self.act_open, None, self.act_pan, self.act_zoom_in, self.act_zoom_out, self.act_zoom_box,
                  self.act_full, self.act_zoom_layer, self.act_zoom_sel, self.act_prev, self.act_next, None,
                  self.act_identify, self.act_select, self.act_clear_sel, None, self.act_table):
            tb.addSeparator() if a is None else tb.addAction(a)
        self._toolbar_tail = tb.addSeparator()
        spacer = QWidget()
        spacer.setSizePolicy(spacer.sizePolicy().horizontalPolicy().Expanding,
                             spacer.sizePolicy().verticalPolicy().Preferred)
        tb.addWidget(spacer)
        self.search_box = SearchBox(self.workspace)
        tb.addWidget(self.search_box)

    def _build_statusbar(self) -> None:
        sb = self.statusBar()
        self.coord_label = QLabel()
        self.coord_label.setMinimumWidth(330)
        self.scale_combo = QComboBox()
        self.scale_combo.setEditable(True)
        self.scale_combo.setMinimumWidth(120)
        self.scale_combo.setToolTip(tr("比例尺（可输入，如 1:25000）"))
        for s in SCALES:
            self.scale_combo.addItem(f"1:{s:,}")
        self.scale_combo.lineEdit().returnPressed.connect(self._scale_entered)
        self.scale_combo.activated.connect(self._scale_entered)
        self.crs_label = QLabel()
        self.render_bar = QProgressBar()
        self.render_bar.setRange(0, 0)
        self.render_bar.setMaximumWidth(80)
        self.render_bar.setMaximumHeight(14)
        self.render_bar.setTextVisible(False)
        self.render_bar.hide()
        self.loading_label = QLabel()
        self.loading_label.hide()
        sb.addWidget(self.loading_label)
        self.demo_label = QLabel(tr("示例数据"))
        self.demo_label.setStyleSheet("color:#C00000; font-weight:bold")
        self.demo_label.hide()
        self.perm_label = QLabel()
        self.perm_label.setStyleSheet("color:#8A5A00")
        self.perm_label.hide()
        sb.addPermanentWidget(self.perm_label)
        sb.addPermanentWidget(self.demo_label)
        sb.addPermanentWidget(self.coord_label)
        sb.addPermanentWidget(QLabel(tr("比例尺")))
        sb.addPermanentWidget(self.scale_combo)
        sb.addPermanentWidget(self.crs_label)
        sb.addPermanentWidget(self.render_bar)

    def _connect(self) -> None:
        c, ws = self.canvas, self.workspace
        c.cursorMoved.connect(self._cursor_moved)
        c.viewChanged.connect(self._view_changed)
        c.extentChanged.connect(self._update_nav)
        c.renderStarted.connect(self.render_bar.show)
        c.renderFinished.connect(lambda s: self.loading_rest is None and self.render_bar.hide())
        c.featuresIdentified.connect(self._identified)
        c.tilesUnavailable.connect(self._tiles_unavailable)
        self.layers_panel.openTableRequested.connect(self.open_table)
        self.layers_panel.filterRequested.connect(self.edit_filter)
        self.layers_panel.zoomToLayerRequested.connect(c.zoom_to_layer)
        self.layers_panel.tilesToggled.connect(lambda: c.set_tile_layers(self.layers_panel.tile_layers))
        self.identify_panel.featureActivated.connect(lambda lid, fid: c.zoom_to_feature(lid, fid))
        self.search_box.found.connect(self.go_to_feature)
        self.search_box.nothingFound.connect(lambda t: self.show_message(tr("没有找到“{t}”").format(t=t)))
        self.dashboard.filterApplied.connect(self.show_message)
        self.dashboard.dangerActivated.connect(lambda did: self.go_to_feature("hidden_dangers", did))
        self.zoning_panel.message.connect(self.show_message)
        ws.layersReset.connect(self._update_title)

    # ================================================================== extensions
    def _install_extensions(self) -> None:
        for name in discover_extensions():
            try:
                mod = importlib.import_module(name)
            except Exception as exc:  # a broken extension must not stop the window
                log.exception("cannot import extension %s", name)
                ui_errors.log.warning("extension %s: %s", name, exc)
                continue
            install = getattr(mod, "install", None)
            if callable(install):
                try:
                    install(self)
                    self.extensions.append(name)
                except Exception:
                    log.exception("cannot install extension %s", name)

    # ================================================================== projects
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("打开项目"), str(Path.home()),
                                              tr("riskmap 项目 (*.gpkg);;所有文件 (*)"))
        if path:
            self.open_project(path)

    @property
    def loading(self) -> bool:
        """True while a project is being opened (also while its large layers load after the first frame)."""
        return self.opening is not None or self.loading_rest is not None

    def open_project(self, path, on_done=None, *, readonly: bool = False) -> tasks.Task:
        """Open a project file in the background (progress after 0.5 s); errors become dialogs.

        Layers of up to BIG_LAYER rows, and points read by view (a city's 1M enterprises as compact arrays from
        the user's cache), are read first and shown at once; larger ones (a county's 100k enterprises, a city's
        lifelines and grid cells read by view) follow in the background, each drawn as soon as it is ready
        (×10 city, GeoPackage, the user's cache of an earlier session: first frame 0.44–0.96 s, complete map
        2–3.5 s at load 2.5–5). In a first session (the user's cache empty) a GeoPackage's large point layers
        are placed from their R-tree for the first frame and read exactly right after it (load_layer's
        ``quick``; ×10 city 1.5–2.2 s instead of 2.7–2.9 s at load 0.8–1.4, target 1 s missed; more gained from
        a cold disk). On PostgreSQL the permissions and the point layers' stamps are asked beside the small
        layers' reads (:func:`_ask_server`; second session 0.98–1.12 s instead of 1.15–1.25 s, load 0.6–1.4),
        and the large point layers are read on a thread of their own meanwhile (:func:`_read_points_early`;
        first session median of 5 1.42 s instead of 1.62 s, load 1.6–1.9); the large layers' empty stand-ins are
        made meanwhile too (×10 city, first session: the project shown 2–5 ms after the points instead of
        20–100 ms, load 1.7). In a first session the point layers' exact arrays are asked of the server as soon
        as the project is open (:func:`_start_points`), their positions read as one point[] and their levels
        packed with their ids, each half decoded and projected as soon as it comes: ×10 city, first frame median
        of 8 alternated timestamped openings 872 ms instead of 1010 ms (load 3.0–3.3). With the reads of an
        earlier session (R-tree and level ids at once, projection on two threads, PostGIS arrays by array_agg in
        two halves with their stamp, the driver imported while the window is built), first session against the
        code before, runs alternated, load 3.7–5: GeoPackage median 1.82 s instead of 2.23 s (process CPU to the
        first frame 0.99–1.11 s instead of 1.40–1.50 s), PostGIS 2.51 s instead of 4.10 s (client CPU 0.70–0.94 s
        instead of 1.52–1.86 s). A GeoPackage's first session now also freezes the start-up objects out of the cyclic
        collector (:func:`_freeze_startup`), starts the R-tree reads before the layers are counted
        (:func:`_start_quick`), places and projects the points on those threads (the zone's series) and leaves
        the exact counts until the frame is drawn: bench_city, ×10 city, 3 runs each at load 4.3–5.2, first
        session median 0.91 s instead of 1.70 s (0.60–1.35 s), second 0.49 s instead of 0.68 s.
        """
        from riskmap.store import Project

        _freeze_startup()
        crs_choice = self.prefs.map_crs()
        target = str(path)

        def work(progress, cancelled):
            progress(0.0, tr("正在读取项目"))
            project = Project.open(target, readonly=readonly)
            started, quick = {}, {}
            try:
                epsg = map_epsg_for(project, crs_choice)
                catalogue = project_catalogue(project)
                started = _start_points(project, epsg, catalogue)  # PostgreSQL: 1M points (a first session: read)
                quick = _start_quick(project, epsg, catalogue)  # a GeoPackage, a first session: 1M points' R-tree
                sizes = layer_sizes(project, [d for k, d in catalogue.items() if k not in started])
                sizes.update({k: n for k, (_f, n) in started.items()})  # estimates: counted by their read
                # small layers and the points read by view (compact arrays, quick from the user's cache) are in
                # the first frame; large lines and polygons read by view (a city's lifelines and grid cells:
                # millions of vertices, decimated for the view) follow like the other large layers
                small = {k: d for k, d in catalogue.items()
                         if sizes[k] <= BIG_LAYER or (reads_by_view(d, sizes[k]) and d.geometry == "point")}
                points = {k: d for k, d in small.items() if reads_by_view(d, sizes[k]) and d.geometry == "point"}
                asked = _ask_server(project, points, epsg)
                early = _load_started(project, epsg, points,
                                      {k: v for k, v in started.items() if k in points and v[0] is not None})
                early.update(_read_points_early(project, epsg, {k: d for k, d in points.items() if k not in early},
                                                sizes, asked.get("stamps")))
                big = [d for k, d in catalogue.items() if k not in small]
                try:
                    loaded = {layer.id: layer for layer in
                              load_layers(project, epsg, lambda f, m: progress(0.05 + 0.95 * f, m), cancelled,
                                          {k: d for k, d in small.items() if k not in early}, sizes, quick=True,
                                          stamps=asked.get("stamps"), quick_reads=quick)}
                    for d in big:  # while the points are still read on their thread (PostgreSQL)
                        loaded[d.id] = empty_layer(project, d, epsg)
                    from riskmap.crs import crs_name

                    crs_name(epsg)  # the status bar's name of the map's CRS, not looked up on the GUI thread (20 ms)
                finally:
                    futures.wait(early.values())  # the project is not closed under a read
                    futures.wait([f for reads in quick.values() for f in reads[1:]])  # (taken by their layers)
                loaded.update({k: f.result() for k, f in early.items()})
                # points placed from the spatial index for the first frame (the user's cache empty): read
                # exactly right after it, first among the layers that follow
                big[:0] = [catalogue[k] for k, layer in loaded.items() if getattr(layer.prepared, "approximate", False)]
                perms = asked.get("permissions")
                try:
                    perms = perms.result() if perms is not None else None
                except Exception:  # noqa: BLE001 (asked again on the GUI thread, which reports it)
                    perms = None
            except BaseException:
                futures.wait([f for f, _n in started.values() if f is not None])  # not closed under a read
                futures.wait([f for reads in quick.values() for f in reads[1:]])
                project.close()
                raise
            return project, epsg, [loaded[k] for k in catalogue], big, sizes, perms

        def done(result):
            self.opening = None
            project, epsg, layers, big, sizes, perms = result
            self._set_project(project, epsg, layers, perms)
            self.prefs.add_recent(target)
            if big:
                self._load_rest(project, epsg, big, sizes, on_done)
            elif on_done is not None:
                on_done()

        def failed(exc):
            self.opening = None
            from riskmap.errors import RiskmapError

            if isinstance(exc, RiskmapError) and not Path(target).exists():
                self.prefs.remove_recent(target)
            ui_errors.show_error(self, exc)

        self.opening = self.run_task(tr("正在打开项目"), work, done, failed)
        return self.opening

    def _load_rest(self, project, epsg: int, defs, sizes: dict, on_done=None) -> None:
        """Read the large layers one by one in the background; each replaces its empty stand-in when ready."""
        from riskmap.render.painter import prepare_exact_views
        from riskmap.ui.workspace import load_layer

        names = joined(tr("{name}（{n}）").format(name=d.title(self.lang), n=f"{sizes[d.id]:,}") for d in defs)
        self.loading_label.setText(tr("正在加载：{names}").format(names=names))
        self.loading_label.show()
        self.render_bar.show()

        shown = {layer.id for layer in self.workspace.layers if layer.visible}
        defs = sorted(defs, key=lambda d: d.id not in shown)  # the layers shown first
        view = self.canvas.view

        def work(progress, cancelled):
            for d in defs:
                if cancelled():
                    raise tasks.Cancelled()
                layer = load_layer(project, d, epsg, sizes.get(d.id))
                if layer.lazy and d.id in shown:  # what the view draws of it built here, not on the render worker
                    try:
                        layer.prepared.for_view(view, labels=False)
                        if layer.prepared.needs_index():  # and what a zoom in needs: its rows through the bins,
                            layer.prepared.build_index()
                        prepare_exact_views(layer.prepared, view, cancelled)  # its exact tiles' paths
                    except Exception:  # noqa: BLE001 (the render worker builds it again and reports what fails)
                        pass
                task.layer_ready.emit(layer)
            return len(defs)

        def ready(layer):
            if self.workspace.project is project:
                self.workspace.replace_layer(layer)

        def finished(*_):
            self.loading_rest = None
            self.loading_label.hide()
            if not self.canvas.is_rendering():
                self.render_bar.hide()
            if on_done is not None and self.workspace.project is project:
                on_done()

        task = _LayerTask(work)
        task.layer_ready.connect(ready)
        task.succeeded.connect(finished)
        task.failed.connect(lambda exc: (finished(), isinstance(exc, tasks.Cancelled) or ui_errors.show_error(self, exc)))
        self.loading_rest = task
        tasks.start(task)

    def _set_project(self, project, epsg: int, layers, perms=None) -> None:
        if self.loading_rest is not None:
            self.loading_rest.cancel()
            self.loading_rest = None
            self.loading_label.hide()
        old = self.workspace.project
        for dock in list(self.tables.values()):
            dock.close()
            dock.deleteLater()
        self.tables.clear()
        self.workspace.set_project(project, epsg, layers)
        if old is not None and old is not project:
            old.close()
        self.canvas.demo_mark = bool(project.is_demo)
        self.demo_label.setVisible(bool(project.is_demo))
        self._update_crs_label()
        self.apply_permissions(perms)
        self.change_poller.watch(project)
        self.projectOpened.emit()

    # ================================================================== permissions and changes
    def _why_not(self, perm: str) -> str:
        if self.project is not None and self.project.readonly:
            return tr("项目以只读方式打开，不能修改")
        return tr(PERMISSIONS[perm])

    def may(self, perm: str) -> bool:
        """True when the current user has ``perm`` (a Permissions field, e.g. "edit_features"); False without a project."""
        return self.permissions is not None and bool(getattr(self.permissions, perm, False))

    def _gate(self, entry: Entry, perms) -> None:
        """Enable a registered action by the user's permissions, or disable it with a tooltip saying why."""
        t = entry.target
        ok = perms is None or bool(getattr(perms, entry.permission))
        if t.property("riskmap_tip") is None:
            t.setProperty("riskmap_tip", t.toolTip())
        if not ok:
            t.setEnabled(False)
        elif not entry.managed:
            t.setEnabled(True)
        t.setToolTip(t.property("riskmap_tip") if ok else self._why_not(entry.permission))

    def apply_permissions(self, known=None) -> None:
        """Ask the project what the user may do; disable what they may not, with tooltips and a status note.
        ``known``: the project's permissions just asked (while it was opened), not asked again."""
        project = self.project
        perms = known if project is not None else None
        if project is not None and perms is None:
            try:
                perms = project.permissions()
            except Exception:  # an unreachable server must not stop the window: fall back to the file rule
                log.exception("cannot read permissions")
                from riskmap.store.roles import _file_permissions

                perms = _file_permissions(project)
        self.permissions = perms
        for entry in self.registry.gated():
            self._gate(entry, perms)
        self.zoning_panel.can_compute = perms is None or perms.assess
        note = ""
        if perms is not None and not (perms.edit_features and perms.assess):
            if not perms.edit_features and not perms.assess:
                note = tr("只读：项目以只读方式打开") if project.readonly else tr("只读：当前用户为查看者")
            elif perms.edit_features:
                note = tr("编辑者：可编辑要素，不能修改风险等级和分区")
            else:
                note = tr("评估者：可修改风险等级和分区，不能编辑要素")
        self.perm_label.setText(note)
        self.perm_label.setToolTip("" if perms is None else tr("用户：{user}；角色：{roles}").format(
            user=perms.user, roles=joined(tr(ROLE_NAMES.get(r, r)) for r in perms.roles) or "-"))
        self.perm_label.setVisible(bool(note))
        if note:
            self.show_message(note)

    def poll_changes(self) -> list[str]:
        """Reload now the layers whose tables others changed (see ChangePoller); returns their ids."""
        return self.change_poller.poll()

    def _changes_reloaded(self, layer_ids: list[str]) -> None:
        names = joined(self.workspace.layer(lid).title(self.lang) for lid in layer_ids)
        self.show_message(tr("数据库中的数据已更新，已重新加载：{names}").format(names=names))

    def open_demo(self) -> None:
        """Open the bundled demo (会宁县, fictitious data), creating it in the user's data folder once."""
        path = demo_path()
        if path.exists():
            self.open_project(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)

        def work(progress, cancelled):
            from riskmap.demo import make_demo

            make_demo(path, place=DEMO_PLACE, seed=1, progress=progress).close()
            return path

        self.run_task(tr("正在创建示例项目（会宁县，虚构数据）"), work, lambda p: self.open_project(p))

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        items = self.prefs.recent_files()
        if not items:
            self.recent_menu.addAction(tr("（无）")).setEnabled(False)
        for p in items:
            self.recent_menu.addAction(p, lambda _=False, p=p: self.open_project(p))

    def _update_title(self) -> None:
        p = self.workspace.project
        if p is None:
            self.setWindowTitle(tr("riskmap 安全风险一张图"))
        else:
            ro = tr("（只读）") if p.readonly else ""
            self.setWindowTitle(f"{p.name}{ro} — riskmap")

    def set_map_crs(self, choice: str) -> None:
        """Show the map in the project's Gauss–Krüger zone ('gk') or Web Mercator ('webmercator')."""
        self.prefs.set_map_crs(choice)
        project = self.workspace.project
        if project is None:
            return
        epsg = map_epsg_for(project, choice)
        if epsg == self.workspace.map_epsg:
            return
        self.run_task(tr("正在转换坐标系"), lambda progress, cancelled: load_layers(project, epsg, progress, cancelled),
                      lambda layers: self._set_project(project, epsg, layers))

    # ================================================================== language
    def set_language(self, lang: str) -> "MainWindow":
        """Switch the UI language now: the window is rebuilt in the new language with the same project,
        layers, selection and view. Returns the new window (this one closes)."""
        if lang == self.lang:
            return self
        self.prefs.set_language(lang)
        install_language(lang)
        self._save_state()
        new = MainWindow(self.prefs)
        new.adopt(self)
        new.show()
        self._handing_off = True
        self.close()  # the caller drops its reference; Python then deletes the old window
        self.windowReplaced.emit(new)
        return new

    def adopt(self, other: "MainWindow") -> None:
        """Take over another window's project, layers, selection, view and tile layers."""
        ws = other.workspace
        if ws.project is None:
            return
        self.workspace.labels = ws.labels
        self._set_project(ws.project, ws.map_epsg, ws.layers)
        self.workspace.selection = dict(ws.selection)
        self.canvas.centre_on(*other.canvas.view.centre, other.canvas.scale())
        for lid in list(ws.selection):
            self.workspace.selectionChanged.emit(lid)

    # ================================================================== map
    def go_to_feature(self, layer_id: str, feature_id: int) -> None:
        """Zoom to a feature, flash it, select it and show it in the identify panel."""
        if not self.workspace.has_layer(layer_id):
            return
        self.workspace.set_visible(layer_id, True)
        self.canvas.zoom_to_feature(layer_id, feature_id)
        if self.workspace.layer(layer_id).geometry == "point":
            self.workspace.select(layer_id, [feature_id], "replace")
        self.identify_panel.show_hits([(layer_id, int(feature_id))])
        self.docks["identify"].raise_()

    def _identified(self, hits, x, y) -> None:
        self.identify_panel.show_hits(hits)
        self.docks["identify"].show()
        self.docks["identify"].raise_()

    def _zoom_current_layer(self) -> None:
        lid = self.layers_panel.current_layer()
        if lid:
            self.canvas.zoom_to_layer(lid)
        else:
            self.canvas.zoom_full()

    def _toggle_labels(self, on: bool) -> None:
        self.prefs.set_labels_on(on)
        self.workspace.set_labels(on)

    def open_table(self, layer_id: str):
        """Show the attribute table of a layer in a dock at the bottom; returns the AttributeTable."""
        from riskmap.ui.attribute_table import AttributeTable

        if layer_id in self.tables:
            dock = self.tables[layer_id]
            dock.show()
            dock.raise_()
            return dock.widget()
        table = AttributeTable(self.workspace, layer_id)
        table.zoomRequested.connect(self.canvas.zoom_to_selection)
        title = tr("属性表：{layer}").format(layer=self.workspace.layer(layer_id).title(self.lang))
        others = list(self.tables.values())
        dock = self.add_dock(table, title, Qt.DockWidgetArea.BottomDockWidgetArea, f"table_{layer_id}")
        if others:
            self.tabifyDockWidget(others[-1], dock)
        dock.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dock.destroyed.connect(lambda *_: (self.tables.pop(layer_id, None), self.docks.pop(f"table_{layer_id}", None)))
        self.tables[layer_id] = dock
        dock.show()
        dock.raise_()
        return table

    def _open_current_table(self) -> None:
        lid = self.layers_panel.current_layer() or ("enterprises" if self.workspace.has_layer("enterprises") else None)
        if lid:
            self.open_table(lid)

    def edit_filter(self, layer_id: str) -> None:
        from riskmap.ui.filter_dialog import edit_filter

        flt = edit_filter(self.workspace.layer(layer_id), self)
        if flt is not None:
            self.workspace.set_filter(layer_id, flt)

    def _filter_current_layer(self) -> None:
        lid = self.layers_panel.current_layer()
        if lid:
            self.edit_filter(lid)
        else:
            self.show_message(tr("请先在图层面板中选择一个图层"))

    def _clear_filters(self) -> None:
        for layer in self.workspace.layers:
            if not layer.filter.is_empty():
                self.workspace.set_filter(layer.id, None)

    # ================================================================== tiles
    def _load_tile_layers(self) -> None:
        layers = []
        for d in self.prefs.tile_sources():
            try:
                layers.append(TileLayer(TileSource.from_dict(d), visible=bool(d.get("enabled"))))
            except Exception:  # a bad stored URL is skipped, not fatal
                log.warning("skipping tile source %r", d)
        self.layers_panel.set_tile_layers(layers)
        self.canvas.set_tile_layers(layers)

    def _tiles_unavailable(self, text: str) -> None:
        self.message_bar.show_message(text)
        self.show_message(text, 15000)

    # ================================================================== settings
    def open_settings(self) -> None:
        from riskmap.ui.settings_dialog import SettingsDialog

        dlg = SettingsDialog(self.prefs, self)
        if dlg.exec():
            changed = dlg.save()
            self.apply_settings(changed)

    def apply_settings(self, changed: dict) -> None:
        if "labels" in changed:
            self.act_labels.setChecked(changed["labels"])
            self.workspace.set_labels(changed["labels"])
        if "tiles" in changed:
            self._load_tile_layers()
        if "crs" in changed:
            self.set_map_crs(changed["crs"])
        if "language" in changed:
            QTimer.singleShot(0, lambda: self.set_language(changed["language"]))

    # ================================================================== status bar
    def _cursor_moved(self, x: float, y: float) -> None:
        from riskmap.crs import transformer

        try:
            lon, lat = transformer(self.workspace.map_epsg, 4490).transform(x, y)
        except Exception:
            lon = lat = float("nan")
        self.coord_label.setText(tr("经度 {lon:.6f}° 纬度 {lat:.6f}°  X {x:.1f} Y {y:.1f}").format(
            lon=lon, lat=lat, x=x, y=y))

    def _view_changed(self) -> None:
        if not self.scale_combo.lineEdit().hasFocus():
            self.scale_combo.setEditText(f"1:{round(self.canvas.scale()):,}")

    def _scale_entered(self, *_) -> None:
        text = self.scale_combo.currentText().replace(",", "").replace("，", "").replace(" ", "")
        text = text.split(":")[-1].split("：")[-1]
        try:
            value = float(text)
        except ValueError:
            self.show_message(tr("比例尺格式应为 1:25000"))
            return
        if value > 0:
            self.canvas.set_scale(value)
            self.canvas.setFocus()

    def _update_crs_label(self) -> None:
        from riskmap.crs import crs_name

        epsg = self.workspace.map_epsg
        self.crs_label.setText(f"EPSG:{epsg} {crs_name(epsg)}")  # (looked up while the project was read)
        self.crs_label.setToolTip(tr("地图显示坐标系；数据保存为 CGCS2000（EPSG:4490）"))

    def _update_nav(self) -> None:
        self.act_prev.setEnabled(self.canvas.can_go_back())
        self.act_next.setEnabled(self.canvas.can_go_forward())

    def _about(self) -> None:
        from riskmap.ui.about_dialog import AboutDialog

        self.show_dialog("about", AboutDialog(self))

    # ================================================================== window state
    def _restore_state(self) -> None:
        geometry, state = self.prefs.window_state()
        if isinstance(geometry, QByteArray | bytes) and geometry:
            self.restoreGeometry(QByteArray(geometry))
        if isinstance(state, QByteArray | bytes) and state:
            self.restoreState(QByteArray(state))

    def _save_state(self) -> None:
        self.prefs.set_window_state(self.saveGeometry(), self.saveState())

    def closeEvent(self, event) -> None:  # noqa: N802
        self._save_state()
        for task in (self.opening, self.loading_rest):
            if task is not None and not self._handing_off:
                task.cancel()
        self.canvas.shutdown()
        self.change_poller.stop()
        for timer in self.findChildren(QTimer):  # no panel asks the closed project again (first steps, …)
            timer.stop()
        if not self._handing_off and self.workspace.project is not None:
            self.workspace.project.close()
        super().closeEvent(event)
