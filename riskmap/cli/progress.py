"""A text progress bar on stderr for long CLI work (silent when stderr is not a terminal)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """``bar = ProgressBar("导出"); bar(0.5, "页面 3/6"); bar.done()``"""

    def __init__(self, title: str, stream=None, width: int = 30):
        self.title = title
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()

    def __call__(self, fraction: float, message: str = "") -> None:
        if not self.tty:
            return
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(self.width * fraction)
        bar = "█" * filled + "·" * (self.width - filled)
        self.stream.write(f"\r{self.title} [{bar}] {fraction * 100:5.1f}% {message[:30]:<30}")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write(f"\r{self.title}: 完成 / done ({time.monotonic() - self.start:.1f} s)" + " " * 40 + "\n")
            self.stream.flush()
