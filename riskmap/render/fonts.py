"""The bundled CJK font, loaded explicitly so that maps look the same on every machine.

A fresh machine has no Chinese font: Chinese would render as boxes. The fonts in ``resources/fonts``
are registered with QFontDatabase.addApplicationFont and their family is used by name.

>>> family = ensure_fonts()          # needs a QGuiApplication
>>> map_font(9, bold=True).bold()
True
"""

from __future__ import annotations

import threading

from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication

from riskmap.errors import RiskmapError
from riskmap.paths import FONTS_DIR

CJK_FAMILY = "Noto Sans CJK SC"  # the family name the bundled NotoSansSC-*.otf files register

_lock = threading.Lock()
_state: dict = {"families": None, "cjk": None, "ids": []}


def ensure_fonts() -> str:
    """Load every .otf/.ttf in FONTS_DIR once; return the CJK family name (idempotent).

    Call it from the GUI thread after the QGuiApplication exists (render functions call it too).
    """
    with _lock:
        if _state["cjk"]:
            return _state["cjk"]
        if QGuiApplication.instance() is None:
            raise RiskmapError("加载字体前须先创建 QGuiApplication", "create a QGuiApplication before loading fonts")
        files = sorted(p for p in FONTS_DIR.glob("*") if p.suffix.lower() in (".otf", ".ttf"))
        if not files:
            raise RiskmapError("缺少内置中文字体文件", "bundled CJK font files are missing", where=str(FONTS_DIR.name))
        families: list[str] = []
        cjk = None
        for path in files:
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id < 0:
                raise RiskmapError("字体文件无法加载", "cannot load font file", where=path.name)
            _state["ids"].append(font_id)
            for fam in QFontDatabase.applicationFontFamilies(font_id):
                if fam not in families:
                    families.append(fam)
                if cjk is None and QFontDatabase.WritingSystem.SimplifiedChinese in QFontDatabase.writingSystems(fam):
                    cjk = fam
        if cjk is None:
            raise RiskmapError("内置字体不含中文字形", "no bundled font covers Chinese", where=str(FONTS_DIR.name))
        # the CJK family first, then the supplements (superscripts, subscripts) it lacks
        _state["families"] = [cjk] + [f for f in families if f != cjk]
        _state["cjk"] = cjk
        return cjk


def font_families() -> list[str]:
    """The bundled families in fallback order (CJK first)."""
    ensure_fonts()
    return list(_state["families"])


def application_font_ids() -> list[int]:
    """The QFontDatabase ids of the loaded bundled fonts."""
    ensure_fonts()
    return list(_state["ids"])


def map_font(size_pt: float, bold: bool = False) -> QFont:
    """A map font of the bundled CJK family, in points, unhinted so that screen and paper metrics agree."""
    ensure_fonts()
    font = QFont()
    font.setFamilies(_state["families"])
    font.setPointSizeF(float(size_pt))
    font.setBold(bool(bold))
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    # Without OpenType ``locl``: with it, digits after a space or a CJK character (``EPSG:4544``, ``D = 900``)
    # are shaped into substituted glyphs that Qt's PDF writer gives no ToUnicode entry, so a PDF reader can
    # neither copy nor find them. The digits look the same either way.
    font.setFeature(QFont.Tag("locl"), 0)
    return font


def device_font(size_pt: float, bold: bool, dpi: float, device_dpi: float) -> QFont:
    """A map font whose size is ``size_pt`` at ``dpi`` when painted on a device of ``device_dpi``.

    The renderer paints in pixels of ``MapSettings.dpi``; QFont point sizes are resolved with the
    device's own logical dpi, so the size is corrected by their ratio.
    """
    return map_font(size_pt * dpi / (device_dpi or dpi), bold)
