"""风险告知卡 and 公告栏 PDFs of a plant built by hand (tests/printing/plantdata.py), read back: page sizes
(pikepdf), text (pdftotext), pixels (pdftoppm): the title band in the level's colour from levels.toml, the
safety signs' colours, the plan on the poster; 示例数据 on a demo only; hostile text drawn as written and kept
inside its box; layouts checked with clear errors."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter

from riskmap.errors import RiskmapError
from riskmap.levels import load_levels
from riskmap.render.pictograms import sign_colours
from tests.printing.plantdata import (
    BUREAU_PHONE, POINTS, RESPONSIBLE_PHONE, build, count_colour, hexrgb, near, page_sizes_mm, pdf_pages,
    pdf_text, plan_on_paper,
)

pytestmark = pytest.mark.skipif(not all(shutil.which(t) for t in ("pdftoppm", "pdftotext")),
                                reason="poppler-utils not installed")
DPI = 50
HOSTILE_NAME = "{{7*7}}储罐<b>区</b>${x}{title}"
LONG = ("液氨泄漏遇明火爆炸" * 60)[:500]  # 500 characters


def sheet_image(sheet) -> QImage:
    """An image of a card's or poster's sheet at its painter's dpi (so that points are points)."""
    img = QImage(round(sheet.w), round(sheet.h), QImage.Format.Format_RGB32)
    img.setDotsPerMeterX(round(sheet.dpi / 0.0254))
    img.setDotsPerMeterY(round(sheet.dpi / 0.0254))
    img.fill(0xFFFFFFFF)
    return img


@pytest.fixture(autouse=True)
def _app(qapp):
    return qapp


@pytest.fixture(scope="module")
def plant(demo_path, tmp_path_factory):
    return build(demo_path, tmp_path_factory.mktemp("cards"))


@pytest.fixture(scope="module")
def cards_pdf(plant, tmp_path_factory):
    from riskmap.printing.cards import export_cards
    from riskmap.store import Project

    path, eid, _ = plant
    out = tmp_path_factory.mktemp("cards_out") / "告知卡.pdf"
    with Project.open(path, readonly=True) as project:
        export_cards(project, eid, out, paper="A4")
    return out


def test_one_a4_card_per_point_with_the_level_colour_band(cards_pdf, plant, tmp_path):
    from riskmap.plant import plant_data
    from riskmap.store import Project

    with Project.open(plant[0], readonly=True) as project:
        points = plant_data(project, plant[1]).points
    sizes = page_sizes_mm(cards_pdf)
    assert len(sizes) == len(points) >= len(POINTS)  # the demo's own points get cards too
    assert set(sizes) == {(210.0, 297.0)}
    pages = pdf_pages(cards_pdf, DPI, tmp_path)
    levels = load_levels().levels
    for k, (name, _, _, _, level, _) in enumerate(POINTS):  # most severe first: our four come first
        text = pdf_text(cards_pdf, k + 1)
        assert name in text and levels[level].name_zh in text
        img = pages[k]
        # the band: 10 mm margin, 30 mm high; 2 mm below its top edge in the middle no text is drawn
        x, y = round(105 / 25.4 * DPI), round(12.5 / 25.4 * DPI)
        assert near(img[y, x], hexrgb(levels[level].colour), 6), (name, img[y, x], levels[level].colour)
        assert near(img[round(5 / 25.4 * DPI), x], (255, 255, 255), 3)  # the margin above is paper


def test_card_text_has_names_phones_and_demo_mark(cards_pdf):
    text = pdf_text(cards_pdf, 1)
    for word in ("安全风险告知卡", "液氨储罐区", "危险有害因素", "可能导致的", "管控措施", "应急处置措施", "王五",
                 RESPONSIBLE_PHONE, "119", "120", BUREAU_PHONE, "会宁县应急管理局", "当心中毒", "禁止烟火", "紧急出口",
                 "示例数据", "LEC"):
        assert word in text, word


def test_card_signs_are_drawn_in_their_colours(cards_pdf, tmp_path):
    img = pdf_pages(cards_pdf, 100, tmp_path, 1)[0]
    col = sign_colours()
    signs_row = img[round(200 / 25.4 * 100):round(270 / 25.4 * 100)]  # the signs' row is in the lower part
    assert count_colour(signs_row, hexrgb(col["yellow"]), 12) > 200  # 当心中毒, 当心爆炸
    assert count_colour(signs_row, hexrgb(col["red"]), 12) > 100  # 禁止烟火
    assert count_colour(signs_row, hexrgb(col["blue"]), 12) > 200  # 必须戴防毒面具
    assert count_colour(signs_row, hexrgb(col["green"]), 12) > 200  # 紧急出口


def test_a5_cards_and_no_demo_mark_on_a_real_project(demo_path, tmp_path):
    from riskmap.printing.cards import export_cards
    from riskmap.store import Project

    path, eid, _ = build(demo_path, tmp_path, demo=False)
    out = tmp_path / "a5.pdf"
    with Project.open(path, readonly=True) as project:
        assert not project.is_demo
        export_cards(project, eid, out, paper="A5")
    assert set(page_sizes_mm(out)) == {(148.0, 210.0)}
    text = pdf_text(out)
    assert "液氨储罐区" in text and BUREAU_PHONE in text
    assert "示例数据" not in text


def test_hostile_text_drawn_as_written_and_kept_in_its_box(demo_path, tmp_path):
    from riskmap.printing.cards import export_cards
    from riskmap.store import Project

    texts = {"液氨储罐区": {"name": HOSTILE_NAME, "hazard_factors": LONG, "accident_types": LONG,
                       "control_measures": "A" * 500, "emergency_measures": LONG}}
    path, eid, _ = build(demo_path, tmp_path, texts=texts, name="{{7*7}}化工{unit}")
    out = tmp_path / "hostile.pdf"
    with Project.open(path, readonly=True) as project:
        export_cards(project, eid, out, paper="A5")
    text = pdf_text(out, 1).replace(" ", "")
    assert "{{7*7}}储罐<b>区</b>${x}{title}" in text
    assert "49" not in text.split("风险点名称")[1].split("\n")[0]
    assert "{{7*7}}化工{unit}" in text
    assert "…" in text  # 4 × 500 characters do not fit an A5 card even at the smallest size: cut
    for label in ("可能导致的", "应急处置措施", "安全标志", "应急电话", "编制日期"):  # every row is still there
        assert label in text


def test_hostile_card_layout_keeps_every_text_in_its_cell(qapp):
    """Painted by hand: each text cell holds text that fits it at the size chosen, no smaller than the layout's
    smallest size, and the cells follow each other down the sheet without overlapping."""
    from riskmap.printing.card_template import load_card_template
    from riskmap.printing.cards import Card, CardPainter, Context, _measure

    for paper in ("A4", "A5"):
        tpl = load_card_template("card").scaled_to(paper)
        cp = CardPainter(tpl, Context("{{7*7}}化工", is_demo=True), dpi=100)
        img = sheet_image(cp.sheet)
        p = QPainter(img)
        try:
            cp.paint(p, Card(name=HOSTILE_NAME * 5, level=1, hazard_factors=LONG, accident_types=LONG,
                             control_measures="A" * 500, emergency_measures=LONG, responsible_person="王" * 200,
                             signs=["W001"] * 3 + ["ZZZ"]))
            cells = sorted(cp.boxes.values(), key=lambda b: b[0].top())
            assert len(cells) >= 8
            for cell, f in cells:
                assert f.pt >= tpl.min_font_pt - 1e-9
                assert _measure(p, cell.width(), f.text, f.pt, False)[0] <= cell.height() + 0.5
                assert 0 <= cell.left() and cell.right() <= cp.sheet.w and cell.bottom() <= cp.sheet.h
            for (a, _), (b, _) in zip(cells, cells[1:]):
                assert a.bottom() <= b.top() + 0.5
            assert any(f.cut for _, f in cells)
        finally:
            p.end()


def test_fit_text_shrinks_then_cuts(qapp):
    from riskmap.printing.cards import _measure, fit_text

    img = QImage(600, 400, QImage.Format.Format_RGB32)
    p = QPainter(img)
    try:
        box = QRectF(0, 0, 300, 120)
        short = fit_text(p, box, "液氨储罐区", 12, 5)
        assert (short.pt, short.cut, short.text) == (12, False, "液氨储罐区")
        mid = fit_text(p, box, "液氨泄漏" * 40, 12, 5)
        assert 5 <= mid.pt < 12 and not mid.cut
        assert _measure(p, box.width(), mid.text, mid.pt, False)[0] <= box.height()
        for text in (LONG * 4, "A" * 2000, "x " * 2000):
            f = fit_text(p, box, text, 12, 5)
            assert f.pt == 5 and f.cut and f.text.endswith("…") and len(f.text) < len(text)
            assert _measure(p, box.width(), f.text, f.pt, False)[0] <= box.height()
    finally:
        p.end()


@pytest.fixture(scope="module")
def board_pdf(plant, tmp_path_factory):
    from riskmap.printing.cards import export_cards
    from riskmap.store import Project

    path, eid, _ = plant
    out = tmp_path_factory.mktemp("board") / "公告栏.pdf"
    with Project.open(path, readonly=True) as project:
        export_cards(project, eid, out, paper="A2", board=True)
    return out


def test_board_poster(board_pdf, tmp_path):
    assert page_sizes_mm(board_pdf) == [(420.0, 594.0)]
    text = pdf_text(board_pdf)
    for word in ("安全风险公告栏", "安全风险四色分布图", "风险点清单", "重点管控措施", "应急电话", "安全警示标志",
                 "液氨储罐区", "合成装置", "装卸站台", "中控室", "119", "120", BUREAU_PHONE, "示例数据"):
        assert word in text, word
    img = pdf_pages(board_pdf, 30, tmp_path)[0]
    h = img.shape[0]
    top = img[: h // 2]
    assert count_colour(top, plan_on_paper(), 10) > 50  # the plan's teal block, in the map at the top
    levels = load_levels().levels
    table = img[int(h * 0.45): int(h * 0.8)]
    for n in (1, 2, 3, 4):  # the table's level cells in the four colours
        assert count_colour(table, hexrgb(levels[n].colour), 8) > 30, n


def test_board_paper_sizes(plant, tmp_path):
    from riskmap.printing.cards import export_board
    from riskmap.store import Project

    with Project.open(plant[0], readonly=True) as project:
        with pytest.raises(RiskmapError, match="A3"):
            export_board(project, plant[1], tmp_path / "x.pdf", paper="A4")
        assert not (tmp_path / "x.pdf").exists()


# ------------------------------------------------------------------------------------------ layouts
def test_user_layout_by_path(plant, tmp_path):
    from riskmap.paths import TEMPLATES_DIR
    from riskmap.printing.cards import export_cards
    from riskmap.store import Project

    mine = tmp_path / "my_card.toml"
    mine.write_text((TEMPLATES_DIR / "card.toml").read_text(encoding="utf-8")
                    .replace('label = "危险有害因素"', 'label = "主要危险源辨识"')
                    .replace('title = "安全风险告知卡"', 'title = "岗位风险告知牌"'), encoding="utf-8")
    out = tmp_path / "mine.pdf"
    with Project.open(plant[0], readonly=True) as project:
        export_cards(project, plant[1], out, template=mine)
    text = pdf_text(out, 1)
    assert "主要危险源辨识" in text and "岗位风险告知牌" in text and "危险有害因素" not in text


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace('key = "signs"', 'key = "photo"'), "photo"),
    (lambda s: s.replace('height_mm = 40', 'weight = 1\nheight_mm = 40'), "height_mm"),
    (lambda s: s.replace('label_fill = "#EFEFEF"', 'label_fill = "grey"'), "#RRGGBB"),
    (lambda s: s.replace('height_mm = 40', 'height_mm = 400'), "exceed"),
    (lambda s: s.replace('body_pt = 12', 'body_pt = "big"'), "body_pt"),
    (lambda s: s + "\n[[section\n", "cannot read"),
])
def test_bad_layouts_refused(tmp_path, edit, message):
    from riskmap.paths import TEMPLATES_DIR
    from riskmap.printing.card_template import load_card_template

    bad = tmp_path / "bad.toml"
    bad.write_text(edit((TEMPLATES_DIR / "card.toml").read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(RiskmapError, match=message) as err:
        load_card_template(bad)
    assert "bad.toml" in str(err.value.where)


def test_layout_paper_checked():
    from riskmap.printing.card_template import load_card_template

    with pytest.raises(RiskmapError, match="A4, A5"):
        load_card_template("card").scaled_to("A3")
    board = load_card_template("board")
    assert board.scaled_to("A1").scale == pytest.approx(594 / 297)


def test_english_cards(plant, tmp_path):
    from riskmap.printing.cards import export_cards
    from riskmap.store import Project

    out = tmp_path / "en.pdf"
    with Project.open(plant[0], readonly=True) as project:
        export_cards(project, plant[1], out, lang="en")
        with pytest.raises(RiskmapError, match="zh or en"):
            export_cards(project, plant[1], tmp_path / "fr.pdf", lang="fr")
    text = " ".join(pdf_text(out, 1).split())
    for word in ("Safety risk notice card", "Risk point", "Hazards", "Control", "measures", "Emergency", "major risk",
                 "Area", "LEC, D = 900", "液氨储罐区", "Warning", "poisoning", "Fire 119", "Ambulance 120", "duty phone",
                 "Date: 20"):
        assert word in text, word
    assert not (tmp_path / "fr.pdf").exists()


def test_board_table_of_many_points_says_what_it_left_out(qapp):
    """60 points with long texts on an A3 poster: the table shrinks to the smallest size, shortens its cells,
    then leaves rows out and says how many (the cards have them all)."""
    from riskmap.printing.card_template import load_card_template
    from riskmap.printing.cards import BoardPainter, Card, Context

    tpl = load_card_template("board").scaled_to("A3")
    cards = [Card(name=f"风险点{i:02d}", level=1 + i % 4, category="device", hazard_factors=LONG,
                  control_measures=LONG, responsible_person="张三", responsible_phone="13800000000") for i in range(60)]
    few = cards[:5]
    for these, left_out in ((few, 0), (cards, None)):
        bp = BoardPainter(tpl, Context("示例化工", level=1), these, None, dpi=60)
        img = sheet_image(bp.sheet)
        p = QPainter(img)
        try:
            bp.paint(p)
        finally:
            p.end()
        if left_out == 0:
            assert bp.table_note == ""
        else:
            n = int(bp.table_note.split("另有 ")[1].split(" ")[0])
            assert 0 < n < 60 and "未列出" in bp.table_note
