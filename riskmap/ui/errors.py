"""Errors in the UI: a dialog with the project's message, a line in the log, never a traceback on screen.

:func:`install_excepthook` routes every uncaught exception (also those raised in Qt slots) to
:func:`show_error`. A :class:`~riskmap.errors.RiskmapError` shows its Chinese/English message; anything
else shows a short message and the log file where the details were written.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from riskmap.errors import RiskmapError
from riskmap.ui.i18n import current_language, tr

log = logging.getLogger("riskmap")
_state: dict = {"log_path": None, "shown": [], "open": []}
MAX_KEPT = 50


def setup_logging(path: Path) -> Path:
    """Log to ``path`` (rotated at 1 MB); returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if _state["log_path"] != path:
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        _state["log_path"] = path
    return path


def error_text(exc: BaseException) -> str:
    """What the user reads for an exception: the project's message, or a short generic one."""
    if isinstance(exc, RiskmapError):
        if current_language() == "en":
            prefix = f"{exc.where}: " if exc.where else ""
            return prefix + exc.en
        return exc.message()
    if isinstance(exc, MemoryError):
        return tr("内存不足，操作未完成。")
    if isinstance(exc, OSError) and exc.strerror:
        if exc.filename:
            return tr("文件操作失败：{path}（{reason}）").format(path=exc.filename, reason=exc.strerror)
        return tr("文件操作失败（{reason}）").format(reason=exc.strerror)
    where = _state["log_path"]
    detail = f"{type(exc).__name__}: {exc}"[:300]
    text = tr("程序内部错误，操作未完成。") + "\n" + detail
    if where:
        text += "\n" + tr("详细信息已写入日志：") + str(where)
    return text


def shown_errors() -> list[str]:
    """The texts of the error dialogs shown so far (newest last); tests read this."""
    return list(_state["shown"])


def show_error(parent: QWidget | None, exc: BaseException | str, title: str | None = None) -> QMessageBox | None:
    """Show an error dialog (non-blocking, window-modal) and log it."""
    text = exc if isinstance(exc, str) else error_text(exc)
    if isinstance(exc, BaseException) and not isinstance(exc, RiskmapError):
        log.error("%s\n%s", text, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    else:
        log.warning("%s", text)
    _state["shown"].append(text)
    del _state["shown"][:-MAX_KEPT]
    if QApplication.instance() is None:
        print(f"riskmap: {text}", file=sys.stderr)
        return None
    box = QMessageBox(QMessageBox.Icon.Critical if not isinstance(exc, RiskmapError) else QMessageBox.Icon.Warning,
                      title or tr("riskmap 提示"), text, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
    _state["open"].append(box)
    box.finished.connect(lambda *_: _state["open"].remove(box) if box in _state["open"] else None)
    box.open()
    return box


def close_error_dialogs() -> None:
    for box in list(_state["open"]):
        box.close()


def install_excepthook() -> None:
    """Uncaught exceptions → dialog + log (KeyboardInterrupt still quits)."""

    def hook(exc_type, exc, tb):
        if issubclass(exc_type, KeyboardInterrupt):
            QCoreApplication.quit()
            return
        if exc.__traceback__ is None:
            exc.__traceback__ = tb
        try:
            parent = QApplication.activeWindow()
            show_error(parent, exc)
        except Exception:  # the last resort must not raise
            traceback.print_exception(exc_type, exc, tb)

    sys.excepthook = hook
