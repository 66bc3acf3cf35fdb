"""Click tools that ask the project a question: site check (a point or a drawn polygon) and “一点即现”.

The tools only capture the place (converted to EPSG:4490) and emit it; ``riskmap/ui/planning.py`` runs the
core functions (``riskmap.analysis.sitecheck.site_check``, ``riskmap.analysis.nearby.nearby``) and shows the
answer. The last place stays drawn on the map (the nearby radius as a geodesic circle).
"""

from __future__ import annotations

import numpy as np
import shapely
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF

from riskmap.analysis.geodesy import geod
from riskmap.crs import reproject
from riskmap.ui.tools.capture import CaptureTool, Snapper


def to_geo(canvas, geom):
    return reproject(geom, canvas.workspace.map_epsg, 4490)


def to_map(canvas, geom):
    return reproject(geom, 4490, canvas.workspace.map_epsg)


def geodesic_circle(lon: float, lat: float, radius_m: float, n: int = 128) -> shapely.Polygon:
    az = np.linspace(0, 360, n, endpoint=False)
    x, y, _ = geod().fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, radius_m))
    return shapely.Polygon(np.column_stack([x, y]))


class _PlaceTool(CaptureTool):
    picked = Signal(object)  # shapely geometry in EPSG:4490
    colour = QColor("#2E7D32")

    def __init__(self, canvas, snapper=None, kind: str = "point"):
        super().__init__(canvas, snapper, kind)
        self.shown = None  # map-CRS geometry of the last place asked about

    def finished(self, pts) -> None:
        geom = self.geometry(pts)
        self.shown = self.shape_for(geom)
        self.canvas.update()
        self.picked.emit(to_geo(self.canvas, geom))

    def shape_for(self, geom_map):
        return geom_map

    def paint_extra(self, painter: QPainter) -> None:
        if self.shown is None or self.points:
            return
        painter.save()
        pen = QPen(self.colour, 2)
        painter.setPen(pen)
        fill = QColor(self.colour)
        fill.setAlpha(35)
        painter.setBrush(fill)
        if self.shown.geom_type != "Point":
            painter.drawPath(self.canvas.geometry_path(self.shown))
        p = self.canvas.pixel_point(*self._anchor())
        painter.setBrush(self.colour)
        painter.drawEllipse(p, 4, 4)
        painter.restore()

    def _anchor(self):
        c = self.shown.centroid if self.shown.geom_type != "Point" else self.shown
        return c.x, c.y


class SiteCheckTool(_PlaceTool):
    """Click a point (``kind="point"``) or draw a polygon (``kind="polygon"``) to check a proposed site."""

    name = "site_check"


class NearbyTool(_PlaceTool):
    """Click anywhere: “一点即现” around the point within ``radius_m``."""

    name = "nearby"
    colour = QColor("#EF6C00")

    def __init__(self, canvas, snapper=None, radius_m: float = 1000.0):
        super().__init__(canvas, snapper or Snapper(canvas, enabled=False), "point")
        self.radius_m = radius_m

    def shape_for(self, geom_map):
        p = to_geo(self.canvas, geom_map)
        self._centre = (geom_map.x, geom_map.y)
        return to_map(self.canvas, geodesic_circle(p.x, p.y, self.radius_m))

    def _anchor(self):
        return self._centre


__all__ = ["SiteCheckTool", "NearbyTool", "geodesic_circle", "to_geo", "to_map", "QPointF", "QPolygonF"]
