"""The data files of the bundle, from packaging/bundle-data.txt (read by riskmap.spec and tests/test_bundle.py).

>>> folders, excludes = data_list()
>>> "resources" in folders and "*.pyc" in excludes
True
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "packaging" / "bundle-data.txt"


def data_list(path: Path = LIST) -> tuple[list[str], list[str]]:
    """(folders, exclusion globs): the folders (or single files) relative to the repository root; "!glob" lines leave out files."""
    folders, excludes = [], []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("!"):
            excludes.append(line[1:])
        elif line:
            folders.append(line)
    return folders, excludes


def data_files(root: Path = ROOT) -> list[tuple[str, str]]:
    """(source file, destination folder inside the bundle) for every file the bundle carries."""
    folders, excludes = data_list(root / "packaging" / "bundle-data.txt")
    out = []
    for folder in folders:
        if (root / folder).is_file():  # a single file (riskmap's own LICENSE) beside the folders
            out.append((str(root / folder), "."))
            continue
        for p in sorted((root / folder).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and not any(fnmatch.fnmatch(p.name, g) for g in excludes):
                out.append((str(p), p.parent.relative_to(root).as_posix()))
    return out
