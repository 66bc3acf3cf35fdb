"""The records about one feature, by id: an enterprise's 5个清单, risk points, assessment history and hidden
dangers; the objects that decided a zone's level; a hidden danger's steps. What the identify panel shows.

>>> # lists = enterprise_lists(project, 12); hist = assessment_history(project, 12)
"""

from __future__ import annotations

import json

import pandas as pd

from riskmap.grading.enterprise import enterprise_history
from riskmap.model import Enterprise

HISTORY_COLUMNS = ["id", "assessed_at", "risk_point_id", "point_name", "method", "level", "score", "explanation",
                   "assessor"]


def _of(project, table: str, key: str, value: int, columns: list[str] | None = None) -> pd.DataFrame:
    """Rows of ``table`` whose ``key`` equals the integer ``value``, in id order, without geometry."""
    df = project.read_table(table, where=f"{key} = {int(value)}", columns=columns)
    return pd.DataFrame(df.drop(columns="geometry", errors="ignore")).sort_index()


def enterprise_lists(project, enterprise_id: int) -> dict[str, list[dict]]:
    """The 5个清单 of an enterprise: kind → the content of each list (a dict; plain text as ``{"": text}``)."""
    out: dict[str, list[dict]] = {}
    for kind, content in zip(*(_of(project, "enterprise_lists", "enterprise_id", enterprise_id)[c]
                               for c in ("kind", "content"))):
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except ValueError:
                content = {"": content}
        out.setdefault(kind, []).append(content or {})
    return out


def risk_points(project, enterprise_id: int) -> pd.DataFrame:
    """The risk points and hazard sources of an enterprise."""
    return _of(project, "risk_points", "enterprise_id", enterprise_id)


def assessment_history(project, enterprise_id: int) -> pd.DataFrame:
    """Every assessment record about an enterprise and its risk points, newest first (``point_name`` None:
    the enterprise itself)."""
    with project.reader() as session:
        ent = session.get(Enterprise, int(enterprise_id))
        records = [] if ent is None else enterprise_history(session, ent, every_record=True)
        names = {} if ent is None else {rp.id: rp.name for rp in ent.risk_points}
        rows = [{"id": a.id, "assessed_at": a.assessed_at, "risk_point_id": a.risk_point_id,
                 "point_name": names.get(a.risk_point_id), "method": a.method, "level": a.level, "score": a.score,
                 "explanation": a.explanation, "assessor": a.assessor} for a in reversed(records)]
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def enterprise_dangers(project, enterprise_id: int) -> pd.DataFrame:
    """The hidden dangers of an enterprise."""
    return _of(project, "hidden_dangers", "enterprise_id", enterprise_id)


def zone_decisions(project, zone_id: int, limit: int = 200) -> tuple[int, pd.DataFrame]:
    """(how many objects decided a zone's level, the first ``limit`` of them with ``name``: the enterprise's name,
    else ``None``)."""
    dec = _of(project, "zone_decisions", "zone_id", zone_id)
    shown = dec.head(limit).copy()
    is_ent = (shown["object_table"] == "enterprises").to_numpy() if len(shown) else []
    ids = shown.loc[is_ent, "object_id"].astype(int).tolist() if len(shown) else []
    names = {}
    if ids:
        got = project.read_arrays("enterprises", ["id", "name"], ids=ids)
        names = dict(zip(got["id"].astype(int).tolist(), got["name"].tolist()))
    shown["name"] = [names.get(int(i)) if e else None for i, e in zip(shown["object_id"], is_ent)] if len(shown) \
        else pd.Series(dtype=object)
    return len(dec), shown


def danger_events(project, danger_id: int) -> pd.DataFrame:
    """The steps of a hidden danger, oldest first."""
    return _of(project, "hidden_danger_events", "danger_id", danger_id)
