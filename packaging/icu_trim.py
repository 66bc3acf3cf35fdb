"""Qt's ICU data cut down to what riskmap uses (Linux bundle; called from postbuild.py).

PySide6's ``libicudata.so.NN`` (32 MB) is one symbol, ``icudtNN_dat``: an ICU common data package with every
locale's collation, names of languages, currencies, units and time zones, transliterators, break
dictionaries of Thai, Lao, Khmer and Burmese, and 230 legacy code pages. riskmap shows Chinese and English:
this keeps the root, ``zh*``, ``en*`` (and ``yue``, a parent of ``zh_Hant_HK``) items of every tree, every
break rule (the Chinese/Japanese word breaker reads ``brkitr/ja.res``), every item that is not a locale (properties, normalisation, time zones, plural rules, the CJK break dictionary
``cjdict``) and the Chinese and Western code pages; it drops the other locales, the transliterators, the
other dictionaries and the other code pages.

The same ICU version's own package tool (``icupkg``, Debian ``icu-devtools``) removes the items and checks
that no kept item depends on a removed one; the package is wrapped again as a shared library with the same
soname that exports the same symbol (``.incbin`` in a tiny assembler file, built with ``gcc``). Before the
trimmed library replaces the original, ``icu_check.c`` runs against both (collation of Chinese names in
pinyin order, line and word breaks of Chinese text, GB18030/GBK/Big5 conversion, case mapping, NFKC, each
with its ICU status); any difference fails the build.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECK_C = HERE / "icu_check.c"

LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z0-9_]*)?\.res$")
KEEP_LOCALE = re.compile(r"^(root|en|zh|yue)(_[A-Za-z0-9_]*)?\.res$")
# Chinese (GB18030, GBK, EUC-CN, Big5, Big5-HKSCS, CNS, ISO-IR-165) and Western code pages
KEEP_CNV = re.compile(r"^(gb18030|windows-9(36|50)-2000|ibm-(1383|1386|5478|950|1373|5471|1250|1251|1252|1253|"
                      r"1254|1255|1256|1257|1258|437|850|858|866|912|913|914|915|920|921|923)_.*|iso-ir-165|"
                      r"cns-11643-1992|iso-8859_.*|icu-internal-25546)\.cnv$")
DROP_TREES = ("translit",)
DROP_ITEMS = ("confusables.cfu",)


def _removed(items: list[str]) -> set[str]:
    out = set()
    for item in items:
        tree, _, name = item.rpartition("/")
        if tree in DROP_TREES or item in DROP_ITEMS:
            out.add(item)
        elif name.endswith(".cnv"):
            if not KEEP_CNV.match(name):
                out.add(item)
        elif tree == "brkitr" and name.endswith(".dict") and name != "cjdict.dict":
            out.add(item)
        elif tree != "brkitr" and name.endswith(".res") and LOCALE.match(name) and not KEEP_LOCALE.match(name):
            out.add(item)
    return out


def _symbol(lib: Path) -> tuple[str, int, int]:
    """(name, file offset, size) of the icudtNN_dat symbol of an ICU data library."""
    syms = subprocess.run(["readelf", "--dyn-syms", "-W", str(lib)], capture_output=True, text=True,
                          check=True).stdout
    m = re.search(r":\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+GLOBAL\s+\S+\s+\d+\s+(icudt\d+_dat)", syms)
    if not m:
        raise RuntimeError(f"{lib.name}: no icudtNN_dat symbol")
    vaddr, size, name = int(m.group(1), 16), int(m.group(2), 0), m.group(3)
    data = lib.read_bytes()
    phoff = struct.unpack_from("<Q", data, 0x20)[0]
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        p_type, _, off, va, _, filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and va <= vaddr < va + filesz:
            return name, off + vaddr - va, size
    raise RuntimeError(f"{lib.name}: {name} is in no loaded segment")


def _check_output(exe: Path, libdir: Path) -> str:
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True,
                          env={"LD_LIBRARY_PATH": str(libdir), "PATH": "/usr/bin:/bin"}).stdout


def trim_icu(libdir: Path) -> int:
    """Replace ``libdir/libicudata.so.NN`` by the trimmed one; returns the bytes saved (0: nothing to do or the
    tools are missing). Raises RuntimeError when the trimmed data would answer differently."""
    libs = sorted(libdir.glob("libicudata.so.*"))
    tools = [shutil.which(t) for t in ("icupkg", "gcc", "readelf")]
    if not libs or not all(tools):
        if libs:
            print("riskmap bundle: icupkg or gcc missing (scripts/system-deps.sh bundle): ICU data left whole")
        return 0
    lib = libs[0]
    major = lib.name.rsplit(".", 1)[-1]
    name, offset, size = _symbol(lib)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        # the same file name: icupkg names the package's items after it (icudt73l/coll/zh.res)
        full, trimmed = t / f"icudt{major}l.dat", t / "trimmed" / f"icudt{major}l.dat"
        trimmed.parent.mkdir()
        with open(lib, "rb") as f:
            f.seek(offset)
            full.write_bytes(f.read(size))
        items = subprocess.run(["icupkg", "-l", str(full)], capture_output=True, text=True, check=True).stdout.split()
        remove = _removed(items)
        for _ in range(10):  # keep whatever a kept item depends on (icupkg names it)
            (t / "remove.txt").write_text("\n".join(sorted(remove)) + "\n", encoding="ascii")
            r = subprocess.run(["icupkg", "-r", str(t / "remove.txt"), str(full), str(trimmed)],
                               capture_output=True, text=True)
            missing = set(re.findall(r"depends on missing item (\S+)", r.stdout + r.stderr))
            if not missing:
                break
            remove -= missing
        if r.returncode != 0 or not trimmed.exists():
            raise RuntimeError(f"icupkg failed: {r.stdout}{r.stderr}")
        stub = t / "icudata.S"
        stub.write_text(
            f'    .section .rodata\n    .globl {name}\n    .type {name}, @object\n    .balign 16\n{name}:\n'
            f'    .incbin "{trimmed}"\n    .size {name}, . - {name}\n'
            '    .section .note.GNU-stack,"",@progbits\n', encoding="ascii")
        new = t / "new" / lib.name
        new.parent.mkdir()
        subprocess.run(["gcc", "-shared", "-nostdlib", f"-Wl,-soname,{lib.name}", "-Wl,-z,noexecstack",
                        "-o", str(new), str(stub)], check=True)
        # the same answers from the trimmed data as from the whole
        exe = t / "icu_check"
        subprocess.run(["gcc", "-O1", f"-DICU_V={major}", "-o", str(exe), str(CHECK_C), f"-L{libdir}",
                        f"-l:libicuuc.so.{major}", f"-l:libicui18n.so.{major}"], check=True)
        for other in (f"libicuuc.so.{major}", f"libicui18n.so.{major}"):
            shutil.copy2(libdir / other, new.parent / other)
        before, after = _check_output(exe, libdir), _check_output(exe, new.parent)
        if before != after or "collator zh: U_ZERO_ERROR" not in after:
            raise RuntimeError("the trimmed ICU data answers differently:\n--- whole\n" + before
                               + "--- trimmed\n" + after)
        saved = lib.stat().st_size - new.stat().st_size
        shutil.copyfile(new, lib)
    print(f"riskmap bundle: ICU data trimmed to zh/en ({len(items) - len(remove)} of {len(items)} items), "
          f"{saved / 1e6:.1f} MB less; icu_check answers the same")
    return saved
