"""Translations: every UI string of the desktop has an English translation; the .qm matches the .ts;
switching the language changes what tr() returns."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from riskmap.paths import I18N_DIR, ROOT

OWN_UI = [p for p in sorted((ROOT / "riskmap" / "ui").glob("*.py"))
          if not p.stem.startswith(("planning", "import_wizard", "export", "print"))]


def tr_literals(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "tr" and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value)
    return out


def ts_messages() -> dict[str, str | None]:
    root = ET.parse(I18N_DIR / "riskmap_en.ts").getroot()
    out = {}
    for m in root.iter("message"):
        t = m.find("translation")
        out[m.findtext("source")] = None if t.get("type") == "unfinished" or not t.text else t.text
    return out


def test_every_ui_string_has_an_english_translation():
    messages = ts_messages()
    missing, unfinished = [], []
    for path in OWN_UI:
        for s in tr_literals(path):
            if s not in messages:
                missing.append((path.name, s))
            elif messages[s] is None:
                unfinished.append((path.name, s))
    assert not missing, missing
    assert not unfinished, unfinished
    assert len(messages) > 250
    # placeholders survive translation
    import re

    for src, en in messages.items():
        if en is not None:
            assert set(re.findall(r"\{[a-z_]+", src)) == set(re.findall(r"\{[a-z_]+", en)), (src, en)


def test_qm_is_compiled_from_the_ts(tmp_path):
    tool = Path(sys.executable).parent / "pyside6-lrelease"
    if not tool.exists() and shutil.which("pyside6-lrelease") is None:
        pytest.skip("pyside6-lrelease not installed")
    out = tmp_path / "en.qm"
    subprocess.run([str(tool if tool.exists() else "pyside6-lrelease"), str(I18N_DIR / "riskmap_en.ts"),
                    "-qm", str(out)], check=True, capture_output=True)
    assert out.read_bytes() == (I18N_DIR / "riskmap_en.qm").read_bytes()


def test_switching_language_changes_tr(app):
    from riskmap.ui.i18n import current_language, install_language, tr

    assert install_language("en") == "en" and current_language() == "en"
    assert tr("文件") == "File" and tr("示例数据") == "Demo data"
    assert tr("显示 {shown} / {total} 条").format(shown=1, total=2) == "Showing 1 / 2 rows"
    assert install_language("zh") == "zh"
    assert tr("文件") == "文件"
    assert install_language("xx") == "zh"  # unknown languages fall back to Chinese
