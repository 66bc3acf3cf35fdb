"""Starting the application: the given file, the last project, the demo the first time; remembered state;
errors as dialogs with the project's message."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from riskmap.errors import RiskmapError


def _run_until_open(run, argv):
    """Run ``run(argv)`` (the real event loop); close the window once its project is open."""
    from riskmap.ui.main_window import MainWindow

    seen = {}

    def check():
        wins = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if wins and wins[0].project is not None and wins[0].canvas.render_count:
            seen["target"] = wins[0].project.target
            seen["demo"] = wins[0].project.is_demo
            seen["title"] = wins[0].windowTitle()
            wins[0].close()
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(50, check)
    rc = run(argv)
    return rc, seen


def test_run_app_first_time_demo_then_last_project_then_given_file(app, demo_copy, monkeypatch):
    from riskmap.ui.app import run_app
    from riskmap.ui.prefs import Prefs, data_dir

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    prefs = Prefs()
    prefs.s.clear()
    # first start: no last project → the demo is made in the user's data folder and opened
    rc, seen = _run_until_open(run_app, [])
    assert rc == 0 and seen["demo"]
    demo = data_dir() / "demo" / "会宁县示例.gpkg"
    assert demo.exists() and Path(seen["target"]) == demo
    assert "示例数据" in seen["title"]
    assert Prefs().last_project() == str(demo.resolve())
    # next start: the last project again
    rc, seen = _run_until_open(run_app, [])
    assert Path(seen["target"]) == demo
    # riskmap FILE.gpkg opens that file and it becomes the most recent
    rc, seen = _run_until_open(run_app, [str(demo_copy)])
    assert Path(seen["target"]) == demo_copy
    assert Prefs().recent_files()[:2] == [str(demo_copy.resolve()), str(demo.resolve())]


def test_initial_target_and_missing_file(app, prefs, tmp_path):
    from riskmap.ui.app import initial_target

    assert initial_target([], prefs) is None
    with pytest.raises(RiskmapError, match="不存在"):
        initial_target([str(tmp_path / "nope.gpkg")], prefs)
    gone = tmp_path / "gone.gpkg"
    prefs.add_recent(str(gone))  # the last project was deleted meanwhile: start on the demo
    assert initial_target([], prefs) is None


def test_cli_without_subcommand_opens_the_app(monkeypatch):
    import riskmap.cli as cli

    calls = []
    monkeypatch.setattr("riskmap.ui.app.run_app", lambda argv: calls.append(argv) or 0)
    assert cli.main(["x.gpkg"]) == 0 and calls == [["x.gpkg"]]
    assert cli.main([]) == 0 and calls[-1] == []


def test_window_geometry_and_recent_files_remembered(app, qtbot, prefs, demo_copy):
    from riskmap.ui.main_window import MainWindow

    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.show()
    w.resize(701, 523)
    w.docks["legend"].hide()
    w.open_project(demo_copy)
    qtbot.waitUntil(lambda: w.project is not None, timeout=30000)
    w.close()
    w2 = MainWindow(prefs)
    qtbot.addWidget(w2)
    w2.show()
    assert (w2.width(), w2.height()) == (701, 523)
    assert not w2.docks["legend"].isVisible()
    w2._fill_recent()
    assert [a.text() for a in w2.recent_menu.actions()][0] == str(demo_copy.resolve())
    w2.close()


def test_errors_are_dialogs_with_the_projects_message(app, qtbot, prefs, tmp_path, monkeypatch):
    from riskmap.ui import errors
    from riskmap.ui.main_window import MainWindow

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    log = errors.setup_logging(tmp_path / "riskmap.log")
    errors.install_excepthook()
    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.show()
    bad = tmp_path / "不是项目.gpkg"
    bad.write_text("hello", encoding="utf-8")
    n = len(errors.shown_errors())
    w.open_project(bad)
    qtbot.waitUntil(lambda: len(errors.shown_errors()) > n, timeout=20000)
    assert "不是 GeoPackage 项目文件" in errors.shown_errors()[-1]
    assert w.project is None
    # an uncaught exception in a slot: a dialog with a short text, the traceback only in the log
    try:
        raise ValueError("坏数据")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    text = errors.shown_errors()[-1]
    assert "程序内部错误" in text and "坏数据" in text and "Traceback" not in text
    assert "Traceback" in log.read_text(encoding="utf-8")
    # a RiskmapError shows exactly its message
    sys.excepthook(RiskmapError, RiskmapError("文件不存在", "file not found", where="a.xlsx"), None)
    assert errors.shown_errors()[-1] == "a.xlsx: 文件不存在 / file not found"
    errors.close_error_dialogs()
    w.close()
