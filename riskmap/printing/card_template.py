"""Layouts of the 安全风险告知卡 and the 安全风险公告栏: TOML files users can copy and edit, checked on reading.

A layout names its design sheet (A4 for a card, A3 for a poster), its title band, fonts, colours and its
sections top to bottom, each with a fixed height or a share (weight) of what is left. Other A sizes scale
everything uniformly (every A sheet has the same √2 ratio). Mistakes are refused with the file and the
entry named.

>>> t = load_card_template("card")
>>> t.kind, t.design_paper, [s.key for s in t.sections][:3]
('card', 'A4', ['name', 'category', 'level'])
>>> t.scaled_to("A5").font("body_pt") < t.font("body_pt")
True
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import TEMPLATES_DIR
from riskmap.printing.template import PAPER_MM, choice

CARD_KEYS = ("name", "category", "level", "hazard_factors", "accident_types", "control_measures",
             "emergency_measures", "responsible", "phones", "signs", "enterprise", "text")
BOARD_KEYS = ("map", "table", "measures", "phones", "signs", "text")
TABLE_KEYS = ("no", "name", "category", "level", "method", "hazard_factors", "accident_types", "control_measures",
              "emergency_measures", "responsible")
PAPERS = {"card": ("A4", "A5"), "board": ("A3", "A2", "A1")}
SHEETS_MM = {**PAPER_MM, "A5": (148.0, 210.0)}


def paper_size_mm(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) in mm of an A sheet (A5 … A0) in the orientation."""
    w, h = SHEETS_MM[str(paper).upper()]
    return (h, w) if orientation == "landscape" else (w, h)


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: float
    label_en: str = ""


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    height_mm: float | None = None
    weight: float | None = None
    text: str = ""
    label_en: str = ""
    columns: tuple[Column, ...] = ()

    def title(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" and self.label_en else self.label


@dataclass(frozen=True)
class CardTemplate:
    """A card or poster layout; sizes in mm and points on ``design_paper`` (use :meth:`scaled_to`)."""

    kind: str  # card | board
    name: str
    design_paper: str
    orientation: str
    margin_mm: float
    min_font_pt: float
    band: dict
    fonts: dict
    colours: dict
    layout: dict
    sections: tuple[Section, ...]
    footer: dict
    phones: dict = field(default_factory=dict)
    path: Path | None = None
    scale: float = 1.0
    paper: str = ""

    def font(self, key: str, default: float = 10.0) -> float:
        return float(self.fonts.get(key, default)) * self.scale

    def mm(self, value: float) -> float:
        return float(value) * self.scale

    @property
    def size_mm(self) -> tuple[float, float]:
        return paper_size_mm(self.paper or self.design_paper, self.orientation)

    def scaled_to(self, paper: str) -> CardTemplate:
        """The layout on ``paper`` (A5, A2 …): sizes and fonts scaled by the ratio of the sheets' widths."""
        paper = str(paper).upper()
        allowed = PAPERS[self.kind]
        if paper not in allowed:
            what = "告知卡" if self.kind == "card" else "公告栏"
            raise RiskmapError(f"{what}纸张应为 {'、'.join(allowed)}: {paper}",
                               f"{self.kind} paper must be {', '.join(allowed)}: {paper}")
        k = paper_size_mm(paper, self.orientation)[0] / paper_size_mm(self.design_paper, self.orientation)[0]
        return replace(self, scale=k, paper=paper)


def _num(value, where: str, what: str, *, positive: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (positive and value <= 0):
        raise RiskmapError(f"{what} 应为{'正' if positive else ''}数: {value!r}",
                           f"{what} must be a {'positive ' if positive else ''}number: {value!r}", where=where)
    return float(value)


def _table(data: dict, key: str, where: str) -> dict:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise RiskmapError(f"[{key}] 应为键值表", f"[{key}] must be a table", where=where)
    return value


def parse_card_template(data: dict, kind: str, path: Path | None = None) -> CardTemplate:
    """Check and build a layout from parsed TOML (``kind``: card or board)."""
    where = str(path) if path else kind
    if kind not in PAPERS:
        raise RiskmapError(f"版式类型应为 card 或 board: {kind}", f"layout kind must be card or board: {kind}")
    design = str(data.get("design_paper", PAPERS[kind][0])).upper()
    if design not in SHEETS_MM:
        raise RiskmapError(f"design_paper 无效: {design}", f"bad design_paper {design!r}", where=where)
    orientation = str(data.get("orientation", "portrait"))
    if orientation not in ("portrait", "landscape"):
        raise RiskmapError(f"orientation 应为 portrait 或 landscape: {orientation}",
                           f"orientation must be portrait or landscape: {orientation}", where=where)
    fonts = _table(data, "fonts", where)
    for k, v in fonts.items():
        _num(v, f"{where}: fonts.{k}", k)
    colours = _table(data, "colours", where)
    for k, v in colours.items():
        if not (isinstance(v, str) and len(v) == 7 and v.startswith("#")
                and all(ch in "0123456789abcdefABCDEF" for ch in v[1:])):
            raise RiskmapError(f"颜色应写作 #RRGGBB: {k} = {v!r}", f"colour must be #RRGGBB: {k} = {v!r}",
                               where=f"{where}: colours.{k}")
    layout = _table(data, "layout", where)
    for k, v in layout.items():
        _num(v, f"{where}: layout.{k}", k, positive=False)
    band = _table(data, "band", where)
    for k in ("height_mm", "title_pt", "level_pt", "subtitle_pt"):
        if k in band:
            _num(band[k], f"{where}: band.{k}", k)
    keys = CARD_KEYS if kind == "card" else BOARD_KEYS
    raw = data.get("section")
    if not isinstance(raw, list) or not raw:
        raise RiskmapError("版式缺少 [[section]]", "layout lacks [[section]] entries", where=where)
    sections = []
    for i, s in enumerate(raw):
        here = f"{where}: section[{i}]"
        choice(s, "key", keys, here, "栏目", "section key")
        unknown = set(s) - {"key", "label", "label_en", "height_mm", "weight", "text", "columns"}
        if unknown:
            raise RiskmapError(f"栏目中有未知的设置: {', '.join(sorted(unknown))}",
                               f"unknown settings in a section: {', '.join(sorted(unknown))}", where=here)
        height = s.get("height_mm")
        weight = s.get("weight")
        if (height is None) == (weight is None):
            raise RiskmapError("栏目须有 height_mm 或 weight 之一", "a section needs height_mm or weight (one of them)",
                               where=here)
        if height is not None:
            _num(height, here, "height_mm")
        if weight is not None:
            _num(weight, here, "weight")
        columns = ()
        if s["key"] == "table":
            cols = s.get("columns")
            if not isinstance(cols, list) or not cols:
                raise RiskmapError("清单栏目须列出 columns", "the table section needs columns", where=here)
            out = []
            for j, c in enumerate(cols):
                there = f"{here}.columns[{j}]"
                choice(c, "key", TABLE_KEYS, there, "列", "column")
                out.append(Column(c["key"], str(c.get("label", c["key"])), _num(c.get("width", 1.0), there, "width"),
                                  str(c.get("label_en", ""))))
            columns = tuple(out)
        sections.append(Section(s["key"], str(s.get("label", "")), None if height is None else float(height),
                                None if weight is None else float(weight), str(s.get("text", "")),
                                str(s.get("label_en", "")), columns))
    fixed = sum(s.height_mm for s in sections if s.height_mm) + float(band.get("height_mm", 0))
    w, h = paper_size_mm(design, orientation)
    margin = _num(data.get("margin_mm", 10), where, "margin_mm", positive=False)
    if fixed >= h - 2 * margin:
        raise RiskmapError(f"固定高度之和 {fixed:g} mm 超出纸面可用高度 {h - 2 * margin:g} mm",
                           f"fixed heights ({fixed:g} mm) exceed the sheet's usable height ({h - 2 * margin:g} mm)",
                           where=where)
    footer = _table(data, "footer", where)
    phones = _table(data, "phones", where)
    return CardTemplate(kind=kind, name=str(data.get("name", kind)), design_paper=design, orientation=orientation,
                        margin_mm=margin, min_font_pt=_num(data.get("min_font_pt", 5), where, "min_font_pt"),
                        band=dict(band), fonts=dict(fonts), colours=dict(colours), layout=dict(layout),
                        sections=tuple(sections), footer={k: str(v) for k, v in footer.items()},
                        phones=dict(phones), path=path)


def load_card_template(name_or_path: str | os.PathLike | None = None, kind: str = "card") -> CardTemplate:
    """The bundled ``card`` / ``board`` layout, or a user's file (a path)."""
    text = str(name_or_path) if name_or_path is not None else kind
    if text in ("card", "board"):
        kind, p = text, TEMPLATES_DIR / f"{text}.toml"
    else:
        p = Path(text)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError(f"找不到版式文件: {p}", f"layout file not found: {p}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"版式文件无法读取: {exc}", f"cannot read the layout file: {exc}", where=str(p)) from None
    return parse_card_template(data, kind, p)
