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

import contextlib
import datetime as dt
import threading
from pathlib import Path

from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.printing.briefing_data import BriefingData, collect
from riskmap.printing.briefing_template import load_briefing_template
from riskmap.progress import EXPORT_CANCELLED, Cancel, Progress, Steps

__all__ = ["FORMATS", "BriefingData", "collect", "make_briefing"]

FORMATS = ("docx", "pdf")
_memo = threading.local()
_memo_lock = threading.Lock()
_memo_users = [0, None]  # briefings running, the original function


@contextlib.contextmanager
def levels_read_once():
    """Within a briefing, the levels of a date are read from the assessments once.

    The statistics, the snapshot, the changes and the map of a briefing each ask
    :func:`riskmap.grading.enterprise.levels_at` for the same two dates (seven reads of the dated records,
    each a window over every assessment). While this is active, the calls made on this thread are answered
    from the first read of each (database, date); other threads read as usual.
    """
    import riskmap.asof as asof
    import riskmap.grading.enterprise as ge

    def cached(conn, at):
        cache = getattr(_memo, "cache", None)
        if cache is None:
            return _memo_users[1](conn, at)
        key = (id(conn.engine), str(conn.engine.url), at)
        if key not in cache:
            cache[key] = _memo_users[1](conn, at)
        ids, lv = cache[key]
        return ids.copy(), lv.copy()

    with _memo_lock:
        if _memo_users[0] == 0:
            _memo_users[1] = ge.levels_at
            ge.levels_at = cached
            if getattr(asof, "_levels_arrays", None) is _memo_users[1]:
                asof._levels_arrays = cached
        _memo_users[0] += 1
    _memo.cache = {}
    try:
        yield
    finally:
        _memo.cache = None
        with _memo_lock:
            _memo_users[0] -= 1
            if _memo_users[0] == 0:
                if getattr(asof, "_levels_arrays", None) is ge.levels_at:
                    asof._levels_arrays = _memo_users[1]
                ge.levels_at = _memo_users[1]


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
    with levels_read_once():
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
