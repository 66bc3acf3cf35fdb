"""User-interface language: Chinese source strings, English from ``resources/i18n/riskmap_en.qm``.

Every visible string goes through :func:`tr` (one translation context, so ``pyside6-lupdate`` finds
plain ``tr("…")`` calls anywhere in riskmap/ui). Switching language installs or removes the translator;
the main window then rebuilds itself (see ``MainWindow.set_language``).

>>> tr("文件")   # Chinese is the default language (needs a QCoreApplication)
'文件'
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from riskmap.paths import I18N_DIR

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"
CONTEXT = ""  # pyside6-lupdate files bare tr("…") calls under the empty context

_state: dict = {"lang": DEFAULT_LANGUAGE, "translator": None}
_CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def tr(text: str) -> str:
    """The text in the current UI language (Chinese is the source language)."""
    return QCoreApplication.translate(CONTEXT, text)


def has_chinese(text: str) -> bool:
    """Whether ``text`` has Chinese characters (or full-width punctuation)."""
    return bool(_CJK.search(text or ""))


def joined(items) -> str:
    """Items listed in the current language: 甲、乙 in Chinese, "a, b" in English."""
    return tr("、").join(str(i) for i in items)


def qm_path(lang: str):
    return I18N_DIR / f"riskmap_{lang}.qm"


def current_language() -> str:
    return _state["lang"]


def install_language(lang: str) -> str:
    """Make ``lang`` ('zh' or 'en') the UI language of the running application; returns it."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    app = QCoreApplication.instance()
    old = _state["translator"]
    if old is not None and app is not None:
        app.removeTranslator(old)
    _state["translator"] = None
    if lang != DEFAULT_LANGUAGE and app is not None:
        translator = QTranslator(app)
        if translator.load(str(qm_path(lang))):
            app.installTranslator(translator)
            _state["translator"] = translator
        else:  # a missing translation file falls back to Chinese rather than failing
            lang = DEFAULT_LANGUAGE
    QLocale.setDefault(QLocale(QLocale.Language.English if lang == "en" else QLocale.Language.Chinese,
                               QLocale.Country.UnitedStates if lang == "en" else QLocale.Country.China))
    _state["lang"] = lang
    return lang


# ---- maintenance: ``python -m riskmap.ui.i18n`` ----------------------------------------------------
def ui_sources() -> list:
    """Every Python file of the user interface (where tr() strings live)."""
    from riskmap.paths import ROOT

    return sorted((ROOT / "riskmap" / "ui").rglob("*.py"))


def update_translations(lang: str = "en") -> None:
    """Collect the tr() strings into ``riskmap_<lang>.ts`` (translations already there are kept; new
    strings come in unfinished for Qt Linguist) and compile ``riskmap_<lang>.qm``."""
    import os
    import shutil
    import subprocess
    import sys

    def tool(name):
        here = os.path.join(os.path.dirname(sys.executable), name)
        return here if os.path.exists(here) else shutil.which(name) or name

    ts = I18N_DIR / f"riskmap_{lang}.ts"
    rel = [os.path.relpath(p, I18N_DIR) for p in ui_sources()]
    subprocess.run([tool("pyside6-lupdate"), *rel, "-ts", ts.name, "-no-obsolete", "-locations", "relative",
                    "-target-language", "en_US" if lang == "en" else lang, "-source-language", "zh_CN"],
                   cwd=I18N_DIR, check=True)
    subprocess.run([tool("pyside6-lrelease"), ts.name, "-qm", qm_path(lang).name], cwd=I18N_DIR, check=True)


if __name__ == "__main__":
    update_translations()
