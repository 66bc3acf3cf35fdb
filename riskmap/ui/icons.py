"""Icons from ``resources/icons/*.svg`` by name (a blank icon when a file is missing)."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from riskmap.paths import RESOURCES_DIR

ICONS_DIR = RESOURCES_DIR / "icons"


@lru_cache(maxsize=128)
def icon(name: str) -> QIcon:
    path = ICONS_DIR / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
