"""User text in the identify panel's rich text is escaped: a zone name or reason that holds markup shows as
the characters typed, and nothing in it becomes a tag."""

from __future__ import annotations

import pandas as pd


def test_zone_reason_shows_markup_as_text(window):
    panel = window.identify_panel
    towns = window.workspace.layer("towns").gdf
    row = towns.iloc[0].copy()
    row["name"] = "<img src=x>镇{{7*7}}"
    row["level_reason"] = "<b>粗体</b> & <a href='file:///etc/passwd'>链接</a>"
    panel._zone(window.project, int(row["id"]), pd.Series(row))
    plain = panel.reason.toPlainText()
    assert "<img src=x>镇{{7*7}}" in plain
    assert "<b>粗体</b> & <a href='file:///etc/passwd'>链接</a>" in plain
    html = panel.reason.toHtml()
    assert "<img" not in html and "<a " not in html
