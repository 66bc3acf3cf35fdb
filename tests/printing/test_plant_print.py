"""The plant 四色分布图 (print_plant) of a plant built by hand (tests/printing/plantdata.py) and of the demo's
plant, read back: page size in mm (pikepdf), words (pdftotext), pixels (pdftoppm): the plan's teal block and
the risk-point areas in their level colours over it, at the places the layout puts them (computed here from
the page's map frame and extent); 示例数据 on a demo only; hostile names drawn as written."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from riskmap.errors import RiskmapError
from riskmap.layers import load_catalogue
from riskmap.levels import load_levels
from tests.printing.plantdata import (
    POINTS, build, count_colour, hexrgb, near, page_sizes_mm, pdf_pages, pdf_text, plan_on_paper,
)

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("pdftoppm", "pdftotext")),
                                reason="poppler-utils not installed")
DPI = 60


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


@pytest.fixture(scope="module")
def real(demo_path, tmp_path_factory):
    """The hand-built plant in a project that is not a demo (no watermark over the map), printed A3 landscape."""
    from riskmap.printing.plant_print import print_plant
    from riskmap.store import Project

    folder = tmp_path_factory.mktemp("plant_real")
    path, eid, plant = build(demo_path, folder, demo=False, name="{{7*7}}化工<i>有限公司</i>{unit}")
    out = folder / "厂区图.pdf"
    with Project.open(path, readonly=True) as project:
        print_plant(project, eid, out)
    return path, eid, plant, out


def test_page_size_title_and_words(real):
    _, _, _, out = real
    assert page_sizes_mm(out) == [(420.0, 297.0)]
    text = pdf_text(out).replace(" ", "")
    assert "{{7*7}}化工<i>有限公司</i>{unit}安全风险四色分布图" in text
    assert "49化工" not in text
    for word in ("编制单位：会宁县应急管理局", "编制日期", "图例", "风险点（区域）", "风险点统计", "类别", "区域", "装置",
                 "设施", "岗位", "液氨储罐区", "合成装置", "装卸站台", "中控室", "定级规则：企业风险等级", "EPSG:"):
        assert word in text, word
    assert "示例数据" not in text


def _pixel(project, eid, lonlat):
    """Where the layout puts (lon, lat) on the page, in pixels at DPI: the map frame's corner plus the point's
    place in the map's extent (MapSettings of the page as painted)."""
    from riskmap.crs import transformer
    from riskmap.printing.compose import PagePainter
    from riskmap.printing.plant_print import plant_content, plant_page

    content, texts = plant_content(project, eid)
    template, page = plant_page("A3", "landscape")
    pp = PagePainter(page, content, texts, template, DPI)
    x, y = transformer(4490, content.epsg).transform(*lonlat)
    (px, py), = pp.settings.map_to_pixel(np.array([[x, y]]))
    return round(pp.map_rect.x() + px), round(pp.map_rect.y() + py), pp


def test_plan_under_the_areas_in_their_colours(real, tmp_path):
    from riskmap.layers import raster_catalogue
    from riskmap.store import Project

    path, eid, plant, out = real
    img = pdf_pages(out, DPI, tmp_path)[0]
    levels = load_levels().levels
    plan_op = float(raster_catalogue()["plant_plans"].style.fill_opacity)
    area_op = float(load_catalogue()["risk_points"].style.fill_opacity)
    ground = [plan_op * c + (1 - plan_op) * 255 for c in (250, 250, 245)]  # the plan's paper, printed
    with Project.open(path, readonly=True) as project:
        x, y, pp = _pixel(project, eid, plant.lonlat(70, 240))  # inside the teal block
        assert near(img[y, x], plan_on_paper(), 8), img[y, x]
        map_px = img[int(pp.map_rect.top()):int(pp.map_rect.bottom()), int(pp.map_rect.left()):int(pp.map_rect.right())]
        assert count_colour(map_px, plan_on_paper(), 8) > 500  # the block: 100 × 80 plan px ≈ 90 × 72 m
        assert count_colour(img, plan_on_paper(), 8) == count_colour(map_px, plan_on_paper(), 8)  # only in the map
        for name, _, (c0, r0, c1, r1), _, level, _ in POINTS:
            # a quarter into the area from its top-left corner: away from its outline and its label
            x, y, _ = _pixel(project, eid, plant.lonlat(c0 + (c1 - c0) / 4, r0 + (r1 - r0) / 4))
            want = [area_op * c + (1 - area_op) * g for c, g in zip(hexrgb(levels[level].colour), ground)]
            assert near(img[y, x], want, 10), (name, img[y, x], want)


def test_a4_portrait_and_the_demo_mark(demo_path, tmp_path):
    from riskmap.printing.plant_print import print_plant
    from riskmap.store import Project

    path, eid, _ = build(demo_path, tmp_path)
    out = tmp_path / "a4.pdf"
    with Project.open(path, readonly=True) as project:
        print_plant(project, eid, out, paper="A4", orientation="portrait", title="我的厂区图")
    assert page_sizes_mm(out) == [(210.0, 297.0)]
    text = pdf_text(out).replace(" ", "")
    assert "我的厂区图（示例数据）" in text
    assert text.count("示例数据") >= 3  # title, note and the marks across the map
    img = pdf_pages(out, DPI, tmp_path)[0]
    assert count_colour(img, plan_on_paper(), 12) > 100


def test_demo_plant_prints(demo_open, tmp_path):
    """The demo's own plant: its plan, its points by name, its level's colour in the legend and table."""
    from riskmap.plant import plant_data, plants
    from riskmap.printing.plant_print import print_plant

    table = plants(demo_open)
    eid = int(table[table["has_plan"]]["id"].iloc[0])
    data = plant_data(demo_open, eid)
    out = tmp_path / "demo.pdf"
    print_plant(demo_open, eid, out)
    text = pdf_text(out).replace(" ", "")
    assert f"{data.enterprise['name']}安全风险四色分布图（示例数据）" in text
    located = data.points[data.points.geometry.notna()]
    assert len(located) >= 5
    for name in located["name"]:
        assert str(name).replace(" ", "") in text, name
    img = pdf_pages(out, DPI, tmp_path)[0]
    top = min(int(v) for v in located["level"].dropna())
    assert count_colour(img, hexrgb(load_levels().levels[top].colour), 6) > 20  # legend and table swatches


def test_refusals(real, tmp_path):
    from riskmap.printing.plant_print import print_plant
    from riskmap.store import Project

    path, eid, _, _ = real
    with Project.open(path, readonly=True) as project:
        with pytest.raises(RiskmapError, match="A3 或 A4"):
            print_plant(project, eid, tmp_path / "a.pdf", paper="A5")
        with pytest.raises(RiskmapError, match="orientation|方向"):
            print_plant(project, eid, tmp_path / "a.pdf", orientation="sideways")
        with pytest.raises(RiskmapError):
            print_plant(project, 10 ** 9, tmp_path / "a.pdf")
    assert not list(tmp_path.iterdir())  # nothing half written


def test_plant_layout_is_not_offered_for_the_county_map():
    from riskmap.printing.template import load_template, template_files

    assert "plant" not in template_files() and "standard" in template_files()
    page = load_template("plant").page("A3", "landscape")
    assert [i.type for i in page.items if i.type in ("map", "legend", "stats", "north_arrow", "scalebar")] == \
        ["map", "north_arrow", "scalebar", "legend", "stats"]


def test_without_a_plan_the_areas_still_print(demo_path, tmp_path):
    from riskmap.plant import delete_plan
    from riskmap.printing.plant_print import print_plant
    from riskmap.store import Project

    path, eid, plant = build(demo_path, tmp_path, demo=False)
    out = tmp_path / "noplan.pdf"
    with Project.open(path) as project:
        assert delete_plan(project, eid)
        print_plant(project, eid, out)
        x, y, _ = _pixel(project, eid, plant.lonlat(200 + 25, 30 + 20))  # inside the red area
    img = pdf_pages(out, DPI, tmp_path)[0]
    assert count_colour(img, plan_on_paper(), 12) == 0
    op = float(load_catalogue()["risk_points"].style.fill_opacity)
    red = hexrgb(load_levels().levels[1].colour)
    assert near(img[y, x], [op * c + (1 - op) * 255 for c in red], 10), img[y, x]


def test_english_plant_map(real, tmp_path):
    from riskmap.printing.plant_print import print_plant
    from riskmap.store import Project

    path, eid, _, _ = real
    out = tmp_path / "en.pdf"
    with Project.open(path, readonly=True) as project:
        print_plant(project, eid, out, lang="en")
    text = " ".join(pdf_text(out).split())
    for word in ("safety risk four-colour layout", "Legend", "Risk point areas", "Major risk", "Category", "Areas",
                 "By: 会宁县应急管理局", "Date: 20"):
        assert word in text, word
