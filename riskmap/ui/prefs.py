"""User preferences kept between sessions (QSettings): language, recent files, window state, base maps.

>>> prefs().language() in ("zh", "en")
True
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

MAX_RECENT = 10


class Prefs:
    """Typed access to the application's QSettings."""

    def __init__(self, settings: QSettings | None = None):
        self.s = settings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "riskmap", "riskmap")

    def _get(self, key, default=None):
        value = self.s.value(key, default)
        return default if value is None else value

    # ---- language
    def language(self) -> str:
        return str(self._get("ui/language", "zh"))

    def set_language(self, lang: str) -> None:
        self.s.setValue("ui/language", lang)
        self.s.sync()

    # ---- projects
    def recent_files(self) -> list[str]:
        raw = self._get("projects/recent", "[]")
        try:
            items = json.loads(raw) if isinstance(raw, str) else list(raw)
        except ValueError:
            items = []
        return [str(x) for x in items if x]

    def add_recent(self, path: str) -> None:
        path = str(Path(path).resolve()) if "://" not in str(path) else str(path)
        items = [p for p in self.recent_files() if p != path]
        items.insert(0, path)
        self.s.setValue("projects/recent", json.dumps(items[:MAX_RECENT], ensure_ascii=False))
        self.s.setValue("projects/last", path)
        self.s.sync()

    def remove_recent(self, path: str) -> None:
        items = [p for p in self.recent_files() if p != path]
        self.s.setValue("projects/recent", json.dumps(items, ensure_ascii=False))
        if self.last_project() == path:
            self.s.remove("projects/last")
        self.s.sync()

    def last_project(self) -> str | None:
        value = self._get("projects/last", "")
        return str(value) or None

    # ---- window
    def window_state(self) -> tuple[bytes | None, bytes | None]:
        return self._get("window/geometry"), self._get("window/state")

    def set_window_state(self, geometry, state) -> None:
        self.s.setValue("window/geometry", geometry)
        self.s.setValue("window/state", state)
        self.s.sync()

    # ---- map
    def map_crs(self) -> str:
        """'gk' (the project's Gauss–Krüger zone) or 'webmercator'."""
        value = str(self._get("map/crs", "gk"))
        return value if value in ("gk", "webmercator") else "gk"

    def set_map_crs(self, value: str) -> None:
        self.s.setValue("map/crs", value)
        self.s.sync()

    def labels_on(self) -> bool:
        return str(self._get("map/labels", "true")).lower() == "true"

    def set_labels_on(self, on: bool) -> None:
        self.s.setValue("map/labels", "true" if on else "false")
        self.s.sync()

    def tile_sources(self) -> list[dict]:
        """User tile layers: [{'name', 'url', 'enabled', 'attribution'}]; off by default."""
        raw = self._get("basemap/tiles", "[]")
        try:
            items = json.loads(raw) if isinstance(raw, str) else []
        except ValueError:
            items = []
        return [dict(x) for x in items if isinstance(x, dict) and x.get("url")]

    def set_tile_sources(self, items: list[dict]) -> None:
        self.s.setValue("basemap/tiles", json.dumps(items, ensure_ascii=False))
        self.s.sync()

    def tianditu_key(self) -> str:
        return str(self._get("basemap/tianditu_key", ""))

    def set_tianditu_key(self, key: str) -> None:
        self.s.setValue("basemap/tianditu_key", key.strip())
        self.s.sync()


def prefs() -> Prefs:
    return Prefs()


def data_dir() -> Path:
    """The user's application data folder (demo project, logs); created on demand."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    path = Path(loc or Path.home() / ".riskmap")
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """The user's cache folder (map tiles); created on demand."""
    loc = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    path = Path(loc or Path.home() / ".cache" / "riskmap")
    path.mkdir(parents=True, exist_ok=True)
    return path
