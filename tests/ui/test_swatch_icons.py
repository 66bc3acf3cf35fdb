"""Legend icons are kept per look: a rebuilt legend paints no swatch again, and a kept icon has the pixels of
one painted afresh."""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtGui import QImage

import riskmap.ui.swatches as swatches
from riskmap.layers import load_catalogue
from riskmap.render import PreparedLayer
from riskmap.render.decorations import legend_entries
from tests.render.conftest import MAP_EPSG, frame


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(
        image.height(), image.width(), 4).copy()


def _entries():
    cat = load_catalogue()
    ents = PreparedLayer.from_gdf(cat["enterprises"], frame(shapely.points([[0, 0], [5, 5], [9, 1]]),
                                  level=[1, 2, 4], name=["甲", "乙", "丙"]), MAP_EPSG, projected=True)
    lines = PreparedLayer.from_gdf(cat["lifelines"], frame([shapely.LineString([(0, 0), (9, 9)])] * 2,
                                   category=["gas", "water"], name=["管一", "管二"]), MAP_EPSG, projected=True)
    towns = PreparedLayer.from_gdf(cat["towns"], frame([shapely.box(0, 0, 5, 5)], level=[3], name=["镇"]),
                                   MAP_EPSG, projected=True)
    return [e for e in legend_entries([ents, lines, towns], "zh") if e.kind != "header"]


def test_kept_icons_equal_fresh_ones_and_are_painted_once(app, monkeypatch):
    swatches._swatch_image.cache_clear()
    entries = _entries()
    assert len({e.kind for e in entries}) == 3 and len(entries) >= 8
    painted = []
    real = swatches.swatch_pixmap

    def counted(*a, **k):
        painted.append(a)
        return real(*a, **k)

    monkeypatch.setattr(swatches, "swatch_pixmap", counted)
    first = [swatches.entry_icon(e) for e in entries]
    n = len(painted)
    assert n == len({(e.kind, e.colour, e.stroke, e.symbol, e.fill_opacity, e.dash) for e in entries})
    again = [swatches.entry_icon(e) for e in entries]
    assert len(painted) == n  # nothing painted again
    for e, a, b in zip(entries, first, again):
        fresh = _pixels(real(e.kind, e.colour, e.stroke, e.symbol, e.fill_opacity, e.dash).toImage())
        assert (fresh[..., 3] > 0).sum() > 10  # a swatch with ink
        for icon in (a, b):
            assert np.array_equal(_pixels(icon.pixmap(swatches.SIZE, swatches.SIZE).toImage()), fresh)
