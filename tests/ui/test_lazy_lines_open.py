"""Opening a project whose lines are read by view (LAZY_SHAPE_ROWS lowered so 120 lifelines are): the first map
frame comes before the lines' compact arrays are read (the county and the enterprises at once), the lines follow
in the background (the status line names them) and are then drawn in their category colour, and the layers
panel counts every one of them."""

from __future__ import annotations

import os

import numpy as np
import shapely

from tests.ui.conftest import SHOTS, wait_render

N_LINES = 120


def make_project(path):
    """A county box (105.0–105.2°E, 35.5–35.65°N), a few enterprises, and N_LINES east–west water mains
    (105.02 → 105.18°E) at latitudes 35.52 + k × 0.001; returns those latitudes."""
    from riskmap.model import Enterprise, LifelineSegment, Zone
    from riskmap.store import Project

    lats = 35.52 + 0.001 * np.arange(N_LINES)

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例县", kind="county", geom=shapely.box(104.99, 35.49, 105.21, 35.66)))
            for k in range(5):
                s.add(Enterprise(name=f"示例企业{k}", industry="commerce", level=4,
                                 geom=shapely.Point(105.05 + 0.02 * k, 35.62)))
            for k, lat in enumerate(lats):
                s.add(LifelineSegment(name=f"供水干管{k}", category="water",
                                      geom=shapely.MultiLineString([[(105.02, lat), (105.1, lat + 0.0002),
                                                                     (105.18, lat)]])))

    Project.create(path, name="生命线按视图读取", metric_epsg=4544, build=build, overwrite=True).close()
    return lats


def test_first_frame_comes_before_the_lazy_lines_and_they_follow(app, qtbot, prefs, tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport
    from riskmap.crs import transformer
    from riskmap.ui.main_window import MainWindow
    from tests.render.conftest import rgb

    import riskmap.ui.main_window as main_window

    monkeypatch.setattr(viewport, "LAZY_SHAPE_ROWS", 50)
    monkeypatch.setattr(main_window, "BIG_LAYER", 50)  # (in the application LAZY_SHAPE_ROWS is above BIG_LAYER)
    lats = make_project(tmp_path / "lines.gpkg")
    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    frames = []

    def on_frame(_seconds):
        if w.project is None:  # the empty map before the project
            return
        layer = w.workspace.layer("lifelines")
        frames.append((w.loading, layer is not None and layer.lazy, w.loading_label.text()))

    w.canvas.renderFinished.connect(on_frame)
    # the lines' arrays are read after the first frame: hold their reading until that frame is shown
    import riskmap.render.lazy as lazy

    real_load = lazy.LazyPrepared.load
    loads = []

    def load(self):
        loads.append((self.id, len(frames)))
        return real_load(self)

    monkeypatch.setattr(lazy.LazyPrepared, "load", load)
    w.open_project(tmp_path / "lines.gpkg")
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    wait_render(qtbot, w.canvas)
    qtbot.waitUntil(lambda: frames and not frames[-1][0], timeout=30000)
    # the first frame: still loading, the lifelines a stand-in with no rows, the status line naming them
    loading, lazy_then, label = frames[0]
    assert loading and not lazy_then and "生命线" in label and "120" in label, (frames, loads)
    assert ("lifelines", 0) not in loads  # not read before the first frame
    assert any(lid == "lifelines" for lid, _ in loads)
    layer = w.workspace.layer("lifelines")
    assert layer.lazy and layer.shown_count() == N_LINES
    assert sum(layer.prepared.counts().values()) == N_LINES
    # drawn: the middle of each of a few mains (105.06°E, between its vertices) in water's blue #1E88E5, one
    # pixel of it across the main (a large layer's thin stroke is one antialiased pixel at every scale)
    img = w.canvas.grab().toImage()
    img.save(os.path.join(SHOTS, "lazy_lines_open.png"))
    epsg = w.workspace.map_epsg
    view = w.canvas.view
    blue = 0
    for lat in lats[::20]:
        x, y = transformer(4490, epsg).transform(105.06, lat + 0.0001)
        px, py = view.map_to_pixel(np.array([[x, y]]))[0]
        across = [rgb(img, int(round(px)), int(round(py)) + dy) for dy in (-1, 0, 1)]  # (the next main: 3 px)
        ink = sum((255 - r) / (255 - 0x1E) for r, _, _ in across)
        r, g, b = min(across)
        blue += 0.8 < ink < 1.4 and b > 220 and r < 150
    assert blue == len(lats[::20]), blue
    w.close()
