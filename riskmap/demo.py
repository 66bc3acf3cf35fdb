"""Demo projects: a real county boundary filled with fictitious towns, grids and enterprises.

Everything inside the boundary is invented (names start with 示例) and the project is marked as demo, so
that every export says 示例数据. The same seed gives the same project.

>>> # riskmap.demo.make_demo("huining.gpkg", place="会宁县", seed=1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree

from riskmap.crs import to_geographic, to_metric
from riskmap.errors import RiskmapError
from riskmap.industries import load_industries
from riskmap.model import (
    ControlLine, EmergencyResource, Enterprise, EnterpriseList, HiddenDanger, HiddenDangerEvent,
    LifelinePoint, LifelineSegment, ProtectedTarget, RiskPoint, SafetyDistance, Substance, Zone,
)
from riskmap.places import Place, find_place
from riskmap.progress import Progress
from riskmap.store import Project

# Enterprise counts per industry. 会宁县 follows its plan (003 L22): 危化 174 = 加油站 24 + 氧气站 1 +
# 烟花爆竹批发 1 + 零售 148; 工贸 23; 非煤矿山 5. The other places have no such count in their plans:
# their numbers are invented, of a plausible size.
HUINING = {
    "gas_station": 24, "oxygen_station": 1, "fireworks_wholesale": 1, "fireworks_retail": 148,
    "dust_explosion": 8, "ammonia_refrigeration": 4, "confined_space": 8, "metallurgy": 3,
    "non_coal_mine": 5, "construction": 12, "crowded_place": 16, "special_equipment": 6, "charging": 3,
}
GENERIC = {
    "hazchem_production": 14, "hazchem_storage": 6, "hazchem_trade": 22, "hazchem_use": 16,
    "gas_station": 30, "oxygen_station": 1, "fireworks_wholesale": 1, "fireworks_retail": 40,
    "non_coal_mine": 2, "dust_explosion": 18, "ammonia_refrigeration": 6, "confined_space": 25,
    "metallurgy": 4, "construction": 20, "crowded_place": 24, "special_equipment": 10,
    "hazardous_waste": 3, "energy_storage": 2, "charging": 8,
}


@dataclass(frozen=True)
class PlaceProfile:
    towns: int
    villages_per_town: int
    grids: int
    enterprises: dict[str, int]
    town_word: str = "镇"


PROFILES = {
    "620422": PlaceProfile(towns=28, villages_per_town=5, grids=320, enterprises=HUINING, town_word="镇"),
    "330421": PlaceProfile(towns=9, villages_per_town=12, grids=662, enterprises=GENERIC),  # 000 L20–22
    "370112": PlaceProfile(towns=21, villages_per_town=6, grids=480, enterprises=GENERIC, town_word="街道"),
    "341504": PlaceProfile(towns=6, villages_per_town=8, grids=160, enterprises=GENERIC),
    "370126": PlaceProfile(towns=12, villages_per_town=8, grids=300, enterprises=GENERIC),
}

# Industries that sit inside the chemical park, and those whose sites get a control line.
PARK_INDUSTRIES = ("hazchem_production", "hazchem_storage", "oxygen_station", "fireworks_wholesale",
                   "ammonia_refrigeration")
RISKY = {  # typical LEC choices per industry: (L options, E options, C options)
    "high": ((3, 6, 1), (6, 3, 2), (15, 40, 7)),
    "mid": ((1, 3, 0.5), (3, 6, 2), (7, 15, 3)),
    "low": ((0.5, 1, 0.2), (2, 3, 1), (3, 7, 1)),
}
INDUSTRY_RISK = {
    "hazchem_production": "high", "hazchem_storage": "high", "non_coal_mine": "high", "fireworks_wholesale": "high",
    "hazchem_use": "mid", "hazchem_trade": "mid", "gas_station": "mid", "oxygen_station": "mid",
    "dust_explosion": "mid", "ammonia_refrigeration": "mid", "metallurgy": "mid", "construction": "mid",
    "energy_storage": "mid", "hazardous_waste": "mid",
}
SUBSTANCES = {  # industry -> (substance, quantity range t)
    "hazchem_production": [("液氨", (5, 60)), ("液氯", (2, 20)), ("甲醇", (100, 900)), ("苯", (20, 120))],
    "hazchem_storage": [("汽油", (150, 900)), ("甲醇", (200, 1200)), ("液化石油气", (20, 150))],
    "gas_station": [("汽油", (40, 120))],
    "ammonia_refrigeration": [("液氨", (3, 25))],
}

SYLLABLES = list("青石兴安和平东西南北新丰永宁泰康福民川河山林桥湖源阳云华晨星光明盛荣旭")
COMPANY_WORDS = list("华恒瑞鑫泰昌隆盛宏远达创联信通汇德正元利佳")
TOWN_CENTRE_SPREAD = 0.35  # enterprises cluster around town centres (fraction of the town's radius)


def _unique_names(rng: np.random.Generator, n: int, suffix: str, used: set[str], length: int = 2) -> list[str]:
    names = []
    while len(names) < n:
        core = "".join(rng.choice(SYLLABLES, size=length))
        name = f"示例{core}{suffix}"
        if name not in used:
            used.add(name)
            names.append(name)
    return names


def _points_in(poly, n: int, rng: np.random.Generator, centre=None, spread=None) -> np.ndarray:
    """n random points inside ``poly`` (uniform, or normal around ``centre`` with sd ``spread``)."""
    out = np.empty((0, 2))
    minx, miny, maxx, maxy = poly.bounds
    shapely.prepare(poly)
    while len(out) < n:
        k = max(64, 2 * (n - len(out)))
        if centre is None:
            cand = np.column_stack([rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)])
        else:
            cand = rng.normal(centre, spread, size=(k, 2))
        ok = shapely.contains_xy(poly, cand[:, 0], cand[:, 1])
        out = np.vstack([out, cand[ok]])
    return out[:n]


def partition(poly, n: int, rng: np.random.Generator) -> list:
    """Split ``poly`` into n Voronoi cells of random seeds (one cell per seed, all clipped to poly)."""
    if n <= 1:
        return [poly]
    seeds = _points_in(poly, n, rng)
    cells = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=poly)
    parts = shapely.get_parts(cells)
    # voronoi_polygons does not keep the seed order; match each cell to its seed.
    tree = STRtree(parts)
    idx = tree.query(shapely.points(seeds), predicate="within")
    order = np.full(n, -1)
    order[idx[0]] = idx[1]
    clipped = shapely.intersection(parts[order], poly)
    return [shapely.make_valid(c) for c in clipped]


def _allocate(weights: np.ndarray, total: int, minimum: int = 1) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainder), each ≥ minimum."""
    k = len(weights)
    base = np.full(k, minimum)
    rest = total - minimum * k
    if rest < 0:
        raise ValueError("total too small")
    share = weights / weights.sum() * rest
    alloc = np.floor(share).astype(int)
    remainder = rest - alloc.sum()
    alloc[np.argsort(share - alloc)[::-1][:remainder]] += 1
    return base + alloc


def _multi(geom):
    geom = shapely.make_valid(geom)
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon"]
    return shapely.MultiPolygon(polys)


class _Builder:
    """Builds one demo project; geometry is made in the metric CRS and stored in EPSG:4490."""

    def __init__(self, place: Place, seed: int, progress: Progress | None):
        self.place = place
        self.profile = PROFILES[place.adcode]
        self.rng = np.random.default_rng(seed)
        self.epsg = place.epsg
        self.progress = progress or (lambda f, msg: None)
        self.boundary = to_metric(place.boundary(), self.epsg)
        self.used_names: set[str] = set()
        self.today = dt.date(2026, 11, 1)
        self.seed = seed

    def geo(self, geom):
        return to_geographic(geom, self.epsg)

    # ---- zones ------------------------------------------------------------------------------
    def zones(self, s):
        rng, prof = self.rng, self.profile
        county = Zone(name=self.place.name, kind="county", code=self.place.adcode,
                      geom=_multi(self.geo(self.boundary)), area_km2=round(self.boundary.area / 1e6, 2))
        s.add(county)
        s.flush()
        town_polys = partition(self.boundary, prof.towns, rng)
        town_names = _unique_names(rng, prof.towns, prof.town_word, self.used_names)
        self.towns = []
        for name, poly in zip(town_names, town_polys):
            z = Zone(name=name, kind="town", parent_id=county.id, code=None, geom=_multi(self.geo(poly)),
                     population=int(rng.integers(8_000, 60_000)), area_km2=round(poly.area / 1e6, 2))
            s.add(z)
            self.towns.append((z, poly))
        s.flush()
        # villages inside towns, grids inside villages; grid counts proportional to village area
        villages = []
        for town, tpoly in self.towns:
            n_v = prof.villages_per_town
            names = _unique_names(rng, n_v, "村" if prof.town_word == "镇" else "社区", self.used_names)
            for name, vpoly in zip(names, partition(tpoly, n_v, rng)):
                v = Zone(name=name, kind="village", parent_id=town.id, geom=_multi(self.geo(vpoly)),
                         population=int(rng.integers(500, 6000)), area_km2=round(vpoly.area / 1e6, 2))
                s.add(v)
                villages.append((v, vpoly, town))
        s.flush()
        counts = _allocate(np.array([vp.area for _, vp, _ in villages]), prof.grids)
        grid_rows = []
        serial = 0
        for (v, vpoly, town), n_g in zip(villages, counts):
            for gpoly in partition(vpoly, int(n_g), rng):
                serial += 1
                grid_rows.append(dict(name=f"{town.name}第{serial:03d}网格", kind="grid", parent_id=v.id,
                                      geom=_multi(self.geo(gpoly)), area_km2=round(gpoly.area / 1e6, 3),
                                      version=1))
        s.execute(Zone.__table__.insert(), grid_rows)
        self.town_tree = STRtree([p for _, p in self.towns])

    def parks(self, s):
        rng = self.rng
        # the chemical park: a compact block near the edge of a town centre, about 2 × 1.5 km
        town, tpoly = self.towns[int(rng.integers(len(self.towns)))]
        c = tpoly.representative_point()
        park = shapely.affinity.rotate(shapely.box(c.x - 1000, c.y - 700, c.x + 1000, c.y + 700),
                                       float(rng.uniform(-25, 25)))
        park = park.intersection(self.boundary)
        self.park = park
        name = _unique_names(rng, 1, "化工园区", self.used_names)[0]
        self.park_zone = Zone(name=name, kind="chemical_park", parent_id=town.id, geom=_multi(self.geo(park)),
                              area_km2=round(park.area / 1e6, 2))
        s.add(self.park_zone)
        town2, tpoly2 = self.towns[(self.towns.index((town, tpoly)) + 1) % len(self.towns)]
        c2 = tpoly2.representative_point()
        ipark = shapely.box(c2.x - 1200, c2.y - 900, c2.x + 1200, c2.y + 900).intersection(tpoly2)
        s.add(Zone(name=_unique_names(rng, 1, "工业园区", self.used_names)[0], kind="industrial_park",
                   parent_id=town2.id, geom=_multi(self.geo(ipark)), area_km2=round(ipark.area / 1e6, 2)))
        s.flush()

    # ---- enterprises ------------------------------------------------------------------------
    def _town_of(self, pts: np.ndarray) -> list:
        idx = self.town_tree.query(shapely.points(pts), predicate="within")
        town_for = {}
        for p, t in zip(*idx):
            town_for.setdefault(int(p), int(t))
        return [self.towns[town_for.get(i, 0)][0] for i in range(len(pts))]

    def enterprises(self, s):
        rng = self.rng
        inds = load_industries()
        self.enterprise_objs = []
        for code, n in self.profile.enterprises.items():
            if code in PARK_INDUSTRIES:
                pts = _points_in(self.park.buffer(-60), n, rng)
            else:
                # cluster around town centres, weighted by town area
                areas = np.array([p.area for _, p in self.towns])
                picks = rng.choice(len(self.towns), size=n, p=areas / areas.sum())
                pts = np.vstack([
                    _points_in(self.towns[i][1], 1, rng, centre=np.array(self.towns[i][1].representative_point().coords[0]),
                               spread=np.sqrt(self.towns[i][1].area) * TOWN_CENTRE_SPREAD)
                    for i in picks]) if n else np.empty((0, 2))
            towns = self._town_of(pts)
            names = _unique_names(rng, n, f"{inds[code].zh.replace('危险化学品', '化工')}有限公司", self.used_names)
            for (x, y), town, name in zip(pts, towns, names):
                e = Enterprise(
                    name=name, industry=code, town=town.name, zone_id=town.id,
                    address=f"{town.name}示例路{int(rng.integers(1, 300))}号",
                    employees=int(rng.integers(3, 400 if INDUSTRY_RISK.get(code) == "high" else 120)),
                    department=inds[code].department,
                    legal_person=f"示例{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}",
                    phone=f"0000-{int(rng.integers(1000000, 9999999))}",
                    credit_code=f"DEMO{int(rng.integers(10**13, 10**14))}",
                    qr_id=rng.bytes(16).hex(),
                    geom=self.geo(shapely.Point(x, y)),
                )
                s.add(e)
                self.enterprise_objs.append((e, (x, y)))
        s.flush()

    def risk_points(self, s):
        from riskmap.grading.enterprise import grade_risk_point

        rng = self.rng
        for e, (x, y) in self.enterprise_objs:
            band = INDUSTRY_RISK.get(e.industry, "low")
            n_points = int(rng.integers(1, 4))
            for k in range(n_points):
                Ls, Es, Cs = RISKY[band]
                rp = RiskPoint(enterprise_id=e.id, name=f"风险点{k + 1}", kind="risk_point",
                               geom=self.geo(shapely.Point(x + rng.normal(0, 30), y + rng.normal(0, 30))))
                s.add(rp)
                s.flush()
                inputs = {"L": float(rng.choice(Ls)), "E": float(rng.choice(Es)), "C": float(rng.choice(Cs))}
                inputs = {k2: (int(v) if float(v).is_integer() else v) for k2, v in inputs.items()}
                grade_risk_point(s, rp, "lec", inputs, assessor="示例评估员")
            if e.industry in SUBSTANCES:
                hs = RiskPoint(enterprise_id=e.id, name="储罐区", kind="hazard_source",
                               geom=self.geo(shapely.Point(x + 20, y + 20)))
                s.add(hs)
                s.flush()
                subs = []
                for name, (lo, hi) in SUBSTANCES[e.industry][: int(rng.integers(1, 3))]:
                    q = round(float(rng.uniform(lo, hi)), 1)
                    s.add(Substance(risk_point_id=hs.id, name=name, quantity_t=q, design_max_t=round(q * 1.2, 1)))
                    subs.append({"name": name, "quantity_t": q})
                people = int(rng.choice([0, 12, 40, 80, 150]))
                grade_risk_point(s, hs, "gb18218", {"people_within_500m": people, "substances": subs},
                                       assessor="示例评估员")
                if hs.major_hazard_grade:
                    e.major_hazard = True
                    hs.name = "重大危险源（储罐区）"
        s.flush()

    def lists(self, s):
        rng = self.rng
        for e, _ in self.enterprise_objs:
            s.add_all([
                EnterpriseList(enterprise_id=e.id, kind="basic", content={
                    "主要负责人": e.legal_person, "从业人数": e.employees, "行业": e.industry, "地址": e.address}),
                EnterpriseList(enterprise_id=e.id, kind="responsibility", content={
                    "安全负责人": f"示例{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}", "监管部门": e.department,
                    "包保责任人": f"示例{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}"}),
                EnterpriseList(enterprise_id=e.id, kind="monitoring", content={
                    "在线监测": bool(rng.random() < 0.6), "视频监控": bool(rng.random() < 0.8)}),
                EnterpriseList(enterprise_id=e.id, kind="measures", content={
                    "管控措施": "定期巡检；作业审批；教育培训（示例）"}),
                EnterpriseList(enterprise_id=e.id, kind="emergency", content={
                    "应急预案": "已备案（示例）", "应急物资": "灭火器、防毒面具（示例）",
                    "external_distance_insufficient": bool(rng.random() < 0.02)}),
            ])

    def dangers(self, s):
        rng = self.rng
        ents = [e for e, _ in self.enterprise_objs]
        picks = rng.choice(len(ents), size=max(6, len(ents) // 12), replace=False)
        statuses = ["registered", "rectifying", "rectified", "closed"]
        for n, i in enumerate(picks):
            e = ents[int(i)]
            major = n < 4
            status = "supervised" if major and n < 3 else str(rng.choice(statuses))
            found = self.today - dt.timedelta(days=int(rng.integers(5, 200)))
            deadline = found + dt.timedelta(days=int(rng.integers(15, 120)))
            d = HiddenDanger(
                enterprise_id=e.id, title=("重大事故隐患：" if major else "") + str(rng.choice(
                    ["储罐区可燃气体报警器失效", "安全出口堵塞", "未按规定设置防雷接地", "有限空间作业未审批",
                     "除尘系统未设泄爆装置", "液氨管道腐蚀", "特种作业人员无证上岗"])),
                grade="major" if major else "general", status=status, found_date=found, deadline=deadline,
                responsible_person=e.legal_person, measures="限期整改（示例）", funds_wan=float(rng.integers(1, 80)),
                plan="整改期间落实监护措施（示例）", supervising_department=e.department,
                closed_date=deadline if status == "closed" else None, geom=e.geom)
            s.add(d)
            s.flush()
            path = ["registered", "rectifying", "supervised", "rectified", "closed"]
            prev = None
            for st in path[: path.index(status) + 1]:
                if st == "supervised" and not major:
                    continue
                s.add(HiddenDangerEvent(danger_id=d.id, from_status=prev, to_status=st, by="示例执法员"))
                prev = st

    def enterprise_levels(self, s):
        from riskmap.grading.enterprise import derive_level, override_level

        for e, _ in self.enterprise_objs:
            derive_level(s, e, assessor="示例评估员")
        # one assessor override with its reason, as bureaus do
        e0 = self.enterprise_objs[0][0]
        reason = ("经专家现场核查，工艺风险高于评估结果，上调（示例）" if e0.level is None or e0.level > 2
                  else "企业已完成自动化改造，经专家论证下调（示例）")
        override_level(s, e0, 2, reason=reason, assessor="示例专家")

    # ---- control lines, targets, lifelines, resources ------------------------------------------
    def control_lines(self, s):
        rng = self.rng
        parts = []
        for e, (x, y) in self.enterprise_objs:
            if e.industry in PARK_INDUSTRIES:
                d = float(rng.choice([300, 500, 800]) if e.industry != "fireworks_wholesale" else 600)
                s.add(SafetyDistance(enterprise_id=e.id, distance_m=d, source_kind="safety_report",
                                     source_doc=f"《{e.name}安全评价报告》（示例）"))
                parts.append(shapely.Point(x, y).buffer(d, 32))
        region = shapely.union_all(parts + [self.park.buffer(200)])
        self.control_region = region
        s.add(ControlLine(name=f"{self.park_zone.name}安全控制线", park_zone_id=self.park_zone.id,
                          distance_m=None, source_doc="园区整体性安全风险评估报告（示例）", status="approved",
                          geom=_multi(self.geo(region))))

    def targets(self, s):
        rng = self.rng
        kinds = [("school", 8, (300, 2000)), ("kindergarten", 6, (60, 300)), ("hospital", 4, (100, 800)),
                 ("elderly_home", 3, (20, 150)), ("residential", 14, (200, 3000)), ("crowded_place", 6, (100, 1500))]
        rows = []
        for kind, per_county, (lo, hi) in kinds:
            for i in range(per_county + len(self.towns) // 3):
                town, tpoly = self.towns[int(rng.integers(len(self.towns)))]
                centre = np.array(tpoly.representative_point().coords[0])
                x, y = _points_in(tpoly, 1, rng, centre=centre, spread=np.sqrt(tpoly.area) * 0.25)[0]
                rows.append((kind, town, x, y, int(rng.integers(lo, hi))))
        # a few targets deliberately inside the control line: what planners must find
        ring = self.control_region.difference(self.park)
        for kind, people in (("school", 900), ("residential", 1200), ("kindergarten", 120), ("residential", 60)):
            x, y = _points_in(ring, 1, rng)[0]
            town = self._town_of(np.array([[x, y]]))[0]
            rows.append((kind, town, x, y, people))
        cls_for = {"school": "high_sensitive", "kindergarten": "high_sensitive", "hospital": "high_sensitive",
                   "elderly_home": "high_sensitive"}
        zh = {"school": "学校", "kindergarten": "幼儿园", "hospital": "医院", "elderly_home": "养老院",
              "residential": "小区", "crowded_place": "商场"}
        for kind, town, x, y, people in rows:
            gclass = cls_for.get(kind) or ("general_1" if people >= 100 else "general_2" if people >= 30 else "general_3")
            name = _unique_names(rng, 1, zh[kind], self.used_names)[0]
            s.add(ProtectedTarget(name=name, kind=kind, people=people, gb36894_class=gclass, town=town.name,
                                  geom=self.geo(shapely.Point(x, y))))

    def lifelines(self, s):
        rng = self.rng
        materials = {"gas": ["PE", "钢", "铸铁"], "water": ["球墨铸铁", "PE", "灰口铸铁"], "drainage": ["混凝土", "HDPE"],
                     "heat": ["钢"], "power": ["电缆"], "telecom": ["光缆"]}
        rows = []
        for town, tpoly in self.towns:
            c = np.array(tpoly.representative_point().coords[0])
            for cat, mats in materials.items():
                for _ in range(int(rng.integers(2, 5))):
                    start = c + rng.normal(0, 400, 2)
                    steps = rng.normal(0, 250, size=(int(rng.integers(3, 8)), 2)).cumsum(axis=0)
                    line = shapely.LineString(np.vstack([start, start + steps])).intersection(tpoly)
                    if line.is_empty or line.length < 50:
                        continue
                    rows.append(dict(
                        category=cat, name=f"{town.name}{ {'gas': '燃气', 'water': '供水', 'drainage': '排水', 'heat': '热力', 'power': '电力', 'telecom': '通信'}[cat]}管线",
                        material=str(rng.choice(mats)), diameter_mm=float(rng.choice([100, 160, 200, 315, 500])),
                        pressure_mpa=float(rng.choice([0.01, 0.2, 0.4, 0.8])) if cat == "gas" else None,
                        depth_m=round(float(rng.uniform(0.8, 2.5)), 1), year_built=int(rng.integers(1985, 2024)),
                        owner="示例公用事业公司", geom=line))
        # one long-distance gas pipeline across the county, passing the park
        minx, miny, maxx, maxy = self.boundary.bounds
        pc = self.park.centroid
        trunk = shapely.LineString([(minx, pc.y - 3000), (pc.x, pc.y + 1200), (maxx, pc.y + 4000)]).intersection(self.boundary)
        rows.append(dict(category="gas_pipeline", name="示例长输天然气管道", material="L360钢", diameter_mm=610.0,
                         pressure_mpa=6.3, depth_m=1.5, year_built=2012, owner="示例管道公司", geom=trunk))
        for r in rows:
            s.add(LifelineSegment(**{**r, "geom": self.geo(r["geom"])}))
        for town, tpoly in self.towns[: max(3, len(self.towns) // 2)]:
            for x, y in _points_in(tpoly, 3, rng, centre=np.array(tpoly.representative_point().coords[0]), spread=300):
                s.add(LifelinePoint(name=f"{town.name}电梯{int(rng.integers(1, 99))}号", category="elevator",
                                    owner="示例物业公司", geom=self.geo(shapely.Point(x, y))))

    def resources(self, s):
        rng = self.rng
        specs = [("fire_station", 2, "综合应急救援"), ("micro_fire_station", len(self.towns), "初期火灾扑救"),
                 ("rescue_team", 2, "危化品救援"), ("shelter", 5, "避难场所"), ("supply_depot", 2, "物资储备"),
                 ("hospital", 3, "医疗救护"), ("expert", 3, "危化安全")]
        zh = {"fire_station": "消防救援站", "micro_fire_station": "微型消防站", "rescue_team": "应急救援队",
              "shelter": "应急避难场所", "supply_depot": "应急物资储备库", "hospital": "医院", "expert": "专家工作站"}
        for kind, n, spec in specs:
            for _ in range(n):
                town, tpoly = self.towns[int(rng.integers(len(self.towns)))]
                x, y = _points_in(tpoly, 1, rng, centre=np.array(tpoly.representative_point().coords[0]), spread=500)[0]
                s.add(EmergencyResource(
                    name=_unique_names(rng, 1, zh[kind], self.used_names)[0], kind=kind, specialty=spec,
                    capacity=f"{int(rng.integers(5, 80))}人" if kind != "shelter" else f"{int(rng.integers(500, 5000))}人",
                    contact=f"示例{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}",
                    phone=f"0000-{int(rng.integers(1000000, 9999999))}", town=town.name,
                    geom=self.geo(shapely.Point(x, y))))

    def build(self, project: Project) -> None:
        steps = [("分区", self.zones), ("园区", self.parks), ("企业", self.enterprises), ("五个清单", self.lists),
                 ("风险点", self.risk_points), ("隐患", self.dangers), ("企业定级", self.enterprise_levels),
                 ("安全控制线", self.control_lines), ("防护目标", self.targets), ("生命线", self.lifelines),
                 ("应急资源", self.resources)]
        with project.session(history=False) as s:
            for i, (label, step) in enumerate(steps):
                self.progress(i / (len(steps) + 1), label)
                step(s)
        self.progress(len(steps) / (len(steps) + 1), "分区定级")
        for hook in POST_BUILD_HOOKS:
            hook(project)
        demo_history(project, self.today, self.seed)
        self.progress(len(steps) / (len(steps) + 1), "厂区平面图")
        demo_plant(project, self.today, self.seed)
        self.progress(1.0, "完成")


HISTORY_DAYS = 730  # the demo's dated history: two years before its "today"
HISTORY_CHANGED = 0.18  # share of the enterprises present from the start whose level changed during it
HISTORY_ADDED = 0.06  # share of the enterprises added during it


def demo_history(project: Project, today: dt.date, seed: int) -> None:
    """Give the finished demo a dated, fictitious history (seeded, deterministic) without changing its present
    state: enterprises created before the two years up to ``today`` (a few during them); the records of their
    risk points and levels spread after that, the newest enterprise-level record (the current level) last;
    for some enterprises an earlier assessment of another level (so they were raised or lowered during the
    two years); hidden-danger events dated from the date found, step by step, before ``today``; protected
    targets and the control line dated (the targets placed inside the line were added during the two years).
    Written with plain UPDATE/INSERT: no edit history, no version bump."""
    from sqlalchemy import bindparam, text

    from riskmap.grading.enterprise import ENTERPRISE_METHODS
    from riskmap.model.base import Timestamp
    from riskmap.store.project import bulk_insert

    rng = np.random.default_rng(seed + 1400)  # its own stream: the present state's draws are unchanged
    start = today - dt.timedelta(days=HISTORY_DAYS)

    def stamp(day: dt.date, k: int = 0) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(8, 0)) + dt.timedelta(minutes=int(rng.integers(0, 540)) + k)

    def day(a: dt.date, b: dt.date) -> dt.date:
        return a + dt.timedelta(days=int(rng.integers(0, max(1, (b - a).days) + 1)))

    ts = Timestamp()
    with project.engine.begin() as conn:
        ents = conn.execute(text("SELECT id FROM enterprises ORDER BY id")).scalars().all()
        recs: dict[int, list] = {}
        for aid, eid, rp, method, level in conn.execute(text(
                "SELECT id, enterprise_id, risk_point_id, method, level FROM assessments ORDER BY id")):
            recs.setdefault(eid, []).append((aid, rp, method, level))
        created, assessed, new = [], [], []
        for eid in ents:
            added = rng.random() < HISTORY_ADDED
            c = day(start + dt.timedelta(days=60), today - dt.timedelta(days=20)) if added else \
                day(start - dt.timedelta(days=400), start - dt.timedelta(days=10))
            created.append({"i": eid, "t": stamp(c)})
            rows = recs.get(eid, [])
            points = [r for r in rows if r[1] is not None]
            levels = [r for r in rows if r[1] is None and r[2] in ENTERPRISE_METHODS]
            for k, r in enumerate(points):
                assessed.append({"i": r[0], "t": stamp(c + dt.timedelta(days=1 + k))})
            if not levels:
                continue
            changed = not added and rng.random() < HISTORY_CHANGED
            first = c + dt.timedelta(days=len(points) + 2)
            last = first + dt.timedelta(days=len(levels))  # graded once, soon after it was created
            if changed or len(levels) > 1:  # changed later (or overridden): the record in force came later
                last = day(max(first + dt.timedelta(days=10), start + dt.timedelta(days=30)),
                           today - dt.timedelta(days=5))
            for k, r in enumerate(levels[:-1]):  # e.g. the derived level before an override
                assessed.append({"i": r[0], "t": stamp(first + dt.timedelta(days=k))})
            assessed.append({"i": levels[-1][0], "t": stamp(last, 1)})
            if changed:
                now_level = int(levels[-1][3])
                before = now_level + 1 if now_level < 4 and (now_level == 1 or rng.random() < 0.5) else now_level - 1
                when = day(first, max(first, min(last - dt.timedelta(days=30), start - dt.timedelta(days=1))))
                if rng.random() < 0.5:  # the earlier level taken during the two years
                    when = day(start + dt.timedelta(days=1), last - dt.timedelta(days=20))
                new.append({"enterprise_id": eid, "method": "max", "level": before, "assessor": "示例评估员",
                            "explanation": "往期定期评估（示例）", "assessed_at": stamp(min(when, last - dt.timedelta(days=1)))})
        upd_e = text("UPDATE enterprises SET created_at = :t WHERE id = :i").bindparams(bindparam("t", type_=ts))
        conn.execute(upd_e, created)
        # assessments are immutable once written; the demo dates its own fresh records, in its creation
        # transaction, with the guard lifted for that one statement (GeoPackage, the only store a demo is made in)
        if conn.dialect.name == "sqlite":
            from riskmap.store.gpkg import IMMUTABLE_ASSESSMENTS

            conn.exec_driver_sql("DROP TRIGGER IF EXISTS assessments_immutable")
            conn.execute(text("UPDATE assessments SET assessed_at = :t WHERE id = :i").bindparams(
                bindparam("t", type_=ts)), assessed)
            conn.exec_driver_sql(IMMUTABLE_ASSESSMENTS.strip())
        conn.execute(text("UPDATE risk_points SET created_at = (SELECT created_at FROM enterprises e "
                          "WHERE e.id = risk_points.enterprise_id)"))
        if new:
            bulk_insert(conn, "assessments", {k: [r[k] for r in new] for k in new[0]})
        # hidden dangers: registered on the date found, each later step after it, all before today
        events: dict[int, list] = {}
        for eid_, did, found, deadline in conn.execute(text(
                "SELECT e.id, d.id, d.found_date, d.deadline FROM hidden_danger_events e "
                "JOIN hidden_dangers d ON d.id = e.danger_id ORDER BY d.id, e.id")):
            events.setdefault(did, [found, deadline, []])[2].append(eid_)
        ev_rows = []
        for did, (found, deadline, ids) in events.items():
            found = dt.date.fromisoformat(str(found)[:10])
            end = today - dt.timedelta(days=1)
            if deadline is not None:
                end = min(end, dt.date.fromisoformat(str(deadline)[:10]) + dt.timedelta(days=10))
            end = max(end, found + dt.timedelta(days=len(ids)))
            cuts = sorted(int(x) for x in rng.integers(1, max(2, (end - found).days + 1), size=len(ids) - 1))
            days_ = [found] + [found + dt.timedelta(days=c) for c in cuts]
            for k, (ev, d_) in enumerate(zip(ids, days_)):
                ev_rows.append({"i": ev, "t": stamp(min(d_, today - dt.timedelta(days=1)), k)})
        conn.execute(text("UPDATE hidden_danger_events SET at = :t WHERE id = :i").bindparams(
            bindparam("t", type_=ts)), ev_rows)
        # the control line approved before the two years; the targets found inside it were built during them
        conn.execute(text("UPDATE control_lines SET created_at = :t").bindparams(bindparam("t", type_=ts)),
                     {"t": stamp(start - dt.timedelta(days=200))})
        targets = conn.execute(text("SELECT id FROM protected_targets ORDER BY id")).scalars().all()
        conn.execute(text("UPDATE protected_targets SET created_at = :t WHERE id = :i").bindparams(
            bindparam("t", type_=ts)),
            [{"i": t, "t": stamp(day(start + dt.timedelta(days=90), today - dt.timedelta(days=30))
                                 if k >= len(targets) - 4 else day(start - dt.timedelta(days=600), start))}
             for k, t in enumerate(targets)])


# ---- the demo plant: one enterprise's 厂区平面图 and its risk points as areas ----------------------------------
#
# A layout per kind of site (PlantLayout): the chemical plant (hazchem producers and stores; the fallback for the
# other industries holding a hazard source) and the 加油站. Each draws its plan with Pillow and names the blocks of
# the drawing the risk points take their outlines from.

PLAN_SIZE = (1400, 1050)  # pixels of the drawn chemical plan
PLAN_M_PER_PX = 0.2  # the drawing's scale: 1 px = 0.2 m (the wall is 256 m × 172 m)
PLAN_WALL = (60, 90, 1340, 950)  # the boundary wall (围墙), pixels
# (name, pixel box, fill) of the plan's blocks; the risk points take their outlines from here
PLAN_BLOCKS = {
    "生产装置区": ((110, 130, 620, 420), "#f3e3c9"),
    "罐区": ((780, 130, 1290, 420), "#f7eeee"),
    "仓库": ((110, 560, 620, 660), "#e4ecd8"),
    "办公楼": ((110, 710, 400, 910), "#dde6f0"),
    "配电室": ((450, 730, 620, 880), "#ece4f2"),
    "消防泵房": ((780, 730, 940, 880), "#f6dada"),
    "消防水池": ((990, 710, 1290, 910), "#d6e9f5"),
    "装卸区": ((780, 560, 1290, 660), "#efefef"),
}
PLAN_ROADS = ((60, 460, 1340, 520), (670, 90, 730, 950))  # a cross road, the vertical one from the gate
PLAN_TANKS = [(865 + 113 * i, 235 + 110 * j) for j in range(2) for i in range(4)]  # tank centres, radius 42
# the industries whose enterprise gets the demo plant first (else the most severe level of any other industry
# holding a hazard source), and among those of one level, the kinds of site with a layout of their own first
PLANT_PREFERENCE = ("hazchem_production", "hazchem_storage")
PLANT_OWN_LAYOUT = ("gas_station",)

# The demo's risk points in the plant: (name, category, block, typical level or None for the enterprise's own,
# card). The hazard source (its 储罐区) takes the tank block; the enterprise's other risk points take the points of
# the nearest typical level (and keep their grades); the rest are added, graded at their typical level or the
# enterprise's, whichever is less severe.
PLANT_POINTS = [
    ("生产装置区", "device", "生产装置区", 1, dict(
        hazard_factors="反应釜、换热器、机泵及管道内{subs}泄漏；超温超压；静电、明火",
        accident_types="火灾、爆炸、中毒和窒息、灼烫、机械伤害",
        control_measures="DCS 控制与安全仪表系统（SIS）投用；关键参数超限报警并联锁；可燃、有毒气体检测报警；"
                         "动火、受限空间作业审批；每两小时巡检一次",
        emergency_measures="泄漏时立即停车、切断物料，佩戴正压式空气呼吸器从上风向处置；着火时用干粉、泡沫灭火，"
                           "冷却相邻设备；疏散无关人员，拨打 119、120 并报告应急管理局",
        signs=["W002", "W003", "W005", "P002", "M004"])),
    ("配电室", "facility", "配电室", 3, dict(
        hazard_factors="高低压配电柜带电部位；绝缘老化、短路；误操作",
        accident_types="触电、电气火灾",
        control_measures="持证电工操作，停送电执行工作票和操作票；绝缘工具定期检测；室内禁放杂物，配二氧化碳灭火器",
        emergency_measures="发生触电先切断电源，再用绝缘物使伤员脱离，立即心肺复苏并拨打 120；电气着火时断电后用"
                           "二氧化碳或干粉灭火器扑救，禁止用水",
        signs=["W007", "P008", "P004", "M011"])),
    ("仓库", "place", "仓库", 2, dict(
        hazard_factors="包装破损、物料混存；叉车作业；堆垛过高",
        accident_types="火灾、中毒和窒息、车辆伤害、物体打击",
        control_measures="分区分类存放，禁忌物料隔离；通风良好；叉车限速 5 km/h；堆垛高度不超过 2 m；每日巡查",
        emergency_measures="发现泄漏立即通风、隔离，用吸附材料收集；着火时使用对应灭火器材，人员沿疏散通道撤离",
        signs=["W031", "P001", "P005", "E001"])),
    ("装卸作业岗位", "post", "装卸区", 2, dict(
        hazard_factors="槽车装卸时管道、鹤管泄漏；静电积聚；车辆溜车",
        accident_types="火灾、爆炸、中毒和窒息、车辆伤害",
        control_measures="装卸前静电接地并检查鹤管、阀门；车辆熄火、垫好轮挡；专人监护，全程视频监控；"
                         "作业人员穿防静电服",
        emergency_measures="发生泄漏立即关闭紧急切断阀、停止装卸；疏散周边人员，设警戒区；着火时用消防炮冷却并报警 119",
        signs=["W001", "P003", "M015", "M010"])),
    ("消防泵房", "facility", "消防泵房", 4, dict(
        hazard_factors="水泵机组转动部位；电气设备",
        accident_types="机械伤害、触电",
        control_measures="每周启泵试验一次并记录；转动部位设防护罩；泵房保持清洁、照明完好",
        emergency_measures="机械伤害时立即停机、止血包扎，拨打 120；泵故障时启用备用泵并报告值班长",
        signs=["W010", "W007", "P007"])),
    ("办公楼", "place", "办公楼", 4, dict(
        hazard_factors="人员密集；电气线路；疏散通道堵塞",
        accident_types="火灾、触电",
        control_measures="每月检查消防设施和疏散通道；禁止私拉电线；每半年组织一次疏散演练",
        emergency_measures="发生火灾时按疏散路线撤离到应急集合点，不乘电梯；拨打 119 并报告应急管理局",
        signs=["P001", "E001", "E003"])),
]
HAZARD_CARD = dict(
    hazard_factors="{subs}储存量大；储罐、管道、阀门泄漏；静电、雷击；超温超压",
    accident_types="火灾、爆炸、中毒和窒息、灼烫",
    control_measures="液位、温度、压力实时监测并设高低限报警；可燃/有毒气体检测与紧急切断阀联锁；围堰完好，"
                     "排水阀常闭；严禁烟火，进入罐区须审批并穿防静电服",
    emergency_measures="立即报告并启动紧急切断；佩戴正压式空气呼吸器从上风向处置；疏散下风向人员，设警戒区；"
                       "着火时喷淋冷却储罐，拨打 119、120",
    signs=["W002", "W003", "W005", "P002", "M004", "E007"])

# The 加油站: a site of 60 m × 45 m drawn at 20 px a metre (0.05 m/px), its front on the road to the south.
GAS_SIZE = (1320, 1240)
GAS_M_PER_PX = 0.05
GAS_ORIGIN = (60, 100)  # the pixel of the site's north-west corner
GAS_SITE_M = (60.0, 45.0)


def _gas_px(x: float, y: float) -> tuple[float, float]:
    """The pixel of a point of the 加油站 site given in metres east and south of its north-west corner."""
    return GAS_ORIGIN[0] + x / GAS_M_PER_PX, GAS_ORIGIN[1] + y / GAS_M_PER_PX


def _gas_box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    (a, b), (c, d) = _gas_px(x0, y0), _gas_px(x1, y1)
    return round(a), round(b), round(c), round(d)


GAS_WALL = _gas_box(0, 0, *GAS_SITE_M)
GAS_BLOCKS = {  # in metres from the site's north-west corner
    "站房": (_gas_box(6, 3, 36, 13), "#dde6f0"),
    "配电室": (_gas_box(37, 3, 43, 13), "#ece4f2"),
    "发电机房": (_gas_box(44, 3, 50, 13), "#f2e6d4"),
    "油气回收装置": (_gas_box(52, 3, 58, 9), "#e3ecdc"),
    "罩棚": (_gas_box(8, 17, 44, 33), "#fbf1dc"),
    "埋地油罐区": (_gas_box(47, 16, 59, 30), "#f7eeee"),
    "卸油区": (_gas_box(47, 31.5, 59, 38.5), "#fff6cf"),
}
GAS_GREEN = [(16, 40.5, 34, 44.5), (48, 40.5, 59.5, 44.5), (0.5, 3, 4.5, 14)]  # 绿化, metres
GAS_ISLANDS = [(x, y) for y in (22.0, 28.0) for x in (12.0, 28.0)]  # 加油岛 west ends (8 m × 1.4 m), metres
GAS_TANKS = [47.8 + 2.8 * i for i in range(4)]  # 埋地油罐 west sides (2.4 m × 8 m, 30 m³), metres
GAS_GATES = ((3.0, 15.0), (35.0, 47.0))  # 入口, 出口 in the front wall, metres east

GAS_POINTS = [
    ("卸油作业岗位", "post", "卸油区", None, dict(
        hazard_factors="油罐车卸油时油气挥发外溢；卸油软管、快速接头泄漏；静电积聚；混油、溢油；罐车溜车；雷雨天气作业",
        accident_types="火灾、爆炸、中毒和窒息、车辆伤害",
        control_measures="罐车到站静置 15 分钟后连接静电接地报警器再卸油；核对油品与罐号，液位仪监视防止溢油；"
                         "密闭卸油并接通卸油油气回收管；卸油期间该罐停止加油，专人全程监护，现场备 35 kg 推车式"
                         "干粉灭火器和灭火毯；雷雨天气禁止卸油",
        emergency_measures="发生泄漏立即关闭罐车紧急切断阀和卸油阀，停止全站加油作业并切断电源；用吸油毡、沙土围堵"
                           "回收，禁止使用铁器；着火时用灭火毯、干粉灭火器扑救，疏散人员车辆，拨打 119、120 并"
                           "报告应急管理局",
        signs=["W002", "W003", "P003", "M015", "M010"])),
    ("加油作业区", "area", "罩棚", 3, dict(
        hazard_factors="加油机、加油枪及胶管渗漏；加油时油气挥发；车辆未熄火、顾客吸烟或使用手机；静电；车辆碰撞加油机",
        accident_types="火灾、爆炸、车辆伤害",
        control_measures="加油前确认车辆熄火，禁止向塑料桶加注汽油；加油机设紧急切断阀和防撞柱；加油油气回收正常"
                         "投用；员工穿防静电工作服，罩棚下禁止吸烟、使用手机；每日检查加油机、加油枪和胶管",
        emergency_measures="跑冒油时立即停机并按下紧急停机按钮，用吸油毡回收；车辆或加油机着火时切断电源，用干粉灭火器、"
                           "灭火毯扑救，疏导车辆驶离，拨打 119",
        signs=["W002", "P001", "P002", "P031", "M015"])),
    ("油气回收装置", "device", "油气回收装置", 3, dict(
        hazard_factors="油气处理装置及管线内汽油蒸气泄漏；真空泵、压缩机电气火花；通气管阻火器失效；雷击",
        accident_types="火灾、爆炸、中毒和窒息",
        control_measures="装置及通气管阻火器、呼吸阀每季度检查；防雷防静电接地每年检测；在线监测系统报警时停止卸油"
                         "并排查；检修前置换并检测可燃气体浓度，动火作业审批",
        emergency_measures="发现油气泄漏或报警时停止卸油、加油，切断装置电源，禁止开关电器；加强通风并设警戒区；"
                           "着火时用干粉灭火器扑救，拨打 119",
        signs=["W002", "W003", "P002", "M015"])),
    ("配电室", "facility", "配电室", 4, dict(
        hazard_factors="低压配电柜带电部位；绝缘老化、短路；误操作；小动物进入",
        accident_types="触电、电气火灾",
        control_measures="持证电工操作，停送电执行工作票和操作票；门口设挡鼠板；绝缘工具、接地每年检测；"
                         "室内禁放杂物，配二氧化碳灭火器",
        emergency_measures="发生触电先切断电源，再用绝缘物使伤员脱离，立即心肺复苏并拨打 120；电气着火时断电后用"
                           "二氧化碳或干粉灭火器扑救，禁止用水",
        signs=["W007", "P008", "P004", "M011"])),
    ("发电机房", "facility", "发电机房", 3, dict(
        hazard_factors="柴油发电机组及日用油箱内柴油；排烟管高温；转动部位；蓄电池；通风不良",
        accident_types="火灾、触电、机械伤害、灼烫",
        control_measures="每月试机一次并记录；日用油箱不超过 1 m³，设围堰；排烟管隔热并引出室外；转动部位设防护罩；"
                         "机房保持通风，禁止堆放杂物，配干粉灭火器",
        emergency_measures="机组着火时停机、关闭油箱阀门，用干粉灭火器扑救；烫伤时用冷水冲洗后送医；机械伤害时"
                           "停机止血，拨打 120",
        signs=["W002", "W018", "W010", "P002"])),
    ("站房", "place", "站房", 4, dict(
        hazard_factors="营业室、便利店人员密集；电气线路、用电设备；疏散通道堵塞；可燃商品",
        accident_types="火灾、触电",
        control_measures="便利店不售易燃易爆品，商品与电气设备保持距离；每月检查消防设施和疏散通道；禁止私拉电线、"
                         "使用明火；每半年组织一次疏散演练",
        emergency_measures="发生火灾时组织顾客从安全出口撤离到应急集合点；切断电源，用灭火器扑救初起火灾；拨打 119 "
                           "并报告应急管理局",
        signs=["P001", "P002", "E001", "E003"])),
]
GAS_HAZARD_CARD = dict(
    hazard_factors="埋地油罐储存{subs}；油罐、管线、人孔井渗漏；卸油溢油；通气管油气排放；静电、雷击",
    accident_types="火灾、爆炸、中毒和窒息",
    control_measures="双层油罐及渗漏在线监测；液位仪高液位报警并防溢；人孔井、卸油口加盖上锁；通气管设阻火器、"
                     "呼吸阀；罐区禁止停车和动火，进入人孔井作业须审批并检测可燃气体",
    emergency_measures="发现渗漏或报警时停止卸油和该罐加油，切断电源；设警戒区，禁止车辆进出；用沙土、吸油毡围堵，"
                       "防止油品进入下水道；着火时用干粉灭火器、灭火毯扑救，拨打 119、120 并报告应急管理局",
    signs=["W002", "W003", "P002", "P003", "M015", "E007"])

# grading inputs that give each level (1 … 4) by LEC and by the LS matrix
DEMO_LEC = {1: {"L": 6, "E": 6, "C": 15}, 2: {"L": 3, "E": 6, "C": 15}, 3: {"L": 3, "E": 6, "C": 7},
            4: {"L": 1, "E": 6, "C": 7}}
DEMO_LS = {1: {"L": 4, "S": 5}, 2: {"L": 3, "S": 4}, 3: {"L": 2, "S": 3}, 4: {"L": 1, "S": 3}}


def _fonts(*sizes):
    from PIL import ImageFont

    from riskmap.paths import RESOURCES_DIR

    font_path = str(RESOURCES_DIR / "fonts" / "NotoSansSC-Regular.otf")
    return tuple(ImageFont.truetype(font_path, size) for size in sizes)


def _plan_furniture(d, size, m_per_px: float, title: str, north_deg: float, *, scale_at, scale_m: float,
                    arrow_at, mark_at) -> None:
    """A plan's title, scale bar (0 – scale_m – 2·scale_m metres), north arrow pointing ``north_deg`` clockwise from
    the drawing's up, and the 示例数据 mark."""
    import math

    big, mid, small = _fonts(30, 22, 16)
    ink = (40, 40, 40)
    d.text((size[0] / 2, 42), title, font=big, fill=ink, anchor="mm")
    sx, sy = scale_at
    seg = scale_m / m_per_px
    for k in range(2):
        d.rectangle((sx + k * seg, sy, sx + (k + 1) * seg, sy + 10), fill=ink if k == 0 else "white", outline=ink)
    for k, label in enumerate(("0", f"{scale_m:g}", f"{2 * scale_m:g} 米")):
        d.text((sx + k * seg, sy - 6), label, font=small, fill=ink, anchor="ms")
    # north arrow: a ring and an arrowhead, its left half black, pointing to true north
    (cx, cy), r = arrow_at, 27
    a = math.radians(north_deg)
    ux, uy = math.sin(a), -math.cos(a)  # north in the drawing (x right, y down)
    vx, vy = -uy, ux  # to the arrow's right
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=ink, width=2)
    tip = (cx + ux * (r + 4), cy + uy * (r + 4))
    base, notch = (cx - ux * r * 0.75, cy - uy * r * 0.75), (cx - ux * r * 0.3, cy - uy * r * 0.3)
    right, left = (base[0] + vx * 15, base[1] + vy * 15), (base[0] - vx * 15, base[1] - vy * 15)
    d.polygon([tip, right, notch], outline=ink, fill="white", width=2)
    d.polygon([tip, notch, left], outline=ink, fill=ink)
    d.text((cx + 48, cy), "北", font=mid, fill=ink, anchor="mm")
    d.text(mark_at, "示例数据", font=small, fill=(150, 150, 150), anchor="rs")


def _png(img) -> bytes:
    import io

    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def draw_plant_plan(title: str, north_deg: float) -> bytes:
    """A 厂区总平面布置图 drawn like a real drawing (PNG, ~1400×1050 px at 0.2 m/px): wall, gate, roads, the blocks
    of PLAN_BLOCKS with Chinese labels, tanks, a title, a scale bar and a north arrow pointing ``north_deg``
    clockwise from the drawing's up."""
    from PIL import Image, ImageDraw

    _, mid, small = _fonts(30, 22, 16)
    img = Image.new("RGB", PLAN_SIZE, "white")
    d = ImageDraw.Draw(img)
    ink = (40, 40, 40)
    x0, y0, x1, y1 = PLAN_WALL
    for box in PLAN_ROADS:
        d.rectangle(box, fill="#d9d9d9")
    d.line([(60, 490), (1340, 490)], fill="white", width=2)
    d.line([(700, 90), (700, 950)], fill="white", width=2)
    for name, (box, fill) in PLAN_BLOCKS.items():
        d.rectangle(box, fill=fill, outline=ink, width=3)
        bx0, by0, bx1, by1 = box
        anchor = ((bx0 + bx1) / 2, by0 + 26) if name in ("罐区", "生产装置区") else ((bx0 + bx1) / 2, (by0 + by1) / 2)
        d.text(anchor, name, font=mid, fill=ink, anchor="mm")
    for cx, cy in PLAN_TANKS:
        d.ellipse((cx - 42, cy - 42, cx + 42, cy + 42), fill="white", outline=ink, width=3)
        d.text((cx, cy), f"T{PLAN_TANKS.index((cx, cy)) + 1:02d}", font=small, fill=ink, anchor="mm")
    bx0, by0, bx1, by1 = PLAN_BLOCKS["罐区"][0]
    d.rectangle((bx0 + 20, by0 + 50, bx1 - 20, by1 - 20), outline=(120, 120, 120), width=2)  # the dike (围堰)
    px0, py0, px1, py1 = PLAN_BLOCKS["生产装置区"][0]
    for i in range(4):  # the units of the process area
        ux = px0 + 40 + i * 118
        d.rectangle((ux, py0 + 70, ux + 90, py0 + 180), outline=ink, width=2)
        d.ellipse((ux + 20, py0 + 210, ux + 70, py0 + 260), outline=ink, width=2)
    d.line([(px0 + 30, py1 - 70), (px1 - 30, py1 - 70)], fill=(90, 90, 90), width=4)  # the pipe rack
    d.text(((px0 + px1) / 2, py1 - 45), "管廊", font=small, fill=ink, anchor="mm")
    # the wall with the gate (大门) on the south side
    gate = (650, 750)
    for seg in ([(x0, y0), (x1, y0)], [(x1, y0), (x1, y1)], [(x1, y1), (gate[1], y1)], [(gate[0], y1), (x0, y1)],
                [(x0, y1), (x0, y0)]):
        d.line(seg, fill=ink, width=6)
    d.text((700, y1 + 22), "大门", font=mid, fill=ink, anchor="mm")
    _plan_furniture(d, PLAN_SIZE, PLAN_M_PER_PX, title, north_deg, scale_at=(90, 1000), scale_m=25,
                    arrow_at=(1290, 1012), mark_at=(1230, PLAN_SIZE[1] - 12))
    return _png(img)


def _dashed(d, a, b, fill, width=2, dash=14, gap=9) -> None:
    """A dashed straight line from a to b."""
    import math

    (ax, ay), (bx, by) = a, b
    n = math.hypot(bx - ax, by - ay)
    if n == 0:
        return
    ux, uy = (bx - ax) / n, (by - ay) / n
    t = 0.0
    while t < n:
        e = min(t + dash, n)
        d.line([(ax + ux * t, ay + uy * t), (ax + ux * e, ay + uy * e)], fill=fill, width=width)
        t = e + gap


def _dashed_box(d, box, fill, width=2) -> None:
    x0, y0, x1, y1 = box
    for a, b in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        _dashed(d, a, b, fill, width)


def _arrow(d, a, b, fill, width=4) -> None:
    """A straight arrow from a to b (the head at b)."""
    import math

    (ax, ay), (bx, by) = a, b
    n = math.hypot(bx - ax, by - ay)
    ux, uy = (bx - ax) / n, (by - ay) / n
    d.line([a, (bx - ux * 14, by - uy * 14)], fill=fill, width=width)
    d.polygon([(bx, by), (bx - ux * 22 - uy * 10, by - uy * 22 + ux * 10),
               (bx - ux * 22 + uy * 10, by - uy * 22 - ux * 10)], fill=fill)


def draw_gas_station_plan(title: str, north_deg: float) -> bytes:
    """A 加油站总平面布置图 (PNG, 1320×1240 px at 0.05 m/px; the site 60 m × 45 m) drawn like the chemical plan:
    the wall with 入口 and 出口 on the road, 站房 (营业室、便利店), 配电室, 发电机房, 罩棚 with four 加油岛 of two
    加油机 each, the 埋地油罐区 with its four tanks, 卸油区 with 卸油口 and the tanker's stand, 油气回收装置 and the
    通气管, 绿化, a title, a scale bar and a north arrow pointing ``north_deg`` clockwise from the drawing's up."""
    from PIL import Image, ImageDraw

    _, mid, small = _fonts(30, 22, 16)
    img = Image.new("RGB", GAS_SIZE, "white")
    d = ImageDraw.Draw(img)
    ink, grey = (40, 40, 40), (120, 120, 120)
    px, box = _gas_px, _gas_box
    w_m, h_m = GAS_SITE_M
    # the road in front (south) of the site, its sidewalk, and the paved forecourt
    d.rectangle((0, px(0, h_m + 1.5)[1], GAS_SIZE[0], px(0, h_m + 7.5)[1]), fill="#d9d9d9")
    for x in range(0, GAS_SIZE[0], 60):
        d.line([(x, px(0, h_m + 4.5)[1]), (x + 34, px(0, h_m + 4.5)[1])], fill="white", width=3)
    d.text((px(0, 0)[0] + 10, px(0, h_m + 6.6)[1]), "示例路", font=mid, fill=ink, anchor="lm")
    d.rectangle(box(0, 0, w_m, h_m), fill="#f4f4f4")
    for gx0, gx1 in GAS_GATES:  # the driveways across the sidewalk
        d.rectangle(box(gx0, h_m, gx1, h_m + 1.5), fill="#ebebeb")
    # 绿化 with a few trees
    for gx0, gy0, gx1, gy1 in GAS_GREEN:
        d.rectangle(box(gx0, gy0, gx1, gy1), fill="#cfe6c2", outline=(110, 150, 100), width=2)
        n = max(1, int((max(gx1 - gx0, gy1 - gy0)) // 4))
        for k in range(n):
            t = (k + 0.5) / n
            cx, cy = px(gx0 + (gx1 - gx0) * (t if gx1 - gx0 >= gy1 - gy0 else 0.5),
                        gy0 + (gy1 - gy0) * (0.5 if gx1 - gx0 >= gy1 - gy0 else t))
            d.ellipse((cx - 16, cy - 16, cx + 16, cy + 16), fill="#a9d18e", outline=(90, 130, 80), width=2)
    g0, g1 = GAS_GREEN[0], GAS_GREEN[1]
    d.text(px((g0[0] + g0[2]) / 2, (g0[1] + g0[3]) / 2), "绿化", font=small, fill=(60, 100, 50), anchor="mm")
    d.text(px((g1[0] + g1[2]) / 2, (g1[1] + g1[3]) / 2), "绿化", font=small, fill=(60, 100, 50), anchor="mm")
    # the blocks
    for name, (bb, fill) in GAS_BLOCKS.items():
        if name in ("罩棚", "卸油区"):
            d.rectangle(bb, fill=fill)
            _dashed_box(d, bb, ink, width=3)
        else:
            d.rectangle(bb, fill=fill, outline=ink, width=3)
    # 站房: 营业室 and 便利店
    d.line([px(21, 6.4), px(21, 13)], fill=ink, width=3)
    d.line([px(6, 6.4), px(36, 6.4)], fill=grey, width=1)
    d.text(px(21, 4.7), "站房", font=mid, fill=ink, anchor="mm")
    d.text(px(13.5, 9.7), "营业室", font=mid, fill=ink, anchor="mm")
    d.text(px(28.5, 9.7), "便利店", font=mid, fill=ink, anchor="mm")
    d.text(px(40, 8), "配电室", font=mid, fill=ink, anchor="mm")
    d.text(px(47, 8), "发电机房", font=mid, fill=ink, anchor="mm")
    d.text(px(55, 5.2), "油气回收", font=small, fill=ink, anchor="mm")
    d.text(px(55, 6.4), "装置", font=small, fill=ink, anchor="mm")
    # 通气管 by the east wall, beside the vapour recovery unit
    for k in range(4):
        cx, cy = px(58.9, 10.5 + 1.0 * k)
        d.ellipse((cx - 7, cy - 7, cx + 7, cy + 7), fill="white", outline=ink, width=2)
    d.text(px(56.2, 12), "通气管", font=small, fill=ink, anchor="mm")
    # 罩棚 (its outline dashed: a roof seen from above) with four 加油岛 of two 加油机 each
    d.text(px(26, 18.4), "罩棚（加油作业区）", font=mid, fill=ink, anchor="mm")
    for k, (ix, iy) in enumerate(GAS_ISLANDS):
        d.rectangle(box(ix, iy - 0.7, ix + 8, iy + 0.7), fill="#e6e6e6", outline=ink, width=2)
        for pxm in (ix + 1.5, ix + 5.3):  # 加油机
            d.rectangle(box(pxm, iy - 0.45, pxm + 1.2, iy + 0.45), fill="#4a6fa5", outline=ink, width=1)
        for ex in (ix - 0.5, ix + 8.5):  # 防撞柱
            cx, cy = px(ex, iy)
            d.ellipse((cx - 6, cy - 6, cx + 6, cy + 6), fill="#f2c200", outline=ink, width=1)
        d.text(px(ix + 4, iy - 1.6), f"{k + 1}号加油岛", font=small, fill=ink, anchor="mm")
    d.text(px(26, 31.6), "加油机 8 台（每岛 2 台）", font=small, fill=grey, anchor="mm")
    # 埋地油罐区: four tanks under a slab, with their manholes
    tx0, ty0, tx1, ty1 = GAS_BLOCKS["埋地油罐区"][0]
    d.text(((tx0 + tx1) / 2, ty0 + 22), "埋地油罐区", font=mid, fill=ink, anchor="mm")
    for k, x in enumerate(GAS_TANKS):
        d.rounded_rectangle(box(x, 19, x + 2.4, 27), radius=24, fill="#efe3e3", outline=ink, width=2)
        cx, cy = px(x + 1.2, 20.4)
        d.ellipse((cx - 9, cy - 9, cx + 9, cy + 9), outline=ink, width=2)  # 人孔井
        d.text(px(x + 1.2, 24.5), f"{k + 1}#", font=small, fill=ink, anchor="mm")
    d.text(((tx0 + tx1) / 2, ty1 - 26), "汽油罐×3  柴油罐×1", font=small, fill=ink, anchor="mm")
    # 卸油区: the 卸油口 box by the tanks and the tanker's stand
    ux0, uy0, ux1, uy1 = GAS_BLOCKS["卸油区"][0]
    d.rectangle(box(48, 32, 53, 33.2), fill="white", outline=ink, width=2)
    for k in range(4):
        cx, cy = px(48.6 + 1.25 * k, 32.6)
        d.ellipse((cx - 6, cy - 6, cx + 6, cy + 6), outline=ink, width=2)
    d.text(px(55.6, 32.6), "卸油口", font=small, fill=ink, anchor="mm")
    _dashed_box(d, box(48, 35.6, 58.5, 38), grey, width=2)
    d.text(px(53.2, 36.8), "油罐车停车位", font=small, fill=grey, anchor="mm")
    d.text(px(50.2, 34.4), "卸油区", font=mid, fill=ink, anchor="mm")
    # traffic: in at the 入口, out at the 出口
    red = (180, 40, 40)
    _arrow(d, px(9, h_m + 1.2), px(9, 34.5), red)
    _arrow(d, px(41, 34.5), px(41, h_m + 1.2), red)
    # the wall: west, north and east, the front wall between the two gates
    x0, y0, x1, y1 = GAS_WALL
    (ga, gb), (gc, gd) = GAS_GATES
    for seg in ([(x0, y1), (x0, y0)], [(x0, y0), (x1, y0)], [(x1, y0), (x1, y1)], [(x1, y1), px(gd, h_m)],
                [px(gc, h_m), px(gb, h_m)], [px(ga, h_m), (x0, y1)]):
        d.line(seg, fill=ink, width=6)
    d.text(px((ga + gb) / 2, h_m + 3), "入口", font=mid, fill=ink, anchor="mm")
    d.text(px((gc + gd) / 2, h_m + 3), "出口", font=mid, fill=ink, anchor="mm")
    _plan_furniture(d, GAS_SIZE, GAS_M_PER_PX, title, north_deg, scale_at=(90, GAS_SIZE[1] - 40), scale_m=5,
                    arrow_at=(GAS_SIZE[0] - 100, GAS_SIZE[1] - 50), mark_at=(GAS_SIZE[0] - 170, GAS_SIZE[1] - 12))
    return _png(img)


@dataclass(frozen=True)
class PlantLayout:
    """A kind of site the demo can draw: its plan, the blocks the risk points take, their points and cards."""

    kind: str
    size: tuple[int, int]
    m_per_px: float
    wall: tuple[int, int, int, int]  # the control points: the wall's corners (pixels)
    blocks: dict  # name -> ((x0, y0, x1, y1) pixels, fill)
    points: list  # PLANT_POINTS-like rows
    hazard_card: dict
    hazard_block: str  # the block the hazard source (储罐区) takes
    hazard_name: str | None  # its name on this plan (None: the name it has)
    danger_block: str  # where the hidden dangers that do not concern the tanks are placed
    centre: tuple[int, int]  # the pixel on the enterprise's point
    draw: Callable[[str, float], bytes]
    title: str  # after the enterprise's name
    source_name: str
    survey_sd_m: float  # the control points' survey error (metres, each axis)
    danger_step_deg: float  # hidden dangers placed this far apart


LAYOUTS = {
    "chemical": PlantLayout(
        kind="chemical", size=PLAN_SIZE, m_per_px=PLAN_M_PER_PX, wall=PLAN_WALL, blocks=PLAN_BLOCKS,
        points=PLANT_POINTS, hazard_card=HAZARD_CARD, hazard_block="罐区", hazard_name=None, danger_block="生产装置区",
        centre=(700, 490), draw=draw_plant_plan, title="厂区总平面布置图", source_name="厂区总平面布置图（示例）.png",
        survey_sd_m=0.25, danger_step_deg=0.0001),
    "gas_station": PlantLayout(
        kind="gas_station", size=GAS_SIZE, m_per_px=GAS_M_PER_PX, wall=GAS_WALL, blocks=GAS_BLOCKS,
        points=GAS_POINTS, hazard_card=GAS_HAZARD_CARD, hazard_block="埋地油罐区", hazard_name="埋地油罐区",
        danger_block="罩棚",
        centre=tuple(round(v) for v in _gas_px(GAS_SITE_M[0] / 2, GAS_SITE_M[1] / 2)), draw=draw_gas_station_plan,
        title="总平面布置图", source_name="加油站总平面布置图（示例）.png", survey_sd_m=0.08,
        danger_step_deg=0.00002),
}


def plant_layout(industry: str | None) -> PlantLayout:
    """The demo layout drawn for an enterprise of ``industry``: a 加油站's own, else the chemical plant's.

    >>> plant_layout("gas_station").kind, plant_layout("ammonia_refrigeration").kind
    ('gas_station', 'chemical')
    """
    return LAYOUTS.get(industry or "", LAYOUTS["chemical"])


def _pick_plant_enterprise(s) -> Enterprise | None:
    """The enterprise that gets the demo plant, among those holding a hazard source whose level is the 就高 of
    their points (current record ``max`` without rules, so that the new areas can keep it): a chemical producer
    or store first (the park's); else the most severe level of any other industry (加油站, 涉氨制冷 …), a kind of
    site with a layout of its own first; then the one with the most hidden dangers, (for the other industries)
    the one with the most risk points (the fewest invented), and the smallest id."""
    from sqlalchemy import func, select

    from riskmap.grading.enterprise import current_record

    danger_count = dict(s.execute(select(HiddenDanger.enterprise_id, func.count()).group_by(HiddenDanger.enterprise_id)).all())
    best = None
    for e in s.scalars(select(Enterprise).join(RiskPoint).where(RiskPoint.kind == "hazard_source").distinct()):
        if e.geom is None or e.level is None:
            continue
        levels = [rp.level for rp in e.risk_points if rp.level is not None]
        rec = current_record(s, e)
        if not levels or min(levels) != e.level or rec is None or rec.method != "max" or (rec.inputs or {}).get("rules"):
            continue
        pref = PLANT_PREFERENCE.index(e.industry) if e.industry in PLANT_PREFERENCE else len(PLANT_PREFERENCE)
        own = 0 if e.industry in PLANT_OWN_LAYOUT else 1
        fewest_new = -len(e.risk_points) if pref == len(PLANT_PREFERENCE) else 0
        key = (pref, e.level, own, -danger_count.get(e.id, 0), fewest_new, e.id)
        if best is None or key < best[0]:
            best = (key, e)
    return None if best is None else best[1]


def _match_points(others: list, layout_points: list, level0: int) -> dict[int, int]:
    """Which of the layout's points each existing risk point becomes: the one of the nearest typical level (the
    enterprise's own for None), in the layout's order on ties; the most severe existing points choose first."""
    free = list(range(len(layout_points)))
    out = {}
    for i in sorted(range(len(others)), key=lambda i: (others[i].level or 5, others[i].id)):
        if not free:
            break
        lv = others[i].level or 4
        k = min(free, key=lambda k: (abs((layout_points[k][3] or level0) - lv), k))
        free.remove(k)
        out[k] = i
    return out


def demo_plant(project: Project, today: dt.date, seed: int) -> None:
    """Give one enterprise holding a hazard source its plant (a chemical producer or store of the park, else e.g.
    a 加油站): a drawn 总平面布置图 of its kind of site georeferenced by its four wall corners (surveyed to a few
    centimetres or decimetres), its risk points and hazard source redrawn as areas of the plan with their
    风险告知卡, and more risk points up to six, graded by LEC and LS (dated, after its earlier records), never
    above the enterprise's level, which stays what it was (就高); its hidden dangers placed in the plant.
    Seeded and deterministic; no edit history (a demo is made, not edited)."""
    from sqlalchemy import func, select

    from riskmap import georef
    from riskmap.grading import grade
    from riskmap.grading.enterprise import decide_level
    from riskmap.model import Assessment
    from riskmap.plant import PlanImage, store_plan

    rng = np.random.default_rng(seed + 1700)  # its own stream: nothing else of the demo changes
    with project.session(history=False) as s:
        ent = _pick_plant_enterprise(s)
        if ent is None:
            return
        lay = plant_layout(ent.industry)
        epsg = project.metric_epsg
        ex, ey = to_metric(ent.geom, epsg).coords[0]
        theta = float(rng.uniform(8, 16))  # the drawing's up is this many degrees west of north
        sc, t = lay.m_per_px, np.radians(theta)
        b, c, e_, f = sc * np.cos(t), sc * np.sin(t), sc * np.sin(t), -sc * np.cos(t)
        mid_col, mid_row = lay.centre  # this pixel sits on the enterprise's point
        a = ex - (b * mid_col + c * mid_row)
        d = ey - (e_ * mid_col + f * mid_row)
        transform = (a, b, c, d, e_, f)

        def block_geom(name, inset=6):  # a block of the plan, a little inside its outline, in EPSG:4490
            (bx0, by0, bx1, by1), _ = lay.blocks[name]
            x, y = georef.apply(transform, np.array([bx0, bx1, bx1, bx0], float) + [inset, -inset, -inset, inset],
                                np.array([by0, by0, by1, by1], float) + [inset, inset, -inset, -inset])
            return to_geographic(shapely.Polygon(np.column_stack([x, y])), epsg)

        # control points: the wall's four corners, surveyed with a few centimetres or decimetres of error
        x0, y0, x1, y1 = lay.wall
        px = np.array([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], dtype=float)
        wx, wy = georef.apply(transform, px[:, 0], px[:, 1])
        wx, wy = wx + rng.normal(0, lay.survey_sd_m, 4), wy + rng.normal(0, lay.survey_sd_m, 4)
        lonlat = shapely.get_coordinates(to_geographic(shapely.points(wx, wy), epsg))
        png = lay.draw(f"{ent.name}{lay.title}", theta)
        image = PlanImage(png, "image/png", lay.size[0], lay.size[1], lay.source_name, None)
        plan, _ = store_plan(s, ent, image, [(c_, r_, lo, la) for (c_, r_), (lo, la) in zip(px, lonlat)], epsg)

        level0 = ent.level
        subs = "、".join(dict.fromkeys(x.name for rp in ent.risk_points for x in rp.substances)) or "危险化学品"
        hazard = [rp for rp in ent.risk_points if rp.kind == "hazard_source"]
        others = sorted((rp for rp in ent.risk_points if rp.kind != "hazard_source"), key=lambda r: r.id)
        for rp in hazard[:1]:
            rp.geom, rp.category = block_geom(lay.hazard_block, 14), "area"
            if lay.hazard_name:  # 储罐区 → 埋地油罐区, 重大危险源（储罐区） → 重大危险源（埋地油罐区）
                rp.name = rp.name.replace("储罐区", lay.hazard_name)
            for key, value in lay.hazard_card.items():
                setattr(rp, key, value.format(subs=subs) if isinstance(value, str) else list(value))
        person = [f"示例{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}" for _ in lay.points]
        # the new points graded after the enterprise's earlier records and before the demo's today
        last = s.scalar(select(func.max(Assessment.assessed_at)).where(Assessment.enterprise_id == ent.id))
        start = max(dt.datetime.combine(today - dt.timedelta(days=120), dt.time(9)), last + dt.timedelta(hours=1))
        step = (dt.datetime.combine(today, dt.time(0)) - start) / (len(lay.points) + 2)
        reused = _match_points(others, lay.points, level0)
        new_records = []
        for k, (name, category, block, typical, card) in enumerate(lay.points):
            if k in reused:
                rp = others[reused[k]]
                rp.name = name
            else:
                rp = RiskPoint(enterprise_id=ent.id, name=name, kind="risk_point", created_at=start)
                s.add(rp)
            rp.geom, rp.category = block_geom(block), category
            for key, value in card.items():
                setattr(rp, key, value.format(subs=subs) if isinstance(value, str) else list(value))
            rp.responsible_person = person[k]
            rp.responsible_phone = f"0000-{int(rng.integers(1000000, 9999999))}"
            if k in reused:
                continue
            # graded at most as severe as the enterprise (its level stays)
            level = max(level0, typical or level0)
            method = "lec" if k % 2 == 0 else "ls"
            inputs = (DEMO_LEC if method == "lec" else DEMO_LS)[level]
            result = grade(method, inputs)
            s.flush()
            at = (start + step * (len(new_records) + 1)).replace(microsecond=0)
            rec = Assessment(enterprise_id=ent.id, risk_point_id=rp.id, method=method, inputs=dict(inputs),
                             score=result.score, level=result.level, explanation=result.explanation,
                             assessor="示例评估员", assessed_at=at)
            s.add(rec)
            s.flush()
            rp.level, rp.level_assessment_id = result.level, rec.id
            new_records.append(at)
        for rp in hazard[:1] + others:
            if rp.responsible_person is None:
                rp.responsible_person = person[-1]
                rp.responsible_phone = f"0000-{int(rng.integers(1000000, 9999999))}"
        s.flush()
        s.expire(ent, ["risk_points"])
        decision = decide_level(s, ent)
        if decision.level != level0:
            raise AssertionError("the demo plant changed its enterprise's level")  # a bug of this function
        if new_records:  # the enterprise's level derived again over all its points (the same level)
            at = (max(new_records) + step).replace(microsecond=0)
            rec = Assessment(enterprise_id=ent.id, method=decision.method, inputs=decision.inputs,
                             level=decision.level, explanation=decision.explanation, assessor="示例评估员",
                             assessed_at=at)
            s.add(rec)
            s.flush()
            ent.level_basis, ent.level_assessment_id = decision.explanation, rec.id
        # hidden dangers found in the plant: at the tanks when they concern them, else in the danger block
        tank = next(rp.geom for rp in ent.risk_points if rp.kind == "hazard_source") if hazard \
            else block_geom(lay.hazard_block)
        other = block_geom(lay.danger_block)
        step_deg = lay.danger_step_deg
        for k, dgr in enumerate(s.scalars(select(HiddenDanger).where(HiddenDanger.enterprise_id == ent.id)
                                          .order_by(HiddenDanger.id))):
            area = tank if any(w in dgr.title for w in ("储罐", "液氨", "罐区", "油罐")) else other
            cx, cy = area.centroid.coords[0]
            dgr.geom = shapely.Point(cx + step_deg * (k % 3), cy - 0.8 * step_deg * (k // 3))
        plan.created_at = start - dt.timedelta(days=2)


# Functions run on the finished demo (e.g. zoning, indicators); other modules register here.
POST_BUILD_HOOKS: list[Callable[[Project], None]] = []


def _risk_engine_hook(project: Project) -> None:
    """Level every zone unit (就高) and load the place's plan indicators with fictitious yearly actuals."""
    from riskmap.grading.zoning import demo_zoning
    from riskmap.indicators import demo_indicators

    demo_zoning(project)
    demo_indicators(project)


POST_BUILD_HOOKS.append(_risk_engine_hook)


def make_demo(out, *, place: str = "会宁县", seed: int = 1, progress: Progress | None = None,
              overwrite: bool = False) -> Project:
    """Create a demo project for one of the five seed places; returns it open."""
    p = find_place(place)
    if p.adcode not in PROFILES:
        raise RiskmapError(f"没有该地的示例配置: {place}", f"no demo profile for {place}")
    builder = _Builder(p, seed, progress)
    return Project.create(out, name=f"{p.name}安全风险一张图（示例数据）", place=p.adcode, demo=True,
                          metric_epsg=p.epsg, build=builder.build, overwrite=overwrite)
