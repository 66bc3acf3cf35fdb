"""Labels of large lines and polygons (lazy layers) from their compact arrays: the view's features with their
names read by id and their anchors computed from the arrays equal what shapely gives on the file's geometry read
with pyogrio (a point on each cell's surface, never in a hole; the middle of each line's longest part), and the
label pass places them."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskmap.layers import load_catalogue
from riskmap.render import MapSettings
from tests.render.test_lazy_shapes import EPSG, shapes_project  # noqa: F401 (fixture)


def _file(path, layer_def):
    import pyogrio

    df = pyogrio.read_dataframe(path, layer=layer_def.table, where=layer_def.where, fid_as_index=True)
    return df.sort_index().to_crs(EPSG)


def test_grid_labels_from_the_arrays(app, shapes_project):  # noqa: F811
    from riskmap.render.lazy import LazyPrepared
    from riskmap.render.painter import render_labels

    project, path = shapes_project
    ld = load_catalogue()["grids"]
    df = _file(path, ld)
    lz = LazyPrepared(project, ld, EPSG, len(df))
    cx, cy = df.geometry.union_all().centroid.coords[0]
    view = MapSettings.at_scale((cx, cy), 24_000, 900, 1000, crs_epsg=EPSG)  # labels show at 1:5 000-1:25 000
    prep = lz.for_view(view, labels=True)
    frame = lz.for_view(view, labels=False)
    assert prep.ids.tolist() == frame.ids.tolist() == df.index.tolist()  # all 25 cells are in view
    assert prep.label_text.tolist() == df["name"].tolist()
    for k, fid in enumerate(prep.ids.tolist()):
        geom = df.geometry.loc[fid]
        anchor = shapely.Point(prep.label_xy[k])
        assert geom.contains(anchor), fid
        want = shapely.point_on_surface(geom)
        assert anchor.distance(want) < 1e-3, (fid, anchor, want)
    hole = df[df["name"] == "示例网格22"].geometry.iloc[0].geoms[0]  # (read as a MultiPolygon)
    assert len(hole.interiors) == 1  # the cell with a hole: its anchor is in the cell, not in the hole
    k = prep.label_text.tolist().index("示例网格22")
    assert not shapely.Polygon(hole.interiors[0]).contains(shapely.Point(prep.label_xy[k]))
    assert frame.label_text is None  # the frame's own view carries no labels
    from PySide6.QtGui import QImage, QPainter

    img = QImage(900, 1000, QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    stats = render_labels(p, view, [lz])
    p.end()
    placed = {lab.text for lab in stats.labels if lab.layer_id == "grids"}
    assert placed and placed <= set(df["name"])


@pytest.mark.parametrize("scale", [8_000])
def test_line_labels_from_the_arrays(app, shapes_project, scale):  # noqa: F811
    from riskmap.render import PreparedLayer
    from riskmap.render.lazy import LazyPrepared

    project, path = shapes_project
    ld = load_catalogue()["lifelines"]
    df = _file(path, ld)
    lz = LazyPrepared(project, ld, EPSG, len(df))
    x0, y0 = df.geometry.iloc[0].geoms[0].coords[300]  # on the first wiggly line (read as a MultiLineString)
    view = MapSettings.at_scale((x0, y0), scale, 600, 400, crs_epsg=EPSG)
    prep = lz.for_view(view, labels=True)
    assert 0 < prep.n < len(df)
    whole = PreparedLayer.from_gdf(ld, df.reset_index(names="id"), EPSG, projected=True)
    pos = {int(i): k for k, i in enumerate(whole.ids.tolist())}
    for k, fid in enumerate(prep.ids.tolist()):
        assert prep.label_text[k] == df.loc[fid, "name"]
        assert np.allclose(prep.label_xy[k], whole.label_xy[pos[fid]], atol=1e-3), fid
