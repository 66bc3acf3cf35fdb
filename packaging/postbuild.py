"""After PyInstaller has collected the bundle (Linux): drop the libraries only a removed Qt plugin needed, strip the
symbol tables of the libraries, merge the copies of one library (lib_dedupe.py), and cut Qt's ICU data down to
Chinese and English (icu_trim.py). Called from riskmap.spec.

PyInstaller's own ``strip=True`` strips everything blindly, and that breaks some of the libraries auditwheel has
patched (numpy's OpenBLAS: "ELF load command address/offset not page-aligned" when it is loaded). Here a
library with an $ORIGIN RPATH/RUNPATH (patched by auditwheel) is stripped and then loaded (dlopen, in a separate
process); if it no longer loads, the unstripped file is put back. Libraries without one (libpython,
lib-dynload, the system libraries) are stripped as before.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from icu_trim import trim_icu
from lib_dedupe import dedupe

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


def _loads(path: Path) -> bool:
    """Whether the dynamic loader accepts the library (its dependencies found through its RPATH/RUNPATH)."""
    code = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True).returncode == 0


def strip_safe(folder: Path) -> tuple[int, list[str]]:
    """Strip (--strip-unneeded) every ELF library; one patched by auditwheel ($ORIGIN RPATH/RUNPATH) only when
    it still loads afterwards (and loaded before). Returns (bytes saved, the names left unstripped)."""
    if shutil.which("strip") is None or shutil.which("readelf") is None:
        return 0, []
    saved, kept = 0, []
    for p in elf_files(folder):
        if ".so" not in p.name:
            continue
        before = p.stat().st_size
        patched = re.search(r"\((RPATH|RUNPATH)\).*\$ORIGIN", _dynamic(p))
        if patched:
            if "symtab" not in subprocess.run(["readelf", "-S", "-W", str(p)], capture_output=True,
                                              text=True).stdout or not _loads(p):
                continue
            backup = p.with_name(p.name + ".unstripped")
            shutil.copy2(p, backup)
        if subprocess.run(["strip", "--strip-unneeded", str(p)], capture_output=True).returncode != 0:
            if patched:
                backup.replace(p)
            continue
        if patched:
            if _loads(p):
                backup.unlink()
            else:
                backup.replace(p)
                kept.append(p.name)
        saved += before - p.stat().st_size
    return saved, kept


# pyproj's PROJ links libcurl (6 MB with its own TLS) only to download transformation grids from cdn.proj.org
# when PROJ's network access is switched on; riskmap never switches it on (the run-time hook sets
# PROJ_NETWORK=OFF) and bureau PCs have no internet. A stub with the same soname answers every call with
# "failed" (curl_easy_init: NULL), which PROJ reports as a grid it cannot fetch.
CURL_STUB = {
    "curl_easy_init": "void *curl_easy_init(void) { return 0; }",
    "curl_easy_cleanup": "void curl_easy_cleanup(void *h) { (void)h; }",
    "curl_easy_setopt": "int curl_easy_setopt(void *h, int opt, ...) { (void)h; (void)opt; return 2; }",
    "curl_easy_perform": "int curl_easy_perform(void *h) { (void)h; return 2; }",
    "curl_easy_getinfo": "int curl_easy_getinfo(void *h, int info, ...) { (void)h; (void)info; return 2; }",
    "curl_easy_strerror": 'const char *curl_easy_strerror(int code) { (void)code; return "network access is not '
                          'built into riskmap"; }',
    "curl_global_init": "int curl_global_init(long flags) { (void)flags; return 2; }",
    "curl_global_cleanup": "void curl_global_cleanup(void) { }",
    "curl_slist_append": "void *curl_slist_append(void *l, const char *s) { (void)l; (void)s; return 0; }",
    "curl_slist_free_all": "void curl_slist_free_all(void *l) { (void)l; }",
}


def _imports(path: Path) -> set[str]:
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], capture_output=True, text=True).stdout
    return set(re.findall(r"\sUND\s+(\w+)", out))


def stub_curl(internal: Path) -> int:
    """Replace pyproj's bundled libcurl by a stub (CURL_STUB) when every curl function the bundle's libraries
    call has a stub, and drop the libraries only the real libcurl needed. Returns the bytes saved."""
    libs = sorted((internal / "pyproj.libs").glob("libcurl*.so*")) if (internal / "pyproj.libs").is_dir() else []
    if not libs or shutil.which("gcc") is None:
        return 0
    curl = libs[0]
    soname = re.search(r"\(SONAME\).*\[(.+?)\]", _dynamic(curl))
    if not soname:
        return 0
    users = [p for p in elf_files(internal) if p != curl and soname.group(1) in needed(p)]
    wanted = {s for p in users for s in _imports(p) if s.startswith("curl_")}
    if not wanted or not wanted <= set(CURL_STUB):
        print(f"riskmap bundle: libcurl kept (calls without a stub: {sorted(wanted - set(CURL_STUB))})")
        return 0
    deps = [internal / "pyproj.libs" / n for n in needed(curl) if (internal / "pyproj.libs" / n).exists()]
    before = curl.stat().st_size
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "curl_stub.c"
        src.write_text("\n".join(CURL_STUB.values()) + "\n", encoding="ascii")
        out = Path(tmp) / curl.name
        subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-s", f"-Wl,-soname,{soname.group(1)}", "-o", str(out),
                        str(src)], check=True)
        shutil.copyfile(out, curl)
    saved = before - curl.stat().st_size
    for dep in deps:  # libnghttp2: needed by the real libcurl only
        if not any(dep.name in needed(p) for p in elf_files(internal) if p != dep):
            saved += dep.stat().st_size
            dep.unlink()
    print(f"riskmap bundle: pyproj's libcurl replaced by a stub (PROJ never downloads here), {saved / 1e6:.1f} MB less")
    return saved


def postbuild(dist: Path, removed: list[str]) -> None:
    internal = dist / "_internal"
    if os.name != "posix" or not internal.is_dir():
        return
    gone = prune(internal, removed)
    saved, unstripped = strip_safe(internal)
    print(f"riskmap bundle: dropped {len(gone)} libraries of left-out plugins ({', '.join(gone)}); "
          f"stripped {saved / 1e6:.0f} MB of symbols"
          + (f" (left unstripped, they would not load: {', '.join(unstripped)})" if unstripped else ""))
    stub_curl(internal)
    saved, merged = dedupe(internal, elf_files, needed)
    print(f"riskmap bundle: {len(merged)} duplicate libraries made links to one copy, {saved / 1e6:.1f} MB less"
          + "".join(f"\n  {line}" for line in merged))
    qt_lib = internal / "PySide6" / "Qt" / "lib"
    if qt_lib.is_dir():
        trim_icu(qt_lib)
