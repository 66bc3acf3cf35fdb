"""After a frame the canvas lays out a shown lazy line layer's exact map-space tiles on its render worker (idle
time: riskmap.render.painter.lay_out_tiles), once per layer and version; the views then draw from them."""

from __future__ import annotations

from tests.ui.conftest import wait_render
from tests.ui.test_lazy_lines_open import N_LINES, make_project


def test_lazy_lines_tiles_laid_out_in_idle_time_and_built_where_a_zoom_meets_them(app, qtbot, prefs, tmp_path,
                                                                                   monkeypatch):
    import riskmap.render.painter as painter
    import riskmap.store.viewport as viewport
    import riskmap.ui.main_window as main_window
    from riskmap.ui.main_window import MainWindow

    monkeypatch.setattr(viewport, "LAZY_SHAPE_ROWS", 50)
    monkeypatch.setattr(main_window, "BIG_LAYER", 50)
    calls = []
    real = painter.lay_out_tiles
    monkeypatch.setattr(painter, "lay_out_tiles", lambda layer: calls.append(layer) or real(layer))
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
