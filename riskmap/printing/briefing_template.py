"""The briefing template (研判简报模板): a section list in TOML plus a Word file with the styles, page setup,
header and footer. Both are files a bureau copies and changes (``resources/templates/briefing.toml`` and
``briefing.docx``).

Texts of the template may hold a few ``{name}`` placeholders; they are filled by
:func:`riskmap.printing.template.fill_placeholders` (one pass, values inserted as written): a project value is
data and never read as a template.

>>> t = load_briefing_template()
>>> [s.kind for s in t.sections][:3], t.docx.name
(['summary', 'map', 'towns'], 'briefing.docx')
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from riskmap.errors import RiskmapError
from riskmap.paths import TEMPLATES_DIR
from riskmap.printing.template import choice

DEFAULT_SECTIONS = TEMPLATES_DIR / "briefing.toml"
DEFAULT_DOCX = TEMPLATES_DIR / "briefing.docx"
SECTION_KINDS = ("summary", "map", "towns", "raised", "dangers", "indicators", "encroachments", "text")


@dataclass(frozen=True)
class Section:
    kind: str
    heading: str
    text: str = ""
    caption: str = ""
    subheadings: tuple[str, ...] = ()  # level-2 headings (楷体): before the text and before the table or chart


@dataclass(frozen=True)
class BriefingTemplate:
    name: str
    title: str
    issue: str
    no_issue: str
    sections: tuple[Section, ...]
    docx: Path
    path: Path


def _str(data: dict, key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise RiskmapError(f"模板中 {key} 应为文字", f"{key} must be text", where=where)
    return value


def read_sections(path: Path, docx: Path | None = None) -> BriefingTemplate:
    """Read a section list; ``docx`` overrides the Word file it names."""
    where = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RiskmapError(f"找不到简报模板文件: {path}", f"briefing template not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RiskmapError(f"简报模板无法读取: {exc}", f"cannot read the briefing template: {exc}",
                           where=where) from None
    raw = data.get("sections")
    if not isinstance(raw, list) or not raw:
        raise RiskmapError("简报模板缺少 [[sections]] 章节表", "the briefing template lists no [[sections]]", where=where)
    sections = []
    for i, s in enumerate(raw):
        here = f"{where}: sections[{i}]"
        choice(s, "kind", SECTION_KINDS, here, "章节类型", "section kind")
        subs = s.get("subheadings", [])
        if not isinstance(subs, list) or not all(isinstance(x, str) for x in subs):
            raise RiskmapError("subheadings 应为文字列表", "subheadings must be a list of texts", where=here)
        sections.append(Section(s["kind"], _str(s, "heading", "", here), _str(s, "text", "", here),
                                _str(s, "caption", "", here), tuple(subs)))
    if docx is None:
        name = _str(data, "docx", DEFAULT_DOCX.name, where)
        docx = (path.parent / name) if name else DEFAULT_DOCX
        if not docx.is_file():
            raise RiskmapError(f"找不到简报模板的 Word 文件: {docx}", f"the template's Word file is missing: {docx}",
                               where=where)
    return BriefingTemplate(name=_str(data, "name", path.stem, where),
                            title=_str(data, "title", "{place}安全风险研判简报", where),
                            issue=_str(data, "issue", "{year}年第{issue}期", where),
                            no_issue=_str(data, "no_issue", "{year}年", where),
                            sections=tuple(sections), docx=docx, path=path)


def load_briefing_template(path: str | os.PathLike | None = None) -> BriefingTemplate:
    """The bundled template, or a user's: a section list (``.toml``, naming its Word file) or a Word file
    (``.docx``, with the bundled section list)."""
    if path is None:
        return read_sections(DEFAULT_SECTIONS)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".toml", ".docx"):
        raise RiskmapError(f"简报模板应为 .toml 章节表或 .docx 文件: {p}",
                           f"a briefing template is a .toml section list or a .docx file: {p}", where="--template")
    if not p.is_file():
        raise RiskmapError(f"找不到简报模板文件: {p}", f"briefing template not found: {p}", where="--template")
    if suffix == ".docx":
        return read_sections(DEFAULT_SECTIONS, docx=p)
    return read_sections(p)
