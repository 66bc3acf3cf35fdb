"""Encroachment check (GB 36894-2018): protected targets inside the risk contour or control line of their class.

A target of class k near an installation of status s (new / in service) encroaches when it lies inside a
contour whose individual risk is at least the class limit T(k, s) from ``gb36894.toml`` — the T contour or a
more severe one. The contour reported is the least severe such contour of that installation (the limit line
itself when it was imported); ``risk_at_target`` is the most severe contour the target lies in.
A target inside a control line encroaches when the line applies to its class (``applies_to`` empty = all).

``distance_m`` is the signed ground distance from the target to the line: **negative inside** (−120 means
120 m inside the line), measured in the project's Gauss–Krüger CRS and corrected for grid scale.

>>> # df = check_encroachments(project); df[["target_name", "object_name", "distance_m"]]
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from riskmap.analysis.geodesy import ground_distance, project_epsg, to_metric
from riskmap.analysis.standards import STATUS_ZH, GB36894, load_gb36894, normalise_status
from riskmap.progress import Cancel, Progress, check_cancel

COLUMNS = ["target_id", "target_name", "target_kind", "target_class", "class_zh", "class_derived", "people",
           "object_type", "object_id", "object_name", "enterprise_id", "owner_name", "facility",
           "installation_status", "threshold", "line_risk", "risk_at_target", "distance_m", "source_doc"]
OBJECT_ZH = {"contour": "个人风险等值线", "control_line": "安全控制线"}
_SUP = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def format_risk(value) -> str:
    """``3e-07`` → ``3×10⁻⁷``."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    mant, exp = f"{float(value):.1e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}×10{str(int(exp)).translate(_SUP)}"


def parse_applies_to(text, gb: GB36894) -> frozenset | None:
    """A control line's ``applies_to`` ("high_sensitive, general_1" or 高敏感、一类) → class codes; None = all."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text).strip():
        return None
    parts = [p for p in re.split(r"[,，;；、\s]+", str(text)) if p]
    if any(p.lower() in ("all", "全部", "所有") for p in parts):
        return None
    return frozenset(gb.parse_class(p) for p in parts)


def target_classes(targets: pd.DataFrame, gb: GB36894) -> tuple[np.ndarray, np.ndarray]:
    """Each target's class (recorded if valid, else derived) and whether it was derived."""
    recorded = targets["gb36894_class"].to_numpy(dtype=object) if "gb36894_class" in targets else \
        np.full(len(targets), None, dtype=object)
    kinds = targets["kind"].to_numpy(dtype=object) if "kind" in targets else np.full(len(targets), None)
    people = targets["people"].to_numpy(dtype=object) if "people" in targets else np.full(len(targets), None)
    out = np.empty(len(targets), dtype=object)
    derived = np.zeros(len(targets), dtype=bool)
    for i, (c, k, n) in enumerate(zip(recorded, kinds, people)):
        if isinstance(c, str) and c in gb.classes:
            out[i] = c
        else:
            out[i] = gb.derive_class(k, n)
            derived[i] = True
    return out, derived


def _signed_distance(points_m: np.ndarray, polys_m: np.ndarray, epsg: int) -> np.ndarray:
    """Ground distance from each point to its polygon's boundary, negative when inside."""
    if len(points_m) == 0:
        return np.empty(0)
    d = ground_distance(points_m, shapely.boundary(polys_m), epsg)
    inside = shapely.intersects(points_m, polys_m)
    return np.where(inside, -d, d)


def find_encroachments(targets, contours, lines, epsg: int, *, gb: GB36894 | None = None,
                       owner_names: dict | None = None, cancel: Cancel | None = None) -> pd.DataFrame:
    """The encroachments of ``targets`` by ``contours`` and control ``lines`` (GeoDataFrames in EPSG:4490).

    ``owner_names``: {("enterprise", id) | ("park", id): name} for the report.
    """
    gb = gb or load_gb36894()
    owner_names = owner_names or {}
    rows = []
    if len(targets) == 0:
        return pd.DataFrame(columns=COLUMNS)
    cls, derived = target_classes(targets, gb)
    t_geom = to_metric(targets.geometry.to_numpy(), epsg)
    t_ids = targets["id"].to_numpy()
    t_names = targets["name"].to_numpy(dtype=object)
    t_kinds = targets["kind"].to_numpy(dtype=object) if "kind" in targets else np.full(len(targets), None)
    t_people = targets["people"].to_numpy(dtype=object) if "people" in targets else np.full(len(targets), None)
    class_codes = list(gb.classes)
    cls_idx = np.array([class_codes.index(c) for c in cls])
    lim_new = np.array([gb.classes[c].new for c in class_codes])
    lim_old = np.array([gb.classes[c].in_service for c in class_codes])

    def base(ti: int) -> dict:
        people = t_people[ti]
        return {"target_id": int(t_ids[ti]), "target_name": t_names[ti], "target_kind": t_kinds[ti],
                "target_class": cls[ti], "class_zh": gb.class_zh(cls[ti]), "class_derived": bool(derived[ti]),
                "people": None if people is None or pd.isna(people) else int(people)}

    # ---- risk contours
    if contours is not None and len(contours):
        check_cancel(cancel)
        c_geom = to_metric(contours.geometry.to_numpy(), epsg)
        ti, ci = STRtree(c_geom).query(t_geom, predicate="intersects")
        if len(ti):
            status = np.array([normalise_status(s or "in_service") for s in contours["installation_status"]])
            risk = contours["individual_risk"].to_numpy(dtype=float)
            limit = np.where(status[ci] == "new", lim_new[cls_idx[ti]], lim_old[cls_idx[ti]])
            ok = risk[ci] >= limit * (1 - 1e-9)
            ent = contours["enterprise_id"].to_numpy(dtype=object)
            fac = contours["facility"].to_numpy(dtype=object)
            pairs = pd.DataFrame({"ti": ti, "ci": ci, "risk": risk[ci], "limit": limit, "ok": ok,
                                  "group": [f"{ent[c]}|{fac[c]}|{status[c]}" for c in ci]})
            worst = pairs.groupby(["ti", "group"])["risk"].max()
            hits = pairs[pairs["ok"]].sort_values("risk").groupby(["ti", "group"], sort=False).first()
            if len(hits):
                h_ti = hits.index.get_level_values(0).to_numpy()
                h_ci = hits["ci"].to_numpy()
                dist = _signed_distance(t_geom[h_ti], c_geom[h_ci], epsg)
                c_ids = contours["id"].to_numpy()
                docs = contours["source_doc"].to_numpy(dtype=object)
                for (t, g), c, lim, d in zip(hits.index, h_ci, hits["limit"].to_numpy(), dist):
                    e = ent[c]
                    e = None if e is None or pd.isna(e) else int(e)
                    owner = owner_names.get(("enterprise", e), "") if e is not None else ""
                    label = "".join(x for x in (owner, fac[c] or "") if x)
                    rows.append({**base(t), "object_type": "contour", "object_id": int(c_ids[c]),
                                 "object_name": f"{label + ' ' if label else ''}个人风险 {format_risk(risk[c])}/年 等值线",
                                 "enterprise_id": e, "owner_name": owner, "facility": fac[c],
                                 "installation_status": status[c], "threshold": float(lim), "line_risk": float(risk[c]),
                                 "risk_at_target": float(worst.loc[(t, g)]), "distance_m": float(d),
                                 "source_doc": docs[c]})

    # ---- control lines
    if lines is not None and len(lines):
        check_cancel(cancel)
        l_geom = to_metric(lines.geometry.to_numpy(), epsg)
        ti, li = STRtree(l_geom).query(t_geom, predicate="intersects")
        if len(ti):
            applies = [parse_applies_to(a, gb) for a in lines["applies_to"]] if "applies_to" in lines else \
                [None] * len(lines)
            keep = np.array([applies[l] is None or cls[t] in applies[l] for t, l in zip(ti, li)], dtype=bool)
            ti, li = ti[keep], li[keep]
            dist = _signed_distance(t_geom[ti], l_geom[li], epsg)
            l_ids = lines["id"].to_numpy()
            names = lines["name"].to_numpy(dtype=object)
            docs = lines["source_doc"].to_numpy(dtype=object)
            ents = lines["enterprise_id"].to_numpy(dtype=object) if "enterprise_id" in lines else [None] * len(lines)
            parks = lines["park_zone_id"].to_numpy(dtype=object) if "park_zone_id" in lines else [None] * len(lines)
            for t, l, d in zip(ti, li, dist):
                e = None if ents[l] is None or pd.isna(ents[l]) else int(ents[l])
                p = None if parks[l] is None or pd.isna(parks[l]) else int(parks[l])
                owner = owner_names.get(("enterprise", e), "") if e is not None else \
                    owner_names.get(("park", p), "") if p is not None else ""
                rows.append({**base(t), "object_type": "control_line", "object_id": int(l_ids[l]),
                             "object_name": names[l], "enterprise_id": e, "owner_name": owner, "facility": None,
                             "installation_status": None, "threshold": None, "line_risk": None,
                             "risk_at_target": None, "distance_m": float(d), "source_doc": docs[l]})
    df = pd.DataFrame(rows, columns=COLUMNS)
    if len(df):
        df = df.sort_values(["object_type", "object_id", "distance_m", "target_id"], ignore_index=True)
    return df


def owner_names(project, enterprises: pd.DataFrame | None = None) -> dict:
    """{("enterprise"|"park", id): name}; ``enterprises`` (id, name) when the caller has read them already."""
    ents = project.read_table("enterprises", columns=["id", "name"]) if enterprises is None else enterprises
    parks = project.read_table("zones", columns=["id", "name"],
                               where="kind NOT IN ('town', 'village', 'grid', 'county', 'city', 'province')")
    out = {("enterprise", int(i)): n for i, n in zip(ents["id"], ents["name"])}
    out.update({("park", int(i)): n for i, n in zip(parks["id"], parks["name"])})
    return out


def check_encroachments(project, *, progress: Progress | None = None, cancel: Cancel | None = None) -> pd.DataFrame:
    """Every encroachment in the project (see the module docstring for the columns' meaning)."""
    progress = progress or (lambda f, m: None)
    progress(0.0, "读取防护目标")
    targets = project.read_table("protected_targets")
    contours = project.read_table("risk_contours")
    lines = project.read_table("control_lines")
    check_cancel(cancel)
    progress(0.3, "侵占检查")
    df = find_encroachments(targets, contours, lines, project_epsg(project), owner_names=owner_names(project),
                            cancel=cancel)
    progress(1.0, "完成")
    return df


def describe_row(row) -> str:
    """One line of text for a report: who is inside what, by how much, against which limit."""
    depth = -row["distance_m"]
    where = f"内，距边界 {depth:.1f} m" if depth >= 0 else f"外 {-depth:.1f} m"
    people = f"{row['people']}人" if row.get("people") is not None and not pd.isna(row.get("people")) else "人数不详"
    text = f"{row['target_name']}（{row['class_zh']}，{people}）位于{row['object_name']}{where}"
    if row["object_type"] == "contour":
        text += (f"；{STATUS_ZH.get(row['installation_status'], row['installation_status'])}装置风险基准 "
                 f"{format_risk(row['threshold'])}/年，该点风险不低于 {format_risk(row['risk_at_target'])}/年")
    if row.get("source_doc"):
        text += f"；依据：{row['source_doc']}"
    return text
