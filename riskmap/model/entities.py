"""ORM classes for every object of the domain (DOMAIN.md): geometry in CGCS2000 (EPSG:4490).

Feature tables carry ``__geometry__`` (the GeoPackage geometry type of column ``geom``);
the others are GeoPackage ``attributes`` tables.

County-owned tables (schema 5): every table but ``project_meta`` and ``counties`` carries ``county``, the
6-digit adcode of the county the row belongs to, so one PostgreSQL database can hold a city's counties
and row-level security can limit an editor to his county's rows by looking at the row alone (no join):
the features (zones, enterprises, targets, lines, lifelines, resources, hidden dangers) because they lie in
a county; the rows hanging off them (lists, risk points, plans, substances, assessments, distances, danger
events, zone decisions) because they are edited with their parent and must be refused with it; indicators
and their actuals because each county bureau sets its own plan; and the edit history so that a county's
history travels with its rows (push, pull, replace). A GeoPackage holds one county (its rows carry the
project's place, or NULL when the place is a city or none).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from riskmap.model.base import Base, JSONText, Timestamp, Versioned, utcnow
from riskmap.model.geometry import Geometry

AUTOINC = {"sqlite_autoincrement": True}


def _pk() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True)


COUNTY_INFO_KEY = "riskmap.county"  # Connection.info key: the county a GeoPackage's new rows belong to


def county_default(context) -> str | None:
    """The county of a new row whose caller did not name one: in a GeoPackage the file's only county (its
    ``counties`` row, remembered per connection); on PostgreSQL None, which a BEFORE INSERT trigger fills
    (riskmap.store.counties)."""
    conn = context.connection
    if conn.dialect.name != "sqlite":
        return None
    info = conn.info
    if COUNTY_INFO_KEY not in info:
        try:
            rows = conn.exec_driver_sql("SELECT adcode FROM counties LIMIT 2").fetchall()
        except Exception:  # a file of schema 4 (read as it is): no counties
            rows = []
        info[COUNTY_INFO_KEY] = rows[0][0] if len(rows) == 1 else None
    return info[COUNTY_INFO_KEY]


def _county() -> Mapped[str | None]:
    """The county (6-digit adcode) a row belongs to (schema 5): set by the store, never by the caller."""
    return mapped_column(Text, index=True, default=county_default)


class ProjectMeta(Base):
    """Key/value facts about the project: name, place, schema version, demo flag, metric CRS."""

    __tablename__ = "project_meta"
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)


class Zone(Versioned, Base):
    """An area unit: county, town (镇/街道), village (村/社区), grid, park, a custom polygon, or the city or province
    of a city or province project."""

    __tablename__ = "zones"
    __table_args__ = AUTOINC
    __geometry__ = "MULTIPOLYGON"
    KINDS = ("county", "town", "village", "grid", "chemical_park", "industrial_park", "functional", "custom",
             "city", "province")

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    code: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    area_km2: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int | None] = mapped_column(Integer)
    level_rule: Mapped[str | None] = mapped_column(Text)
    level_reason: Mapped[str | None] = mapped_column(Text)
    level_updated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    note: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON"))
    county: Mapped[str | None] = _county()

    parent: Mapped[Zone | None] = relationship(remote_side="Zone.id")


class ZoneDecision(Base):
    """One object that decided a zone's level under a rule (kept so a colour can be defended)."""

    __tablename__ = "zone_decisions"
    __table_args__ = AUTOINC
    id: Mapped[int] = _pk()
    zone_id: Mapped[int] = mapped_column(ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(Text)
    object_table: Mapped[str] = mapped_column(Text)
    object_id: Mapped[int] = mapped_column(Integer)
    object_level: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    county: Mapped[str | None] = _county()


class Enterprise(Versioned, Base):
    """An enterprise (企业) with its current risk level and how that level was decided."""

    __tablename__ = "enterprises"
    # county × level: the city's statistics read this index only (1M enterprises: no table scan)
    __table_args__ = (Index("ix_enterprises_county_level", "county", "level"), AUTOINC)
    __geometry__ = "POINT"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    credit_code: Mapped[str | None] = mapped_column(Text)  # 统一社会信用代码
    industry: Mapped[str] = mapped_column(Text, nullable=False, index=True)  # code from industries.toml
    industry_detail: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(Text, index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    employees: Mapped[int | None] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(Text)  # 监管部门
    legal_person: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    major_hazard: Mapped[bool] = mapped_column(Boolean, default=False)
    qr_id: Mapped[str] = mapped_column(Text, default=lambda: uuid.uuid4().hex, unique=True)
    level: Mapped[int | None] = mapped_column(Integer, index=True)
    level_basis: Mapped[str | None] = mapped_column(Text)  # how the current level was decided
    level_assessment_id: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("POINT"))
    county: Mapped[str | None] = _county()

    risk_points: Mapped[list[RiskPoint]] = relationship(back_populates="enterprise", cascade="all, delete-orphan")
    lists: Mapped[list[EnterpriseList]] = relationship(back_populates="enterprise", cascade="all, delete-orphan")


class EnterpriseList(Base):
    """One of the 5个清单 of an enterprise (基础信息, 防控责任, 监测监控, 防范措施, 应急处置)."""

    __tablename__ = "enterprise_lists"
    __table_args__ = AUTOINC
    KINDS = ("basic", "responsibility", "monitoring", "measures", "emergency")

    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    content: Mapped[dict | None] = mapped_column(JSONText)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)
    county: Mapped[str | None] = _county()

    enterprise: Mapped[Enterprise] = relationship(back_populates="lists")


class RiskPoint(Versioned, Base):
    """A risk point (风险点) or hazard source (危险源) of an enterprise: a point or an area inside the plant."""

    __tablename__ = "risk_points"
    __table_args__ = AUTOINC
    __geometry__ = "GEOMETRY"  # Point, Polygon or MultiPolygon (schema 4; a point before)
    KINDS = ("risk_point", "hazard_source")
    CATEGORIES = ("area", "device", "facility", "place", "post")  # 区域 装置 设施 场所 岗位
    CARD_FIELDS = ("hazard_factors", "accident_types", "control_measures", "emergency_measures",
                   "responsible_person", "responsible_phone", "signs")

    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, default="risk_point")
    description: Mapped[str | None] = mapped_column(Text)
    major_hazard_grade: Mapped[int | None] = mapped_column(Integer)  # GB 18218: 1 一级 … 4 四级
    level: Mapped[int | None] = mapped_column(Integer)
    level_assessment_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(Text)  # one of CATEGORIES
    # the 风险告知卡 (安全风险告知卡) of the point
    hazard_factors: Mapped[str | None] = mapped_column(Text)  # 危险有害因素
    accident_types: Mapped[str | None] = mapped_column(Text)  # 可能导致的事故类型
    control_measures: Mapped[str | None] = mapped_column(Text)  # 管控措施
    emergency_measures: Mapped[str | None] = mapped_column(Text)  # 应急处置措施
    responsible_person: Mapped[str | None] = mapped_column(Text)  # 责任人
    responsible_phone: Mapped[str | None] = mapped_column(Text)  # 联系电话
    signs: Mapped[list | None] = mapped_column(JSONText)  # GB 2894 sign codes, e.g. ["W001", "P003"]
    geom = mapped_column(Geometry("GEOMETRY"))
    county: Mapped[str | None] = _county()

    enterprise: Mapped[Enterprise] = relationship(back_populates="risk_points")
    substances: Mapped[list[Substance]] = relationship(back_populates="risk_point", cascade="all, delete-orphan")


class PlantPlan(Versioned, Base):
    """The georeferenced plant layout (厂区平面图) of an enterprise: an image and its pixel → map transform."""

    __tablename__ = "plant_plans"
    __table_args__ = AUTOINC
    METHODS = ("similarity", "affine")

    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), unique=True,
                                               nullable=False)
    image: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)  # PNG or JPEG
    media_type: Mapped[str] = mapped_column(Text, nullable=False)  # image/png, image/jpeg
    width: Mapped[int] = mapped_column(Integer, nullable=False)  # pixels
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    source_name: Mapped[str | None] = mapped_column(Text)  # the file it came from
    page: Mapped[int | None] = mapped_column(Integer)  # PDF page (1-based), else NULL
    crs: Mapped[int] = mapped_column(Integer, nullable=False)  # EPSG of the metric CRS of ``transform``
    # GDAL geotransform order, pixel corners: x = a + b*col + c*row, y = d + e*col + f*row
    transform: Mapped[list] = mapped_column(JSONText, nullable=False)
    gcps: Mapped[list | None] = mapped_column(JSONText)  # [{col, row, x, y, lon, lat, residual_m}, …]
    rms_m: Mapped[float | None] = mapped_column(Float)
    max_residual_m: Mapped[float | None] = mapped_column(Float)
    method: Mapped[str | None] = mapped_column(Text)  # similarity (2 points) | affine (3 or more)
    county: Mapped[str | None] = _county()


class Substance(Base):
    """A hazardous substance held at a risk point or hazard source."""

    __tablename__ = "substances"
    __table_args__ = AUTOINC
    id: Mapped[int] = _pk()
    risk_point_id: Mapped[int] = mapped_column(ForeignKey("risk_points.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    cas: Mapped[str | None] = mapped_column(Text)
    quantity_t: Mapped[float] = mapped_column(Float, nullable=False)
    design_max_t: Mapped[float | None] = mapped_column(Float)
    county: Mapped[str | None] = _county()

    risk_point: Mapped[RiskPoint] = relationship(back_populates="substances")


class Assessment(Base):
    """An immutable, dated grading record: method, inputs, result, assessor."""

    __tablename__ = "assessments"
    __table_args__ = AUTOINC
    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    risk_point_id: Mapped[int | None] = mapped_column(ForeignKey("risk_points.id"), index=True)
    method: Mapped[str] = mapped_column(Text, nullable=False)  # lec, ls, gb18218, park, manual, max, override
    inputs: Mapped[dict | None] = mapped_column(JSONText)
    score: Mapped[float | None] = mapped_column(Float)
    level: Mapped[int] = mapped_column(Integer, nullable=False)
    explanation: Mapped[str | None] = mapped_column(Text)
    assessor: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    assessed_at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, nullable=False)
    county: Mapped[str | None] = _county()


class ProtectedTarget(Versioned, Base):
    """A protected target (防护目标, GB 36894): school, hospital, home … with people and class."""

    __tablename__ = "protected_targets"
    __table_args__ = AUTOINC
    __geometry__ = "POINT"
    KINDS = ("school", "kindergarten", "hospital", "elderly_home", "residential", "crowded_place",
             "office", "prison", "cultural_relic", "military")
    CLASSES = ("high_sensitive", "important", "general_1", "general_2", "general_3")

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    people: Mapped[int | None] = mapped_column(Integer)
    gb36894_class: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT"))
    county: Mapped[str | None] = _county()


class ControlLine(Versioned, Base):
    """A safety control line (安全控制线): the closed boundary around a site or park."""

    __tablename__ = "control_lines"
    __table_args__ = AUTOINC
    __geometry__ = "MULTIPOLYGON"

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    park_zone_id: Mapped[int | None] = mapped_column(ForeignKey("zones.id"), index=True)
    distance_m: Mapped[float | None] = mapped_column(Float)
    applies_to: Mapped[str | None] = mapped_column(Text)  # GB 36894 classes it protects; None = all
    source_doc: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="draft")  # draft, approved
    geom = mapped_column(Geometry("MULTIPOLYGON"))
    county: Mapped[str | None] = _county()


class SafetyDistance(Base):
    """An external safety distance of a facility, with where the number comes from."""

    __tablename__ = "safety_distances"
    __table_args__ = AUTOINC
    SOURCES = ("safety_report", "standard", "consequence")

    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    risk_point_id: Mapped[int | None] = mapped_column(ForeignKey("risk_points.id"))
    distance_m: Mapped[float] = mapped_column(Float, nullable=False)
    source_kind: Mapped[str] = mapped_column(Text, default="safety_report")
    source_doc: Mapped[str | None] = mapped_column(Text)
    county: Mapped[str | None] = _county()


class RiskContour(Versioned, Base):
    """An individual-risk contour imported from a QRA report (per year), for a facility."""

    __tablename__ = "risk_contours"
    __table_args__ = AUTOINC
    __geometry__ = "MULTIPOLYGON"

    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    facility: Mapped[str | None] = mapped_column(Text)
    individual_risk: Mapped[float] = mapped_column(Float, nullable=False)
    installation_status: Mapped[str] = mapped_column(Text, default="in_service")  # new, in_service
    source_doc: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("MULTIPOLYGON"))
    county: Mapped[str | None] = _county()


class LifelineSegment(Versioned, Base):
    """A lifeline segment (城市生命线): pipe, cable, pipeline, bridge or tunnel."""

    __tablename__ = "lifelines"
    __table_args__ = AUTOINC
    __geometry__ = "MULTILINESTRING"
    CATEGORIES = ("gas", "water", "drainage", "heat", "power", "telecom", "bridge", "tunnel",
                  "utility_tunnel", "oil_pipeline", "gas_pipeline")

    id: Mapped[int] = _pk()
    name: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    material: Mapped[str | None] = mapped_column(Text)
    diameter_mm: Mapped[float | None] = mapped_column(Float)
    pressure_mpa: Mapped[float | None] = mapped_column(Float)
    depth_m: Mapped[float | None] = mapped_column(Float)
    year_built: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(Text)
    monitoring: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int | None] = mapped_column(Integer)
    geom = mapped_column(Geometry("MULTILINESTRING"))
    county: Mapped[str | None] = _county()


class LifelinePoint(Versioned, Base):
    """A point lifeline asset: elevator (电梯), station, valve."""

    __tablename__ = "lifeline_points"
    __table_args__ = AUTOINC
    __geometry__ = "POINT"

    id: Mapped[int] = _pk()
    name: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str | None] = mapped_column(Text)
    year_built: Mapped[int | None] = mapped_column(Integer)
    monitoring: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT"))
    county: Mapped[str | None] = _county()


class EmergencyResource(Versioned, Base):
    """An emergency resource (应急资源): team, fire station, shelter, depot, hospital, expert."""

    __tablename__ = "emergency_resources"
    __table_args__ = AUTOINC
    __geometry__ = "POINT"
    KINDS = ("rescue_team", "fire_station", "micro_fire_station", "shelter", "supply_depot", "hospital", "expert")

    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    specialty: Mapped[str | None] = mapped_column(Text)
    capacity: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    town: Mapped[str | None] = mapped_column(Text)
    geom = mapped_column(Geometry("POINT"))
    county: Mapped[str | None] = _county()


class HiddenDanger(Versioned, Base):
    """A hidden danger (隐患) with its lifecycle and the five elements (五到位)."""

    __tablename__ = "hidden_dangers"
    __table_args__ = AUTOINC
    __geometry__ = "POINT"
    GRADES = ("general", "major")
    STATUSES = ("registered", "rectifying", "supervised", "rectified", "closed")

    id: Mapped[int] = _pk()
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    grade: Mapped[str] = mapped_column(Text, default="general")
    status: Mapped[str] = mapped_column(Text, default="registered", index=True)
    found_date: Mapped[dt.date | None] = mapped_column(Date)
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    responsible_person: Mapped[str | None] = mapped_column(Text)  # 责任
    measures: Mapped[str | None] = mapped_column(Text)  # 措施
    funds_wan: Mapped[float | None] = mapped_column(Float)  # 资金 (万元)
    plan: Mapped[str | None] = mapped_column(Text)  # 预案
    supervising_department: Mapped[str | None] = mapped_column(Text)
    effect_evaluation: Mapped[str | None] = mapped_column(Text)  # 整改效果评价
    closed_date: Mapped[dt.date | None] = mapped_column(Date)
    geom = mapped_column(Geometry("POINT"))
    county: Mapped[str | None] = _county()

    events: Mapped[list[HiddenDangerEvent]] = relationship(back_populates="danger", cascade="all, delete-orphan")


class HiddenDangerEvent(Base):
    """One lifecycle step of a hidden danger: from, to, when, who, note."""

    __tablename__ = "hidden_danger_events"
    __table_args__ = AUTOINC
    id: Mapped[int] = _pk()
    danger_id: Mapped[int] = mapped_column(ForeignKey("hidden_dangers.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text, nullable=False)
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow)
    by: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    county: Mapped[str | None] = _county()

    danger: Mapped[HiddenDanger] = relationship(back_populates="events")


class Indicator(Base):
    """A plan indicator (规划指标) with base year and value, target and type."""

    __tablename__ = "indicators"
    __table_args__ = AUTOINC
    TARGET_TYPES = ("relative_decrease", "absolute_cap", "coverage_rate", "qualitative")

    id: Mapped[int] = _pk()
    plan: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    unit: Mapped[str | None] = mapped_column(Text)
    base_year: Mapped[int | None] = mapped_column(Integer)
    base_value: Mapped[float | None] = mapped_column(Float)
    target_year: Mapped[int | None] = mapped_column(Integer)
    target_value: Mapped[float | None] = mapped_column(Float)
    target_type: Mapped[str] = mapped_column(Text, nullable=False)
    binding: Mapped[str | None] = mapped_column(Text)  # 约束性 / 预期性
    target_text: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    county: Mapped[str | None] = _county()

    actuals: Mapped[list[IndicatorActual]] = relationship(back_populates="indicator", cascade="all, delete-orphan")


class IndicatorActual(Base):
    """A yearly actual value of an indicator, entered by a user."""

    __tablename__ = "indicator_actuals"
    __table_args__ = AUTOINC
    id: Mapped[int] = _pk()
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float | None] = mapped_column(Float)
    achieved: Mapped[bool | None] = mapped_column(Boolean)  # for qualitative targets
    note: Mapped[str | None] = mapped_column(Text)
    county: Mapped[str | None] = _county()

    indicator: Mapped[Indicator] = relationship(back_populates="actuals")


class EditRecord(Base):
    """Edit history: who changed what, when."""

    __tablename__ = "edit_history"
    __table_args__ = AUTOINC
    id: Mapped[int] = _pk()
    at: Mapped[dt.datetime] = mapped_column(Timestamp, default=utcnow, nullable=False)
    user: Mapped[str | None] = mapped_column(Text)
    table_name: Mapped[str] = mapped_column(Text, nullable=False)
    row_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(Text, nullable=False)  # insert, update, delete
    changes: Mapped[dict | None] = mapped_column(JSONText)
    county: Mapped[str | None] = _county()


class County(Base):
    """A county (区县) whose rows a shared database holds (schema 5): one row in a county's own file, one per
    pushed county in a city's database. Not county-owned itself: the list of counties."""

    __tablename__ = "counties"
    adcode: Mapped[str] = mapped_column(Text, primary_key=True)  # 6-digit 行政区划代码
    name: Mapped[str] = mapped_column(Text, nullable=False)
    metric_epsg: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    pushed_by: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)  # the file it was pushed from (its name only)
