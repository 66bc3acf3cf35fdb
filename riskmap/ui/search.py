"""The search box: enterprise name, address or town → zoom to it and flash it.

Suggestions complete as you type (any part of a name); Enter searches: a town name zooms to the town,
otherwise matching enterprises (name or address containing the text) are listed, and a single match is
selected, zoomed to and flashed. A lazy layer (too large to read whole: only the view's rows in memory) is
searched in the project (riskmap.store.layer_query.search), so a feature far outside the view is found too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QStringListModel, Qt, QTimer, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QMenu

from riskmap.store import layer_query
from riskmap.ui import lazy_query
from riskmap.ui.i18n import tr

MAX_LISTED = 30
LAZY_LIMIT = 500  # matches asked of a lazy layer
SUGGESTIONS = 20  # names a lazy layer suggests as the user types
SUGGEST_DELAY_MS = 250


@dataclass(frozen=True)
class SearchHit:
    layer_id: str
    feature_id: int
    label: str


def find(workspace, text: str) -> list[SearchHit]:
    """Towns whose name is ``text`` (or contains it), then enterprises whose name or address contains it."""
    text = text.strip()
    if not text:
        return []
    hits: list[SearchHit] = []
    if workspace.has_layer("towns") and lazy_query.is_lazy(workspace.layer("towns")):
        found, exact = _lazy_find(workspace, "towns", text)
        hits += found
        if exact:
            return hits
    elif workspace.has_layer("towns"):
        towns = workspace.layer("towns").gdf
        names = towns["name"].astype(str)
        exact = towns[names == text]
        part = exact if len(exact) else towns[names.str.contains(text, regex=False)]
        hits += [SearchHit("towns", int(i), n) for i, n in zip(part["id"], part["name"])]
        if len(exact):
            return hits
    if workspace.has_layer("enterprises") and lazy_query.is_lazy(workspace.layer("enterprises")):
        hits += _lazy_find(workspace, "enterprises", text)[0]
    elif workspace.has_layer("enterprises"):
        ents = workspace.layer("enterprises").gdf
        name = ents["name"].astype(str)
        addr = ents["address"].fillna("").astype(str) if "address" in ents else name.str.slice(0, 0)
        exact = (name == text).to_numpy()
        m = exact if exact.any() else (name.str.contains(text, regex=False) | addr.str.contains(text, regex=False)).to_numpy()
        for i in np.flatnonzero(m):
            row = ents.iloc[int(i)]
            hits.append(SearchHit("enterprises", int(row["id"]), f"{row['name']} — {row.get('address') or ''}"))
    return hits


def _lazy_find(workspace, layer_id: str, text: str) -> tuple[list[SearchHit], bool]:
    """Hits of a lazy layer found in the project (the exact name, else names and addresses containing the
    text) and whether they are exact."""
    layer = workspace.layer(layer_id)
    df = layer_query.search(lazy_query.project_of(layer, workspace), layer.layer_def, text, limit=LAZY_LIMIT)
    label = df["name"] if layer_id == "towns" else df["label"]
    hits = [SearchHit(layer_id, int(i), str(lab)) for i, lab in zip(df["id"], label)]
    return hits, bool(len(df)) and bool((df["name"] == text).all())


class SearchBox(QLineEdit):
    """A line edit with completion; emits ``found(layer id, feature id)`` for the chosen result."""

    found = Signal(str, int)
    nothingFound = Signal(str)

    def __init__(self, workspace, parent=None):
        super().__init__(parent)
        self.workspace = workspace
        self.setPlaceholderText(tr("搜索企业名称、地址或镇街"))
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(240)
        self.model = QStringListModel(self)
        self.completer_ = QCompleter(self.model, self)
        self.completer_.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer_.setFilterMode(Qt.MatchFlag.MatchContains)
        self.completer_.setMaxVisibleItems(15)
        self.setCompleter(self.completer_)
        self.completer_.activated.connect(self.search)
        self.returnPressed.connect(lambda: self.search(self.text()))
        self.last_hits: list[SearchHit] = []
        self._stale = True
        workspace.layersReset.connect(self.mark_stale)
        workspace.layerChanged.connect(lambda lid, what: what == "data" and self.mark_stale())
        self.textEdited.connect(lambda _t: self._stale and self.reload())
        self._words: list[str] = []
        self._suggest_gen = 0
        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.setInterval(SUGGEST_DELAY_MS)
        self._suggest_timer.timeout.connect(self._suggest_lazy)
        self.textEdited.connect(lambda _t: self._lazy_layers() and self._suggest_timer.start())

    def mark_stale(self) -> None:
        """The suggestions are rebuilt when the user next types (200k names take a while to sort)."""
        self._stale = True

    def focusInEvent(self, event) -> None:  # noqa: N802
        super().focusInEvent(event)
        if self._stale:
            self.reload()

    def reload(self) -> None:
        self._stale = False
        words: list[str] = []
        # a lazy layer holds only the view's rows: its names are not suggested (Enter searches the project)
        if self.workspace.has_layer("towns") and not lazy_query.is_lazy(self.workspace.layer("towns")):
            words += self.workspace.layer("towns").gdf["name"].dropna().astype(str).tolist()
        if self.workspace.has_layer("enterprises") and not lazy_query.is_lazy(self.workspace.layer("enterprises")):
            ents = self.workspace.layer("enterprises").gdf
            words += ents["name"].dropna().astype(str).tolist()
            if "address" in ents:
                words += ents["address"].dropna().astype(str).tolist()
        self._words = words
        self.model.setStringList(sorted(set(words)))

    # ---- suggestions from lazy layers: asked of the project as the user types (a pause of 250 ms)
    def _lazy_layers(self) -> list:
        ws = self.workspace
        return [ws.layer(k) for k in ("towns", "enterprises") if ws.has_layer(k) and lazy_query.is_lazy(ws.layer(k))]

    def _suggest_lazy(self) -> None:
        text = self.text().strip()
        layers = self._lazy_layers()
        if len(text) < 2 or not layers:
            return
        from riskmap.ui import tasks

        self._suggest_gen += 1
        gen = self._suggest_gen
        jobs = [(lazy_query.project_of(layer, self.workspace), layer.layer_def) for layer in layers]

        def work(progress, cancelled):
            names = []
            for project, ld in jobs:
                names += layer_query.search(project, ld, text, limit=SUGGESTIONS)["name"].astype(str).tolist()
            return names

        task = tasks.Task(work)
        task.succeeded.connect(lambda names: self._suggestions(gen, text, names))
        self._suggest_task = task
        lazy_query.start(task)

    def _suggestions(self, gen: int, text: str, names: list[str]) -> None:
        if gen != self._suggest_gen or self.text().strip() != text:
            return  # the user typed on
        self.lazy_suggestions = names
        self.model.setStringList(sorted(set(self._words) | set(names)))
        if names and self.hasFocus():
            self.completer_.setCompletionPrefix(self.text())
            self.completer_.complete()

    def search(self, text: str) -> list[SearchHit]:
        hits = find(self.workspace, text)
        self.last_hits = hits
        if not hits:
            self.nothingFound.emit(text)
            return hits
        if len(hits) == 1 or hits[0].label == text.strip() or (hits[0].layer_id == "towns" and len(hits) == 1):
            self.found.emit(hits[0].layer_id, hits[0].feature_id)
            return hits
        menu = QMenu(self)
        for h in hits[:MAX_LISTED]:
            menu.addAction(h.label, lambda h=h: self.found.emit(h.layer_id, h.feature_id))
        if len(hits) > MAX_LISTED:
            menu.addAction(tr("……另有 {n} 项，请输入更多文字").format(n=len(hits) - MAX_LISTED)).setEnabled(False)
        self.result_menu = menu
        menu.popup(self.mapToGlobal(self.rect().bottomLeft()))
        return hits
