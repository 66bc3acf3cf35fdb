"""Import individual-risk contours (个人风险等值线) from QRA exports: GPKG, SHP or DXF.

The risk value of each contour comes from one constant (``risk=3e-7``), an attribute (``risk_field``; for
DXF the layer name, ``"layer"``), or a value map (``value_map={"IR-7": 3e-7}``); texts such as ``3E-07``,
``3×10⁻⁷``, ``3x10-7`` or ``IR_3e-7`` are read as numbers, and values within 2 % of a standard contour
(3×10⁻⁵, 1×10⁻⁵, 3×10⁻⁶, 3×10⁻⁷) are snapped to it. DXF contours are closed LWPOLYLINE/POLYLINE/CIRCLE
entities (read with ezdxf, bulges flattened); rings of one value nested in another become holes.
Coordinates without a CRS are taken as the project's Gauss–Krüger zone (zone-prefixed eastings are
recognised), or as EPSG:4490 when they look like degrees.

>>> parse_risk("3×10⁻⁷"), parse_risk("IR_1E-05"), parse_risk("3x10-6")
(3e-07, 1e-05, 3e-06)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from riskmap.analysis.geodesy import project_epsg, to_geographic
from riskmap.analysis.measure import geodesic_area
from riskmap.analysis.standards import load_gb36894, normalise_status
from riskmap.errors import RiskmapError
from riskmap.model import RiskContour
from riskmap.progress import Cancel, Progress, check_cancel

SUPERSCRIPTS = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")
_SCI = re.compile(r"(\d+(?:\.\d+)?)\s*[x×X*]\s*10\s*\^?\s*(-\s*\d+)")
_E = re.compile(r"(\d+(?:\.\d+)?)\s*[eE]\s*(-\s*\d+)")
_PLAIN = re.compile(r"^\s*(0?\.\d+)\s*$")
# CGCS2000 3-degree GK zones with the zone number prefixed to the easting: EPSG 4513 (zone 25) … 4533 (zone 45)
_PREFIXED_FIRST_EPSG, _PREFIXED_FIRST_ZONE, _PREFIXED_LAST_ZONE = 4513, 25, 45


def parse_risk(value) -> float:
    """An individual-risk value (per year) from a number or a text; RiskmapError if none can be read."""
    if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool):
        v = float(value)
    else:
        text = str(value).translate(SUPERSCRIPTS).replace("−", "-").replace("－", "-")
        m = _SCI.search(text)
        if m:
            v = float(m.group(1)) * 10.0 ** int(m.group(2).replace(" ", ""))
        else:
            m = _E.search(text)
            if m:
                v = float(f"{m.group(1)}e{m.group(2).replace(' ', '')}")
            else:
                m = _PLAIN.match(text)
                v = float(m.group(1)) if m else float("nan")
    if not (math.isfinite(v) and 0 < v < 0.01):
        raise RiskmapError(f"无法识别个人风险值: {value!r}（应如 3E-07 或 3×10⁻⁷，单位 次/年）",
                           f"cannot read an individual-risk value from {value!r} (e.g. 3E-07 per year)")
    return v


def parse_value_map(text: str) -> dict[str, float]:
    """``"IR7=3e-7, IR6=3e-6"`` → ``{"IR7": 3e-07, "IR6": 3e-06}``."""
    out = {}
    for item in re.split(r"[,，;；]", text or ""):
        if not item.strip():
            continue
        if "=" not in item:
            raise RiskmapError(f"对应关系应写成 名称=风险值: {item!r}", f"a mapping must read NAME=VALUE: {item!r}")
        k, v = item.split("=", 1)
        out[k.strip()] = parse_risk(v.strip())
    return out


@dataclass
class ContourRing:
    value_text: object  # the layer name, or the attribute value (text or number)
    facility: str | None
    geom: shapely.Geometry  # a Polygon, in the source CRS


def _guess_epsg(bounds, project_epsg_value: int | None, path: Path) -> int:
    minx, miny, maxx, maxy = bounds
    if -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90:
        return 4490
    if minx >= 1e7:
        zone = int(minx // 1e6)
        if _PREFIXED_FIRST_ZONE <= zone <= _PREFIXED_LAST_ZONE and int(maxx // 1e6) == zone:
            return _PREFIXED_FIRST_EPSG + zone - _PREFIXED_FIRST_ZONE
    if 1e5 <= minx and maxx < 1e6 and project_epsg_value:
        return project_epsg_value
    raise RiskmapError(f"无法判断坐标系，请指定（如 --crs 4544）: {path}",
                       f"cannot tell the coordinate system; give it (e.g. --crs 4544): {path}")


def _read_dxf(path: Path, layer: str | None) -> tuple[list[ContourRing], int]:
    import ezdxf
    from ezdxf import path as dxfpath

    try:
        doc = ezdxf.readfile(str(path))
    except (OSError, ezdxf.DXFError) as exc:
        raise RiskmapError(f"无法读取 DXF 文件: {path} ({exc})", f"cannot read DXF file: {path} ({exc})") from None
    rings, skipped = [], 0
    for e in doc.modelspace().query("LWPOLYLINE POLYLINE CIRCLE"):
        name = e.dxf.layer
        if layer is not None and name != layer:
            continue
        if e.dxftype() == "CIRCLE":
            c = e.dxf.center
            rings.append(ContourRing(name, None, shapely.Point(c.x, c.y).buffer(e.dxf.radius, 64)))
            continue
        if e.dxftype() == "POLYLINE" and not e.is_2d_polyline:
            skipped += 1
            continue
        pts = np.array([(v.x, v.y) for v in dxfpath.make_path(e).flattening(0.05)])
        closed = bool(e.closed) if hasattr(e, "closed") else bool(e.is_closed)
        if len(pts) >= 3 and not closed and np.allclose(pts[0], pts[-1]):
            closed = True
        if not closed or len(pts) < 3:
            skipped += 1
            continue
        poly = shapely.Polygon(pts)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        for part in shapely.get_parts(poly):
            if part.geom_type == "Polygon" and part.area > 0:
                rings.append(ContourRing(name, None, part))
    return rings, skipped


def _read_ogr(path: Path, layer: str | None, risk_field: str | None, facility_field: str | None
              ) -> tuple[list[ContourRing], int, object]:
    import pyogrio

    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # pyogrio raises DataSourceError, DataLayerError …
        raise RiskmapError(f"无法读取文件: {path} ({exc})", f"cannot read file: {path} ({exc})") from None
    for f in (risk_field, facility_field):
        if f and f not in gdf.columns:
            raise RiskmapError(f"文件中没有字段“{f}”（现有: {', '.join(map(str, gdf.columns[:-1]))}）",
                               f"no field {f!r} in the file", where=str(path))
    rings, skipped = [], 0
    values = gdf[risk_field].to_numpy() if risk_field else np.full(len(gdf), None)
    facilities = gdf[facility_field].to_numpy() if facility_field else np.full(len(gdf), None)
    for geom, value, facility in zip(gdf.geometry.to_numpy(), values, facilities):
        if geom is None or geom.is_empty:
            skipped += 1
            continue
        polys = []
        for part in shapely.get_parts(geom):
            if part.geom_type == "Polygon":
                polys.append(part)
            elif part.geom_type == "LineString" and part.is_closed and len(part.coords) >= 4:
                polys.append(shapely.Polygon(part.coords))
            else:
                skipped += 1
        for p in polys:
            p = p if p.is_valid else shapely.make_valid(p)
            for q in shapely.get_parts(p):
                if q.geom_type == "Polygon" and q.area > 0:
                    rings.append(ContourRing(_cell(value), None if _cell(facility) is None else str(facility), q))
    return rings, skipped, gdf.crs


def _cell(value):
    """An attribute value, None for null/NaN; numbers stay numbers, the rest becomes text."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value if isinstance(value, (int, float, np.number)) else str(value)


def _even_odd(polys: list) -> shapely.Geometry:
    """Polygons of one value: those nested an odd number of times inside others are holes."""
    arr = np.array(polys, dtype=object)
    if len(arr) == 1:
        return arr[0]
    inner, outer = STRtree(arr).query(arr, predicate="within")
    keep = inner != outer
    depth = np.bincount(inner[keep], minlength=len(arr))
    pieces = []
    for i in np.flatnonzero(depth % 2 == 0):
        holes = [arr[j] for j, k in zip(inner[keep], outer[keep]) if k == i and depth[j] == depth[i] + 1]
        pieces.append(arr[i].difference(shapely.union_all(holes)) if holes else arr[i])
    return shapely.union_all(pieces)


def read_contours(path, *, layer: str | None = None, risk_field: str | None = None, risk=None,
                  value_map: dict[str, float] | None = None, facility_field: str | None = None,
                  crs=None, default_epsg: int | None = None) -> tuple[list[dict], dict]:
    """Read contours from a file: a list of {individual_risk, facility, geom (EPSG:4490)} and a report."""
    path = Path(path)
    if not path.exists():
        raise RiskmapError(f"文件不存在: {path}", f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".dxf":
        if risk_field not in (None, "layer", "Layer", "图层"):
            raise RiskmapError("DXF 文件的风险值只能来自图层名（layer）或常量", "DXF risk values come from the layer name "
                               "or a constant")
        rings, skipped = _read_dxf(path, layer)
        src_crs = None
    elif suffix in (".gpkg", ".shp", ".geojson", ".json", ".zip"):
        if risk is None and risk_field is None:
            raise RiskmapError("请指定风险值字段（--risk-field）或风险值（--risk）", "give --risk-field or --risk")
        rings, skipped, src_crs = _read_ogr(path, layer, risk_field, facility_field)
    else:
        raise RiskmapError(f"不支持的文件类型（应为 GPKG、SHP 或 DXF）: {path}",
                           f"unsupported file type (GPKG, SHP or DXF): {path}")
    if not rings:
        raise RiskmapError(f"文件中没有闭合的等值线（跳过 {skipped} 个对象）: {path}",
                           f"no closed contour in the file ({skipped} objects skipped): {path}")
    gb = load_gb36894()
    value_map = value_map or {}
    values = []
    for r in rings:
        if risk is not None:
            v = parse_risk(risk)
        elif r.value_text is not None and str(r.value_text) in value_map:
            v = value_map[str(r.value_text)]
        else:
            if r.value_text is None:
                raise RiskmapError("有等值线没有风险值（字段为空）", "a contour has no risk value (empty field)",
                                   where=str(path))
            try:
                v = parse_risk(r.value_text)
            except RiskmapError:
                raise RiskmapError(f"无法从“{r.value_text}”读出个人风险值；可用 --map 指定对应关系（如 {r.value_text}=3e-7）",
                                   f"cannot read a risk value from {r.value_text!r}; give --map "
                                   f"{r.value_text}=3e-7", where=str(path)) from None
        values.append(gb.snap_risk(v))
    if crs is not None:
        epsg = crs
    elif src_crs is not None:
        epsg = src_crs
    else:
        epsg = _guess_epsg(shapely.total_bounds([r.geom for r in rings]), default_epsg, path)
    frame = pd.DataFrame({"v": values, "f": [r.facility for r in rings], "g": [r.geom for r in rings]})
    out = []
    for (v, f), grp in frame.groupby(["v", frame["f"].fillna("")], sort=True):
        geom = _even_odd(list(grp["g"]))
        geom = geom if _is_4490(epsg) else to_geographic(geom, epsg)
        geom = shapely.make_valid(geom)
        polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
        out.append({"individual_risk": float(v), "facility": f or None, "geom": shapely.MultiPolygon(polys),
                    "rings": len(grp)})
    nonstandard = sorted({o["individual_risk"] for o in out} - set(gb.contour_values))
    report = {"rings": len(rings), "skipped": skipped, "crs": str(epsg), "nonstandard_values": nonstandard}
    return out, report


def _is_4490(crs) -> bool:
    import pyproj

    try:
        return pyproj.CRS.from_user_input(crs).to_epsg() in (4490, 4326)
    except pyproj.exceptions.CRSError:
        raise RiskmapError(f"无法识别的坐标系: {crs}", f"unknown coordinate system: {crs}") from None


def import_contours(project, path, *, status: str = "in_service", enterprise_id: int | None = None,
                    facility: str | None = None, source_doc: str | None = None, layer: str | None = None,
                    risk_field: str | None = None, risk=None, value_map: dict[str, float] | None = None,
                    facility_field: str | None = None, crs=None, replace: bool = False,
                    progress: Progress | None = None, cancel: Cancel | None = None) -> tuple[list[dict], dict]:
    """Read contours and save them (one transaction) as RiskContour rows; returns (rows written, report).

    ``replace`` first deletes the contours already stored for the same enterprise, facility and status.
    """
    progress = progress or (lambda f, m: None)
    status = normalise_status(status)
    if enterprise_id is not None:
        ents = project.read_table("enterprises", where=f"id = {int(enterprise_id)}", columns=["id"])
        if ents.empty:
            raise RiskmapError(f"企业不存在: {enterprise_id}", f"no such enterprise: {enterprise_id}")
    progress(0.1, "读取等值线")
    rows, report = read_contours(path, layer=layer, risk_field=risk_field, risk=risk, value_map=value_map,
                                 facility_field=facility_field, crs=crs, default_epsg=project_epsg(project))
    check_cancel(cancel)
    progress(0.6, "写入项目")
    source_doc = source_doc or Path(path).name
    with project.session() as s:
        if replace:
            q = s.query(RiskContour).filter(RiskContour.installation_status == status)
            q = q.filter(RiskContour.enterprise_id == enterprise_id if enterprise_id is not None
                         else RiskContour.enterprise_id.is_(None))
            for old in q.all():
                if (old.facility or None) == (facility or None) or facility_field:
                    s.delete(old)
        for r in rows:
            obj = RiskContour(enterprise_id=enterprise_id, facility=r["facility"] or facility,
                              individual_risk=r["individual_risk"], installation_status=status,
                              source_doc=source_doc, geom=r["geom"])
            s.add(obj)
            s.flush()
            r["id"] = obj.id
            r["area_m2"] = geodesic_area(r["geom"])
    project.refresh_extents()
    progress(1.0, "完成")
    return rows, report


__all__ = ["parse_risk", "parse_value_map", "read_contours", "import_contours"]
