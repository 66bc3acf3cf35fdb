"""Measuring on the map: geodesic distance along a line and geodesic area of a polygon (CGCS2000 ellipsoid),
shown next to the cursor in m / km and m² / ha while drawing; Enter, a right click or a double click ends.
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QPainter

from riskmap.analysis.measure import format_area, format_distance, geodesic_area, geodesic_length
from riskmap.crs import transformer
from riskmap.ui.i18n import tr
from riskmap.ui.tools.capture import CaptureTool, paint_label


class MeasureTool(CaptureTool):
    """``kind="line"``: distance; ``kind="polygon"``: area (and perimeter)."""

    name = "measure"
    colour = QColor("#00838F")
    measured = Signal(str)  # the final text

    def __init__(self, canvas, snapper=None, kind: str = "line"):
        super().__init__(canvas, snapper, kind)
        self.result: tuple[list, str] | None = None  # the last finished shape and its text

    def _geo(self, pts):
        tr_ = transformer(self.canvas.workspace.map_epsg, 4490)
        xy = np.asarray(pts, dtype=float)
        lon, lat = tr_.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    def text_for(self, pts) -> str:
        """The measurement of vertices ``pts`` (map CRS) as text."""
        if len(pts) < 2:
            return ""
        ll = self._geo(pts)
        if self.kind == "polygon" and len(pts) >= 3:
            poly = shapely.Polygon(ll)
            if not poly.is_valid:
                poly = shapely.make_valid(poly)
            return tr("面积 {a}\n周长 {p}").format(a=format_area(geodesic_area(poly)),
                                                  p=format_distance(geodesic_length(shapely.Polygon(ll))))
        line = shapely.LineString(ll)
        total = geodesic_length(line)
        last = geodesic_length(shapely.LineString(ll[-2:]))
        return tr("距离 {d}\n末段 {s}").format(d=format_distance(total), s=format_distance(last))

    def add_point(self, xy) -> None:
        self.result = None
        super().add_point(xy)

    def finished(self, pts) -> None:
        text = self.text_for(pts)
        self.result = (pts, text)
        self.measured.emit(text.replace("\n", tr("，")))
        self.canvas.update()

    def paint_extra(self, painter: QPainter) -> None:
        pts = self.preview_points()
        if len(pts) >= 2:
            paint_label(painter, self.canvas.pixel_point(*pts[-1]), self.text_for(pts))

    def paint(self, painter: QPainter) -> None:
        if self.result is not None and not self.points:
            pts, text = self.result
            saved = self.points
            self.points = list(pts)
            hover = self.hover
            self.hover = None
            try:
                super().paint(painter)
            finally:
                self.points, self.hover = saved, hover
            return
        super().paint(painter)
