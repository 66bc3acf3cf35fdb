"""帮助 → 关于: the version, the build (in the bundle) and the licences of everything riskmap carries, each with
its full text (riskmap.about: from the bundle's licence index, or from the installed distributions).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QSplitter,
    QVBoxLayout, QWidget,
)

from riskmap import about
from riskmap.paths import is_frozen
from riskmap.ui.i18n import tr
from riskmap.ui.icons import icon as app_icon_named


def app_icon():
    """riskmap's own icon (resources/icons/riskmap.svg; the window icon too)."""
    return app_icon_named("riskmap")


def describe_build(info: dict | None, frozen: bool) -> str:
    """One line on how this riskmap was made: the bundle's build date and commit, or 'from source'."""
    if info:
        text = tr("独立安装包，构建于 {date}").format(date=info.get("date", "?"))
        if info.get("commit"):
            text += tr("（提交 {commit}）").format(commit=info["commit"])
        return text
    return tr("独立安装包") if frozen else tr("从源代码运行")


class AboutDialog(QDialog):
    """The version and the licences (a list of components, the selected one's text beside it)."""

    def __init__(self, parent=None, items: list[about.Licence] | None = None):
        super().__init__(parent)
        self.setWindowTitle(tr("关于 riskmap"))
        self.resize(900, 600)
        self.items = about.licences() if items is None else items

        head = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(app_icon().pixmap(64, 64))
        head.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        title = QLabel(f"<b>riskmap {about.version()}</b>")
        title.setTextFormat(Qt.TextFormat.RichText)
        self.build_label = QLabel(describe_build(about.build_info(), is_frozen()))
        blurb = QLabel(tr("县域安全风险四色图“一张图”桌面程序。下面是它所包含的软件、字体和数据及其许可证全文。"))
        blurb.setWordWrap(True)
        text_col = QVBoxLayout()
        for w in (title, self.build_label, blurb):
            text_col.addWidget(w)
        head.addLayout(text_col, 1)

        self.list = QListWidget()
        for lic in self.items:
            label = f"{lic.name} {lic.version}".strip() + f" — {lic.licence}"
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, lic.name)
            self.list.addItem(item)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        split = QSplitter()
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(QLabel(tr("所含组件（{n} 项）").format(n=len(self.items))))
        lv.addWidget(self.list)
        split.addWidget(left)
        split.addWidget(self.text)
        split.setSizes([320, 580])
        self.list.currentRowChanged.connect(self._show)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText(tr("关闭"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(head)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        if self.items:
            self.list.setCurrentRow(0)

    def names(self) -> list[str]:
        return [lic.name for lic in self.items]

    def select(self, name: str) -> str:
        """Select a component by name; returns the licence text shown."""
        self.list.setCurrentRow(self.names().index(name))
        return self.text.toPlainText()

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.items):
            lic = self.items[row]
            self.text.setPlainText(lic.text or tr("（未找到许可证文本）"))
            self.text.moveCursor(self.text.textCursor().MoveOperation.Start)
