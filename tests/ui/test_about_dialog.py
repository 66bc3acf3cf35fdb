"""帮助 → 关于: the version, how riskmap was built, and every bundled component with its licence text."""

from __future__ import annotations

import os

from riskmap import __version__, about
from tests.test_bundle import REQUIRED
from tests.ui.conftest import SHOTS

PHRASES = REQUIRED  # component → a phrase of its licence text


def test_about_lists_every_licence_and_shows_its_text(qtbot, prefs):
    from riskmap.ui.about_dialog import AboutDialog
    from riskmap.ui.main_window import MainWindow

    window = MainWindow(prefs)
    qtbot.addWidget(window)
    window._about()  # 帮助 → 关于 riskmap
    dlg = window.dialogs["about"]
    assert isinstance(dlg, AboutDialog) and dlg.isVisible()
    expected = [lic.name for lic in about.licences()]
    assert dlg.names() == expected and dlg.list.count() == len(expected) > 30
    for name, phrase in PHRASES.items():
        row = expected.index(name)
        assert dlg.list.item(row).text().startswith(name)
        assert phrase.lower() in dlg.select(name).lower(), name
    assert dlg.list.currentItem().text().startswith(list(PHRASES)[-1])  # the last one selected
    labels = " ".join(w.text() for w in dlg.findChildren(type(dlg.build_label)))
    assert f"riskmap {__version__}" in labels and "从源代码运行" in labels
    dlg.resize(900, 560)
    dlg.select("Noto Sans CJK SC")
    dlg.grab().save(os.path.join(SHOTS, "riskmap_about.png"))


def test_build_line_of_a_bundle(app):
    from riskmap.ui.about_dialog import describe_build

    text = describe_build({"date": "2026-12-03 09:14 UTC", "commit": "6966709f324e"}, True)
    assert text == "独立安装包，构建于 2026-12-03 09:14 UTC（提交 6966709f324e）"
    assert describe_build(None, True) == "独立安装包"
    assert describe_build(None, False) == "从源代码运行"


def test_about_in_english(app, qtbot):
    from riskmap.ui.about_dialog import AboutDialog
    from riskmap.ui.i18n import install_language

    install_language("en")
    dlg = AboutDialog(items=[about.Licence("Leaflet", "1.9.4", "BSD-2-Clause", "BSD text")])
    qtbot.addWidget(dlg)
    assert dlg.windowTitle() == "About riskmap"
    assert dlg.build_label.text() == "Running from source"
    assert dlg.text.toPlainText() == "BSD text"
