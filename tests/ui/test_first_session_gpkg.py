"""A first session on a GeoPackage (the user's cache empty), LAZY_ROWS lowered so 6,000 enterprises are read by
view: the enterprises' R-tree reads start on threads of their own before the layers are counted and the small
ones read; the layer placed from them for the first frame has every row's id and level (counted by hand), each
point within a float32 step of its place, and the exact arrays follow."""

from __future__ import annotations

import threading

import numpy as np

from tests.ui.conftest import open_window
from tests.ui.test_lazy_layer_ui import hand_levels, make_project


def test_first_session_starts_the_rtree_reads_before_counting(app, qtbot, prefs, tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport
    import riskmap.ui.main_window as main_window
    import riskmap.ui.workspace as workspace
    from riskmap.render.lazy import LazyPrepared

    monkeypatch.setattr(viewport, "LAZY_ROWS", 2000)
    rows = make_project(tmp_path / "big.gpkg")
    monkeypatch.setattr(workspace, "lod_cache", lambda: tmp_path / "lod")
    events = []
    real = {"start": viewport.start_points_quick, "nodes": viewport._rtree_nodes, "groups": viewport._value_groups,
            "sizes": main_window.layer_sizes, "quick": LazyPrepared.load_quick}

    def start(project, layer_def, **k):
        events.append(("start", layer_def.id, threading.current_thread().name))
        return real["start"](project, layer_def, **k)

    def nodes(project, name):
        events.append(("nodes", name, threading.current_thread().name))
        return real["nodes"](project, name)

    def groups(project, sql):
        events.append(("groups", sql, threading.current_thread().name))
        return real["groups"](project, sql)

    def sizes(project, defs):
        defs = list(defs)
        events.append(("count", sorted(d.id for d in defs), threading.current_thread().name))
        return real["sizes"](project, defs)

    placed = []

    def quick(self):
        taken = self.quick_hint is not None
        ok = real["quick"](self)
        placed.append((self, taken, ok))
        return ok

    monkeypatch.setattr(viewport, "start_points_quick", start)
    monkeypatch.setattr(viewport, "_rtree_nodes", nodes)
    monkeypatch.setattr(viewport, "_value_groups", groups)
    monkeypatch.setattr(main_window, "layer_sizes", sizes)
    monkeypatch.setattr(LazyPrepared, "load_quick", quick)
    w = open_window(qtbot, prefs, tmp_path / "big.gpkg")
    try:
        starts = [e for e in events if e[0] == "start"]
        assert [e[1] for e in starts] == ["enterprises"]  # the one point layer above LAZY_ROWS
        count = next(i for i, e in enumerate(events) if e[0] == "count")
        assert events.index(starts[0]) < count  # started before the layers are counted
        reads = [e for e in events if e[0] in ("nodes", "groups")]
        assert sorted(e[0] for e in reads) == ["groups", "nodes"]  # each read once: taken by the layer
        assert all(e[2].startswith("riskmap-rtree") for e in reads)  # on threads of their own
        [(prep, taken, ok)] = [p for p in placed if p[0].id == "enterprises"]
        assert taken and ok and prep.approximate
        pts = prep._points
        assert pts["id"].tolist() == rows["id"].tolist()
        classes = [c.key for c in prep.classes]
        want = hand_levels(rows)
        assert prep.counts() == dict(zip(classes, [want[1], want[2], want[3], want[4], want[None]]))
        exact = w.workspace.layer("enterprises")  # the exact arrays read after the first frame
        assert exact.lazy and not exact.prepared.approximate
        ex = exact.prepared._points
        assert ex["id"].tolist() == pts["id"].tolist()
        lon, lat = rows["lon"].to_numpy(float), rows["lat"].to_numpy(float)
        step = np.spacing(np.abs(np.concatenate([lon, lat])).astype(np.float32)).astype(float).max()
        metres = step * 111_320 * 1.01  # a float32 step of a degree, in metres (the map's Gauss–Krüger zone)
        d = np.hypot(pts["x"] - ex["x"], pts["y"] - ex["y"])
        assert 0 < d.max() <= metres
    finally:
        w.close()
        w.deleteLater()


def test_started_rtree_reads_give_the_same_arrays(tmp_path):
    """read_points_quick taking reads started before equals one making them itself, bit for bit; nothing is
    started where it does not apply (a catalogue where)."""
    from riskmap.layers import load_catalogue
    from riskmap.store import Project
    from riskmap.store.viewport import read_points_quick, start_points_quick

    make_project(tmp_path / "big.gpkg", n=3000)
    cat = load_catalogue()
    with Project.open(tmp_path / "big.gpkg") as project:
        reads = start_points_quick(project, cat["enterprises"], epsg=4544)
        got = read_points_quick(project, cat["enterprises"], epsg=4544, started=reads)
        assert reads[0] == 4544 and all(f.done() for f in reads[1:])
        again = read_points_quick(project, cat["enterprises"], epsg=4544)
        assert sorted(got) == sorted(again) == ["id", "value", "x", "y"]
        assert all(np.array_equal(got[k], again[k], equal_nan=True) for k in got)
        assert start_points_quick(project, cat["towns"]) is None
