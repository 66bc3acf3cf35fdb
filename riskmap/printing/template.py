"""Print layout templates: JSON files of items placed in millimetres on an A-series design page.

A template holds one item list per orientation. Every A size has the same √2 aspect ratio, so a
template designed on A3 scales uniformly to A4…A0 (positions and text sizes alike). Bundled templates
live in ``resources/templates``; user templates in the folder named by ``RISKMAP_TEMPLATES_DIR`` or
``~/.config/riskmap/templates`` (same format; a user file of the same name wins).

>>> t = load_template("standard")
>>> page = t.page("A4", "portrait")
>>> page.size_mm, [i.type for i in page.items][:3]
((210.0, 297.0), ['frame', 'title', 'subtitle'])
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import TEMPLATES_DIR

PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0), "A2": (420.0, 594.0), "A1": (594.0, 841.0),
            "A0": (841.0, 1189.0)}
ORIENTATIONS = ("landscape", "portrait")
ITEM_TYPES = ("frame", "title", "subtitle", "map", "north_arrow", "scalebar", "inset", "legend", "stats", "note",
              "text")
MIN_TEXT_PT = 4.5
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill_placeholders(text: str, values: dict) -> str:
    """``text`` with each ``{name}`` replaced by ``values[name]``; unknown names stay as written.

    Only plain names are placeholders (no attribute, index or format spec, unlike ``str.format``), and the
    values are inserted as they are, never read as placeholders themselves: user text is data.

    >>> fill_placeholders("编制单位：{unit} {x.__class__} {missing}", {"unit": "{title}"})
    '编制单位：{title} {x.__class__} {missing}'
    """
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def paper_size_mm(paper: str, orientation: str) -> tuple[float, float]:
    """(width, height) in mm of an A-series sheet in the orientation."""
    key = str(paper).upper()
    if key not in PAPER_MM:
        raise RiskmapError(f"不支持的纸张: {paper}（可用 {'、'.join(PAPER_MM)}）",
                           f"unsupported paper size: {paper} (use {', '.join(PAPER_MM)})")
    if orientation not in ORIENTATIONS:
        raise RiskmapError(f"纸张方向应为 landscape 或 portrait: {orientation}",
                           f"orientation must be landscape or portrait: {orientation}")
    w, h = PAPER_MM[key]
    return (h, w) if orientation == "landscape" else (w, h)


@dataclass(frozen=True)
class Item:
    """One layout item: its type, rectangle (x, y, w, h) in mm and its options."""

    type: str
    rect: tuple[float, float, float, float]
    options: dict = field(default_factory=dict)

    def get(self, key, default=None):
        return self.options.get(key, default)

    def scaled(self, k: float) -> Item:
        opts = dict(self.options)
        for key in ("size_pt", "width_mm", "frame_mm"):
            if key in opts:
                value = float(opts[key]) * k
                opts[key] = max(MIN_TEXT_PT, value) if key == "size_pt" else value
        return replace(self, rect=tuple(v * k for v in self.rect), options=opts)


@dataclass(frozen=True)
class Page:
    """A template's items for one sheet: size in mm and items in drawing order."""

    paper: str
    orientation: str
    size_mm: tuple[float, float]
    items: tuple[Item, ...]
    scale: float = 1.0  # text and line scale relative to the design sheet

    def first(self, kind: str) -> Item | None:
        return next((i for i in self.items if i.type == kind), None)

    def all(self, kind: str) -> list[Item]:
        return [i for i in self.items if i.type == kind]


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    design_paper: str
    pages: dict
    note: str = ""
    path: Path | None = None
    description: str = ""
    defaults: dict = field(default_factory=dict)  # default texts: unit, subtitle, sources, approval_no

    def page(self, paper: str, orientation: str) -> Page:
        """The template's items for ``paper`` in ``orientation``, scaled from the design sheet."""
        size = paper_size_mm(paper, orientation)
        items = self.pages.get(orientation)
        if not items:
            raise RiskmapError(f"模板“{self.title}”没有{'横向' if orientation == 'landscape' else '纵向'}版式",
                               f"template {self.name!r} has no {orientation} layout", where=str(self.path or ""))
        design = paper_size_mm(self.design_paper, orientation)
        k = size[0] / design[0]
        return Page(paper.upper(), orientation, size, tuple(i.scaled(k) for i in items), k)


def user_templates_dir() -> Path:
    env = os.environ.get("RISKMAP_TEMPLATES_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "riskmap" / "templates"


def _parse(data: dict, path: Path | None, name: str) -> Template:
    where = str(path) if path else name
    if not isinstance(data, dict) or not isinstance(data.get("pages"), dict):
        raise RiskmapError("模板缺少 pages", "template lacks 'pages'", where=where)
    pages = {}
    for orientation, raw in data["pages"].items():
        if orientation not in ORIENTATIONS:
            raise RiskmapError(f"未知的纸张方向: {orientation}", f"unknown orientation {orientation!r}", where=where)
        items = []
        for k, it in enumerate(raw):
            here = f"{where}: pages.{orientation}[{k}]"
            if not isinstance(it, dict) or it.get("type") not in ITEM_TYPES:
                raise RiskmapError(f"未知的版式元素类型: {it.get('type') if isinstance(it, dict) else it}",
                                   f"unknown item type (use {', '.join(ITEM_TYPES)})", where=here)
            rect = it.get("rect")
            if (not isinstance(rect, list) or len(rect) != 4
                    or not all(isinstance(v, (int, float)) for v in rect) or rect[2] <= 0 or rect[3] <= 0):
                raise RiskmapError("rect 应为 [x, y, 宽, 高]（毫米，宽高大于零）", "rect must be [x, y, w, h] in mm",
                                   where=here)
            opts = {key: v for key, v in it.items() if key not in ("type", "rect")}
            items.append(Item(it["type"], tuple(float(v) for v in rect), opts))
        pages[orientation] = tuple(items)
    design = str(data.get("design_paper", "A3")).upper()
    paper_size_mm(design, "portrait")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise RiskmapError("defaults 应为键值表", "defaults must be a table", where=where)
    return Template(name=name, title=str(data.get("name", name)), design_paper=design, pages=pages,
                    note=str(data.get("note", "")), path=path, description=str(data.get("description", "")),
                    defaults={str(k): str(v) for k, v in defaults.items()})


def read_template(path: str | os.PathLike) -> Template:
    """Read a template file."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError(f"找不到模板文件: {p}", f"template file not found: {p}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RiskmapError(f"模板文件无法读取: {exc}", f"cannot read template: {exc}", where=str(p)) from None
    return _parse(data, p, p.stem)


OWN_PRINT_TEMPLATES = ("plant",)  # layouts of a print of their own (the plant map), not of the county map


def template_files(*, own_prints: bool = False) -> dict[str, Path]:
    """Template name → file: bundled ones, then user ones (which win on equal names). The layouts of other
    prints (``plant``: the plant map of riskmap.printing.plant_print) only with ``own_prints``."""
    out = {p.stem: p for p in sorted(TEMPLATES_DIR.glob("*.json"))
           if own_prints or p.stem not in OWN_PRINT_TEMPLATES}
    user = user_templates_dir()
    if user.is_dir():
        out.update({p.stem: p for p in sorted(user.glob("*.json"))})
    return out


def load_template(name_or_path: str | os.PathLike | None = None) -> Template:
    """A template by name (bundled or user) or by path; default ``standard``."""
    if name_or_path is None:
        name_or_path = "standard"
    text = str(name_or_path)
    if text.endswith(".json") or os.sep in text or "/" in text:
        return read_template(text)
    files = template_files(own_prints=True)
    if text not in files:
        raise RiskmapError(f"没有名为“{text}”的模板（可用：{'、'.join(files)}）",
                           f"no template named {text!r} (available: {', '.join(files)})")
    return read_template(files[text])


def save_user_template(template: Template, name: str, defaults: dict | None = None) -> Path:
    """Write a template into the user folder as ``<name>.json`` (with default texts); returns its path."""
    if not name or any(ch in name for ch in '/\\:*?"<>|') or name.startswith("."):
        raise RiskmapError(f"模板名称无效: {name!r}", f"invalid template name: {name!r}")
    folder = user_templates_dir()
    folder.mkdir(parents=True, exist_ok=True)
    data = {"name": name, "description": template.description, "design_paper": template.design_paper,
            "note": template.note, "defaults": dict(defaults if defaults is not None else template.defaults),
            "pages": {o: [{"type": i.type, "rect": list(i.rect), **i.options} for i in items]
                      for o, items in template.pages.items()}}
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def choice(entry, key: str, allowed, where: str, what_zh: str, what_en: str) -> None:
    """``entry`` is a table whose ``key`` is one of ``allowed``; else a clear error naming what is allowed.

    >>> choice({"key": "band"}, "key", ("band", "table"), "card.toml", "栏目", "section key")
    """
    if not isinstance(entry, dict) or entry.get(key) not in allowed:
        got = entry.get(key) if isinstance(entry, dict) else entry
        raise RiskmapError(f"未知的{what_zh}: {got!r}（可用 {'、'.join(allowed)}）",
                           f"unknown {what_en} {got!r} (use {', '.join(allowed)})", where=where)
