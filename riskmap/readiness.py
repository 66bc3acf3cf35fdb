"""First steps of a project: what is there and what is missing before its 一张图 is complete.

:func:`first_steps` answers, for an open project, eight questions in order — boundary, towns (missing, 示意
or real), enterprises, located, graded, zoned, control lines, lifelines — each as a :class:`Step` with a
line of detail in Chinese and English and the id of the desktop action that fills it. Counts come from a
few SQL aggregates, so asking again after every change is cheap.

>>> s = Step("enterprises", "企业", "Enterprises", False, "尚无企业", "no enterprises yet", "import_enterprises")
>>> (s.key, s.done, s.action)
('enterprises', False, 'import_enterprises')
"""

from __future__ import annotations

from dataclasses import dataclass

from riskmap.grading.zoning import UNIT_ZH, zoned_units
from riskmap.layers import approximate_kinds

BOUNDARY_KINDS = ("county", "city", "province")
UNIT_EN = {"county": "counties", "town": "towns", "village": "villages", "grid": "grid cells", "park": "parks",
           "custom": "custom areas"}


@dataclass(frozen=True)
class Step:
    """One first step: ``done`` when nothing is left to do; ``action`` is the id of the desktop action that
    fills it ("" while an earlier step must come first, e.g. locating before any enterprise), ``more``
    further actions that can (e.g. towns: import a file, or generate them)."""

    key: str
    title_zh: str
    title_en: str
    done: bool
    detail_zh: str
    detail_en: str
    action: str
    more: tuple[str, ...] = ()

    def title(self, lang: str = "zh") -> str:
        return self.title_en if lang == "en" else self.title_zh

    def detail(self, lang: str = "zh") -> str:
        return self.detail_en if lang == "en" else self.detail_zh


def counts(project) -> dict[str, int]:
    """The figures the steps are made of: zones by kind, enterprises (all, without a location, without a
    level), control lines, lifelines (lines and points)."""
    out: dict[str, int] = {}
    with project.engine.connect() as conn:
        for kind, n in conn.exec_driver_sql("SELECT kind, count(*) FROM zones GROUP BY kind"):
            out[f"zones.{kind}"] = int(n)
        row = conn.exec_driver_sql(
            "SELECT count(*), coalesce(sum(CASE WHEN geom IS NULL THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN level IS NULL THEN 1 ELSE 0 END), 0) FROM enterprises").one()
        out["enterprises"], out["unlocated"], out["unassessed"] = (int(v) for v in row)
        for table in ("control_lines", "lifelines", "lifeline_points"):
            out[table] = int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() or 0)
    return out


def first_steps(project) -> list[Step]:
    """The project's first steps, in the order a bureau takes them."""
    c = counts(project)
    meta = project.meta()
    zones = {k[len("zones."):]: n for k, n in c.items() if k.startswith("zones.")}
    approx = approximate_kinds(meta)
    steps = []

    # boundary
    n_boundary = sum(zones.get(k, 0) for k in BOUNDARY_KINDS)
    place = meta.get("place_name") or ""
    if n_boundary:
        zh, en = (f"{place}：已有边界", f"{place}: boundary present") if place else ("已有边界", "boundary present")
    else:
        zh, en = "没有县界：请新建项目或导入县界", "no boundary: create a project for the place or import one"
    steps.append(Step("boundary", "行政区边界", "Boundary", bool(n_boundary), zh, en, "new_project"))

    # towns (a city project zones its counties instead)
    n_towns, n_grids, n_counties = zones.get("town", 0), zones.get("grid", 0), zones.get("county", 0)
    level = meta.get("place_level")
    if level == "city" and n_counties:
        done, zh, en = True, f"{n_counties} 个区县作为分区单元", f"{n_counties} counties as zoning units"
    elif level == "province" and zones.get("city", 0):
        n_cities = zones["city"]
        done, zh, en = True, f"{n_cities} 个地市作为分区单元", f"{n_cities} cities as zoning units"
    elif n_towns and "town" in approx:
        done = False
        zh = f"{n_towns} 个镇街为示意范围（由驻地生成），导入正式镇街边界后替换"
        en = f"{n_towns} towns are approximate (from town seats); import the real town boundaries to replace them"
    elif n_towns:
        done, zh, en = True, f"{n_towns} 个镇街", f"{n_towns} towns"
    else:
        done = False
        zh, en = "尚无镇街边界：导入镇街文件，或由镇街驻地生成示意范围、生成网格", \
            "no town boundaries: import a town file, or generate approximate towns from seats, or a grid"
    if n_grids:
        zh += f"；{n_grids} 个网格"
        en += f"; {n_grids} grid cells"
    steps.append(Step("towns", "镇街", "Towns", done, zh, en, "import_towns", ("towns_from_seats", "make_grid")))

    # enterprises, located, graded
    n, unlocated, unassessed = c["enterprises"], c["unlocated"], c["unassessed"]
    steps.append(Step("enterprises", "企业", "Enterprises", n > 0,
                      f"{n} 家企业" if n else "尚无企业：导入企业名单",
                      f"{n} enterprises" if n else "no enterprises yet: import the enterprise list",
                      "import_enterprises"))
    steps.append(Step("located", "定位", "Located", n > 0 and unlocated == 0,
                      f"已定位 {n - unlocated} / {n} 家；未定位 {unlocated} 家" if n else "尚无企业",
                      f"{n - unlocated} of {n} located; {unlocated} unlocated" if n else "no enterprises yet",
                      "locate_tool" if n else "", ("locate_file",) if n else ()))
    steps.append(Step("graded", "风险等级", "Graded", n > 0 and unassessed == 0,
                      f"已评估 {n - unassessed} / {n} 家；未评估 {unassessed} 家" if n else "尚无企业",
                      f"{n - unassessed} of {n} graded; {unassessed} not assessed" if n else "no enterprises yet",
                      "unassessed_table" if n else "", ("import_enterprises",) if n else ()))

    # zoned
    units = [u for u in zoned_units(project) if u in UNIT_ZH]
    if units:
        zh = "已分区：" + "、".join(UNIT_ZH[u] for u in units)
        en = "levelled: " + ", ".join(UNIT_EN.get(u, u) for u in units)
    else:
        zh, en = "尚未进行风险分区", "no zoning unit levelled yet"
    steps.append(Step("zoned", "风险分区", "Zoned", bool(units), zh, en, "zoning_panel"))

    # control lines, lifelines
    k = c["control_lines"]
    steps.append(Step("control_lines", "安全控制线", "Control lines", k > 0,
                      f"{k} 条控制线" if k else "尚无安全控制线", f"{k} control lines" if k else "no control lines yet",
                      "control_lines" if n else ""))
    lines, points = c["lifelines"], c["lifeline_points"]
    steps.append(Step("lifelines", "生命线", "Lifelines", lines + points > 0,
                      f"{lines} 条管线、{points} 个设施" if lines + points else "尚无生命线",
                      f"{lines} lines, {points} facilities" if lines + points else "no lifelines yet",
                      "import_lifelines"))
    return steps


def is_complete(project) -> bool:
    """True when every first step is done."""
    return all(s.done for s in first_steps(project))
