"""The change layer: what changed between two dates as vector marks on the map — raised (red up arrow),
lowered (green down arrow), new enterprise (plus), removed enterprise (×), hidden danger closed (check).

The marks are the templates of :mod:`riskmap.render.symbols`, so the canvas, print and export draw the same
shapes; :func:`change_legend` gives their legend rows.

>>> [k.key for k in CHANGE_KINDS]
['raised', 'lowered', 'added', 'removed', 'danger_closed']
>>> change_kind("raised").symbol, change_kind("raised").colour
('arrow_up', '#D32F2F')
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QPainter

from riskmap.render.decorations import LegendEntry
from riskmap.render.settings import MapSettings
from riskmap.render.symbols import make_pen, symbols_path

MARK_PX = 16.0  # nominal size of a change mark on screen (pixels at 96 dpi)
OFFSET = (-0.55, -0.55)  # a mark sits up and left of its point (in mark sizes): the point's colour stays visible
HALO = "#FFFFFF"


class ChangeKind(NamedTuple):
    key: str
    symbol: str
    colour: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


CHANGE_KINDS = (
    ChangeKind("raised", "arrow_up", "#D32F2F", "等级上升", "Raised"),
    ChangeKind("lowered", "arrow_down", "#2E7D32", "等级下降", "Lowered"),
    ChangeKind("added", "plus", "#6A1B9A", "新增企业", "New enterprise"),
    ChangeKind("removed", "x_mark", "#455A64", "减少企业", "Removed enterprise"),
    ChangeKind("danger_closed", "check", "#00838F", "隐患销号", "Hidden danger closed"),
)
_BY_KEY = {k.key: k for k in CHANGE_KINDS}


def change_kind(key: str) -> ChangeKind:
    """The style of a change kind (``raised``, ``lowered``, ``added``, ``removed``, ``danger_closed``)."""
    return _BY_KEY[key]


def change_legend(counts: dict | None = None, lang: str = "zh") -> list[LegendEntry]:
    """Legend rows of the change layer (with counts per kind when given), in :data:`CHANGE_KINDS` order."""
    return [LegendEntry("point", k.colour, HALO, k.label(lang), None if counts is None else int(counts.get(k.key, 0)),
                        symbol=k.symbol) for k in CHANGE_KINDS]


def draw_change_marks(painter: QPainter, view: MapSettings, kinds, xy, *, size_px: float = MARK_PX) -> int:
    """Draw the marks of kinds ``kinds`` (n,) for map points ``xy`` (n, 2) of ``view`` on ``painter`` (a device of
    ``view``'s size), each centred :data:`OFFSET` mark sizes from its point; marks outside the view are skipped.
    Returns the number drawn."""
    kinds = np.asarray(kinds, dtype=object)
    xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
    if not len(xy):
        return 0
    scale = view.dpi / 96.0
    size = size_px * scale
    px = view.map_to_pixel(xy) + np.asarray(OFFSET) * size
    pad = size
    inside = (np.isfinite(px).all(axis=1) & (px[:, 0] >= -pad) & (px[:, 0] <= view.width_px + pad)
              & (px[:, 1] >= -pad) & (px[:, 1] <= view.height_px + pad))
    drawn = 0
    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for kind in reversed(CHANGE_KINDS):  # raised last, on top: a red arrow is never hidden
            sel = inside & (kinds == kind.key)
            if not sel.any():
                continue
            path = symbols_path(kind.symbol, px[sel], size)
            painter.setPen(make_pen(HALO, 2.0 * scale, cap=Qt.PenCapStyle.RoundCap))
            painter.setBrush(QBrush(QColor(kind.colour)))
            painter.drawPath(path)
            drawn += int(sel.sum())
    finally:
        painter.restore()
    return drawn
