"""The plant package: the demo's plant enterprise exported from one project and imported into another (a copy of
the demo without that enterprise's plant data, and a new 平阴县 project holding an enterprise of the same credit
code): the same risk points, geometries, levels, card fields, history, plan; a second import changes nothing; a
changed point is reported; damaged, foreign and newer packages are refused with the project unchanged."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3

import pyogrio
import pytest
import shapely
import shapely.affinity
from sqlalchemy import text

from riskmap.errors import RiskmapError
from riskmap.io.plant_package import export_package, import_package, read_package
from riskmap.model.geometry import to_gpkg_blob
from riskmap.store import Project

CARD = ("category", "hazard_factors", "accident_types", "control_measures", "emergency_measures",
        "responsible_person", "responsible_phone", "signs", "description", "major_hazard_grade")


def _v(x):
    """None for a missing value however pandas gives it (None, NaN)."""
    return None if x is None or (isinstance(x, float) and x != x) else x


def _hash(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def plant(demo_path, tmp_path_factory):
    """(enterprise id, package path) of the demo's plant enterprise, exported once."""
    from riskmap.plant import plants

    with Project.open(demo_path, readonly=True) as p:
        df = plants(p)
        eid = int(df[df["has_plan"]]["id"].iloc[0])
        out = tmp_path_factory.mktemp("pkg") / "plant.gpkg"
        export_package(p, eid, out)
    return eid, out


def _points(project, eid) -> dict:
    """name → the point's row (dict) with its substances."""
    df = project.read_table("risk_points", where=f"enterprise_id = {int(eid)}")
    subs = project.read_table("substances")
    out = {}
    for r in df.to_dict("records"):
        r["substances"] = sorted((s["name"], s["quantity_t"]) for s in subs.to_dict("records")
                                 if s["risk_point_id"] == r["id"])
        out[(r["name"], r["kind"])] = r
    return out


def _history(project, eid) -> list[tuple]:
    """Every record about the enterprise and its points: (point name, method, date, level, score, assessor)."""
    with project.engine.connect() as c:
        rows = c.execute(text(
            "SELECT r.name, a.method, a.assessed_at, a.level, a.score, a.assessor FROM assessments a "
            "LEFT JOIN risk_points r ON r.id = a.risk_point_id WHERE a.enterprise_id = :e "
            "OR a.risk_point_id IN (SELECT id FROM risk_points WHERE enterprise_id = :e)"), {"e": eid}).all()
    rows = [(r[0], r[1], str(r[2])[:19].replace(" ", "T"), *r[3:]) for r in rows]  # PostGIS gives datetimes
    return sorted(rows, key=repr)


def _credit(project, eid) -> str:
    with project.engine.connect() as c:
        return c.execute(text("SELECT credit_code FROM enterprises WHERE id = :e"), {"e": eid}).scalar()


def _strip_plant(path, eid) -> None:
    """Remove an enterprise's plant data (points, history, plan, lists, dangers) from a project file."""
    with Project.open(path) as p:
        _strip(p, eid)


def _strip(p, eid) -> None:
    with p.engine.begin() as c:
        pts = "(SELECT id FROM risk_points WHERE enterprise_id = :e)"
        c.execute(text(f"UPDATE safety_distances SET risk_point_id = NULL WHERE risk_point_id IN {pts}"), {"e": eid})
        c.execute(text(f"DELETE FROM assessments WHERE enterprise_id = :e OR risk_point_id IN {pts}"), {"e": eid})
        c.execute(text("DELETE FROM risk_points WHERE enterprise_id = :e"), {"e": eid})
        for t in ("plant_plans", "enterprise_lists"):
            c.execute(text(f"DELETE FROM {t} WHERE enterprise_id = :e"), {"e": eid})
        c.execute(text("DELETE FROM hidden_danger_events WHERE danger_id IN "
                       "(SELECT id FROM hidden_dangers WHERE enterprise_id = :e)"), {"e": eid})
        c.execute(text("DELETE FROM hidden_dangers WHERE enterprise_id = :e"), {"e": eid})
        c.execute(text("UPDATE enterprises SET level = NULL, level_basis = NULL, level_assessment_id = NULL "
                       "WHERE id = :e"), {"e": eid})


def _same_plant(src, eid, dst, did) -> None:
    """The plant data of ``eid`` in ``src`` equals that of ``did`` in ``dst``."""
    a, b = _points(src, eid), _points(dst, did)
    assert set(a) == set(b) and len(a) >= 5
    for key, pa in a.items():
        pb = b[key]
        assert _v(pa["level"]) == _v(pb["level"]), key
        for f in CARD:
            assert _v(pa[f]) == _v(pb[f]), (key, f)
        assert pa["substances"] == pb["substances"], key
        assert pa["geometry"].geom_type == pb["geometry"].geom_type
        assert shapely.equals_exact(pa["geometry"], pb["geometry"], tolerance=1e-9), key
    assert any(p["geometry"].geom_type in ("Polygon", "MultiPolygon") for p in a.values())
    ha, hb = _history(src, eid), _history(dst, did)
    assert len(ha) == len(hb) and ha == hb
    assert len({h[2] for h in ha}) > 1  # dated history, not one import date
    pa = src.read_table("plant_plans", where=f"enterprise_id = {eid}").iloc[0]
    pb = dst.read_table("plant_plans", where=f"enterprise_id = {did}").iloc[0]
    assert bytes(pa["image"]) == bytes(pb["image"]) and len(pa["image"]) > 1000
    assert pa["transform"] == pb["transform"] and pa["gcps"] == pb["gcps"] and pa["crs"] == pb["crs"]
    la = src.read_table("enterprises", where=f"id = {eid}").iloc[0]
    lb = dst.read_table("enterprises", where=f"id = {did}").iloc[0]
    assert la["level"] == lb["level"]
    graded = [p["level"] for p in b.values() if p["level"] is not None]
    assert lb["level"] == min(graded)  # 就高: 1 is 重大
    da = src.read_table("hidden_dangers", where=f"enterprise_id = {eid}")
    db = dst.read_table("hidden_dangers", where=f"enterprise_id = {did}")
    assert sorted(da["title"]) == sorted(db["title"])


def _counts(path) -> dict:
    with Project.open(path, readonly=True) as p:
        c = p.counts()
    c.pop("edit_history")
    return c


def test_package_is_a_geopackage_gdal_reads(plant, demo_path):
    eid, pkg = plant
    layers = {name: gtype for name, gtype in pyogrio.list_layers(pkg)}
    assert {"enterprises", "risk_points", "plant_plans", "assessments", "hidden_dangers", "readme"} <= set(layers)
    assert layers["enterprises"] == "Point" and layers["plant_plans"] is None
    pts = pyogrio.read_dataframe(pkg, layer="risk_points")
    with Project.open(demo_path, readonly=True) as p:
        src = _points(p, eid)
        name = p.read_table("enterprises", where=f"id = {eid}").iloc[0]["name"]
    assert sorted(zip(pts["name"], pts["kind"])) == sorted(src)
    assert set(pts.geometry.geom_type) >= {"Polygon"}
    ents = pyogrio.read_dataframe(pkg, layer="enterprises")
    assert list(ents["name"]) == [name]
    info = pyogrio.read_info(pkg, layer="risk_points")
    assert info["crs"] == "EPSG:4490"
    con = sqlite3.connect(pkg)
    meta = dict(con.execute("SELECT key, value FROM project_meta"))
    readme = dict(con.execute("SELECT key, value FROM readme"))
    con.close()
    assert meta["package_kind"] == "plant" and meta["package_adcode"] == "620422" and meta["demo"] == "1"
    assert "示例数据" in meta["name"] and meta["package_source"].startswith("会宁县")
    assert meta["package_exported_at"].endswith("Z") and meta["package_riskmap_version"]
    assert any("示例数据" in k for k in readme) and readme["企业 enterprise"] == name
    # exactly one enterprise, nothing of the rest of the county
    assert len(ents) == 1 and len(pyogrio.read_dataframe(pkg, layer="zones")) == 0


def test_import_into_the_demo_without_its_plant(plant, demo_path, demo_copy):
    eid, pkg = plant
    _strip_plant(demo_copy, eid)
    with Project.open(demo_copy) as dst:
        rep = import_package(dst, pkg, assessor="局审核员")
        assert rep.enterprise_id == eid and not rep.created and rep.demo
        assert any("示例数据" in line for line in rep.lines())
        assert len(rep.points_added) >= 5 and not rep.points_changed and rep.plan == "added"
        assert rep.assessments_added == len(_history(dst, eid)) and rep.assessments_present == 0
        assert rep.level_before is None and rep.level_after is not None
        with Project.open(demo_path, readonly=True) as src:
            _same_plant(src, eid, dst, eid)
    before = _counts(demo_copy)
    with Project.open(demo_copy) as dst:
        again = import_package(dst, pkg)
    assert not again.changed and again.assessments_added == 0 and again.plan == "unchanged"
    assert len(again.points_unchanged) == len(rep.points_added)
    assert _counts(demo_copy) == before
    assert "无变化 / nothing changed" in again.lines()


def test_import_into_another_county_by_credit_code(plant, demo_path, pingyin):
    from riskmap.model import Enterprise

    eid, pkg = plant
    with Project.open(demo_path, readonly=True) as src:
        code = _credit(src, eid)
    with Project.open(pingyin) as dst:
        with pytest.raises(RiskmapError, match="--create"):
            import_package(dst, pkg)
        with dst.session() as s:  # the bureau's own row, its code written with spaces and lower case
            e = Enterprise(name="平阴县的同一家企业", industry="hazchem_production", credit_code=" " + code.lower() + " ",
                           geom=shapely.Point(116.45, 36.28))
            s.add(e)
            s.flush()
            did = e.id
        rep = import_package(dst, pkg)
        assert rep.enterprise_id == did and {"name", "geom"} <= set(rep.enterprise_differences)
        with Project.open(demo_path, readonly=True) as src:
            _same_plant(src, eid, dst, did)
        assert dst.read_table("enterprises", where=f"id = {did}").iloc[0]["name"] == "平阴县的同一家企业"
        assert not import_package(dst, pkg).changed


def test_create_adds_the_enterprise(plant, demo_path, pingyin):
    eid, pkg = plant
    with Project.open(pingyin) as dst:
        n = len(dst.read_table("enterprises"))
        rep = import_package(dst, pkg, create=True)
        assert rep.created and len(dst.read_table("enterprises")) == n + 1
        with Project.open(demo_path, readonly=True) as src:
            _same_plant(src, eid, dst, rep.enterprise_id)


def test_changed_point_is_reported_and_the_level_follows(plant, demo_path, demo_copy, tmp_path):
    """The enterprise edits one point's measures, moves another and re-grades a third as 重大 (LEC D = 10·6·40 =
    2400 ≥ 320): the bureau's import names exactly those, adds the one new record, and the enterprise is 重大."""
    from riskmap.plant import grade_point, update_risk_point

    eid, pkg = plant
    target = tmp_path / "bureau.gpkg"
    shutil.copy(demo_path, target)
    src_path = demo_copy
    with Project.open(src_path) as src:
        pts = src.read_table("risk_points", where=f"enterprise_id = {eid} AND kind = 'risk_point'").sort_values("id")
        a, b = pts.iloc[0], pts.iloc[1]
        c = pts[(pts["level"] != 1) & ~pts["id"].isin([a["id"], b["id"]])].iloc[0]
        update_risk_point(src, int(a["id"]), control_measures="新的管控措施：每班巡检两次")
        moved = shapely.affinity.translate(b["geometry"], xoff=0.00005)
        update_risk_point(src, int(b["id"]), geom=moved)
        grade_point(src, int(c["id"]), "lec", {"L": 10, "E": 6, "C": 40}, assessor="企业安全员")
        level_now = int(src.read_table("enterprises", where=f"id = {eid}").iloc[0]["level"])
        newer = tmp_path / "newer.gpkg"
        export_package(src, eid, newer)
    with Project.open(target) as dst:
        rep = import_package(dst, newer)
        assert rep.points_changed[a["name"]] == ["control_measures"]
        assert rep.points_changed[b["name"]] == ["geom"]
        assert set(rep.points_changed[c["name"]]) == {"level", "assessments"}
        assert len(rep.points_changed) == 3 and rep.assessments_added >= 1
        assert rep.level_after == level_now == dst.read_table("enterprises", where=f"id = {eid}").iloc[0]["level"]
        got = _points(dst, eid)
        assert got[(c["name"], "risk_point")]["level"] == 1
        assert shapely.equals_exact(got[(b["name"], "risk_point")]["geometry"], moved, tolerance=1e-9)
        text_ = "\n".join(rep.lines())
        assert "管控措施" in text_ and "位置" in text_ and "风险等级" in text_


def test_missing_points_kept_unless_asked(plant, demo_copy):
    from riskmap.model import RiskPoint

    eid, pkg = plant
    with Project.open(demo_copy) as dst:
        with dst.session() as s:
            ent_pt = dst.read_table("enterprises", where=f"id = {eid}").geometry.iloc[0]
            s.add(RiskPoint(enterprise_id=eid, name="局里登记的风险点", kind="risk_point", geom=ent_pt))
        rep = import_package(dst, pkg)
        assert rep.points_missing == ["局里登记的风险点"] and not rep.points_deleted
        assert "局里登记的风险点" in set(dst.read_table("risk_points", where=f"enterprise_id = {eid}")["name"])
        rep = import_package(dst, pkg, delete_missing=True)
        assert rep.points_deleted == ["局里登记的风险点"]
        assert "局里登记的风险点" not in set(dst.read_table("risk_points", where=f"enterprise_id = {eid}")["name"])


def test_dry_run_writes_nothing(plant, demo_copy):
    eid, pkg = plant
    _strip_plant(demo_copy, eid)
    h = _hash(demo_copy)
    with Project.open(demo_copy) as dst:
        rep = import_package(dst, pkg, dry_run=True)
    assert rep.dry_run and len(rep.points_added) >= 5 and _hash(demo_copy) == h


def _edit_package(src, dst, sql: str, params=()) -> None:
    shutil.copy(src, dst)
    con = sqlite3.connect(dst)
    for (trigger,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {trigger}")  # the immutable-record guard, the R-tree triggers (plain sqlite3)
    con.execute(sql, params)
    con.commit()
    con.close()


def test_refused_packages_leave_the_project_unchanged(plant, demo_path, demo_copy, tmp_path):
    eid, pkg = plant
    data = open(pkg, "rb").read()
    bad = {}
    bad["truncated"] = tmp_path / "truncated.gpkg"
    bad["truncated"].write_bytes(data[: len(data) // 3])
    bad["text"] = tmp_path / "text.gpkg"
    bad["text"].write_text("not a package", encoding="utf-8")
    bad["project"] = demo_path  # a whole county project, not a package
    for name, sql, params in [
        ("other_kind", "UPDATE project_meta SET value = 'county' WHERE key = 'package_kind'", ()),
        ("newer", "UPDATE project_meta SET value = '99' WHERE key = 'schema_version'", ()),
        ("no_code", "UPDATE enterprises SET credit_code = NULL", ()),
        ("unknown_code", "UPDATE enterprises SET credit_code = '91370124MA0000000X'", ()),
        ("bad_image", "UPDATE plant_plans SET image = ?", (b"\x89PNG\r\n\x1a\n" + b"\0" * 64,)),
        ("bad_level", "UPDATE assessments SET level = 9", ()),
        ("bad_kind", "UPDATE risk_points SET kind = 'x'", ()),
        ("bad_json", "UPDATE risk_points SET signs = '[not json'", ()),
        ("bad_geom", "UPDATE risk_points SET geom = X'00'", ()),
        ("far_point", "UPDATE risk_points SET geom = ? WHERE id = (SELECT min(id) FROM risk_points)",
         (to_gpkg_blob(shapely.Point(110.0, 30.0)),)),
    ]:
        bad[name] = tmp_path / f"{name}.gpkg"
        _edit_package(pkg, bad[name], sql, params)
    expected = {"truncated": "损坏", "text": "不是 GeoPackage", "project": "不是厂区风险包", "other_kind": "不是厂区风险包",
                "newer": "更新版本", "no_code": "没有统一社会信用代码", "unknown_code": "--create", "bad_image": "平面图",
                "bad_level": "风险等级", "bad_kind": "类型", "bad_json": "损坏", "bad_geom": "损坏",
                "far_point": "应在厂区内"}
    h = _hash(demo_copy)
    with Project.open(demo_copy) as dst:
        for name, path in bad.items():
            with pytest.raises(RiskmapError) as err:
                import_package(dst, path)
            assert expected[name] in str(err.value), (name, str(err.value))
            assert path.name in str(err.value) or name == "project", name
    assert _hash(demo_copy) == h


def test_hostile_values_stay_data(demo_path, demo_copy, tmp_path):
    """Names and card texts that look like SQL, templates or markup come back exactly as written."""
    from riskmap.plant import plants

    hostile = ["'); DROP TABLE risk_points; --", "{{7*7}}<b>粗体</b>", "=1+1", "${title}", "Robert'); --"]
    with Project.open(demo_copy) as src:
        df = plants(src)
        eid = int(df[df["has_plan"]]["id"].iloc[0])
        pts = src.read_table("risk_points", where=f"enterprise_id = {eid}").sort_values("id")
        with src.engine.begin() as c:
            for k, (rid, h) in enumerate(zip(pts["id"], hostile)):
                c.execute(text("UPDATE risk_points SET name = :n, hazard_factors = :h, signs = :s WHERE id = :i"),
                          {"n": f"{h}#{k}", "h": h * 3, "s": f'["{k}"]', "i": int(rid)})
        pkg = tmp_path / "hostile.gpkg"
        export_package(src, eid, pkg)
        code = _credit(src, eid)
    target = tmp_path / "t.gpkg"
    shutil.copy(demo_path, target)
    _strip_plant(target, eid)
    with Project.open(target) as dst:
        import_package(dst, pkg)
        got = dst.read_table("risk_points", where=f"enterprise_id = {eid}")
        assert _credit(dst, eid) == code
    names = set(got["name"])
    for k, h in enumerate(hostile):
        assert f"{h}#{k}" in names
    assert set(got["hazard_factors"]) >= {h * 3 for h in hostile}


def test_read_package_does_not_change_the_file(plant):
    _, pkg = plant
    h = _hash(pkg)
    meta, data = read_package(pkg)
    assert meta["package_kind"] == "plant" and len(data["enterprises"]) == 1 and data["plant_plans"]
    assert _hash(pkg) == h


def test_export_refuses_to_overwrite(plant, demo_path, tmp_path):
    eid, _ = plant
    out = tmp_path / "x.gpkg"
    out.write_bytes(b"keep me")
    with Project.open(demo_path, readonly=True) as p:
        with pytest.raises(RiskmapError, match="不是厂区风险包，不覆盖"):
            export_package(p, eid, out)
        assert out.read_bytes() == b"keep me"
        pkg = tmp_path / "pkg.gpkg"
        export_package(p, eid, pkg)
        with pytest.raises(RiskmapError, match="已存在"):
            export_package(p, eid, pkg, overwrite=False)
        with pytest.raises(RiskmapError, match="项目文件本身"):
            export_package(p, eid, demo_path)
        with pytest.raises(RiskmapError, match="没有 id"):
            export_package(p, 10**9, tmp_path / "y.gpkg")
        assert not (tmp_path / "y.gpkg").exists()
        export_package(p, eid, pkg)  # an older package is replaced
    assert read_package(pkg)[0]["package_kind"] == "plant"


def test_oversized_package_refused_before_reading(plant, demo_copy, monkeypatch):
    from riskmap.io import plant_package

    _, pkg = plant
    monkeypatch.setattr(plant_package, "MAX_PACKAGE_BYTES", 100_000)  # the package is ~600 KB
    h = _hash(demo_copy)
    with Project.open(demo_copy) as dst, pytest.raises(RiskmapError, match="上限"):
        import_package(dst, pkg)
    assert _hash(demo_copy) == h


def test_the_bureaus_override_stays_in_force(plant, demo_path, demo_copy, tmp_path):
    """The bureau overrode the enterprise to 重大; the enterprise then re-grades a point in its own project (its
    own derived record, newer than the override). The import keeps the point's record, not the enterprise's
    derived one: the override stays in force and the report says so."""
    from riskmap.grading.enterprise import override_level
    from riskmap.model import Enterprise
    from riskmap.plant import grade_point

    eid, _ = plant
    with Project.open(demo_copy) as dst, dst.session() as s:
        override_level(s, s.get(Enterprise, eid), 1, reason="重大事故隐患未整改", assessor="局领导")
    src_path = tmp_path / "src.gpkg"
    shutil.copy(demo_path, src_path)
    with Project.open(src_path) as src:
        pts = src.read_table("risk_points", where=f"enterprise_id = {eid}").sort_values("id")
        grade_point(src, int(pts["id"].iloc[0]), "ls", {"L": 1, "S": 2}, assessor="企业安全员")  # R = 2: 低
        newer = tmp_path / "newer.gpkg"
        export_package(src, eid, newer)
    with Project.open(demo_copy) as dst:
        rep = import_package(dst, newer)
        assert rep.assessments_skipped == 1 and rep.assessments_added == 1
        assert rep.level_after == 1 and "局领导" in rep.override
        assert any("覆盖仍有效" in line for line in rep.lines())
        assert dst.read_table("enterprises", where=f"id = {eid}").iloc[0]["level"] == 1


def test_on_each_store(plant, demo_path, any_store, tmp_path):
    """The package imports into, and exports from, the shared PostGIS database as into a GeoPackage."""
    eid, pkg = plant
    assert not import_package(any_store, pkg).changed  # the demo holds it already
    _strip(any_store, eid)
    rep = import_package(any_store, pkg)
    assert rep.plan == "added" and len(rep.points_added) >= 5
    with Project.open(demo_path, readonly=True) as src:
        _same_plant(src, eid, any_store, eid)
    assert not import_package(any_store, pkg).changed
    out = tmp_path / "from_store.gpkg"
    export_package(any_store, eid, out)
    _, a = read_package(pkg)
    _, b = read_package(out)
    assert [p["name"] for p in a["risk_points"]] == [p["name"] for p in b["risk_points"]]
    assert bytes(a["plant_plans"][0]["image"]) == bytes(b["plant_plans"][0]["image"])
    assert len(a["assessments"]) == len(b["assessments"])
