"""The window's declared actions: every registered action sits in its menu and toolbar, permission-gated ones
are disabled for a viewer with the reason, and extensions set no attributes on the window."""

from __future__ import annotations

import dataclasses
import sys

import pytest

from riskmap.store.roles import Permissions
from riskmap.ui.registry import PERMISSIONS, ActionRegistry, Entry

# what the extensions must declare (a registry that silently lost them would make the tests below vacuous)
EXPECTED = {
    "action_import_data": "edit_features", "action_export_data": None, "action_print": None,
    "edit_start": "edit_features", "edit_draw": "edit_features", "planning_control_lines": "edit_features",
    "planning_contours": "edit_features", "planning_grade_lifelines": "assess", "planning_check": None,
    "planning_measure_distance": None, "zoning_recompute": "assess",
}


def test_permissions_are_fields_of_permissions():
    assert set(PERMISSIONS) <= {f.name for f in dataclasses.fields(Permissions)}


def test_registry_refuses_duplicates_and_unknown_permissions():
    reg = ActionRegistry()
    reg.add(Entry("a", object()))
    with pytest.raises(ValueError):
        reg.add(Entry("a", object()))
    with pytest.raises(ValueError):
        reg.add(Entry("b", object(), permission="fly"))
    with pytest.raises(ValueError):
        reg.add_extension("a", object())


def test_every_registered_action_is_in_its_menu_and_toolbar(window):
    reg = window.registry
    ids = {e.id: e.permission for e in reg.entries()}
    assert {k: ids.get(k, "missing") for k in EXPECTED} == EXPECTED
    in_menus = 0
    for e in reg.entries():
        if e.menu is not None:
            assert e.target in window.menus[e.menu].actions(), e.id
            in_menus += 1
        if e.toolbar is not None:
            assert e.target in window.toolbars[e.toolbar].actions(), e.id
    assert in_menus >= len(EXPECTED) - 1  # all but the zoning panel's button
    assert reg["edit_draw"].toolbar == "planning" and reg["action_print"].menu == "file"
    # read back by id and name, not from attributes planted on the window
    assert window.action("action_print") is reg["action_print"].target
    assert window.extension("planning") is not None
    assert "planning" not in vars(window) and "action_print" not in vars(window)
    for name in ("planning", "action_print", "print_dialog"):
        assert not hasattr(window, name)  # no attribute magic either


def test_viewer_sees_every_gated_action_disabled_with_the_reason(window, monkeypatch):
    viewer = Permissions(user="x", roles=("viewer",))
    monkeypatch.setattr(window.project, "permissions", lambda: viewer)
    window.apply_permissions()
    gated = window.registry.gated()
    assert {e.id for e in gated} >= {k for k, v in EXPECTED.items() if v}
    for e in gated:
        assert not e.target.isEnabled(), e.id
        assert e.target.toolTip() == PERMISSIONS[e.permission], e.id
    assert window.perm_label.text() == "只读：当前用户为查看者"
    # an action of no permission stays usable
    assert window.registry["planning_measure_distance"].target.isEnabled()


def test_extensions_set_no_attribute_on_the_window(app, qtbot, prefs, demo_copy, monkeypatch):
    """Every attribute of a MainWindow is set by code of the window class itself (spied on __setattr__)."""
    from riskmap.ui import main_window
    from riskmap.ui.main_window import MainWindow

    planted = []
    here = main_window.__file__
    original = MainWindow.__setattr__

    def spy(self, name, value):
        caller = sys._getframe(1).f_code.co_filename
        if caller != here:
            planted.append((name, caller))
        original(self, name, value)

    monkeypatch.setattr(MainWindow, "__setattr__", spy)
    w = MainWindow(prefs)
    qtbot.addWidget(w)
    assert "riskmap.ui.planning" in w.extensions and "riskmap.ui.import_wizard" in w.extensions
    w.open_project(demo_copy)
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    for action_id in ("action_import_data", "action_export_data", "action_print"):
        w.registry[action_id].target.trigger()
    assert set(w.dialogs) == {"import_wizard", "export_dialog", "print_dialog"}
    for dlg in w.dialogs.values():
        dlg.close()
    w.extension("planning").start_editing("control_lines")
    assert planted == []
    assert w.unsaved_layers() == set()
    w.set_from_outside = 1  # the spy sees what an extension would plant
    assert planted == [("set_from_outside", __file__)]
    w.close()


def test_unsaved_edits_are_asked_of_edit_sessions(window):
    class Session:
        def unsaved_layers(self):
            return {"control_lines"}

    assert window.unsaved_layers() == set()
    window.register_extension("fake_session", Session())
    assert window.unsaved_layers() == {"control_lines"}
