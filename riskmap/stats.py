"""Statistics of a project: enterprises by level × industry × town, open and overdue hidden dangers.

The town of an enterprise is the town zone that contains its location (so the numbers agree with the map);
an enterprise outside every town zone keeps the town written in its record, else 未知.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from riskmap.dangers import GRADE_ZH, OPEN, STATUS_ZH, danger_table
from riskmap.grading.zoning import assign
from riskmap.industries import industry_name, load_industries

LEVEL_KEYS = ("1", "2", "3", "4", "none")
UNKNOWN_TOWN = "未知"


def enterprise_frame(project) -> pd.DataFrame:
    """Enterprises with ``level_key`` (1–4 or none), ``industry`` and ``town`` (by location)."""
    ents = project.read_table("enterprises", columns=["id", "name", "industry", "town", "level"])
    towns = project.read_table("zones", where="kind = 'town'", columns=["id", "name"])
    town = np.array([t if isinstance(t, str) and t.strip() else UNKNOWN_TOWN for t in ents["town"]], dtype=object)
    if len(towns) and len(ents):
        pt, zn = assign(ents.geometry.values, towns.geometry.values)
        first = pd.Series(zn, index=pt).groupby(level=0).min()  # a point on a shared border: the first town
        town[first.index.to_numpy()] = towns["name"].to_numpy()[first.to_numpy()]
    lv = ents["level"]
    key = np.array(["none" if v is None or v != v else str(int(v)) for v in lv], dtype=object)
    return pd.DataFrame({"id": ents["id"].to_numpy(), "industry": ents["industry"].to_numpy(), "town": town,
                         "level_key": key})


def _by(df: pd.DataFrame, col: str) -> dict:
    tab = pd.crosstab(df[col], df["level_key"]).reindex(columns=list(LEVEL_KEYS), fill_value=0)
    return {str(k): {lk: int(v) for lk, v in row.items()} | {"total": int(row.sum())} for k, row in tab.iterrows()}


def project_stats(project, today: dt.date | None = None, *, frame: pd.DataFrame | None = None) -> dict:
    """Counts by level, by level × industry, by level × town, the full level × industry × town table,
    and hidden dangers: open (not 销号) and overdue (relative to ``today``) by grade and status.
    ``frame``: the project's :func:`enterprise_frame` when the caller has it already."""
    today = today or dt.date.today()
    df = enterprise_frame(project) if frame is None else frame
    by_level = {k: int((df["level_key"] == k).sum()) for k in LEVEL_KEYS}
    triples = (df.groupby(["level_key", "industry", "town"]).size().reset_index(name="count")
               .sort_values(["level_key", "industry", "town"]))
    inds = load_industries()
    table = [{"level": r.level_key, "industry": r.industry,
              "industry_name": industry_name(r.industry) if r.industry in inds else r.industry,
              "town": r.town, "count": int(r.count)} for r in triples.itertuples()]
    d = danger_table(project, today)
    open_d = d[d["status"].isin(OPEN)]
    overdue = d[d["overdue"]]
    dangers = {
        "today": today.isoformat(),
        "total": int(len(d)),
        "open": int(len(open_d)),
        "open_by_grade": {g: int((open_d["grade"] == g).sum()) for g in GRADE_ZH},
        "by_status": {s: int((d["status"] == s).sum()) for s in STATUS_ZH},
        "overdue": int(len(overdue)),
        "overdue_by_grade": {g: int((overdue["grade"] == g).sum()) for g in GRADE_ZH},
        "overdue_list": [{"id": int(r.id), "title": r.title, "enterprise": r.enterprise, "grade": r.grade,
                          "status": r.status, "deadline": str(r.deadline)} for r in overdue.itertuples()],
    }
    return {"project": project.name, "demo": project.is_demo, "enterprises": int(len(df)),
            "by_level": by_level, "by_industry": _by(df, "industry"), "by_town": _by(df, "town"),
            "level_industry_town": table, "hidden_dangers": dangers}
