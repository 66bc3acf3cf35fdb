"""One entry point for every export: the print layouts (PDF/PNG/SVG), the offline web map and the data
formats. The CLI and the UI both call :func:`export_project`. Print formats load QtGui; the others don't.
"""

from __future__ import annotations

from pathlib import Path

from riskmap.export.base import collect_layers, export_steps
from riskmap.progress import Cancel, Progress
from riskmap.export.options import PRINT_FORMATS, ExportOptions, as_of_subtitle, resolve_format


def export_project(project, opts: ExportOptions, *, progress: Progress | None = None,
                   cancel: Cancel | None = None) -> Path:
    """Export an open project as ``opts`` says; returns the path written. Nothing is left half-written."""
    fmt = resolve_format(opts)
    steps = export_steps(progress, cancel)
    out = Path(opts.out)
    if fmt in PRINT_FORMATS:
        from riskmap.printing.export import export_print  # QtGui: loaded only for print formats

        return export_print(project, fmt, opts, progress=progress, cancel=cancel)
    read = steps.sub(0.0, 0.3)
    src = collect_layers(project, opts.layers, progress=read.report, cancel=cancel, at=opts.at)
    write = steps.sub(0.3, 1.0)
    kw = {"progress": write.report, "cancel": cancel}
    if fmt == "gpkg":
        from riskmap.export.gpkg import export_gpkg
        export_gpkg(src, out, **kw)
    elif fmt == "shp":
        from riskmap.export.shp import export_shp
        export_shp(src, out, encoding=opts.encoding, **kw)
    elif fmt == "geojson":
        from riskmap.export.geojson import export_geojson
        export_geojson(src, out, **kw)
    elif fmt == "kml":
        from riskmap.export.kml import export_kml
        export_kml(src, out, **kw)
    elif fmt == "dxf":
        from riskmap.export.dxf import export_dxf
        export_dxf(src, out, **kw)
    elif fmt == "xlsx":
        from riskmap.export.xlsx import export_xlsx
        export_xlsx(src, out, **kw)
    elif fmt == "html":
        from riskmap.export.webmap import export_html
        export_html(src, out, title=opts.title, subtitle=as_of_subtitle(opts) or "", **kw)
    steps.report(1.0, "完成")
    return out
