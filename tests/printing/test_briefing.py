"""The briefing (研判简报, ``riskmap report``): DOCX read back with python-docx, PDF read back with pdftotext; its
figures equal ``riskmap stats --json --at`` and ``riskmap changes --json`` for the same dates; names that look
like templates come out as written; a missing template is one clear line."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import struct
import subprocess

import pytest

POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdftoppm") is not None
D1, D2 = "2025-11-01", "2026-11-01"  # the demo's dated history ends on its "today", 2026-11-01
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _json(cli, *args) -> dict:
    code, out, err = cli(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def _rows(table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


def _find_table(doc, first_header: str, column: int = 0):
    for t in doc.tables:
        if t.rows[0].cells[column].text == first_header:
            return _rows(t)
    raise AssertionError(f"no table headed {first_header!r}: {[t.rows[0].cells[0].text for t in doc.tables]}")


def _change(before: int, after: int) -> str:
    d = after - before
    return "持平" if d == 0 else (f"+{d}" if d > 0 else f"−{-d}")


@pytest.fixture(scope="module", autouse=True)
def _widgets_app(qapp):
    """pytest-qt's QApplication (a widgets one) before the briefing paints, so UI tests can follow in the
    same run (a QGuiApplication made first would be the process's only application)."""
    return qapp


@pytest.fixture(scope="module")
def demo_docx(_widgets_app, demo_path, tmp_path_factory):
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from riskmap.cli import main

    out = tmp_path_factory.mktemp("briefing") / "简报.docx"
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main(["report", str(demo_path), "--from", D1, "--to", D2, "--format", "docx", "--out", str(out),
                     "--issue", "7", "--org", "会宁县应急管理局"])
    assert code == 0, err.getvalue()
    return out


# ----------------------------------------------------------------------------------------------- DOCX
def test_docx_figures_equal_stats_at_both_dates(demo_docx, demo_path, cli):
    from docx import Document

    doc = Document(str(demo_docx))
    st1 = _json(cli, "stats", demo_path, "--at", D2)
    st0 = _json(cli, "stats", demo_path, "--at", D1)
    fig = {r[0]: r[1:] for r in _find_table(doc, "指标")[1:]}
    expect = {"企业总数（家）": (st0["enterprises"], st1["enterprises"]),
              "重大风险企业（家）": (st0["by_level"]["1"], st1["by_level"]["1"]),
              "较大风险企业（家）": (st0["by_level"]["2"], st1["by_level"]["2"]),
              "一般风险企业（家）": (st0["by_level"]["3"], st1["by_level"]["3"]),
              "低风险企业（家）": (st0["by_level"]["4"], st1["by_level"]["4"]),
              "未评估企业（家）": (st0["by_level"]["none"], st1["by_level"]["none"]),
              "未销号重大隐患（项）": (st0["hidden_dangers"]["open_by_grade"]["major"],
                                 st1["hidden_dangers"]["open_by_grade"]["major"]),
              "逾期重大隐患（项）": (st0["hidden_dangers"]["overdue_by_grade"]["major"],
                               st1["hidden_dangers"]["overdue_by_grade"]["major"])}
    for label, (before, after) in expect.items():
        assert fig[label] == [str(before), str(after), _change(before, after)], label
    # the history moved something: the two dates differ
    assert st0["enterprises"] != st1["enterprises"] or st0["by_level"] != st1["by_level"]
    # red and orange towns: the demo levels towns by 就高 (max), so a town is red when it holds a red enterprise
    # and orange when its highest is orange — counted by hand from the statistics, and by riskmap zone --at
    for st, col in ((st0, 0), (st1, 1)):
        towns = st["by_town"].values()
        red = sum(1 for t in towns if t["1"] > 0)
        orange = sum(1 for t in towns if t["1"] == 0 and t["2"] > 0)
        assert int(fig["红色（重大风险）镇街（个）"][col]) == red
        assert int(fig["橙色（较大风险）镇街（个）"][col]) == orange
    zoned = _json(cli, "zone", demo_path, "--unit", "town", "--at", D2)
    assert int(fig["红色（重大风险）镇街（个）"][1]) == zoned["summary"]["1"]
    assert int(fig["橙色（较大风险）镇街（个）"][1]) == zoned["summary"]["2"]
    # the summary sentence says the same
    text = "\n".join(p.text for p in doc.paragraphs)
    b = st1["by_level"]
    assert (f"共有纳入管理的企业{st1['enterprises']}家" in text and f"重大风险{b['1']}家、较大风险{b['2']}家、"
            f"一般风险{b['3']}家、低风险{b['4']}家" in text), text


def test_docx_town_table_equals_stats_by_town(demo_docx, demo_path, cli):
    from docx import Document

    doc = Document(str(demo_docx))
    st1 = _json(cli, "stats", demo_path, "--at", D2)
    rows = _find_table(doc, "镇街")
    assert rows[0][:7] == ["镇街", "重大", "较大", "一般", "低", "未评估", "合计"]
    body, total = rows[1:-1], rows[-1]
    assert {r[0] for r in body} == set(st1["by_town"])
    for r in body:
        t = st1["by_town"][r[0]]
        assert [int(x) for x in r[1:7]] == [t["1"], t["2"], t["3"], t["4"], t["none"], t["total"]], r
        # the zone level is written out, so the table reads in black and white
        expected = ("重大风险（红）" if t["1"] else "较大风险（橙）" if t["2"] else "一般风险（黄）" if t["3"]
                    else "低风险（蓝）")
        assert r[7] == expected, r
    b = st1["by_level"]
    assert total[0] == "合计" and [int(x) for x in total[1:7]] == [b["1"], b["2"], b["3"], b["4"], b["none"],
                                                                   st1["enterprises"]]


def test_docx_lists_raised_and_overdue_major_dangers(demo_docx, demo_path, cli):
    from docx import Document

    doc = Document(str(demo_docx))
    ch = _json(cli, "changes", demo_path, "--from", D1, "--to", D2)
    assert ch["raised"], "the demo history raises enterprises in this period"
    raised = _find_table(doc, "企业", column=1)
    assert raised[0] == ["序号", "企业", "镇街", "行业", "原等级", "现等级", "变更日期", "依据"]
    names = {"1": "重大风险（红）", "2": "较大风险（橙）", "3": "一般风险（黄）", "4": "低风险（蓝）"}
    assert [(r[1], r[4], r[5], r[6]) for r in raised[1:]] == [
        (r["name"], names[str(r["from"])], names[str(r["to"])], r["at"]) for r in ch["raised"]]
    major = [r for r in ch["dangers_overdue"] if r["grade"] == "major"]
    assert major
    dangers = _find_table(doc, "隐患", column=1)
    assert [(r[1], r[2], r[4], r[6]) for r in dangers[1:]] == [
        (r["title"], r["enterprise"], r["deadline"], "是" if r["supervised"] else "否") for r in major]
    for r in dangers[1:]:  # days overdue, by hand
        assert int(r[5]) == (dt.date.fromisoformat(D2) - dt.date.fromisoformat(r[4])).days
    st1 = _json(cli, "stats", demo_path, "--at", D2)
    assert len(dangers) - 1 == st1["hidden_dangers"]["overdue_by_grade"]["major"]
    enc = _find_table(doc, "防护目标", column=1)
    assert [r[1] for r in enc[1:]] == [r["target"] for r in ch["encroachments_new"]]


def test_docx_map_picture_fonts_and_demo_mark(demo_docx):
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document(str(demo_docx))
    shapes = doc.inline_shapes
    assert len(shapes) >= 2  # the map and the indicator chart
    blip = shapes[0]._inline.graphic.graphicData.pic.blipFill.blip
    png = doc.part.related_parts[blip.embed].blob
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", png[16:24])
    assert (w, h) == (round(160 / 25.4 * 200), round(120 / 25.4 * 200))  # 160 × 120 mm at 200 dpi
    assert abs(shapes[0].width.mm - 156) < 1  # the A4 text width (210 − 28 − 26 mm)
    fonts = {}
    for name in ("Normal", "Title", "Heading 1", "Heading 2"):
        rfonts = doc.styles[name].element.rPr.find(qn("w:rFonts"))
        fonts[name] = rfonts.get(qn("w:eastAsia"))
    assert fonts == {"Normal": "仿宋_GB2312", "Title": "方正小标宋简体", "Heading 1": "黑体", "Heading 2": "楷体_GB2312"}
    assert doc.styles["Normal"].font.size.pt == 16 and doc.styles["Title"].font.size.pt == 22
    first = [p.text for p in doc.paragraphs[:3]]
    assert first[0] == "会宁县安全风险研判简报（示例数据）" and first[1] == "2026年第7期"
    assert first[2].startswith("编制单位：会宁县应急管理局")
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["一、总体情况", "二、安全风险“一张图”", "三、各镇街风险情况"]
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"][:2] == ["（一）总体态势",
                                                                                  "（二）主要数字与上期比较"]
    for sec in doc.sections:  # every page of a demo: the header and the footer say 示例数据
        assert "示例数据" in "".join(p.text for p in sec.header.paragraphs)
        assert "示例数据" in "".join(p.text for p in sec.footer.paragraphs)
    tbl = doc.tables[0]._element  # borders and a grey header row, repeated on every page
    assert tbl.find(f"{qn('w:tblPr')}/{qn('w:tblBorders')}") is not None
    first_row = tbl.findall(qn("w:tr"))[0]
    assert first_row.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None
    assert first_row.find(f".//{qn('w:shd')}").get(qn("w:fill")) == "D9D9D9"


# ----------------------------------------------------------------------------------------------- PDF
@pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext, pdftoppm) not installed")
def test_pdf_text_figures_and_demo_mark_on_every_page(demo_path, cli, tmp_path):
    out = tmp_path / "简报.pdf"
    code, stdout, err = cli("report", demo_path, "--from", D1, "--to", D2, "--out", out, "--issue", "7")
    assert code == 0, err
    assert out.read_bytes()[:5] == b"%PDF-"
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 3 and "595.276 x 841.89" in info  # A4
    st1 = _json(cli, "stats", demo_path, "--at", D2)
    st0 = _json(cli, "stats", demo_path, "--at", D1)
    for i in range(1, pages + 1):
        text = subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), "-layout", str(out), "-"],
                              capture_output=True, text=True).stdout
        assert "示例数据" in text, f"page {i}"
        assert re.search(rf"第\s*{i}\s*页\s*共\s*{pages}\s*页", text), f"page {i}"
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True).stdout
    assert "会宁县安全风险研判简报（示例数据）" in text and "2026年第7期" in text
    row = re.search(r"企业总数（家）\s+(\d+)\s+(\d+)\s+(\S+)", text)
    assert row.groups() == (str(st0["enterprises"]), str(st1["enterprises"]),
                            _change(st0["enterprises"], st1["enterprises"]))
    for label, key in (("重大风险企业（家）", "1"), ("较大风险企业（家）", "2"), ("低风险企业（家）", "4")):
        row = re.search(rf"{label}\s+(\d+)\s+(\d+)", text)
        assert row.groups() == (str(st0["by_level"][key]), str(st1["by_level"][key])), label
    major = st1["hidden_dangers"]["overdue_by_grade"]["major"]
    assert re.search(rf"逾期重大隐患（项）\s+\d+\s+{major}\s", text)
    png = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "2", str(out), str(png)], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == 2


# ----------------------------------------------------------------------------------------------- safety
def _hostile_briefing_project(demo_copy, cli, marker):
    """The demo with the raised enterprises, the overdue 重大隐患 and one town named like templates."""
    from export.test_template_injection import hostile_names

    from riskmap.model import Enterprise, HiddenDanger, Zone
    from riskmap.store import Project

    names = hostile_names(marker)
    ch = _json(cli, "changes", demo_copy, "--from", D1, "--to", D2)
    raised = [r["id"] for r in ch["raised"]]
    overdue = [r["id"] for r in ch["dangers_overdue"] if r["grade"] == "major"]
    with Project.open(demo_copy) as project:
        with project.session(history=False) as s:
            for i, name in zip(raised, names):
                s.get(Enterprise, i).name = name
            for i, name in zip(overdue, reversed(names)):
                s.get(HiddenDanger, i).title = name
            s.query(Zone).filter(Zone.kind == "town").order_by(Zone.id).first().name = "{{7*7}}镇"
    used = names[:len(raised)] + list(reversed(names))[:len(overdue)]
    assert len(used) >= 3
    return used


def test_hostile_names_come_out_literally(demo_copy, cli, tmp_path):
    from docx import Document

    marker = tmp_path / "PWNED"
    used = _hostile_briefing_project(demo_copy, cli, marker)
    tpl = tmp_path / "mine.toml"
    from riskmap.printing.briefing_template import DEFAULT_DOCX, DEFAULT_SECTIONS

    shutil.copy(DEFAULT_DOCX, tmp_path / "briefing.docx")
    tpl.write_text(DEFAULT_SECTIONS.read_text(encoding="utf-8").replace(
        'heading = "八、研判意见及工作建议"', 'heading = "八、{org}的意见（{issue}）{x.__class__}"'), encoding="utf-8")
    out = tmp_path / "h.docx"
    code, _, err = cli("report", demo_copy, "--from", D1, "--to", D2, "--out", out, "--template", tpl,
                       "--org", "{place}{{7*7}}局", "--issue", "{% raw %}")
    assert code == 0, err
    assert not marker.exists(), "a template payload ran a shell command"
    doc = Document(str(out))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    paras = [p.text for p in doc.paragraphs]
    for name in used:
        assert name in cells, name
    assert "{{7*7}}镇" in cells
    assert paras[2].startswith("编制单位：{place}{{7*7}}局") and paras[1] == "2026年第{% raw %}期"
    # the template's own placeholders are filled once; a value holding a placeholder stays as written
    assert "八、{place}{{7*7}}局的意见（{% raw %}）{x.__class__}" in paras
    every = "\n".join(cells + paras)
    assert "49化工" not in every and "49镇" not in every and "会宁县{{7*7}}局" not in every
    if POPPLER:
        pdf = tmp_path / "h.pdf"
        code, _, err = cli("report", demo_copy, "--from", D1, "--to", D2, "--out", pdf, "--org", "{{7*7}}局")
        assert code == 0, err
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "{{7*7}}镇" in text and "编制单位：{{7*7}}局" in text and "49镇" not in text
        assert not marker.exists()


def test_missing_or_bad_template_is_one_clear_line(demo_path, cli, tmp_path):
    out = tmp_path / "x.docx"
    code, stdout, err = cli("report", demo_path, "--from", D1, "--to", D2, "--out", out,
                            "--template", tmp_path / "没有.toml")
    assert code == 2 and "找不到简报模板文件" in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists() and not list(tmp_path.iterdir())
    bad = tmp_path / "bad.toml"
    bad.write_text('[[sections]]\nkind = "poem"\n', encoding="utf-8")
    code, _, err = cli("report", demo_path, "--from", D1, "--to", D2, "--out", out, "--template", bad)
    assert code == 2 and "未知的章节类型" in err and len(err.strip().splitlines()) == 1, err
    nodocx = tmp_path / "nodocx.toml"
    nodocx.write_text('docx = "gone.docx"\n[[sections]]\nkind = "summary"\n', encoding="utf-8")
    code, _, err = cli("report", demo_path, "--from", D1, "--to", D2, "--out", out, "--template", nodocx)
    assert code == 2 and "Word 文件" in err, err
    notword = tmp_path / "notword.docx"
    notword.write_text("not a zip", encoding="utf-8")
    code, _, err = cli("report", demo_path, "--from", D1, "--to", D2, "--out", out, "--template", notword)
    assert code == 2 and "不是有效的 Word 文件" in err, err
    code, _, err = cli("report", demo_path, "--from", D2, "--to", D1, "--out", out)
    assert code == 2 and "晚于" in err
    code, _, err = cli("report", demo_path, "--from", D1, "--to", D2, "--out", tmp_path / "x.odt")
    assert code == 2 and "docx" in err
    assert not out.exists()


def test_user_template_sections_and_page_setup(demo_path, tmp_path):
    """A copied Word file with other margins and a section list of its own: both are used."""
    from docx import Document
    from docx.shared import Mm

    from riskmap.printing.briefing import make_briefing
    from riskmap.printing.briefing_template import DEFAULT_DOCX
    from riskmap.store import Project

    word = Document(str(DEFAULT_DOCX))
    word.sections[0].left_margin = Mm(40)
    word.save(str(tmp_path / "ours.docx"))
    (tmp_path / "ours.toml").write_text(
        'docx = "ours.docx"\ntitle = "{place}风险形势简报"\n'
        '[[sections]]\nkind = "summary"\nheading = "一、形势"\n'
        '[[sections]]\nkind = "text"\nheading = "二、建议"\ntext = "第一条。\\n第二条。"\n', encoding="utf-8")
    out = tmp_path / "o.docx"
    with Project.open(demo_path, readonly=True) as project:
        make_briefing(project, out, start=dt.date(2026, 5, 1), end=dt.date(2026, 11, 1),
                      template=tmp_path / "ours.toml")
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "会宁县风险形势简报（示例数据）"
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"] == ["一、形势", "二、建议"]
    assert "第二条。" in [p.text for p in doc.paragraphs]
    assert len(doc.inline_shapes) == 0 and abs(doc.sections[0].left_margin.mm - 40) < 0.1


def test_cancel_writes_nothing(demo_path, tmp_path):
    from riskmap.printing.briefing import make_briefing
    from riskmap.progress import Cancelled
    from riskmap.store import Project

    seen = []
    out = tmp_path / "c.pdf"
    with Project.open(demo_path, readonly=True) as project:
        with pytest.raises(Cancelled):
            make_briefing(project, out, start=dt.date(2026, 5, 1), end=dt.date(2026, 11, 1),
                          progress=lambda f, m: seen.append(f), cancel=lambda: len(seen) > 3)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_new_project_without_data(pingyin_path, tmp_path):
    """A real county's new project (boundary only, no enterprises, no demo mark) still gets its briefing."""
    from docx import Document

    from riskmap.printing.briefing import make_briefing
    from riskmap.store import Project

    out = tmp_path / "p.docx"
    with Project.open(pingyin_path, readonly=True) as project:
        make_briefing(project, out, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30), org="平阴县应急管理局")
    doc = Document(str(out))
    assert doc.paragraphs[0].text == "平阴县安全风险研判简报"
    every = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
                      + [p.text for s in doc.sections for p in s.header.paragraphs + s.footer.paragraphs])
    assert "示例数据" not in every
    fig = {r[0]: r[1:] for r in _find_table(doc, "指标")[1:]}
    assert fig["企业总数（家）"] == ["0", "0", "持平"]
    assert len(doc.inline_shapes) == 1  # the map (the county boundary); no indicators, no chart


def test_long_lists_show_the_most_serious_rows_and_say_how_many():
    from types import SimpleNamespace

    from riskmap.printing import briefing_rows as rows

    raised = [{"id": i, "name": f"企业{i}", "from": 4, "to": 3 if i % 7 else 1, "at": "2026-05-01"}
              for i in range(1, 61)]
    t = rows.raised_table(SimpleNamespace(raised=raised))
    assert len(t.body) == rows.MAX_ROWS == 50
    to_red = [r["name"] for r in raised if r["to"] == 1]
    assert [r[1] for r in t.body[:len(to_red)]] == to_red  # raised to 重大 first
    assert "共60家" in t.note and "50家" in t.note
    short = rows.raised_table(SimpleNamespace(raised=raised[:5]))
    assert [r[1] for r in short.body] == [r["name"] for r in raised[:5]] and short.note == ""


def test_levels_and_tables_are_read_once_per_briefing(demo_path, tmp_path, monkeypatch):
    import riskmap.asof as asof
    import riskmap.grading.enterprise as ge
    from riskmap.printing.briefing import make_briefing
    from riskmap.store import Project

    original, calls = ge.levels_at, []

    def counting(conn, at):
        calls.append(at)
        return original(conn, at)

    monkeypatch.setattr(ge, "levels_at", counting)
    with Project.open(demo_path, readonly=True) as project:
        reads = []
        real = project._read_table
        monkeypatch.setattr(project, "_read_table",
                            lambda t, w, c: reads.append((t, w, c and tuple(c))) or real(t, w, c))
        make_briefing(project, tmp_path / "m.docx", start=dt.date(2026, 5, 1), end=dt.date(2026, 11, 1))
        assert sorted(calls) == [dt.date(2026, 5, 1), dt.date(2026, 11, 1)]  # once per date
        assert len(reads) == len(set(reads)) and all(c is None for _, _, c in reads)  # each table read once, whole
        calls.clear()
        asof.levels_at(project, dt.date(2026, 11, 1))  # outside a briefing: read again, nothing kept
        asof.levels_at(project, dt.date(2026, 11, 1))
        assert calls == [dt.date(2026, 11, 1)] * 2
