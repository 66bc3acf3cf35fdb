"""MapCanvas.idle_work_pending: true while the work queued after a frame (indexes, tiles laid out, tile paths
built ahead) runs on the render worker, false once all of it is done (the city benchmark waits for it)."""

from __future__ import annotations

import time


def test_idle_work_pending_until_the_paths_ahead_are_built(app, qtbot, prefs, tmp_path, monkeypatch):
    import riskmap.render.painter as painter
    from tests.ui.test_tiles_idle import _lazy_lines_window

    steps = []

    def slow(layer, centre=None, cancelled=None, **kw):  # a build of 40 steps of 3 ms
        for _ in range(40):
            time.sleep(0.003)
            steps.append(1)
            yield

    monkeypatch.setattr(painter, "tile_paths_ahead", slow)
    w, prep = _lazy_lines_window(qtbot, prefs, tmp_path, monkeypatch)
    seen = []
    qtbot.waitUntil(lambda: seen.append(w.canvas.idle_work_pending()) or len(steps) > 5, timeout=30000)
    assert w.canvas.idle_work_pending() and 5 < len(steps) < 40  # (the build still running)
    qtbot.waitUntil(lambda: not w.canvas.idle_work_pending(), timeout=30000)
    assert len(steps) == 40  # not idle before the last step
    w.canvas.shutdown()
    w.close()
