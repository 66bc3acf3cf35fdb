"""The canvas renders in two passes (map frame, then labels) and shows what one render prints; layer reads
off the GUI thread wait for a map frame."""

from __future__ import annotations

import threading
import time

import numpy as np
from PySide6.QtCore import QObject, QPointF
from PySide6.QtGui import QImage, QPainter

from riskmap.render import render_image
from riskmap.render.image import LabelJob
from tests.ui.conftest import SHOTS, wait_render


def _array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(img.constBits(), np.uint8, count=img.sizeInBytes()).reshape(
        img.height(), img.width(), 4).astype(int)


def _one_pass(canvas) -> QImage:
    """The current view as print and export render it (one pass, labels included), over white."""
    layers, opacity = canvas.render_layers()
    selection = {k: set(v.tolist()) for k, v in canvas.workspace.selection.items() if len(v)}
    img = render_image(canvas.view, layers, background="", labels=canvas.workspace.labels, opacity=opacity,
                       selection=selection)
    out = QImage(img.size(), QImage.Format.Format_ARGB32_Premultiplied)
    out.fill(0xFFFFFFFF)
    p = QPainter(out)
    p.drawImage(QPointF(0, 0), img)
    p.end()
    return out


def _record_label_jobs(monkeypatch) -> list:
    jobs = []
    original = LabelJob.run

    def run(self):
        jobs.append(self)
        return original(self)

    monkeypatch.setattr(LabelJob, "run", run)
    return jobs


def test_canvas_after_both_passes_equals_one_render(window, qtbot):
    canvas, ws = window.canvas, window.workspace
    canvas.decorations = False  # scale bar and north arrow are the widget's, not the map's
    ws.set_opacity("towns", 0.7)
    ws.select("enterprises", ws.layer("enterprises").ids[:5])
    canvas.zoom_by(3.0)
    wait_render(qtbot, canvas)
    shown = canvas.to_image()
    shown.save(f"{SHOTS}/ui_canvas_two_pass.png")
    assert canvas._labels is not None
    a, b = _array(shown), _array(_one_pass(canvas))
    assert a.shape == b.shape
    diff = np.abs(a - b).max(axis=2)
    assert diff.max() <= 2, (diff.max(), int((diff > 2).sum()))
    # without the label pass the picture differs where the labels are: the test can tell
    labels = canvas._labels
    canvas._labels = None
    bare = _array(canvas.to_image())
    canvas._labels = labels
    assert (np.abs(bare - b).max(axis=2) > 60).sum() > 200


def test_frame_shows_first_labels_follow_and_a_zoom_cancels_them(window, qtbot, monkeypatch):
    canvas, ws = window.canvas, window.workspace
    jobs = _record_label_jobs(monkeypatch)
    events = []
    canvas.renderFinished.connect(lambda s: events.append(("frame", canvas._labels is not None)))
    canvas.labelsFinished.connect(lambda s: events.append(("labels", canvas._labels is not None)))
    canvas.zoom_by(2.0)
    wait_render(qtbot, canvas)
    # the frame came first, without the old view's labels; the labels of the new view followed
    assert events[0] == ("frame", False) and events[-1] == ("labels", True)
    assert len(jobs) == 1 and canvas._labels_view == canvas.view
    # a change of the selection redraws the frame and keeps the label image
    labels = canvas._labels
    frames = canvas.render_count
    ws.select("enterprises", ws.layer("enterprises").ids[:3])
    wait_render(qtbot, canvas)
    assert canvas.render_count == frames + 1 and canvas._labels is labels and len(jobs) == 1
    # a zoom while labels are on their way cancels them; the next view gets its own
    canvas.zoom_by(2.0)
    qtbot.waitUntil(lambda: canvas._label_job is not None, timeout=5000)
    first = canvas._label_job
    canvas.zoom_by(1.5)
    assert first.cancelled
    wait_render(qtbot, canvas)
    assert canvas._labels_view == canvas.view and canvas._labels is not None
    # the cancelled job's labels never reach the screen (it may have finished just before the zoom cancelled it)
    assert first.image is None or canvas._labels is not first.image
    # labels off: no label pass, no label image
    n = len(jobs)
    ws.set_labels(False)
    wait_render(qtbot, canvas)
    assert canvas._labels is None and len(jobs) == n


def test_the_label_pass_is_queued_once_the_frame_is_taken(window, qtbot, monkeypatch):
    """Started with the frame, the label pass held the GIL while the GUI thread waited to take the frame; it is
    queued on the render worker when the frame is done, and its labels still come."""
    canvas = window.canvas
    started = []
    original = LabelJob.run
    monkeypatch.setattr(LabelJob, "run", lambda self: started.append(time.perf_counter()) or original(self))
    taken = []
    canvas.renderFinished.connect(lambda s: taken.append((time.perf_counter(), canvas._label_job is not None
                                                          and not canvas._label_job.submitted)))
    canvas.zoom_by(2.0)
    qtbot.waitUntil(lambda: bool(taken), timeout=10000)
    assert taken[0][1]  # a label pass waiting, not yet queued, while the frame is taken
    wait_render(qtbot, canvas)
    assert len(started) == 1 and started[0] > taken[0][0]
    assert canvas._labels is not None and canvas._labels_view == canvas.view and not canvas.is_rendering()


def test_a_failed_frame_still_lets_its_label_pass_go(window, qtbot, monkeypatch):
    """A frame that fails reports its error and still queues the waiting label pass: the canvas never stays
    'rendering' with a label pass nobody starts."""
    from riskmap.render.image import RenderJob

    canvas = window.canvas
    labels = _record_label_jobs(monkeypatch)
    shown = []
    monkeypatch.setattr("riskmap.ui.errors.show_error", lambda parent, exc: shown.append(exc))
    original = RenderJob.run

    def failing(self):
        if type(self) is RenderJob:
            self.error = RuntimeError("示例错误")
            return None
        return original(self)

    monkeypatch.setattr(RenderJob, "run", failing)
    canvas.zoom_by(2.0)
    qtbot.waitUntil(lambda: not canvas.is_rendering(), timeout=10000)
    assert shown and str(shown[0]) == "示例错误"
    assert len(labels) == 1 and labels[0].view == canvas.view  # the label pass ran (its labels wait for a frame)


def test_zoomed_canvas_shows_labels(window, qtbot):
    canvas = window.canvas
    canvas.zoom_by(4.0)
    wait_render(qtbot, canvas)
    img = canvas.to_image()
    img.save(f"{SHOTS}/zoom_after.png")
    job = canvas.label_job()
    job.run()
    assert len(job.stats.labels) >= 5 and canvas._labels is not None
    lab = _array(canvas._labels)
    assert (lab[..., 3] > 200).sum() > 500  # glyphs and halos of several names
    # where the label image is opaque ink, the canvas shows dark text
    shown = _array(img)
    ink = (lab[..., 3] > 250) & (lab[..., :3].max(axis=2) < 40)
    assert ink.sum() > 100 and (shown[ink][:, :3].max(axis=1) < 90).mean() > 0.95


def test_background_reads_wait_for_a_map_frame(app):
    from riskmap.ui.workspace import map_drawing, wait_for_map

    canvas = QObject()
    map_drawing(canvas, True)
    waited = []

    def read():
        t = time.perf_counter()
        wait_for_map(timeout=5.0)
        waited.append(time.perf_counter() - t)

    worker = threading.Thread(target=read)
    worker.start()
    time.sleep(0.3)
    assert not waited  # still waiting for the frame
    map_drawing(canvas, False)
    worker.join(5)
    assert 0.25 < waited[0] < 2.0
    # the GUI thread never waits, and a canvas gone without a word does not block reads
    map_drawing(canvas, True)
    t = time.perf_counter()
    wait_for_map(timeout=5.0)
    assert time.perf_counter() - t < 0.1
    canvas.deleteLater()
    import shiboken6

    shiboken6.delete(canvas)
    worker = threading.Thread(target=read)
    worker.start()
    worker.join(5)
    assert waited[1] < 0.5


def _count_paints(canvas, events: list):
    from PySide6.QtCore import QEvent

    class Paints(QObject):
        def eventFilter(self, obj, ev):
            if ev.type() == QEvent.Type.Paint:
                events.append(("paint", time.perf_counter()))
            return False

    f = Paints(canvas)
    canvas.installEventFilter(f)
    return f


def test_a_zoom_rendered_at_once_shows_the_moved_frame_only_when_its_own_is_late(window, qtbot, monkeypatch):
    """A view rendered at once (a box zoom) is not painted as the old frame moved while its own frame is on the
    way (painting that beside the render slowed it); if the frame is late, the moved one shows after
    PREVIEW_DELAY_MS."""
    import riskmap.ui.canvas as canvas_module
    from riskmap.render.image import RenderJob

    canvas = window.canvas
    wait_render(qtbot, canvas)
    qtbot.wait(50)  # (the last frame on screen)
    events = []
    _count_paints(canvas, events)
    canvas.renderFinished.connect(lambda s: events.append(("frame", time.perf_counter())))
    monkeypatch.setattr(canvas_module, "PREVIEW_DELAY_MS", 10_000)
    canvas.zoom_by(2.0, (300, 200))
    qtbot.waitUntil(lambda: ("frame" in [e for e, _ in events]), timeout=10000)
    assert [e for e, _ in events][0] == "frame"  # no paint before the frame came
    wait_render(qtbot, canvas)
    # a late frame: the old one moved is shown meanwhile
    monkeypatch.setattr(canvas_module, "PREVIEW_DELAY_MS", 30)
    original = RenderJob.run
    monkeypatch.setattr(RenderJob, "run", lambda self: time.sleep(0.4) or original(self))
    events.clear()
    canvas.zoom_by(2.0, (300, 200))
    qtbot.waitUntil(lambda: ("frame" in [e for e, _ in events]), timeout=10000)
    kinds = [e for e, _ in events]
    assert kinds[0] == "paint" and kinds.index("frame") > 0
