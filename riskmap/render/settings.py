"""Map settings: what part of the map is painted into how many pixels at what resolution.

>>> s = MapSettings((0, 0, 10_000, 10_000), 1000, 1000, dpi=96, crs_epsg=4544)
>>> round(s.scale_denominator())
37795
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from riskmap.errors import RiskmapError

INCH_M = 0.0254


@dataclass(frozen=True)
class MapSettings:
    """A view of the map: ``extent`` (xmin, ymin, xmax, ymax) in the map CRS (metres), painted into
    ``width_px`` × ``height_px`` pixels of ``dpi`` dots per inch, north up.

    The extent is widened about its centre to the pixel aspect ratio, so the requested extent is
    always wholly visible and pixels are square.
    """

    extent: tuple[float, float, float, float]
    width_px: int
    height_px: int
    dpi: float = 96.0
    crs_epsg: int = 4544
    background: str = "#FFFFFF"
    lang: str = "zh"

    def __post_init__(self):
        w, h = int(self.width_px), int(self.height_px)
        if w <= 0 or h <= 0:
            raise RiskmapError("地图尺寸须大于零", f"map size must be positive, got {w}×{h}")
        if not self.dpi or self.dpi <= 0:
            raise RiskmapError("分辨率须大于零", f"dpi must be positive, got {self.dpi}")
        xmin, ymin, xmax, ymax = (float(v) for v in self.extent)
        if not np.all(np.isfinite([xmin, ymin, xmax, ymax])):
            raise RiskmapError("地图范围无效", f"invalid map extent {self.extent}")
        if xmax < xmin:
            xmin, xmax = xmax, xmin
        if ymax < ymin:
            ymin, ymax = ymax, ymin
        res = max((xmax - xmin) / w, (ymax - ymin) / h)
        if res <= 0:
            res = 1.0  # a single point: one metre per pixel around it
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        half_w, half_h = res * w / 2, res * h / 2
        object.__setattr__(self, "extent", (cx - half_w, cy - half_h, cx + half_w, cy + half_h))
        object.__setattr__(self, "width_px", w)
        object.__setattr__(self, "height_px", h)
        object.__setattr__(self, "dpi", float(self.dpi))
        object.__setattr__(self, "crs_epsg", int(self.crs_epsg))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def at_scale(cls, centre: tuple[float, float], scale_denominator: float, width_px: int, height_px: int,
                 dpi: float = 96.0, **kw) -> "MapSettings":
        """Settings centred on ``centre`` at the scale 1:``scale_denominator``."""
        res = scale_denominator * INCH_M / dpi
        cx, cy = centre
        half_w, half_h = res * width_px / 2, res * height_px / 2
        return cls((cx - half_w, cy - half_h, cx + half_w, cy + half_h), width_px, height_px, dpi, **kw)

    # ------------------------------------------------------------------ measures
    @property
    def resolution(self) -> float:
        """Map units (metres) per pixel."""
        return (self.extent[2] - self.extent[0]) / self.width_px

    @property
    def centre(self) -> tuple[float, float]:
        xmin, ymin, xmax, ymax = self.extent
        return (xmin + xmax) / 2, (ymin + ymax) / 2

    def scale_denominator(self) -> float:
        """Ground metres per paper metre: one pixel is 0.0254/dpi m on paper."""
        return self.resolution * self.dpi / INCH_M

    def px_per_mm(self) -> float:
        """Pixels per millimetre of paper at this dpi."""
        return self.dpi / 25.4

    def mm_to_px(self, mm: float) -> float:
        return mm * self.dpi / 25.4

    # ------------------------------------------------------------------ transforms
    def map_to_pixel(self, x, y=None):
        """Map coordinates → pixel coordinates (origin top-left, y down); vectorised.

        Either ``map_to_pixel(x, y)`` → ``(px, py)`` or ``map_to_pixel(xy)`` with an (n, 2) array → (n, 2).
        """
        xmin, _, _, ymax = self.extent
        inv = 1.0 / self.resolution
        if y is None:
            xy = np.asarray(x, dtype=np.float64)
            out = np.empty_like(xy)
            out[..., 0] = (xy[..., 0] - xmin) * inv
            out[..., 1] = (ymax - xy[..., 1]) * inv
            return out
        return (np.asarray(x, dtype=np.float64) - xmin) * inv, (ymax - np.asarray(y, dtype=np.float64)) * inv

    def pixel_to_map(self, px, py=None):
        """Pixel coordinates → map coordinates; the inverse of :meth:`map_to_pixel`, same call forms."""
        xmin, _, _, ymax = self.extent
        res = self.resolution
        if py is None:
            p = np.asarray(px, dtype=np.float64)
            out = np.empty_like(p)
            out[..., 0] = xmin + p[..., 0] * res
            out[..., 1] = ymax - p[..., 1] * res
            return out
        return xmin + np.asarray(px, dtype=np.float64) * res, ymax - np.asarray(py, dtype=np.float64) * res

    # ------------------------------------------------------------------ derived views
    def zoomed(self, factor: float, about: tuple[float, float] | None = None) -> "MapSettings":
        """Zoom in by ``factor`` (> 1 in, < 1 out), keeping the map point under pixel ``about`` in place."""
        if factor <= 0:
            raise RiskmapError("缩放倍数须大于零", f"zoom factor must be positive, got {factor}")
        px, py = about if about is not None else (self.width_px / 2, self.height_px / 2)
        mx, my = self.pixel_to_map(px, py)
        res = self.resolution / factor
        xmin = float(mx) - px * res
        ymax = float(my) + py * res
        return replace(self, extent=(xmin, ymax - res * self.height_px, xmin + res * self.width_px, ymax))

    def panned(self, dx_px: float, dy_px: float) -> "MapSettings":
        """The view after dragging the map content by (dx_px, dy_px) pixels (right, down)."""
        res = self.resolution
        xmin, ymin, xmax, ymax = self.extent
        dx, dy = dx_px * res, dy_px * res
        return replace(self, extent=(xmin - dx, ymin + dy, xmax - dx, ymax + dy))

    def resized(self, width_px: int, height_px: int) -> "MapSettings":
        """Same centre and resolution, another pixel size (a resized canvas)."""
        res = self.resolution
        cx, cy = self.centre
        hw, hh = res * width_px / 2, res * height_px / 2
        return replace(self, extent=(cx - hw, cy - hh, cx + hw, cy + hh), width_px=width_px, height_px=height_px)

    def with_dpi(self, dpi: float) -> "MapSettings":
        """Same extent and paper size at another dpi (pixel size scaled): e.g. screen → print."""
        f = dpi / self.dpi
        return replace(self, width_px=max(1, round(self.width_px * f)), height_px=max(1, round(self.height_px * f)),
                       dpi=dpi)

    def contains_xy(self, x, y, margin: float = 0.0):
        """Vectorised test: map points within the extent widened by ``margin`` map units."""
        xmin, ymin, xmax, ymax = self.extent
        return (x >= xmin - margin) & (x <= xmax + margin) & (y >= ymin - margin) & (y <= ymax + margin)
