"""Extract Noto Sans CJK SC (Regular, Bold) from Debian's fonts-noto-cjk TTCs into resources/fonts/.

Also writes a tiny "Noto Sans" supplement (Regular, Bold) holding the characters the CJK font lacks
but risk maps need: superscript digits and minus (10⁻⁶), subscripts (SO₂, NH₃) and a few symbols.

Build-time only: needs fontTools (``pip install fonttools``) and
``apt-get install fonts-noto-cjk fonts-noto-core``; riskmap itself only loads the resulting font
files. Run from the repository root:

    python scripts/make_font.py [--subset]

The SC member of each collection is saved unchanged as a standalone OTF. If a file would exceed
MAX_BYTES (or with --subset) it is subset to GB 2312 + the symbols maps need (see SUBSET_RANGES).
OFL.txt is written from the font's copyright string and Debian's copy of the licence.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "resources" / "fonts"
SRC_DIR = Path("/usr/share/fonts/opentype/noto")
LATIN_DIR = Path("/usr/share/fonts/truetype/noto")
COPYRIGHT = Path("/usr/share/doc/fonts-noto-cjk/copyright")
FAMILY = "Noto Sans CJK SC"
MAX_BYTES = 18 * 1024 * 1024

WEIGHTS = {"Regular": "NotoSansCJK-Regular.ttc", "Bold": "NotoSansCJK-Bold.ttc"}

# Blocks searched for characters that Noto Sans has and Noto Sans CJK SC lacks (the supplement):
# Latin-1, spacing modifiers, Greek, general punctuation, super/subscripts, currency, letterlike,
# number forms, arrows, mathematical operators, technical, enclosed alphanumerics, shapes.
SUPPLEMENT_BLOCKS = [
    (0x00A0, 0x00FF), (0x02B0, 0x02FF), (0x0370, 0x03FF), (0x2000, 0x206F), (0x2070, 0x209F),
    (0x20A0, 0x20CF), (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF),
    (0x2300, 0x23FF), (0x2460, 0x24FF), (0x25A0, 0x25FF),
]  # fmt: skip

# Used only when subsetting: basic Latin, Latin-1, general punctuation, superscripts, letterlike
# symbols, Roman numerals, arrows, maths, enclosed numbers (①), box drawing, shapes, CJK symbols,
# CJK compatibility (㎡ ㎞) and fullwidth forms; GB 2312 hanzi are added from the gb2312 codec.
SUBSET_RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x00FF), (0x02C6, 0x02DD), (0x0391, 0x03C9), (0x2010, 0x205E),
    (0x2070, 0x209F), (0x2100, 0x218F), (0x2190, 0x21FF), (0x2200, 0x22FF), (0x2460, 0x24FF),
    (0x2500, 0x257F), (0x25A0, 0x25FF), (0x2600, 0x26FF), (0x3000, 0x303F), (0x3200, 0x32FF),
    (0x3300, 0x33FF), (0xFE30, 0xFE4F), (0xFF00, 0xFFEF),
]  # fmt: skip


def _gb2312_chars() -> set[int]:
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def _subset(font: TTFont) -> None:
    from fontTools import subset

    unicodes = _gb2312_chars()
    for lo, hi in SUBSET_RANGES:
        unicodes.update(range(lo, hi + 1))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)


def extract(weight: str, force_subset: bool) -> Path:
    collection = TTCollection(str(SRC_DIR / WEIGHTS[weight]))
    for font in collection.fonts:
        if font["name"].getDebugName(1) == FAMILY or font["name"].getDebugName(16) == FAMILY:
            break
    else:
        raise SystemExit(f"{FAMILY} not found in {WEIGHTS[weight]}")
    out = OUT / f"NotoSansSC-{weight}.otf"
    font.save(str(out))
    if force_subset or out.stat().st_size > MAX_BYTES:
        font = TTFont(str(out))
        _subset(font)
        font.save(str(out))
        print(f"{out.name}: subset")
    print(f"{out.name}: {out.stat().st_size} bytes, {font['name'].getDebugName(4)}, {font['name'].getDebugName(5)}")
    return out


def supplement(weight: str, cjk_path: Path) -> Path:
    """Subset Noto Sans to the SUPPLEMENT_BLOCKS characters missing from the CJK font."""
    from fontTools import subset

    cjk = set(TTFont(str(cjk_path), lazy=True).getBestCmap())
    latin = TTFont(str(LATIN_DIR / f"NotoSans-{weight}.ttf"))
    have = set(latin.getBestCmap())
    wanted = {c for lo, hi in SUPPLEMENT_BLOCKS for c in range(lo, hi + 1) if c in have and c not in cjk}
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(latin)
    out = OUT / f"NotoSans-{weight}-supplement.ttf"
    latin.save(str(out))
    print(f"{out.name}: {out.stat().st_size} bytes, {len(wanted)} characters, {latin['name'].getDebugName(4)}")
    return out


def write_licence(font_path: Path, supplement_path: Path) -> None:
    """OFL.txt: the fonts' copyright lines and the OFL 1.1 text from Debian's copyright file."""
    copyright_line = TTFont(str(font_path), lazy=True)["name"].getDebugName(0).rstrip(".")
    supplement_line = TTFont(str(supplement_path), lazy=True)["name"].getDebugName(0).rstrip(".")
    text = COPYRIGHT.read_text(encoding="utf-8")
    m = re.search(r"^License: SIL-1\.1\n((?: .*\n?)+)", text, re.M)
    if not m:
        raise SystemExit("OFL text not found in the Debian copyright file")
    lines = []
    for line in m.group(1).splitlines():
        line = line[1:] if line.startswith(" ") else line
        lines.append("" if line == "." else line)
    body = "\n".join(lines).strip("\n")
    header = (
        "Noto Sans CJK SC (NotoSansSC-*.otf):\n"
        f"{copyright_line}, with Reserved Font Name 'Source'.\n"
        "Noto Sans, subset (NotoSans-*-supplement.ttf):\n"
        f"{supplement_line}.\n"
        "Noto is a trademark of Google Inc.\n\n"
        "This Font Software is licensed under the SIL Open Font License, Version 1.1.\n"
        "This license is copied below, and is also available with a FAQ at: https://openfontlicense.org\n\n"
    )
    (OUT / "OFL.txt").write_text(header + body + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", action="store_true", help="always subset to GB 2312 + symbols")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    paths = [extract(w, args.subset) for w in WEIGHTS]
    extras = [supplement(w, p) for w, p in zip(WEIGHTS, paths)]
    write_licence(paths[0], extras[0])


if __name__ == "__main__":
    main()
