"""The bundled CJK font cut down to the characters of one page, as a CSS ``@font-face`` rule.

A web map opened on a machine without a Chinese font (a fresh Linux install, a kiosk browser) would show
boxes. The page therefore carries its own font: Noto Sans CJK SC (SIL OFL, ``resources/fonts``) subset with
fontTools to exactly the characters the page holds, as WOFF inlined in a data: URI (a few hundred KB for a
county). System fonts stay as the fallback in the CSS.

>>> rule = font_face_css("会宁县 示例数据 123")
>>> rule.startswith('@font-face{font-family:"riskmap CJK";') and "font/woff" in rule
True
"""

from __future__ import annotations

import base64
import io

from riskmap.paths import FONTS_DIR

FAMILY = "riskmap CJK"
FONT_FILE = FONTS_DIR / "NotoSansSC-Regular.otf"
ASCII = "".join(chr(c) for c in range(32, 127))


def font_woff(text: str) -> bytes:
    """WOFF bytes of the bundled font holding the glyphs for every character of ``text`` (and ASCII)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    opts = subset.Options()
    opts.flavor = "woff"
    opts.notdef_outline = True
    opts.name_IDs = ["*"]  # keep the copyright and licence strings (OFL)
    opts.name_languages = ["*"]
    font = TTFont(str(FONT_FILE), lazy=True)
    subsetter = subset.Subsetter(opts)
    subsetter.populate(text="".join(sorted(set(text) | set(ASCII))))
    subsetter.subset(font)
    font.flavor = "woff"
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def font_face_css(text: str) -> str:
    """A ``@font-face`` rule naming :data:`FAMILY`, its font inlined, covering the characters of ``text``."""
    data = base64.b64encode(font_woff(text)).decode("ascii")
    return (f'@font-face{{font-family:"{FAMILY}";font-style:normal;font-weight:400;'
            f'src:url(data:font/woff;base64,{data}) format("woff");}}')
