"""Layout pages to files: PDF (vector, CJK font embedded, exact page size, several pages for an atlas),
PNG (painted in horizontal strips and encoded row by row, so an A0 sheet at 300 dpi needs tens of MB,
not gigabytes) and SVG.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator

from riskmap.errors import RiskmapError
from riskmap.printing.compose import PagePainter
from riskmap.printing.pdf_fix import fix_pdf
from riskmap.progress import EXPORT_CANCELLED, Steps, check_cancel

MM_PER_PT = 25.4 / 72.0
STRIP_BYTES = 32 * 1024 * 1024  # one strip image: about 32 MB


def page_size_pt(size_mm: tuple[float, float]) -> tuple[float, float]:
    return size_mm[0] / MM_PER_PT, size_mm[1] / MM_PER_PT


def write_pdf(pages: list[PagePainter], path: str | Path, *, title: str, steps: Steps | None = None) -> None:
    """All pages into one PDF (pages may differ in size). The title is the document title."""
    if not pages:
        raise RiskmapError("没有要输出的页面", "no pages to write")
    steps = steps or Steps(None, None)
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("riskmap")
    writer.setResolution(int(round(pages[0].dpi)))
    painter = None
    try:
        for i, pp in enumerate(pages):
            w_mm, h_mm = pp.page.size_mm
            size = QPageSize(QSizeF(w_mm, h_mm), QPageSize.Unit.Millimeter, pp.page.paper,
                             QPageSize.SizeMatchPolicy.ExactMatch)
            layout = QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
            if painter is None:
                writer.setPageLayout(layout)
                painter = QPainter()
                if not painter.begin(writer):
                    raise RiskmapError(f"无法写入 PDF: {path}", f"cannot write PDF: {path}")
            else:
                writer.setPageLayout(layout)
                writer.newPage()
            sub = steps.sub(i / len(pages), (i + 1) / len(pages))
            pp.paint(painter, cancel=steps.cancel, progress=lambda f, s=sub: s.report(f, f"第 {i + 1} 页"))
            steps.check()
    finally:
        if painter is not None and painter.isActive():
            painter.end()
    sizes = {page_size_pt(pp.page.size_mm) for pp in pages}
    for size in sizes:
        fix_pdf(path, size)
    if not sizes:
        fix_pdf(path)


def write_svg(pp: PagePainter, path: str | Path, *, title: str, description: str = "",
              steps: Steps | None = None) -> None:
    """One page as SVG (vector; text stays text)."""
    steps = steps or Steps(None, None)
    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(pp.width_px, pp.height_px))
    gen.setViewBox(QRectF(0, 0, pp.width_px, pp.height_px))
    gen.setResolution(int(round(pp.dpi)))
    gen.setTitle(title)
    gen.setDescription(description)
    painter = QPainter()
    if not painter.begin(gen):
        raise RiskmapError(f"无法写入 SVG: {path}", f"cannot write SVG: {path}")
    try:
        pp.paint(painter, cancel=steps.cancel, progress=lambda f: steps.report(f, "绘制"))
    finally:
        painter.end()
    steps.check()


# ------------------------------------------------------------------------------------------ PNG
def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _itxt(key: str, text: str) -> bytes:
    return _chunk(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8"))


class PngRowWriter:
    """A streaming RGB PNG encoder: write rows top to bottom, never holding the whole image.

    Rows are compressed on a worker thread (zlib releases the GIL), so the next strip paints meanwhile;
    at most one strip waits for compression.
    """

    def __init__(self, fh, width: int, height: int, dpi: float, texts: dict[str, str] | None = None,
                 level: int = 4):
        from concurrent.futures import ThreadPoolExecutor

        self.fh, self.width, self.height = fh, width, height
        self.rows = 0
        self.z = zlib.compressobj(level)
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending = None
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        ppm = int(round(dpi / 0.0254))
        fh.write(_chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)))
        for key, text in (texts or {}).items():
            fh.write(_itxt(key, text))

    def _compress(self, raw: bytes) -> None:
        data = self.z.compress(raw)
        if data:
            self.fh.write(_chunk(b"IDAT", data))

    def _wait(self) -> None:
        if self.pending is not None:
            self.pending.result()
            self.pending = None

    def write_rows(self, rgb: np.ndarray) -> None:
        """rgb: (rows, width, 3) uint8 (copied; the caller may reuse its buffer)."""
        h = rgb.shape[0]
        raw = np.empty((h, self.width * 3 + 1), dtype=np.uint8)
        raw[:, 0] = 0  # filter: none
        raw[:, 1:] = rgb.reshape(h, self.width * 3)
        self._wait()
        self.pending = self.pool.submit(self._compress, raw.tobytes())
        self.rows += h

    def close(self) -> None:
        try:
            self._wait()
        finally:
            self.pool.shutdown(wait=True)
        if self.rows != self.height:
            raise RiskmapError("PNG 行数不符", f"PNG has {self.rows} of {self.height} rows")
        self.fh.write(_chunk(b"IDAT", self.z.flush()))
        self.fh.write(_chunk(b"IEND", b""))

    def abort(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def strip_height(width_px: int) -> int:
    return max(16, min(4096, STRIP_BYTES // (4 * max(width_px, 1))))


def write_png(pp: PagePainter, path: str | Path, *, title: str, description: str = "",
              steps: Steps | None = None) -> dict:
    """The page as an RGB PNG at ``pp.dpi``, painted strip by strip; returns {'strips': n, 'strip_px': h}."""
    steps = steps or Steps(None, None)
    w, h = pp.width_px, pp.height_px
    sh = strip_height(w)
    dpm = int(round(pp.dpi / 0.0254))
    with open(path, "wb") as fh:
        out = PngRowWriter(fh, w, h, pp.dpi, {"Title": title, "Description": description, "Software": "riskmap"})
        try:
            n = _paint_strips(pp, out, w, h, sh, dpm, steps)
        except BaseException:
            out.abort()
            raise
        out.close()
    return {"strips": n, "strip_px": sh}


def _paint_strips(pp: PagePainter, out: PngRowWriter, w: int, h: int, sh: int, dpm: int, steps: Steps) -> int:
    """Paint the page in strips of ``sh`` rows into one reused image and hand each to the encoder."""
    n = 0
    img = QImage(w, sh, QImage.Format.Format_RGB32)
    img.setDotsPerMeterX(dpm)
    img.setDotsPerMeterY(dpm)
    for y0 in range(0, h, sh):
        y1 = min(h, y0 + sh)
        check_cancel(steps.cancel, EXPORT_CANCELLED)
        painter = QPainter(img)
        try:
            painter.translate(0, -y0)
            pp.paint(painter, rows=(y0, y1), cancel=steps.cancel)
        finally:
            painter.end()
        strip = img if y1 - y0 == sh else img.copy(0, 0, w, y1 - y0)
        conv = strip.convertToFormat(QImage.Format.Format_RGB888)
        stride = conv.bytesPerLine()
        arr = np.frombuffer(conv.constBits(), dtype=np.uint8, count=stride * (y1 - y0))
        out.write_rows(arr.reshape(y1 - y0, stride)[:, : w * 3].reshape(y1 - y0, w, 3))
        n += 1
        steps.report(y1 / h, f"{y1}/{h} 行")
    return n
