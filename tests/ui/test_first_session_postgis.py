"""A first session on PostgreSQL (the user's cache empty), LAZY_ROWS lowered so 6,000 enterprises are read by
view: the enterprises are read on a thread of their own while the small layers load, with their stamp from the
same statement (no separate stamp scan); the arrays are exact (ids and levels of every row, counted by hand),
kept in the cache under the stamp the server gives, and the legend counts every row."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tests.ui.conftest import open_window
from tests.ui.test_lazy_layer_ui import hand_levels, make_project

pytestmark = pytest.mark.postgis


def test_first_session_reads_the_points_beside_the_small_layers(app, qtbot, prefs, tmp_path, monkeypatch,
                                                                  pg_server):
    import riskmap.store.viewport as viewport
    import riskmap.ui.workspace as workspace
    from riskmap.store.sync import push

    monkeypatch.setattr(viewport, "LAZY_ROWS", 5000)
    rows = make_project(tmp_path / "big.gpkg")
    url = pg_server.create_database("first_session")
    push(tmp_path / "big.gpkg", url)
    lod = tmp_path / "lod"
    monkeypatch.setattr(workspace, "lod_cache", lambda: lod)  # the user's cache: empty

    threads, stamps = [], []
    real_first, real_stamp = viewport.read_points_first, viewport.points_stamp

    def first(project, layer_def, *a, **k):
        got = real_first(project, layer_def, *a, **k)
        if layer_def.id == "enterprises":
            threads.append((threading.current_thread().name, got is not None))
        return got

    def stamp(project, layer_def, *a, **k):
        stamps.append(layer_def.id)
        return real_stamp(project, layer_def, *a, **k)

    monkeypatch.setattr(viewport, "read_points_first", first)
    monkeypatch.setattr(viewport, "points_stamp", stamp)
    w = open_window(qtbot, prefs, url)
    try:
        layer = w.workspace.layer("enterprises")
        assert layer.lazy
        assert len(threads) == 1 and threads[0][0].startswith("riskmap-points") and threads[0][1]
        assert "enterprises" not in stamps  # the stamp came with the arrays
        pts = layer.prepared._points
        assert pts["id"].tolist() == rows["id"].tolist()
        classes = [c.key for c in layer.prepared.classes]
        by_class = dict(zip(classes, np.bincount(pts["cls"], minlength=len(classes)).tolist()))
        want = hand_levels(rows)
        assert [by_class[k] for k in classes[:4]] == [want[k] for k in (1, 2, 3, 4)]
        assert by_class[classes[-1]] == want[None]
        assert pts["stamp"] == real_stamp(w.project, layer.layer_def)
        viewport._helper().submit(lambda: None).result()  # the file is written on the helper thread, in order
        assert len(list(lod.glob("points-*.npz"))) == 1
        assert layer.prepared.counts() == dict(zip(classes, [want[1], want[2], want[3], want[4], want[None]]))
    finally:  # the database stays (the server is removed at the end): no background work meets a dropped one
        w.close()
        w.deleteLater()


def test_first_session_makes_the_stand_ins_while_the_points_are_read(app, qtbot, prefs, tmp_path, monkeypatch,
                                                                      pg_server):
    """The large layers' empty stand-ins are made on the opening thread while the points' thread still reads
    (not after it: on the ×10 city they cost 20–100 ms between the points and the first frame)."""
    import riskmap.store.viewport as viewport
    import riskmap.ui.main_window as main_window
    import riskmap.ui.workspace as workspace
    from riskmap.store.sync import push

    monkeypatch.setattr(viewport, "LAZY_ROWS", 5000)
    monkeypatch.setattr(main_window, "BIG_LAYER", 0)  # the county outline (one row) loads after the first frame
    make_project(tmp_path / "big.gpkg")
    url = pg_server.create_database("stand_ins")
    push(tmp_path / "big.gpkg", url)
    monkeypatch.setattr(workspace, "lod_cache", lambda: tmp_path / "lod")
    made, seen = threading.Event(), []
    real_first, real_empty = viewport.read_points_first, main_window.empty_layer

    def first(project, layer_def, *a, **k):
        if layer_def.id == "enterprises":
            seen.append(made.wait(10))  # the points' read waits for a stand-in
        return real_first(project, layer_def, *a, **k)

    def empty(project, layer_def, *a, **k):
        made.set()
        return real_empty(project, layer_def, *a, **k)

    monkeypatch.setattr(viewport, "read_points_first", first)
    monkeypatch.setattr(main_window, "empty_layer", empty)
    w = open_window(qtbot, prefs, url)
    try:
        assert seen == [True]
        qtbot.waitUntil(lambda: len(w.workspace.layer("county").gdf) == 1, timeout=20000)  # read after it
    finally:
        w.close()
        w.deleteLater()


def test_first_session_asks_for_the_points_before_counting_the_layers(app, qtbot, prefs, tmp_path, monkeypatch,
                                                                        pg_server):
    """A point layer whose table the planner estimates at EARLY_READ_MARGIN times LAZY_ROWS or more is read as
    soon as the project is open, before the layers are counted, and is not counted apart: its row count is
    the rows read, exact even when the estimate is far off (a table not analysed since rows were deleted). A
    later session (the arrays kept) reads nothing early and does not count it either."""
    import riskmap.store.viewport as viewport
    import riskmap.ui.main_window as main_window
    import riskmap.ui.workspace as workspace
    from riskmap.store.sync import push

    monkeypatch.setattr(viewport, "LAZY_ROWS", 2000)  # 6,000 enterprises: 3 times LAZY_ROWS
    rows = make_project(tmp_path / "big.gpkg")
    url = pg_server.create_database("early_points")
    push(tmp_path / "big.gpkg", url)  # analyses what it writes: the planner's estimate is the row count
    monkeypatch.setattr(workspace, "lod_cache", lambda: tmp_path / "lod")
    events = []
    real_first, real_sizes, real_guess = viewport.read_points_first, main_window.layer_sizes, viewport.estimated_rows

    gave = []

    def first(project, layer_def, *a, **k):
        events.append(("read", layer_def.id, threading.current_thread().name))
        got = real_first(project, layer_def, *a, **k)
        gave.append(got is not None)
        return got

    def sizes(project, defs):
        defs = list(defs)
        events.append(("count", sorted(d.id for d in defs), threading.current_thread().name))
        return real_sizes(project, defs)

    guessed = []

    def guess(project, defs):
        got = real_guess(project, defs)
        guessed.append(dict(got))
        return {k: (10 * n if k == "enterprises" and n is not None else n) for k, n in got.items()}  # far off

    monkeypatch.setattr(viewport, "read_points_first", first)
    monkeypatch.setattr(main_window, "layer_sizes", sizes)
    monkeypatch.setattr(viewport, "estimated_rows", guess)
    w = open_window(qtbot, prefs, url)
    try:
        assert guessed and guessed[0]["enterprises"] == len(rows)  # pushed and analysed: the estimate is exact
        reads = [e for e in events if e[0] == "read" and e[1] == "enterprises"]
        assert len(reads) == 1 and reads[0][2].startswith("riskmap-points")
        assert events.index(reads[0]) < next(i for i, e in enumerate(events) if e[0] == "count")  # asked first
        assert all("enterprises" not in e[1] for e in events if e[0] == "count")  # never counted apart
        layer = w.workspace.layer("enterprises")
        assert layer.lazy and layer.row_count == len(rows) == layer.prepared.row_count  # not the estimate
        assert layer.shown_count() == len(rows)
        pts = layer.prepared._points
        assert pts["id"].tolist() == rows["id"].tolist()
        classes = [c.key for c in layer.prepared.classes]
        want = hand_levels(rows)
        assert layer.prepared.counts() == dict(zip(classes, [want[1], want[2], want[3], want[4], want[None]]))
        assert pts["stamp"] == viewport.points_stamp(w.project, layer.layer_def)
    finally:
        w.close()  # (deleted by qtbot at the end)
    viewport._helper().submit(lambda: None).result()  # the arrays kept in the user's cache (helper thread)
    guessed.clear()
    events.clear()
    gave.clear()
    w = open_window(qtbot, prefs, url)  # a later session: the kept arrays, not counted apart either
    try:
        assert not any(gave)  # nothing read early: the arrays kept are taken
        assert all("enterprises" not in e[1] for e in events if e[0] == "count")
        assert w.workspace.layer("enterprises").row_count == len(rows)
    finally:
        w.close()
        w.deleteLater()


def test_first_session_without_an_estimate_reads_the_usual_way(app, qtbot, prefs, tmp_path, monkeypatch, pg_server):
    """The planner's estimate failing (a server refusing the catalogue query) is no error: the layers are counted
    and the points read the usual way, exactly."""
    import riskmap.store.viewport as viewport
    import riskmap.ui.workspace as workspace
    from riskmap.store.sync import push

    monkeypatch.setattr(viewport, "LAZY_ROWS", 2000)
    rows = make_project(tmp_path / "big.gpkg")
    url = pg_server.create_database("no_estimate")
    push(tmp_path / "big.gpkg", url)
    monkeypatch.setattr(workspace, "lod_cache", lambda: tmp_path / "lod")

    def refuse(*a, **k):
        raise RuntimeError("no estimate here")

    monkeypatch.setattr(viewport, "estimated_rows", refuse)
    w = open_window(qtbot, prefs, url)
    try:
        layer = w.workspace.layer("enterprises")
        assert layer.lazy and layer.row_count == len(rows)
        assert layer.prepared._points["id"].tolist() == rows["id"].tolist()
    finally:
        w.close()
        w.deleteLater()
