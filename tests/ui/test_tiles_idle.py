"""After a frame the canvas lays out a shown lazy line layer's exact map-space tiles on its render worker (idle
time: riskmap.render.painter.lay_out_tiles), once per layer and version; the views then draw from them."""

from __future__ import annotations

import pytest

from tests.ui.conftest import wait_render
from tests.ui.test_lazy_lines_open import N_LINES, make_project


def test_lazy_lines_tiles_laid_out_in_idle_time_and_built_where_a_zoom_meets_them(app, qtbot, prefs, tmp_path,
                                                                                   monkeypatch):
    import riskmap.render.painter as painter

    calls = []
    real = painter.lay_out_tiles
    monkeypatch.setattr(painter, "lay_out_tiles", lambda layer: calls.append(layer) or real(layer))
    w, prep = _lazy_lines_window(qtbot, prefs, tmp_path, monkeypatch)
    qtbot.waitUntil(lambda: any(c is prep for c in calls) and "_line_tiles" in prep.exact_layer().__dict__,
                    timeout=30000)
    laid = prep.exact_layer().__dict__["_line_tiles"]
    w.canvas.zoom_by(10.0, (600, 400))
    wait_render(qtbot, w.canvas)
    qtbot.waitUntil(lambda: not w.canvas.is_rendering(), timeout=30000)
    w.canvas.zoom_by(0.5, (300, 200))
    wait_render(qtbot, w.canvas)
    qtbot.waitUntil(lambda: not w.canvas.is_rendering(), timeout=30000)
    assert sum(c is prep for c in calls) == 1  # once for this layer and version
    assert prep.exact_layer().__dict__["_line_tiles"] is laid  # the zoomed views drew from those tiles
    _, tiles = laid[2]
    assert sum(p is not None for t in tiles.values() for p in t.paths) > 0
    prep.drop()  # another user's change: read again, laid out again after the next frame
    w.canvas.refresh(now=True)
    qtbot.waitUntil(lambda: sum(c is prep for c in calls) == 2, timeout=30000)
    assert prep.exact_layer().__dict__["_line_tiles"] is not laid
    w.close()


def _lazy_lines_window(qtbot, prefs, tmp_path, monkeypatch, prepared_when_loaded=False):
    """A window on a project whose 120 lifelines are read by view. The loading's own preparation of exact views
    (riskmap.render.painter.prepare_exact_views) is left out unless ``prepared_when_loaded``: the idle work is
    what then lays the tiles out and builds their paths (as for a layer shown later, or read again)."""
    import riskmap.render.painter as painter
    import riskmap.store.viewport as viewport
    import riskmap.ui.main_window as main_window
    from riskmap.ui.main_window import MainWindow

    if not prepared_when_loaded:
        monkeypatch.setattr(painter, "prepare_exact_views", lambda *a, **k: None)
    monkeypatch.setattr(viewport, "LAZY_SHAPE_ROWS", 50)
    monkeypatch.setattr(main_window, "BIG_LAYER", 50)
    make_project(tmp_path / "lines.gpkg")
    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    w.open_project(tmp_path / "lines.gpkg")
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    wait_render(qtbot, w.canvas)
    prep = w.workspace.layer("lifelines").prepared
    assert prep.lazy and prep.row_count == N_LINES
    return w, prep


def test_tile_paths_built_ahead_in_idle_time_so_a_zoom_builds_none(app, qtbot, prefs, tmp_path, monkeypatch):
    import riskmap.render.painter as painter

    monkeypatch.setattr(painter, "TILE_VERTICES", 4)  # many small tiles
    w, prep = _lazy_lines_window(qtbot, prefs, tmp_path, monkeypatch)

    def unbuilt():
        laid = prep.exact_layer().__dict__.get("_line_tiles")
        return None if laid is None else sum(len(t.unbuilt()) for t in laid[2][1].values())

    qtbot.waitUntil(lambda: unbuilt() == 0, timeout=30000)  # every tile's paths, with no zoom asked for
    _, tiles = prep.exact_layer().__dict__["_line_tiles"][2]
    assert sum(len(t.paths) for t in tiles.values()) > 5
    _zooms_build_no_path(qtbot, w, monkeypatch)
    w.close()


def _zooms_build_no_path(qtbot, w, monkeypatch):
    """Two 10× zooms (and back) onto new ground: lines drawn, no tile path built for them."""
    import numpy as np

    import riskmap.render.painter as painter

    built = []
    real = painter._MapTiles.build_tile
    monkeypatch.setattr(painter._MapTiles, "build_tile",
                        lambda self, t, c: (self.paths[t] is None and built.append(t)) or real(self, t, c))
    for at in ((600, 400), (200, 650)):
        w.canvas.zoom_by(10.0, at)
        wait_render(qtbot, w.canvas)
        img = w.canvas._image
        px = np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes())
        assert (px.reshape(-1, 4)[:, :3] < 200).any()  # lines drawn
        w.canvas.zoom_by(0.1, at)
        wait_render(qtbot, w.canvas)
    assert built == []


def test_a_new_render_cancels_the_build_ahead_and_runs_before_its_next_step(app, qtbot, prefs, tmp_path,
                                                                            monkeypatch):
    import time

    import riskmap.render.painter as painter
    import riskmap.ui.canvas as canvas_module

    events = []  # ("step", generator number) and ("job", view) in the order the render worker ran them

    def slow(layer, centre=None, cancelled=None, **kw):  # a long build: 2 ms a step
        number = sum(1 for e in events if e[0] == "start")
        events.append(("start", number, centre))
        for _ in range(5000):
            time.sleep(0.002)
            events.append(("step", number))
            yield

    real_run = canvas_module._run_job
    monkeypatch.setattr(painter, "tile_paths_ahead", slow)
    monkeypatch.setattr(canvas_module, "_run_job", lambda job, relay: events.append(("job", job.view)) or
                        real_run(job, relay))
    w, prep = _lazy_lines_window(qtbot, prefs, tmp_path, monkeypatch)
    qtbot.waitUntil(lambda: sum(e[0] == "step" for e in events) >= 20, timeout=30000)
    first = w.canvas._ahead
    assert first is not None and first.slices >= 2  # in slices, each queued behind the last
    w.canvas.zoom_by(10.0, (600, 400))
    zoomed = w.canvas.view
    wait_render(qtbot, w.canvas)
    assert first.cancelled.is_set()
    at = events.index(("job", zoomed))
    assert not any(e == ("step", 0) for e in events[at:])  # the first build made no step after the render ran
    qtbot.waitUntil(lambda: any(e[0] == "start" and e[1] == 1 for e in events), timeout=30000)
    start = next(e for e in events if e[0] == "start" and e[1] == 1)
    x0, y0, x1, y1 = zoomed.extent
    assert events.index(start) > at and start[2] == pytest.approx(((x0 + x1) / 2, (y0 + y1) / 2))  # after the frame
    w.canvas.shutdown()  # cancels the second build too
    n = len(events)
    time.sleep(0.05)
    assert len(events) <= n + 1
    w.close()


def test_a_large_layer_is_handed_to_the_map_with_its_exact_tiles_built(app, qtbot, prefs, tmp_path, monkeypatch):
    """Loading a shown lazy line layer builds its spatial index, lays out its exact tiles and builds their paths on
    the loading thread before the map gets the layer (no idle work asked for): a 10× zoom right after the map is
    complete builds no path."""
    import riskmap.render.lazy as lazy
    import riskmap.render.painter as painter
    import riskmap.ui.canvas as canvas_module
    from riskmap.ui.workspace import Workspace

    monkeypatch.setattr(painter, "TILE_VERTICES", 4)  # many small tiles
    monkeypatch.setattr(lazy, "INDEX_MIN_ROWS", 10)  # (120 lifelines: indexed)
    monkeypatch.setattr(canvas_module.MapCanvas, "_index_in_idle_time", lambda self: None)
    monkeypatch.setattr(canvas_module.MapCanvas, "_tiles_in_idle_time", lambda self: None)
    monkeypatch.setattr(canvas_module.MapCanvas, "_paths_in_idle_time", lambda self: None)
    at_hand_over = {}
    real_replace = Workspace.replace_layer

    def replace_layer(self, layer):
        if layer.id == "lifelines":
            laid = layer.prepared.exact_layer().__dict__.get("_line_tiles")
            at_hand_over["unbuilt"] = None if laid is None else sum(len(t.unbuilt()) for t in laid[2][1].values())
            at_hand_over["tiles"] = None if laid is None else sum(len(t.paths) for t in laid[2][1].values())
            at_hand_over["index"] = isinstance(layer.prepared._shapes.get("index"), lazy.BinIndex)
        return real_replace(self, layer)

    monkeypatch.setattr(Workspace, "replace_layer", replace_layer)
    w, prep = _lazy_lines_window(qtbot, prefs, tmp_path, monkeypatch, prepared_when_loaded=True)
    assert at_hand_over["unbuilt"] == 0 and at_hand_over["tiles"] > 5 and at_hand_over["index"], at_hand_over
    _zooms_build_no_path(qtbot, w, monkeypatch)
    w.close()
