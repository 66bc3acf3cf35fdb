"""Small pieces the dialogs share: a file path with its 浏览… button, and OK/Cancel buttons in Chinese."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLineEdit, QPushButton

from riskmap.ui.i18n import tr


def path_row(on_browse) -> tuple[QLineEdit, QHBoxLayout]:
    """A path edit and a 浏览… button calling ``on_browse``, laid out in one row."""
    edit = QLineEdit()
    browse = QPushButton(tr("浏览…"))
    browse.clicked.connect(on_browse)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return edit, row


def ok_cancel(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    """OK (titled ``ok_text``) and 取消 buttons that accept and reject ``dialog``."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("取消"))
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
