"""The offline web map: nothing remote, loads in headless Chromium without errors, draws the four
colours, and user text that looks like markup stays text."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest

EVIL_SCRIPT = "<script>alert(1)</script>"
EVIL_IMG = "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">"


def file_url(path: Path, fragment: str = "") -> str:
    return Path(path).resolve().as_uri() + fragment


def console_lines(stderr: str) -> list[str]:
    """Console messages and failed loads that Chromium logs for the page."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln or "net::ERR" in ln]


@pytest.fixture(scope="module")
def demo_html(demo_source, tmp_path_factory):
    from riskmap.export.webmap import export_html

    out = tmp_path_factory.mktemp("web") / "一张图.html"
    export_html(demo_source, out)
    return out


def test_single_file_with_no_remote_reference(demo_html):
    page = demo_html.read_text(encoding="utf-8")
    tags = re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", page, re.I)
    assert not [t for t in tags if re.search(r"(?:src|href)\s*=", t, re.I)], "every script and style is inline"
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page, re.I)
    assert not re.search(r"@import", page, re.I)
    assert "示例数据" in page.split("<body", 1)[0]  # in the page title
    assert "L.geoJSON" in page and page.count("L.circleMarker(") == 1  # one layer object per layer, not per feature


def test_chromium_loads_draws_and_logs_no_error(demo_html, demo_source, chromium, tmp_path):
    from PySide6.QtGui import QImage

    from riskmap.levels import load_levels

    shot = tmp_path / "web.png"
    r = chromium(file_url(demo_html), f"--screenshot={shot}", "--window-size=1400,1000")
    assert shot.exists(), r.stderr[-2000:]
    assert console_lines(r.stderr) == []
    img = QImage(str(shot))
    assert img.width() == 1400
    seen = {}
    for y in range(0, img.height(), 2):
        for x in range(0, img.width(), 2):
            c = img.pixelColor(x, y).name().upper()
            seen[c] = seen.get(c, 0) + 1
    levels = load_levels().levels
    ents = demo_source.get("enterprises").gdf
    for n in (1, 4):  # red and blue enterprises are drawn in their colours (the demo has both)
        assert int((ents["level"] == n).sum()) > 0
        assert seen.get(levels[n].colour.upper(), 0) > 0, levels[n].colour
    dom = chromium(file_url(demo_html), "--dump-dom").stdout
    ready = re.search(r'data-riskmap-ready="(\d+)"', dom)
    assert ready, "the page script ran to its end"
    named = 0  # every feature with a name (its label field, else name or title) is searchable
    for x in demo_source.layers:
        cols = [c for c in ((x.layer.label.field,) if x.layer.label else ()) + ("name", "title") if c in x.gdf]
        named += int(x.gdf[cols[0]].notna().sum()) if cols else 0
    assert int(ready.group(1)) == named


def test_search_opens_popup_with_the_five_lists(demo_html, demo_source, chromium):
    ents = demo_source.get("enterprises").gdf
    name = ents[ents["level"] == 1]["name"].iloc[0]
    dom = chromium(file_url(demo_html, "#q=" + quote(name)), "--dump-dom").stdout
    assert 'data-riskmap-search="done"' in dom
    popup = dom[dom.index('class="rm-popup"'):]
    assert name in popup[:2000] and "重大风险" in popup[:2000]
    for section in ("基础信息", "防控责任", "监测监控", "防范措施", "应急处置"):
        assert section in popup


@pytest.fixture
def evil_html(demo_copy, tmp_path):
    """A demo project where two enterprises are named like markup, exported as a web map."""
    from riskmap.export.base import collect_layers
    from riskmap.export.webmap import export_html
    from riskmap.model import Enterprise
    from riskmap.store import Project

    with Project.open(demo_copy) as project:
        with project.session(history=False) as s:
            a, b = s.query(Enterprise).order_by(Enterprise.id).limit(2).all()
            a.name, b.name = EVIL_SCRIPT, EVIL_IMG
        out = tmp_path / "evil.html"
        export_html(collect_layers(project), out)
    return out


def test_markup_in_names_stays_inert(evil_html, chromium):
    page = evil_html.read_text(encoding="utf-8")
    assert EVIL_SCRIPT not in page and "<img src=x" not in page
    for query, shown in ((EVIL_SCRIPT, "&lt;script&gt;alert(1)&lt;/script&gt;"), ("<img", "&lt;img src=x onerror=")):
        r = chromium(file_url(evil_html, "#q=" + quote(query)), "--dump-dom")
        dom = r.stdout
        assert 'data-riskmap-search="done"' in dom
        popup = dom[dom.index('class="rm-popup"'):]
        assert shown in popup  # shown as text in the popup
        html_tag = re.search(r"<html[^>]*>", dom).group(0)
        assert "data-riskmap-ready" in html_tag and "data-pwned" not in html_tag
        assert EVIL_SCRIPT not in dom and "<img src=\"x\"" not in dom
        assert console_lines(r.stderr) == []


def test_page_carries_a_font_for_every_character(demo_html, demo_source):
    """The page brings its own CJK font (a subset of the bundled one) holding a glyph for every character of
    every name it shows, so it reads as Chinese on a machine without a Chinese font."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    page = demo_html.read_text(encoding="utf-8")
    m = re.search(r'@font-face\{font-family:"riskmap CJK";[^}]*url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)', page)
    assert m, "an inlined @font-face"
    font = TTFont(io.BytesIO(base64.b64decode(m.group(1))))
    cmap = font.getBestCmap()
    names = "".join(str(v) for x in demo_source.layers for c in ("name", "title") if c in x.gdf
                    for v in x.gdf[c].dropna())
    wanted = {ch for ch in names + "示例数据企业风险等级重大较大一般低" if not ch.isspace()}
    assert wanted - set(map(chr, cmap)) == set()
    assert len(cmap) < 5000  # a subset, not the whole 44,810-character font
    assert "OFL" in " ".join(str(n) for n in font["name"].names) or "Open Font License" in " ".join(
        str(n) for n in font["name"].names)
