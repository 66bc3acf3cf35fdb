"""User text never runs as template source: not in the web map (folium/branca compile Jinja), not in print
layouts (``{placeholder}`` texts), not in the identify panel's rich text. Names that look like templates are
exported as written, and a payload that would run a shell command runs nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from riskmap.export.options import ExportOptions

POPPLER = shutil.which("pdftotext") is not None


def hostile_names(marker) -> list[str]:
    """Template payloads: arithmetic, a broken block tag, and one that would create ``marker`` if run."""
    return [
        "{{7*7}}化工有限公司",
        "{% if x %}加油站",
        "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}",
        "{#注释#}{{ config }}",
        "${7*7}{title}{unit.__class__}",
    ]


@pytest.fixture
def hostile_project(demo_copy, tmp_path):
    """The demo with five enterprises (one red among them) and one town renamed to template payloads."""
    from riskmap.model import Enterprise, Zone
    from riskmap.store import Project

    marker = tmp_path / "PWNED"
    names = hostile_names(marker)
    with Project.open(demo_copy) as project:
        with project.session(history=False) as s:
            ents = s.query(Enterprise).order_by(Enterprise.level, Enterprise.id).limit(len(names)).all()
            for e, name in zip(ents, names):
                e.name = name
            town = s.query(Zone).filter(Zone.kind == "town").order_by(Zone.id).first()
            town.name = "{{7*7}}镇"
    return demo_copy, names, marker


def page_data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="riskmap-data">(.*?)</script>', page, re.S)
    assert m, "the page data block"
    return json.loads(m.group(1))


def test_web_map_writes_template_names_as_text(hostile_project, tmp_path):
    from riskmap.export.base import collect_layers
    from riskmap.export.webmap import export_html
    from riskmap.store import Project

    path, names, marker = hostile_project
    out = tmp_path / "web.html"
    with Project.open(path, readonly=True) as project:
        export_html(collect_layers(project), out, title="{{7*7}} 标题 {% raw %}", subtitle="{{ self }}")
    assert not marker.exists(), "a template payload ran a shell command"
    page = out.read_text(encoding="utf-8")
    data = page_data(page)
    ents = next(x for x in data["layers"] if x["id"] == "enterprises")
    shown = {f["properties"]["_n"] for f in ents["features"]["features"]}
    for name in names:
        assert name in shown, name
    towns = next(x for x in data["layers"] if x["id"] == "towns")
    assert "{{7*7}}镇" in {f["properties"]["_n"] for f in towns["features"]["features"]}
    assert data["title"] == "{{7*7}} 标题 {% raw %}" and data["subtitle"] == "{{ self }}"
    assert "<title>{{7*7}} 标题 {% raw %}" in page
    assert "49 标题" not in page and "49化工" not in page


def test_web_map_template_names_in_chromium(hostile_project, tmp_path, chromium):
    from urllib.parse import quote

    from riskmap.export.base import collect_layers
    from riskmap.export.webmap import export_html
    from riskmap.store import Project

    path, names, marker = hostile_project
    out = tmp_path / "web.html"
    with Project.open(path, readonly=True) as project:
        export_html(collect_layers(project), out)
    r = chromium(out.resolve().as_uri() + "#q=" + quote("{{7*7}}化工"), "--dump-dom")
    dom = r.stdout
    assert 'data-riskmap-search="done"' in dom and "data-riskmap-ready" in dom
    popup = dom[dom.index('class="rm-popup"'):]
    assert "{{7*7}}化工有限公司" in popup[:2000]
    assert not marker.exists()


def test_web_map_command_with_template_names(hostile_project, tmp_path):
    import sys

    path, names, marker = hostile_project
    out = tmp_path / "cli.html"
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "export", str(path), "--format", "html", "--out",
                        str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert not marker.exists()
    assert names[1] in out.read_text(encoding="utf-8")


def test_print_placeholders_take_plain_names_only():
    from riskmap.printing.template import fill_placeholders

    values = {"unit": "{title}", "title": "T", "date": "2026-01-01"}
    assert fill_placeholders("编制单位：{unit}", values) == "编制单位：{title}"  # values are not re-read
    assert fill_placeholders("{unit.__class__}{unit[0]}{date:>20}", values) == "{unit.__class__}{unit[0]}{date:>20}"
    assert fill_placeholders("{missing} {date}", values) == "{missing} 2026-01-01"


@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed (scripts/system-deps.sh test)")
def test_print_writes_template_text_as_text(hostile_project, qapp, tmp_path):
    from riskmap.printing.export import ensure_app, export_print
    from riskmap.store import Project

    ensure_app()
    path, names, marker = hostile_project
    out = tmp_path / "p.pdf"
    with Project.open(path, readonly=True) as project:
        export_print(project, "pdf", ExportOptions(out=out, paper="A3", orientation="landscape",
                                                   title="{{7*7}}标题", unit="{title}{unit.__class__}单位"))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "{{7*7}}标题" in text
    assert "{title}{unit.__class__}单位" in text.replace("\n", "")
    assert not marker.exists()
