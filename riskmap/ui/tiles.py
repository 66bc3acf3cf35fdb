"""Online base maps: XYZ / WMTS (GoogleMapsCompatible) tile layers, cached on disk, drawn under the map.

Tiles are Web Mercator; on a Gauss–Krüger map each tile is warped onto its four projected corners
(QTransform.quadToQuad), which is exact to well under a pixel at tile size. Off by default: the
project's own boundaries are the offline base map. Without network, the map keeps working and says
once that the tiles are unavailable.

>>> src = TileSource("示例", "http://127.0.0.1:8000/{z}/{x}/{y}.png")
>>> src.tile_url(3, 6, 2)
'http://127.0.0.1:8000/3/6/2.png'
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, QUrl, Signal
from PySide6.QtGui import QImage, QPainter, QPolygonF, QTransform
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from riskmap.errors import RiskmapError
from riskmap.ui.i18n import tr

TILE = 256
ORIGIN = 20037508.342789244  # half the Web Mercator world width (m)
MAX_PARALLEL = 6
MAX_TILES_PER_VIEW = 120


@dataclass(frozen=True)
class TileSource:
    """A tile service: ``url`` with {z} {x} {y} (or {-y} for TMS; {TileMatrix} {TileRow} {TileCol} for
    WMTS key-value or REST URLs), {s} for a subdomain from ``subdomains``."""

    name: str
    url: str
    subdomains: str = ""
    min_zoom: int = 1
    max_zoom: int = 18
    attribution: str = ""

    def __post_init__(self):
        u = self.url.strip()
        if not (u.startswith("http://") or u.startswith("https://") or u.startswith("file://")):
            raise RiskmapError(f"瓦片地址须以 http:// 或 https:// 开头: {u}", f"tile URL must start with http(s)://: {u}")
        if not any(k in u for k in ("{x}", "{TileCol}", "{col}")) or not any(k in u for k in ("{y}", "{-y}", "{TileRow}", "{row}")):
            raise RiskmapError(f"瓦片地址须含 {{z}} {{x}} {{y}} 占位符: {u}", f"tile URL needs {{z}} {{x}} {{y}}: {u}")

    @property
    def key(self) -> str:
        return hashlib.sha1(self.url.encode("utf-8")).hexdigest()[:12]

    def tile_url(self, z: int, x: int, y: int) -> str:
        u = self.url
        if self.subdomains:
            u = u.replace("{s}", self.subdomains[(x + y) % len(self.subdomains)])
        ty = (1 << z) - 1 - y
        for k, v in (("{z}", z), ("{x}", x), ("{y}", y), ("{-y}", ty), ("{TileMatrix}", z), ("{TileRow}", y),
                     ("{TileCol}", x), ("{col}", x), ("{row}", y)):
            u = u.replace(k, str(v))
        return u

    def to_dict(self) -> dict:
        return {"name": self.name, "url": self.url, "subdomains": self.subdomains, "min_zoom": self.min_zoom,
                "max_zoom": self.max_zoom, "attribution": self.attribution}

    @classmethod
    def from_dict(cls, d: dict) -> "TileSource":
        return cls(name=str(d.get("name") or tr("瓦片")), url=str(d["url"]), subdomains=str(d.get("subdomains") or ""),
                   min_zoom=int(d.get("min_zoom") or 1), max_zoom=int(d.get("max_zoom") or 18),
                   attribution=str(d.get("attribution") or ""))


TIANDITU_ATTRIBUTION = "天地图 © 国家地理信息公共服务平台"  # the provider's own wording, in every language


def tianditu_sources(key: str, kind: str = "vec") -> list[TileSource]:
    """天地图 (the national map service) base and annotation layers, with the user's own key (tk)."""
    key = key.strip()
    if not key:
        raise RiskmapError("请先填写天地图密钥（tk）", "enter your Tianditu key (tk) first")
    base, note = {"vec": ("vec", "cva"), "img": ("img", "cia"), "ter": ("ter", "cta")}[kind]

    def url(layer):
        return (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{TileMatrix}}"
                f"&TILEROW={{TileRow}}&TILECOL={{TileCol}}&tk={key}")

    names = {"vec": (tr("天地图矢量"), tr("天地图矢量注记")), "img": (tr("天地图影像"), tr("天地图影像注记")),
             "ter": (tr("天地图地形"), tr("天地图地形注记"))}[kind]
    attr = TIANDITU_ATTRIBUTION
    return [TileSource(names[0], url(base), "01234567", 1, 18, attr),
            TileSource(names[1], url(note), "01234567", 1, 18, attr)]


# ---- tile math ---------------------------------------------------------------------------------
def lonlat_to_merc(lon, lat):
    lon = np.asarray(lon, dtype=float)
    lat = np.clip(np.asarray(lat, dtype=float), -85.05112878, 85.05112878)
    x = lon * ORIGIN / 180.0
    y = np.log(np.tan((90.0 + lat) * np.pi / 360.0)) * ORIGIN / np.pi
    return x, y


def merc_to_lonlat(x, y):
    lon = np.asarray(x, dtype=float) / ORIGIN * 180.0
    lat = np.degrees(2 * np.arctan(np.exp(np.asarray(y, dtype=float) / ORIGIN * np.pi)) - np.pi / 2)
    return lon, lat


def tile_span(z: int) -> float:
    return 2 * ORIGIN / (1 << z)


def zoom_for(merc_res: float, source: TileSource) -> int:
    """The tile zoom whose resolution is closest to ``merc_res`` Web Mercator metres per pixel."""
    z = round(math.log2(2 * ORIGIN / TILE / max(merc_res, 1e-6)))
    return int(min(max(z, source.min_zoom), source.max_zoom))


class ViewGeometry:
    """Maps between the map CRS and Web Mercator for one view (transformers cached per EPSG)."""

    def __init__(self, epsg: int):
        from riskmap.crs import transformer

        self.epsg = epsg
        self.identity = epsg == 3857
        if not self.identity:
            self.to_merc = transformer(epsg, 3857)
            self.from_merc = transformer(3857, epsg)

    def map_to_merc(self, x, y):
        if self.identity:
            return np.asarray(x, float), np.asarray(y, float)
        return self.to_merc.transform(x, y)

    def merc_to_map(self, x, y):
        if self.identity:
            return np.asarray(x, float), np.asarray(y, float)
        return self.from_merc.transform(x, y)


def tiles_for_view(settings, geom: ViewGeometry, source: TileSource) -> tuple[int, list[tuple[int, int]]]:
    """(zoom, [(x, y) …]) of the tiles covering the view, nearest the centre first."""
    xmin, ymin, xmax, ymax = settings.extent
    gx, gy = np.meshgrid(np.linspace(xmin, xmax, 7), np.linspace(ymin, ymax, 7))
    mx, my = geom.map_to_merc(gx.ravel(), gy.ravel())
    mx, my = np.asarray(mx), np.asarray(my)
    merc_res = (mx.max() - mx.min()) / settings.width_px
    z = zoom_for(merc_res, source)
    span = tile_span(z)
    n = 1 << z
    x0 = int(np.clip(math.floor((mx.min() + ORIGIN) / span), 0, n - 1))
    x1 = int(np.clip(math.floor((mx.max() + ORIGIN) / span), 0, n - 1))
    y0 = int(np.clip(math.floor((ORIGIN - my.max()) / span), 0, n - 1))
    y1 = int(np.clip(math.floor((ORIGIN - my.min()) / span), 0, n - 1))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    tiles = [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    tiles.sort(key=lambda t: (t[0] - cx) ** 2 + (t[1] - cy) ** 2)
    return z, tiles[:MAX_TILES_PER_VIEW]


def tile_quad(settings, geom: ViewGeometry, z: int, x: int, y: int) -> QPolygonF:
    """The tile's four corners (top-left, top-right, bottom-right, bottom-left) in view pixels."""
    span = tile_span(z)
    left, top = -ORIGIN + x * span, ORIGIN - y * span
    mx = np.array([left, left + span, left + span, left])
    my = np.array([top, top, top - span, top - span])
    px, py = settings.map_to_pixel(*geom.merc_to_map(mx, my))
    return QPolygonF([QPointF(float(a), float(b)) for a, b in zip(px, py)])


def draw_tiles(painter: QPainter, settings, geom: ViewGeometry, z: int, images: dict) -> int:
    """Paint the available tile images ``{(x, y): QImage}`` of zoom ``z``; returns how many were drawn."""
    src = QPolygonF([QPointF(0, 0), QPointF(TILE, 0), QPointF(TILE, TILE), QPointF(0, TILE)])
    drawn = 0
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    for (x, y), img in images.items():
        if img is None or img.isNull():
            continue
        quad = tile_quad(settings, geom, z, x, y)
        t = QTransform()
        if not QTransform.quadToQuad(src, quad, t):
            continue
        painter.setTransform(t)
        painter.drawImage(QRectF(0, 0, TILE, TILE), img, QRectF(0, 0, img.width(), img.height()))
        drawn += 1
    painter.restore()
    return drawn


# ---- fetching and caching ----------------------------------------------------------------------
class TileStore(QObject):
    """Tiles in memory (LRU), on disk (``cache_dir/<source key>/z/x/y``) and from the network (async)."""

    tileReady = Signal(str, int, int, int)  # source key, z, x, y
    unavailable = Signal(str, str)  # source name, reason — once per source per session

    def __init__(self, cache_dir: Path, parent: QObject | None = None, memory_tiles: int = 600):
        super().__init__(parent)
        self.cache_dir = Path(cache_dir)
        self.memory: OrderedDict = OrderedDict()
        self.memory_tiles = memory_tiles
        self.net = QNetworkAccessManager(self)
        self.net.setTransferTimeout(8000)
        self.pending: dict = {}
        self.queue: list = []
        self.failed: set = set()
        self.reported: set = set()
        self.sources: dict[str, TileSource] = {}
        self.fetched = 0
        self.from_disk = 0

    def path(self, source: TileSource, z: int, x: int, y: int) -> Path:
        return self.cache_dir / source.key / str(z) / str(x) / f"{y}.tile"

    def image(self, source: TileSource, z: int, x: int, y: int, fetch: bool = True) -> QImage | None:
        """The tile if it is in memory or on disk; otherwise None and (with ``fetch``) a request is queued."""
        k = (source.key, z, x, y)
        img = self.memory.get(k)
        if img is not None:
            self.memory.move_to_end(k)
            return img
        p = self.path(source, z, x, y)
        if p.exists():
            img = QImage(str(p))
            if not img.isNull():
                self._remember(k, img)
                self.from_disk += 1
                return img
        if fetch and k not in self.pending and k not in self.failed:
            self.sources[source.key] = source
            self.pending[k] = None
            self.queue.append(k)
            self._pump()
        return None

    def _remember(self, k, img: QImage) -> None:
        self.memory[k] = img
        self.memory.move_to_end(k)
        while len(self.memory) > self.memory_tiles:
            self.memory.popitem(last=False)

    def cancel_outside(self, keep: set) -> None:
        """Forget queued (not yet sent) requests no longer in view."""
        dropped = [k for k in self.queue if k not in keep]
        self.queue = [k for k in self.queue if k in keep]
        for k in dropped:
            self.pending.pop(k, None)

    def busy(self) -> bool:
        return bool(self.pending)

    def _pump(self) -> None:
        active = sum(1 for v in self.pending.values() if v is not None)
        while self.queue and active < MAX_PARALLEL:
            k = self.queue.pop(0)
            source = self.sources[k[0]]
            req = QNetworkRequest(QUrl(source.tile_url(*k[1:])))
            req.setHeader(QNetworkRequest.KnownHeaders.UserAgentHeader, "Mozilla/5.0 (riskmap desktop GIS)")
            req.setAttribute(QNetworkRequest.Attribute.RedirectPolicyAttribute,
                             QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy)
            reply = self.net.get(req)
            self.pending[k] = reply
            reply.finished.connect(lambda k=k, reply=reply: self._finished(k, reply))
            active += 1

    def _finished(self, k, reply: QNetworkReply) -> None:
        self.pending.pop(k, None)
        source = self.sources.get(k[0])
        data = bytes(reply.readAll().data())
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        error = reply.error()
        reply.deleteLater()
        img = QImage.fromData(data) if data and error == QNetworkReply.NetworkError.NoError else QImage()
        if img.isNull():
            self.failed.add(k)
            if source is not None and source.key not in self.reported:
                self.reported.add(source.key)
                reason = reply.errorString() if error != QNetworkReply.NetworkError.NoError else f"HTTP {status}"
                self.unavailable.emit(source.name, reason)
        else:
            p = self.path(source, *k[1:])
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                tmp = p.with_suffix(".part")
                tmp.write_bytes(data)
                tmp.replace(p)
            except OSError:
                pass  # a read-only cache only costs a refetch
            self._remember(k, img)
            self.fetched += 1
            self.tileReady.emit(k[0], *k[1:])
        self._pump()


class TileLayer:
    """A tile source shown on the map (state only; the canvas draws it)."""

    def __init__(self, source: TileSource, visible: bool = True, opacity: float = 1.0):
        self.source = source
        self.visible = visible
        self.opacity = opacity

    @property
    def id(self) -> str:
        return "tiles:" + self.source.key
