"""The window shows what the current user may do: actions they may not use are disabled, with a reason."""

from __future__ import annotations

import dataclasses

import pytest

from riskmap.store.roles import Permissions
from tests.ui.conftest import SHOTS


def _open_window(app, qtbot, prefs, target, readonly=False):
    from riskmap.ui.main_window import MainWindow

    w = MainWindow(prefs)
    qtbot.addWidget(w)
    w.show()
    w.open_project(target, readonly=readonly)
    qtbot.waitUntil(lambda: w.project is not None and not w.loading, timeout=30000)
    return w


def _edit_actions(w):
    p = w.extension("planning")
    return [p.start_menu.menuAction(), p.act_lines, p.act_contours, w.action("action_import_data")]


def _assess_targets(w):
    return [w.extension("planning").act_grade, w.zoning_panel.recompute]


def test_writable_gpkg_allows_everything(window):
    assert window.permissions.edit_features and window.permissions.assess
    assert all(a.isEnabled() for a in _edit_actions(window) + _assess_targets(window))
    assert not window.perm_label.isVisible()
    assert window.extension("planning").act_lines.toolTip() == window.extension("planning").act_lines.text()  # no refusal note


def test_readonly_gpkg_disables_edit_and_import(app, qtbot, prefs, demo_copy):
    w = _open_window(app, qtbot, prefs, demo_copy, readonly=True)
    assert w.project.readonly
    for a in _edit_actions(w) + _assess_targets(w):
        assert not a.isEnabled(), a.text()
        assert a.toolTip() == "项目以只读方式打开，不能修改"
    assert all(not a.isEnabled() for a in w.extension("planning").edit_actions)
    assert w.perm_label.isVisible() and w.perm_label.text() == "只读：项目以只读方式打开"
    # zoning does not try to write: it shows the stored levels
    w.zoning_panel.apply()
    assert w.zoning_panel.last_result is None
    # view tools stay usable
    assert w.act_identify.isEnabled() and w.extension("planning").act_measure.isEnabled()
    w.grab().save(f"{SHOTS}/permissions_readonly.png")
    w.close()


@pytest.mark.parametrize("role, edit, assess, note", [
    ("viewer", False, False, "只读：当前用户为查看者"),
    ("editor", True, False, "编辑者：可编辑要素，不能修改风险等级和分区"),
    ("assessor", False, True, "评估者：可修改风险等级和分区，不能编辑要素"),
])
def test_roles_enable_the_matching_actions(window, monkeypatch, role, edit, assess, note):
    full = window.project.permissions()
    fake = dataclasses.replace(full, roles=(role,), edit_features=edit, assess=assess, admin=False)
    monkeypatch.setattr(window.project, "permissions", lambda: fake)
    window.apply_permissions()
    assert window.permissions is fake
    for a in _edit_actions(window):
        assert a.isEnabled() == edit, a.text()
        if not edit:
            assert a.toolTip() == "当前用户无权编辑要素（需要编辑者角色）"
    for a in _assess_targets(window):
        assert a.isEnabled() == assess, a.text()
        if not assess:
            assert a.toolTip() == "当前用户无权修改风险等级和分区（需要评估者角色）"
    assert window.zoning_panel.can_compute == assess
    assert window.perm_label.text() == note and window.perm_label.isVisible()
    # back to full rights: everything returns, with the original tooltips
    monkeypatch.setattr(window.project, "permissions", lambda: full)
    window.apply_permissions()
    assert all(a.isEnabled() for a in _edit_actions(window) + _assess_targets(window))
    assert window.extension("planning").act_lines.toolTip() == window.extension("planning").act_lines.text()
    assert not window.perm_label.isVisible()


def test_fake_viewer_cannot_recompute_zoning(window, monkeypatch):
    from riskmap.model import Zone

    fake = Permissions(user="x", roles=("viewer",))
    monkeypatch.setattr(window.project, "permissions", lambda: fake)
    window.apply_permissions()
    with window.project.session() as s:
        before = {z.id: z.updated_at for z in s.query(Zone).all()} if hasattr(Zone, "updated_at") else None
    window.zoning_panel.apply()
    assert window.zoning_panel.last_result is None
    assert "无权" in window.zoning_panel.summary.text()
    if before is not None:
        with window.project.session() as s:
            assert {z.id: z.updated_at for z in s.query(Zone).all()} == before


@pytest.mark.postgis
def test_postgis_viewer_and_change_notices(app, qtbot, prefs, pg_server, pg_demo_url):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from riskmap.model import Enterprise
    from riskmap.store import Project
    from riskmap.store.roles import grant_role

    engine = create_engine(pg_server.url("postgres"))
    with engine.begin() as conn:
        grant_role(conn, "ui_viewer", "viewer", password="Ui-5v!pass", create=True)
    engine.dispose()
    viewer_url = pg_server.url(make_url(pg_demo_url).database, "ui_viewer", "Ui-5v!pass")
    w = _open_window(app, qtbot, prefs, viewer_url)
    assert w.permissions.roles == ("viewer",) and not w.permissions.edit_features
    for a in _edit_actions(w) + _assess_targets(w):
        assert not a.isEnabled(), a.text()
    assert w.perm_label.text() == "只读：当前用户为查看者"
    assert w.change_poller.is_active()
    # another user renames an enterprise: the timer's poll reloads the layer and says so
    with Project.open(pg_demo_url) as other, other.session() as s:
        s.get(Enterprise, 3).name = "示例通知界面测试有限公司"
    layer = lambda: w.workspace.layer("enterprises")  # noqa: E731
    qtbot.waitUntil(lambda: "示例通知界面测试有限公司" in set(layer().gdf["name"]), timeout=15000)
    assert "已重新加载" in w.statusBar().currentMessage()
    w.close()
