"""The print dialog on the demo: menu entries, live preview, what the canvas shows is what prints, export in
the background, user templates; and the data export dialog."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from tests.ui.conftest import SHOTS

POPPLER = bool(shutil.which("pdftotext") and shutil.which("pdfinfo"))


def _open_dialog(window, qtbot):
    from riskmap.ui.print_dialog import PrintDialog

    assert window.action("action_print").text() == "打印出图…"
    assert window.action("action_print") in window.menus["file"].actions()
    window.action("action_print").trigger()
    dlg = window.dialogs["print_dialog"]
    assert isinstance(dlg, PrintDialog)
    qtbot.addWidget(dlg)
    qtbot.waitUntil(dlg.preview_ready, timeout=30000)
    return dlg


def _image_array(img):
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format.Format_RGB32)
    a = np.frombuffer(img.constBits(), np.uint8, count=img.bytesPerLine() * img.height())
    return a.reshape(img.height(), -1)[:, : img.width() * 4].reshape(img.height(), img.width(), 4)[..., [2, 1, 0]]


def _has_colour(arr, hex_colour, tol=20) -> int:
    want = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(arr.astype(int) - want).max(axis=2) <= tol).sum())


def test_preview_follows_paper_and_shows_the_map(window, qtbot):
    dlg = _open_dialog(window, qtbot)
    img = dlg.preview_image
    assert img.width() > img.height()  # A3 landscape by default
    arr = _image_array(img)
    assert _has_colour(arr, "#0070FF") > 20 and _has_colour(arr, "#FF0000") > 0  # blue and red enterprises
    dlg.grab().save(f"{SHOTS}/ui_print_dialog.png")
    dlg.paper_combo.setCurrentText("A4")
    dlg.orientation_combo.setCurrentIndex(dlg.orientation_combo.findData("portrait"))
    qtbot.waitUntil(lambda: dlg.preview_ready() and dlg.preview_image.height() > dlg.preview_image.width(),
                    timeout=30000)
    ratio = dlg.preview_image.height() / dlg.preview_image.width()
    assert ratio == pytest.approx(297 / 210, abs=0.01)


@pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed (scripts/system-deps.sh test)")
def test_what_the_canvas_shows_is_what_prints(window, qtbot, tmp_path):
    ws = window.workspace
    ws.set_visible("hidden_dangers", False)
    town = ws.layer("towns").gdf.iloc[0]
    window.canvas.zoom_to_feature("towns", int(town["id"]), flash=False)
    dlg = _open_dialog(window, qtbot)
    dlg.title_edit.setText("打印对话框标题")
    dlg.unit_edit.setText("示例应急管理局")
    out = tmp_path / "dlg.pdf"
    dlg.export("pdf", str(out))
    qtbot.waitUntil(lambda: dlg.last_export is not None, timeout=60000)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True).stdout
    assert "打印对话框标题" in text and "编制单位：示例应急管理局" in text and "示例数据" in text
    assert "\n隐患\n" not in text  # the hidden layer has no legend entry
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert "1190.55 x 841.89" in info
    # the printed map shows the canvas's view: one town, so a much larger scale than the whole county
    assert dlg._content.extent == pytest.approx(dlg.extent())
    full = dlg._content.overview_extent
    assert (dlg.extent()[2] - dlg.extent()[0]) < 0.6 * (full[2] - full[0])
    ws.set_visible("hidden_dangers", True)
    dlg2 = _open_dialog(window, qtbot)
    out2 = tmp_path / "dlg2.pdf"
    dlg2.export("pdf", str(out2))
    qtbot.waitUntil(lambda: dlg2.last_export is not None, timeout=60000)
    text2 = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out2), "-"], capture_output=True, text=True).stdout
    assert "\n隐患\n" in text2


def test_atlas_from_the_dialog_and_user_template(window, qtbot, tmp_path):
    dlg = _open_dialog(window, qtbot)
    dlg.atlas_combo.setCurrentIndex(dlg.atlas_combo.findData("town"))
    assert not dlg.png_button.isEnabled()
    qtbot.waitUntil(lambda: dlg.preview_ready() and "分幅" in dlg.status.text(), timeout=30000)
    out = tmp_path / "atlas.pdf"
    dlg.export("pdf", str(out))
    qtbot.waitUntil(lambda: dlg.last_export is not None, timeout=120000)
    if POPPLER:
        info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
        assert f"Pages:           {len(window.workspace.layer('towns').gdf)}" in info
    dlg.unit_edit.setText("示例县应急管理局")
    path = dlg.save_template_as("我的单位")
    assert path is not None and path.exists()
    assert dlg.template_combo.currentData() == "我的单位"
    from riskmap.printing.template import load_template

    assert load_template("我的单位").defaults["unit"] == "示例县应急管理局"


def test_export_data_dialog_writes_a_workbook(window, qtbot, tmp_path):
    import openpyxl

    from riskmap.ui.export_dialog import ExportDialog

    action = window.action("action_export_data")
    assert action in window.menus["file"].actions()
    action.trigger()
    dlg = window.dialogs["export_dialog"]
    assert isinstance(dlg, ExportDialog)
    qtbot.addWidget(dlg)
    dlg.format_combo.setCurrentIndex(next(i for i in range(dlg.format_combo.count())
                                          if dlg.format_combo.itemData(i)[0] == "xlsx"))
    out = tmp_path / "dlg.xlsx"
    dlg.path_edit.setText(str(out))
    done = []
    dlg.export(on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=60000)
    wb = openpyxl.load_workbook(out)
    n = len(window.workspace.layer("enterprises").gdf)
    assert len([r for r in wb["企业"].iter_rows(min_row=4, values_only=True)]) == n
