"""Safety signs (GB 2894-2008) drawn as vector paths: the frame of the sign's type and a simplified pictogram.

The signs are data (``resources/standards/safety_signs.toml``: code, name, pictogram); this module draws them
with QPainter paths only (no bitmaps), so they scale to any size and stay crisp in a PDF. Four frames:

- 禁止 P: white disc, red ring and red bar from upper left to lower right, black pictogram;
- 警告 W: yellow triangle with a black border, black pictogram;
- 指令 M: blue disc, white pictogram;
- 提示 E: green square, white pictogram.

>>> signs = load_signs()
>>> signs["W002"].zh, signs["W002"].kind, signs["P002"].kind_zh
('当心火灾', 'W', '禁止标志')
>>> from PySide6.QtGui import QImage, QPainter
>>> img = QImage(120, 120, QImage.Format.Format_ARGB32)
>>> img.fill(0xFFFFFFFF)
>>> p = QPainter(img); draw_sign(p, QRectF(10, 10, 100, 100), "W002"); p.end()
True
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPolygonF, QTransform

from riskmap.errors import RiskmapError
from riskmap.paths import STANDARDS_DIR

SIGNS_FILE = STANDARDS_DIR / "safety_signs.toml"
KINDS = {"P": ("禁止标志", "prohibition"), "W": ("警告标志", "warning"), "M": ("指令标志", "mandatory"),
         "E": ("提示标志", "safe condition")}
KIND_ORDER = "WPME"  # the usual order on a card: 警告 → 禁止 → 指令 → 提示


@dataclass(frozen=True)
class Sign:
    code: str
    zh: str
    en: str
    pictogram: str

    @property
    def kind(self) -> str:
        return self.code[0]

    @property
    def kind_zh(self) -> str:
        return KINDS[self.kind][0]

    def name(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict, dict]:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"安全标志表无法读取: {exc}", f"cannot read the safety-sign table: {exc}", where=p.name) from None
    colours = {k: str(v) for k, v in data.get("colours", {}).items()}
    for key in ("red", "yellow", "blue", "green", "black", "white"):
        if not QColor.isValidColorName(colours.get(key, "")):
            raise RiskmapError(f"安全标志表缺少颜色 {key}", f"safety-sign table lacks colour {key!r}", where=p.name)
    signs = {}
    for i, raw in enumerate(data.get("sign", [])):
        here = f"{p.name}: sign[{i}]"
        code = str(raw.get("code", ""))
        if len(code) < 2 or code[0] not in KINDS:
            raise RiskmapError(f"安全标志编号应以 P、W、M 或 E 开头: {code!r}", f"sign code must start with P, W, M or E: {code!r}",
                               where=here)
        pic = str(raw.get("pictogram", ""))
        if pic not in PICTOGRAMS:
            raise RiskmapError(f"未知的标志图形: {pic!r}", f"unknown pictogram {pic!r} (known: {', '.join(sorted(PICTOGRAMS))})",
                               where=here)
        if code in signs:
            raise RiskmapError(f"安全标志编号重复: {code}", f"duplicate sign code {code}", where=here)
        signs[code] = Sign(code, str(raw.get("zh", code)), str(raw.get("en", code)), pic)
    if not signs:
        raise RiskmapError("安全标志表为空", "the safety-sign table is empty", where=p.name)
    return signs, colours


def load_signs(path: str | Path | None = None) -> dict[str, Sign]:
    """Code → :class:`Sign`, in the file's order."""
    return dict(_load(str(path or SIGNS_FILE))[0])


def sign_colours(path: str | Path | None = None) -> dict[str, str]:
    """The frame colours: red, yellow, blue, green, black, white (``#RRGGBB``)."""
    return dict(_load(str(path or SIGNS_FILE))[1])


def sorted_codes(codes) -> list[str]:
    """Known codes first in card order (警告, 禁止, 指令, 提示; then by number), unknown ones after, each once."""
    signs = load_signs()
    seen, known, unknown = set(), [], []
    for c in codes:
        c = str(c).strip()
        if not c or c in seen:
            continue
        seen.add(c)
        (known if c in signs else unknown).append(c)
    known.sort(key=lambda c: (KIND_ORDER.index(c[0]), c))
    return known + unknown


# ------------------------------------------------------------------------------------------ drawing
def draw_sign(painter: QPainter, rect: QRectF, sign: str | Sign) -> None:
    """Draw a sign (by code or :class:`Sign`) centred in ``rect`` at the largest size that fits.

    An unknown code draws a grey square with the code written in it (as text), never an error: a card
    still prints when a project names a sign this table lacks.
    """
    signs = load_signs()
    s = sign if isinstance(sign, Sign) else signs.get(str(sign))
    side = min(rect.width(), rect.height())
    if side <= 0:
        return
    painter.save()
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.translate(rect.center().x() - side / 2, rect.center().y() - side / 2)
        painter.scale(side / 100.0, side / 100.0)
        if s is None:
            _unknown(painter, str(sign))
            return
        col = sign_colours()
        ink = _FRAMES[s.kind](painter, col)
        box = _PICTO_BOX[s.kind]
        painter.save()
        painter.translate(box.x(), box.y())
        painter.scale(box.width() / 100.0, box.height() / 100.0)
        PICTOGRAMS[s.pictogram](_Pen(painter, QColor(col[ink]), QColor(col[_GROUND[s.kind]])))
        painter.restore()
        if s.kind == "P":
            _prohibition_bar(painter, col)
    finally:
        painter.restore()


def _unknown(painter: QPainter, code: str) -> None:
    pen = QPen(QColor("#808080"), 3)
    pen.setStyle(Qt.PenStyle.DashLine)
    painter.setPen(pen)
    painter.setBrush(QBrush(QColor("#F2F2F2")))
    painter.drawRect(QRectF(4, 4, 92, 92))
    font = painter.font()
    font.setPixelSize(18)
    painter.setFont(font)
    painter.setPen(QColor("#404040"))
    painter.drawText(QRectF(6, 6, 88, 88), int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), code[:24])


def _circle(cx, cy, r) -> QPainterPath:
    p = QPainterPath()
    p.addEllipse(QPointF(cx, cy), r, r)
    return p


def _frame_p(painter: QPainter, col) -> str:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(col["white"]))
    painter.drawPath(_circle(50, 50, 48))
    ring = _circle(50, 50, 48).subtracted(_circle(50, 50, 39))
    painter.setBrush(QColor(col["red"]))
    painter.drawPath(ring)
    return "black"


def _prohibition_bar(painter: QPainter, col) -> None:
    """The red bar from upper left to lower right, over the pictogram, inside the ring."""
    painter.save()
    painter.translate(50, 50)
    painter.rotate(45)
    bar = QPainterPath()
    bar.addRect(QRectF(-41, -4.2, 82, 8.4))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(col["red"]))
    painter.drawPath(bar.intersected(_circle(0, 0, 41)))
    painter.restore()


def _triangle(inset: float) -> QPainterPath:
    h = math.sqrt(3) / 2 * 96
    top, base = 50 - h / 2 - 1, 50 + h / 2 - 1
    pts = [QPointF(50, top), QPointF(98, base), QPointF(2, base)]
    if inset:
        cx, cy = 50, (top + 2 * base) / 3
        k = 1 - inset / (base - cy)
        pts = [QPointF(cx + (p.x() - cx) * k, cy + (p.y() - cy) * k) for p in pts]
    path = QPainterPath()
    path.addPolygon(QPolygonF(pts))
    path.closeSubpath()
    return path


def _frame_w(painter: QPainter, col) -> str:
    pen = QPen(QColor(col["black"]), 4)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    painter.setPen(pen)
    painter.setBrush(QColor(col["black"]))
    painter.drawPath(_triangle(2))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(col["yellow"]))
    painter.drawPath(_triangle(9))
    return "black"


def _frame_m(painter: QPainter, col) -> str:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(col["blue"]))
    painter.drawPath(_circle(50, 50, 48))
    return "white"


def _frame_e(painter: QPainter, col) -> str:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(col["green"]))
    path = QPainterPath()
    path.addRoundedRect(QRectF(3, 3, 94, 94), 4, 4)
    painter.drawPath(path)
    return "white"


_GROUND = {"P": "white", "W": "yellow", "M": "blue", "E": "green"}
_FRAMES = {"P": _frame_p, "W": _frame_w, "M": _frame_m, "E": _frame_e}
# where the 100×100 pictogram box sits in the 100×100 sign
_PICTO_BOX = {"P": QRectF(21, 21, 58, 58), "W": QRectF(27, 37, 46, 46), "M": QRectF(17, 17, 66, 66),
              "E": QRectF(12, 12, 76, 76)}


class _Pen:
    """Drawing helpers for pictograms in a 100×100 box: thick strokes and fills in one ink."""

    def __init__(self, painter: QPainter, ink: QColor, ground: QColor):
        self.p, self.ink, self.ground = painter, ink, ground

    def line(self, pts, w=8.0, ink=None, cap=Qt.PenCapStyle.RoundCap) -> None:
        pen = QPen(ink or self.ink, w)
        pen.setCapStyle(cap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        self.p.setPen(pen)
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        path = QPainterPath(QPointF(*pts[0]))
        for x, y in pts[1:]:
            path.lineTo(x, y)
        self.p.drawPath(path)

    def fill(self, path: QPainterPath, ink=None) -> None:
        self.p.setPen(Qt.PenStyle.NoPen)
        self.p.setBrush(ink or self.ink)
        self.p.drawPath(path)

    def poly(self, pts, ink=None) -> None:
        path = QPainterPath()
        path.addPolygon(QPolygonF([QPointF(x, y) for x, y in pts]))
        path.closeSubpath()
        self.fill(path, ink)

    def disc(self, cx, cy, r, ink=None) -> None:
        self.fill(_circle(cx, cy, r), ink)

    def rect(self, x, y, w, h, ink=None, radius=0.0) -> None:
        path = QPainterPath()
        path.addRoundedRect(QRectF(x, y, w, h), radius, radius)
        self.fill(path, ink)

    def ring(self, cx, cy, r, w, ink=None) -> None:
        pen = QPen(ink or self.ink, w)
        self.p.setPen(pen)
        self.p.setBrush(Qt.BrushStyle.NoBrush)
        self.p.drawEllipse(QPointF(cx, cy), r, r)

    def person(self, head, limbs, w=9.0, r=8.0) -> None:
        self.disc(head[0], head[1], r)
        for pts in limbs:
            self.line(pts, w)


def _rect_path(x, y, w, h) -> QPainterPath:
    p = QPainterPath()
    p.addRect(QRectF(x, y, w, h))
    return p


def _flame_path(cx=50.0, base=92.0, h=84.0, w=52.0) -> QPainterPath:
    top = base - h
    p = QPainterPath(QPointF(cx, top))
    p.cubicTo(cx + w * 0.05, top + h * 0.3, cx + w * 0.62, top + h * 0.38, cx + w * 0.5, top + h * 0.75)
    p.cubicTo(cx + w * 0.42, top + h * 0.96, cx + w * 0.15, base, cx, base)
    p.cubicTo(cx - w * 0.15, base, cx - w * 0.42, top + h * 0.96, cx - w * 0.5, top + h * 0.75)
    p.cubicTo(cx - w * 0.55, top + h * 0.5, cx - w * 0.2, top + h * 0.45, cx - w * 0.22, top + h * 0.22)
    p.cubicTo(cx - w * 0.02, top + h * 0.32, cx - w * 0.05, top + h * 0.12, cx, top)
    inner = QPainterPath(QPointF(cx + w * 0.02, top + h * 0.5))
    inner.cubicTo(cx + w * 0.3, top + h * 0.66, cx + w * 0.26, base - h * 0.06, cx, base - h * 0.06)
    inner.cubicTo(cx - w * 0.24, base - h * 0.06, cx - w * 0.26, top + h * 0.7, cx + w * 0.02, top + h * 0.5)
    return p.subtracted(inner)


# ------------------------------------------------------------------------------------------ pictograms
def _cigarette(d: _Pen) -> None:
    d.rect(6, 58, 66, 14)
    d.rect(74, 58, 14, 14)
    d.line([(78, 50), (74, 38), (82, 26), (78, 12)], 4)
    d.line([(88, 50), (84, 40), (90, 30)], 4)


def _flame(d: _Pen) -> None:
    d.fill(_flame_path())


def _match(d: _Pen) -> None:
    d.fill(_flame_path(62, 48, 44, 30))
    d.line([(58, 56), (22, 94)], 9)
    d.disc(60, 52, 7)


def _water_on_fire(d: _Pen) -> None:
    d.fill(_flame_path(60, 96, 62, 46))
    d.poly([(4, 14), (30, 8), (38, 26), (14, 34)])  # a bucket, tipped
    for x, y in ((36, 40), (44, 54), (30, 56)):
        p = QPainterPath(QPointF(x, y - 8))
        p.cubicTo(x + 5, y - 1, x + 5, y + 5, x, y + 5)
        p.cubicTo(x - 5, y + 5, x - 5, y - 1, x, y - 8)
        d.fill(p)


def _flame_box(d: _Pen) -> None:
    d.fill(_flame_path(50, 58, 52, 36))
    d.rect(16, 64, 68, 28)


def _start_button(d: _Pen) -> None:
    d.rect(18, 48, 64, 44, radius=6)
    d.disc(50, 70, 12, d.ground)
    d.line([(50, 10), (50, 40)], 8)
    d.poly([(38, 30), (62, 30), (50, 44)])


def _switch(d: _Pen) -> None:
    d.rect(14, 80, 72, 10)
    d.disc(26, 72, 7)
    d.disc(74, 72, 7)
    d.line([(26, 72), (70, 22)], 8)
    d.line([(50, 20), (50, 4)], 6)


def _walker(d: _Pen) -> None:
    d.person((56, 12), [[(54, 26), (46, 56)], [(46, 56), (34, 74), (26, 94)], [(46, 56), (58, 72), (60, 94)],
                        [(52, 32), (36, 44), (30, 56)], [(52, 32), (64, 44), (74, 48)]])


def _hand_path() -> QPainterPath:
    p = QPainterPath()
    p.addRoundedRect(QRectF(26, 48, 50, 44), 12, 12)
    for x, top in ((28, 24), (40, 12), (52, 10), (64, 16)):
        p.addRoundedRect(QRectF(x, top, 10, 52 - top + 6), 5, 5)
    thumb = QPainterPath()
    thumb.addRoundedRect(QRectF(-6, -5, 30, 11), 5, 5)
    t = QTransform()
    t.translate(74, 60)
    t.rotate(-40)
    p = p.united(t.map(thumb))
    return p.simplified()


def _hand(d: _Pen) -> None:
    d.fill(_hand_path())


def _mobile(d: _Pen) -> None:
    d.rect(30, 8, 40, 84, radius=7)
    d.rect(36, 18, 28, 44, d.ground)
    for i in range(3):
        for j in range(2):
            d.disc(42 + 16 * j, 70 + 9 * i, 3, d.ground)
    d.line([(64, 8), (64, 0)], 4)


def _exclamation(d: _Pen) -> None:
    d.poly([(40, 4), (60, 4), (55, 68), (45, 68)])
    d.disc(50, 86, 9)


def _burst(d: _Pen) -> None:
    pts = []
    for i in range(22):
        a = math.pi * 2 * i / 22 - math.pi / 2
        r = 48 if i % 2 == 0 else 22
        r *= 0.88 if i % 4 == 2 else 1.0
        pts.append((50 + r * math.cos(a), 54 + r * math.sin(a) * 0.9))
    d.poly(pts)
    d.disc(50, 54, 10, d.ground)


def _corrosion(d: _Pen) -> None:
    # two tubes pouring drops: one onto a bar, one onto a hand
    d.poly([(10, 6), (30, 6), (34, 22), (14, 22)])
    d.poly([(60, 6), (80, 6), (84, 22), (64, 22)])
    for x, y in ((26, 34), (22, 48), (76, 34), (72, 48)):
        p = QPainterPath(QPointF(x, y - 7))
        p.cubicTo(x + 4, y, x + 4, y + 4, x, y + 4)
        p.cubicTo(x - 4, y + 4, x - 4, y, x, y - 7)
        d.fill(p)
    d.rect(4, 62, 38, 12)
    d.poly([(4, 74), (12, 74), (10, 82), (6, 80)])
    d.rect(56, 62, 40, 26, radius=8)
    d.poly([(68, 62), (74, 56), (80, 62)], d.ground)


def _skull(d: _Pen) -> None:
    head = QPainterPath()
    head.addEllipse(QRectF(24, 4, 52, 46))
    head.addRoundedRect(QRectF(34, 38, 32, 20), 4, 4)
    head = head.simplified()
    for cx in (39, 61):
        head = head.subtracted(_circle(cx, 28, 7.5))
    nose = QPainterPath()
    nose.addPolygon(QPolygonF([QPointF(50, 36), QPointF(45, 46), QPointF(55, 46)]))
    head = head.subtracted(nose)
    d.fill(head)
    d.line([(16, 62), (84, 94)], 9)
    d.line([(84, 62), (16, 94)], 9)
    for x, y in ((14, 62), (14, 94), (86, 62), (86, 94)):
        d.disc(x, y, 6.5)


def _lightning(d: _Pen) -> None:
    d.poly([(58, 2), (24, 56), (46, 56), (34, 98), (78, 38), (54, 38), (68, 2)])


def _gear_path(cx, cy, r_out, r_in, teeth) -> QPainterPath:
    pts = []
    for i in range(teeth * 4):
        a = math.pi * 2 * i / (teeth * 4)
        r = r_out if (i % 4) in (1, 2) else r_in
        pts.append(QPointF(cx + r * math.cos(a), cy + r * math.sin(a)))
    p = QPainterPath()
    p.addPolygon(QPolygonF(pts))
    p.closeSubpath()
    return p.subtracted(_circle(cx, cy, r_in * 0.35))


def _gear_hand(d: _Pen) -> None:
    d.fill(_gear_path(62, 36, 34, 26, 9))
    d.fill(_gear_path(24, 30, 20, 15, 7))
    d.rect(4, 74, 54, 16, radius=8)  # a hand reaching in
    for y in (64, 70):
        d.rect(44, y, 30, 7, radius=3.5)


def _hook_load(d: _Pen) -> None:
    d.line([(50, 0), (50, 28)], 5)
    d.line([(50, 28), (50, 38), (42, 44), (36, 38)], 6)
    d.line([(36, 48), (50, 40), (64, 48)], 4)
    d.rect(30, 48, 40, 26)
    d.person((26, 82), [[(24, 90), (18, 100)], [(28, 90), (34, 100)]], 7, 6)


def _waves(d: _Pen, x0, x1, y_top, y_bottom, n=3) -> None:
    step = (x1 - x0) / (n - 1) if n > 1 else 0
    for i in range(n):
        x = x0 + step * i
        p = [(x + (5 if k % 2 else -5), y_bottom - (y_bottom - y_top) * k / 4) for k in range(5)]
        d.line(p, 5)


def _hot_hand(d: _Pen) -> None:
    _waves(d, 30, 70, 4, 40)
    d.rect(10, 52, 80, 12)
    d.rect(28, 72, 50, 22, radius=8)
    d.rect(70, 66, 22, 8, radius=4)


def _hot_surface(d: _Pen) -> None:
    _waves(d, 24, 76, 6, 56)
    d.rect(6, 66, 88, 10)
    d.rect(6, 84, 88, 8)


def _forklift(d: _Pen) -> None:
    d.rect(20, 44, 46, 30, radius=3)
    d.line([(26, 44), (30, 16), (52, 16), (56, 44)], 5)
    d.line([(72, 8), (72, 80)], 6)
    d.line([(72, 80), (98, 80)], 6)
    d.disc(30, 82, 10)
    d.disc(60, 82, 10)
    d.disc(30, 82, 4, d.ground)
    d.disc(60, 82, 4, d.ground)


def _falling_person(d: _Pen) -> None:
    d.rect(0, 20, 44, 8)  # the edge
    d.person((62, 74), [[(58, 62), (66, 38)], [(66, 38), (56, 22), (60, 8)], [(66, 38), (80, 26), (88, 14)],
                        [(60, 56), (44, 50)], [(60, 56), (78, 60)]])


def _goggles(d: _Pen) -> None:
    d.disc(50, 50, 40)  # the head
    d.rect(12, 36, 76, 24, d.ground, radius=12)
    d.rect(18, 40, 28, 16, radius=8)
    d.rect(54, 40, 28, 16, radius=8)


def _head(d: _Pen) -> None:
    d.fill(_circle(50, 46, 32))
    d.rect(34, 70, 32, 16)
    d.poly([(8, 100), (20, 84), (80, 84), (92, 100)])


def _dust_mask(d: _Pen) -> None:
    _head(d)
    d.rect(30, 50, 40, 24, d.ground, radius=10)
    d.line([(30, 56), (18, 44)], 3, d.ground)
    d.line([(70, 56), (82, 44)], 3, d.ground)


def _gas_mask(d: _Pen) -> None:
    _head(d)
    d.rect(28, 28, 44, 22, d.ground, radius=10)
    d.disc(39, 39, 7)
    d.disc(61, 39, 7)
    d.disc(50, 64, 12, d.ground)
    d.disc(50, 64, 6)


def _ear_muffs(d: _Pen) -> None:
    _head(d)
    d.line([(15, 44), (24, 8), (76, 8), (85, 44)], 9, d.ground)
    d.line([(15, 44), (24, 8), (76, 8), (85, 44)], 4)
    for x in (6, 76):
        d.rect(x, 30, 18, 32, d.ground, radius=6)
        d.rect(x + 3, 33, 12, 26, radius=5)


def _helmet(d: _Pen) -> None:
    _head(d)
    dome = QPainterPath()
    dome.addEllipse(QRectF(16, 0, 68, 64))
    cut = QPainterPath()
    cut.addRect(QRectF(0, 32, 100, 60))
    d.fill(dome.subtracted(cut).united(_rect_path(6, 28, 88, 7)))
    d.line([(14, 38), (86, 38)], 4, d.ground)


def _harness(d: _Pen) -> None:
    d.person((50, 10), [[(50, 22), (50, 58)], [(50, 58), (38, 96)], [(50, 58), (62, 96)], [(50, 30), (30, 54)],
                        [(50, 30), (70, 54)]], 10)
    d.line([(36, 40), (64, 40)], 4, d.ground)
    d.line([(38, 60), (62, 60)], 4, d.ground)
    d.line([(50, 40), (86, 4)], 3)


def _suit(d: _Pen) -> None:
    d.disc(50, 10, 9)
    d.poly([(32, 22), (68, 22), (90, 56), (80, 62), (68, 44), (68, 96), (54, 96), (50, 62), (46, 96), (32, 96),
            (32, 44), (20, 62), (10, 56)])
    d.line([(50, 24), (50, 58)], 2.5, d.ground)


def _glove(d: _Pen) -> None:
    d.fill(_hand_path())
    d.rect(26, 84, 50, 12, d.ground)
    d.rect(24, 86, 54, 10)


def _boot(d: _Pen) -> None:
    d.poly([(30, 6), (56, 6), (56, 60), (88, 70), (92, 84), (92, 94), (30, 94)])
    d.rect(30, 80, 62, 4, d.ground)


def _earth(d: _Pen) -> None:
    d.line([(50, 6), (50, 50)], 7)
    d.line([(18, 50), (82, 50)], 7)
    d.line([(30, 66), (70, 66)], 7)
    d.line([(42, 82), (58, 82)], 7)


def _exit(d: _Pen) -> None:
    d.rect(58, 4, 38, 92, radius=0)
    d.rect(64, 10, 26, 86, d.ground)
    d.person((38, 14), [[(34, 26), (28, 54)], [(28, 54), (16, 68), (4, 72)], [(28, 54), (44, 70), (46, 92)],
                        [(34, 32), (20, 38), (12, 48)], [(34, 32), (48, 40), (58, 36)]], 8, 7.5)


def _assembly(d: _Pen) -> None:
    for i, (x, y) in enumerate(((50, 50), (26, 72), (74, 72))):
        d.disc(x, y - 18, 6)
        d.rect(x - 7, y - 10, 14, 26, radius=5)
    d.line([(4, 96), (96, 96), (96, 4), (4, 4), (4, 96)], 4)


def _cross(d: _Pen) -> None:
    d.rect(36, 8, 28, 84)
    d.rect(8, 36, 84, 28)


def _phone(d: _Pen) -> None:
    p = QPainterPath(QPointF(20, 14))
    p.cubicTo(8, 30, 30, 74, 72, 90)
    p.lineTo(86, 76)
    p.lineTo(68, 60)
    p.lineTo(58, 68)
    p.cubicTo(44, 60, 38, 52, 32, 42)
    p.lineTo(40, 32)
    p.lineTo(26, 10)
    p.closeSubpath()
    d.fill(p)
    d.rect(66, 6, 8, 26)
    d.rect(57, 15, 26, 8)


PICTOGRAMS = {
    "cigarette": _cigarette, "flame": _flame, "match": _match, "water_on_fire": _water_on_fire,
    "flame_box": _flame_box, "start_button": _start_button, "switch": _switch, "walker": _walker, "hand": _hand,
    "mobile": _mobile, "exclamation": _exclamation, "burst": _burst, "corrosion": _corrosion, "skull": _skull,
    "lightning": _lightning, "gear_hand": _gear_hand, "hook_load": _hook_load, "hot_hand": _hot_hand,
    "hot_surface": _hot_surface, "forklift": _forklift, "falling_person": _falling_person, "goggles": _goggles,
    "dust_mask": _dust_mask, "gas_mask": _gas_mask, "ear_muffs": _ear_muffs, "helmet": _helmet,
    "harness": _harness, "suit": _suit, "glove": _glove, "boot": _boot, "earth": _earth, "exit": _exit,
    "assembly": _assembly, "cross": _cross, "phone": _phone,
}


def draw_sign_sheet(painter: QPainter, rect: QRectF, codes=None, *, cols: int = 6, font=None) -> list[QRectF]:
    """Every sign (or ``codes``) in a grid with its code and name below; returns each sign's rect."""
    codes = list(codes) if codes is not None else list(load_signs())
    signs = load_signs()
    rows = max(1, math.ceil(len(codes) / cols))
    cw, ch = rect.width() / cols, rect.height() / rows
    out = []
    for i, code in enumerate(codes):
        r, c = divmod(i, cols)
        cell = QRectF(rect.x() + c * cw, rect.y() + r * ch, cw, ch)
        side = min(cw * 0.8, ch * 0.68)
        sr = QRectF(cell.center().x() - side / 2, cell.y() + ch * 0.04, side, side)
        draw_sign(painter, sr, code)
        out.append(sr)
        if font is not None:
            painter.setFont(font)
            painter.setPen(QColor("#000000"))
            s = signs.get(code)
            painter.drawText(QRectF(cell.x(), sr.bottom() + ch * 0.02, cw, ch * 0.24),
                             int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap),
                             f"{code} {s.zh if s else ''}")
    return out
