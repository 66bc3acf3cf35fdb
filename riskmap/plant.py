"""An enterprise's own plant: its georeferenced layout (厂区平面图) and its risk points as areas, graded in the
four colours (安全风险四色空间分布图), with the content of each point's 风险告知卡.

The plan is an image (PNG, JPEG, TIFF, BMP, or one page of a PDF drawing) kept in the project with the transform
from its pixels to the project's metric CRS (the Gauss–Krüger zone), fitted through two or more control points
(:mod:`riskmap.georef`). Control points are given as (col, row, lon, lat): col/row in the pixels of the image
as stored — the file itself for a raster, the page rendered by :func:`read_plan_image` for a PDF.

Risk points (risk points and hazard sources) are points or areas (Polygon, MultiPolygon) in EPSG:4490, within
3 km of the enterprise's point. Adding, re-grading, reshaping and deleting one is one transaction: the
assessment records are appended, the enterprise's level follows (就高, riskmap.grading.enterprise) and the
zones that hold the enterprise are recoloured.

>>> sorted(CATEGORY_WORDS)
['area', 'device', 'facility', 'place', 'post']
>>> check_signs(["W001", "p003"])
['W001', 'P003']
"""

from __future__ import annotations

import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from riskmap import georef
from riskmap.crs import gk_zone_epsg, reproject, transformer
from riskmap.errors import RiskmapError
from riskmap.model import SRID, Assessment, EditRecord, Enterprise, EnterpriseList, PlantPlan, RiskPoint, SafetyDistance

CATEGORY_WORDS = {"area": "区域", "device": "装置", "facility": "设施", "place": "场所", "post": "岗位"}
CARD_FIELDS = RiskPoint.CARD_FIELDS
CARD_WORDS = {"hazard_factors": "危险有害因素", "accident_types": "可能导致的事故类型", "control_measures": "管控措施",
              "emergency_measures": "应急处置措施", "responsible_person": "责任人", "responsible_phone": "联系电话",
              "signs": "安全标志"}
EDITABLE = ("name", "kind", "category", "description") + CARD_FIELDS

MAX_PIXELS = 60_000_000  # a plan image above this is refused before it is decoded
MAX_FILE_BYTES = 200 << 20  # a plan file above this is refused before it is read
PDF_DPI = 300  # a PDF page is rendered at this resolution …
PDF_MAX_SIDE = 8000  # … or less, so that its long side is at most this many pixels
JPEG_ABOVE = 4 << 20  # a plan larger than this as PNG is stored as JPEG (photos, scans)
RASTER_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "MPO": "JPEG", "TIFF": "TIFF", "BMP": "BMP"}
MAX_DISTANCE_M = 3000.0  # a risk point lies within this distance of its enterprise's point
MAX_AREA_M2 = 10e6  # and covers at most 10 km²
MAX_GCP_DISTANCE_M = 5000.0  # a control point lies within this distance of the enterprise's point
_SIGN = re.compile(r"^[WPME]\d{3}$")


# ---------------------------------------------------------------------------------------- the plan image

@dataclass(frozen=True)
class PlanImage:
    """A plan image as riskmap stores it (PNG or JPEG bytes) and where it came from."""

    data: bytes
    media_type: str  # image/png | image/jpeg
    width: int
    height: int
    source_name: str | None = None
    page: int | None = None  # 1-based PDF page


def _bad(zh: str, en: str, where: str) -> RiskmapError:
    return RiskmapError(zh, en, where=where)


def _read_source(source, source_name: str | None) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), source_name or "plan"
    path = Path(os.fspath(source))
    where = str(path)
    if not path.exists():
        raise _bad(f"平面图文件不存在: {path}", f"plan file not found: {path}", where)
    if path.is_dir():
        raise _bad(f"这是一个文件夹，不是平面图文件: {path}", f"a folder, not a plan file: {path}", where)
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _bad(f"平面图文件 {size // (1 << 20)} MB，超过上限 {MAX_FILE_BYTES >> 20} MB: {path}",
                   f"plan file of {size >> 20} MB is over the limit of {MAX_FILE_BYTES >> 20} MB: {path}", where)
    try:
        return path.read_bytes(), source_name or path.name
    except OSError as exc:
        raise _bad(f"无法读取平面图文件: {path}（{exc.strerror}）", f"cannot read plan file: {path}", where) from exc


def _encode(img, name: str, page: int | None) -> PlanImage:
    """PNG, or JPEG when the PNG would be over JPEG_ABOVE bytes and the JPEG is smaller (a photo or a scan)."""
    if img.mode not in ("RGB", "L"):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            from PIL import Image

            bg = Image.new("RGB", rgba.size, (255, 255, 255))  # a transparent background prints white
            bg.paste(rgba, mask=rgba.getchannel("A"))
            img = bg
        else:
            img = img.convert("RGB")
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False, compress_level=6)
    data, media = buf.getvalue(), "image/png"
    if len(data) > JPEG_ABOVE:
        jbuf = io.BytesIO()
        img.save(jbuf, format="JPEG", quality=90)
        if jbuf.tell() < len(data):
            data, media = jbuf.getvalue(), "image/jpeg"
    return PlanImage(data, media, img.width, img.height, name, page)


def _read_raster(data: bytes, name: str) -> PlanImage:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            fmt = RASTER_FORMATS.get(img.format or "")
            if fmt is None:
                raise _bad(f"不支持的平面图格式 {img.format}（可用 PNG、JPEG、TIFF、BMP 或 PDF）: {name}",
                           f"unsupported plan format {img.format} (use PNG, JPEG, TIFF, BMP or PDF): {name}", name)
            w, h = img.size
            if w < 1 or h < 1 or w * h > MAX_PIXELS:
                raise _bad(f"平面图 {w}×{h} 像素，超过上限 {MAX_PIXELS // 1_000_000} 百万像素（或尺寸无效）: {name}",
                           f"plan of {w}×{h} pixels is over the limit of {MAX_PIXELS // 1_000_000} megapixels "
                           f"(or has no size): {name}", name)
            img.load()  # a truncated or damaged file fails here
            if getattr(img, "n_frames", 1) > 1:
                img.seek(0)
            return _encode(img, name, None)
    except RiskmapError:
        raise
    except UnidentifiedImageError as exc:
        raise _bad(f"不是可识别的图像或 PDF 文件: {name}", f"not an image or PDF file riskmap can read: {name}",
                   name) from exc
    except Image.DecompressionBombError as exc:
        raise _bad(f"平面图像素过多（上限 {MAX_PIXELS // 1_000_000} 百万像素），可能是图像炸弹: {name}",
                   f"plan image has too many pixels (limit {MAX_PIXELS // 1_000_000} megapixels): a bomb? {name}",
                   name) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:  # truncated, broken chunks, bad header fields
        raise _bad(f"平面图文件已损坏或不完整: {name}（{exc}）", f"plan image is damaged or truncated: {name} ({exc})",
                   name) from exc


def _read_pdf_page(data: bytes, name: str, page: int | None) -> PlanImage:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise _bad(f"PDF 文件已损坏、加密或无法读取: {name}（{exc}）", f"PDF is damaged, encrypted or unreadable: {name} ({exc})",
                   name) from exc
    try:
        n = len(pdf)
        number = 1 if page is None else page
        if not isinstance(number, (int, np.integer)) or isinstance(number, bool) or not 1 <= number <= n:
            raise _bad(f"PDF 只有 {n} 页，没有第 {page} 页: {name}", f"the PDF has {n} page(s), no page {page}: {name}",
                       f"{name} page {page}")
        pg = pdf[int(number) - 1]
        try:
            w_pt, h_pt = pg.get_size()
            if not (w_pt > 0 and h_pt > 0):
                raise _bad(f"PDF 第 {number} 页没有尺寸: {name}", f"PDF page {number} has no size: {name}", name)
            scale = min(PDF_DPI / 72.0, PDF_MAX_SIDE / max(w_pt, h_pt))
            w, h = math.ceil(w_pt * scale), math.ceil(h_pt * scale)  # as pdfium sizes the bitmap
            if w < 1 or h < 1 or w * h > MAX_PIXELS:
                raise _bad(f"PDF 第 {number} 页形状异常（{w_pt:.0f}×{h_pt:.0f} 点）: {name}",
                           f"PDF page {number} has an odd shape ({w_pt:.0f}×{h_pt:.0f} pt): {name}", name)
            bitmap = pg.render(scale=scale, fill_color=(255, 255, 255, 255))
            img = bitmap.to_pil()
        except pdfium.PdfiumError as exc:
            raise _bad(f"PDF 第 {number} 页无法渲染: {name}（{exc}）", f"PDF page {number} cannot be rendered: {name} ({exc})",
                       name) from exc
        finally:
            pg.close()
        return _encode(img, name, int(number))
    finally:
        pdf.close()


def read_plan_image(source, *, page: int | None = None, source_name: str | None = None) -> PlanImage:
    """The plan as riskmap stores it: a raster file read by Pillow, or page ``page`` (1-based; the first by
    default) of a PDF rendered by pdfium at 300 dpi or less (long side ≤ 8000 px). ``source``: a path or the
    file's bytes. Bombs (over 60 megapixels), truncated or damaged files and other formats are refused."""
    data, name = _read_source(source, source_name)
    if data[:5] == b"%PDF-" or data[:1024].find(b"%PDF-") >= 0:
        return _read_pdf_page(data, name, page)
    if page not in (None, 1):
        raise _bad(f"只有 PDF 才有页码（第 {page} 页）: {name}", f"only a PDF has pages (page {page} given): {name}", name)
    return _read_raster(data, name)


# ---------------------------------------------------------------------------------------- project helpers

def metric_epsg(project, lon: float | None = None) -> int:
    """The project's metric CRS (its Gauss–Krüger zone), else the zone of ``lon``."""
    epsg = project.metric_epsg
    if epsg:
        return int(epsg)
    if lon is None:
        raise RiskmapError("项目没有米制坐标系，无法配准平面图", "the project has no metric CRS for the plan")
    return gk_zone_epsg(lon)


def _row(session: Session, model, row_id, zh: str, en: str):
    """The row of ``model`` with id ``row_id``; a clear error for an id that is not a number or not there."""
    try:
        rid = int(row_id)
    except (TypeError, ValueError):
        raise RiskmapError(f"{zh}编号应为整数: {row_id!r}", f"{en} id must be a number: {row_id!r}",
                           where=en.replace(" ", "_")) from None
    row = session.get(model, rid)
    if row is None:
        raise RiskmapError(f"没有编号为 {rid} 的{zh}", f"no {en} with id {rid}", where=f"{model.__tablename__}[{rid}]")
    return row


def _enterprise(session: Session, enterprise_id) -> Enterprise:
    return _row(session, Enterprise, enterprise_id, "企业", "enterprise")


def _located(ent: Enterprise) -> shapely.Point:
    if ent.geom is None or ent.geom.is_empty:
        raise RiskmapError(f"企业“{ent.name}”尚未定位，请先定位企业再绘制厂区", f"enterprise {ent.name!r} has no location yet: "
                           "locate it before drawing its plant", where=f"enterprises[{ent.id}]")
    return ent.geom


def _to_metric(epsg: int):
    return lambda g: reproject(g, SRID, epsg)


# ---------------------------------------------------------------------------------------- set_plan

@dataclass(frozen=True)
class PlanResult:
    """What :func:`set_plan` stored."""

    fit: georef.Fit
    plan_id: int
    width: int
    height: int
    media_type: str = "image/png"


def _gcp_rows(gcps, epsg: int, ent: Enterprise) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    rows = []
    for i, g in enumerate(gcps, 1):
        try:
            col, row, lon, lat = (float(v) for v in g)
        except (TypeError, ValueError):
            raise RiskmapError(f"控制点 {i} 应为 (列, 行, 经度, 纬度) 四个数: {g!r}",
                               f"control point {i} must be four numbers (col, row, lon, lat): {g!r}",
                               where=f"gcp {i}") from None
        if not all(np.isfinite([col, row, lon, lat])):
            raise RiskmapError(f"控制点 {i} 含无效数字", f"control point {i} holds a number that is not finite",
                               where=f"gcp {i}")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise RiskmapError(f"控制点 {i} 的经纬度 ({lon:g}, {lat:g}) 不是度（经度在前）",
                               f"control point {i}: ({lon:g}, {lat:g}) is not lon/lat in degrees (lon first)",
                               where=f"gcp {i}")
        rows.append((col, row, lon, lat))
    if len(rows) < 2:
        raise RiskmapError(f"至少需要 2 个控制点（现有 {len(rows)} 个）", f"at least 2 control points are needed ({len(rows)} given)",
                           where="gcps")
    arr = np.array(rows)
    x, y = transformer(SRID, epsg).transform(arr[:, 2], arr[:, 3])
    world = np.column_stack([x, y])
    if ent.geom is not None and not ent.geom.is_empty:
        ex, ey = transformer(SRID, epsg).transform(ent.geom.x, ent.geom.y)
        d = np.hypot(world[:, 0] - ex, world[:, 1] - ey)
        far = int(np.argmax(d))
        if d[far] > MAX_GCP_DISTANCE_M:
            raise RiskmapError(
                f"控制点 {far + 1} 距企业“{ent.name}”{d[far] / 1000:.1f} km，超过 {MAX_GCP_DISTANCE_M / 1000:g} km：经纬度是否写错或颠倒？",
                f"control point {far + 1} is {d[far] / 1000:.1f} km from enterprise {ent.name!r}, over "
                f"{MAX_GCP_DISTANCE_M / 1000:g} km: wrong or swapped coordinates?", where=f"gcp {far + 1}")
    return arr[:, :2], world, [dict(col=r[0], row=r[1], lon=r[2], lat=r[3]) for r in rows]


def store_plan(session: Session, ent: Enterprise, image: PlanImage, gcps, epsg: int) -> tuple[PlantPlan, georef.Fit]:
    """Fit the control points and store (or replace) ``ent``'s plan through ``session`` (the caller's
    transaction). See :func:`set_plan`."""
    pixels, world, rows = _gcp_rows(gcps, epsg, ent)
    outside = [i for i, (c, r) in enumerate(pixels, 1) if not (-image.width <= c <= 2 * image.width
                                                               and -image.height <= r <= 2 * image.height)]
    if outside:
        i = outside[0]
        raise RiskmapError(f"控制点 {i} 的像素位置 ({pixels[i - 1][0]:g}, {pixels[i - 1][1]:g}) 远在图像"
                           f"（{image.width}×{image.height}）之外",
                           f"control point {i}: pixel ({pixels[i - 1][0]:g}, {pixels[i - 1][1]:g}) lies far outside "
                           f"the {image.width}×{image.height} image", where=f"gcp {i}")
    fit = georef.fit(pixels, world)
    foot = shapely.Polygon(georef.corners(fit.transform, image.width, image.height))
    if foot.area > 4 * MAX_AREA_M2:
        raise RiskmapError(f"按控制点配准后平面图覆盖 {foot.area / 1e6:.1f} km²，不像一个厂区：请检查控制点",
                           f"the control points make the plan cover {foot.area / 1e6:.1f} km², not a plant: "
                           "check them", where="gcps")
    for r, (x, y), res in zip(rows, world, fit.residuals_m):
        r.update(x=float(x), y=float(y), residual_m=float(res))
    plan = session.scalars(select(PlantPlan).where(PlantPlan.enterprise_id == ent.id)).first()
    if plan is None:
        plan = PlantPlan(enterprise_id=ent.id)
        session.add(plan)
    plan.image, plan.media_type = image.data, image.media_type
    plan.width, plan.height = image.width, image.height
    plan.source_name, plan.page = image.source_name, image.page
    plan.crs, plan.transform, plan.gcps = int(epsg), list(fit.transform), rows
    plan.rms_m, plan.max_residual_m, plan.method = fit.rms_m, fit.max_m, fit.method
    session.flush()
    return plan, fit


def set_plan(project, enterprise_id: int, source, gcps, *, page: int | None = None,
             source_name: str | None = None) -> PlanResult:
    """Georeference and keep the plant layout of an enterprise (replacing an older one), in one transaction.

    ``source``: a path or bytes (PNG, JPEG, TIFF, BMP, or a PDF with ``page``); ``gcps``: [(col, row, lon, lat),
    …], two or more, col/row in the pixels of the image as stored (see :func:`read_plan_image`), lon/lat in
    CGCS2000 degrees. Two points give a similarity, three or more an affine fit with residuals."""
    image = read_plan_image(source, page=page, source_name=source_name)
    with project.session() as s:
        ent = _enterprise(s, enterprise_id)
        epsg = metric_epsg(project, None if ent.geom is None else ent.geom.x)
        plan, fit = store_plan(s, ent, image, gcps, epsg)
        plan_id = plan.id
    return PlanResult(fit, plan_id, image.width, image.height, image.media_type)


def delete_plan(project, enterprise_id: int) -> bool:
    """Remove an enterprise's plan; False when it had none."""
    with project.session() as s:
        plan = s.scalars(select(PlantPlan).where(PlantPlan.enterprise_id == int(enterprise_id))).first()
        if plan is None:
            return False
        s.delete(plan)
    return True


# ---------------------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class PlanInfo:
    """A stored plan: the image and its georeference."""

    id: int
    image: bytes
    media_type: str
    width: int
    height: int
    crs: int
    transform: tuple
    rms_m: float | None
    max_residual_m: float | None
    gcps: list
    bounds_4490: tuple  # (minx, miny, maxx, maxy) of the plan's four corners in EPSG:4490
    method: str | None = None
    source_name: str | None = None
    page: int | None = None

    def corners(self) -> np.ndarray:
        """The image's corners in ``crs`` (4×2: top-left, top-right, bottom-right, bottom-left)."""
        return georef.corners(self.transform, self.width, self.height)

    def footprint_4490(self) -> shapely.Polygon:
        """The plan's outline (its four corners) in EPSG:4490."""
        return reproject(shapely.Polygon(self.corners()), self.crs, SRID)


@dataclass
class PlantData:
    """Everything the plant view, the plant print and the cards show of one enterprise."""

    enterprise: dict
    plan: PlanInfo | None
    points: gpd.GeoDataFrame
    lists: dict = field(default_factory=dict)
    dangers: gpd.GeoDataFrame | None = None
    extent_4490: tuple | None = None


def _plan_info(plan: PlantPlan) -> PlanInfo:
    info = PlanInfo(plan.id, bytes(plan.image), plan.media_type, int(plan.width), int(plan.height), int(plan.crs),
                    tuple(float(v) for v in plan.transform), plan.rms_m, plan.max_residual_m, list(plan.gcps or []),
                    (0.0, 0.0, 0.0, 0.0), plan.method, plan.source_name, plan.page)
    b = info.footprint_4490().bounds
    return PlanInfo(**{**info.__dict__, "bounds_4490": tuple(float(v) for v in b)})


POINT_COLUMNS = ["id", "name", "kind", "category", "level", "method", "score", "assessed_at", "description",
                 "major_hazard_grade", *CARD_FIELDS, "version"]


def _signs(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def _points_frame(project, eid: int) -> gpd.GeoDataFrame:
    rps = project.read_table("risk_points", where=f"enterprise_id = {eid}")
    if len(rps):
        ids = ", ".join(str(int(i)) for i in rps["level_assessment_id"].dropna().astype(int))
        recs = project.read_table("assessments", where=f"id IN ({ids})",
                                  columns=["id", "method", "score", "assessed_at"]) if ids else None
        if recs is not None and len(recs):
            recs = recs.set_index("id")
            aid = rps["level_assessment_id"]
            rps["method"] = aid.map(recs["method"])
            rps["score"] = aid.map(recs["score"])
            rps["assessed_at"] = aid.map(recs["assessed_at"])
        rps["signs"] = [_signs(v) for v in rps["signs"]]
    for c in POINT_COLUMNS:
        if c not in rps:
            rps[c] = pd.Series([None] * len(rps), index=rps.index, dtype=object)
    out = rps[POINT_COLUMNS + ["geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=f"EPSG:{SRID}")


def _pad(bounds, epsg: int) -> tuple:
    minx, miny, maxx, maxy = bounds
    to_m = transformer(SRID, epsg)
    xs, ys = to_m.transform([minx, maxx], [miny, maxy])
    pad = max(30.0, 0.08 * max(xs[1] - xs[0], ys[1] - ys[0]))
    lon, lat = transformer(epsg, SRID).transform([xs[0] - pad, xs[1] + pad], [ys[0] - pad, ys[1] + pad])
    return (float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1]))


def plant_data(project, enterprise_id: int) -> PlantData:
    """The plant of one enterprise: its record, plan, risk points and hazard sources (with their current
    assessment's method, score and date), 5个清单, hidden dangers, and the extent that shows them all."""
    with project.reader() as s:
        ent = _enterprise(s, enterprise_id)
        eid = ent.id
        record = {c.key: getattr(ent, c.key) for c in Enterprise.__mapper__.column_attrs if c.key != "geom"}
        record["geometry"] = ent.geom
        record["lon"] = None if ent.geom is None or ent.geom.is_empty else float(ent.geom.x)
        record["lat"] = None if ent.geom is None or ent.geom.is_empty else float(ent.geom.y)
        plan = s.scalars(select(PlantPlan).where(PlantPlan.enterprise_id == eid)).first()
        info = None if plan is None else _plan_info(plan)
        lists = {lst.kind: lst.content for lst in s.scalars(
            select(EnterpriseList).where(EnterpriseList.enterprise_id == eid).order_by(EnterpriseList.id))}
    points = _points_frame(project, eid)
    dangers = project.read_table("hidden_dangers", where=f"enterprise_id = {eid}")
    parts = []
    if info is not None:
        parts.append(shapely.box(*info.bounds_4490))
    parts += [g for g in points.geometry if g is not None and not g.is_empty]
    if record["geometry"] is not None and not record["geometry"].is_empty:
        parts.append(record["geometry"])
    extent = None
    if parts:
        bounds = shapely.total_bounds(np.array(parts, dtype=object))
        epsg = info.crs if info is not None else metric_epsg(project, (bounds[0] + bounds[2]) / 2)
        extent = _pad(bounds, epsg)
    return PlantData(record, info, points, lists, dangers, extent)


def plants(project) -> pd.DataFrame:
    """Enterprises with plant data (a plan, a risk point drawn as an area or given a category): id, name,
    credit_code, level, has_plan, n_points, n_areas — in id order."""
    sqlite = project.dialect == "sqlite"
    not_point = "length(geom) <> 61" if sqlite else "GeometryType(geom) <> 'POINT'"
    cols = ["id", "name", "credit_code", "level", "has_plan", "n_points", "n_areas"]
    with project.engine.connect() as conn:
        plan_ids = {int(r[0]) for r in conn.exec_driver_sql("SELECT enterprise_id FROM plant_plans")}
        cand = {int(r[0]) for r in conn.exec_driver_sql(
            f"SELECT DISTINCT enterprise_id FROM risk_points WHERE category IS NOT NULL OR "
            f"(geom IS NOT NULL AND {not_point})")}
    ids = sorted(plan_ids | cand)
    if not ids:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    id_list = ", ".join(map(str, ids))
    ents = project.read_table("enterprises", where=f"id IN ({id_list})", columns=["id", "name", "credit_code", "level"])
    rps = project.read_table("risk_points", where=f"enterprise_id IN ({id_list})",
                             columns=["id", "enterprise_id", "category"])
    kinds = np.array([None if g is None else g.geom_type for g in rps.geometry], dtype=object)
    rps = pd.DataFrame({"enterprise_id": rps["enterprise_id"].to_numpy(),
                        "area": np.isin(kinds, ["Polygon", "MultiPolygon"]),
                        "placed": rps["category"].notna().to_numpy()})
    n_points = rps.groupby("enterprise_id").size()
    n_areas = rps.groupby("enterprise_id")["area"].sum()
    # a point blob of another writer (big-endian, with Z …) is no area: only plans, areas and categories count
    has_plant = set(plan_ids) | set(rps.loc[rps["area"] | rps["placed"], "enterprise_id"].astype(int))
    ents = ents[ents["id"].astype(int).isin(has_plant)]
    out = pd.DataFrame({
        "id": ents["id"].astype(int).to_numpy(), "name": ents["name"].to_numpy(),
        "credit_code": ents["credit_code"].to_numpy(), "level": ents["level"].to_numpy(),
    })
    out["has_plan"] = out["id"].isin(plan_ids)
    out["n_points"] = out["id"].map(n_points).fillna(0).astype(int)
    out["n_areas"] = out["id"].map(n_areas).fillna(0).astype(int)
    return out[cols].sort_values("id").reset_index(drop=True)


# ---------------------------------------------------------------------------------------- risk points

def check_signs(signs) -> list[str] | None:
    """GB 2894 sign codes as a list (W warning, P prohibition, M mandatory, E information + 3 digits)."""
    if signs is None:
        return None
    if isinstance(signs, str):
        signs = [s for s in re.split(r"[\s,，;；、]+", signs) if s]
    if not isinstance(signs, (list, tuple)):
        raise RiskmapError("安全标志应为标志代码列表，如 W001, P003", "signs must be a list of sign codes such as W001, P003",
                           where="signs")
    out = []
    for s in signs:
        code = str(s).strip().upper()
        if not _SIGN.match(code):
            raise RiskmapError(f"安全标志代码 {s!r} 不符合 GB 2894（W/P/M/E 加三位数字，如 W001）",
                               f"sign code {s!r} is not a GB 2894 code (W/P/M/E and three digits, e.g. W001)",
                               where="signs")
        if code not in out:
            out.append(code)
    return out


def check_geometry(geom, ent: Enterprise, epsg: int, where: str = "geometry"):
    """A risk point's geometry made fit to store: a Point, Polygon or MultiPolygon in EPSG:4490 (an invalid
    polygon is repaired when the repair is still an area), within 3 km of the enterprise, at most 10 km²."""
    if isinstance(geom, str):
        try:
            geom = shapely.from_wkt(geom)
        except shapely.errors.GEOSException as exc:
            raise RiskmapError(f"几何文本无法解析: {exc}", f"geometry text cannot be read: {exc}", where=where) from exc
    if not isinstance(geom, shapely.Geometry) or geom.is_empty:
        raise RiskmapError("风险点需要位置（点或面）", "a risk point needs a place (a point or an area)", where=where)
    if geom.geom_type not in ("Point", "Polygon", "MultiPolygon"):
        raise RiskmapError(f"风险点只能是点或面，不能是 {geom.geom_type}", f"a risk point is a point or an area, not a "
                           f"{geom.geom_type}", where=where)
    if shapely.has_z(geom):
        geom = shapely.force_2d(geom)
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        raise RiskmapError("风险点坐标不是经纬度（CGCS2000，度）", "the risk point's coordinates are not lon/lat degrees "
                           "(CGCS2000)", where=where)
    if not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        fixed = shapely.make_valid(geom)
        polys = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
        polys = [q for p in polys for q in shapely.get_parts(p)]
        if not polys:
            raise RiskmapError(f"风险点的面无效且无法修复: {reason}", f"the risk point's area is invalid and cannot be "
                               f"repaired: {reason}", where=where)
        geom = polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)
    home = _located(ent)
    to_m = _to_metric(epsg)
    gm, hm = to_m(geom), to_m(home)
    d = gm.distance(hm)
    if d > MAX_DISTANCE_M:
        raise RiskmapError(f"风险点距企业“{ent.name}”{d / 1000:.1f} km，超过 {MAX_DISTANCE_M / 1000:g} km：应在厂区内",
                           f"the risk point is {d / 1000:.1f} km from enterprise {ent.name!r}, over "
                           f"{MAX_DISTANCE_M / 1000:g} km: it belongs inside the plant", where=where)
    if gm.area > MAX_AREA_M2:
        raise RiskmapError(f"风险点面积 {gm.area / 1e6:.1f} km²，超过 {MAX_AREA_M2 / 1e6:g} km²",
                           f"the risk point covers {gm.area / 1e6:.1f} km², over {MAX_AREA_M2 / 1e6:g} km²", where=where)
    if geom.geom_type != "Point" and gm.area <= 0:
        raise RiskmapError("风险点的面面积为零", "the risk point's area is zero", where=where)
    return geom


def _check_fields(fields: dict, where: str) -> dict:
    out = {}
    for key, value in fields.items():
        if key not in EDITABLE:
            raise RiskmapError(f"风险点没有可编辑的字段 {key}", f"a risk point has no editable field {key!r}", where=key)
        if key == "signs":
            out[key] = check_signs(value)
        elif key == "category":
            if value is not None and value not in RiskPoint.CATEGORIES:
                back = {v: k for k, v in CATEGORY_WORDS.items()}
                if value in back:
                    value = back[value]
                else:
                    raise RiskmapError(f"风险点类别 {value!r} 无效，可选：区域、装置、设施、场所、岗位",
                                       f"risk point category {value!r}: use area, device, facility, place or post",
                                       where="category")
            out[key] = value
        elif key == "kind":
            if value not in RiskPoint.KINDS:
                raise RiskmapError(f"风险点种类 {value!r} 无效（risk_point 或 hazard_source）",
                                   f"risk point kind {value!r}: use risk_point or hazard_source", where="kind")
            out[key] = value
        elif key == "name":
            if not isinstance(value, str) or not value.strip():
                raise RiskmapError("风险点需要名称", "a risk point needs a name", where="name")
            out[key] = value.strip()
        else:
            if value is not None and not isinstance(value, str):
                value = str(value)
            out[key] = value.strip() if isinstance(value, str) and value.strip() else None
    return out


def _regrade(s: Session, ent: Enterprise, before, assessor):
    from riskmap.grading.enterprise import derive_level
    from riskmap.grading.zoning import enterprises_changed

    record = derive_level(s, ent, assessor=assessor)
    enterprises_changed(s, [ent.id], old_levels={ent.id: before})
    return record


def add_risk_point(project, enterprise_id: int, *, name: str, category: str | None, geom, method: str, inputs: dict,
                   assessor: str, kind: str = "risk_point", **card):
    """Draw and grade a new risk point (or hazard source) of an enterprise, in one transaction: the point's
    assessment and the enterprise's are appended, the enterprise's level follows (就高) and its zones are
    recoloured. ``card``: description and the card fields (hazard_factors … signs). Returns (point id, point
    record, enterprise record) — the records as :class:`~riskmap.model.Assessment` (the enterprise's is
    None when it has no level)."""
    from riskmap.grading.enterprise import grade_risk_point

    values = _check_fields({"name": name, "category": category, "kind": kind, **card}, "risk_point")
    _assessor(assessor)
    with project.session() as s:
        ent = _enterprise(s, enterprise_id)
        epsg = metric_epsg(project, None if ent.geom is None else ent.geom.x)
        g = check_geometry(geom, ent, epsg)
        before = ent.level
        rp = RiskPoint(enterprise_id=ent.id, geom=g, **values)
        s.add(rp)
        s.flush()
        point_record = grade_risk_point(s, rp, method, inputs, assessor=assessor)
        ent_record = _regrade(s, ent, before, assessor)
        rp_id = rp.id
    return rp_id, point_record, ent_record


def _assessor(assessor) -> str:
    if not isinstance(assessor, str) or not assessor.strip():
        raise RiskmapError("评估需要评估人", "an assessment needs the assessor's name", where="assessor")
    return assessor.strip()


def _risk_point(s: Session, rp_id) -> RiskPoint:
    return _row(s, RiskPoint, rp_id, "风险点", "risk point")


def update_risk_point(project, rp_id: int, *, geom=None, **fields) -> dict:
    """Reshape, rename or rewrite the card of a risk point (not its level: see :func:`grade_point`), in one
    transaction; returns the point's values."""
    values = _check_fields(fields, "risk_point")
    with project.session() as s:
        rp = _risk_point(s, rp_id)
        ent = s.get(Enterprise, rp.enterprise_id)
        if geom is not None:
            epsg = metric_epsg(project, None if ent.geom is None else ent.geom.x)
            g = check_geometry(geom, ent, epsg)
            if rp.geom is None or not shapely.equals_exact(rp.geom, g, 0):
                rp.geom = g
        for key, value in values.items():
            if getattr(rp, key) != value:
                setattr(rp, key, value)
        s.flush()
        out = rp.as_dict()
    return out


def grade_point(project, rp_id: int, method: str, inputs: dict, *, assessor: str):
    """Re-grade a risk point (any method of riskmap.grading), then its enterprise (就高) and its zones, in one
    transaction. Returns (point record, enterprise record)."""
    from riskmap.grading.enterprise import regrade_risk_point

    assessor = _assessor(assessor)
    with project.session() as s:
        rp = _risk_point(s, rp_id)
        return regrade_risk_point(s, rp, method, inputs, assessor=assessor)


def delete_risk_point(project, rp_id: int, *, assessor: str):
    """Delete a risk point in one transaction; its level no longer counts (the enterprise's level is derived
    again and its zones recoloured). Its assessment records go with it — they are kept in the edit history
    entry of the deletion. Returns the enterprise's new record (None when it has no level left)."""
    assessor = _assessor(assessor)
    with project.session() as s:
        rp = _risk_point(s, rp_id)
        ent = s.get(Enterprise, rp.enterprise_id)
        before = ent.level
        recs = list(s.scalars(select(Assessment).where(Assessment.risk_point_id == rp.id).order_by(Assessment.id)))
        kept = [{"id": a.id, "method": a.method, "inputs": a.inputs, "score": a.score, "level": a.level,
                 "explanation": a.explanation, "assessor": a.assessor,
                 "assessed_at": None if a.assessed_at is None else a.assessed_at.isoformat()} for a in recs]
        s.execute(SafetyDistance.__table__.update().where(SafetyDistance.risk_point_id == rp.id)
                  .values(risk_point_id=None))
        if kept:
            for a in recs:
                s.expunge(a)
            s.execute(delete(Assessment).where(Assessment.risk_point_id == rp.id),
                      execution_options={"synchronize_session": False})
            s.add(EditRecord(user=project.user, table_name="assessments", row_id=None, action="delete",
                             changes={"risk_point_id": rp.id, "risk_point": rp.name, "records": kept}))
        s.delete(rp)
        s.flush()
        s.expire(ent, ["risk_points"])
        return _regrade(s, ent, before, assessor)
