"""Print layouts: PDF page size, embedded CJK font, extractable text, atlas pages, PNG pixels and strips,
SVG, templates and the export command. PDFs are read back with poppler (pdfinfo, pdftotext, pdffonts)."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from riskmap.errors import RiskmapError
from riskmap.export.options import ExportOptions

POPPLER = all(shutil.which(t) for t in ("pdfinfo", "pdftotext", "pdffonts", "pdfimages"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed (scripts/system-deps.sh test)")


def pdfinfo(path) -> dict:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in out.splitlines() if ":" in ln)}


def pdftext(path, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.fixture
def gui(qapp):
    """pytest-qt's QApplication (a widgets one, so UI tests can follow in the same run) with the fonts."""
    from riskmap.printing.export import ensure_app

    return ensure_app()


@pytest.fixture(scope="module")
def a3_pdf(demo_open, qapp, tmp_path_factory):
    from riskmap.printing.export import ensure_app

    ensure_app()
    from riskmap.printing.export import export_print

    out = tmp_path_factory.mktemp("print") / "一张图.pdf"
    export_print(demo_open, "pdf", ExportOptions(out=out, paper="A3", orientation="landscape",
                                                 title="会宁县安全风险四色图", unit="示例应急管理局"))
    return out


@needs_poppler
def test_pdf_page_size_font_and_text(a3_pdf):
    info = pdfinfo(a3_pdf)
    w, h = map(float, re.match(r"([\d.]+) x ([\d.]+) pts", info["Page size"]).groups())
    assert (w, h) == pytest.approx((420 / 25.4 * 72, 297 / 25.4 * 72), abs=0.01)  # 1190.55 × 841.89
    assert info["Pages"] == "1"
    assert info["Title"] == "会宁县安全风险四色图（示例数据）"
    fonts = subprocess.run(["pdffonts", str(a3_pdf)], capture_output=True, text=True, check=True).stdout
    cjk = [ln for ln in fonts.splitlines() if "NotoSansCJK" in ln]
    assert cjk and all(ln.split()[-5] == "yes" for ln in cjk), fonts  # the 'emb' column
    assert b"/FontFile" in a3_pdf.read_bytes()
    text = pdftext(a3_pdf)
    assert "会宁县安全风险四色图" in text  # 风 and 色 come back as themselves, not as radicals
    assert "示例数据" in text and "编制单位：示例应急管理局" in text
    assert "各镇街企业风险等级统计" in text and "图例" in text


@needs_poppler
def test_pdf_map_is_vector(a3_pdf):
    images = subprocess.run(["pdfimages", "-list", str(a3_pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 2  # the header lines only: no raster image in the page


@needs_poppler
def test_atlas_has_one_page_per_town(demo_open, demo_tables, gui, tmp_path):
    from riskmap.printing.export import export_print

    out = tmp_path / "atlas.pdf"
    export_print(demo_open, "pdf", ExportOptions(out=out, atlas="town", paper="A4", orientation="landscape"))
    towns = sorted(demo_tables["towns"]["name"])
    info = pdfinfo(out)
    assert int(info["Pages"]) == len(towns)
    w, h = map(float, re.match(r"([\d.]+) x ([\d.]+) pts", info["Page size"]).groups())
    assert (w, h) == pytest.approx((297 / 25.4 * 72, 210 / 25.4 * 72), abs=0.01)
    for k in (1, len(towns)):
        text = pdftext(out, k)
        assert f"{towns[k - 1]}安全风险四色图" in text
        assert "示例数据" in text


def _nearest_level(rgb, levels) -> int:
    return min(levels, key=lambda n: sum((a - b) ** 2 for a, b in zip(rgb, levels[n])))


def _check_enterprise_pixels(img, pp, demo_source, dpi_scale: float = 1.0):
    """Sample the image at isolated red and blue enterprises; the nearest level colour must be theirs."""
    from riskmap.levels import load_levels

    ents = demo_source.get("enterprises").gdf.to_crs(pp.content.epsg)
    xy = np.column_stack([ents.geometry.x, ents.geometry.y])
    px = (pp.settings.map_to_pixel(xy) + [pp.map_rect.x(), pp.map_rect.y()]) * dpi_scale
    labels = [lab.rect for lab in pp.placed_labels()]
    levels = {n: tuple(int(lv.colour[i:i + 2], 16) for i in (1, 3, 5)) for n, lv in load_levels().levels.items()}
    checked = {1: 0, 4: 0}
    d = np.hypot(px[:, None, 0] - px[None, :, 0], px[:, None, 1] - px[None, :, 1]) / dpi_scale
    np.fill_diagonal(d, np.inf)
    for i in np.argsort(ents["level"].to_numpy(), kind="stable"):
        lv = int(ents["level"].iloc[i])
        if lv not in checked or checked[lv] >= 3 or d[i].min() < 12:  # isolated symbols only (12 px ≈ 3 mm)
            continue
        x, y = px[i] / dpi_scale - [pp.map_rect.x(), pp.map_rect.y()]
        if any(r[0] - 2 <= x <= r[2] + 2 and r[1] - 2 <= y <= r[3] + 2 for r in labels):
            continue
        c = img.pixelColor(int(round(px[i][0])), int(round(px[i][1])))
        assert _nearest_level((c.red(), c.green(), c.blue()), levels) == lv, (lv, c.name())
        checked[lv] += 1
    assert checked[1] >= 1 and checked[4] >= 3


def test_png_pixels_at_red_and_blue_enterprises(demo_open, demo_source, gui, tmp_path):
    from PySide6.QtGui import QImage

    from riskmap.printing.export import export_print, page_painters, prepare

    opts = ExportOptions(out=tmp_path / "a.png", paper="A3", orientation="landscape", dpi=100)
    export_print(demo_open, "png", opts)
    img = QImage(str(opts.out))
    assert (img.width(), img.height()) == (round(420 / 25.4 * 100), round(297 / 25.4 * 100))
    assert abs(img.dotsPerMeterX() * 0.0254 - 100) < 0.1
    content, template, texts = prepare(demo_source, opts)  # where each enterprise lands: the layout's map frame
    _check_enterprise_pixels(img, page_painters(content, template, texts, opts)[0], demo_source)
    assert "示例数据".encode("utf-8") in opts.out.read_bytes()[:4096]  # iTXt Description


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not installed")
def test_pdf_pixels_at_red_and_blue_enterprises(a3_pdf, demo_source, gui, tmp_path):
    """Rasterised by poppler, the vector PDF shows the same colours where the enterprises are."""
    from PySide6.QtGui import QImage

    from riskmap.printing.export import page_painters, prepare

    subprocess.run(["pdftoppm", "-r", "100", "-png", str(a3_pdf), str(tmp_path / "p")], check=True)
    img = QImage(str(next(tmp_path.glob("p*.png"))))
    opts = ExportOptions(out="x.pdf", paper="A3", orientation="landscape", dpi=300, title="会宁县安全风险四色图",
                         unit="示例应急管理局")
    content, template, texts = prepare(demo_source, opts)
    _check_enterprise_pixels(img, page_painters(content, template, texts, opts)[0], demo_source, 100 / 300)


def test_png_strips_match_a_whole_page_render(demo_source, gui, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage, QPainter

    from riskmap.printing import output
    from riskmap.printing.export import page_painters, prepare

    opts = ExportOptions(out=tmp_path / "s.png", paper="A4", orientation="portrait", dpi=72)
    content, template, texts = prepare(demo_source, opts)
    pp = page_painters(content, template, texts, opts)[0]
    monkeypatch.setattr(output, "STRIP_BYTES", pp.width_px * 4 * 97)  # strips of 97 rows
    info = output.write_png(pp, opts.out, title="t")
    assert info["strip_px"] == 97 and info["strips"] == -(-pp.height_px // 97)
    whole = QImage(pp.width_px, pp.height_px, QImage.Format.Format_RGB32)
    whole.setDotsPerMeterX(round(72 / 0.0254))
    whole.setDotsPerMeterY(round(72 / 0.0254))
    p = QPainter(whole)
    pp.paint(p, rows=(0, pp.height_px))
    p.end()
    strips = QImage(str(opts.out)).convertToFormat(QImage.Format.Format_RGB32)

    def arr(im):
        return np.frombuffer(im.constBits(), np.uint8, count=im.bytesPerLine() * im.height()).reshape(
            im.height(), -1)[:, : im.width() * 4].copy()

    a, b = arr(whole), arr(strips)
    assert a.shape == b.shape
    diff = np.abs(a.astype(int) - b.astype(int)).reshape(pp.height_px, pp.width_px, 4)[..., :3].max(axis=2)
    differ = diff > 24
    assert differ.mean() < 0.0005  # only antialiasing differs (a 1-px seam shift differs at 0.2 %)


def test_svg_is_vector_with_title_and_demo_note(demo_open, gui, tmp_path):
    from riskmap.printing.export import export_print

    out = tmp_path / "a.svg"
    export_print(demo_open, "svg", ExportOptions(out=out, paper="A3", orientation="portrait"))
    root = ET.parse(out).getroot()
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.get("width").startswith("297") and root.get("height").startswith("420")
    assert "示例数据" in root.find("s:title", ns).text and "示例数据" in root.find("s:desc", ns).text
    assert root.find(".//s:image", ns) is None  # no raster image
    assert any("会宁县" in (t.text or "") for t in root.iter("{http://www.w3.org/2000/svg}text"))


def test_templates_scale_and_user_templates(tmp_path, monkeypatch):
    from riskmap.printing.template import load_template, save_user_template, template_files

    t = load_template("standard")
    a3 = t.page("A3", "landscape")
    a0 = t.page("A0", "landscape")
    k = 1189 / 420
    assert a0.size_mm == (1189.0, 841.0)
    m3, m0 = a3.first("map"), a0.first("map")
    assert m0.rect == pytest.approx(tuple(v * k for v in m3.rect))
    assert a0.first("title").get("size_pt") == pytest.approx(a3.first("title").get("size_pt") * k)
    monkeypatch.setenv("RISKMAP_TEMPLATES_DIR", str(tmp_path))
    path = save_user_template(t, "我的模板")
    assert "我的模板" in template_files() and load_template("我的模板").page("A4", "portrait").first("map")
    bad = tmp_path / "bad.json"
    bad.write_text('{"pages": {"landscape": [{"type": "teapot", "rect": [0, 0, 1, 1]}]}}', encoding="utf-8")
    with pytest.raises(RiskmapError, match="未知的版式元素类型"):
        load_template(str(bad))
    with pytest.raises(RiskmapError, match="不支持的纸张"):
        t.page("B5", "portrait")
    assert path.exists()


@needs_poppler
def test_export_command_writes_a3_landscape_pdf(demo_path, tmp_path):
    import os
    import sys

    out = tmp_path / "cli.pdf"
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "export", str(demo_path), "--format", "pdf", "--out",
                        str(out), "--paper", "A3", "--orientation", "landscape", "--title", "命令行标题"],
                       capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert r.returncode == 0, r.stderr
    assert pdfinfo(out)["Page size"].startswith("1190.55 x 841.89")
    assert "命令行标题" in pdftext(out)
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "export", str(demo_path), "--out", str(tmp_path / "x.png"),
                        "--atlas", "town"], capture_output=True, text=True)
    assert r.returncode == 2 and "PDF" in r.stderr and "Traceback" not in r.stderr


def test_cancelled_print_leaves_nothing(demo_open, gui, tmp_path):
    from riskmap.progress import Cancelled
    from riskmap.printing.export import export_print

    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 5

    with pytest.raises(Cancelled, match="导出已取消"):
        export_print(demo_open, "pdf", ExportOptions(out=tmp_path / "c.pdf"), cancel=cancel)
    assert list(tmp_path.iterdir()) == []
