"""A newer enterprise list against the project: which rows are new, which change an enterprise the
project has (and which fields), which change nothing, and which enterprises the list no longer names.

Rows are matched by :func:`riskmap.io.matching.match_rows` (统一社会信用代码, else name + town). A blank
cell never clears a stored value, an industry the list does not name (其他 by default) never replaces a
stored one, and a point is only replaced by a row that has one. Nothing is deleted here: the importer
deletes the missing enterprises only when asked to (``--delete-missing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from riskmap.io.matching import EnterpriseIndex, match_rows

COMPARED = ("name", "credit_code", "industry", "industry_detail", "town", "zone_id", "address", "employees",
            "department", "legal_person", "contact", "phone", "major_hazard", "level")
READ = ("id", "version") + COMPARED
SAME_POINT_DEG = 1e-7  # about 1 cm: a point read back from the file is the same point

FIELD_ZH = {"name": "名称", "credit_code": "统一社会信用代码", "industry": "行业", "industry_detail": "行业细类",
            "town": "乡镇", "zone_id": "所属分区", "address": "地址", "employees": "从业人数", "department": "监管部门",
            "legal_person": "法定代表人", "contact": "联系人", "phone": "联系电话", "major_hazard": "重大危险源",
            "level": "风险等级", "geom": "位置"}


@dataclass
class UpdatePlan:
    """The list compared with the project's enterprises (nothing written)."""

    match: np.ndarray  # per source row: the id of the enterprise it names, -1 for a new one
    changes: dict[int, dict[str, tuple]] = field(default_factory=dict)  # row index → {field: (old, new)}
    unchanged: list[int] = field(default_factory=list)  # row indexes that change nothing
    missing: pd.DataFrame | None = None  # id, name, town of the enterprises the list does not name
    versions: dict[int, int] = field(default_factory=dict)  # id → version as read
    levels: dict[int, int | None] = field(default_factory=dict)  # id → level as read

    @property
    def n_new(self) -> int:
        return int((self.match < 0).sum())


def current_enterprises(project) -> pd.DataFrame:
    """The project's enterprises with the compared columns and their point (``geometry``)."""
    df = project.read_table("enterprises", columns=list(READ))
    out = pd.DataFrame({c: df[c].to_numpy(dtype=object) for c in READ})
    out["geometry"] = df.geometry.to_numpy() if hasattr(df, "geometry") else None
    return out


def _plain(v):
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _same(old, new) -> bool:
    if old is None:
        return False
    if isinstance(new, bool) or isinstance(old, bool):
        return bool(old) == bool(new)
    if isinstance(new, (int, float)) and isinstance(old, (int, float)):
        return float(old) == float(new)
    return str(old) == str(new)


def plan_updates(current: pd.DataFrame, values: pd.DataFrame, geoms: np.ndarray, rows_ok: np.ndarray,
                 keep_industry: np.ndarray, match: np.ndarray | None = None) -> UpdatePlan:
    """Match every row and compare the ``rows_ok`` ones with the enterprise they name.

    ``keep_industry`` marks rows whose industry was not named by the list (blank or unknown): they keep
    the stored industry."""
    if match is None:
        match = match_rows(EnterpriseIndex(current), values)
    plan = UpdatePlan(match=match)
    if not len(current):
        plan.missing = current[["id", "name", "town"]].iloc[0:0]
        return plan
    ids = current["id"].to_numpy().astype(np.int64)
    pos = {int(i): k for k, i in enumerate(ids)}
    plan.versions = {int(i): int(v) for i, v in zip(ids, current["version"].to_numpy())}
    plan.levels = {int(i): _plain(v) for i, v in zip(ids, current["level"].to_numpy(dtype=object))}
    cols = {f: current[f].to_numpy(dtype=object) for f in COMPARED}
    new_cols = {}
    for f in COMPARED:  # only the fields the list fills
        if f in values:
            col = values[f].to_numpy(dtype=object)
            if any(v is not None and v == v for v in col):
                new_cols[f] = col
    old_geoms = current["geometry"].to_numpy()
    for i in np.flatnonzero((match >= 0) & rows_ok):
        k = pos[int(match[i])]
        diff = {}
        for f, new in new_cols.items():
            if f == "industry" and keep_industry[i]:
                continue
            v = new[i]
            old = cols[f][k]
            if v.__class__ is str and old.__class__ is str:  # most cells: no conversions
                if v != old:
                    diff[f] = (old, v)
                continue
            v = _plain(v)
            if v is None:
                continue
            old = _plain(old)
            if not _same(old, v):
                diff[f] = (old, v)
        g = geoms[i]
        if g is not None:
            og = old_geoms[k]
            if og is None or og.is_empty or not shapely.equals_exact(og, g, tolerance=SAME_POINT_DEG):
                diff["geom"] = (None if og is None or og.is_empty else og, g)
        if diff:
            plan.changes[int(i)] = diff
        else:
            plan.unchanged.append(int(i))
    named = set(int(m) for m in match[match >= 0])
    gone = np.array([int(i) not in named for i in ids], dtype=bool)
    plan.missing = current.loc[gone, ["id", "name", "town"]].reset_index(drop=True)
    return plan


def describe_change(diff: dict[str, tuple]) -> str:
    """"风险等级 3→2；地址" (fields in Chinese; short values shown)."""
    parts = []
    for f, (old, new) in diff.items():
        name = FIELD_ZH.get(f, f)
        if f in ("level", "employees", "industry", "major_hazard"):
            parts.append(f"{name} {'空' if old is None else old}→{new}")
        else:
            parts.append(name)
    return "；".join(parts)


__all__ = ["COMPARED", "UpdatePlan", "current_enterprises", "describe_change", "plan_updates"]
