"""The bundle's copy of the CJK fonts without the glyphs riskmap can never show (riskmap.spec, every platform).

``NotoSansSC-*.otf`` is the "SC" member of the Noto Sans CJK collection: its 65,535 glyphs include the
Japanese, Korean and traditional-Chinese forms of thousands of characters, reachable only through the
``locl`` lookups of the JAN, KOR, ZHT and ZHH language systems (and through ``aalt``, "access all
alternates", a feature for font editors). riskmap writes Simplified Chinese: this keeps **every character**
of the font (the cmap is unchanged: 44,810 characters, 生僻字 such as 堃 喆 玥 included), every other
layout feature (vertical forms, full/half widths, ligatures, kerning) and the ``locl`` lookups of the
Simplified Chinese and default language systems, and drops the glyphs only the other regions' ``locl``
lookups reach: about 19,000 glyphs, 5.4 MB of each font.

fontTools does the subsetting (minutes for a 65,535-glyph CFF font on a slow machine), so the result is kept
in ``build/bundle-fonts`` under a name holding the source's SHA-256 and rebuilt only when the font or this
file changes. Each result is checked: the same set of characters, and the same outline for a sample of
characters spread over the whole cmap and the rare ones named above.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

HERE = Path(__file__).resolve()
KEEP_LANGSYS = ("ZHS ",)  # plus each script's default language system
DROP_FEATURES = ("aalt",)
RARE = "堃喆玥垚淼犇鑫燚昇珺赟祎堉婕莜蓥"


def _prune_locl(font) -> None:
    """Every ``locl`` feature keeps only the lookups the Simplified Chinese and default language systems use."""
    for tag in ("GSUB", "GPOS"):
        if tag not in font:
            continue
        table = font[tag].table
        if not table.FeatureList:
            continue
        records = table.FeatureList.FeatureRecord
        keep: set[int] = set()
        for sr in table.ScriptList.ScriptRecord:
            systems = [sr.Script.DefaultLangSys] + [ls.LangSys for ls in sr.Script.LangSysRecord
                                                    if ls.LangSysTag in KEEP_LANGSYS]
            for ls in systems:
                if ls is None:
                    continue
                for i in ls.FeatureIndex:
                    if records[i].FeatureTag == "locl":
                        keep.update(records[i].Feature.LookupListIndex)
        for rec in records:
            if rec.FeatureTag == "locl":
                rec.Feature.LookupListIndex = [i for i in rec.Feature.LookupListIndex if i in keep]
                rec.Feature.LookupCount = len(rec.Feature.LookupListIndex)


def _outline(font, cmap: dict, ch: str):
    from fontTools.pens.recordingPen import RecordingPen

    pen = RecordingPen()
    font.getGlyphSet()[cmap[ord(ch)]].draw(pen)
    return pen.value


def prune(src: Path, dst: Path) -> None:
    """Write the pruned copy of ``src`` to ``dst``; raises RuntimeError when a character or outline differs."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(src))
    cmap = dict(font.getBestCmap())
    features = {r.FeatureTag for t in ("GSUB", "GPOS") if t in font and font[t].table.FeatureList
                for r in font[t].table.FeatureList.FeatureRecord}
    _prune_locl(font)
    opts = subset.Options()
    opts.layout_features = sorted(features - set(DROP_FEATURES))
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.name_legacy = True
    opts.notdef_glyph = True
    opts.notdef_outline = True
    opts.recalc_bounds = False
    opts.legacy_kern = True
    opts.drop_tables = []
    opts.passthrough_tables = True
    opts.hinting = True
    opts.glyph_names = True
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=cmap.keys())
    sub.subset(font)
    tmp = dst.with_name(dst.name + ".part")
    font.save(str(tmp))
    # read back: every character, the same outlines
    new, old = TTFont(str(tmp)), TTFont(str(src))
    new_cmap, old_cmap = new.getBestCmap(), old.getBestCmap()
    if set(new_cmap) != set(old_cmap):
        raise RuntimeError(f"{src.name}: pruning changed the characters "
                           f"({len(set(old_cmap) - set(new_cmap))} lost)")
    sample = [chr(c) for c in sorted(old_cmap)[::97]] + [c for c in RARE if ord(c) in old_cmap]
    for ch in sample:
        if _outline(new, new_cmap, ch) != _outline(old, old_cmap, ch):
            raise RuntimeError(f"{src.name}: pruning changed the outline of {ch!r} (U+{ord(ch):04X})")
    os.replace(tmp, dst)


def pruned(src: Path, cache: Path) -> Path:
    """The pruned copy of ``src`` (made once per source and version of this file, kept in ``cache``)."""
    digest = hashlib.sha256(src.read_bytes() + HERE.read_bytes()).hexdigest()[:16]
    out = cache / digest / src.name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        prune(src, out)
        print(f"riskmap bundle: {src.name} pruned to the glyphs riskmap can show: "
              f"{src.stat().st_size / 1e6:.1f} → {out.stat().st_size / 1e6:.1f} MB (every character kept)")
    return out
