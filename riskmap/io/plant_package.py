"""The plant package (厂区风险信息包): one small GeoPackage an enterprise sends to the bureau, and its import.

A package is a riskmap project file holding one enterprise only — its row, its risk points and hazard sources
(areas or points, with the 风险告知卡 fields and substances), its georeferenced plant plan, the whole assessment
history of the enterprise and its points (original dates and assessors), its 5个清单 and its hidden dangers with
their steps — marked in ``project_meta`` as a package (``package_kind = plant``, the source project, adcode,
export time, riskmap version). So QGIS, GDAL and riskmap open it as they open any project (same schema, coded
domains and styles).

The bureau imports it into its county project (:func:`import_package`, ``riskmap import P PLANT.gpkg --layer
plant``): the enterprise is found by its 统一社会信用代码, then in one transaction the risk points are matched by
name and kind (added / changed, with the fields / unchanged / missing from the package: kept unless
``delete_missing``), the plan is replaced when it differs, the assessment history is merged without duplicates
(same point, method, inputs, date and level: the same record), the 5个清单 follow the package, new hidden dangers
come in with their steps, the enterprise's level is derived again (就高) and the zones holding it recoloured.
The enterprise's own row (name, address, contacts) stays as the bureau keeps it; differences are reported.
Hidden dangers the project already has are not changed by a package (their steps belong to the bureau's
supervision: ``riskmap danger advance``); differences are reported.

>>> # info = export_package(project, 12, "示例化工厂区包.gpkg")
>>> # report = import_package(county, "示例化工厂区包.gpkg"); print("\\n".join(report.lines()))
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import sqlite3
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import shapely
from sqlalchemy import or_, select
from sqlalchemy.exc import DatabaseError

from riskmap import __version__
from riskmap.errors import RiskmapError
from riskmap.grading.enterprise import ENTERPRISE_METHODS, derive_level, latest_override
from riskmap.io.matching import name_key, normalise_credit_code
from riskmap.marks import DEMO_MARK, DEMO_NOTE, demo_title
from riskmap.model import (
    Assessment, EditRecord, Enterprise, EnterpriseList, HiddenDanger, HiddenDangerEvent, PlantPlan, RiskPoint,
    SafetyDistance, Substance, Zone,
)
from riskmap.plant import MAX_PIXELS
from riskmap.store import Project
from riskmap.store.gpkg import sniff
from riskmap.store.migrations import SCHEMA_VERSION

PACKAGE_KIND = "plant"
# the bureau's meta copied into a package (so cards printed from it name the same bureau)
COPIED_META = ("place_name", "place_full_name", "place_level", "org", "bureau_phone")
POINT_FIELDS = ("description", "category", "major_hazard_grade", *RiskPoint.CARD_FIELDS)
PLAN_FIELDS = ("image", "media_type", "width", "height", "source_name", "page", "crs", "transform", "gcps", "rms_m",
               "max_residual_m", "method")
ENTERPRISE_FIELDS = ("name", "industry", "industry_detail", "town", "address", "employees", "department",
                     "legal_person", "contact", "phone", "major_hazard")
DANGER_FIELDS = ("description", "grade", "status", "deadline", "responsible_person", "measures", "funds_wan", "plan",
                 "supervising_department", "effect_evaluation", "closed_date")
MAX_PACKAGE_BYTES = 1 << 30  # a plant package is a few MB at most: a bigger file is refused before it is read
SAME_GEOM_DEG = 1e-9  # a geometry read back from a package is the same geometry

FIELD_ZH = {
    "description": "说明", "category": "类别", "major_hazard_grade": "重大危险源等级", "hazard_factors": "危险有害因素",
    "accident_types": "可能导致的事故类型", "control_measures": "管控措施", "emergency_measures": "应急处置措施",
    "responsible_person": "责任人", "responsible_phone": "联系电话", "signs": "安全标志", "level": "风险等级",
    "geom": "位置", "substances": "危险物质", "assessments": "评估记录", "name": "名称", "industry": "行业",
    "industry_detail": "行业细类", "town": "乡镇", "address": "地址", "employees": "从业人数", "department": "监管部门",
    "legal_person": "法定代表人", "contact": "联系人", "phone": "电话", "major_hazard": "重大危险源",
    "grade": "隐患等级", "status": "状态", "deadline": "整改期限", "measures": "整改措施", "funds_wan": "资金",
    "plan": "预案", "supervising_department": "督办部门", "effect_evaluation": "整改效果评价", "closed_date": "销号日期",
    "events": "处理步骤",
}


# ---------------------------------------------------------------- export

@dataclass(frozen=True)
class PackageInfo:
    """What :func:`export_package` wrote."""

    path: str
    enterprise_id: int
    enterprise_name: str
    credit_code: str | None
    points: int
    assessments: int
    has_plan: bool
    lists: int
    dangers: int
    demo: bool
    size_bytes: int

    def to_dict(self) -> dict:
        return asdict(self)


def _rows(conn, cls, *conds) -> list[dict]:
    tbl = cls.__table__
    query = select(tbl)
    if conds:
        query = query.where(*conds)
    return [dict(r) for r in conn.execute(query.order_by(tbl.c.id)).mappings()]


def _read_enterprise(conn, enterprise_id: int) -> dict:
    """Everything a package holds about one enterprise, as column values (geometry as shapely, JSON parsed)."""
    ents = _rows(conn, Enterprise, Enterprise.__table__.c.id == int(enterprise_id))
    if not ents:
        raise RiskmapError(f"项目中没有 id 为 {enterprise_id} 的企业", f"no enterprise with id {enterprise_id}",
                           where="enterprise")
    eid = ents[0]["id"]
    points = _rows(conn, RiskPoint, RiskPoint.__table__.c.enterprise_id == eid)
    pids = [p["id"] for p in points]
    dangers = _rows(conn, HiddenDanger, HiddenDanger.__table__.c.enterprise_id == eid)
    a = Assessment.__table__
    return {
        "enterprises": ents,
        "enterprise_lists": _rows(conn, EnterpriseList, EnterpriseList.__table__.c.enterprise_id == eid),
        "risk_points": points,
        "substances": _rows(conn, Substance, Substance.__table__.c.risk_point_id.in_(pids)) if pids else [],
        "plant_plans": _rows(conn, PlantPlan, PlantPlan.__table__.c.enterprise_id == eid),
        "assessments": _rows(conn, Assessment, or_(a.c.enterprise_id == eid, a.c.risk_point_id.in_(pids))
                             if pids else a.c.enterprise_id == eid),
        "hidden_dangers": dangers,
        "hidden_danger_events": _rows(conn, HiddenDangerEvent, HiddenDangerEvent.__table__.c.danger_id.in_(
            [d["id"] for d in dangers])) if dangers else [],
    }


def _readme_table(project: Project, rows: list[tuple[str, str]], demo: bool) -> None:
    """A small ``readme`` attributes table (key, value) that QGIS and GDAL list beside the layers."""
    with project.engine.begin() as conn:
        raw = conn.connection.driver_connection
        raw.execute("CREATE TABLE readme (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, value TEXT)")
        raw.executemany("INSERT INTO readme (key, value) VALUES (?, ?)", rows)
        raw.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description)"
                    " VALUES ('readme', 'attributes', '说明', ?)", (DEMO_NOTE if demo else "",))


def _check_replaceable(project: Project, out: Path, overwrite: bool) -> None:
    """An existing file is replaced only when it is an older plant package (never the project itself, another
    project or any other file)."""
    if not overwrite:
        raise RiskmapError(f"文件已存在: {out}", f"file exists already: {out}")
    if not project.target.count("://") and out.resolve() == Path(project.target).resolve():
        raise RiskmapError(f"厂区风险包不能写到项目文件本身: {out}", f"the package cannot replace the project itself: {out}")
    try:
        _package_meta(out)
    except RiskmapError:
        raise RiskmapError(f"文件已存在且不是厂区风险包，不覆盖: {out}",
                           f"the file exists and is not a plant package: not replaced: {out}") from None


def export_package(project: Project, enterprise_id: int, out_gpkg: str | os.PathLike, *,
                   overwrite: bool = True) -> PackageInfo:
    """Write the plant package of one enterprise: a riskmap project file holding that enterprise only.

    Written under a temporary name and renamed at the end (never a half-written package); an existing file is
    replaced only when it is a plant package (and ``overwrite``), never a project or another file. The rows keep
    their ids and dates; the enterprise's zone is left out (the county's zones are not in the package).
    A demo project's package says 示例数据 in its name, its metadata and its ``readme`` table.
    """
    out = Path(out_gpkg)
    with project.engine.connect() as conn:
        data = _read_enterprise(conn, enterprise_id)
    ent = data["enterprises"][0]
    ent["zone_id"] = None
    meta = project.meta()
    demo = project.is_demo
    exported = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    title = demo_title(f"{ent['name']} 厂区风险信息包", demo)

    def build(pkg: Project) -> None:
        with pkg.engine.begin() as conn:
            for table in ("enterprises", "enterprise_lists", "risk_points", "substances", "plant_plans",
                          "assessments", "hidden_dangers", "hidden_danger_events"):
                rows = data[table]
                if rows:
                    cls = {c.__tablename__: c for c in (Enterprise, EnterpriseList, RiskPoint, Substance, PlantPlan,
                                                        Assessment, HiddenDanger, HiddenDangerEvent)}[table]
                    conn.execute(cls.__table__.insert(), rows)
        pkg.set_meta(
            package_kind=PACKAGE_KIND, package_source=project.name, package_adcode=project.place or "",
            package_exported_at=exported.isoformat().replace("+00:00", "Z"), package_riskmap_version=__version__,
            package_enterprise_id=str(ent["id"]), package_credit_code=ent.get("credit_code") or "",
            **{k: meta.get(k) or "" for k in COPIED_META})
        readme = [("内容 content", "厂区风险信息包 plant package"), ("企业 enterprise", ent["name"]),
                  ("统一社会信用代码 credit code", ent.get("credit_code") or ""),
                  ("来源项目 source project", project.name),
                  ("导出时间 exported", exported.isoformat().replace("+00:00", "Z")),
                  ("坐标系 CRS", "EPSG:4490 (CGCS2000)"), ("软件 software", f"riskmap {__version__}")]
        if demo:
            readme.insert(0, ("示例数据 demo data", DEMO_NOTE))
        _readme_table(pkg, readme, demo)

    if out.exists():
        _check_replaceable(project, out, overwrite)
    Project.create(out, name=title, place=project.place, demo=demo, metric_epsg=project.metric_epsg, build=build,
                   overwrite=True).close()
    return PackageInfo(path=str(out), enterprise_id=int(ent["id"]), enterprise_name=ent["name"],
                       credit_code=ent.get("credit_code"), points=len(data["risk_points"]),
                       assessments=len(data["assessments"]), has_plan=bool(data["plant_plans"]),
                       lists=len(data["enterprise_lists"]), dangers=len(data["hidden_dangers"]), demo=demo,
                       size_bytes=out.stat().st_size)


# ---------------------------------------------------------------- reading a package

def _damaged(where: str) -> RiskmapError:
    return RiskmapError("厂区风险包已损坏或无法读取", "the plant package is damaged or unreadable", where=where)


def _package_meta(path: Path) -> dict[str, str | None]:
    """project_meta of a file that should be a package: refused when it is not a GeoPackage, not a riskmap
    file, not a plant package, or made by a newer riskmap; read without changing the file."""
    where = path.name
    if not path.exists():
        raise RiskmapError(f"文件不存在: {path}", f"file not found: {path}")
    if path.is_dir():
        raise RiskmapError(f"这是一个文件夹，不是厂区风险包: {path}", f"a folder, not a plant package: {path}")
    try:
        kind = sniff(path)
    except OSError as exc:
        raise RiskmapError(f"无法读取文件（{exc.strerror}）", f"cannot read the file ({exc.strerror})", where=where) from exc
    if kind != "gpkg":
        raise RiskmapError("不是 GeoPackage 文件，不是厂区风险包", "not a GeoPackage: not a plant package", where=where)
    size = path.stat().st_size
    if size > MAX_PACKAGE_BYTES:
        raise RiskmapError(f"文件 {size >> 20} MB，超过厂区风险包上限 {MAX_PACKAGE_BYTES >> 20} MB",
                           f"a file of {size >> 20} MB is over the plant package limit of {MAX_PACKAGE_BYTES >> 20} MB",
                           where=where)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            if con.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise _damaged(where)
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "project_meta" not in tables:
                raise RiskmapError("这个 GeoPackage 不是 riskmap 厂区风险包", "this GeoPackage is not a riskmap plant package",
                                   where=where)
            meta = dict(con.execute("SELECT key, value FROM project_meta").fetchall())
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise _damaged(where) from exc
    if meta.get("package_kind") != PACKAGE_KIND:
        other = meta.get("package_kind")
        what_zh = f"“{other}”类型的包" if other else "riskmap 项目文件"
        what_en = f"a package of kind {other!r}" if other else "a riskmap project"
        raise RiskmapError(f"这是{what_zh}，不是厂区风险包（用 riskmap plant --pack 导出）",
                           f"this is {what_en}, not a plant package (made by riskmap plant --pack)", where=where)
    try:
        version = int(meta.get("schema_version") or 0)
    except ValueError:
        raise _damaged(where) from None
    if version > SCHEMA_VERSION:
        raise RiskmapError(f"厂区风险包由更新版本的 riskmap 导出（结构版本 {version}，本程序支持 {SCHEMA_VERSION}），请升级 riskmap",
                           f"the package was made by a newer riskmap (schema {version}, this one reads "
                           f"{SCHEMA_VERSION}); upgrade riskmap", where=where)
    return meta


def _bad(where: str, zh: str, en: str) -> RiskmapError:
    return RiskmapError(f"厂区风险包内容有误：{zh}", f"bad plant package content: {en}", where=where)


def _check_geom(g, where: str, allowed: tuple[str, ...]) -> None:
    if g is None:
        return
    if not isinstance(g, shapely.Geometry) or g.geom_type not in allowed:
        raise _bad(where, f"几何类型应为 {'/'.join(allowed)}", f"geometry must be {'/'.join(allowed)}")
    if g.is_empty:
        return
    x0, y0, x1, y1 = g.bounds
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x0 < -180 or x1 > 180 or y0 < -90 or y1 > 90:
        raise _bad(where, "坐标超出经纬度范围", "coordinates outside longitude/latitude range")


def _check_level(v, where: str, *, required: bool) -> None:
    if v is None and not required:
        return
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 4:
        raise _bad(where, f"风险等级应为 1–4，实为 {v!r}", f"level must be 1-4, got {v!r}")


def _check_text(row: dict, names, where: str) -> None:
    for n in names:
        v = row.get(n)
        if v is not None and not isinstance(v, str):
            raise _bad(f"{where}.{n}", "应为文本", "must be text")


def _check_plan_image(plan: dict, where: str) -> None:
    """The plan's image must be the PNG or JPEG it says, of its stated size, and not a bomb."""
    import io

    from PIL import Image

    image = plan.get("image")
    if not isinstance(image, (bytes, bytearray, memoryview)) or not len(image):
        raise _bad(where, "平面图没有图像", "the plan has no image")
    w, h = plan.get("width"), plan.get("height")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (w, h)) or w * h > MAX_PIXELS:
        raise _bad(where, f"平面图尺寸无效: {w}×{h}", f"bad plan size: {w}x{h}")
    formats = {"image/png": "PNG", "image/jpeg": "JPEG"}
    if plan.get("media_type") not in formats:
        raise _bad(where, f"平面图类型应为 PNG 或 JPEG，实为 {plan.get('media_type')!r}",
                   f"plan type must be PNG or JPEG, got {plan.get('media_type')!r}")
    try:
        with Image.open(io.BytesIO(bytes(image)), formats=[formats[plan["media_type"]]]) as im:
            if im.size != (w, h):
                raise _bad(where, f"平面图图像为 {im.size[0]}×{im.size[1]}，与记录的 {w}×{h} 不符",
                           f"plan image is {im.size[0]}x{im.size[1]}, not the stated {w}x{h}")
            im.verify()
    except RiskmapError:
        raise
    except Exception as exc:  # Pillow raises many kinds for a broken image
        raise _bad(where, "平面图图像已损坏", "the plan image is damaged") from exc
    t = plan.get("transform")
    if not (isinstance(t, list) and len(t) == 6 and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                           and math.isfinite(v) for v in t)):
        raise _bad(where, "平面图的坐标变换应为 6 个数", "the plan transform must be 6 numbers")
    if not isinstance(plan.get("crs"), int):
        raise _bad(where, "平面图坐标系应为 EPSG 代码", "the plan CRS must be an EPSG code")


def _check_inside_plant(data: dict, where: str) -> None:
    """The package's risk points lie in its enterprise's plant, as riskmap.plant would have let them be drawn
    (within 3 km of the enterprise's point, at most 10 km² each)."""
    from riskmap.crs import gk_zone_epsg
    from riskmap.plant import check_geometry

    row = data["enterprises"][0]
    home = row.get("geom")
    if home is None or home.is_empty:
        return
    ent = Enterprise(name=row["name"], geom=home)
    epsg = gk_zone_epsg(home.x)
    for p in data["risk_points"]:
        if p.get("geom") is None:
            continue
        try:
            check_geometry(p["geom"], ent, epsg)
        except RiskmapError as exc:
            raise _bad(f"{where}: risk_points[{p['id']}]", f"风险点“{p['name']}”: {exc.zh}",
                       f"risk point {p['name']!r}: {exc.en}") from None


def _validate(data: dict, where: str) -> None:
    """Refuse a package whose content riskmap would not have written (a damaged or hand-made file)."""
    if len(data["enterprises"]) != 1:
        raise _bad(where, f"应有 1 家企业，实有 {len(data['enterprises'])} 家",
                   f"must hold 1 enterprise, holds {len(data['enterprises'])}")
    ent = data["enterprises"][0]
    if not isinstance(ent.get("name"), str) or not ent["name"].strip():
        raise _bad(f"{where}: enterprises", "企业没有名称", "the enterprise has no name")
    _check_text(ent, ("credit_code", "industry", "industry_detail", "town", "address", "department", "legal_person",
                      "contact", "phone"), f"{where}: enterprises")
    _check_geom(ent.get("geom"), f"{where}: enterprises", ("Point",))
    for p in data["risk_points"]:
        w = f"{where}: risk_points[{p['id']}]"
        if not isinstance(p.get("name"), str) or not p["name"].strip():
            raise _bad(w, "风险点没有名称", "a risk point has no name")
        if p.get("kind") not in RiskPoint.KINDS:
            raise _bad(w, f"类型应为 {'/'.join(RiskPoint.KINDS)}", f"kind must be one of {RiskPoint.KINDS}")
        if p.get("category") is not None and p["category"] not in RiskPoint.CATEGORIES:
            raise _bad(w, f"类别应为 {'/'.join(RiskPoint.CATEGORIES)}", f"category must be one of {RiskPoint.CATEGORIES}")
        _check_text(p, ("description", *RiskPoint.CARD_FIELDS[:-1]), w)
        signs = p.get("signs")
        if signs is not None and not (isinstance(signs, list) and all(isinstance(s, str) for s in signs)):
            raise _bad(w, "安全标志应为代码列表", "signs must be a list of codes")
        _check_level(p.get("level"), w, required=False)
        _check_geom(p.get("geom"), w, ("Point", "Polygon", "MultiPolygon"))
    _check_inside_plant(data, where)
    for s in data["substances"]:
        q = s.get("quantity_t")
        if not isinstance(s.get("name"), str) or not isinstance(q, (int, float)) or not math.isfinite(q):
            raise _bad(f"{where}: substances[{s['id']}]", "危险物质名称或数量无效", "bad substance name or quantity")
    for a in data["assessments"]:
        w = f"{where}: assessments[{a['id']}]"
        _check_level(a.get("level"), w, required=True)
        if not isinstance(a.get("method"), str) or not isinstance(a.get("assessed_at"), dt.datetime):
            raise _bad(w, "评估记录缺少方法或日期", "an assessment lacks its method or date")
        if a.get("inputs") is not None and not isinstance(a["inputs"], dict):
            raise _bad(w, "评估输入应为 JSON 对象", "assessment inputs must be a JSON object")
    for lst in data["enterprise_lists"]:
        if lst.get("kind") not in EnterpriseList.KINDS:
            raise _bad(f"{where}: enterprise_lists[{lst['id']}]", f"清单类型应为 {'/'.join(EnterpriseList.KINDS)}",
                       f"list kind must be one of {EnterpriseList.KINDS}")
    for d in data["hidden_dangers"]:
        w = f"{where}: hidden_dangers[{d['id']}]"
        if not isinstance(d.get("title"), str) or d.get("grade") not in HiddenDanger.GRADES \
                or d.get("status") not in HiddenDanger.STATUSES:
            raise _bad(w, "隐患名称、等级或状态无效", "bad hidden danger title, grade or status")
        _check_geom(d.get("geom"), w, ("Point",))
    for e in data["hidden_danger_events"]:
        if e.get("to_status") not in HiddenDanger.STATUSES:
            raise _bad(f"{where}: hidden_danger_events[{e['id']}]", "隐患步骤状态无效", "bad hidden danger step status")
    if len(data["plant_plans"]) > 1:
        raise _bad(where, "一家企业只能有一张平面图", "one enterprise has one plan")
    for plan in data["plant_plans"]:
        _check_plan_image(plan, f"{where}: plant_plans")


def read_package(package_path: str | os.PathLike) -> tuple[dict, dict]:
    """(meta, content) of a plant package, checked; the file is not changed (an older package is upgraded in
    a temporary copy)."""
    path = Path(package_path)
    meta = _package_meta(path)
    where = path.name
    with tempfile.TemporaryDirectory(prefix="riskmap-package-") as tmp:
        copy = Path(tmp) / "package.gpkg"
        shutil.copyfile(path, copy)
        try:
            with Project.open(copy) as pkg, pkg.engine.connect() as conn:
                ids = [r[0] for r in conn.execute(select(Enterprise.__table__.c.id))]
                if len(ids) != 1:
                    raise _bad(where, f"应有 1 家企业，实有 {len(ids)} 家", f"must hold 1 enterprise, holds {len(ids)}")
                data = _read_enterprise(conn, ids[0])
        except RiskmapError as exc:
            if str(copy) in exc.zh or str(copy) in exc.en:
                raise _damaged(where) from exc
            raise
        except (DatabaseError, sqlite3.DatabaseError, ValueError, TypeError, KeyError) as exc:
            raise _damaged(where) from exc
    _validate(data, where)
    return meta, data


# ---------------------------------------------------------------- import

@dataclass
class PackageReport:
    """What an import of a plant package did (or, with ``dry_run``, would do)."""

    package: str
    source: str | None
    exported_at: str | None
    enterprise_id: int
    enterprise_name: str
    credit_code: str
    created: bool = False
    dry_run: bool = False
    demo: bool = False  # the package is demo data (示例数据)
    points_added: list[str] = field(default_factory=list)
    points_changed: dict[str, list[str]] = field(default_factory=dict)  # name → changed fields
    points_unchanged: list[str] = field(default_factory=list)
    points_missing: list[str] = field(default_factory=list)  # in the project, not in the package
    points_deleted: list[str] = field(default_factory=list)
    plan: str = "none"  # added | replaced | unchanged | none (the package has none)
    assessments_added: int = 0
    assessments_present: int = 0
    # the enterprise's own level records dated after an override the bureau has in force (not imported: the
    # override stays in force until the bureau ends it)
    assessments_skipped: int = 0
    override: str | None = None  # the override in force: "level, date, assessor"
    lists_changed: list[str] = field(default_factory=list)
    dangers_added: list[str] = field(default_factory=list)
    dangers_differing: dict[str, list[str]] = field(default_factory=dict)  # kept as the project has them
    enterprise_differences: dict[str, list] = field(default_factory=dict)  # field → [project, package]
    level_before: int | None = None
    level_after: int | None = None
    zones_recoloured: int = 0

    @property
    def changed(self) -> bool:
        """Whether the import changed the project (or would have)."""
        return bool(self.created or self.points_added or self.points_changed or self.points_deleted
                    or self.plan in ("added", "replaced") or self.assessments_added or self.lists_changed
                    or self.dangers_added or self.level_before != self.level_after)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["changed"] = self.changed
        return d

    def lines(self, limit: int = 200) -> list[str]:
        """The report as text lines (Chinese / English)."""
        from riskmap.levels import level_info

        def lv(n):
            return "未评估" if n is None else level_info(n).name_zh

        out = [f"厂区风险包 Package: {self.package}（来源 source: {self.source or '-'}，导出 exported: "
               f"{self.exported_at or '-'}）",
               f"企业 Enterprise: {self.enterprise_name}（id {self.enterprise_id}，统一社会信用代码 {self.credit_code}）"
               + ("  新建 created" if self.created else "")]
        if self.demo:
            out.append(f"注意：这是示例数据包（{DEMO_MARK}），不是企业的真实数据 / note: a demo package, not real data")
        out.append(f"风险点 Risk points: 新增 {len(self.points_added)}，更新 {len(self.points_changed)}，"
                   f"无变化 {len(self.points_unchanged)}，包中没有 {len(self.points_missing)} / {len(self.points_added)} "
                   f"added, {len(self.points_changed)} changed, {len(self.points_unchanged)} unchanged, "
                   f"{len(self.points_missing)} not in the package")
        for name in self.points_added[:limit]:
            out.append(f"  新增 added: {name}")
        for name, fields in list(self.points_changed.items())[:limit]:
            out.append(f"  更新 changed: {name}: {'、'.join(FIELD_ZH.get(f, f) for f in fields)}")
        deleted = set(self.points_deleted)
        for name in self.points_missing[:limit]:
            out.append(f"  包中没有 not in the package: {name}: " + ("已删除 deleted" if name in deleted else "保留 kept"))
        if self.points_missing and not deleted:
            out.append("  （未删除；要删除请加 --delete-missing / kept; add --delete-missing to delete them）")
        plan_zh = {"added": "新增 added", "replaced": "已替换 replaced", "unchanged": "无变化 unchanged",
                   "none": "包中没有 none in the package"}[self.plan]
        out.append(f"平面图 Plan: {plan_zh}")
        out.append(f"评估记录 Assessments: 新增 {self.assessments_added}，已有 {self.assessments_present} / "
                   f"{self.assessments_added} added, {self.assessments_present} already present")
        if self.assessments_skipped:
            out.append(f"  企业自定级记录 {self.assessments_skipped} 条晚于本局的评估人覆盖（{self.override}），未导入，覆盖仍有效 / "
                       f"{self.assessments_skipped} enterprise-level records newer than the bureau's override "
                       f"({self.override}) not imported: the override stays in force")
        if self.lists_changed:
            out.append(f"五个清单 Lists updated: {'、'.join(self.lists_changed)}")
        if self.dangers_added:
            out.append(f"隐患 Hidden dangers added: {len(self.dangers_added)}")
            out += [f"  新增 added: {t}" for t in self.dangers_added[:limit]]
        for title, fields in list(self.dangers_differing.items())[:limit]:
            out.append(f"  隐患与项目记录不同（未修改，按本局记录）differs, kept as the project has it: {title}: "
                       f"{'、'.join(FIELD_ZH.get(f, f) for f in fields)}")
        for f, (mine, theirs) in self.enterprise_differences.items():
            out.append(f"  企业{FIELD_ZH.get(f, f)}不同（未修改）differs, kept: 项目 {mine!s} / 包 {theirs!s}")
        out.append(f"企业风险等级 Enterprise level: {lv(self.level_before)} → {lv(self.level_after)}"
                   + (f"；重新着色分区 {self.zones_recoloured} 个 / {self.zones_recoloured} zones recoloured"
                      if self.zones_recoloured else ""))
        if self.dry_run:
            out.append("试运行，未写入 / dry run: nothing written")
        elif not self.changed:
            out.append("无变化 / nothing changed")
        return out


class _Rollback(Exception):
    pass


def _norm(v):
    """A value as compared: blank text is None, whole floats are ints, lists and dicts as sorted JSON."""
    if isinstance(v, str) and not v.strip():
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    return v


def _same_geom(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.geom_type == b.geom_type and bool(shapely.equals_exact(a, b, tolerance=SAME_GEOM_DEG))


def _substances_key(rows) -> list:
    return sorted((r["name"], r.get("cas") or None, float(r["quantity_t"]),
                   None if r.get("design_max_t") is None else float(r["design_max_t"])) for r in rows)


def _record_key(point_id, method, inputs, assessed_at, level) -> tuple:
    return (point_id, method, json.dumps(inputs, ensure_ascii=False, sort_keys=True) if inputs is not None else None,
            assessed_at.replace(microsecond=0, tzinfo=None), int(level))


def _find_enterprise(session, code: str) -> Enterprise | None:
    for ent in session.scalars(select(Enterprise).where(Enterprise.credit_code.is_not(None)).order_by(Enterprise.id)):
        if normalise_credit_code(ent.credit_code) == code:
            return ent
    return None


def _create_enterprise(session, row: dict) -> Enterprise:
    """A new enterprise from the package's row: its town and zone from the project's towns when it lies in one."""
    values = {k: row.get(k) for k in ("name", "credit_code", *ENTERPRISE_FIELDS[1:], "geom")}
    values["industry"] = values.get("industry") or "other"
    ent = Enterprise(**values)
    qr = row.get("qr_id")
    if isinstance(qr, str) and session.scalar(select(Enterprise.id).where(Enterprise.qr_id == qr)) is None:
        ent.qr_id = qr
    geom = row.get("geom")
    if geom is not None and not geom.is_empty:
        for z in session.scalars(select(Zone).where(Zone.kind == "town").order_by(Zone.id)):
            if z.geom is not None and z.geom.covers(geom):
                ent.zone_id, ent.town = z.id, z.name
                break
    session.add(ent)
    session.flush()
    return ent


def _delete_point(session, rp: RiskPoint, user: str) -> None:
    """Delete a risk point the package no longer has, as riskmap.plant.delete_risk_point does: its own
    assessment records go with it, kept in the edit history entry of the deletion."""
    from sqlalchemy import delete, update

    recs = list(session.scalars(select(Assessment).where(Assessment.risk_point_id == rp.id).order_by(Assessment.id)))
    kept = [{"id": a.id, "method": a.method, "inputs": a.inputs, "score": a.score, "level": a.level,
             "explanation": a.explanation, "assessor": a.assessor,
             "assessed_at": None if a.assessed_at is None else a.assessed_at.isoformat()} for a in recs]
    session.execute(update(SafetyDistance).where(SafetyDistance.risk_point_id == rp.id).values(risk_point_id=None))
    if kept:
        for a in recs:
            session.expunge(a)
        session.execute(delete(Assessment).where(Assessment.risk_point_id == rp.id),
                        execution_options={"synchronize_session": False})
        session.add(EditRecord(user=user, table_name="assessments", row_id=None, action="delete",
                               changes={"risk_point_id": rp.id, "risk_point": rp.name, "records": kept}))
    session.delete(rp)
    session.flush()


def import_package(project: Project, package_path: str | os.PathLike, *, dry_run: bool = False,
                   assessor: str | None = None, create: bool = False, delete_missing: bool = False) -> PackageReport:
    """Bring a plant package into ``project`` in one transaction and report what changed (see the module text).

    The enterprise is found by its 统一社会信用代码; none in the package, or none in the project (unless
    ``create``), is refused with the project unchanged, as is a damaged package, one of another kind or one
    made by a newer riskmap. ``dry_run``: everything is worked out and reported, nothing written.
    """
    path = Path(package_path)
    where = path.name
    meta, data = read_package(path)
    row = data["enterprises"][0]
    code = normalise_credit_code(row.get("credit_code"))
    if not code:
        raise RiskmapError(f"厂区风险包中的企业“{row['name']}”没有统一社会信用代码，无法与项目中的企业对应",
                           f"the package's enterprise {row['name']!r} has no credit code to match it by", where=where)
    assessor = assessor or project.user
    report: PackageReport | None = None
    try:
        with project.session() as session:
            report = _merge(session, data, meta, code, where=where, assessor=assessor, create=create,
                            delete_missing=delete_missing, user=project.user)
            report.dry_run = dry_run
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    if not dry_run:
        project.refresh_extents()
    return report


def _merge(session, data: dict, meta: dict, code: str, *, where: str, assessor: str, create: bool,
           delete_missing: bool, user: str) -> PackageReport:
    from riskmap.grading.zoning import enterprises_changed

    row = data["enterprises"][0]
    ent = _find_enterprise(session, code)
    created = False
    if ent is None:
        if not create:
            raise RiskmapError(f"项目中没有统一社会信用代码为 {code} 的企业（“{row['name']}”）；要新建请加 --create",
                               f"no enterprise with credit code {code} ({row['name']!r}) in the project; "
                               "add --create to add it", where=where)
        ent = _create_enterprise(session, row)
        created = True
    before = ent.level
    rep = PackageReport(package=where, source=meta.get("package_source"), exported_at=meta.get("package_exported_at"),
                        enterprise_id=ent.id, enterprise_name=ent.name, credit_code=code, created=created,
                        demo=meta.get("demo") == "1", level_before=None if created else before)
    if not created:
        for f in ENTERPRISE_FIELDS:
            mine, theirs = _norm(getattr(ent, f)), _norm(row.get(f))
            if theirs is not None and mine != theirs:
                rep.enterprise_differences[f] = [getattr(ent, f), row.get(f)]
        if row.get("geom") is not None and not _same_geom(ent.geom, row["geom"]):
            rep.enterprise_differences["geom"] = [None if ent.geom is None else ent.geom.wkt, row["geom"].wkt]

    # -- risk points: matched by name and kind, in id order where a name repeats
    subs_of: dict[int, list] = {}
    for s in data["substances"]:
        subs_of.setdefault(s["risk_point_id"], []).append(s)
    mine: dict[tuple, list[RiskPoint]] = {}
    for rp in sorted(ent.risk_points, key=lambda p: p.id):
        mine.setdefault((name_key(rp.name), rp.kind), []).append(rp)
    point_map: dict[int, RiskPoint] = {}  # package point id → project point
    changes: dict[int, list[str]] = {}
    for p in data["risk_points"]:
        key = (name_key(p["name"]), p["kind"])
        if mine.get(key):
            rp = mine[key].pop(0)
            fields = [f for f in POINT_FIELDS if _norm(getattr(rp, f)) != _norm(p.get(f))]
            for f in fields:
                setattr(rp, f, p.get(f))
            if not _same_geom(rp.geom, p.get("geom")):
                rp.geom = p.get("geom")
                fields.append("geom")
            if _substances_key([{c: getattr(s, c) for c in ("name", "cas", "quantity_t", "design_max_t")}
                                for s in rp.substances]) != _substances_key(subs_of.get(p["id"], [])):
                rp.substances = [Substance(name=s["name"], cas=s.get("cas"), quantity_t=s["quantity_t"],
                                           design_max_t=s.get("design_max_t")) for s in subs_of.get(p["id"], [])]
                fields.append("substances")
            changes[p["id"]] = fields
        else:
            rp = RiskPoint(enterprise_id=ent.id, name=p["name"], kind=p["kind"], geom=p.get("geom"),
                           **{f: p.get(f) for f in POINT_FIELDS},
                           substances=[Substance(name=s["name"], cas=s.get("cas"), quantity_t=s["quantity_t"],
                                                 design_max_t=s.get("design_max_t")) for s in subs_of.get(p["id"], [])])
            session.add(rp)
            rep.points_added.append(p["name"])
        point_map[p["id"]] = rp
    session.flush()
    for rest in mine.values():
        for rp in rest:
            rep.points_missing.append(rp.name)
            if delete_missing:
                rep.points_deleted.append(rp.name)
                _delete_point(session, rp, user)
    if delete_missing:
        session.expire(ent, ["risk_points"])

    # -- assessment history: merged, the same record never twice
    pids = [rp.id for rp in ent.risk_points]
    existing = list(session.scalars(select(Assessment).where(
        or_(Assessment.enterprise_id == ent.id, Assessment.risk_point_id.in_(pids)) if pids
        else Assessment.enterprise_id == ent.id)))
    have = {_record_key(a.risk_point_id, a.method, a.inputs, a.assessed_at, a.level): a for a in existing}
    override = None if created else latest_override(session, ent)
    if override is not None:
        from riskmap.levels import level_info

        rep.override = (f"{level_info(override.level).name_zh}，{override.assessed_at:%Y-%m-%d}，"
                        f"{override.assessor or '-'}")
    rp_ids = {str(k): str(v.id) for k, v in point_map.items()}
    record_map: dict[int, int] = {}
    added_per_point: dict[int, int] = {}
    for a in sorted(data["assessments"], key=lambda r: (r["assessed_at"], r["id"])):
        target_rp = point_map.get(a["risk_point_id"]) if a.get("risk_point_id") is not None else None
        if a.get("risk_point_id") is not None and target_rp is None:
            continue  # a record of a point the package does not hold (cannot happen in a package riskmap wrote)
        inputs = a.get("inputs")
        if inputs is not None and a["method"] in ENTERPRISE_METHODS:  # ids of the package → ids of the project
            inputs = dict(inputs)
            if isinstance(inputs.get("risk_points"), dict):
                inputs["risk_points"] = {rp_ids.get(str(k), str(k)): v for k, v in inputs["risk_points"].items()}
            if inputs.get("override_id") in record_map:
                inputs["override_id"] = record_map[inputs["override_id"]]
        key = _record_key(None if target_rp is None else target_rp.id, a["method"], inputs, a["assessed_at"], a["level"])
        if key in have:
            record_map[a["id"]] = have[key].id
            rep.assessments_present += 1
            continue
        if override is not None and target_rp is None and a["method"] in ENTERPRISE_METHODS \
                and a["assessed_at"] >= override.assessed_at:
            rep.assessments_skipped += 1
            continue
        rec = Assessment(enterprise_id=ent.id, risk_point_id=None if target_rp is None else target_rp.id,
                         method=a["method"], inputs=inputs, score=a.get("score"), level=a["level"],
                         explanation=a.get("explanation"), assessor=a.get("assessor"), note=a.get("note"),
                         assessed_at=a["assessed_at"])
        session.add(rec)
        session.flush()
        have[key] = rec
        record_map[a["id"]] = rec.id
        rep.assessments_added += 1
        if target_rp is not None:
            added_per_point[a["risk_point_id"]] = added_per_point.get(a["risk_point_id"], 0) + 1

    # -- each point's level: its newest record in the merged history (the package's level when it has none)
    for p in data["risk_points"]:
        rp = point_map[p["id"]]
        newest = session.scalars(select(Assessment).where(Assessment.risk_point_id == rp.id)
                                 .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()).limit(1)).first()
        level, rec_id = (newest.level, newest.id) if newest is not None else (p.get("level"), None)
        if p["id"] in changes:
            if rp.level != level:
                changes[p["id"]].append("level")
            if added_per_point.get(p["id"]):
                changes[p["id"]].append("assessments")
            if changes[p["id"]]:
                rep.points_changed[p["name"]] = changes[p["id"]]
            else:
                rep.points_unchanged.append(p["name"])
        if rp.level != level or rp.level_assessment_id != rec_id:
            rp.level, rp.level_assessment_id = level, rec_id

    # -- the plan
    plans = data["plant_plans"]
    if plans:
        theirs = plans[0]
        plan = session.scalars(select(PlantPlan).where(PlantPlan.enterprise_id == ent.id)).first()
        if plan is None:
            session.add(PlantPlan(enterprise_id=ent.id, **{f: theirs.get(f) for f in PLAN_FIELDS}))
            rep.plan = "added"
        elif any(_norm(getattr(plan, f)) != _norm(theirs.get(f)) for f in PLAN_FIELDS):
            for f in PLAN_FIELDS:
                setattr(plan, f, theirs.get(f))
            rep.plan = "replaced"
        else:
            rep.plan = "unchanged"

    # -- the 5个清单: the package's content of each kind it holds
    lists = {}
    for lst in sorted(ent.lists, key=lambda x: x.id):
        lists.setdefault(lst.kind, []).append(lst)
    kind_zh = {"basic": "基础信息", "responsibility": "防控责任", "monitoring": "监测监控", "measures": "防范措施",
               "emergency": "应急处置"}
    theirs_by_kind: dict[str, list] = {}
    for lst in data["enterprise_lists"]:
        theirs_by_kind.setdefault(lst["kind"], []).append(lst.get("content"))
    for kind, contents in theirs_by_kind.items():
        ours = lists.get(kind, [])
        if [_norm(x.content) for x in ours] == [_norm(c) for c in contents]:
            continue
        for x in ours:
            session.delete(x)
        for c in contents:
            session.add(EnterpriseList(enterprise_id=ent.id, kind=kind, content=c))
        rep.lists_changed.append(kind_zh.get(kind, kind))

    # -- hidden dangers: new ones with their steps; the project's own are not changed
    events_of: dict[int, list] = {}
    for e in data["hidden_danger_events"]:
        events_of.setdefault(e["danger_id"], []).append(e)
    ours_d = {(name_key(d.title), d.found_date): d for d in session.scalars(
        select(HiddenDanger).where(HiddenDanger.enterprise_id == ent.id).order_by(HiddenDanger.id))}
    for d in data["hidden_dangers"]:
        key = (name_key(d["title"]), d.get("found_date"))
        mine_d = ours_d.get(key)
        steps = sorted(events_of.get(d["id"], []), key=lambda e: (e.get("at") or dt.datetime.min, e["id"]))
        if mine_d is None:
            hd = HiddenDanger(enterprise_id=ent.id, title=d["title"], found_date=d.get("found_date"), geom=d.get("geom"),
                              **{f: d.get(f) for f in DANGER_FIELDS},
                              events=[HiddenDangerEvent(from_status=e.get("from_status"), to_status=e["to_status"],
                                                        at=e.get("at"), by=e.get("by"), note=e.get("note"))
                                      for e in steps])
            session.add(hd)
            rep.dangers_added.append(d["title"])
            continue
        differ = [f for f in DANGER_FIELDS if _norm(getattr(mine_d, f)) != _norm(d.get(f))]
        my_steps = {(e.to_status, e.at) for e in mine_d.events}
        if any((e["to_status"], e.get("at")) not in my_steps for e in steps):
            differ.append("events")
        if differ:
            rep.dangers_differing[d["title"]] = differ
    session.flush()

    # -- the enterprise's level (就高) and the zones that hold it
    session.expire(ent, ["risk_points", "lists"])
    derive_level(session, ent, assessor=assessor, only_if_changed=True)
    rep.level_after = ent.level
    if created or ent.level != before:
        recoloured = enterprises_changed(session, [ent.id], old_levels=None if created else {ent.id: before})
        rep.zones_recoloured = sum(len(v) for v in recoloured.values())
    return rep


__all__ = ["PACKAGE_KIND", "PackageInfo", "PackageReport", "export_package", "import_package", "read_package"]
