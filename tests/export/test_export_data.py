"""Data exports read back by GDAL (pyogrio), ElementTree, ezdxf and openpyxl, counted against the store."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pyogrio
import pytest
import shapely

from riskmap.errors import RiskmapError
from riskmap.levels import load_levels
from riskmap.progress import Cancelled

KML = {"k": "http://www.opengis.net/kml/2.2"}


def level_counts_by_hand(ents):
    return {n: int((ents["level"] == n).sum()) for n in (1, 2, 3, 4)}


def rgb(hex_colour):
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


# ---------------------------------------------------------------------------------------- GeoPackage
def test_gpkg_reopens_in_gdal_with_counts_and_qgis_styles(demo_source, demo_tables, tmp_path):
    from riskmap.export.gpkg import export_gpkg

    out = tmp_path / "一张图.gpkg"
    export_gpkg(demo_source, out)
    layers = dict(pyogrio.list_layers(out))
    assert layers["enterprises"] == "Point" and layers["towns"] == "MultiPolygon"
    ents = pyogrio.read_dataframe(out, layer="enterprises")
    assert len(ents) == len(demo_tables["enterprises"])
    assert ents.crs.to_epsg() == 4490
    by_name = ents.set_index("name")["level"].to_dict()
    store = demo_tables["enterprises"].set_index("name")["level"].to_dict()
    assert by_name == store
    assert (ents["level_name"][ents["level"] == 1] == "重大风险").all()

    styles = pyogrio.read_dataframe(out, layer="layer_styles")
    assert set(styles["f_table_name"]) == {x.id for x in demo_source.layers}
    assert styles["useAsDefault"].astype(bool).all()
    qml = styles.set_index("f_table_name").loc["enterprises", "styleQML"]
    root = ET.fromstring(qml.split("\n", 1)[1])  # skip the DOCTYPE line
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "level"
    cats = {c.get("value"): c.get("symbol") for c in renderer.find("categories")}
    levels = load_levels().levels
    for n in (1, 2, 3, 4):
        sym = renderer.find(f"symbols/symbol[@name='{cats[str(n)]}']")
        colour = sym.find("layer/Option/Option[@name='color']").get("value")
        assert colour == "{},{},{},255".format(*rgb(levels[n].colour))
        assert sym.find("layer").get("class") == "SimpleMarker"
    # polygon layers fill with the level colour at the layer's opacity
    towns_qml = styles.set_index("f_table_name").loc["towns", "styleQML"]
    troot = ET.fromstring(towns_qml.split("\n", 1)[1])
    tsym = troot.find("renderer-v2/symbols/symbol[@name='0']/layer/Option/Option[@name='color']").get("value")
    assert tsym == "{},{},{},{}".format(*rgb(levels[1].colour), round(255 * 0.35))


def test_gpkg_of_demo_says_demo(demo_source, tmp_path):
    from riskmap.export.gpkg import export_gpkg

    out = tmp_path / "d.gpkg"
    export_gpkg(demo_source, out)
    info = pyogrio.read_info(out, layer="enterprises")
    assert "示例数据" in info["layer_metadata"]["DESCRIPTION"]
    with sqlite3.connect(out) as con:
        assert con.execute("SELECT count(*) FROM readme WHERE value LIKE '%示例数据%'").fetchone()[0] >= 1


# ---------------------------------------------------------------------------------------- Shapefile
def test_shapefile_utf8_and_gbk(demo_source, demo_tables, tmp_path):
    from riskmap.export.base import ExportSource
    from riskmap.export.shp import export_shp

    src = ExportSource(demo_source.name, demo_source.is_demo, demo_source.metric_epsg,
                       [demo_source.get("enterprises"), demo_source.get("towns")])
    names = sorted(demo_tables["enterprises"]["name"])
    for enc, cpg, codec in (("utf-8", "UTF-8", "utf-8"), ("GBK", "GBK", "gbk")):
        folder = tmp_path / f"shp_{codec}"
        export_shp(src, folder, encoding=enc)
        assert (folder / "enterprises.cpg").read_text().strip() == cpg
        raw = (folder / "enterprises.dbf").read_bytes()
        assert names[0].encode(codec) in raw
        back = pyogrio.read_dataframe(folder / "enterprises.shp")
        assert sorted(back["name"]) == names
        assert (back["demo_note"] == "示例数据").all()
        assert back["level"].tolist() == demo_tables["enterprises"]["level"].tolist()
        towns = pyogrio.read_dataframe(folder / "towns.shp")
        assert len(towns) == len(demo_tables["towns"])
    zipped = tmp_path / "s.zip"
    export_shp(src, zipped)
    assert {"enterprises.shp", "enterprises.dbf", "enterprises.cpg", "fields.csv"} <= set(zipfile.ZipFile(zipped).namelist())


def test_gbk_refuses_characters_it_cannot_hold(demo_source, tmp_path):
    from riskmap.export.base import ExportLayer, ExportSource
    from riskmap.export.shp import export_shp

    x = demo_source.get("enterprises")
    gdf = x.gdf.copy()
    gdf.loc[gdf.index[0], "name"] = "示例😀公司"
    src = ExportSource("t", False, 4544, [ExportLayer(x.layer, gdf)])
    with pytest.raises(RiskmapError, match="GBK"):
        export_shp(src, tmp_path / "g", encoding="gbk")
    assert not (tmp_path / "g").exists()


def test_long_text_cut_on_a_character_and_said_in_the_readme(demo_source, tmp_path):
    """A DBF text field holds 254 bytes: a longer value is cut on a character boundary, ends with "…", reads back
    as valid text in both encodings, and 说明.txt names the field; short values are untouched."""
    from riskmap.export.base import ExportLayer, ExportSource
    from riskmap.export.shp import export_shp

    x = demo_source.get("enterprises")
    gdf = x.gdf.copy()
    long = "罐车卸油时静电接地" * 30  # 270 characters: 810 bytes in UTF-8, 540 in GBK
    gdf.loc[gdf.index[0], "address"] = long
    src = ExportSource("t", False, 4544, [ExportLayer(x.layer, gdf)])
    for enc, codec in (("utf-8", "utf-8"), ("GBK", "gbk")):
        folder = tmp_path / codec
        export_shp(src, folder, encoding=enc)
        back = pyogrio.read_dataframe(folder / "enterprises.shp")
        cut = back.loc[back["id"] == gdf["id"].iloc[0], "address"].iloc[0]
        assert cut.endswith("…") and long.startswith(cut[:-1]) and len(cut.encode(codec)) <= 254
        assert len(cut.encode(codec)) > 254 - 3 - len("…".encode(codec))  # as much as fits, not less
        assert sorted(back["name"]) == sorted(gdf["name"])
        readme = (folder / "说明.txt").read_text(encoding="utf-8-sig")
        assert "254" in readme and "address" in readme


# ---------------------------------------------------------------------------------------- GeoJSON
def test_geojson_counts_per_layer(demo_source, demo_tables, tmp_path):
    from riskmap.export.geojson import export_geojson

    out = tmp_path / "a.geojson"
    export_geojson(demo_source, out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert "示例数据" in doc["description"]
    feats = doc["features"]
    ents = [f for f in feats if f["properties"]["layer"] == "enterprises"]
    assert len(ents) == len(demo_tables["enterprises"])
    lv = [f["properties"]["level"] for f in ents]
    assert {n: lv.count(n) for n in (1, 2, 3, 4)} == level_counts_by_hand(demo_tables["enterprises"])
    towns = [f for f in feats if f["properties"]["layer"] == "towns"]
    assert len(towns) == len(demo_tables["towns"]) and towns[0]["geometry"]["type"] == "MultiPolygon"
    assert pyogrio.read_info(out)["features"] == len(feats)


# ---------------------------------------------------------------------------------------- KML / KMZ
def test_kmz_keeps_colours_and_counts(demo_source, demo_tables, tmp_path):
    from riskmap.export.kml import export_kml

    out = tmp_path / "a.kmz"
    export_kml(demo_source, out)
    zf = zipfile.ZipFile(out)
    assert zf.namelist()[0] == "doc.kml"
    assert "files/circle.png" in zf.namelist() and zf.read("files/circle.png")[:4] == b"\x89PNG"
    root = ET.fromstring(zf.read("doc.kml"))
    doc = root.find("k:Document", KML)
    assert "示例数据" in doc.find("k:name", KML).text
    styles = {s.get("id"): s for s in doc.findall("k:Style", KML)}
    folders = {f.find("k:name", KML).text: f for f in doc.findall("k:Folder", KML)}
    ent_folder = next(f for name, f in folders.items() if name.startswith("企业"))
    counts = level_counts_by_hand(demo_tables["enterprises"])
    levels = load_levels().levels
    for n in (1, 2, 3, 4):
        if not counts[n]:
            continue
        sub = next(f for f in ent_folder.findall("k:Folder", KML) if f.find("k:name", KML).text.startswith(levels[n].name_zh))
        marks = sub.findall("k:Placemark", KML)
        assert len(marks) == counts[n]
        sid = marks[0].find("k:styleUrl", KML).text.lstrip("#")
        r, g, b = rgb(levels[n].colour)
        assert styles[sid].find("k:IconStyle/k:color", KML).text == f"ff{b:02x}{g:02x}{r:02x}"
    # the first red enterprise: its placemark sits where the store has it
    red = demo_tables["enterprises"][demo_tables["enterprises"]["level"] == 1].iloc[0]
    mark = next(m for m in ent_folder.iter(f"{{{KML['k']}}}Placemark") if m.find("k:name", KML).text == red["name"])
    lon, lat = map(float, mark.find("k:Point/k:coordinates", KML).text.split(","))
    assert abs(lon - red.geometry.x) < 1e-6 and abs(lat - red.geometry.y) < 1e-6


def test_kml_beside_its_icons(demo_source, tmp_path):
    from riskmap.export.kml import export_kml

    out = tmp_path / "b.kml"
    export_kml(demo_source, out)
    root = ET.parse(out).getroot()
    hrefs = {e.text for e in root.iter(f"{{{KML['k']}}}href")}
    assert hrefs and all((tmp_path / h).exists() for h in hrefs)
    n = len(list(root.iter(f"{{{KML['k']}}}Placemark")))
    assert n == sum(len(x.gdf) for x in demo_source.layers)


# ---------------------------------------------------------------------------------------- DXF
def test_dxf_layers_colours_counts_metric(demo_source, demo_tables, tmp_path):
    import ezdxf

    from riskmap.crs import to_metric
    from riskmap.export.dxf import export_dxf

    out = tmp_path / "a.dxf"
    export_dxf(demo_source, out)
    doc = ezdxf.readfile(out)
    msp = doc.modelspace()
    levels = load_levels().levels
    ents = demo_tables["enterprises"]
    counts = level_counts_by_hand(ents)
    for n in (1, 2, 3, 4):
        name = f"企业-{levels[n].name_zh}"
        circles = msp.query(f'CIRCLE[layer=="{name}"]')
        assert len(circles) == counts[n]
        if counts[n]:
            assert doc.layers.get(name).rgb == rgb(levels[n].colour)
    assert doc.layers.get("企业-重大风险").color == 1 and doc.layers.get("企业-低风险").color == 5
    # coordinates in metres of the project's Gauss–Krüger zone
    red = ents[ents["level"] == 1].iloc[0]
    p = to_metric(red.geometry, demo_source.metric_epsg)
    centres = np.array([(c.dxf.center.x, c.dxf.center.y) for c in msp.query('CIRCLE[layer=="企业-重大风险"]')])
    assert np.min(np.hypot(centres[:, 0] - p.x, centres[:, 1] - p.y)) < 1e-3
    # town rings: exterior + interior rings of every part, counted with shapely
    rings = sum(len(shapely.get_parts(g)) + int(shapely.get_num_interior_rings(shapely.get_parts(g)).sum())
                for g in demo_tables["towns"].geometry)
    town_lines = [e for e in msp.query("LWPOLYLINE") if e.dxf.layer.startswith("镇街-")]
    assert len(town_lines) == rings
    demo_text = msp.query('TEXT[layer=="示例数据"]')
    assert len(demo_text) == 1 and demo_text[0].dxf.text == "示例数据"


# ---------------------------------------------------------------------------------------- XLSX
def test_xlsx_sheets_counts_and_print_setup(demo_source, demo_tables, tmp_path):
    import openpyxl

    from riskmap.export.xlsx import export_xlsx

    out = tmp_path / "a.xlsx"
    export_xlsx(demo_source, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["说明", "企业", "统计", "分区", "侵占", "隐患", "指标"]
    ents = demo_tables["enterprises"]
    ws = wb["企业"]
    assert "示例数据" in ws["A1"].value
    assert [c.value for c in ws[3]][:3] == ["序号", "企业名称", "风险等级"]
    data = list(ws.iter_rows(min_row=4, values_only=True))
    assert len(data) == len(ents)
    levels = load_levels().levels
    assert [r[2] for r in data].count(levels[1].name_zh) == int((ents["level"] == 1).sum())
    first_red = next(i for i, r in enumerate(data, start=4) if r[2] == levels[1].name_zh)
    assert ws.cell(row=first_red, column=3).fill.fgColor.rgb.endswith(levels[1].colour[1:])
    assert ws.freeze_panes == "A4" and ws.page_setup.orientation == "landscape"
    assert ws.print_title_rows == "$1:$3" and ws["A3"].font.bold
    assert ws.oddHeader.right.text == "示例数据"
    _assert_print_layout(ws, ncols=12, paper=ws.PAPERSIZE_A4, footer_left=demo_source.name)
    # level colours: text colour readable on the fill, bold; other columns plain with a thin border
    red = ws.cell(row=first_red, column=3)
    assert red.font.bold and red.fill.fill_type == "solid" and red.border.left.style == "thin"
    assert ws.cell(row=first_red, column=2).fill.fill_type is None
    # number formats of the columns: 从业人数 "0", 经度/纬度 "0.000000"
    assert ws["G4"].number_format == "0" and ws["K4"].number_format == "0.000000" and ws["L4"].number_format == "0.000000"
    assert ws["B4"].data_type == "s" and ws["A4"].value == 1
    # notes merged under the table, wrapped, in a taller row
    st = wb["统计"]
    note_row = st.max_row
    assert "空间叠加" in st.cell(row=note_row, column=1).value
    assert f"A{note_row}:G{note_row}" in {str(r) for r in st.merged_cells.ranges}
    assert st.cell(row=note_row, column=1).alignment.wrap_text and st.row_dimensions[note_row].height >= 30
    assert wb.properties.creator == "riskmap" and "示例数据" in wb.properties.title
    # statistics: the 合计 row equals the counts by level
    st = list(wb["统计"].iter_rows(min_row=4, values_only=True))
    total = next(r for r in st if r[0] == "合计")
    assert list(total[1:5]) == [int((ents["level"] == n).sum()) for n in (1, 2, 3, 4)]
    assert total[6] == len(ents)
    assert len([r for r in st if r[0] and r[0] != "合计" and r[1] is not None]) == len(demo_tables["towns"])
    # hidden dangers: every one, open or closed
    hd = [r for r in wb["隐患"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert len(hd) == len(demo_tables["dangers"])
    # encroachments: the demo puts four protected targets inside the park's control line
    enc = [r for r in wb["侵占"].iter_rows(min_row=4, values_only=True) if isinstance(r[0], int)]
    assert len(enc) >= 4


def _assert_print_layout(ws, *, ncols: int, paper: int, footer_left: str) -> None:
    """The shared print layout of riskmap's sheets (riskmap.export.sheet), read back with openpyxl."""
    from openpyxl.utils import get_column_letter

    last = get_column_letter(ncols)
    assert {f"A1:{last}1", f"A2:{last}2"} <= {str(r) for r in ws.merged_cells.ranges}
    assert ws["A1"].font.bold and ws["A1"].font.sz == 14 and ws["A1"].alignment.horizontal == "center"
    assert ws.row_dimensions[1].height == pytest.approx(28, abs=0.5)
    hdr = ws["A3"]
    assert hdr.font.bold and hdr.fill.fill_type == "solid" and hdr.fill.fgColor.rgb.endswith("D9D9D9")
    assert hdr.border.left.style == hdr.border.bottom.style == "thin" and hdr.alignment.wrap_text
    body = ws["A4"]
    assert body.border.top.style == "thin" and body.alignment.vertical == "top" and body.alignment.wrap_text
    assert all(ws.column_dimensions[get_column_letter(i)].width > 0 for i in range(1, ncols + 1))
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$1:$3"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == int(paper)
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (None, 1)
    assert ws.page_setup.fitToHeight == 0 and ws.print_options.horizontalCentered
    assert ws.oddFooter.center.text == "第 &P 页，共 &N 页"
    assert ws.oddFooter.left.text == footer_left.replace("&", "&&")


def test_xlsx_sheet_layout_keeps_hostile_text(tmp_path):
    """Text that looks like a formula, XML, a header/footer code or holds control characters stays as written."""
    import openpyxl

    from riskmap.export.sheet import Column, fill_printable_sheet, streaming_workbook
    from riskmap.atomic import atomic_path

    hostile = ["=1+1", "<r><t>x</t></r>", "a & <b>", "_x0041_", " lead", "甲\x00乙\x1b丙", "x" * 40_000]
    out = tmp_path / "h.xlsx"
    cols = [Column("v", "值", 20), Column("n", "数", 8, "0.00")]
    with atomic_path(out) as tmp, streaming_workbook(tmp) as book:
        fill_printable_sheet(book, book.sheet("表"), title="=标题", subtitle="<r>副</r>", columns=cols,
                             rows=[{"v": h, "n": i + 0.5} for i, h in enumerate(hostile)],
                             value=lambda r, c: r.get(c.key), notes=["=注"], demo=True, paper="A3",
                             footer_left="A&G &P&[Picture]")
    ws = openpyxl.load_workbook(out)["表"]
    assert ws["A1"].value == "=标题（示例数据）" and ws["A1"].data_type == "s"
    assert ws["A2"].value == "<r>副</r>"
    got = [ws.cell(row=r, column=1).value for r in range(4, 4 + len(hostile))]
    # "_x0041_" is stored escaped as "_x005F_x0041_" (Excel shows "_x0041_"; openpyxl reads the escape as is)
    assert got[3] in ("_x0041_", "_x005F_x0041_")
    assert got[:3] + got[4:] == hostile[:3] + [hostile[4], "甲乙丙", "x" * 32_767]
    assert all(ws.cell(row=r, column=1).data_type == "s" for r in range(4, 4 + len(hostile)))
    assert ws["B4"].value == 0.5 and ws["B4"].number_format == "0.00"
    assert ws.cell(row=4 + len(hostile), column=1).value == "=注"
    assert ws.oddHeader.right.text == "示例数据"
    _assert_print_layout(ws, ncols=2, paper=ws.PAPERSIZE_A3, footer_left="A&G &P&[Picture]")


# ---------------------------------------------------------------------------------------- safety
def test_cancel_leaves_nothing(demo_source, tmp_path):
    from riskmap.export.gpkg import export_gpkg

    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled, match="导出已取消，未写入文件"):
        export_gpkg(demo_source, tmp_path / "c.gpkg", cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_export(demo_source, tmp_path):
    from riskmap.export.xlsx import export_xlsx

    out = tmp_path / "keep.xlsx"
    out.write_bytes(b"old")
    with pytest.raises(Cancelled, match="导出已取消，未写入文件"):
        export_xlsx(demo_source, out, cancel=lambda: True)
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["keep.xlsx"]


def test_missing_folder_is_a_user_error(demo_source, tmp_path):
    from riskmap.export.geojson import export_geojson

    with pytest.raises(RiskmapError, match="目标文件夹不存在"):
        export_geojson(demo_source, tmp_path / "nope" / "a.geojson")
