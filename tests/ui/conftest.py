"""Fixtures for the desktop tests: isolated user folders, the application, a main window on the demo."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

# Settings, data and cache of the tests go to a private folder, never to the user's.
_HOME = tempfile.mkdtemp(prefix="riskmap-ui-tests-")
for _k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
    os.environ[_k] = os.path.join(_HOME, _k.lower())
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Screenshots of the main states, for a person to look at (not compared by the tests).
SHOTS = os.environ.get("RISKMAP_SHOTS", tempfile.gettempdir())


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests():
    """Collect a finished test's garbage (Qt wrappers left in reference cycles) at a safe point. Left to the
    cycle collector, such a widget could be destroyed while Qt holds its connection lock (a collection run
    from inside QObject::disconnect), and its destructor's own disconnect then waits on that lock forever."""
    yield
    import gc

    gc.collect()


@pytest.fixture
def app(qapp):
    """The QApplication with the bundled fonts and the Chinese UI."""
    from riskmap.ui.app import make_application
    from riskmap.ui.i18n import install_language

    make_application([])
    install_language("zh")
    yield qapp
    install_language("zh")


@pytest.fixture
def prefs(app, tmp_path):
    """Preferences in a fresh settings file for this test."""
    from PySide6.QtCore import QSettings

    from riskmap.ui.prefs import Prefs

    return Prefs(QSettings(str(tmp_path / "riskmap.ini"), QSettings.Format.IniFormat))


def wait_render(qtbot, canvas, timeout=20000):
    """Wait until the canvas shows a finished render of its current view."""
    qtbot.waitUntil(lambda: canvas.has_current_image(), timeout=timeout)


def open_window(qtbot, prefs, path):
    """A shown main window with the project at ``path`` open and rendered."""
    from riskmap.ui.main_window import MainWindow

    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.open_project(path)
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    wait_render(qtbot, w.canvas)
    return w


@pytest.fixture
def window(app, qtbot, demo_copy, prefs):
    """A main window showing a private copy of the demo project, rendered."""
    w = open_window(qtbot, prefs, demo_copy)
    yield w
    import shiboken6

    if shiboken6.isValid(w):  # a language switch replaces the window
        w.close()
        w.deleteLater()
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def isolated_feature(workspace, canvas, layer_id: str, level: int, min_px: float = 14.0) -> tuple[int, float, float]:
    """A feature of ``layer_id`` with ``level`` whose symbol has no other point feature within ``min_px``
    pixels on the canvas; returns (id, pixel x, pixel y)."""
    layer = workspace.layer(layer_id)
    xy = np.array([[g.x, g.y] for g in layer.projected])
    px = canvas.view.map_to_pixel(xy)
    others = [px]
    for other in workspace.layers:
        if (other.visible and other.geometry == "point" and other.id != layer_id and len(other.gdf)
                and other.layer_def.visible_at(canvas.scale())):  # the plant's points show only zoomed in
            oxy = np.array([[g.x, g.y] for g in other.projected])
            others.append(canvas.view.map_to_pixel(oxy))
    allpx = np.vstack(others)
    lv = layer.gdf["level"].to_numpy()
    w, h = canvas.view.width_px, canvas.view.height_px
    best = None
    for i in np.flatnonzero(lv == level):
        x, y = px[i]
        if not (20 < x < w - 60 and 60 < y < h - 60):
            continue
        d = np.hypot(allpx[:, 0] - x, allpx[:, 1] - y)
        d = np.sort(d)[1] if len(d) > 1 else np.inf  # the nearest other symbol
        if d >= min_px and (best is None or d > best[0]):
            best = (d, int(layer.gdf["id"].iloc[i]), float(x), float(y))
    assert best is not None, f"no isolated {layer_id} of level {level}"
    return best[1], best[2], best[3]


def pixel(img, x: float, y: float) -> tuple[int, int, int]:
    c = img.pixelColor(int(round(x)), int(round(y)))
    return c.red(), c.green(), c.blue()


def close_to(rgb, hex_colour: str, tol: int = 30) -> bool:
    want = (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))
    return all(abs(a - b) <= tol for a, b in zip(rgb, want))
