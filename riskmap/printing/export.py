"""Print exports of a project: one layout page (PDF, PNG, SVG) or an atlas (one PDF page per unit).

>>> # export_print(project, "pdf", ExportOptions(out="map.pdf", paper="A3"))
"""

from __future__ import annotations

from pathlib import Path

from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.export.base import ExportSource, collect_layers, export_steps
from riskmap.export.options import as_of_subtitle
from riskmap.layers import load_catalogue, raster_catalogue
from riskmap.marks import DEMO_NOTE, demo_title
from riskmap.printing.compose import PagePainter
from riskmap.printing.content import ATLAS_KINDS, PageContent, Texts, atlas_pages, build_content, print_columns
from riskmap.printing.output import write_pdf, write_png, write_svg
from riskmap.printing.template import Template, load_template
from riskmap.render.fonts import ensure_fonts

SUPPORT_LAYERS = ("county", "towns", "enterprises")  # read even when not drawn: overview and statistics


def ensure_app():
    """A QGuiApplication for painting (the CLI has none; offscreen works without a display)."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication(["riskmap"])
    ensure_fonts()
    return app


def visible_layer_ids(layers: list[str] | None) -> list[str]:
    cat = {**load_catalogue(), **raster_catalogue()}  # the plant plans too
    return list(layers) if layers else [k for k, d in cat.items() if d.visible]


def prepare(source: ExportSource, opts, *, extent=None, visible: list[str] | None = None,
            order: list[str] | None = None, progress=None) -> tuple[PageContent, Template, Texts]:
    """Content, template and texts of a print export from options (an ExportOptions or alike)."""
    content = build_content(source, visible if visible is not None else visible_layer_ids(opts.layers),
                            extent=extent, order=order, progress=progress)
    template = load_template(opts.template)
    project = getattr(source, "project", None)
    org = project.meta().get("org") if project is not None else None  # 编制单位 given at riskmap new
    subtitle = as_of_subtitle(opts) if getattr(opts, "at", None) else opts.subtitle
    texts = Texts(title=opts.title, subtitle=subtitle, unit=opts.unit or org or None, date=opts.date,
                  approval_no=opts.approval_no)
    return content, template, texts


def page_painters(content: PageContent, template: Template, texts: Texts, opts) -> list[PagePainter]:
    page = template.page(opts.paper, opts.orientation)
    if opts.atlas:
        units = atlas_pages(content, opts.atlas)
        return [PagePainter(page, c, Texts(**{**texts.__dict__, "title": None}), template, opts.dpi, grid=opts.grid)
                for c in units]
    return [PagePainter(page, content, texts, template, opts.dpi, grid=opts.grid)]


def export_print(project, fmt: str, opts, *, progress=None, cancel=None, source: ExportSource | None = None,
                 extent=None, visible: list[str] | None = None, order: list[str] | None = None) -> Path:
    """Write ``opts.out`` as pdf, png or svg.

    ``source``, ``extent``, ``visible`` and ``order`` let the UI pass what the canvas shows (its layers with
    filters, view, visible layers and drawing order).
    """
    ensure_app()
    steps = export_steps(progress, cancel)
    if source is None:
        wanted = set(visible_layer_ids(opts.layers)) | set(SUPPORT_LAYERS)
        if opts.atlas:
            wanted |= {ATLAS_KINDS[opts.atlas][0], "villages"} if opts.atlas in ATLAS_KINDS else set()
        read = steps.sub(0.0, 0.15)
        source = collect_layers(project, sorted(wanted), progress=read.report, cancel=cancel,
                                at=getattr(opts, "at", None), columns=print_columns)
    if opts.atlas and fmt != "pdf":
        raise RiskmapError("分幅图集只能导出为 PDF", "an atlas is written as PDF only")
    content, template, texts = prepare(source, opts, extent=extent, visible=visible, order=order,
                                       progress=steps.sub(0.15, 0.25).report)
    pages = page_painters(content, template, texts, opts)
    title = pages[0].values["title"] if not opts.atlas else f"{content.default_title}（{len(pages)}幅）"
    title = demo_title(title, content.is_demo)
    desc = DEMO_NOTE if content.is_demo else ""
    write = steps.sub(0.25, 1.0)
    out = Path(opts.out)
    with atomic_path(out) as tmp:
        if fmt == "pdf" and getattr(opts, "geopdf", False):
            from riskmap.printing.geopdf import write_geopdf  # pikepdf: loaded only for a GeoPDF

            write_geopdf(pages, tmp, title=title, steps=write)
        elif fmt == "pdf":
            write_pdf(pages, tmp, title=title, steps=write)
        elif fmt == "png":
            write_png(pages[0], tmp, title=title, description=desc, steps=write)
        elif fmt == "svg":
            write_svg(pages[0], tmp, title=title, description=desc, steps=write)
        else:
            raise RiskmapError(f"不是打印格式: {fmt}", f"not a print format: {fmt}")
    return out
