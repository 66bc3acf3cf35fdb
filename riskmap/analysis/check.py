"""The planning check of a whole project: encroachments (GB 36894), high-consequence gas-pipeline segments
(GB 32167) and lifeline segments crossing red/orange zones or control lines — as text, JSON and XLSX.

>>> # report = run_check(project); print(report.to_text()); write_check_xlsx(report, "check.xlsx")
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from riskmap.analysis.encroachment import check_encroachments, describe_row
from riskmap.progress import Cancel, Progress, check_cancel
from riskmap.analysis.lifelines import high_consequence_segments, lifeline_crossings
from riskmap.analysis.measure import format_distance
from riskmap.analysis.sitecheck import level_name
from riskmap.scalars import plain_scalar


def frame_records(df: pd.DataFrame) -> list[dict]:
    return [{k: plain_scalar(v) for k, v in r.items()} for r in df.to_dict("records")]


OBJECT_LAYER = {"control_line": "control_lines", "contour": "risk_contours", "zone": "zones"}


def encroachment_rows(df: pd.DataFrame) -> list[dict]:
    """The encroachments as report rows: the data plus ``n``, ``class_zh`` (推定 marked), ``object_zh``,
    ``object_layer``, ``status_zh``, ``threshold_text``, ``risk_text``, ``depth_m`` and ``people`` (int or None)."""
    from riskmap.analysis.encroachment import OBJECT_ZH, format_risk
    from riskmap.analysis.standards import STATUS_ZH

    rows = []
    for i, r in enumerate(df.to_dict("records"), start=1):
        cls = r["class_zh"] + ("（按类型/人数推定）" if r.get("class_derived") else "")
        people = r.get("people")
        rows.append({**r, "n": i, "class_zh": cls, "object_zh": OBJECT_ZH.get(r["object_type"], r["object_type"]),
                     "object_layer": OBJECT_LAYER[r["object_type"]],
                     "status_zh": STATUS_ZH.get(r.get("installation_status") or "", ""),
                     "threshold_text": format_risk(r.get("threshold")), "risk_text": format_risk(r.get("risk_at_target")),
                     "depth_m": -r["distance_m"],
                     "people": None if people is None or pd.isna(people) else int(people)})
    return rows


def hca_rows(df: pd.DataFrame) -> list[dict]:
    """The high-consequence segments as report rows: the data plus ``n`` and ``pir_m`` (None when unknown)."""
    return [{**r, "n": i, "pir_m": None if r.get("pir_m") is None or pd.isna(r["pir_m"]) else r["pir_m"]}
            for i, r in enumerate(df.to_dict("records"), start=1)]


def crossing_rows(df: pd.DataFrame) -> list[dict]:
    """The crossings as report rows: the data plus ``n``, ``category_zh``, ``object_zh``, ``object_layer`` and
    ``level_name`` (a zone's level; '' for a control line)."""
    from riskmap.analysis.nearby import LIFELINE_ZH
    from riskmap.analysis.sitecheck import ZONE_KIND_ZH

    rows = []
    for i, r in enumerate(df.to_dict("records"), start=1):
        line = r["object_type"] == "control_line"
        rows.append({**r, "n": i, "category_zh": LIFELINE_ZH.get(r["category"], r["category"]),
                     "object_zh": "安全控制线" if line else ZONE_KIND_ZH.get(r["object_kind"], r["object_kind"]),
                     "object_layer": OBJECT_LAYER[r["object_type"]],
                     "level_name": "" if line else level_name(r["object_level"])})
    return rows


@dataclass
class CheckReport:
    project_name: str
    demo: bool
    encroachments: pd.DataFrame
    high_consequence: pd.DataFrame
    crossings: pd.DataFrame

    def to_json(self) -> dict:
        return {"project": self.project_name, "demo": self.demo,
                "encroachments": frame_records(self.encroachments),
                "high_consequence_segments": frame_records(self.high_consequence),
                "crossings": frame_records(self.crossings)}

    def summary(self) -> dict:
        """The counts every form of the report gives: encroachments (and the targets and people they
        concern), high-consequence segments and pairs, crossings and the segments that cross."""
        enc, hca, cr = self.encroachments, self.high_consequence, self.crossings
        people = int(pd.to_numeric(enc.drop_duplicates("target_id")["people"], errors="coerce").fillna(0).sum()) \
            if len(enc) else 0
        return {"encroachments": len(enc), "targets": int(enc["target_id"].nunique()) if len(enc) else 0,
                "people": people, "hca_segments": int(hca["segment_id"].nunique()) if len(hca) else 0,
                "hca_pairs": len(hca), "crossing_segments": int(cr["segment_id"].nunique()) if len(cr) else 0,
                "crossings": len(cr)}

    def to_text(self) -> str:
        out = [f"规划检查 Planning check: {self.project_name}" + ("  [示例数据 demo data]" if self.demo else "")]
        sm = self.summary()
        out.append(f"\n一、防护目标侵占（GB 36894）Encroachments: {sm['encroachments']} 处，涉及防护目标 "
                   f"{sm['targets']} 个、{sm['people']} 人")
        for r in encroachment_rows(self.encroachments):
            out.append(f"  {r['n']}. {describe_row(r)}")
        out.append(f"\n二、输气管道高后果区（GB 32167）High-consequence segments: {sm['hca_segments']} 段")
        for r in hca_rows(self.high_consequence):
            pir = f"潜在影响半径 {r['pir_m']:.1f} m，" if r["pir_m"] is not None else ""
            out.append(f"  {r['segment_name']}（Φ{r['diameter_mm']:g} mm，{r['pressure_mpa']:g} MPa，{pir}"
                       f"准则 {r['rule']}，识别半径 {r['radius_m']:.1f} m）：{r['target_name']} 距 "
                       f"{format_distance(r['distance_m'])}")
        cr = self.crossings
        out.append(f"\n三、生命线穿越红橙风险区及安全控制线 Crossings: {sm['crossing_segments']} 段，{sm['crossings']} 处")
        for sid, grp in cr.groupby("segment_id", sort=False):
            parts = []
            for kind, sub in grp.groupby("object_type", sort=False):
                if kind == "control_line":
                    label = "安全控制线"
                    names = "、".join(f"{n}（{format_distance(m)}）" for n, m in zip(sub["object_name"], sub["length_m"]))
                    parts.append(f"{label} {names}")
                else:
                    for lvl, s2 in sub.groupby("object_level", sort=True):
                        names = "、".join(f"{n}（{format_distance(m)}）" for n, m in zip(s2["object_name"], s2["length_m"]))
                        parts.append(f"{level_name(lvl)}区 {names}")
            first = grp.iloc[0]
            out.append(f"  {first['segment_name'] or sid}（#{sid}）穿越 " + "；".join(parts))
        return "\n".join(out)


def run_check(project, *, progress: Progress | None = None, cancel: Cancel | None = None) -> CheckReport:
    progress = progress or (lambda f, m: None)
    progress(0.0, "侵占检查")
    enc = check_encroachments(project, cancel=cancel)
    check_cancel(cancel)
    progress(0.5, "高后果区")
    hca = high_consequence_segments(project)
    check_cancel(cancel)
    progress(0.75, "生命线穿越")
    cr = lifeline_crossings(project)
    progress(1.0, "完成")
    return CheckReport(project.name, project.is_demo, enc, hca, cr)
