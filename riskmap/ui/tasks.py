"""Long work off the GUI thread: a progress dialog after half a second, cancel, errors as dialogs.

The work is a function ``fn(progress, cancelled)``: it reports ``progress(fraction, message)`` and checks
``cancelled()`` (a callable returning True once the user pressed Cancel; it may then raise
:class:`Cancelled`). Results come back on the GUI thread through ``on_done``.

>>> # run_task(window, tr("正在打开项目"), lambda progress, cancelled: 42, on_done=print)   (needs an event loop)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from riskmap.progress import Cancelled  # noqa: F401  (work raises it; callers test for it here)
from riskmap.ui.errors import show_error
from riskmap.ui.i18n import current_language, has_chinese, tr

PROGRESS_DELAY_MS = 500
_running: set = set()
_executor: ThreadPoolExecutor | None = None


class Task(QObject):
    """One piece of background work; signals arrive on the GUI thread."""

    progressed = Signal(float, str)
    succeeded = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, fn: Callable, parent: QObject | None = None):
        super().__init__(parent)
        self.fn = fn
        self._cancel = threading.Event()
        self.result = None
        self.error: BaseException | None = None
        self.finished = False

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _run(self) -> None:
        try:
            result = self.fn(self._progress, self.cancelled)
        except BaseException as exc:  # reported on the GUI thread
            self.error = exc
            self.failed.emit(exc)
        else:
            self.result = result
            self.succeeded.emit(result)
        self.done.emit()

    def _progress(self, fraction: float, message: str = "") -> None:
        self.progressed.emit(float(fraction), str(message))


def executor() -> ThreadPoolExecutor:
    """The background workers: Python threads, not QThreadPool's.

    PROJ (through pyproj) keeps per-thread state in Python thread-locals; QThreadPool threads get a fresh
    Python thread state for every run, which frees that state under live PROJ objects (seen as crashes
    in proj_create). Long-lived Python threads avoid this.
    """
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="riskmap-task")
    return _executor


def start(task: Task) -> Task:
    """Run ``task`` in the background; keeps it alive until it is done."""
    _running.add(task)
    task.done.connect(lambda: (_running.discard(task), setattr(task, "finished", True)))
    executor().submit(task._run)
    return task


def run_task(parent: QWidget | None, title: str, fn: Callable, *, on_done: Callable | None = None,
             on_error: Callable | None = None, cancellable: bool = True, show_errors: bool = True) -> Task:
    """Run ``fn(progress, cancelled)`` in the background with a progress dialog shown after 0.5 s."""
    task = Task(fn)
    dialog = QProgressDialog(title, tr("取消") if cancellable else "", 0, 1000, parent)
    dialog.setWindowTitle(tr("请稍候"))
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(PROGRESS_DELAY_MS)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    if not cancellable:
        dialog.setCancelButton(None)
    dialog.setValue(0)
    task.dialog = dialog

    def progressed(fraction, message):
        if dialog is not None and not task.finished:
            dialog.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
            if message and not (current_language() == "en" and has_chinese(message)):  # core steps speak Chinese
                dialog.setLabelText(f"{title}\n{message}")

    def finish():
        dialog.hide()
        dialog.deleteLater()

    def failed(exc):
        finish()
        if isinstance(exc, Cancelled) or task.cancelled():
            return
        if on_error is not None:
            on_error(exc)
        elif show_errors:
            show_error(parent, exc)

    def succeeded(result):
        finish()
        if task.cancelled():
            return
        if on_done is not None:
            on_done(result)

    task.progressed.connect(progressed)
    task.failed.connect(failed)
    task.succeeded.connect(succeeded)
    dialog.canceled.connect(task.cancel)
    start(task)
    return task


def later(ms: int, fn: Callable) -> None:
    QTimer.singleShot(ms, fn)
