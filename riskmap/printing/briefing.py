"""The briefing (研判简报): a county's risk between two dates, as DOCX (python-docx, for WPS and Word) or PDF
(painted with QtGui, no office suite needed).

Every figure comes from the one source of truth: :func:`riskmap.stats.project_stats` at each date and
:func:`riskmap.asof.changes` between them; the zone colours from :func:`riskmap.asof.snapshot`; the indicators
from :func:`riskmap.indicators.project_progress`; the map is the print pipeline's (``printing.compose``) as of
the end date. The command line (``riskmap report``) and the desktop (文件 → 生成研判简报…) both call
:func:`make_briefing`.

>>> # make_briefing(project, "简报.docx", start=date(2025, 1, 1), end=date(2025, 3, 31), fmt="docx",
>>> #               issue="3", org="某县应急管理局")
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.printing.briefing_data import BriefingData, collect
from riskmap.printing.briefing_template import load_briefing_template
from riskmap.progress import EXPORT_CANCELLED, Cancel, Progress, Steps

__all__ = ["FORMATS", "BriefingData", "collect", "make_briefing"]

FORMATS = ("docx", "pdf")
def make_briefing(project, out: str | Path, *, start: dt.date, end: dt.date, fmt: str | None = None,
                  template: str | Path | None = None, issue: str | None = None, org: str | None = None,
                  progress: Progress | None = None, cancel: Cancel | None = None) -> Path:
    """Write the briefing of ``project`` for ``start`` → ``end`` to ``out`` as ``fmt`` (docx or pdf; default:
    from the suffix). ``template``: a section list (.toml) or a Word file (.docx); ``issue``: 期号;
    ``org``: 编制单位 (default: the project's). Nothing is left half-written; a cancel writes nothing."""
    out = Path(out)
    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RiskmapError(f"简报格式应为 docx 或 pdf: {fmt or out.name}", f"a briefing is docx or pdf: {fmt or out.name}",
                           where="--format")
    tpl = load_briefing_template(template)
    steps = Steps(progress, cancel, message=EXPORT_CANCELLED)
    from riskmap.printing.briefing_paint import ensure_app, indicator_chart, map_image, map_source

    ensure_app()
    kinds = {s.kind for s in tpl.sections}
    images = {}
    with project.shared_reads():  # the statistics, changes and map of the two dates read each table once
        source = map_source(project, end) if "map" in kinds else None
        steps.report(0.2, "读取图层")
        data = collect(project, start, end, issue=issue, org=org, template=tpl, steps=steps.sub(0.2, 0.6),
                       source=source)
        if source is not None:
            images["map"] = map_image(project, end, source=source, steps=steps.sub(0.6, 0.8))
    if "indicators" in kinds and data.indicators:
        images["indicators"] = indicator_chart(data.indicators)
    steps.report(0.85, "写入")
    with atomic_path(out) as tmp:
        if fmt == "docx":
            from riskmap.printing.briefing_docx import write_docx

            write_docx(data, tpl, images, tmp)
        else:
            from riskmap.printing.briefing_pdf import write_pdf

            write_pdf(data, tpl, images, tmp)
        steps.check()
    steps.report(1.0, "完成")
    return out
