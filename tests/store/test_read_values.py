"""riskmap.store.viewport.read_values (a layer's column for given ids, both stores) against the data the project
was built from, and the lazy layer's labels read by id: a view's names are the enterprises' own, and a panned
view reads only the ids the earlier one did not."""

from __future__ import annotations

import numpy as np
import pytest

from riskmap.layers import load_catalogue
from tests.store.test_viewport import make_points_project, points_gpkg, store  # noqa: F401 (fixtures)


def test_read_values_by_id(store):  # noqa: F811
    from riskmap.store.viewport import read_values

    project, data = store
    ents = load_catalogue()["enterprises"]
    rng = np.random.default_rng(2)
    ids = rng.choice(data["id"], 700, replace=False)
    asked = np.concatenate([ids, ids[:50], [0, -5, 10 ** 9]])  # repeated and absent ids, in no order
    got, names = read_values(project, ents, asked, "name")
    assert got.tolist() == sorted(ids.tolist())
    assert names.tolist() == [data["name"][i - 1] for i in sorted(ids.tolist())]  # ids are 1..n in order
    got, levels = read_values(project, ents, data["id"], "level", where=("level = :lv", {"lv": 1}))
    want = [int(i) for i, lv in zip(data["id"], data["level"]) if lv == 1]
    assert got.tolist() == want and set(levels.tolist()) == {1}
    got, names = read_values(project, ents, [], "name")
    assert len(got) == 0 and len(names) == 0
    with pytest.raises(Exception):
        read_values(project, ents, ids, "name; DROP TABLE enterprises")  # only the table's columns
    assert len(read_values(project, ents, ids, "name")[0]) == 700


def test_lazy_labels_read_by_id_only_what_a_view_lacks(tmp_path, monkeypatch):
    import riskmap.store.viewport as viewport
    from riskmap.crs import transformer
    from riskmap.render import MapSettings
    from riskmap.render.lazy import LazyPrepared
    from riskmap.store import Project

    data = make_points_project(tmp_path / "p.gpkg", n=4000, seed=12, edge=False)
    asked = []
    real = viewport.read_values

    def spy(project, layer_def, ids, field, **kw):
        asked.append(np.asarray(ids).copy())
        return real(project, layer_def, ids, field, **kw)

    monkeypatch.setattr(viewport, "read_values", spy)
    project = Project.open(tmp_path / "p.gpkg")
    try:
        lz = LazyPrepared(project, load_catalogue()["enterprises"], 4544, len(data["id"]))
        x, y = transformer(4490, 4544).transform(data["lon"], data["lat"])
        view = MapSettings.at_scale((float(np.median(x)), float(np.median(y))), 20_000, 800, 600, crs_epsg=4544)
        first = lz.for_view(view, labels=True)
        assert 0 < first.n < len(data["id"]) and len(asked) == 1
        assert sorted(asked[0].tolist()) == sorted(first.ids.tolist())  # the view's points, nothing more
        assert [first.label_text[k] for k in range(first.n)] == [data["name"][i - 1] for i in first.ids]
        panned = view.panned(300, 0)
        second = lz.for_view(panned, labels=True)
        assert len(asked) == 2
        new = sorted(set(second.ids.tolist()) - set(first.ids.tolist()))
        assert new and sorted(asked[1].tolist()) == new  # only the points the first view had not read
        assert [second.label_text[k] for k in range(second.n)] == [data["name"][i - 1] for i in second.ids]
        lz.for_view(view.panned(1, 0), labels=True)  # panning back: nothing read
        assert len(asked) == 2
        lz.drop()  # an edit: read again
        lz.for_view(view, labels=True)
        assert len(asked) == 3
    finally:
        project.close()
