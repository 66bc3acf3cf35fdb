"""Start the desktop application: ``riskmap`` (last project, or the demo the first time) or
``riskmap FILE.gpkg``.

Two environment variables serve the bundle's checks (scripts/build-bundle.sh, bench/bench_bundle.py), not
users: ``RISKMAP_FIRST_FRAME=1`` prints ``riskmap: first frame`` when the first map frame of the opened project
is painted and quits; ``RISKMAP_SCREENSHOT=FILE.png`` grabs the window to FILE.png once the project is open
and its first frame painted, and quits. Either quits with status 1 after RISKMAP_PROBE_TIMEOUT seconds (120).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from riskmap.errors import RiskmapError

APP_NAME = "riskmap"


def make_application(argv: list[str] | None = None):
    """The QApplication (created once), with fonts, names and the saved UI language installed."""
    from PySide6.QtWidgets import QApplication

    from riskmap.memory import limit_arenas

    limit_arenas()  # before the loader and render threads start

    from riskmap.render.fonts import ensure_fonts, font_families
    from riskmap.ui.i18n import install_language
    from riskmap.ui.prefs import Prefs

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else APP_NAME, *(argv or [])])
    # no organisation name: the user folders are ~/.local/share/riskmap and ~/.cache/riskmap (XDG), %APPDATA%\riskmap
    # and %LOCALAPPDATA%\riskmap\cache on Windows, not riskmap/riskmap; the settings file names both itself
    # (~/.config/riskmap/riskmap.ini, prefs.Prefs)
    app.setOrganizationName("")
    app.setApplicationName(APP_NAME)
    from riskmap.ui.icons import icon

    app.setWindowIcon(icon("riskmap"))
    ensure_fonts()
    if not app.property("riskmap_fonts"):  # once: a font change is sent to every widget alive
        font = app.font()
        font.setFamilies([*font_families(), *font.families()])
        app.setFont(font)
        app.setProperty("riskmap_fonts", True)
    install_language(Prefs().language())
    return app


def initial_target(argv: list[str], prefs) -> str | None:
    """The project to open: the file given, else the last one (if it still exists), else None (demo)."""
    files = [a for a in argv if not a.startswith("-")]
    if files:
        path = Path(files[0])
        if "://" not in files[0] and not path.exists():
            raise RiskmapError(f"项目文件不存在: {path}", f"project file not found: {path}")
        return files[0]
    last = prefs.last_project()
    if last and ("://" in last or Path(last).exists()):
        return last
    return None


def run_app(argv: list[str]) -> int:
    """Run the application until its last window closes; returns the exit status."""
    app = make_application(argv)
    from riskmap.ui.errors import install_excepthook, setup_logging
    from riskmap.ui.main_window import MainWindow
    from riskmap.ui.prefs import Prefs, data_dir

    setup_logging(data_dir() / "riskmap.log")
    install_excepthook()
    prefs = Prefs()
    target = initial_target(argv, prefs)
    window = MainWindow(prefs)
    holder = {"window": window}
    window.windowReplaced.connect(lambda w: _follow(holder, w))
    if os.environ.get("RISKMAP_SCREENSHOT") or os.environ.get("RISKMAP_FIRST_FRAME"):
        _startup_probe(app, holder)
    window.show()
    if target is None:
        window.open_demo()
    else:
        window.open_project(target)
    return int(app.exec())


def _startup_probe(app, holder: dict) -> None:
    """RISKMAP_FIRST_FRAME / RISKMAP_SCREENSHOT (see the module docstring)."""
    from PySide6.QtCore import QTimer

    shot = os.environ.get("RISKMAP_SCREENSHOT")
    window = holder["window"]
    if shot:
        window.resize(1280, 800)
    state = {"done": False}

    def finish(status: int) -> None:
        if not state["done"]:
            state["done"] = True
            app.exit(status)

    def grab() -> None:
        if window.loading:  # large layers still coming in: wait for them
            QTimer.singleShot(200, grab)
            return
        ok = window.grab().save(shot)
        print(f"riskmap: screenshot {shot}" if ok else f"riskmap: screenshot not written: {shot}", flush=True)
        finish(0 if ok else 1)

    def frame(_seconds: float) -> None:
        if state["done"] or window.workspace.project is None:
            return  # the empty canvas before the project is open is no map frame
        if not shot:
            print("riskmap: first frame", flush=True)
            finish(0)
        elif not state.get("grabbing"):
            state["grabbing"] = True
            QTimer.singleShot(500, grab)  # labels follow the map frame

    window.canvas.renderFinished.connect(frame)
    timeout = float(os.environ.get("RISKMAP_PROBE_TIMEOUT", "120"))

    def expired() -> None:
        if not state["done"]:
            print(f"riskmap: no map frame within {timeout:.0f} s", file=sys.stderr, flush=True)
            finish(1)

    QTimer.singleShot(int(timeout * 1000), expired)


def _follow(holder: dict, window) -> None:
    holder["window"] = window
    window.windowReplaced.connect(lambda w: _follow(holder, w))
