"""安全风险告知卡 (one per risk point and hazard source) and the 安全风险公告栏 poster of a plant, as vector PDF.

A card: the title band in the level's colour (levels.toml) with the level's name, then the point's name,
category, level, 危险有害因素, 可能导致的事故类型, 管控措施, 应急处置措施, the GB 2894 safety signs (vector
pictograms, riskmap.render.pictograms), 责任人 and phone, the emergency phones (119, 120 and the bureau's
duty phone, project setting ``bureau_phone``), the enterprise and the date; 示例数据 on a demo project.
The poster (A3/A2/A1): the plant's 四色分布图 (the same print composition as :func:`print_plant`), the
table of risk points with their colours, key measures, emergency phones and signs.

Layouts come from ``resources/templates/card.toml`` and ``board.toml`` (or a user's copy, ``template=``).
Long text wraps, shrinks down to the layout's smallest size and is then cut with "…": it never leaves its box.
Every value is drawn as text: nothing a project holds is read as markup or a placeholder.

>>> # export_cards(project, 12, "告知卡.pdf", paper="A5")
>>> # export_board(project, 12, "公告栏.pdf", paper="A2")
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from riskmap.atomic import atomic_path
from riskmap.errors import RiskmapError
from riskmap.levels import load_levels
from riskmap.marks import DEMO_MARK, demo_title
from riskmap.plant import plant_data
from riskmap.printing.card_template import CardTemplate, Section, load_card_template
from riskmap.printing.export import ensure_app
from riskmap.printing.pdf_fix import fix_pdf
from riskmap.printing.plant_print import plant_map_painter
from riskmap.printing.template import fill_placeholders
from riskmap.render.fonts import ensure_fonts, map_font
from riskmap.render.pictograms import draw_sign, load_signs, sorted_codes

DPI = 300
NONE_COLOUR = "#9E9E9E"  # 未评估
EMPTY_ZH, EMPTY_EN = "（未填写）", "(not given)"
CATEGORY_NAMES = {"area": ("区域", "Area"), "device": ("装置", "Device"), "facility": ("设施", "Facility"),
                  "place": ("场所", "Place"), "post": ("岗位", "Post")}
KIND_NAMES = {"risk_point": ("风险点", "Risk point"), "hazard_source": ("危险源", "Hazard source")}
METHOD_NAMES = {"lec": ("LEC 法", "LEC", "D"), "ls": ("LS 风险矩阵", "LS matrix", "R"),
                "gb18218": ("GB 18218 分级", "GB 18218", "R"), "park": ("园区评分", "park score", "")}
GRADE_ZH = {1: "一级", 2: "二级", 3: "三级", 4: "四级"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


# ------------------------------------------------------------------------------------------ data
def clean(value) -> str:
    """A value as display text: '' for missing, control characters (NUL …) as spaces, kept otherwise."""
    if value is None:
        return ""
    try:
        if value != value:  # NaN
            return ""
    except (TypeError, ValueError):
        pass
    return _CONTROL.sub(" ", str(value)).strip()


@dataclass
class Card:
    """What one card shows (from a row of ``plant_data(...).points``)."""

    name: str
    kind: str = "risk_point"
    category: str = ""
    level: int | None = None
    method: str = ""
    score: float | None = None
    hazard_factors: str = ""
    accident_types: str = ""
    control_measures: str = ""
    emergency_measures: str = ""
    responsible_person: str = ""
    responsible_phone: str = ""
    signs: list[str] = field(default_factory=list)
    major_hazard_grade: int | None = None
    id: int | None = None


@dataclass
class Context:
    """The enterprise and project facts every page of a plant's cards repeats."""

    enterprise: str
    org: str = ""
    bureau_phone: str = ""
    date: str = ""
    is_demo: bool = False
    level: int | None = None  # the enterprise's level (the poster's band)
    lang: str = "zh"

    def values(self, card: Card | None = None) -> dict[str, str]:
        return {"enterprise": self.enterprise, "org": self.org, "bureau_phone": self.bureau_phone,
                "date": self.date, "name": card.name if card else "",
                "level": level_name(card.level if card else self.level, self.lang)}


def _int_or_none(v) -> int | None:
    v = clean(v)
    try:
        f = float(v)
    except ValueError:
        return None
    return int(f) if math.isfinite(f) and f.is_integer() else None


def _signs(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            v = re.split(r"[,，;；\s]+", v)
    if isinstance(v, (list, tuple)):
        return [clean(x) for x in v if clean(x)]
    try:
        return [clean(x) for x in list(v) if clean(x)]
    except TypeError:
        return []


def cards_from_points(points) -> list[Card]:
    """Cards of a plant's points (a DataFrame with the risk-point columns), most severe first, then by name."""
    out = []
    cols = set(points.columns)

    def get(row, key):
        return row[key] if key in cols else None

    for _, row in points.iterrows():
        score = get(row, "score")
        try:
            score = float(score) if clean(score) else None
        except (TypeError, ValueError):
            score = None
        out.append(Card(
            name=clean(get(row, "name")) or "—", kind=clean(get(row, "kind")) or "risk_point",
            category=clean(get(row, "category")), level=_int_or_none(get(row, "level")),
            method=clean(get(row, "method")).lower(), score=score,
            hazard_factors=clean(get(row, "hazard_factors")), accident_types=clean(get(row, "accident_types")),
            control_measures=clean(get(row, "control_measures")),
            emergency_measures=clean(get(row, "emergency_measures")),
            responsible_person=clean(get(row, "responsible_person")),
            responsible_phone=clean(get(row, "responsible_phone")), signs=_signs(get(row, "signs")),
            major_hazard_grade=_int_or_none(get(row, "major_hazard_grade")), id=_int_or_none(get(row, "id"))))
    out.sort(key=lambda c: (c.level if c.level in (1, 2, 3, 4) else 9, c.kind != "risk_point", c.name))
    return out


def level_colour(level) -> str:
    levels = load_levels().levels
    return levels[level].colour if level in levels else NONE_COLOUR


def level_name(level, lang: str = "zh") -> str:
    levels = load_levels().levels
    if level in levels:
        return levels[level].name_en if lang == "en" else levels[level].name_zh
    return "not assessed" if lang == "en" else "未评估"


def category_text(card: Card, lang: str = "zh") -> str:
    i = 1 if lang == "en" else 0
    kind = KIND_NAMES.get(card.kind, (card.kind, card.kind))[i]
    cat = CATEGORY_NAMES.get(card.category, (card.category, card.category))[i] if card.category else ""
    text = f"{cat} · {kind}" if cat else kind
    if card.kind == "hazard_source" and card.major_hazard_grade in GRADE_ZH:
        text += (f" (grade {card.major_hazard_grade} major hazard)" if lang == "en"
                 else f"（{GRADE_ZH[card.major_hazard_grade]}重大危险源）")
    return text


def method_text(card: Card, lang: str = "zh") -> str:
    if not card.method:
        return ""
    name, name_en, letter = METHOD_NAMES.get(card.method, (card.method, card.method, ""))
    score = "" if card.score is None else f"{card.score:g}"
    if lang == "en":
        return f"{name_en}{', ' + letter + ' = ' + score if letter and score else ''}"
    return f"{name}{'，' + letter + ' = ' + score if letter and score else ''}"


def text_on(colour: str) -> QColor:
    """Black or white, whichever reads on ``colour``."""
    c = QColor(colour)
    return QColor("#000000") if 0.299 * c.red() + 0.587 * c.green() + 0.114 * c.blue() > 150 else QColor("#FFFFFF")


# ------------------------------------------------------------------------------------------ text in boxes
def card_font(pt: float, bold: bool = False) -> QFont:
    """The map font without the OpenType ``locl`` feature: with it, Qt's PDF writer gives digits after a space
    (``D = 900``) substituted glyphs that have no ToUnicode entry, so a PDF reader cannot copy or find them."""
    font = map_font(pt, bold)
    font.setFeature(QFont.Tag("locl"), 0)
    return font


WRAP = int(Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)
ANYWHERE = int(Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWrapAnywhere)


def _measure(painter: QPainter, width: float, text: str, pt: float, bold: bool):
    """Height of ``text`` wrapped to ``width`` at ``pt``, and the flags to draw it (anywhere-wrap when a run
    of letters is wider than the box)."""
    font = card_font(pt, bold)
    fm = QFontMetricsF(font, painter.device())
    big = QRectF(0, 0, max(width, 1.0), 1e7)
    flags = WRAP
    br = fm.boundingRect(big, flags, text)
    if br.width() > width + 0.5:
        flags = ANYWHERE
        br = fm.boundingRect(big, flags, text)
    return br.height(), font, flags


@dataclass
class Fitted:
    text: str
    pt: float
    cut: bool


def fit_text(painter: QPainter, rect: QRectF, text: str, pt: float, min_pt: float, *, bold: bool = False) -> Fitted:
    """The largest size from ``pt`` down to ``min_pt`` at which ``text`` fits ``rect`` wrapped; at ``min_pt``
    the text is cut (with "…") to what fits."""
    size = pt
    while True:
        h, _, _ = _measure(painter, rect.width(), text, size, bold)
        if h <= rect.height() or size <= min_pt:
            break
        size = max(min_pt, size * 0.92)
    if h <= rect.height():
        return Fitted(text, size, False)
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _measure(painter, rect.width(), text[:mid].rstrip() + "…", size, bold)[0] <= rect.height():
            lo = mid
        else:
            hi = mid - 1
    return Fitted(text[:lo].rstrip() + "…" if lo else "", size, True)


def draw_fitted(painter: QPainter, rect: QRectF, text: str, pt: float, min_pt: float, *, bold: bool = False,
                colour: QColor | str = "#000000", align: str = "left", valign: str = "top",
                fitted: Fitted | None = None) -> Fitted:
    """Draw ``text`` into ``rect`` (wrapped, shrunk, cut; clipped to the box whatever happens)."""
    if rect.width() <= 0 or rect.height() <= 0 or not text:
        return Fitted("", pt, False)
    f = fitted or fit_text(painter, rect, text, pt, min_pt, bold=bold)
    h, font, flags = _measure(painter, rect.width(), f.text, f.pt, bold)
    flags |= int({"left": Qt.AlignmentFlag.AlignLeft, "center": Qt.AlignmentFlag.AlignHCenter,
                  "right": Qt.AlignmentFlag.AlignRight}[align])
    y = rect.top()
    if valign == "center":
        y += max(0.0, (rect.height() - h) / 2)
    painter.save()
    painter.setClipRect(rect, Qt.ClipOperation.IntersectClip)
    painter.setFont(font)
    painter.setPen(QColor(colour))
    painter.drawText(QRectF(rect.left(), y, rect.width(), rect.bottom() - y), flags, f.text)
    painter.restore()
    return f


# ------------------------------------------------------------------------------------------ painting
class _Sheet:
    """Pixel geometry of one sheet at ``dpi`` for a (scaled) layout."""

    def __init__(self, tpl: CardTemplate, dpi: float):
        self.tpl, self.dpi = tpl, float(dpi)
        w, h = tpl.size_mm
        self.w, self.h = self.px(w), self.px(h)
        m = self.px(tpl.mm(tpl.margin_mm))
        self.inner = QRectF(m, m, self.w - 2 * m, self.h - 2 * m)
        self.line = max(self.px(tpl.mm(tpl.layout.get("line_mm", 0.35))), 0.5)
        self.pad = self.px(tpl.mm(1.6))
        self.min_pt = tpl.min_font_pt  # the smallest legible size, on every sheet

    def px(self, mm: float) -> float:
        return mm * self.dpi / 25.4

    def colour(self, key: str, default: str) -> QColor:
        return QColor(self.tpl.colours.get(key, default))

    def pen(self, painter: QPainter, colour: QColor | None = None) -> None:
        pen = QPen(colour or self.colour("frame", "#000000"), self.line)
        pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)


def _heights(sections: list[Section], tpl: CardTemplate, sheet: _Sheet, avail: float,
             need: Callable[[Section], float] | None = None) -> list[float]:
    """Pixel heights of ``sections`` filling ``avail``: fixed ones as given, weighted ones sharing the rest by
    weight, except that a section needing less than its share (``need``) gets what it needs and leaves the
    difference to the others."""
    fixed = [sheet.px(tpl.mm(s.height_mm)) if s.height_mm else 0.0 for s in sections]
    rest = max(0.0, avail - sum(fixed))
    weights = {i: s.weight for i, s in enumerate(sections) if s.weight}
    out = list(fixed)
    if need is not None:
        needs = {i: need(sections[i]) for i in weights}
        if sum(needs.values()) <= rest:  # everything fits: each its need, the spare by weight
            spare = rest - sum(needs.values())
            total = sum(weights.values())
            for i, w in weights.items():
                out[i] = needs[i] + spare * w / total
            return out
        open_ = dict(weights)
        while open_:  # water-filling: the small ones take what they need, the rest share what is left
            total = sum(open_.values())
            small = {i for i in open_ if needs[i] <= rest * open_[i] / total}
            if not small:
                break
            for i in small:
                out[i] = needs[i]
                rest -= needs[i]
                del open_[i]
        weights = open_
    total = sum(weights.values()) or 1.0
    for i, w in weights.items():
        out[i] = rest * w / total
    return out


def _watermark(painter: QPainter, rect: QRectF) -> None:
    painter.save()
    painter.setClipRect(rect, Qt.ClipOperation.IntersectClip)
    font = map_font(12, bold=True)
    font.setPixelSize(max(8, int(min(rect.width(), rect.height()) / 6)))
    painter.setFont(font)
    painter.setPen(QColor(200, 0, 0, 28))
    fm = QFontMetricsF(font, painter.device())
    tw = fm.horizontalAdvance(DEMO_MARK)
    for fy in (0.3, 0.7):
        painter.save()
        painter.translate(rect.center().x(), rect.top() + rect.height() * fy)
        painter.rotate(-30)
        painter.drawText(QPointF(-tw / 2, fm.ascent() / 2 - fm.descent() / 2), DEMO_MARK)
        painter.restore()
    painter.restore()


def _t(table: dict, key: str, lang: str, default=""):
    """A layout text in the language: ``<key>_en`` for English when the layout has it, else ``<key>``."""
    if lang == "en" and f"{key}_en" in table:
        return table[f"{key}_en"]
    return table.get(key, default)


def _phones_text(tpl: CardTemplate, ctx: Context) -> str:
    fixed = _t(tpl.phones, "fixed", ctx.lang, ["报警电话 119", "急救电话 120"])
    parts = [clean(x) for x in (fixed if isinstance(fixed, list) else [fixed])]
    if ctx.bureau_phone:
        parts.append(fill_placeholders(str(_t(tpl.phones, "bureau", ctx.lang, "{org}值班电话 {bureau_phone}")),
                                       ctx.values()))
    return "　　".join(p for p in parts if p)


def _band(painter: QPainter, sheet: _Sheet, rect: QRectF, fill: str, title: str, right: str, title_pt: float,
          right_pt: float, subtitle: str = "", subtitle_pt: float = 0) -> None:
    painter.fillRect(rect, QColor(fill))
    ink = text_on(fill)
    inner = rect.adjusted(sheet.pad * 2, sheet.pad, -sheet.pad * 2, -sheet.pad)
    right_w = inner.width() * 0.36 if right else 0.0
    title_rect = QRectF(inner.left(), inner.top(), inner.width() - right_w, inner.height())
    if subtitle:
        title_rect.setHeight(inner.height() * 0.64)
        draw_fitted(painter, QRectF(inner.left(), title_rect.bottom(), inner.width() - right_w,
                                    inner.height() - title_rect.height()), subtitle, subtitle_pt, sheet.min_pt,
                    colour=ink, align="center" if not right else "left", valign="center")
    draw_fitted(painter, title_rect, title, title_pt, sheet.min_pt, bold=True, colour=ink,
                align="center" if not right else "left", valign="center")
    if right:
        draw_fitted(painter, QRectF(inner.right() - right_w, inner.top(), right_w, inner.height()), right,
                    right_pt, sheet.min_pt, bold=True, colour=ink, align="right", valign="center")
    sheet.pen(painter)
    painter.drawRect(rect)


def _footer(painter: QPainter, sheet: _Sheet, rect: QRectF, ctx: Context, card: Card | None) -> None:
    tpl = sheet.tpl
    pt = tpl.font("footer_pt", 9)
    values = ctx.values(card)
    third = rect.width() / 3
    draw_fitted(painter, QRectF(rect.left(), rect.top(), third * 1.3, rect.height()),
                fill_placeholders(str(_t(tpl.footer, "left", ctx.lang)), values), pt, sheet.min_pt, valign="center")
    draw_fitted(painter, QRectF(rect.right() - third * 1.3, rect.top(), third * 1.3, rect.height()),
                fill_placeholders(str(_t(tpl.footer, "right", ctx.lang)), values), pt, sheet.min_pt, align="right",
                valign="center")
    if ctx.is_demo:
        draw_fitted(painter, QRectF(rect.left() + third * 1.3, rect.top(), third * 0.4, rect.height()),
                    DEMO_MARK, pt, sheet.min_pt, bold=True, colour="#C00000", align="center", valign="center")


def draw_signs(painter: QPainter, rect: QRectF, codes: list[str], name_pt: float, min_pt: float,
               lang: str = "zh") -> int:
    """The signs side by side (in as many rows as needed), each with its name below; returns how many."""
    codes = sorted_codes(codes)
    if not codes or rect.width() <= 0 or rect.height() <= 0:
        return 0
    signs = load_signs()
    best = None
    for rows in range(1, len(codes) + 1):
        per_row = math.ceil(len(codes) / rows)
        cw, ch = rect.width() / per_row, rect.height() / rows
        side = min(cw * 0.82, ch * 0.7)
        if best is None or side > best[0]:
            best = (side, rows, per_row, cw, ch)
    side, rows, per_row, cw, ch = best
    for i, code in enumerate(codes):
        r, c = divmod(i, per_row)
        n_in_row = min(per_row, len(codes) - r * per_row)
        x0 = rect.left() + (rect.width() - n_in_row * cw) / 2 + c * cw
        cell = QRectF(x0, rect.top() + r * ch, cw, ch)
        top = cell.top() + ch * 0.04
        draw_sign(painter, QRectF(cell.center().x() - side / 2, top, side, side), code)
        s = signs.get(code)
        name = s.name(lang) if s else code
        draw_fitted(painter, QRectF(cell.left() + cw * 0.03, top + side + ch * 0.02, cw * 0.94,
                                    cell.bottom() - top - side - ch * 0.02), name, name_pt, min_pt, align="center")
    return len(codes)


class CardPainter:
    """Paints one card per page; the painter's unit is one pixel at ``dpi`` with the page's corner at (0, 0)."""

    def __init__(self, tpl: CardTemplate, ctx: Context, dpi: float = DPI):
        self.tpl, self.ctx, self.dpi = tpl, ctx, dpi
        self.sheet = _Sheet(tpl, dpi)
        self.boxes: dict[str, tuple[QRectF, Fitted]] = {}  # the last card's text cells and what they hold

    def label(self, s: Section) -> str:
        return s.title(self.ctx.lang)

    def value(self, s: Section, card: Card) -> tuple[str, bool]:
        """(text, empty?) of a text section."""
        lang = self.ctx.lang
        empty = EMPTY_EN if lang == "en" else EMPTY_ZH
        if s.key == "name":
            return card.name, False
        if s.key == "category":
            return category_text(card, lang), False
        if s.key == "level":
            m = method_text(card, lang)
            return level_name(card.level, lang) + (f"（{m}）" if m and lang != "en" else (f" ({m})" if m else "")), False
        if s.key == "responsible":
            person = card.responsible_person or empty
            phone = card.responsible_phone
            word = "Phone" if lang == "en" else "联系电话"
            return person + (f"　　{word}：{phone}" if phone else ""), not card.responsible_person
        if s.key == "phones":
            return _phones_text(self.tpl, self.ctx), False
        if s.key == "enterprise":
            return self.ctx.enterprise, False
        if s.key == "text":
            return fill_placeholders(s.text, self.ctx.values(card)), False
        text = getattr(card, s.key, "")
        return (text, False) if text else (empty, True)

    def paint(self, painter: QPainter, card: Card) -> None:
        ensure_fonts()
        tpl, sh, ctx = self.tpl, self.sheet, self.ctx
        self.boxes = {}
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(QRectF(0, 0, sh.w, sh.h), QColor("#FFFFFF"))
        r = sh.inner
        band_h = sh.px(tpl.mm(tpl.band.get("height_mm", 28)))
        fill = level_colour(card.level)
        title = _t(tpl.band, "title", ctx.lang, "安全风险告知卡")
        _band(painter, sh, QRectF(r.left(), r.top(), r.width(), band_h), fill,
              fill_placeholders(str(title), ctx.values(card)), level_name(card.level, ctx.lang),
              tpl.mm(float(tpl.band.get("title_pt", 28))), tpl.mm(float(tpl.band.get("level_pt", 20))))
        foot_h = sh.px(tpl.mm(tpl.layout.get("footer_height_mm", 9)))
        top = r.top() + band_h
        avail = r.bottom() - foot_h - top
        label_w = sh.px(tpl.mm(tpl.layout.get("label_width_mm", 32)))
        value_w = r.width() - label_w - 2 * sh.pad
        body_pt = tpl.font("body_pt", 11)
        weighted = [s for s in tpl.sections if s.weight]
        texts = {id(s): self.value(s, card)[0] for s in weighted}
        for_pt = body_pt
        while True:  # one body size for every text section, the largest that lets them all fit
            needs = {id(s): max(_measure(painter, value_w, texts[id(s)], for_pt, False)[0],
                                _measure(painter, label_w - 2 * sh.pad, self.label(s), tpl.font("label_pt", 11), True)[0])
                     + 2 * sh.pad for s in weighted}
            fixed = sum(sh.px(tpl.mm(s.height_mm)) for s in tpl.sections if s.height_mm)
            if sum(needs.values()) <= avail - fixed or for_pt <= sh.min_pt:
                break
            for_pt = max(sh.min_pt, for_pt * 0.93)
        need = (lambda s: needs[id(s)])
        heights = _heights(list(tpl.sections), tpl, sh, avail, need)
        y = top
        for s, h in zip(tpl.sections, heights):
            row = QRectF(r.left(), y, r.width(), h)
            lab = QRectF(r.left(), y, label_w, h)
            painter.fillRect(lab, sh.colour("label_fill", "#EFEFEF"))
            draw_fitted(painter, lab.adjusted(sh.pad, sh.pad * 0.5, -sh.pad, -sh.pad * 0.5), self.label(s),
                        tpl.font("label_pt", 11), sh.min_pt, bold=True, align="center", valign="center")
            cell = QRectF(r.left() + label_w, y, r.width() - label_w, h).adjusted(sh.pad, sh.pad, -sh.pad, -sh.pad)
            self._cell(painter, s, card, cell, for_pt)
            sh.pen(painter)
            painter.drawRect(row)
            painter.drawLine(QPointF(lab.right(), lab.top()), QPointF(lab.right(), lab.bottom()))
            y += h
        sh.pen(painter)
        painter.drawRect(QRectF(r.left(), r.top(), r.width(), y - r.top()))
        _footer(painter, sh, QRectF(r.left(), r.bottom() - foot_h, r.width(), foot_h), ctx, card)
        if ctx.is_demo:
            _watermark(painter, QRectF(r.left(), top, r.width(), avail))
        painter.restore()

    def _cell(self, painter: QPainter, s: Section, card: Card, cell: QRectF, body_pt: float) -> None:
        tpl, sh = self.tpl, self.sheet
        if s.key == "signs":
            if not draw_signs(painter, cell, card.signs, tpl.font("sign_name_pt", 8), sh.min_pt, self.ctx.lang):
                draw_fitted(painter, cell, EMPTY_EN if self.ctx.lang == "en" else EMPTY_ZH, body_pt, sh.min_pt,
                            colour="#808080", valign="center")
            return
        text, empty = self.value(s, card)
        if s.key == "level":
            sw = QRectF(cell.left(), cell.top() + cell.height() * 0.15, cell.height() * 1.4, cell.height() * 0.7)
            painter.fillRect(sw, QColor(level_colour(card.level)))
            sh.pen(painter)
            painter.drawRect(sw)
            cell = cell.adjusted(sw.width() + sh.pad * 2, 0, 0, 0)
        fixed = bool(s.height_mm)
        pt = tpl.font("body_pt", 11) * (1.1 if s.key == "name" else 1.0) if fixed else body_pt
        f = draw_fitted(painter, cell, text, pt, sh.min_pt, bold=s.key in ("name", "level", "phones"),
                        colour="#808080" if empty else ("#C00000" if s.key == "phones" else sh.colour("text", "#000000")),
                        valign="center" if fixed else "top")
        self.boxes[s.key] = (cell, f)


# ------------------------------------------------------------------------------------------ the poster
class BoardPainter:
    """Paints the 公告栏 poster; ``paint_map(painter, rect_px)`` draws the plant map into a rectangle."""

    def __init__(self, tpl: CardTemplate, ctx: Context, cards: list[Card], paint_map: Callable | None,
                 dpi: float = DPI):
        self.tpl, self.ctx, self.cards, self.paint_map, self.dpi = tpl, ctx, cards, paint_map, dpi
        self.sheet = _Sheet(tpl, dpi)
        self.table_note = ""  # what the table left out, if anything

    def paint(self, painter: QPainter) -> None:
        ensure_fonts()
        tpl, sh, ctx = self.tpl, self.sheet, self.ctx
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        painter.fillRect(QRectF(0, 0, sh.w, sh.h), QColor("#FFFFFF"))
        r = sh.inner
        band_h = sh.px(tpl.mm(tpl.band.get("height_mm", 26)))
        values = ctx.values()
        level_word = ("Enterprise level: " if ctx.lang == "en" else "企业风险等级：") + level_name(ctx.level, ctx.lang)
        _band(painter, sh, QRectF(r.left(), r.top(), r.width(), band_h), level_colour(ctx.level),
              fill_placeholders(str(_t(tpl.band, "title", ctx.lang, "安全风险公告栏")), values), level_word,
              tpl.mm(float(tpl.band.get("title_pt", 34))), tpl.font("heading_pt", 13),
              subtitle=fill_placeholders(str(_t(tpl.band, "subtitle", ctx.lang, "{enterprise}")), values),
              subtitle_pt=tpl.mm(float(tpl.band.get("subtitle_pt", 14))))
        foot_h = sh.px(tpl.mm(tpl.layout.get("footer_height_mm", 8)))
        gap = sh.px(tpl.mm(2.5))
        top = r.top() + band_h + gap
        avail = r.bottom() - foot_h - top - gap * (len(tpl.sections) - 1)
        heights = _heights(list(tpl.sections), tpl, sh, avail)
        head_h = sh.px(tpl.mm(tpl.layout.get("heading_height_mm", 8)))
        y = top
        for s, h in zip(tpl.sections, heights):
            box = QRectF(r.left(), y, r.width(), h)
            head = QRectF(box.left(), box.top(), box.width(), min(head_h, h))
            painter.fillRect(head, sh.colour("heading_fill", "#1F3864"))
            draw_fitted(painter, head.adjusted(sh.pad * 2, 0, -sh.pad * 2, 0), s.title(ctx.lang),
                        tpl.font("heading_pt", 13), sh.min_pt, bold=True, colour=sh.colour("heading_text", "#FFFFFF"),
                        valign="center")
            body = QRectF(box.left(), head.bottom(), box.width(), box.height() - head.height())
            getattr(self, f"_part_{s.key}")(painter, s, body)
            sh.pen(painter)
            painter.drawRect(box)
            y += h + gap
        _footer(painter, sh, QRectF(r.left(), r.bottom() - foot_h, r.width(), foot_h), ctx, None)
        if ctx.is_demo:
            _watermark(painter, QRectF(r.left(), top, r.width(), r.bottom() - foot_h - top))
        painter.restore()

    def _part_map(self, painter: QPainter, s: Section, body: QRectF) -> None:
        if self.paint_map is not None:
            self.paint_map(painter, body.adjusted(self.sheet.pad, self.sheet.pad, -self.sheet.pad, -self.sheet.pad))

    def _part_text(self, painter: QPainter, s: Section, body: QRectF) -> None:
        sh = self.sheet
        draw_fitted(painter, body.adjusted(sh.pad * 2, sh.pad, -sh.pad * 2, -sh.pad),
                    fill_placeholders(s.text, self.ctx.values()), self.tpl.font("body_pt", 10), sh.min_pt)

    def _part_phones(self, painter: QPainter, s: Section, body: QRectF) -> None:
        sh = self.sheet
        draw_fitted(painter, body.adjusted(sh.pad * 2, sh.pad, -sh.pad * 2, -sh.pad), _phones_text(self.tpl, self.ctx),
                    self.tpl.font("heading_pt", 13), sh.min_pt, bold=True, colour="#C00000", align="center",
                    valign="center")

    def _part_signs(self, painter: QPainter, s: Section, body: QRectF) -> None:
        sh = self.sheet
        codes = [c for card in self.cards for c in card.signs]
        draw_signs(painter, body.adjusted(sh.pad, sh.pad, -sh.pad, -sh.pad), codes, self.tpl.font("sign_name_pt", 7),
                   sh.min_pt, self.ctx.lang)

    def _part_measures(self, painter: QPainter, s: Section, body: QRectF) -> None:
        sh = self.sheet
        key = [c for c in self.cards if c.level in (1, 2) and c.control_measures]
        lead = ""
        if not key:  # no 重大 or 较大 point: say so, and list the measures of every point
            key = [c for c in self.cards if c.control_measures]
            lead = ("No major or significant risk point; the measures of every point:\n" if self.ctx.lang == "en"
                    else "本企业无重大、较大风险点，以下为各风险点的管控措施：\n")
        text = lead + "\n".join(f"【{c.name}】{c.control_measures}" for c in key) if key else (
            EMPTY_EN if self.ctx.lang == "en" else EMPTY_ZH)
        draw_fitted(painter, body.adjusted(sh.pad * 2, sh.pad, -sh.pad * 2, -sh.pad), text,
                    self.tpl.font("body_pt", 10), sh.min_pt)

    def cell_text(self, key: str, i: int, card: Card) -> str:
        lang = self.ctx.lang
        if key == "no":
            return str(i + 1)
        if key == "category":
            return category_text(card, lang)
        if key == "level":
            return level_name(card.level, lang)
        if key == "method":
            return method_text(card, lang)
        if key == "responsible":
            return "\n".join(x for x in (card.responsible_person, card.responsible_phone) if x)
        return getattr(card, key, "")

    def _part_table(self, painter: QPainter, s: Section, body: QRectF) -> None:
        sh, tpl = self.sheet, self.tpl
        area = body.adjusted(sh.pad, sh.pad, -sh.pad, -sh.pad)
        total = sum(c.width for c in s.columns)
        xs = [area.left()]
        for c in s.columns:
            xs.append(xs[-1] + area.width() * c.width / total)
        pad = sh.pad * 0.6
        rows = [[self.cell_text(c.key, i, card) for c in s.columns] for i, card in enumerate(self.cards)]
        header = [c.label_en if self.ctx.lang == "en" and c.label_en else c.label for c in s.columns]

        def row_height(cells, pt, bold=False, max_lines=None):
            hs = []
            for j, t in enumerate(cells):
                h, font, _ = _measure(painter, xs[j + 1] - xs[j] - 2 * pad, t or " ", pt, bold)
                if max_lines:
                    line = QFontMetricsF(font, painter.device()).lineSpacing()
                    h = min(h, line * max_lines)
                hs.append(h)
            return max(hs) + 2 * pad

        pt = tpl.font("table_pt", 9)
        max_lines = None
        while True:
            hh = row_height(header, pt, True)
            heights = [row_height(cells, pt, max_lines=max_lines) for cells in rows]
            if hh + sum(heights) <= area.height():
                break
            if pt > sh.min_pt:
                pt = max(sh.min_pt, pt * 0.93)
            elif max_lines is None or max_lines > 1:
                max_lines = 3 if max_lines is None else max_lines - 1
            else:
                break
        shown = len(rows)
        note_h = 0.0
        if hh + sum(heights) > area.height():  # even one line per cell is too much: leave rows out, say so
            note_h = row_height(["…"], pt)
            while shown > 0 and hh + sum(heights[:shown]) + note_h > area.height():
                shown -= 1
            word = "more risk points: see their cards" if self.ctx.lang == "en" else "个风险点未列出，见各自的告知卡"
            self.table_note = f"{len(rows) - shown} {word}" if self.ctx.lang == "en" else f"另有 {len(rows) - shown} {word}"
        y = area.top()

        def draw_row(cells, h, bold=False, fills=None):
            for j, t in enumerate(cells):
                cell = QRectF(xs[j], y, xs[j + 1] - xs[j], h)
                colour = sh.colour("text", "#000000")
                if fills and fills[j]:
                    painter.fillRect(cell, QColor(fills[j]))
                    colour = text_on(fills[j])
                sh.pen(painter)
                painter.drawRect(cell)
                draw_fitted(painter, cell.adjusted(pad, pad, -pad, -pad), t, pt, pt, bold=bold, colour=colour,
                            align="center" if s.columns[j].key in ("no", "level", "category") else "left",
                            valign="center")

        draw_row(header, hh, True, [tpl.colours.get("label_fill", "#EFEFEF")] * len(header))
        y += hh
        for i in range(shown):
            fills = [level_colour(self.cards[i].level) if c.key == "level" else None for c in s.columns]
            draw_row(rows[i], heights[i], fills=fills)
            y += heights[i]
        if self.table_note:
            draw_fitted(painter, QRectF(area.left() + pad, y, area.width() - 2 * pad, note_h), self.table_note, pt, pt,
                        colour="#C00000", valign="center")


# ------------------------------------------------------------------------------------------ PDF
def write_pages(path: str | Path, pages: list[tuple[tuple[float, float], Callable[[QPainter], None]]], *,
                title: str, dpi: float = DPI) -> None:
    """Pages (size in mm, paint function) into one vector PDF with exact page sizes."""
    if not pages:
        raise RiskmapError("没有要输出的页面", "no pages to write")
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("riskmap")
    writer.setResolution(int(dpi))
    painter = None
    sizes = set()
    try:
        for i, ((w_mm, h_mm), paint) in enumerate(pages):
            size = QPageSize(QSizeF(w_mm, h_mm), QPageSize.Unit.Millimeter, "", QPageSize.SizeMatchPolicy.ExactMatch)
            writer.setPageLayout(QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0)))
            sizes.add((w_mm / (25.4 / 72), h_mm / (25.4 / 72)))
            if painter is None:
                painter = QPainter()
                if not painter.begin(writer):
                    raise RiskmapError(f"无法写入 PDF: {path}", f"cannot write PDF: {path}")
            else:
                writer.newPage()
            paint(painter)
    finally:
        if painter is not None and painter.isActive():
            painter.end()
    for size in sizes:
        fix_pdf(path, size)


def _context(project, plant, lang: str, date: str | None) -> Context:
    meta = project.meta()
    ent = plant.enterprise or {}
    today = dt.date.today()
    return Context(enterprise=clean(ent.get("name")) or "—", org=clean(meta.get("org")),
                   bureau_phone=clean(meta.get("bureau_phone")),
                   date=date or (today.isoformat() if lang == "en" else f"{today.year}年{today.month}月{today.day}日"),
                   is_demo=bool(project.is_demo), level=_int_or_none(ent.get("level")), lang=lang)


def _check_lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        raise RiskmapError(f"语言应为 zh 或 en: {lang}", f"language must be zh or en: {lang}")
    return lang


def export_cards(project, enterprise_id: int, out_pdf, *, paper: str | None = "A4", board: bool = False,
                 lang: str = "zh", template=None, date: str | None = None) -> Path:
    """The 安全风险告知卡 of every risk point and hazard source of an enterprise, one per page (A4 or A5).

    ``board=True`` writes the 安全风险公告栏 poster instead (see :func:`export_board`; a card paper size then
    means A3). ``template``: a card (or board) layout file in the format of ``resources/templates/card.toml``.
    Returns the path written (whole or not at all).
    """
    if board:
        poster = str(paper or "A3").upper()
        return export_board(project, enterprise_id, out_pdf, paper="A3" if poster in ("A4", "A5") else poster,
                            lang=lang, template=template, date=date)
    _check_lang(lang)
    tpl = load_card_template(template, "card").scaled_to(paper or "A4")
    ensure_app()
    plant = plant_data(project, enterprise_id)
    cards = cards_from_points(plant.points)
    ctx = _context(project, plant, lang, date)
    if not cards:
        raise RiskmapError(f"企业“{ctx.enterprise}”没有风险点，无法生成告知卡",
                           f"enterprise {ctx.enterprise!r} has no risk points: no cards")
    cp = CardPainter(tpl, ctx)
    title = demo_title(f"{ctx.enterprise}安全风险告知卡", ctx.is_demo)
    out = Path(out_pdf)
    with atomic_path(out) as tmp:
        write_pages(tmp, [(tpl.size_mm, lambda p, c=c: cp.paint(p, c)) for c in cards], title=title)
    return out


def export_board(project, enterprise_id: int, out_pdf, *, paper: str = "A3", lang: str = "zh", template=None,
                 date: str | None = None) -> Path:
    """The 安全风险公告栏 poster of an enterprise (A3, A2 or A1): its 四色分布图, table, measures, phones, signs."""
    _check_lang(lang)
    tpl = load_card_template(template if template is not None else "board", "board").scaled_to(paper)
    ensure_app()
    plant = plant_data(project, enterprise_id)
    ctx = _context(project, plant, lang, date)
    cards = cards_from_points(plant.points)
    paint_map = plant_map_painter(project, enterprise_id, plant=plant, dpi=DPI, lang=lang, scale=tpl.scale)
    bp = BoardPainter(tpl, ctx, cards, paint_map)
    title = demo_title(f"{ctx.enterprise}安全风险公告栏", ctx.is_demo)
    out = Path(out_pdf)
    with atomic_path(out) as tmp:
        write_pages(tmp, [(tpl.size_mm, bp.paint)], title=title)
    return out
