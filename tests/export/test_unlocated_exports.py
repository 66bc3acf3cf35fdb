"""Every export and analysis over a project holding 未定位 (no point) and 未评估 (no level) enterprises.

The demo project with, through the ORM, 5 enterprises' points removed, 5 others' levels removed and 2 more
losing both: 7 未定位 and 7 未评估, 5 of those on the map. The unlocated rows are on no spatial layer of any
format and all in the XLSX 未定位 sheet; 未评估 enterprises are grey, never 低.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
import xml.etree.ElementTree as ET

import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely
from sqlalchemy import select

from riskmap.export.options import ExportOptions
from riskmap.model import Enterprise
from riskmap.printing.dispatch import export_project
from riskmap.store import Project

KML = {"k": "http://www.opengis.net/kml/2.2"}


@pytest.fixture(scope="module")
def holes(demo_path, tmp_path_factory):
    """(path, ids without a point, ids without a level, the original enterprise table)."""
    path = tmp_path_factory.mktemp("holes") / "holes.gpkg"
    shutil.copy(demo_path, path)
    with Project.open(path) as project:
        original = project.read_table("enterprises")
        with project.session() as s:
            ents = s.scalars(select(Enterprise).where(Enterprise.level.is_not(None)).order_by(Enterprise.id)).all()
            no_point = [e.id for e in ents[:5]] + [e.id for e in ents[10:12]]
            no_level = [e.id for e in ents[5:12]]
            for e in ents[:5] + ents[10:12]:
                e.geom = None
            for e in ents[5:12]:
                e.level = None
    return path, no_point, no_level, original


@pytest.fixture(scope="module")
def opened(holes):
    with Project.open(holes[0], readonly=True) as project:
        yield project


def _export(project, fmt, out, **kw):
    return export_project(project, ExportOptions(out=str(out), format=fmt, **kw))


def test_counts_by_hand(holes, opened):
    from riskmap.stats import project_stats, unlocated

    _, no_point, no_level, original = holes
    st = project_stats(opened)
    before = {str(n): int((original["level"] == n).sum()) for n in (1, 2, 3, 4)}
    lost = original.set_index("id").loc[no_level, "level"].astype(int).value_counts()
    expected = {k: v - int(lost.get(int(k), 0)) for k, v in before.items()}
    expected["none"] = int(original["level"].isna().sum()) + len(no_level)
    assert st["by_level"] == expected and sum(expected.values()) == len(original) == st["enterprises"]
    assert (st["unlocated"], st["unassessed"]) == (7, expected["none"])
    assert sum(r["total"] for r in st["by_town"].values()) == len(original)
    assert sorted(unlocated(opened)["id"]) == sorted(no_point)


def test_spatial_formats_leave_unlocated_out(holes, opened, tmp_path):
    _, no_point, no_level, original = holes
    located = len(original) - len(no_point)
    names_gone = set(original.set_index("id").loc[no_point, "name"])

    out = _export(opened, "gpkg", tmp_path / "a.gpkg")
    ents = pyogrio.read_dataframe(out, layer="enterprises")
    assert len(ents) == located and not names_gone & set(ents["name"]) and ents.geometry.notna().all()

    folder = _export(opened, "shp", tmp_path / "shp")
    back = pyogrio.read_dataframe(folder / "enterprises.shp")
    assert len(back) == located and not names_gone & set(back["name"])

    out = _export(opened, "geojson", tmp_path / "a.geojson")
    feats = [f for f in json.loads(out.read_text(encoding="utf-8"))["features"]
             if f["properties"]["layer"] == "enterprises"]
    assert len(feats) == located and all(f["geometry"] is not None for f in feats)
    assert sum(f["properties"]["level"] is None for f in feats) == 5  # 未评估 on the map: 7 minus 2 unlocated
    assert pyogrio.read_info(out)["features"] >= located

    out = _export(opened, "kmz", tmp_path / "a.kmz")
    root = ET.fromstring(zipfile.ZipFile(out).read("doc.kml"))
    folder_el = next(f for f in root.find("k:Document", KML).findall("k:Folder", KML)
                     if f.find("k:name", KML).text.startswith("企业"))
    marks = list(folder_el.iter(f"{{{KML['k']}}}Placemark"))
    assert len(marks) == located and not names_gone & {m.find("k:name", KML).text for m in marks}
    grey = [f for f in folder_el.findall("k:Folder", KML) if f.find("k:name", KML).text.startswith("未评估")]
    assert len(grey) == 1 and len(grey[0].findall("k:Placemark", KML)) == 5


def test_dxf_puts_unassessed_in_a_grey_layer(holes, opened, tmp_path):
    import ezdxf

    _, no_point, _, original = holes
    doc = ezdxf.readfile(_export(opened, "dxf", tmp_path / "a.dxf"))
    circles = [c for c in doc.modelspace().query("CIRCLE") if c.dxf.layer.startswith("企业-")]
    assert len(circles) == len(original) - len(no_point)
    grey = [c for c in circles if c.dxf.layer == "企业-未评估"]
    assert len(grey) == 5 and doc.layers.get("企业-未评估").rgb == (0x9E, 0x9E, 0x9E)


def test_xlsx_has_the_unlocated_sheet_and_counts_them_by_town(holes, opened, tmp_path):
    from riskmap.stats import enterprise_frame

    _, no_point, _, original = holes
    wb = openpyxl.load_workbook(_export(opened, "xlsx", tmp_path / "a.xlsx"), read_only=True)
    assert wb.sheetnames[:3] == ["说明", "企业", "未定位"]
    rows = list(wb["未定位"].iter_rows(values_only=True))
    header = rows[2]
    data = [dict(zip(header, r)) for r in rows[3:] if isinstance(r[0], int)]
    assert sorted(r["编号"] for r in data) == sorted(no_point)
    by_id = original.set_index("id")
    for r in data:
        lv = by_id.loc[r["编号"], "level"]
        assert r["企业名称"] == by_id.loc[r["编号"], "name"]
        if r["编号"] in no_point[5:]:
            assert r["风险等级"] == "未评估"
        else:
            assert r["风险等级"] != "未评估" and lv == lv
    ent_rows = [r for r in wb["企业"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert len(ent_rows) == len(original) - len(no_point)
    stats = {r[0]: r[1:] for r in wb["统计"].iter_rows(values_only=True) if r and isinstance(r[1], int)}
    assert stats["合计"][-1] == len(original) and stats["合计"][4] == 7  # 未评估, counted on its own
    frame = enterprise_frame(opened)  # towns as stats counts them: unlocated by their assigned town
    for town, n in frame.groupby("town").size().items():
        if town in stats:
            assert stats[town][-1] == n


def test_web_map_legend_counts_unassessed_apart(opened, tmp_path):
    out = _export(opened, "html", tmp_path / "a.html")
    text = out.read_text(encoding="utf-8")
    assert "其中未定位 7 家未上图" in text
    m = re.search(r'"name":"未评估","colour":"#9E9E9E","count":(\d+)', text)
    assert m and int(m.group(1)) == 5


def test_print_formats_run(opened, tmp_path):
    for fmt in ("pdf", "png", "svg"):
        out = _export(opened, fmt, tmp_path / f"a.{fmt}", dpi=60)
        assert out.exists() and out.stat().st_size > 1000


def test_print_statistics_count_unlocated(holes, opened):
    from riskmap.export.base import collect_layers
    from riskmap.printing.content import build_content

    src = collect_layers(opened)
    content = build_content(src)
    assert content.stats.loc["合计", "合计"] == len(holes[3])
    assert content.stats.loc["合计", "未评估"] == 7 and "含未定位 7 家" in content.stats_title


def test_analyses_run(holes, opened, tmp_path):
    from riskmap.analysis.encroachment import check_encroachments
    from riskmap.analysis.nearby import nearby

    check_encroachments(opened)
    ents = opened.read_table("enterprises")
    p = ents.geometry.dropna().iloc[0]
    res = nearby(opened, p.x, p.y, 3000)
    assert res is not None
    path = tmp_path / "c.gpkg"
    shutil.copy(holes[0], path)
    from riskmap.cli import main

    assert main(["controlline", str(path), "--from-distances"]) == 0
    assert main(["check", str(path), "--json"]) == 0


def test_rendered_unassessed_enterprise_is_grey_not_blue(qapp):
    import geopandas as gpd
    from PySide6.QtGui import QColor

    from riskmap.layers import load_catalogue
    from riskmap.render import MapSettings, PreparedLayer, ensure_fonts, render_image

    ensure_fonts()
    gdf = gpd.GeoDataFrame({"id": [1, 2, 3], "name": ["甲", "乙", "丙"], "level": [4, None, 4]},
                           geometry=[shapely.Point(105.0, 35.0), shapely.Point(105.01, 35.0), None], crs=4490)
    prep = PreparedLayer.from_gdf(load_catalogue()["enterprises"], gdf, 4544)
    from riskmap.crs import to_metric

    xy = shapely.get_coordinates(to_metric(np.array([gdf.geometry[0], gdf.geometry[1]], dtype=object), 4544))
    x0, x1 = xy[:, 0].min() - 500, xy[:, 0].max() + 500
    y0, y1 = xy[:, 1].min() - 300, xy[:, 1].max() + 300
    w, h = 400, int(400 * (y1 - y0) / (x1 - x0))
    img = render_image(MapSettings((x0, y0, x1, y1), w, h, crs_epsg=4544), [prep])

    def pixel(x, y):
        c = QColor(img.pixel(int(round((x - x0) / (x1 - x0) * w)), int(round((y1 - y) / (y1 - y0) * h))))
        return c.red(), c.green(), c.blue()

    blue, grey = pixel(*xy[0]), pixel(*xy[1])
    assert all(abs(a - b) <= 4 for a, b in zip(blue, (0x00, 0x70, 0xFF)))
    assert all(abs(a - b) <= 4 for a, b in zip(grey, (0x9E, 0x9E, 0x9E)))


def test_town_atlas_pages_count_their_unlocated(holes, opened):
    from riskmap.export.base import collect_layers
    from riskmap.printing.content import atlas_pages, build_content
    from riskmap.stats import enterprise_frame

    pages = atlas_pages(build_content(collect_layers(opened)), "town")
    frame = enterprise_frame(opened)
    per_town = frame.groupby("town").size()
    unassessed = frame[frame["level_key"] == "none"].groupby("town").size()
    for page in pages:
        assert page.stats.loc["合计", "合计"] == per_town.get(page.unit_name, 0), page.unit_name
        assert page.stats.loc["合计", "未评估"] == unassessed.get(page.unit_name, 0), page.unit_name
    assert sum(int(p.stats.loc["合计", "合计"]) for p in pages) == len(holes[3])
