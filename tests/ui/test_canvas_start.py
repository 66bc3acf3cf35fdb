"""A zoom without a delay (the zoom tool's click, zoom_by) starts its render on the worker before zoom_by returns,
ahead of the moved image's paint and the view's listeners; a wheel or key zoom still waits for its delay (notches
coalesce), and every other view change still goes through the render timer. The frame is the same either way."""

from __future__ import annotations

from riskmap.render.image import RenderJob
from tests.ui.conftest import wait_render


def test_a_zoom_starts_its_render_at_once(window, qtbot, monkeypatch):
    canvas = window.canvas
    started = []
    original = RenderJob.run

    def run(self):
        started.append(self.settings)
        return original(self)

    monkeypatch.setattr(RenderJob, "run", run)
    listened = []
    canvas.extentChanged.connect(lambda: listened.append(canvas._job is not None and not canvas._render_timer.isActive()))
    canvas.zoom_by(3.0, (200.0, 150.0))
    job = canvas._job
    assert job is not None and not canvas._render_timer.isActive()  # submitted, no timer to wait for
    assert job.view == canvas.view
    assert listened == [True]  # the view's listeners ran after the render was on its way
    wait_render(qtbot, canvas)
    assert started[-1] == canvas.view and canvas._image_view == canvas.view
    # a wheel-like zoom with a delay: nothing started yet, the timer waits
    before = canvas._seq
    canvas.zoom_by(1.25, delay=180)
    assert canvas._seq == before and canvas._render_timer.isActive()
    wait_render(qtbot, canvas)
    # any other settled view change goes through the timer (requests in one turn of the event loop coalesce)
    before = canvas._seq
    canvas.set_view(canvas.view.panned(10, 0))
    canvas.set_view(canvas.view.panned(10, 0))
    assert canvas._seq == before and canvas._render_timer.isActive()
    wait_render(qtbot, canvas)
    assert canvas._seq == before + 1
