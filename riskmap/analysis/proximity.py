"""What lies near a geometry: ground distances from one site to the features of project tables.

``ProjectData`` reads each table once (the click tools ask many questions of one project); ``near`` filters
by a bounding box in degrees first, then measures only the candidates in the metric CRS.

>>> # data = ProjectData(project); ents, d = data.near("enterprises", shapely.Point(105.1, 35.9), 500)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from riskmap.analysis.geodesy import degree_margin, ground_distance, project_epsg, to_metric


class ProjectData:
    """Cached tables of one project (EPSG:4490) and its metric CRS."""

    def __init__(self, project, epsg: int | None = None):
        self.project = project
        self.epsg = epsg or project_epsg(project)
        self._frames: dict[tuple, pd.DataFrame] = {}

    def frame(self, table: str, where: str | None = None):
        key = (table, where)
        if key not in self._frames:
            self._frames[key] = self.project.read_table(table, where=where)
        return self._frames[key]

    def clear(self) -> None:
        """Forget cached tables (after an edit)."""
        self._frames.clear()

    def near(self, table: str, site, radius_m: float, where: str | None = None):
        """Features of ``table`` within ``radius_m`` ground metres of ``site`` (EPSG:4490), nearest first.

        Returns the sub-frame with a ``distance_m`` column (0 where the feature touches the site).
        """
        return near_frame(self.frame(table, where), site, radius_m, self.epsg)

    def nearest(self, table: str, site, n: int, where: str | None = None, group: str | None = None):
        """The ``n`` nearest features (per value of column ``group`` if given), with ``distance_m``."""
        df = self.frame(table, where)
        if df.empty:
            return df.assign(distance_m=pd.Series(dtype=float))
        geoms = df.geometry.to_numpy()
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        df = df[ok]
        site_m = to_metric(site, self.epsg)
        d = ground_distance(np.full(len(df), site_m, dtype=object), to_metric(df.geometry.to_numpy(), self.epsg),
                            self.epsg)
        out = df.assign(distance_m=d).sort_values(["distance_m", "id"])
        if group:
            return out.groupby(group, sort=False).head(n)
        return out.head(n)


def near_frame(df, site, radius_m: float, epsg: int):
    """Rows of GeoDataFrame ``df`` within ``radius_m`` of ``site``, with ``distance_m``, nearest first."""
    if df.empty:
        return df.assign(distance_m=pd.Series(dtype=float))
    minx, miny, maxx, maxy = site.bounds
    dlon, dlat = degree_margin(max(abs(miny), abs(maxy)), radius_m)
    box = shapely.box(minx - dlon, miny - dlat, maxx + dlon, maxy + dlat)
    geoms = df.geometry.to_numpy()
    cand = shapely.intersects(geoms, box)
    sub = df[cand]
    if sub.empty:
        return sub.assign(distance_m=pd.Series(dtype=float))
    site_m = to_metric(site, epsg)
    sub_m = to_metric(sub.geometry.to_numpy(), epsg)
    d = ground_distance(np.full(len(sub), site_m, dtype=object), sub_m, epsg)
    d = np.where(shapely.intersects(site_m, sub_m), 0.0, d)
    out = sub.assign(distance_m=d)
    return out[out["distance_m"] <= radius_m].sort_values(["distance_m", "id"])
