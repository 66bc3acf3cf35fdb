"""Two same-length, in-place corrections to the PDF files Qt writes.

1. **Text extraction.** CJK fonts map some radicals (e.g. U+2EDB ⻛, U+2F8A ⾊) to the same glyph as the
   ideograph (风, 色). Qt's ToUnicode CMap records, for each glyph, the lowest code point that uses it, so
   copying or searching "风险" in the PDF finds "⻛险". The CMap entries are rewritten to the unified
   ideograph that shares the glyph (looked up in the font itself).
2. **Page size.** Qt rounds the MediaBox to whole points (A3 = 842 × 1191); the exact size
   (841.89 × 1190.55) is written instead.

Both edits keep every byte offset, so the cross-reference table stays valid.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QRawFont

from riskmap.paths import FONTS_DIR

RADICAL_RANGES = ((0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0x31C0, 0x31EF))  # radicals supplement, Kangxi, strokes
UNIFIED_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))
_CMAP_BLOCK = re.compile(rb"begincmap(.*?)endcmap", re.S)
_HEX4 = re.compile(rb"<([0-9A-Fa-f]{4})>")
_MEDIABOX = re.compile(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]")


@lru_cache(maxsize=1)
def radical_map() -> dict[int, int]:
    """Radical code point → the unified ideograph drawn with the same glyph in the bundled CJK fonts."""
    out: dict[int, int] = {}
    radicals = [cp for lo, hi in RADICAL_RANGES for cp in range(lo, hi + 1)]
    unified = [cp for lo, hi in UNIFIED_RANGES for cp in range(lo, hi + 1)]
    for path in sorted(FONTS_DIR.glob("*.otf")) + sorted(FONTS_DIR.glob("*.ttf")):
        raw = QRawFont(str(path), 12.0)
        if not raw.isValid():
            continue
        uni_glyphs = raw.glyphIndexesForString("".join(map(chr, unified)))
        first = {}
        for cp, g in zip(unified, uni_glyphs):
            if g and g not in first:
                first[g] = cp
        rad_glyphs = raw.glyphIndexesForString("".join(map(chr, radicals)))
        for cp, g in zip(radicals, rad_glyphs):
            if g and g in first and cp not in out:
                out[cp] = first[g]
    return out


def _fix_cmap(block: bytes, table: dict[int, int]) -> bytes:
    """Rewrite the Unicode side of bfchar/bfrange entries (never the glyph ids before them)."""
    out, skip = [], 0
    for line in block.split(b"\n"):
        if line.rstrip().endswith(b"beginbfrange"):
            skip = 2
        elif line.rstrip().endswith(b"beginbfchar"):
            skip = 1
        elif line.startswith(b"end"):
            skip = 0
        elif skip:
            pos = [0]

            def repl(m, pos=pos):
                pos[0] += 1
                if pos[0] <= skip:
                    return m.group(0)
                new = table.get(int(m.group(1), 16))
                return b"<%04X>" % new if new is not None else m.group(0)

            line = _HEX4.sub(repl, line)
        out.append(line)
    return b"\n".join(out)


def fix_pdf(path: str | Path, size_pt: tuple[float, float] | None = None) -> dict:
    """Correct ToUnicode CMaps (and the MediaBox when ``size_pt`` is given) in place; returns counts."""
    p = Path(path)
    data = bytearray(p.read_bytes())
    table = radical_map()
    fixed_maps = 0
    for m in _CMAP_BLOCK.finditer(bytes(data)):
        block = m.group(0)
        new = _fix_cmap(block, table)
        if new != block:
            assert len(new) == len(block)
            data[m.start():m.end()] = new
            fixed_maps += 1
    boxes = 0
    if size_pt is not None:
        w_text, h_text = (f"{size_pt[0]:.6f}".encode(), f"{size_pt[1]:.6f}".encode())

        def box(m):
            nonlocal boxes
            if len(m.group(1)) == len(w_text) and len(m.group(2)) == len(h_text) \
                    and abs(float(m.group(1)) - size_pt[0]) < 1 and abs(float(m.group(2)) - size_pt[1]) < 1:
                boxes += 1
                return b"/MediaBox [0 0 " + w_text + b" " + h_text + b"]"
            return m.group(0)

        data = bytearray(_MEDIABOX.sub(box, bytes(data)))
    p.write_bytes(bytes(data))
    return {"cmaps": fixed_maps, "mediaboxes": boxes}
