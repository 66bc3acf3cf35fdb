"""文件 → 生成研判简报…: the briefing (riskmap.printing.briefing.make_briefing) for two dates, written in the
background. The menu item is registered only when the briefing module can be imported."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QT_TR_NOOP, QDate
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QComboBox, QDateEdit, QDialog, QFileDialog, QFormLayout, QLineEdit, QVBoxLayout

from riskmap.progress import Cancelled
from riskmap.ui.forms import ok_cancel, path_row
from riskmap.ui.i18n import tr

log = logging.getLogger("riskmap.ui")
FORMATS = (("docx", QT_TR_NOOP("DOCX（Word/WPS 可编辑）")), ("pdf", "PDF"))


def _qdate(d: dt.date) -> QDate:
    return QDate(d.year, d.month, d.day)


def _pydate(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


class BriefingDialog(QDialog):
    """Dates, 期号, 编制单位, format and file of a briefing."""

    def __init__(self, parent=None, *, start: dt.date, end: dt.date, org: str = "", folder: Path | None = None,
                 name: str = ""):
        super().__init__(parent)
        self.setWindowTitle(tr("生成研判简报"))
        self.setMinimumWidth(480)
        self.folder = folder or Path.home()
        self.name = name or tr("研判简报")
        self.start_edit = QDateEdit(_qdate(start))
        self.end_edit = QDateEdit(_qdate(end))
        for e in (self.start_edit, self.end_edit):
            e.setCalendarPopup(True)
            e.setDisplayFormat("yyyy-MM-dd")
        self.issue_edit = QLineEdit()
        self.issue_edit.setPlaceholderText(tr("如 3（印为“2026年第3期”）"))
        self.org_edit = QLineEdit(org)
        self.format_combo = QComboBox()
        for key, text in FORMATS:
            self.format_combo.addItem(tr(text), key)
        self.path_edit, row = path_row(self._browse)
        self.path_edit.setText(str(self.folder / f"{self.name}.docx"))
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        form = QFormLayout()
        form.addRow(tr("起始日期"), self.start_edit)
        form.addRow(tr("截止日期"), self.end_edit)
        form.addRow(tr("期号"), self.issue_edit)
        form.addRow(tr("编制单位"), self.org_edit)
        form.addRow(tr("格式"), self.format_combo)
        form.addRow(tr("保存为"), row)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(ok_cancel(self, tr("生成")))

    def fmt(self) -> str:
        return self.format_combo.currentData()

    def _format_changed(self, *_):
        text = self.path_edit.text().strip()
        if text:
            self.path_edit.setText(str(Path(text).with_suffix("." + self.fmt())))

    def _browse(self) -> None:
        fmt = self.fmt()
        path, _ = QFileDialog.getSaveFileName(self, tr("保存研判简报"), self.path_edit.text() or str(self.folder),
                                              f"{fmt.upper()} (*.{fmt})")
        if path:
            self.path_edit.setText(str(Path(path).with_suffix("." + fmt)))

    def values(self) -> dict:
        """What :func:`make_briefing` is called with (besides the project)."""
        start, end = _pydate(self.start_edit.date()), _pydate(self.end_edit.date())
        return {"out": Path(self.path_edit.text().strip()), "start": min(start, end), "end": max(start, end),
                "fmt": self.fmt(), "issue": self.issue_edit.text().strip() or None,
                "org": self.org_edit.text().strip() or None}


class BriefingAction:
    """The menu item and what it runs."""

    def __init__(self, window, make_briefing):
        self.window = window
        self.make_briefing = make_briefing
        self.action = QAction(tr("生成研判简报…"), window)
        self.action.setObjectName("briefing")
        self.action.setToolTip(tr("两个日期之间的研判简报（DOCX 或 PDF）：一张图、关键数字及变化、分镇街表、升级企业和逾期重大隐患"))
        self.action.triggered.connect(self.open_dialog)
        self.task = None
        self.last: Path | None = None
        self.error: BaseException | None = None  # of the last run

    def dialog(self) -> BriefingDialog:
        w = self.window
        project = w.project
        end = dt.date.today()
        start = end - dt.timedelta(days=30)
        timeline = w.extension("timeline")
        if timeline is not None and timeline.panel.change_box.isChecked():  # the 变化 dates, when shown
            start, end = _pydate(timeline.panel.from_edit.date()), _pydate(timeline.panel.to_edit.date())
        org = (project.meta().get("org") or "") if project is not None else ""
        folder = Path(str(project.target)).parent if project is not None and project.dialect == "sqlite" else None
        name = tr("{name}研判简报").format(name=project.name) if project is not None else tr("研判简报")
        return BriefingDialog(w, start=start, end=end, org=org, folder=folder, name=name.replace("/", "_"))

    def open_dialog(self) -> None:
        if self.window.project is None:
            self.window.show_message(tr("请先打开项目"))
            return
        dlg = self.dialog()
        if dlg.exec():
            self.run(**dlg.values())

    def run(self, *, out: Path, start: dt.date, end: dt.date, fmt: str, issue=None, org=None):
        """Write the briefing in the background; the status bar says where it went."""
        from riskmap.errors import RiskmapError

        w = self.window
        if not str(out) or out.name in ("", "."):
            raise RiskmapError("请选择保存位置", "choose where to save the briefing", where="out")
        project = w.project
        self.last = self.error = None

        def work(progress, cancelled):
            return self.make_briefing(project, out, start=start, end=end, fmt=fmt, issue=issue, org=org,
                                      progress=progress, cancel=cancelled)

        def done(path):
            self.task = None
            self.last = Path(path)
            w.show_message(tr("研判简报已保存：{path}").format(path=path), 15000)

        def failed(exc):
            self.task = None
            self.error = exc
            from riskmap.ui import errors as ui_errors

            if not isinstance(exc, Cancelled):
                ui_errors.show_error(w, exc)

        self.task = w.run_task(tr("正在生成研判简报"), work, done, failed)
        return self.task


def install(window):
    """Register 文件 → 生成研判简报… when the briefing module is there (it may be installed later)."""
    try:
        from riskmap.printing.briefing import make_briefing
    except ImportError:
        log.info("no riskmap.printing.briefing: 生成研判简报 not offered")
        return None
    ext = BriefingAction(window, make_briefing)
    window.register_action("file", ext.action, id="file_briefing")
    window.register_extension("briefing", ext)
    return ext
