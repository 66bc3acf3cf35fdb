"""After PyInstaller has collected the bundle (Linux): drop the libraries only a removed Qt plugin needed, and
strip the symbol tables of the libraries that can be stripped safely. Called from riskmap.spec.

PyInstaller's own ``strip=True`` strips everything, and that breaks the libraries auditwheel has patched
(numpy's OpenBLAS: "ELF load command address/offset not page-aligned"); those carry an RPATH/RUNPATH with
$ORIGIN, so only ELF files without one are stripped here (libpython, lib-dynload, Cython modules, GDAL).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

ELF = b"\x7fELF"


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF
    except OSError:
        return False


def _dynamic(path: Path) -> str:
    return subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True).stdout


def needed(path: Path) -> list[str]:
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", _dynamic(path))


def elf_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and _is_elf(p)]


def prune(internal: Path, removed: list[str]) -> list[str]:
    """Delete the top-level libraries of ``internal`` that only the ``removed`` ELF files (sources of the
    plugins left out) needed, directly or through each other. Returns the names deleted."""
    top = {p.name: p for p in internal.iterdir() if p.is_file() and ".so" in p.name}
    kept = elf_files(internal)
    graph = {p: needed(p) for p in kept}

    def closure(starts):
        seen, todo = set(), list(starts)
        while todo:
            n = todo.pop()
            if n in seen or n not in top:
                continue
            seen.add(n)
            todo += graph.get(top[n], [])
        return seen

    by_removed = closure(n for src in removed if Path(src).exists() for n in needed(Path(src)))
    by_kept = closure(n for p, ns in graph.items() if p.parent != internal or p.name not in by_removed for n in ns)
    gone = sorted(by_removed - by_kept)
    for name in gone:
        top[name].unlink()
    return gone


def strip_safe(folder: Path) -> int:
    """Strip (--strip-unneeded) every ELF library without an $ORIGIN RPATH/RUNPATH; returns the bytes saved."""
    if shutil.which("strip") is None or shutil.which("readelf") is None:
        return 0
    saved = 0
    for p in elf_files(folder):
        if ".so" not in p.name or re.search(r"\((RPATH|RUNPATH)\).*\$ORIGIN", _dynamic(p)):
            continue
        before = p.stat().st_size
        if subprocess.run(["strip", "--strip-unneeded", str(p)], capture_output=True).returncode == 0:
            saved += before - p.stat().st_size
    return saved


def postbuild(dist: Path, removed: list[str]) -> None:
    internal = dist / "_internal"
    if os.name != "posix" or not internal.is_dir():
        return
    gone = prune(internal, removed)
    saved = strip_safe(internal)
    print(f"riskmap bundle: dropped {len(gone)} libraries of left-out plugins ({', '.join(gone)}); "
          f"stripped {saved / 1e6:.0f} MB of symbols")
