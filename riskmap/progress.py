"""Progress and cancel for all long work: the ``Progress`` and ``Cancel`` callables, one ``Cancelled``, ``Steps``.

Long work takes ``progress(fraction, message)`` and ``cancel()`` (True once the user asked to stop) and raises
:class:`Cancelled` when it notices a cancel; the CLI and the UI catch that one class.

>>> steps = Steps(lambda f, m: print(f"{f:.2f} {m}"), None, total=2)
>>> steps.step("读取")
0.50 读取
>>> steps.sub(0.5, 1.0).report(0.5, "写入")
0.75 写入
>>> check_cancel(lambda: True, IMPORT_CANCELLED)
Traceback (most recent call last):
...
riskmap.progress.Cancelled: 导入已取消，项目未改动 / import cancelled; the project is unchanged
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable

from riskmap.errors import RiskmapError

Progress = Callable[[float, str], None]
Cancel = Callable[[], bool]

# what a cancel leaves behind, in the words the user reads (zh, en)
CANCELLED = ("已取消", "cancelled")
EXPORT_CANCELLED = ("导出已取消，未写入文件", "export cancelled; nothing was written")
IMPORT_CANCELLED = ("导入已取消，项目未改动", "import cancelled; the project is unchanged")
SYNC_CANCELLED = ("已取消，目标未改变", "cancelled; the target is unchanged")


class Cancelled(RiskmapError):
    """The user cancelled long work; nothing was written."""

    def __init__(self, message: tuple[str, str] = CANCELLED):
        super().__init__(*message)


def check_cancel(cancel: Cancel | None, message: tuple[str, str] = CANCELLED) -> None:
    """Raise :class:`Cancelled` (saying ``message``) if ``cancel()`` is true."""
    if cancel is not None and cancel():
        raise Cancelled(message)


def scaled(progress: Progress | None, lo: float, hi: float) -> Progress:
    """``progress`` mapped onto the range [lo, hi] (a no-op callable when ``progress`` is None)."""
    if progress is None:
        return lambda f, m="": None
    return lambda f, m="": progress(lo + (hi - lo) * min(max(f, 0.0), 1.0), m)


class Steps:
    """Progress reporting and cancel checks for a sequence of ``total`` steps over [start, stop]."""

    def __init__(self, progress: Progress | None, cancel: Cancel | None, total: int = 1,
                 start: float = 0.0, stop: float = 1.0, message: tuple[str, str] = CANCELLED):
        self.progress = progress
        self.cancel = cancel
        self.total = max(1, total)
        self.start, self.stop = start, stop
        self.message = message
        self.done = 0

    def check(self) -> None:
        check_cancel(self.cancel, self.message)

    def report(self, fraction: float, message: str = "") -> None:
        self.check()
        if self.progress is not None:
            self.progress(self.start + (self.stop - self.start) * min(max(fraction, 0.0), 1.0), message)

    def step(self, message: str = "") -> None:
        """One step done."""
        self.done += 1
        self.report(self.done / self.total, message)

    def sub(self, share_from: float, share_to: float) -> Steps:
        """Steps covering the fraction [share_from, share_to] of this range."""
        span = self.stop - self.start
        return Steps(self.progress, self.cancel, 1, self.start + span * share_from,
                     self.start + span * share_to, self.message)


@contextlib.contextmanager
def gc_paused():
    """No cyclic garbage collection during a long loop that makes many short-lived objects but no cycles (its
    full passes found nothing to free and cost ~10 % of a 100k-row run); the previous state is restored."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
