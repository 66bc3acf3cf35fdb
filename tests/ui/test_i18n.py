"""Translations: every UI string of the desktop (every module of riskmap/ui, none skipped) goes through tr()
and has an English translation; the .ts holds exactly what the translation tools extract from the code; the
.qm matches the .ts; switching the language changes what tr() returns.

The rule for Chinese text in riskmap/ui (checked by ``test_no_chinese_text_outside_tr``): a string literal with
Chinese characters is allowed only

1. as the argument of ``tr("…")`` or ``QT_TR_NOOP("…")`` (a table of strings translated where shown);
2. in a docstring;
3. as the Chinese half of a bilingual pair: followed, in the same tuple, list or call, by a string without
   Chinese (``("镇/街道", "Towns")``, ``RiskmapError("请先打开项目", "open a project first")``), as the value of
   a ``"zh"`` key next to an ``"en"`` one, or as one branch of ``"; " if lang == "en" else "；"``;
4. in a log message (``log.info(…)``): logs are for developers;
5. as a value that user input or file contents are matched against (``x == "行业"``, ``text.split("：")``);
6. as one of the few data values in ``ALLOWED`` below, each with its reason (the 示例数据 mark that every demo
   export carries, the demo place, a provider's attribution, each language named in its own language).

Everything else a user can read is built with ``tr("…{name}…").format(name=…)`` so that a translator sees the
whole sentence: no ``tr("甲") + "："`` and no ``tr()`` inside f-strings (the extraction tool does not find
those; ``test_ts_holds_what_lupdate_extracts`` fails on them).
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from riskmap.paths import I18N_DIR, ROOT

UI = ROOT / "riskmap" / "ui"
UI_MODULES = sorted(UI.rglob("*.py"))
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
MARKERS = {"tr", "QT_TR_NOOP"}
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
MATCH_METHODS = {"split", "rsplit", "strip", "lstrip", "rstrip", "startswith", "endswith", "find", "rfind",
                 "index", "count", "partition", "rpartition"}
ALLOWED = {  # (module, literal): why it stays Chinese in every language
    ("i18n.py", "中文"): "each language is named in its own language in the language menu",
    ("main_window.py", "会宁县"): "the demo place (a place name: data)",
    ("main_window.py", "示例.gpkg"): "the demo project's file name (data)",
    ("tiles.py", "天地图 © 国家地理信息公共服务平台"): "the map provider's attribution, in its own wording",
    ("print_dialog.py", "yyyy年M月d日"): "the date as printed on the sheet (the print templates are Chinese)",
}


def _parents(tree) -> dict:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _is_marker(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MARKERS


def tr_literals(path: Path) -> set[str]:
    """The source strings of tr("…") and QT_TR_NOOP("…") in a module."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if _is_marker(node) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value)
    return out


def code_strings() -> dict[str, list[str]]:
    """source string → modules using it, over every module of riskmap/ui."""
    out: dict[str, list[str]] = {}
    for path in UI_MODULES:
        for s in tr_literals(path):
            out.setdefault(s, []).append(str(path.relative_to(UI)))
    return out


def ts_messages(path: Path = I18N_DIR / "riskmap_en.ts") -> dict[str, str | None]:
    """source → English (None when missing or unfinished) for every message of a .ts file."""
    root = ET.parse(path).getroot()
    out = {}
    for m in root.iter("message"):
        t = m.find("translation")
        out[m.findtext("source")] = None if t.get("type") in ("unfinished", "vanished", "obsolete") or not t.text \
            else t.text
    return out


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


# ---------------------------------------------------------------------------------------------- the .ts
def test_every_ui_string_has_an_english_translation():
    messages = ts_messages()
    strings = code_strings()
    assert len(strings) > 400  # all modules are read (the desktop has some 450 strings)
    missing = [(s, m) for s, m in strings.items() if s not in messages]
    unfinished = [(s, m) for s, m in strings.items() if s in messages and messages[s] is None]
    assert not missing, missing
    assert not unfinished, unfinished
    for src, en in messages.items():
        assert en is not None and en.strip(), src
        assert not CJK.search(en), (src, en)  # English, not Chinese left in place
        # placeholders, Qt arguments and HTML tags survive translation
        for pattern in (r"\{[a-z_]*", r"%\d", r"</?[a-z]+"):
            assert sorted(re.findall(pattern, src)) == sorted(re.findall(pattern, en)), (src, en)


def test_key_terms_use_the_usual_gis_and_safety_english():
    messages = ts_messages()
    expected = {
        "图层": "Layers", "识别结果": "Identify", "打开属性表": "Open attribute table", "安全控制线": "Safety control line",
        "示例数据": "Demo data", "风险分区": "Risk zoning", "一点即现": "What's here", "选址检查（点）": "Site check (point)",
        "隐患": "Hidden dangers", "规划分析": "Planning analysis", "图例": "Legend", "文件": "File",
    }
    for zh, en in expected.items():
        assert messages.get(zh) == en, (zh, messages.get(zh))


def test_ts_holds_what_lupdate_extracts(tmp_path):
    """The translation tool finds every tr() string of the code (none hidden in f-strings or concatenations) and
    the .ts has no string the code no longer uses (run ``python -m riskmap.ui.i18n`` after changing texts)."""
    lupdate = _tool("pyside6-lupdate")
    if lupdate is None:
        pytest.skip("pyside6-lupdate not installed")
    fresh = tmp_path / "fresh.ts"
    subprocess.run([lupdate, *map(str, UI_MODULES), "-ts", str(fresh), "-no-obsolete", "-locations", "none"],
                   check=True, capture_output=True)
    extracted = set(ts_messages(fresh))
    in_code = set(code_strings())
    assert in_code - extracted == set(), "tr() strings the extraction tool cannot see"
    assert extracted - in_code == set()
    assert set(ts_messages()) == extracted, "the .ts is stale: run python -m riskmap.ui.i18n"


def test_qm_is_compiled_from_the_ts(tmp_path):
    tool = _tool("pyside6-lrelease")
    if tool is None:
        pytest.skip("pyside6-lrelease not installed")
    out = tmp_path / "en.qm"
    subprocess.run([tool, str(I18N_DIR / "riskmap_en.ts"), "-qm", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (I18N_DIR / "riskmap_en.qm").read_bytes()


# ---------------------------------------------------------------------------------------------- the code
def _allowed_by_structure(node, parents) -> bool:
    """Whether a Chinese string constant sits where the module docstring's rules 1–5 allow it."""
    outer = node
    parent = parents.get(outer)
    while isinstance(parent, (ast.JoinedStr, ast.FormattedValue)):  # the f-string as a whole
        outer, parent = parent, parents.get(parent)
    if isinstance(parent, ast.Expr):  # docstring (or a bare string statement)
        return True
    if _is_marker(parent) and parent.args and parent.args[0] is outer:
        return True
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute):
        name = parent.func.attr
        if name in LOG_METHODS and isinstance(parent.func.value, ast.Name) and "log" in parent.func.value.id:
            return True
        if name in MATCH_METHODS or (name == "replace" and parent.args and parent.args[0] is outer):
            return True
    if isinstance(parent, ast.Compare):
        return True
    if isinstance(parent, ast.IfExp):
        other = parent.orelse if parent.body is outer else parent.body
        if isinstance(other, ast.Constant) and isinstance(other.value, str) and not CJK.search(other.value):
            return True

    def non_chinese_text(n) -> bool:
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            return not CJK.search(n.value)
        if isinstance(n, ast.JoinedStr):
            return not any(isinstance(v, ast.Constant) and CJK.search(v.value) for v in n.values)
        return False

    seq = parent.elts if isinstance(parent, (ast.Tuple, ast.List)) else parent.args \
        if isinstance(parent, ast.Call) else None
    if seq is not None and outer in seq:
        i = seq.index(outer)
        if i + 1 < len(seq) and non_chinese_text(seq[i + 1]):
            return True
    # {"zh": ("是", "否"), "en": ("Yes", "No")}
    up = outer
    while isinstance(parents.get(up), (ast.Tuple, ast.List)):
        up = parents[up]
    d = parents.get(up)
    if isinstance(d, ast.Dict) and up in d.values:
        keys = {k.value for k in d.keys if isinstance(k, ast.Constant)}
        key = d.keys[d.values.index(up)]
        if isinstance(key, ast.Constant) and key.value == "zh" and "en" in keys:
            return True
    return False


def chinese_outside_tr(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = _parents(tree)
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and CJK.search(node.value):
            if (path.name, node.value) in ALLOWED or _allowed_by_structure(node, parents):
                continue
            out.append((node.lineno, node.value))
    return out


def test_no_chinese_text_outside_tr():
    bad = {str(p.relative_to(UI)): found for p in UI_MODULES if (found := chinese_outside_tr(p))}
    assert not bad, bad
    # every allowance is still needed (a stale entry would hide a future mistake)
    used = {(p.name, n.value) for p in UI_MODULES for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert set(ALLOWED) <= used, set(ALLOWED) - used


def non_literal_tr(path: Path) -> list[tuple[int, str]]:
    """tr() calls whose argument is neither a string literal nor (in a module that marks a table of strings
    with QT_TR_NOOP) a plain value that may come from such a table."""
    text = path.read_text(encoding="utf-8")
    bad = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr":
            arg = node.args[0] if node.args else None
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            if not literal and (isinstance(arg, (ast.JoinedStr, ast.BinOp)) or "QT_TR_NOOP" not in text):
                bad.append((node.lineno, ast.unparse(node)))
    return bad


def test_tr_arguments_are_literals():
    bad = {p.name: found for p in UI_MODULES if (found := non_literal_tr(p))}
    assert not bad, bad


def test_rules_catch_what_they_should(tmp_path):
    """The checker itself: concatenated and f-string texts are caught, the allowed forms are not."""
    bad_code = tmp_path / "bad.py"
    bad_code.write_text('a = tr("属性表") + "：" + name\nb = f"{tr(\'数据文件\')}（{n}）"\nc = QLabel("图层")\n'
                        'd = tr(f"共 {n} 行")\n', encoding="utf-8")
    assert sorted({line for line, _ in chinese_outside_tr(bad_code)}) == [1, 2, 3]  # line 4: the next test
    assert tr_literals(bad_code) == {"属性表", "数据文件"}
    assert [line for line, _ in non_literal_tr(bad_code)] == [4]
    good = tmp_path / "good.py"
    good.write_text('"""模块说明"""\nx = tr("共 {n} 行").format(n=1)\nraise RiskmapError(f"没有图层 {i}", f"no layer {i}")\n'
                    'V = {"a": ("镇/街道", "Towns")}\nW = {"zh": ("是", "否"), "en": ("Yes", "No")}\n'
                    'y = "; " if lang == "en" else "；"\nlog.warning("无法读取 %s", p)\nif k == "行业":\n    pass\n'
                    't = s.split("：")[-1]\nM = (QT_TR_NOOP("文件"),)\n', encoding="utf-8")
    assert chinese_outside_tr(good) == []


# ---------------------------------------------------------------------------------------------- runtime
def test_switching_language_changes_tr(app):
    from riskmap.ui.i18n import current_language, install_language, joined, tr

    assert install_language("en") == "en" and current_language() == "en"
    assert tr("文件") == "File" and tr("示例数据") == "Demo data"
    assert tr("显示 {shown} / {total} 条").format(shown=1, total=2) == "Showing 1 / 2 rows"
    assert joined(["a", "b"]) == "a, b"
    assert install_language("zh") == "zh"
    assert tr("文件") == "文件" and joined(["甲", "乙"]) == "甲、乙"
    assert install_language("xx") == "zh"  # unknown languages fall back to Chinese
