"""One copy of each shared library in the bundle (Linux; called from postbuild.py).

Wheels carry their own copies of common libraries, renamed by auditwheel (``libcrypto-3a0647ea.so.3`` in
psycopg's, ``libjpeg-e87d2658.so.62.2.0`` in pikepdf's), and PyInstaller adds the build machine's
(``libcrypto.so.3``). Copies of one library with the same ABI major (``libcrypto.so.3``) are merged: each
duplicate becomes a relative symlink to the kept copy, and the dynamic loader then maps one file.

A copy is replaced only when the kept one provides every symbol, with its version, that the libraries
needing the copy take from it (``readelf --dyn-syms``), and every one of them still loads afterwards
(dlopen in a separate process); otherwise it is put back. The kept copy of a group is the build machine's
(it is loaded anyway), else the one defining the most symbols.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

_NAME = re.compile(r"^(lib.+?)(?:-[0-9a-f]{8})*\.so\.(\d+)")


def abi_key(name: str) -> str | None:
    """``libjpeg-e87d2658.so.62.2.0`` → ``libjpeg.so.62``; None for a name without an ABI major.

    >>> abi_key("libcrypto-3a0647ea.so.3"), abi_key("libgfortran-040039e1-0352e75f.so.5.0.0")
    ('libcrypto.so.3', 'libgfortran.so.5')
    """
    m = _NAME.match(name)
    return f"{m.group(1)}.so.{m.group(2)}" if m else None


def dyn_symbols(path: Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(defined, undefined) dynamic symbols of an ELF file as (name, version) pairs; version '' when none."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 8 or not parts[0].endswith(":"):
            continue
        ndx, full = parts[6], parts[7]
        name, _, version = full.partition("@")
        version = version.lstrip("@")
        if ndx == "UND":
            undefined.add((name, version))
        elif parts[3] != "SECTION" and name:
            defined.add((name, version))
    return defined, undefined


def missing(keeper_defined: set, copy_defined: set, users_undefined: list[set]) -> set:
    """The (name, version) pairs the users take from the copy that the keeper does not define.

    >>> missing({("f", "V1"), ("g", "")}, {("f", "V1"), ("h", "V1")}, [{("f", "V1"), ("h", "V1"), ("x", "")}])
    {('h', 'V1')}
    """
    names = {n for n, _ in copy_defined}
    keeper_names = {n for n, _ in keeper_defined}
    lacking = set()
    for undefined in users_undefined:
        for name, version in undefined:
            if name not in names:
                continue
            if version and (name, version) not in keeper_defined or not version and name not in keeper_names:
                lacking.add((name, version))
    return lacking


def _loads(path: Path) -> bool:
    code = "import ctypes, sys; ctypes.CDLL(sys.argv[1])"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True).returncode == 0


def dedupe(internal: Path, elf_files, needed) -> tuple[int, list[str]]:
    """Merge the copies of each library in ``internal`` (see the module docstring), pass after pass until none is
    left to merge (a copy of libssl, once merged, no longer holds its libcrypto copy). ``elf_files(folder)`` and
    ``needed(path)`` are postbuild's. Returns (bytes saved, one line per merged copy)."""
    saved, lines = 0, []
    while True:
        more, merged = _pass(internal, elf_files, needed)
        if not merged:
            return saved, lines
        saved, lines = saved + more, lines + merged


def _pass(internal: Path, elf_files, needed) -> tuple[int, list[str]]:
    files = elf_files(internal)
    groups: dict[str, list[Path]] = defaultdict(list)
    for p in files:
        key = abi_key(p.name) if ".so" in p.name else None
        if key:
            groups[key].append(p)
    deps = {p: needed(p) for p in files}
    saved, lines = 0, []
    for key, copies in sorted(groups.items()):
        if len(copies) < 2:
            continue
        symbols = {p: dyn_symbols(p) for p in copies}
        top = [p for p in copies if p.parent == internal]
        keeper = top[0] if top else max(copies, key=lambda p: len(symbols[p][0]))
        for copy in copies:
            if copy == keeper:
                continue
            users = [p for p, ns in deps.items() if copy.name in ns and p != copy]
            lacking = missing(symbols[keeper][0], symbols[copy][0], [dyn_symbols(u)[1] for u in users])
            if lacking or not users or not all(_loads(u) for u in users):
                continue
            size = copy.stat().st_size
            backup = copy.with_name(copy.name + ".dedupe")
            copy.rename(backup)
            copy.symlink_to(os.path.relpath(keeper, copy.parent))
            if all(_loads(u) for u in users):
                backup.unlink()
                saved += size
                lines.append(f"{copy.relative_to(internal)} → {keeper.relative_to(internal)} ({size / 1e6:.1f} MB)")
            else:
                copy.unlink()
                backup.rename(copy)
    return saved, lines
