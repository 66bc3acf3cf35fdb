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


def test_frames_around_rendered_ahead_serve_a_pan(app, qtbot, prefs, demo_copy, monkeypatch):
    """Idle after a frame, the canvas renders the four frames around it; a pan then draws from them and renders
    only the corner none of them holds, and the frame equals a full render. After a change of the layers the
    frames rendered ahead are not used."""
    import riskmap.ui.canvas as canvas_mod
    from riskmap.render.scroll import ScrollJob

    monkeypatch.setattr(canvas_mod, "PREFETCH_MIN_S", 0.0)
    monkeypatch.setattr(canvas_mod, "PREFETCH_DELAY_MS", 10)
    w = open_window(qtbot, prefs, demo_copy)
    try:
        ws, canvas = w.workspace, w.canvas
        ws.set_visible("grids", True)
        canvas.zoom_by(4.0)
        wait_render(qtbot, canvas)
        view = canvas._image_rsettings
        width, height = view.width_px, view.height_px
        qtbot.waitUntil(lambda: len(canvas._prefetched) == 4 and not canvas._prefetch_jobs, timeout=20000)
        around = {tuple(round((a - b) / view.resolution) for a, b in zip(rs.extent[:2], view.extent[:2]))
                  for _, rs, _ in canvas._prefetched.values()}
        assert around == {(-width, 0), (width, 0), (0, -height), (0, height)}  # right, left, below, above
        jobs = []
        canvas.renderStarted.connect(lambda: jobs.append(canvas._job))
        dx, dy = -(width // 2), height // 3  # content moves left and down: the right half and a top row are new
        canvas.pan_by(dx, dy)
        wait_render(qtbot, canvas)
        job = jobs[-1]
        assert isinstance(job, ScrollJob) and job.scrolled == (dx, dy) and job.pieces == 3
        assert job.rendered == [(width + dx, 0, -dx, dy)]  # the corner beyond the right and upper frames alone
        shown = canvas._image
        shown.save(f"{SHOTS}/ui_canvas_prefetched_pan.png")
        full = canvas.render_job(labels=False)
        full.run()
        d = np.abs(_pixels(shown) - _pixels(full.image)).max(axis=2)
        assert (d > 4).mean() < 0.002 and (d > 48).sum() <= 40, ((d > 4).mean(), (d > 48).sum())

        qtbot.waitUntil(lambda: not canvas._prefetch_jobs and not canvas._prefetch_timer.isActive(), timeout=20000)
        ws.set_opacity("grids", 0.5)  # another state: the frames rendered ahead no longer match
        wait_render(qtbot, canvas)
        assert not isinstance(jobs[-1], ScrollJob)
        canvas._cancel_prefetch()
        canvas.pan_by(-(width // 2), 0)
        wait_render(qtbot, canvas)
        assert isinstance(jobs[-1], ScrollJob) and jobs[-1].pieces == 1  # the shown frame only
    finally:
        w.close()
        w.deleteLater()
