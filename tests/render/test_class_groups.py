"""riskmap.render.painter._class_groups: positions ordered by the class drawing order (level 1, red, last), ties
in their given order, with each class's run — as Python's stable sort orders them."""

from __future__ import annotations

import numpy as np

from riskmap.layers import load_catalogue
from riskmap.render.painter import _class_groups
from riskmap.render.prepared import PreparedLayer


def test_class_groups_as_a_stable_sort():
    layer = PreparedLayer(load_catalogue()["enterprises"], 4544)
    layer.n = 0
    layer._classify(None)
    cls = np.random.default_rng(6).integers(0, len(layer.classes), 5000)
    rank = {c: r for r, c in enumerate(layer.class_order)}
    expected = sorted(range(len(cls)), key=lambda i: rank[int(cls[i])])
    order, groups = _class_groups(layer, cls)
    assert order.tolist() == expected
    assert [c for c, _, _ in groups] == [c for c in layer.class_order if (cls == c).any()]
    assert layer.class_order[-1] == layer.classes.index(next(c for c in layer.classes if c.key == 1))  # red last
    for c, a, b in groups:
        assert (cls[order[a:b]] == c).all()
