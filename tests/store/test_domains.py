"""The project file reads well in QGIS/ArcGIS: coded-value field domains (GeoPackage schema extension) read back
through GDAL itself, and the project's own ``layer_styles`` in the four colours; a schema-2 file gains them."""

from __future__ import annotations

import ctypes
import glob
import os
import sqlite3
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pyogrio
import pytest

from riskmap.paths import LAYERS_DIR, STANDARDS_DIR
from riskmap.store import Project


# ---- GDAL's own view of the file: the C API of the GDAL that pyogrio carries ------------------------------
def _gdal():
    here = Path(pyogrio.__file__).parent
    found = glob.glob(str(here.parent / "pyogrio.libs" / "libgdal*")) or glob.glob(str(here / "libgdal*"))
    if not found:
        pytest.skip("no GDAL library beside pyogrio")
    lib = ctypes.CDLL(found[0])
    p, s = ctypes.c_void_p, ctypes.c_char_p
    for name, res, args in [
        ("GDALOpenEx", p, [s, ctypes.c_uint, p, p, p]), ("GDALDatasetGetLayerByName", p, [p, s]),
        ("OGR_L_GetLayerDefn", p, [p]), ("OGR_FD_GetFieldIndex", ctypes.c_int, [p, s]),
        ("OGR_FD_GetFieldDefn", p, [p, ctypes.c_int]), ("OGR_Fld_GetDomainName", s, [p]),
        ("OGR_Fld_GetAlternativeNameRef", s, [p]), ("GDALDatasetGetFieldDomain", p, [p, s]),
        ("OGR_FldDomain_GetDomainType", ctypes.c_int, [p]), ("GDALClose", None, [p])]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    lib.OGR_CodedFldDomain_GetEnumeration.restype = ctypes.POINTER(_CodedValue)
    lib.OGR_CodedFldDomain_GetEnumeration.argtypes = [p]
    lib.GDALAllRegister()
    return lib


class _CodedValue(ctypes.Structure):
    _fields_ = [("code", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def gdal_domain(path, table: str, column: str) -> tuple[str | None, str | None, dict[str, str] | None]:
    """(domain name, alias, {code: words}) of a column as GDAL reads it (ogrinfo's 'Field domain name')."""
    lib = _gdal()
    ds = lib.GDALOpenEx(str(path).encode(), 0x04, None, None, None)  # GDAL_OF_VECTOR
    assert ds, path
    try:
        defn = lib.OGR_L_GetLayerDefn(lib.GDALDatasetGetLayerByName(ds, table.encode()))
        fld = lib.OGR_FD_GetFieldDefn(defn, lib.OGR_FD_GetFieldIndex(defn, column.encode()))
        name = lib.OGR_Fld_GetDomainName(fld)
        alias = (lib.OGR_Fld_GetAlternativeNameRef(fld) or b"").decode() or None
        if not name:
            return None, alias, None
        dom = lib.GDALDatasetGetFieldDomain(ds, name)
        assert dom and lib.OGR_FldDomain_GetDomainType(dom) == 0  # OFDT_CODED
        values, e, i = {}, lib.OGR_CodedFldDomain_GetEnumeration(dom), 0
        while e[i].code:
            values[e[i].code.decode()] = e[i].value.decode() if e[i].value else None
            i += 1
        return name.decode(), alias, values
    finally:
        lib.GDALClose(ds)


def toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


LEVELS = {str(lv["n"]): lv for lv in toml(STANDARDS_DIR / "levels.toml")["level"]}
INDUSTRIES = toml(STANDARDS_DIR / "industries.toml")["industries"]


def rgb(hex_colour: str, opacity: float = 1.0) -> str:
    h = hex_colour.lstrip("#")
    return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + f",{round(255 * opacity)}"


def styles_of(path) -> dict[str, ET.Element]:
    df = pyogrio.read_dataframe(path, layer="layer_styles")
    assert df["useAsDefault"].astype(bool).all()
    return {t: ET.fromstring(q.split("\n", 1)[1]) for t, q in zip(df["f_table_name"], df["styleQML"])}


def colour_of(root: ET.Element, symbol: str) -> str:
    return root.find(f"renderer-v2/symbols/symbol[@name='{symbol}']/layer/Option/Option[@name='color']").get("value")


# ---- a new project ---------------------------------------------------------------------------------------
def test_level_and_industry_domains_equal_the_standards_files(demo_path):
    name, alias, values = gdal_domain(demo_path, "enterprises", "level")
    assert alias == "风险等级"
    assert values == {n: lv["name_zh"] for n, lv in LEVELS.items()}
    name_z, _, values_z = gdal_domain(demo_path, "zones", "level")
    assert name_z == name and values_z == values  # one level domain for every level column
    _, alias, values = gdal_domain(demo_path, "enterprises", "industry")
    assert alias == "行业"
    assert values == {code: ind["zh"] for code, ind in INDUSTRIES.items()}
    assert values["gas_station"] == "加油站"


def test_other_coded_columns_have_domains(demo_path):
    assert gdal_domain(demo_path, "zones", "kind")[2]["town"] == "镇/街道"
    assert gdal_domain(demo_path, "hidden_dangers", "status")[2] == {
        "registered": "登记", "rectifying": "整改中", "supervised": "挂牌督办", "rectified": "整改完成", "closed": "销号"}
    assert gdal_domain(demo_path, "hidden_dangers", "grade")[2] == {"general": "一般隐患", "major": "重大隐患"}
    assert gdal_domain(demo_path, "control_lines", "status")[2] == {"draft": "草稿", "approved": "已批准"}
    resources = toml(LAYERS_DIR / "emergency_resources.toml")["style"]["categories"]
    assert gdal_domain(demo_path, "emergency_resources", "kind")[2] == {k: v["zh"] for k, v in resources.items()}
    assert gdal_domain(demo_path, "protected_targets", "gb36894_class")[2]["high_sensitive"] == "高敏感防护目标"
    assert gdal_domain(demo_path, "lifelines", "category")[2]["gas"] == "燃气"
    grades = gdal_domain(demo_path, "risk_points", "major_hazard_grade")[2]
    assert grades == {"1": "一级重大危险源", "2": "二级重大危险源", "3": "三级重大危险源", "4": "四级重大危险源"}
    assert gdal_domain(demo_path, "enterprises", "name")[0] is None  # free text has none
    con = sqlite3.connect(demo_path)
    ext = con.execute("SELECT table_name FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'").fetchall()
    assert {r[0] for r in ext} == {"gpkg_data_columns", "gpkg_data_column_constraints"}


def test_layer_styles_in_the_four_colours(demo_path):
    roots = styles_of(demo_path)
    # one default style per table a map layer draws as features (plant plans are images: no QGIS style)
    layer_tables = {toml(p)["table"] for p in LAYERS_DIR.glob("*.toml") if toml(p).get("geometry") != "raster"}
    assert set(roots) == layer_tables
    ent = roots["enterprises"].find("renderer-v2")
    assert ent.get("type") == "categorizedSymbol" and ent.get("attr") == "level"
    cats = {c.get("value"): (c.get("symbol"), c.get("label")) for c in ent.find("categories")}
    for n, lv in LEVELS.items():
        assert colour_of(roots["enterprises"], cats[n][0]) == rgb(lv["colour"])
        assert cats[n][1] == lv["name_zh"]
    # no level: 未评估, grey, never blue
    assert cats[""][1] == "未评估" and colour_of(roots["enterprises"], cats[""][0]) == rgb("#9E9E9E")
    # labels only when zoomed in: QGIS reads the scale range from scaleMin/scaleMax (as QGIS 3.22 writes them)
    rendering = roots["enterprises"].find("labeling/settings/rendering")
    shown_below = toml(LAYERS_DIR / "enterprises.toml")["label"]["show_below_scale"]
    assert (rendering.get("scaleVisibility"), float(rendering.get("scaleMax"))) == ("1", shown_below)
    aliases = {a.get("field"): a.get("name") for a in roots["enterprises"].iter("alias")}
    assert aliases["industry"] == "行业" and aliases["level"] == "风险等级"
    # the attribute form shows words: a value map from the same domain
    vm = roots["enterprises"].find("fieldConfiguration/field[@name='industry']/editWidget")
    assert vm.get("type") == "ValueMap"
    pairs = {o.get("value"): o.get("name") for o in vm.iter("Option") if o.get("type") == "QString"}
    assert pairs == {code: ind["zh"] for code, ind in INDUSTRIES.items()}


def test_zones_style_is_rule_based_by_kind(demo_path):
    root = styles_of(demo_path)["zones"]
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "RuleRenderer" and renderer.get("symbollevels") == "1"
    top = {r.get("filter"): r for r in renderer.find("rules")}
    towns = toml(LAYERS_DIR / "towns.toml")
    town_rule = top[towns["where"]]
    assert town_rule.get("checkstate") is None  # shown; grids and villages start unchecked
    assert top[toml(LAYERS_DIR / "grids.toml")["where"]].get("checkstate") == "0"
    children = {r.get("filter"): r.get("symbol") for r in town_rule}
    for n, lv in LEVELS.items():  # the towns' level colours at the towns layer's fill opacity
        assert colour_of(root, children[f'"level" = {n}']) == rgb(lv["colour"], towns["style"]["fill_opacity"])
    county = top[toml(LAYERS_DIR / "county.toml")["where"]]
    sym = root.find(f"renderer-v2/symbols/symbol[@name='{county.get('symbol')}']/layer")
    assert sym.find("Option/Option[@name='style']").get("value") == "no"  # the county is an outline
    assert "ELSE" in top  # other kinds (a city's zones …) still draw as outlines
    labels = {r.get("filter"): r for r in root.find("labeling/rules")}  # rule-based labels, one rule per layer
    assert root.find("labeling").get("type") == "rule-based" and towns["where"] in labels
    assert labels[toml(LAYERS_DIR / "grids.toml")["where"]].get("active") == "0"


# ---- keeping them current ----------------------------------------------------------------------------------
def test_a_write_restores_changed_domains_and_keeps_user_styles(demo_copy):
    con = sqlite3.connect(demo_copy)
    with con:
        con.execute("DELETE FROM gpkg_data_column_constraints WHERE constraint_name = 'industry'"
                    " AND value = 'gas_station'")
        con.execute("UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = 'enterprises'")
        con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column,"
                    " styleName, styleQML, styleSLD, useAsDefault, description, owner, ui)"
                    " VALUES ('', '', 'enterprises', 'geom', '我的样式', '<qgis/>', '', 1, '', '', '')")
    con.close()
    assert "gas_station" not in gdal_domain(demo_copy, "enterprises", "industry")[2]
    with Project.open(demo_copy) as p:
        p.refresh_extents()  # what every import and edit does at its end
    assert gdal_domain(demo_copy, "enterprises", "industry")[2]["gas_station"] == "加油站"
    con = sqlite3.connect(demo_copy)
    rows = con.execute("SELECT styleName, useAsDefault FROM layer_styles WHERE f_table_name = 'enterprises'"
                       " ORDER BY id").fetchall()
    assert rows == [("riskmap 企业", 0), ("我的样式", 1)]


# ---- an existing project of schema 2 ---------------------------------------------------------------------
def _make_v2(path: Path) -> None:
    """The demo copy as riskmap of schema 2 wrote it: no domains, no layer_styles."""
    con = sqlite3.connect(path)
    with con:
        con.execute("DROP TABLE layer_styles")
        con.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
        con.execute("DELETE FROM gpkg_data_column_constraints")
        con.execute("UPDATE gpkg_data_columns SET constraint_name = NULL")
        con.execute("DELETE FROM gpkg_data_columns WHERE name = column_name")
        con.execute("UPDATE project_meta SET value = '2' WHERE key = 'schema_version'")
    con.execute("VACUUM")
    con.close()


def test_schema_2_project_gains_domains_and_styles(demo_copy):
    from riskmap.store.migrations import SCHEMA_VERSION

    _make_v2(demo_copy)
    assert gdal_domain(demo_copy, "enterprises", "level")[2] is None
    assert "layer_styles" not in dict(pyogrio.list_layers(demo_copy))
    from riskmap.store import migrations

    with pytest.MonkeyPatch.context() as mp:  # riskmap 3 reads neither: read-only still opens (4 needs columns)
        mp.setattr(migrations, "SCHEMA_VERSION", 3)
        with Project.open(demo_copy, readonly=True) as p:
            assert p.schema_version == 2 and len(p.read_table("enterprises"))
    with Project.open(demo_copy) as p:
        assert p.schema_version == SCHEMA_VERSION >= 4
    assert gdal_domain(demo_copy, "enterprises", "level")[2] == {n: lv["name_zh"] for n, lv in LEVELS.items()}
    assert gdal_domain(demo_copy, "enterprises", "industry")[2] == {c: ind["zh"] for c, ind in INDUSTRIES.items()}
    roots = styles_of(demo_copy)
    assert {"enterprises", "zones"} <= set(roots)
    assert sqlite3.connect(demo_copy).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_failed_migration_to_3_changes_nothing(demo_copy, monkeypatch):
    from riskmap.errors import RiskmapError
    from riskmap.store import migrations

    _make_v2(demo_copy)
    real = migrations.describe

    def half_then_fail(cur):
        real(cur)  # domains and styles written …
        raise RiskmapError("迁移失败", "migration failed")  # … then the step fails

    monkeypatch.setattr(migrations, "describe", half_then_fail)
    before = demo_copy.read_bytes()
    with pytest.raises(RiskmapError):
        Project.open(demo_copy)
    assert demo_copy.read_bytes() == before
    monkeypatch.undo()
    con = sqlite3.connect(demo_copy)
    assert con.execute("SELECT value FROM project_meta WHERE key = 'schema_version'").fetchone() == ("2",)
    con.close()
    assert not os.path.exists(str(demo_copy) + "-journal")


@pytest.mark.postgis
def test_shared_database_at_2_is_left_as_it_is(pg_server, pg_demo_url, monkeypatch):
    """The 2 → 3 step changes nothing in PostgreSQL, so a shared database is neither written nor refused: an
    editor (who may not write project_meta) opens it as before; the version moves with a later PostgreSQL step
    (3 → 4, the plant layouts, is one: here without it, as riskmap 3 was)."""
    from sqlalchemy.engine import make_url

    from riskmap.store import migrations, postgis

    monkeypatch.setattr(migrations, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(postgis, "SCHEMA_VERSION", 3)
    db = make_url(pg_demo_url).database
    pg_server.sql("UPDATE project_meta SET value = '2' WHERE key = 'schema_version'", database=db)
    with Project.open(pg_demo_url, readonly=True) as p:
        assert p.schema_version == 2
    with Project.open(pg_demo_url) as p:
        assert p.schema_version == 2
        with p.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT to_regclass('layer_styles')").scalar() is None
    monkeypatch.undo()  # with 3 → 4: the owner's open brings it to the current schema, still no styles there
    with Project.open(pg_demo_url) as p:
        assert p.schema_version == migrations.SCHEMA_VERSION >= 4
        with p.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT to_regclass('layer_styles')").scalar() is None
