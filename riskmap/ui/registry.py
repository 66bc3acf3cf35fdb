"""What the main window holds, declared in one place: actions (id, menu, toolbar, required permission) and the
extensions that added them.

Extensions never set attributes on the window. They call ``window.register_action(menu, action, id=…,
permission=…)`` (and ``window.add_toolbar_action(action, toolbar=…)``), ``window.register_extension(name,
obj)`` and ``window.show_dialog(name, dialog)``; the window keeps them in its :class:`ActionRegistry`. The
window's permission logic reads :meth:`ActionRegistry.gated`, and the question "are there unsaved edits?" goes
to every registered extension that is an :class:`EditSession`.

>>> reg = ActionRegistry()
>>> reg.add(Entry("action_x", object(), menu="file", permission="assess")).id
'action_x'
>>> [e.id for e in reg.gated("assess")]
['action_x']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QT_TR_NOOP

# Permissions an action may require (fields of riskmap.store.roles.Permissions), with the reason a user who
# lacks one sees as the action's tooltip.
PERMISSIONS = {
    "edit_features": QT_TR_NOOP("当前用户无权编辑要素（需要编辑者角色）"),
    "assess": QT_TR_NOOP("当前用户无权修改风险等级和分区（需要评估者角色）"),
}


@runtime_checkable
class EditSession(Protocol):
    """An extension holding edits that are not saved yet (the window asks it before reloading layers)."""

    def unsaved_layers(self) -> set[str]:
        """Ids of the layers with unsaved edits."""


@dataclass
class Entry:
    """One declared action.

    ``target`` is a QAction (a submenu's ``menuAction()`` too) or a button; ``menu`` a key of the window's
    MENUS (None: in no menu); ``toolbar`` the key of a window toolbar ("map" is the main one); ``permission``
    a key of :data:`PERMISSIONS`. ``managed``: the owner enables the action itself (e.g. only while editing);
    the window then only disables it when the permission is missing.
    """

    id: str
    target: Any
    menu: str | None = None
    toolbar: str | None = None
    permission: str | None = None
    managed: bool = False


class ActionRegistry:
    """Declared actions by id and extensions by name, in the order they were registered."""

    def __init__(self):
        self._entries: dict[str, Entry] = {}
        self._extensions: dict[str, object] = {}

    # ---- actions
    def add(self, entry: Entry) -> Entry:
        if not entry.id:
            raise ValueError("an action needs an id")
        if entry.id in self._entries or entry.id in self._extensions:
            raise ValueError(f"id already registered: {entry.id}")
        if entry.permission is not None and entry.permission not in PERMISSIONS:
            raise ValueError(f"unknown permission {entry.permission!r}; known: {sorted(PERMISSIONS)}")
        self._entries[entry.id] = entry
        return entry

    def __contains__(self, action_id: str) -> bool:
        return action_id in self._entries

    def __getitem__(self, action_id: str) -> Entry:
        return self._entries[action_id]

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def entry_of(self, target) -> Entry | None:
        """The entry whose target is ``target`` (None when it was not registered)."""
        return next((e for e in self._entries.values() if e.target is target), None)

    def gated(self, permission: str | None = None) -> list[Entry]:
        """Entries that need a permission (only ``permission`` when given)."""
        return [e for e in self._entries.values()
                if e.permission is not None and (permission is None or e.permission == permission)]

    # ---- extensions
    def add_extension(self, name: str, obj: object) -> object:
        if not name or name in self._extensions or name in self._entries:
            raise ValueError(f"extension name empty or taken: {name!r}")
        self._extensions[name] = obj
        return obj

    def extension(self, name: str) -> object | None:
        return self._extensions.get(name)

    def extensions(self) -> dict[str, object]:
        return dict(self._extensions)

    def unsaved_layers(self) -> set[str]:
        """Layers with unsaved edits, by every extension that is an :class:`EditSession`."""
        out: set[str] = set()
        for obj in self._extensions.values():
            if isinstance(obj, EditSession):
                out |= set(obj.unsaved_layers())
        return out

