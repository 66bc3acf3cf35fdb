"""Where the project's data folders live: the repository root beside the package, or inside a bundle.

Run from source (or an editable install), ``layers/``, ``data/`` and ``resources/`` sit in the repository
root, the parent of the ``riskmap`` package. In the self-contained bundle (PyInstaller, ``packaging/``) they
sit in the bundle's data folder: ``sys._MEIPASS`` (``<bundle>/_internal``), or beside the executable when
a freezer sets ``sys.frozen`` without ``_MEIPASS``. The folders are read only: whatever riskmap writes goes
to the user's folders (QStandardPaths in the desktop app), never here.

>>> bundle_root(frozen=False, meipass=None, executable="/x/riskmap", package_dir="/src/riskmap").as_posix()
'/src'
>>> bundle_root(frozen=True, meipass="/opt/riskmap/_internal", executable="/opt/riskmap/riskmap").as_posix()
'/opt/riskmap/_internal'
>>> bundle_root(frozen=True, meipass=None, executable="/opt/riskmap/riskmap").as_posix()
'/opt/riskmap'
"""

from __future__ import annotations

import sys
from pathlib import Path


def bundle_root(*, frozen: bool, meipass: str | None, executable: str, package_dir: str | None = None) -> Path:
    """The folder holding ``layers/``, ``data/`` and ``resources/`` (see the module docstring)."""
    if frozen:
        return Path(meipass) if meipass else Path(executable).resolve().parent
    return Path(package_dir or Path(__file__).resolve().parent).parent


def is_frozen() -> bool:
    """Whether this process runs from the self-contained bundle."""
    return bool(getattr(sys, "frozen", False))


ROOT = bundle_root(frozen=is_frozen(), meipass=getattr(sys, "_MEIPASS", None), executable=sys.executable,
                   package_dir=str(Path(__file__).resolve().parent))
LAYERS_DIR = ROOT / "layers"
DATA_DIR = ROOT / "data"
RESOURCES_DIR = ROOT / "resources"
STANDARDS_DIR = RESOURCES_DIR / "standards"
FONTS_DIR = RESOURCES_DIR / "fonts"
TEMPLATES_DIR = RESOURCES_DIR / "templates"
I18N_DIR = RESOURCES_DIR / "i18n"
WEB_DIR = RESOURCES_DIR / "web"
# the licence texts of what the bundle carries: collected into the bundle at build time (packaging/);
# from source they are read from the installed distributions and packaging/licences
LICENCES_DIR = ROOT / "licences"
PACKAGING_DIR = ROOT / "packaging"
