"""KML / KMZ export with the four colours kept, for Google Earth and 奥维互动地图.

Each layer is a folder, each level (or category) a sub-folder with a shared style. KML colours are
written ``aabbggrr``. Point symbols are small white PNG shapes tinted by the style colour; a KMZ
carries them inside, a KML beside it in ``<name>_files/``. All user text is XML-escaped.

>>> kml_colour("#FF8C00", 0.5)
'80008cff'
"""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import shapely

from riskmap.atomic import atomic_path
from riskmap.export.base import ExportLayer, ExportSource, Steps, export_steps, text_value, typed_frame
from riskmap.marks import DEMO_NOTE, demo_title
from riskmap.qml import class_series, declares_no_fill, style_classes

ICON_PX = 32
KML_NS = "http://www.opengis.net/kml/2.2"


def kml_colour(hex_colour: str, opacity: float = 1.0) -> str:
    """``#RRGGBB`` and an opacity → KML's ``aabbggrr``."""
    h = hex_colour.lstrip("#")
    a = round(255 * max(0.0, min(1.0, opacity)))
    return f"{a:02x}{h[4:6]}{h[2:4]}{h[0:2]}".lower()


# ------------------------------------------------------------------ icons (pure-Python PNG)
def _shape_mask(symbol: str, n: int = ICON_PX) -> np.ndarray:
    """An n×n boolean mask of a marker shape (circle, square, diamond, triangle, star)."""
    yy, xx = np.mgrid[0:n, 0:n] + 0.5
    x, y = (xx - n / 2) / (n / 2), (n / 2 - yy) / (n / 2)  # -1..1, y up
    if symbol == "square":
        return (abs(x) <= 0.8) & (abs(y) <= 0.8)
    if symbol == "diamond":
        return abs(x) + abs(y) <= 0.95
    if symbol == "triangle":
        return (y >= -0.75) & (y <= 0.95 - 1.7 * abs(x))
    if symbol == "star":
        ang = np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, 0.98, 0.42)
        star = shapely.Polygon(np.column_stack([rad * np.cos(ang), rad * np.sin(ang) - 0.08]))
        return shapely.contains_xy(star, x, y)
    return np.hypot(x, y) <= 0.9


def marker_png(symbol: str, n: int = ICON_PX) -> bytes:
    """A white marker with a dark outline on a transparent background, as PNG bytes."""
    inner = _shape_mask(symbol, n)
    grown = np.zeros_like(inner)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            grown |= np.roll(np.roll(inner, dy, 0), dx, 1)
    edge = grown & ~_shape_mask_eroded(inner)
    rgba = np.zeros((n, n, 4), dtype=np.uint8)
    rgba[inner] = (255, 255, 255, 255)
    rgba[edge] = (40, 40, 40, 255)
    return png_bytes(rgba)


def _shape_mask_eroded(mask: np.ndarray) -> np.ndarray:
    out = mask.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out &= np.roll(np.roll(mask, dy, 0), dx, 1)
    return out


def png_bytes(rgba: np.ndarray) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG."""
    h, w, _ = rgba.shape
    raw = np.hstack([np.zeros((h, 1), dtype=np.uint8), rgba.reshape(h, w * 4)]).tobytes()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# ------------------------------------------------------------------ geometry
def _coords(arr: np.ndarray) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y in arr[:, :2])


def _ring(ring) -> str:
    return f"<LinearRing><coordinates>{_coords(np.asarray(ring.coords))}</coordinates></LinearRing>"


def geometry_kml(geom) -> str:
    """KML for a shapely geometry (multi-part geometries become MultiGeometry)."""
    t = geom.geom_type
    if t == "Point":
        return f"<Point><coordinates>{geom.x:.7f},{geom.y:.7f}</coordinates></Point>"
    if t == "LineString":
        return f"<LineString><tessellate>1</tessellate><coordinates>{_coords(np.asarray(geom.coords))}</coordinates></LineString>"
    if t == "Polygon":
        inner = "".join(f"<innerBoundaryIs>{_ring(r)}</innerBoundaryIs>" for r in geom.interiors)
        return f"<Polygon><outerBoundaryIs>{_ring(geom.exterior)}</outerBoundaryIs>{inner}</Polygon>"
    parts = shapely.get_parts(geom)
    return "<MultiGeometry>" + "".join(geometry_kml(p) for p in parts) + "</MultiGeometry>"


# ------------------------------------------------------------------ styles
def _style_xml(x: ExportLayer, sid: str, colour: str, icon_href: str | None) -> str:
    st = x.layer.style
    if x.layer.geometry == "point":
        scale = max(0.4, st.size_mm / 3.0)
        return (f'<Style id="{sid}"><IconStyle><color>{kml_colour(colour)}</color><scale>{scale:.2f}</scale>'
                f"<Icon><href>{escape(icon_href or '')}</href></Icon></IconStyle>"
                "<LabelStyle><scale>0</scale></LabelStyle></Style>")
    width = max(1.0, st.stroke_width_mm * 3.78)  # mm → screen pixels at 96 dpi
    if x.layer.geometry == "line":
        return f'<Style id="{sid}"><LineStyle><color>{kml_colour(colour)}</color><width>{width:.1f}</width></LineStyle></Style>'
    if st.type == "single":
        fill, line = st.fill, st.stroke or colour
    elif declares_no_fill(x.layer):
        fill, line = None, colour
    else:
        fill, line = colour, st.stroke or colour
    poly = (f"<PolyStyle><color>{kml_colour(fill, st.fill_opacity)}</color><fill>1</fill><outline>1</outline></PolyStyle>"
            if fill else "<PolyStyle><fill>0</fill><outline>1</outline></PolyStyle>")
    return f'<Style id="{sid}"><LineStyle><color>{kml_colour(line)}</color><width>{width:.1f}</width></LineStyle>{poly}</Style>'


def _placemark(name: str, sid: str, fields: list[tuple[str, str]], geom_xml: str) -> str:
    data = "".join(f'<Data name="{escape(k, {chr(34): "&quot;"})}"><displayName>{escape(t)}</displayName>'
                   f"<value>{escape(v)}</value></Data>" for k, t, v in fields)
    return (f"<Placemark><name>{escape(name)}</name><styleUrl>#{sid}</styleUrl>"
            f"<ExtendedData>{data}</ExtendedData>{geom_xml}</Placemark>\n")


def _name_field(x: ExportLayer) -> str:
    if x.layer.label is not None:
        return x.layer.label.field
    return "name" if "name" in x.gdf else "id"


def write_kml(fh, src: ExportSource, icon_dir: str, steps: Steps) -> set[str]:
    """Write the KML document to the text stream ``fh``; return the marker symbols used."""
    title = demo_title(src.name, src.is_demo)
    fh.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{KML_NS}">\n<Document>\n<name>{escape(title)}</name>\n'
             "<open>1</open>\n")
    desc = DEMO_NOTE + " " if src.is_demo else ""
    fh.write(f"<description>{escape(desc + '坐标系 CGCS2000 (EPSG:4490)；由 riskmap 导出。')}</description>\n")
    symbols: set[str] = set()
    for x in src.layers:
        steps.check()
        classes = style_classes(x.layer)
        sym = x.layer.style.symbol if x.layer.geometry == "point" else None
        if sym:
            symbols.add(sym)
        sids = {}
        for i, (value, _, colour) in enumerate(classes):
            sid = f"{x.id}_{i}"
            sids[value] = sid
            fh.write(_style_xml(x, sid, colour, f"{icon_dir}/{sym}.png" if sym else None) + "\n")
        df = typed_frame(x)
        cols = [c for c in df.columns if c != df.geometry.name]
        titles = [(c, x.field_title(c)) for c in cols]
        cls = class_series(x.layer, df)
        name_col = _name_field(x)
        fh.write(f"<Folder><name>{escape(x.layer.name_zh)}（{len(df)}）</name>\n")
        for value, label, _ in classes:
            mask = (cls == value).to_numpy()
            n = int(mask.sum())
            if not n:
                continue
            if len(classes) > 1:
                fh.write(f"<Folder><name>{escape(label)}（{n}）</name>\n")
            sub = df[mask]
            for rec, geom in zip(sub[cols].to_dict("records"), sub.geometry.values):
                fields = [(c, t, text_value(rec[c])) for c, t in titles]
                name = text_value(rec.get(name_col)) or x.layer.name_zh
                fh.write(_placemark(name, sids[value], fields, geometry_kml(geom)))
            if len(classes) > 1:
                fh.write("</Folder>\n")
        fh.write("</Folder>\n")
        steps.step(x.layer.name_zh)
    fh.write("</Document>\n</kml>\n")
    return symbols


def export_kml(src: ExportSource, out: str | os.PathLike, *, progress=None, cancel=None) -> None:
    """Write ``out`` as KMZ (zip with doc.kml and its icons) when it ends in .kmz, else as KML."""
    out = Path(out)
    steps = export_steps(progress, cancel, len(src.layers))
    if out.suffix.lower() == ".kmz":
        with atomic_path(out) as tmp:
            doc = tmp.parent / "doc.kml"
            with open(doc, "w", encoding="utf-8") as fh:
                symbols = write_kml(fh, src, "files", steps)
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.write(doc, "doc.kml")  # the first entry: what readers open
                for s in sorted(symbols):
                    zf.writestr(f"files/{s}.png", marker_png(s))
        return
    icon_dir = f"{out.stem}_files"
    with atomic_path(out) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            symbols = write_kml(fh, src, icon_dir, steps)
        folder = out.parent / icon_dir
        folder.mkdir(exist_ok=True)
        for s in sorted(symbols):
            (folder / f"{s}.png").write_bytes(marker_png(s))
