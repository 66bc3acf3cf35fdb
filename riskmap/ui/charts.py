"""A painted stacked horizontal bar chart (QPainter): one bar per category, one segment per series.

Clicking a segment emits ``barClicked(category, series)``; clicking a category label emits it with
series -1.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

ROW_H = 20
BAR_H = 14
PAD = 6


class StackedBarChart(QWidget):
    barClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels: list[str] = []
        self.values = np.zeros((0, 0), dtype=np.int64)
        self.colours: list[str] = []
        self.series_names: list[str] = []
        self.highlight: tuple[int, int] | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._label_w = 80.0

    def set_data(self, labels: list[str], values, colours: list[str], series_names: list[str]) -> None:
        self.labels = list(labels)
        self.values = np.asarray(values, dtype=np.int64).reshape(len(labels), len(colours))
        self.colours = list(colours)
        self.series_names = list(series_names)
        self.updateGeometry()
        self.setFixedHeight(self.sizeHint().height())
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(320, PAD * 2 + ROW_H * max(len(self.labels), 1))

    def _geometry(self):
        fm = QFontMetricsF(self.font())
        self._label_w = min(max([fm.horizontalAdvance(s) for s in self.labels] + [40]) + 8, self.width() * 0.45)
        totals = self.values.sum(axis=1) if self.values.size else np.zeros(len(self.labels))
        count_w = fm.horizontalAdvance(f"{int(totals.max()) if len(totals) else 0:,}") + 10
        bar_w = max(self.width() - self._label_w - count_w - 2 * PAD, 10)
        vmax = max(int(totals.max()) if len(totals) else 1, 1)
        return fm, totals, bar_w, vmax

    def segment_rects(self):
        """[(category, series, QRectF)] of the drawn segments."""
        fm, totals, bar_w, vmax = self._geometry()
        out = []
        for i in range(len(self.labels)):
            x = PAD + self._label_w
            y = PAD + i * ROW_H + (ROW_H - BAR_H) / 2
            for j in range(len(self.colours)):
                v = int(self.values[i, j])
                if v <= 0:
                    continue
                w = bar_w * v / vmax
                out.append((i, j, QRectF(x, y, w, BAR_H)))
                x += w
        return out

    def paintEvent(self, event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        fm, totals, bar_w, vmax = self._geometry()
        p.setPen(QColor("#333333"))
        for i, label in enumerate(self.labels):
            r = QRectF(PAD, PAD + i * ROW_H, self._label_w - 6, ROW_H)
            p.drawText(r, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       fm.elidedText(label, Qt.TextElideMode.ElideRight, r.width()))
        for i, j, r in self.segment_rects():
            c = QColor(self.colours[j])
            if self.highlight is not None and self.highlight != (i, j) and self.highlight[1] != -1:
                c.setAlpha(150)
            p.fillRect(r, c)
            p.setPen(QPen(QColor("#FFFFFF"), 1))
            p.drawLine(r.topRight(), r.bottomRight())
        p.setPen(QColor("#333333"))
        for i, t in enumerate(totals):
            end = PAD + self._label_w + bar_w * int(t) / vmax
            p.drawText(QRectF(end + 4, PAD + i * ROW_H, 80, ROW_H),
                       int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), f"{int(t):,}")
        p.end()

    def hit(self, x: float, y: float) -> tuple[int, int] | None:
        for i, j, r in self.segment_rects():
            if r.contains(x, y):
                return i, j
        row = int((y - PAD) // ROW_H)
        if 0 <= row < len(self.labels) and x < PAD + self._label_w:
            return row, -1
        return None

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802
        h = self.hit(ev.position().x(), ev.position().y())
        if h is not None and h[1] >= 0:
            i, j = h
            QToolTip.showText(ev.globalPosition().toPoint(),
                              f"{self.labels[i]} · {self.series_names[j]}: {int(self.values[i, j]):,}", self)
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        elif h is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
        else:
            self.unsetCursor()

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802
        h = self.hit(ev.position().x(), ev.position().y())
        if h is not None:
            self.highlight = h
            self.update()
            self.barClicked.emit(*h)

    def click_point(self, category: int, series: int):
        """Widget coordinates inside a segment (or the label when series is -1); for tests."""
        if series < 0:
            return PAD + 5, PAD + category * ROW_H + ROW_H / 2
        for i, j, r in self.segment_rects():
            if (i, j) == (category, series):
                return r.center().x(), r.center().y()
        return None
