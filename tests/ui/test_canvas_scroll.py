"""The canvas after a pan renders only the strips the pan uncovered (riskmap.render.scroll) and shows the same
frame a full render of the view gives (pixels compared); a change of the layers, a zoom or a fraction of a pixel
renders the whole view."""

from __future__ import annotations

import numpy as np

from tests.ui.conftest import SHOTS, open_window, wait_render


def _pixels(img) -> np.ndarray:
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    a = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return a[:, :img.width() * 4].reshape(img.height(), img.width(), 4).astype(np.int16)


def test_pan_renders_the_uncovered_strips_only(app, qtbot, prefs, demo_copy):
    from riskmap.render.scroll import ScrollJob

    w = open_window(qtbot, prefs, demo_copy)
    try:
        ws, canvas = w.workspace, w.canvas
        ws.set_visible("grids", True)
        canvas.zoom_by(4.0)
        wait_render(qtbot, canvas)
        jobs = []
        canvas.renderStarted.connect(lambda: jobs.append(canvas._job))
        canvas.pan_by(-120, 45)
        wait_render(qtbot, canvas)
        assert isinstance(jobs[-1], ScrollJob) and jobs[-1].scrolled == (-120, 45)
        shown = canvas._image
        shown.save(f"{SHOTS}/ui_canvas_scrolled.png")
        full = canvas.render_job(labels=False)
        full.run()
        d = np.abs(_pixels(shown) - _pixels(full.image)).max(axis=2)
        assert (d > 4).mean() < 0.002 and (d > 48).sum() <= 40, ((d > 4).mean(), (d > 48).sum())  # 4: rounding
        assert int(np.count_nonzero(_pixels(shown)[..., 3])) > 0.2 * d.size  # a map was drawn, not nothing

        ws.set_opacity("grids", 0.5)  # the layers changed: the whole view again
        wait_render(qtbot, canvas)
        canvas.pan_by(30, 0)
        wait_render(qtbot, canvas)
        assert isinstance(jobs[-1], ScrollJob) and jobs[-1].scrolled == (30, 0)
        ws.set_opacity("grids", 1.0)
        wait_render(qtbot, canvas)
        assert not isinstance(jobs[-1], ScrollJob)
        canvas.pan_by(10.5, 0)  # half a pixel: no scroll
        wait_render(qtbot, canvas)
        assert not isinstance(jobs[-1], ScrollJob)
        canvas.zoom_by(1.25)
        wait_render(qtbot, canvas)
        assert not isinstance(jobs[-1], ScrollJob)
    finally:
        w.close()
        w.deleteLater()

