"""Hostile files, made on the spot: spreadsheets, shapefiles and JSON that once crashed or starved riskmap."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from riskmap.io.guard import column_letter

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
       '<Override PartName="/xl/sharedStrings.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
       '</Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
       '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'sharedStrings" Target="sharedStrings.xml"/></Relationships>')
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def write_xlsx(path: Path, strings: list[str], rows: list[list[int]], *, prolog: str = "",
               sheet_xml: str | None = None) -> Path:
    """A minimal XLSX: ``strings`` is the shared-string table, ``rows`` hold indexes into it per cell.
    ``prolog`` goes before the shared-string root (a DOCTYPE, say)."""
    sst = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<sst {_NS} count="{len(strings)}" '
           f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{s}</t></si>" for s in strings) + "</sst>")
    if sheet_xml is None:
        body = "".join(
            f'<row r="{r + 1}">' + "".join(f'<c r="{column_letter(c)}{r + 1}" t="s"><v>{k}</v></c>' for c, k in enumerate(row))
            + "</row>" for r, row in enumerate(rows))
        sheet_xml = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>{body}</sheetData></worksheet>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        z.writestr("xl/sharedStrings.xml", sst)
    return path


def xlsx_table(path: Path, header: list[str], body: list[list[str]], **kw) -> Path:
    """An XLSX holding ``header`` and ``body`` as shared strings."""
    strings, index = [], {}
    rows = []
    for row in [header] + body:
        out = []
        for v in row:
            v = escape(str(v))
            if v not in index:
                index[v] = len(strings)
                strings.append(v)
            out.append(index[v])
        rows.append(out)
    return write_xlsx(path, strings, rows, **kw)


def shared_string_bomb(path: Path, length: int = 8_000_000, cells: int = 500) -> Path:
    """One ``length``-character shared string used by ``cells`` cells under a 名称/经度/纬度 header."""
    strings = ["名称", "经度", "纬度", "A" * length]
    rows = [[0, 1, 2]] + [[3, 3, 3] for _ in range(-(-cells // 3))]
    return write_xlsx(path, strings, rows)


def shapefile(path: Path, n_shapes: int, n_records: int, points=None) -> Path:
    """A point shapefile (.shp/.shx/.dbf/.prj) with ``n_shapes`` shapes and ``n_records`` dbf rows."""
    pts = points or [(105.0 + 0.01 * i, 35.6 + 0.01 * i) for i in range(n_shapes)]
    pts = (pts * (n_shapes // len(pts) + 1))[:n_shapes]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    bbox = (min(xs), min(ys), max(xs), max(ys))
    rec_len = 4 + 16  # shape type + x, y (bytes)
    shp_len = 100 + n_shapes * (8 + rec_len)
    shx_len = 100 + n_shapes * 8

    def header(length_bytes: int) -> bytes:
        return (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length_bytes // 2) + struct.pack("<2i", 1000, 1)
                + struct.pack("<4d", *bbox) + struct.pack("<4d", 0, 0, 0, 0))

    shp, shx = bytearray(header(shp_len)), bytearray(header(shx_len))
    for i, (x, y) in enumerate(pts):
        shx += struct.pack(">2i", len(shp) // 2, rec_len // 2)
        shp += struct.pack(">2i", i + 1, rec_len // 2) + struct.pack("<i2d", 1, x, y)
    path.write_bytes(bytes(shp))
    path.with_suffix(".shx").write_bytes(bytes(shx))
    name_len = 20
    dbf = bytearray(struct.pack("<B3BIHH20x", 3, 124, 1, 1, n_records, 32 + 32 + 1, 1 + name_len))
    dbf += struct.pack("<11sc4xBB14x", b"NAME", b"C", name_len, 0) + b"\r"
    for i in range(n_records):
        dbf += b" " + f"site{i + 1}".encode().ljust(name_len)
    dbf += b"\x1a"
    path.with_suffix(".dbf").write_bytes(bytes(dbf))
    path.with_suffix(".prj").write_text(
        'GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],'
        'PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]')
    path.with_suffix(".cpg").write_text("UTF-8")
    return path


# ------------------------------------------------------------------------------- the suite's cases
HEADER = ["名称", "行业", "经度", "纬度"]
GOOD = [["甲加油站", "加油站", "105.10", "35.60"], ["乙加油站", "加油站", "105.20", "35.70"]]
XXE = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
LAUGHS = ('<!DOCTYPE x [<!ENTITY a "hahahahahahahahahaha">' + "".join(
    f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>")


def csv_text(rows) -> str:
    return "\n".join(",".join(r) for r in [HEADER] + rows) + "\n"


def geojson(points) -> str:
    """Features 名称/行业 at ``points`` (coordinates written as given, so NaN stays NaN)."""
    feats = [f'{{"type":"Feature","properties":{{"名称":"站{i}","行业":"加油站"}},'
             f'"geometry":{{"type":"Point","coordinates":[{x},{y}]}}}}' for i, (x, y) in enumerate(points)]
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def kml(prolog: str = "", name: str = "站") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f'<Placemark><name>{name}</name><Point><coordinates>105.1,35.6</coordinates></Point></Placemark>'
            '</Document></kml>')


def kmz(path: Path, doc: str, *, pad: int = 0) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("doc.kml", doc + " " * pad)
    return path


def make_case(name: str, folder: Path) -> Path:
    """The hostile file of case ``name`` in ``folder``."""
    f = folder
    if name == "empty.csv":
        (f / name).write_bytes(b"")
    elif name == "empty.xlsx":
        (f / name).write_bytes(b"")
    elif name == "empty.geojson":
        (f / name).write_bytes(b"")
    elif name == "truncated.xlsx":
        full = xlsx_table(f / "full.xlsx", HEADER, GOOD).read_bytes()
        (f / name).write_bytes(full[: len(full) // 2])
    elif name == "truncated.geojson":
        text = geojson([(105.1, 35.6), (105.2, 35.7)]).encode()
        (f / name).write_bytes(text[: len(text) // 2])
    elif name == "garbage.xlsx":
        (f / name).write_bytes(bytes(range(256)) * 40)
    elif name == "garbage.shp":
        (f / name).write_bytes(b"\x00\x00\x27\x0a" + bytes(range(256)) * 4)
    elif name == "nul.csv":
        (f / name).write_bytes(csv_text(GOOD).encode().replace("乙".encode(), b"\x00\x00\x00"))
    elif name == "mixed.csv":
        (f / name).write_bytes(csv_text(GOOD[:1]).encode("utf-8") + ",".join(GOOD[1]).encode("gbk") + b"\n")
    elif name == "lat91.csv":
        (f / name).write_text(csv_text(GOOD[:1] + [["丙加油站", "加油站", "105.3", "91.5"]]), encoding="utf-8")
    elif name == "lat91.geojson":
        (f / name).write_text(geojson([(105.1, 35.6), (105.2, 91.5)]), encoding="utf-8")
    elif name == "1e308.csv":
        (f / name).write_text(csv_text(GOOD[:1] + [["丙加油站", "加油站", "1e308", "1e308"]]), encoding="utf-8")
    elif name == "nan.geojson":
        (f / name).write_text(geojson([(105.1, 35.6), ("NaN", 35.7), (105.3, 35.8)]), encoding="utf-8")
    elif name == "folder.csv":
        (f / name).mkdir()
    elif name == "shp5_dbf2.shp":
        shapefile(f / name, 5, 2)
    elif name == "shp5_dbf9.shp":
        shapefile(f / name, 5, 9)
    elif name == "bomb.xlsx":
        shared_string_bomb(f / name)
    elif name == "longcell.xlsx":
        xlsx_table(f / name, HEADER, [["甲" * 32_768, "加油站", "105.1", "35.6"]])
    elif name == "manycells.xlsx":  # every cell under the cell limit, together over the total
        import random

        rnd = random.Random(1)
        s = "".join(rnd.choice("甲乙丙丁戊己庚辛壬癸") for _ in range(32_000))
        write_xlsx(f / name, HEADER + [s], [[0, 1, 2, 3]] + [[4, 4, 4, 4]] * 400)
    elif name == "farcells.xlsx":
        ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        write_xlsx(f / name, ["名称"], [], sheet_xml=(
            f'<?xml version="1.0"?><worksheet {ns}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
            '<row r="1048576"><c r="XFD1048576" t="s"><v>0</v></c></row></sheetData></worksheet>'))
    elif name == "xxe.xlsx":
        xlsx_table(f / name, HEADER, [["&e;", "加油站", "105.1", "35.6"]], prolog=XXE)
    elif name == "laughs.xlsx":
        xlsx_table(f / name, HEADER, [["&j;", "加油站", "105.1", "35.6"]], prolog=LAUGHS)
    elif name == "xxe.kml":
        (f / name).write_text(kml(XXE, "&e;"), encoding="utf-8")
    elif name == "laughs.kml":
        (f / name).write_text(kml(LAUGHS, "&j;"), encoding="utf-8")
    elif name == "laughs.kmz":
        kmz(f / name, kml(LAUGHS, "&j;"))
    elif name == "bomb.kmz":
        kmz(f / name, kml(), pad=50_000_000)
    else:
        raise KeyError(name)
    return f / name


CASES = ["empty.csv", "empty.xlsx", "empty.geojson", "truncated.xlsx", "truncated.geojson", "garbage.xlsx",
         "garbage.shp", "nul.csv", "mixed.csv", "lat91.csv", "lat91.geojson", "1e308.csv", "nan.geojson", "folder.csv",
         "shp5_dbf2.shp", "shp5_dbf9.shp", "bomb.xlsx", "longcell.xlsx", "manycells.xlsx", "farcells.xlsx",
         "xxe.xlsx", "laughs.xlsx", "xxe.kml", "laughs.kml", "laughs.kmz", "bomb.kmz"]
