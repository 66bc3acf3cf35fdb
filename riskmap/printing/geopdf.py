"""GeoPDF: a layout PDF whose map layers are optional content groups (OCGs) and whose map frame carries
geospatial registration, so a PDF reader toggles the layers and shows coordinates.

Qt's PDF writer knows nothing of optional content. So every part of a page is painted by Qt as a page of
its own in one temporary PDF (one document, so each font is embedded once and shared): the page
background, each catalogue layer of the map, the labels, the coordinate grid, the legend and the rest of the
layout. pikepdf then turns those pages into Form XObjects and draws them, in painting order, on one page
whose content wraps each layer's XObject in ``/OC /ocN BDC … EMC``:

- ``/OCProperties`` in the catalogue lists the groups, named in Chinese as UTF-16BE text strings with a
  byte order mark (PDF 32000 §7.9.2.2; written as PDFDocEncoding, the names come out garbled);
- the page's ``/VP`` array holds a viewport over the map frame (``/BBox`` in page points) with a
  ``/Measure`` dictionary of subtype ``/GEO`` (ISO 32000-2 §12.10): the frame's corners as latitude and
  longitude (``/GPTS``, CGCS2000) against the unit square of the viewport (``/LPTS``, ``/Bounds``), and the
  map's projected CRS (``/GCS`` of type ``/PROJCS`` with its EPSG code and WKT). GDAL's PDF driver reads it.

The page title, notes, legend text and labels stay text. A demo's 示例数据 mark and note are part of
the page itself, in no group, so no reader can hide them.

>>> bytes(layer_name_string("企业"))  # 企 U+4F01, 业 U+4E1A
b'\\xfe\\xffO\\x01N\\x1a'
"""

from __future__ import annotations

import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from pyproj import CRS
from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QPageLayout, QPageSize, QPainter, QPdfWriter

from riskmap.atomic import temp_prefix
from riskmap.crs import transformer
from riskmap.errors import RiskmapError
from riskmap.printing.compose import PagePainter
from riskmap.printing.output import page_size_pt
from riskmap.printing.pdf_fix import fix_pdf
from riskmap.progress import Steps
from riskmap.render.labels import draw_labels
from riskmap.render.painter import drawn_layers, render

LABELS_GROUP = "注记"
GRID_GROUP = "经纬网"
LEGEND_GROUP = "图例"
MAP_VIEWPORT = "地图"
_CM = re.compile(rb"(-?[\d.]+) 0 0 (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) cm")


@dataclass
class Part:
    """One part of a page, painted as its own Qt page; ``group`` None: always shown (no OCG)."""

    group: str | None
    paint: object  # callable(painter) -> bool: whether anything was drawn
    key: str = ""
    drawn: bool = True


@dataclass
class PagePlan:
    pp: PagePainter
    parts: list[Part] = field(default_factory=list)


def layer_name_string(name: str) -> pikepdf.String:
    """A PDF text string in UTF-16BE with its byte order mark (readers decode every non-ASCII name right)."""
    return pikepdf.String(b"\xfe\xff" + name.encode("utf-16-be"))


# ------------------------------------------------------------------------------------------ painting
@contextmanager
def _in_map(pp: PagePainter, painter: QPainter):
    """Painter clipped to the map frame with the frame's top-left corner at (0, 0)."""
    r = pp.map_rect
    painter.save()
    try:
        painter.setClipRect(r, Qt.ClipOperation.IntersectClip)
        painter.translate(r.x(), r.y())
        yield
    finally:
        painter.restore()


def page_parts(pp: PagePainter, *, cancel=None, lang: str = "zh") -> list[Part]:
    """The parts of one layout page in painting order (the order of :meth:`PagePainter.paint`)."""
    parts: list[Part] = []

    def background(painter):
        painter.fillRect(QRectF(0, 0, pp.width_px, pp.height_px), QColor("#FFFFFF"))
        return True

    parts.append(Part(None, background, "background"))
    if pp.map_item is not None:
        s = pp.settings
        for layer in drawn_layers(pp.content.layers):
            def one(painter, layer=layer):
                with _in_map(pp, painter):
                    stats = render(painter, s, [layer], labels=False, cancel=cancel)
                return bool(stats.features.get(layer.id))

            parts.append(Part(layer.layer_def.title(lang), one, f"layer:{layer.id}"))

        def labels(painter):
            placed = pp.placed_labels()
            with _in_map(pp, painter):
                draw_labels(painter, s, placed, raster=False)
            return bool(placed)

        parts.append(Part(LABELS_GROUP, labels, "labels"))

        def highlight(painter):
            with _in_map(pp, painter):
                pp.paint_highlight(painter)
            return pp.content.highlight is not None

        parts.append(Part(None, highlight, "highlight"))
        if pp.has_grid():
            def grid(painter):
                with _in_map(pp, painter):
                    pp.paint_grid(painter)
                return True

            parts.append(Part(GRID_GROUP, grid, "grid"))

        def frame(painter):
            with _in_map(pp, painter):
                pp.paint_watermark(painter)
            pp.paint_frame(painter)
            return True

        parts.append(Part(None, frame, "frame"))
    for item in pp.page.items:
        if item.type == "map":
            continue

        def one_item(painter, item=item):
            pp.paint_item(painter, item)
            return True

        parts.append(Part(LEGEND_GROUP if item.type == "legend" else None, one_item, f"item:{item.type}"))
    return _merged(parts)


def _merged(parts: list[Part]) -> list[Part]:
    """Neighbouring parts outside any group painted as one (fewer pages and XObjects, same drawing)."""
    out: list[Part] = []
    for part in parts:
        if out and part.group is None and out[-1].group is None:
            prev = out[-1]

            def both(painter, a=prev.paint, b=part.paint):
                first = a(painter)
                return b(painter) or first

            out[-1] = Part(None, both, f"{prev.key}+{part.key}")
        else:
            out.append(part)
    return out


def _paint_parts(plans: list[PagePlan], path: Path, title: str, steps: Steps) -> None:
    """Every part of every page as one Qt PDF page (same size as its layout page)."""
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("riskmap")
    writer.setResolution(int(round(plans[0].pp.dpi)))
    painter = None
    total = sum(len(p.parts) for p in plans)
    done = 0
    try:
        for plan in plans:
            w_mm, h_mm = plan.pp.page.size_mm
            size = QPageSize(QSizeF(w_mm, h_mm), QPageSize.Unit.Millimeter, plan.pp.page.paper,
                             QPageSize.SizeMatchPolicy.ExactMatch)
            layout = QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
            for part in plan.parts:
                writer.setPageLayout(layout)
                if painter is None:
                    painter = QPainter()
                    if not painter.begin(writer):
                        raise RiskmapError(f"无法写入 PDF: {path}", f"cannot write PDF: {path}")
                else:
                    writer.newPage()
                painter.save()
                try:
                    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
                    painter.setClipRect(QRectF(0, 0, plan.pp.width_px, plan.pp.height_px))
                    part.drawn = bool(part.paint(painter))
                finally:
                    painter.restore()
                done += 1
                steps.report(done / total, f"第 {done}/{total} 部分")
                steps.check()
    finally:
        if painter is not None and painter.isActive():
            painter.end()


# ------------------------------------------------------------------------------------------ geo registration
def frame_corners_lonlat(pp: PagePainter) -> dict[str, tuple[float, float]]:
    """Longitude and latitude (CGCS2000) of the map frame's corners: ul, ll, lr, ur."""
    xmin, ymin, xmax, ymax = pp.settings.extent
    to_geo = transformer(pp.content.epsg, CRS.from_epsg(pp.content.epsg).geodetic_crs)
    corners = {"ul": (xmin, ymax), "ll": (xmin, ymin), "lr": (xmax, ymin), "ur": (xmax, ymax)}
    return {k: tuple(float(v) for v in to_geo.transform(x, y)) for k, (x, y) in corners.items()}


def _qt_transform(page: pikepdf.Page) -> tuple[float, float, float]:
    """(scale, y offset, x offset) of Qt's initial ``sx 0 0 -sy x y cm``: pixel → page point."""
    data = page.obj.Contents.read_bytes() if not isinstance(page.obj.Contents, pikepdf.Array) \
        else page.obj.Contents[0].read_bytes()
    m = _CM.search(data[:400])
    if not m:
        raise RiskmapError("PDF 页面变换无法识别", "cannot read the PDF page transform")
    sx, sy, tx, ty = (float(v) for v in m.groups())
    if abs(sx + sy) > 1e-9:  # expected: sx = -sy (y down)
        raise RiskmapError("PDF 页面变换无法识别", "unexpected PDF page transform")
    return sx, ty, tx


def viewport(pdf: pikepdf.Pdf, pp: PagePainter, scale: float, y0: float, x0: float) -> pikepdf.Dictionary:
    """The map frame's viewport dictionary with its /GEO measure."""
    r = pp.map_rect
    bbox = [x0 + r.left() * scale, y0 - r.bottom() * scale, x0 + r.right() * scale, y0 - r.top() * scale]
    c = frame_corners_lonlat(pp)
    gpts = []
    for k in ("ul", "ll", "lr", "ur"):  # latitude, longitude pairs
        lon, lat = c[k]
        gpts += [lat, lon]
    crs = CRS.from_epsg(pp.content.epsg)
    unit = [0, 1, 0, 0, 1, 0, 1, 1]  # ul, ll, lr, ur of the viewport's unit square
    gcs = pikepdf.Dictionary(Type=pikepdf.Name("/PROJCS" if crs.is_projected else "/GEOGCS"),
                             EPSG=int(pp.content.epsg), WKT=pikepdf.String(crs.to_wkt("WKT1_ESRI")))
    measure = pikepdf.Dictionary(Type=pikepdf.Name.Measure, Subtype=pikepdf.Name("/GEO"),
                                 Bounds=pikepdf.Array(unit), LPTS=pikepdf.Array(unit),
                                 GPTS=pikepdf.Array([round(v, 12) for v in gpts]),
                                 GCS=pdf.make_indirect(gcs),
                                 PDU=pikepdf.Array([pikepdf.Name.M, pikepdf.Name("/SQM"), pikepdf.Name("/DEG")]))
    return pikepdf.Dictionary(Type=pikepdf.Name("/Viewport"), BBox=pikepdf.Array([round(v, 6) for v in bbox]),
                              Name=layer_name_string(MAP_VIEWPORT), Measure=pdf.make_indirect(measure))


# ------------------------------------------------------------------------------------------ combining
def _form_of(pdf: pikepdf.Pdf, page: pikepdf.Page) -> pikepdf.Stream:
    """The page as a Form XObject; Qt's one compressed content stream is copied as it is (qpdf's own
    conversion decodes it, and compressing it again costs seconds on a large map)."""
    contents = page.obj.get("/Contents")
    if not isinstance(contents, pikepdf.Stream):
        return page.as_form_xobject()
    form = pdf.make_stream(b"")
    filt, parms = contents.get("/Filter"), contents.get("/DecodeParms")
    if filt is None:
        form.write(contents.read_raw_bytes())
    else:
        form.write(contents.read_raw_bytes(), filter=filt, decode_parms=parms)
    form.Type = pikepdf.Name.XObject
    form.Subtype = pikepdf.Name.Form
    form.BBox = page.obj.MediaBox
    form.Resources = page.obj.Resources
    return form


def _combine(src: Path, out: Path, plans: list[PagePlan]) -> dict:
    """Draw each page's part pages as Form XObjects on one page; OCGs and viewports; write ``out``."""
    groups: dict[str, pikepdf.Object] = {}
    order: list[str] = []
    with pikepdf.open(src) as pdf:
        parts_pages = list(pdf.pages)
        new_pages = []
        i = 0
        for plan in plans:
            first = parts_pages[i]
            scale, y0, x0 = _qt_transform(first)
            xobjects, props, content = pikepdf.Dictionary(), pikepdf.Dictionary(), []
            for k, part in enumerate(plan.parts):
                page = parts_pages[i + k]
                if not part.drawn:
                    continue
                form = _form_of(pdf, page)
                name = f"/P{k}"
                if part.group is None:
                    xobjects[name] = form
                    content.append(f"q {name} Do Q")
                    continue
                if part.group not in groups:
                    groups[part.group] = pdf.make_indirect(pikepdf.Dictionary(
                        Type=pikepdf.Name("/OCG"), Name=layer_name_string(part.group),
                        Intent=pikepdf.Name("/View")))
                    order.append(part.group)
                ocg = groups[part.group]
                tag = f"/oc{order.index(part.group)}"
                form.OC = ocg
                xobjects[name] = form
                props[tag] = ocg
                content.append(f"q /OC {tag} BDC {name} Do EMC Q")
            i += len(plan.parts)
            page_dict = pikepdf.Dictionary(
                Type=pikepdf.Name.Page, MediaBox=first.obj.MediaBox,
                Resources=pikepdf.Dictionary(XObject=xobjects, Properties=props),
                Contents=pdf.make_stream("\n".join(content).encode("ascii")))
            if "/TrimBox" in first.obj:
                page_dict.TrimBox = first.obj.TrimBox
            if plan.pp.map_item is not None and plan.pp.settings is not None:
                page_dict.VP = pikepdf.Array([viewport(pdf, plan.pp, scale, y0, x0)])
            new_pages.append(pikepdf.Page(page_dict))
        for _ in range(len(parts_pages)):
            del pdf.pages[0]
        for page in new_pages:
            pdf.pages.append(page)
        # painting order bottom → top; a reader's layer list shows the top layer first
        ocgs = [groups[g] for g in order]
        pdf.Root.OCProperties = pikepdf.Dictionary(
            OCGs=pikepdf.Array(ocgs),
            D=pikepdf.Dictionary(Name=layer_name_string("图层"), Order=pikepdf.Array(list(reversed(ocgs))),
                                 ON=pikepdf.Array(ocgs), OFF=pikepdf.Array([]),
                                 BaseState=pikepdf.Name.ON))
        # Qt's streams are written as they are (already compressed: decoding and compressing them again
        # would double the time), the new page contents compressed; objects nobody references are dropped.
        # Optional content is PDF 1.5; the geospatial measure Adobe's extension level 3 to PDF 1.7 (qpdf
        # writes the catalogue's /Extensions /ADBE for it), ISO 32000-2 §12.10 since.
        pdf.save(out, compress_streams=True, stream_decode_level=pikepdf.StreamDecodeLevel.none,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate, min_version=("1.7", 3))
    return {"groups": order, "pages": len(plans)}


def write_geopdf(pages: list[PagePainter], path: str | Path, *, title: str, steps: Steps | None = None,
                 lang: str = "zh") -> dict:
    """All pages into one GeoPDF at ``path``: layers as optional content groups, the map frame georeferenced.

    Returns {'groups': [names, painting order], 'pages': n}.
    """
    if not pages:
        raise RiskmapError("没有要输出的页面", "no pages to write")
    steps = steps or Steps(None, None)
    plans = [PagePlan(pp, page_parts(pp, cancel=steps.cancel, lang=lang)) for pp in pages]
    path = Path(path)
    # the Qt pages beside the output, under riskmap's temporary name (a killed run's leftover is cleaned)
    with tempfile.TemporaryDirectory(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent) as tmp:
        parts_pdf = Path(tmp) / "parts.pdf"
        _paint_parts(plans, parts_pdf, title, steps.sub(0.0, 0.9))
        for size in {page_size_pt(pp.page.size_mm) for pp in pages}:
            fix_pdf(parts_pdf, size)
        result = _combine(parts_pdf, path, plans)
    steps.report(1.0, "完成")
    return result
