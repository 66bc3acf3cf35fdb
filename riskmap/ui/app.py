"""Start the desktop application: ``riskmap`` (last project, or the demo the first time) or
``riskmap FILE.gpkg``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from riskmap.errors import RiskmapError

APP_NAME = "riskmap"


def make_application(argv: list[str] | None = None):
    """The QApplication (created once), with fonts, names and the saved UI language installed."""
    from PySide6.QtWidgets import QApplication

    from riskmap.render.fonts import ensure_fonts, font_families
    from riskmap.ui.i18n import install_language
    from riskmap.ui.prefs import Prefs

    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else APP_NAME, *(argv or [])])
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
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
    window.show()
    if target is None:
        window.open_demo()
    else:
        window.open_project(target)
    return int(app.exec())


def _follow(holder: dict, window) -> None:
    holder["window"] = window
    window.windowReplaced.connect(lambda w: _follow(holder, w))
