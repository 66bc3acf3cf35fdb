"""The plant plans (厂区平面图) as an image layer of the one renderer: screen, print and PDF draw them alike.

Each georeferenced plan (``plant_plans``: an image and its pixel → map transform in the project's metric CRS,
GDAL geotransform order ``x = a + b*col + c*row``, ``y = d + e*col + f*row``, pixel corners) is drawn with
that affine transform into the map view, under the plant's features (layer ``plant_plans`` in ``layers/``:
its z, opacity and the largest scale it shows at). In the plan's own CRS the transform is exact (one
QTransform); in another map CRS an affine through the plan's three projected corners stands in for it
(a plant is small: the difference is far below a pixel).

:class:`PlanLayer` behaves as a prepared layer of kind ``"raster"``: :func:`riskmap.render.painter.render`
asks it to paint itself. It holds the footprints only; the image bytes of a plan are read when the plan is
first in view (``fetch``) and decoded images are cached by plan id and version, with smaller copies for
views that show a plan much smaller than its pixels.

>>> import geopandas as gpd, shapely
>>> from riskmap.layers import raster_catalogue
>>> gdf = gpd.GeoDataFrame({"id": [7], "version": [1], "width": [4], "height": [2], "crs": [4544],
...                         "transform": [[500000.0, 10.0, 0.0, 3900000.0, 0.0, -10.0]]},
...                        geometry=[shapely.box(0, 0, 1, 1)], crs=4490)
>>> layer = PlanLayer.from_gdf(raster_catalogue()["plant_plans"], gdf, 4544, fetch=lambda ids: {})
>>> layer.kind, layer.n, [round(v) for v in layer.bounds[0]]
('raster', 1, [500000, 3899980, 500040, 3900000])
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt
from PySide6.QtGui import QImage, QImageReader, QPainter, QTransform

from riskmap.georef import corners
from riskmap.layers import LayerDef, raster_catalogue
from riskmap.render.prepared import bounds_touch
from riskmap.render.settings import MapSettings

PLAN_COLUMNS = ["id", "enterprise_id", "version", "width", "height", "crs", "transform", "source_name", "page",
                "media_type", "rms_m", "max_residual_m", "method"]
MAX_PIXELS = 120_000_000  # a stored plan larger than this is not decoded (the import refuses larger ones)
CACHE_BYTES = 512 * 1024 * 1024  # decoded plan images kept in memory (all levels of detail)
LOD_FACTOR = 0.5  # a smaller copy is used when the plan is shown at less than this many device px per px


def plan_layer_def() -> LayerDef:
    """The catalogue definition of the plant plans (``layers/plant_plans.toml``)."""
    return raster_catalogue()["plant_plans"]


def _json_list(v):
    if isinstance(v, str):
        return json.loads(v)
    return v


def map_transform(transform, plan_crs: int, map_epsg: int, width: int, height: int) -> tuple[float, ...]:
    """The plan's pixel → map transform in ``map_epsg`` (the same six numbers in its own CRS; else the affine
    through its top-left, top-right and bottom-left corners projected into ``map_epsg``).

    >>> map_transform([100.0, 2.0, 0.0, 500.0, 0.0, -2.0], 4544, 4544, 10, 5)
    (100.0, 2.0, 0.0, 500.0, 0.0, -2.0)
    """
    t = tuple(float(v) for v in _json_list(transform))
    if int(plan_crs) == int(map_epsg):
        return t
    from riskmap.crs import reproject

    c = shapely.get_coordinates(reproject(shapely.LineString(corners(t, width, height)), int(plan_crs), int(map_epsg)))
    x, y = c[:, 0], c[:, 1]
    (x0, y0), (x1, y1), (x3, y3) = (x[0], y[0]), (x[1], y[1]), (x[3], y[3])
    return (float(x0), float((x1 - x0) / width), float((x3 - x0) / height),
            float(y0), float((y1 - y0) / width), float((y3 - y0) / height))


def extent_in(epsg: int, extent_4490) -> tuple[float, float, float, float]:
    """An EPSG:4490 extent (lon/lat bounds) as bounds in ``epsg`` (its four corners projected).

    >>> [round(v) for v in extent_in(4544, (105.0, 35.0, 105.001, 35.001))]
    [500000, 3874593, 500091, 3874704]
    """
    from riskmap.crs import transformer

    x0, y0, x1, y1 = extent_4490
    xs, ys = transformer(4490, int(epsg)).transform([x0, x1, x1, x0], [y0, y0, y1, y1])
    return float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys))


def footprints_4490(gdf: pd.DataFrame) -> np.ndarray:
    """The plans' outlines (the image's four corners) as polygons in EPSG:4490."""
    from riskmap.crs import reproject

    out = np.empty(len(gdf), dtype=object)
    for i, (t, crs, w, h) in enumerate(zip(gdf["transform"], gdf["crs"], gdf["width"], gdf["height"])):
        outline = shapely.Polygon(corners(tuple(float(v) for v in _json_list(t)), int(w), int(h)))
        out[i] = reproject(outline, int(crs), 4490)
    return out


def read_plans(project, enterprise_ids=None) -> gpd.GeoDataFrame:
    """The project's plant plans without their images: one row per plan (``PLAN_COLUMNS`` and the enterprise's
    name as ``enterprise_name``), its outline in EPSG:4490 as the geometry. No plans (or a project made before
    plans existed): an empty frame."""
    from sqlalchemy import inspect

    empty = gpd.GeoDataFrame({c: [] for c in [*PLAN_COLUMNS, "enterprise_name"]}, geometry=[], crs=4490)
    if "plant_plans" not in inspect(project.engine).get_table_names():
        return empty
    cols = ", ".join(f"p.{c}" for c in PLAN_COLUMNS)
    sql = f"SELECT {cols}, e.name AS enterprise_name FROM plant_plans p LEFT JOIN enterprises e ON e.id = p.enterprise_id"
    params = {}
    if enterprise_ids is not None:
        ids = [int(i) for i in enterprise_ids]
        if not ids:
            return empty
        sql += " WHERE p.enterprise_id IN (" + ", ".join(f":e{i}" for i in range(len(ids))) + ")"
        params = {f"e{i}": v for i, v in enumerate(ids)}
    sql += " ORDER BY p.id"
    from sqlalchemy import text

    with project.engine.connect() as conn:
        df = pd.DataFrame(conn.execute(text(sql), params).mappings().all(), columns=[*PLAN_COLUMNS, "enterprise_name"])
    if not len(df):
        return empty
    df["transform"] = [t if isinstance(t, str) else json.dumps(t) for t in df["transform"]]  # text: cells are scalars
    df.index = df["id"].to_numpy()
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(footprints_4490(df), index=df.index, crs=4490))


def project_fetch(project) -> Callable:
    """``fetch(ids) -> {id: image bytes}`` reading only the asked plans' images from ``project``."""
    from sqlalchemy import text

    def fetch(ids):
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        sql = "SELECT id, image FROM plant_plans WHERE id IN (" + ", ".join(f":p{i}" for i in range(len(ids))) + ")"
        with project.engine.connect() as conn:
            rows = conn.execute(text(sql), {f"p{i}": v for i, v in enumerate(ids)}).all()
        return {int(r[0]): bytes(r[1]) for r in rows if r[1] is not None}

    return fetch


class PlanImages:
    """Decoded plan images by (plan id, version), with halved copies for small views; thread-safe, bounded."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._images: OrderedDict = OrderedDict()  # (id, version, level) -> QImage
        self._bytes = 0
        self.decoded = 0  # images decoded so far (tests: lazily, once)

    def get(self, key, level: int = 0) -> QImage | None:
        with self._lock:
            img = self._images.get((*key, level))
            if img is not None:
                self._images.move_to_end((*key, level))
            return img

    def put(self, key, level: int, img: QImage) -> None:
        with self._lock:
            k = (*key, level)
            if k in self._images:
                return
            self._images[k] = img
            self._bytes += img.sizeInBytes()
            while self._bytes > self.max_bytes and len(self._images) > 1:
                _, old = self._images.popitem(last=False)
                self._bytes -= old.sizeInBytes()

    def level(self, key, base: QImage, level: int) -> QImage:
        """The image halved ``level`` times (made once from the next larger one, smoothly)."""
        if level <= 0:
            return base
        img = self.get(key, level)
        if img is None:
            bigger = self.level(key, base, level - 1)
            img = bigger.scaled(max(1, bigger.width() // 2), max(1, bigger.height() // 2),
                                Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
            self.put(key, level, img)
        return img


IMAGES = PlanImages()


def decode(data: bytes, expected: tuple[int, int] | None = None) -> QImage | None:
    """A stored plan image decoded (None when it cannot be read or is larger than :data:`MAX_PIXELS`)."""
    buf = QBuffer()
    buf.setData(QByteArray(data))
    buf.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buf)
    size = reader.size()
    if not size.isValid() or size.width() * size.height() > MAX_PIXELS:
        return None
    if expected is not None and (size.width(), size.height()) != tuple(int(v) for v in expected):
        return None  # not the image the transform was made for
    reader.setAllocationLimit(max(256, int(size.width() * size.height() * 4 / 2**20) + 16))
    img = reader.read()
    if img.isNull():
        return None
    return img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)


class PlanLayer:
    """The plant plans, prepared for painting (a prepared layer of kind ``"raster"``).

    Attributes as :class:`riskmap.render.prepared.PreparedLayer` where the renderer, legend and label engine
    read them (``id``, ``z``, ``kind``, ``n``, ``ids``, ``bounds``, no classes, no labels), plus
    ``transforms`` (n, 6) pixel → map in the map CRS, ``sizes`` (n, 2) and ``versions``.
    """

    kind = "raster"
    label_text = None
    classes: list = []  # no legend rows
    fill_colours = ["#CFD8DC"]  # the layers panel's icon: a grey sheet
    stroke_colours = ["#607D8B"]

    def __init__(self, layer_def: LayerDef, map_epsg: int, fetch: Callable, images: PlanImages | None = None):
        self.layer_def = layer_def
        self.id = layer_def.id
        self.z = layer_def.z
        self.crs_epsg = int(map_epsg)
        self.fetch = fetch
        self.images = images or IMAGES
        self.version = 0
        self.label_order = np.zeros(0, dtype=np.int64)
        self.geoms = None
        self._missing: set = set()

    @classmethod
    def from_gdf(cls, layer_def: LayerDef, gdf, map_epsg: int, *, fetch: Callable,
                 images: PlanImages | None = None) -> "PlanLayer":
        """The plans of ``gdf`` (rows of :func:`read_plans`: id, version, width, height, crs, transform)."""
        self = cls(layer_def, map_epsg, fetch, images)
        self.source = gdf
        self.n = len(gdf)
        self.ids = gdf["id"].to_numpy() if "id" in gdf.columns else np.asarray(gdf.index)
        self.versions = (gdf["version"].fillna(0).astype(int).to_numpy() if "version" in gdf.columns
                         else np.zeros(self.n, dtype=int))
        self.sizes = np.column_stack([gdf["width"].astype(int).to_numpy(), gdf["height"].astype(int).to_numpy()]) \
            if self.n else np.zeros((0, 2), dtype=int)
        self.transforms = np.array([map_transform(t, c, map_epsg, w, h) for t, c, (w, h)
                                    in zip(gdf["transform"], gdf["crs"], self.sizes)], dtype=float).reshape(-1, 6)
        b = np.full((self.n, 4), np.nan)
        for i, (t, (w, h)) in enumerate(zip(self.transforms, self.sizes)):
            c = corners(tuple(t), int(w), int(h))
            b[i] = (c[:, 0].min(), c[:, 1].min(), c[:, 0].max(), c[:, 1].max())
        self.bounds = b
        return self

    # ---- what the renderer, legend and label engine ask of a prepared layer
    def title(self, lang: str = "zh") -> str:
        return self.layer_def.title(lang)

    def counts(self, mask=None) -> dict:
        return {}

    def visible_mask(self, extent, margin: float = 0.0) -> np.ndarray:
        return bounds_touch(self.bounds, extent, margin)

    def indices_of(self, ids) -> np.ndarray:
        idx = pd.Index(self.ids).get_indexer(list(ids))
        return idx[idx >= 0].astype(np.int64)

    def total_bounds(self):
        if not self.n:
            return None
        b = self.bounds
        return (float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 2].max()), float(b[:, 3].max()))

    def __repr__(self) -> str:
        return f"<PlanLayer {self.id} n={self.n}>"

    # ---- images
    def image(self, i: int) -> QImage | None:
        """The decoded image of plan ``i`` (read and decoded on first use; None when it cannot be)."""
        key = (int(self.ids[i]), int(self.versions[i]))
        img = self.images.get(key)
        if img is not None or key in self._missing:
            return img
        data = self.fetch([key[0]]).get(key[0])
        img = decode(data, tuple(self.sizes[i])) if data else None
        if img is None:
            self._missing.add(key)
            return None
        self.images.decoded += 1
        self.images.put(key, 0, img)
        return img

    def device_transform(self, i: int, settings: MapSettings) -> QTransform:
        """Image pixel → painter pixel (the map frame at (0, 0), ``settings``' pixels)."""
        a, b, c, d, e, f = self.transforms[i]
        xmin, _, _, ymax = settings.extent
        r = settings.resolution
        # px = (x - xmin)/r, py = (ymax - y)/r; QTransform(m11, m12, m21, m22, dx, dy) maps (col, row) to
        # (m11*col + m21*row + dx, m12*col + m22*row + dy)
        return QTransform(b / r, -e / r, c / r, -f / r, (a - xmin) / r, (ymax - d) / r)

    def paint(self, painter: QPainter, settings: MapSettings, cancelled=lambda: False) -> int:
        """Draw the plans in view; returns how many were drawn."""
        if not self.n or not self.layer_def.visible_at(settings.scale_denominator()):
            return 0
        drawn = 0
        opacity = float(self.layer_def.style.fill_opacity)
        for i in np.flatnonzero(self.visible_mask(settings.extent)).tolist():
            if cancelled():
                break
            base = self.image(i)
            if base is None:
                continue
            t = self.device_transform(i, settings)
            world = t * painter.worldTransform()
            px_per_px = float(np.sqrt(abs(world.determinant())))  # device pixels per image pixel
            level = 0
            while px_per_px * 2 ** level < LOD_FACTOR and min(base.width(), base.height()) >> (level + 1) >= 8:
                level += 1
            key = (int(self.ids[i]), int(self.versions[i]))
            img = self.images.level(key, base, level)
            if level:  # the smaller copy: scale its pixels back to the plan's
                t = QTransform.fromScale(base.width() / img.width(), base.height() / img.height()) * t
            painter.save()
            try:
                painter.setOpacity(painter.opacity() * opacity)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
                painter.setTransform(t, True)
                painter.drawImage(QPointF(0, 0), img)
            finally:
                painter.restore()
            drawn += 1
        return drawn


def plan_layer(project, map_epsg: int, *, enterprise_ids=None, layer_def: LayerDef | None = None) -> PlanLayer:
    """The project's plans (or those of ``enterprise_ids``) as a layer ready to paint in ``map_epsg``; the
    images are read from ``project`` when first in view."""
    return PlanLayer.from_gdf(layer_def or plan_layer_def(), read_plans(project, enterprise_ids), map_epsg,
                              fetch=project_fetch(project))
