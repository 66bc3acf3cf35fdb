"""``riskmap plant`` and ``riskmap import … --layer plant`` through the command line: JSON parsed, plans fitted
through known control points, and every bad input one line on stderr with exit status 2, the project unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path
import json
import shutil
import subprocess

import numpy as np
import pytest

from riskmap.store import Project
from tests.test_kill import _kill_after


def _hash(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def plant_ent(demo_path):
    """(id, name, credit code, lon, lat, metric EPSG) of the demo's plant enterprise."""
    from riskmap.plant import plants

    with Project.open(demo_path, readonly=True) as p:
        df = plants(p)
        eid = int(df[df["has_plan"]]["id"].iloc[0])
        row = p.read_table("enterprises", where=f"id = {eid}").iloc[0]
        return eid, row["name"], row["credit_code"], row.geometry.x, row.geometry.y, p.metric_epsg


def _one_error_line(code, out, err):
    assert code == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("riskmap: "), err
    assert "Traceback" not in err
    return lines[0]


def test_list_json_and_text(cli, demo_path, plant_ent):
    eid, name, code, *_ = plant_ent
    rc, out, err = cli("plant", demo_path, "--list", "--json")
    assert rc == 0, err
    rows = json.loads(out)
    me = next(r for r in rows if r["id"] == eid)
    assert me["name"] == name and me["has_plan"] is True and me["n_points"] >= 5 and me["n_areas"] >= 1
    assert me["credit_code"] == code and me["level"] in (1, 2, 3, 4)
    rc, out, _ = cli("plant", demo_path, "--list")
    assert rc == 0 and name in out and f"{len(rows)}" in out.splitlines()[0]


@pytest.mark.parametrize("how", ["id", "code", "name"])
def test_pack_by_id_code_or_name(cli, demo_path, plant_ent, tmp_path, how):
    from riskmap.io.plant_package import read_package

    eid, name, code, *_ = plant_ent
    which = {"id": str(eid), "code": code.lower(), "name": name}[how]
    out_path = tmp_path / "厂区包.gpkg"
    rc, out, err = cli("plant", demo_path, "--enterprise", which, "--pack", out_path, "--json")
    assert rc == 0, err
    info = json.loads(out)
    assert info["enterprise_id"] == eid and info["has_plan"] and info["points"] >= 5 and info["demo"]
    meta, data = read_package(out_path)
    assert data["enterprises"][0]["name"] == name and len(data["risk_points"]) == info["points"]
    rc, out, err = cli("plant", demo_path, "--enterprise", which, "--pack", out_path)
    assert rc == 0 and "示例数据" in out  # an older package is replaced
    other = tmp_path / "other.gpkg"
    shutil.copy(demo_path, other)
    h = _hash(other)
    for project in (demo_path, other):  # another project, the project itself: never replaced
        rc, out, err = cli("plant", project, "--enterprise", which, "--pack", other)
        assert "不" in _one_error_line(rc, out, err)
    assert _hash(other) == h


def _plan_image(tmp_path, fmt="PNG"):
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (400, 300), "white")
    d = ImageDraw.Draw(img)
    d.rectangle([20, 20, 380, 280], outline="black", width=4)
    d.rectangle([60, 60, 160, 140], fill=(200, 60, 60))
    path = tmp_path / ("plan.png" if fmt == "PNG" else "plan.pdf")
    img.save(path, fmt)
    return path


def _gcps(plant_ent, pixels, shift_m=None):
    """Control points of a plan at 0.5 m per pixel, turned 10°, its pixel (200, 150) on the enterprise's point:
    lon/lat computed here through the project's metric CRS (and ``shift_m`` metres added east to the points given)."""
    from riskmap.crs import transformer

    _, _, _, lon, lat, epsg = plant_ent
    x0, y0 = transformer(4490, epsg).transform(lon, lat)
    th = np.radians(10)
    s = 0.5
    out = []
    for k, (c, r) in enumerate(pixels):
        dx, dy = (c - 200) * s, -(r - 150) * s
        x = x0 + dx * np.cos(th) - dy * np.sin(th) + ((shift_m or {}).get(k, 0.0))
        y = y0 + dx * np.sin(th) + dy * np.cos(th)
        lo, la = transformer(epsg, 4490).transform(x, y)
        out.append(f"{c},{r},{lo:.10f},{la:.10f}")
    return out


def test_plan_affine_and_similarity(cli, demo_copy, plant_ent, tmp_path):
    eid, *_ = plant_ent
    img = _plan_image(tmp_path)
    args = []
    for g in _gcps(plant_ent, [(20, 20), (380, 20), (380, 280), (20, 280)]):
        args += ["--gcp", g]
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--plan", img, *args, "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["method"] == "affine" and len(d["gcps"]) == 4 and d["width"] == 400 and d["height"] == 300
    assert d["rms_m"] < 0.01 and max(g["residual_m"] for g in d["gcps"]) < 0.01
    a, b, c, _, e, f = d["transform"]
    assert abs(np.hypot(b, e) - 0.5) < 1e-4 and abs(np.degrees(np.arctan2(e, b)) - 10) < 1e-3  # 0.5 m/px, 10°
    with Project.open(demo_copy, readonly=True) as p:
        plan = p.read_table("plant_plans", where=f"enterprise_id = {eid}").iloc[0]
        assert plan["width"] == 400 and plan["method"] == "affine" and plan["rms_m"] < 0.01
    two = []
    for g in _gcps(plant_ent, [(20, 20), (380, 280)]):
        two += ["--gcp", g]
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--plan", img, *two)
    assert rc == 0, err
    assert "相似变换" in out and "RMS 0.00 m" in out and out.count("残差 residual") == 2


def test_plan_rms_limit(cli, demo_copy, plant_ent, tmp_path):
    eid, *_ = plant_ent
    img = _plan_image(tmp_path)
    args = []
    for g in _gcps(plant_ent, [(20, 20), (380, 20), (380, 280), (20, 280)], shift_m={1: 40.0}):
        args += ["--gcp", g]
    h = _hash(demo_copy)
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--plan", img, *args)
    line = _one_error_line(rc, out, err)
    # one point 40 m off among 4 in an affine fit: residuals 10 m each (±40/4 spread over the corners): RMS 10 m
    assert "RMS 10.00" in line and "--force" in line
    assert _hash(demo_copy) == h
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--plan", img, *args, "--max-rms", "12")
    assert rc == 0, err
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--plan", img, *args, "--force", "--json")
    assert rc == 0 and abs(json.loads(out)["rms_m"] - 10.0) < 0.01


def test_bad_input_is_one_line(cli, demo_copy, plant_ent, tmp_path):
    eid, *_ = plant_ent
    img = _plan_image(tmp_path)
    pdf = _plan_image(tmp_path, "PDF")
    good = _gcps(plant_ent, [(20, 20), (380, 20), (380, 280)])
    h = _hash(demo_copy)
    cases = [
        (["--enterprise", "没有这家企业", "--pack", tmp_path / "x.gpkg"], "没有"),
        (["--enterprise", "999999", "--pack", tmp_path / "x.gpkg"], "没有"),
        (["--enterprise", eid, "--plan", img, "--gcp", "1,2,3"], "4 个数"),
        (["--enterprise", eid, "--plan", img, "--gcp", "1,2,x,y", "--gcp", good[1]], "4 个数"),
        (["--enterprise", eid, "--plan", img, "--gcp", "1,2,105,95", "--gcp", good[1]], "范围"),
        (["--enterprise", eid, "--plan", img, "--gcp", good[0]], "至少需要 2 个"),
        (["--enterprise", eid, "--plan", img], "控制点"),
        (["--enterprise", eid, "--plan", tmp_path / "none.png", "--gcp", good[0], "--gcp", good[1]], "不存在"),
        (["--enterprise", eid, "--plan", pdf, "--page", "3", "--gcp", good[0], "--gcp", good[1]], "没有第 3 页"),
        (["--enterprise", eid, "--plan", pdf, "--page", "0", "--gcp", good[0], "--gcp", good[1]], "页码"),
        (["--enterprise", eid, "--plan", img, "--gcp", good[0], "--gcp", good[0]], "相同"),
        (["--enterprise", eid], "一个操作"),
        (["--enterprise", eid, "--pack", tmp_path / "a.gpkg", "--print", tmp_path / "a.pdf"], "一个操作"),
        (["--list", "--enterprise", eid], "--list"),
        ([], "--list"),
        (["--enterprise", eid, "--export-cards", tmp_path / "c.pdf", "--paper", "A3"], "A4 或 A5"),
        (["--enterprise", eid, "--print", tmp_path / "p.pdf", "--paper", "A5"], "A3 或 A4"),
    ]
    for args, words in cases:
        rc, out, err = cli("plant", demo_copy, *args)
        line = _one_error_line(rc, out, err)
        assert words in line, (args, line)
    assert _hash(demo_copy) == h
    rc, out, err = cli("plant", tmp_path / "nothing.gpkg", "--list")
    _one_error_line(rc, out, err)


def test_pdf_page_plan(cli, demo_copy, plant_ent, tmp_path):
    eid, *_ = plant_ent
    pdf = _plan_image(tmp_path, "PDF")
    args = []
    for g in _gcps(plant_ent, [(20, 20), (380, 20), (380, 280)]):
        args += ["--gcp", g]
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--plan", pdf, "--page", "1", *args, "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["method"] == "affine" and d["rms_m"] < 0.01  # residuals in metres do not depend on the page's DPI


def test_bureau_phone(cli, demo_copy):
    rc, out, err = cli("plant", demo_copy, "--bureau-phone", "0943-3221234")
    assert rc == 0, err
    with Project.open(demo_copy, readonly=True) as p:
        assert p.meta()["bureau_phone"] == "0943-3221234"
    rc, out, err = cli("plant", demo_copy, "--bureau-phone", " ")
    _one_error_line(rc, out, err)


def test_import_plant_package(cli, demo_path, plant_ent, tmp_path):
    eid, name, *_ = plant_ent
    pkg = tmp_path / "pkg.gpkg"
    assert cli("plant", demo_path, "--enterprise", eid, "--pack", pkg)[0] == 0
    target = tmp_path / "bureau.gpkg"
    shutil.copy(demo_path, target)
    with Project.open(target) as p, p.engine.begin() as c:  # the bureau's copy lacks the plan and one point
        c.exec_driver_sql(f"DELETE FROM plant_plans WHERE enterprise_id = {eid}")
        gone = c.exec_driver_sql(f"SELECT id, name FROM risk_points WHERE enterprise_id = {eid} ORDER BY id DESC "
                                 "LIMIT 1").one()
        c.exec_driver_sql(f"DELETE FROM assessments WHERE risk_point_id = {gone[0]}")
        c.exec_driver_sql(f"UPDATE safety_distances SET risk_point_id = NULL WHERE risk_point_id = {gone[0]}")
        c.exec_driver_sql(f"DELETE FROM risk_points WHERE id = {gone[0]}")
    h = _hash(target)
    rc, out, err = cli("import", target, pkg, "--layer", "plant", "--dry-run", "--json")
    assert rc == 0, err
    d = json.loads(out)
    assert d["dry_run"] and d["points_added"] == [gone[1]] and d["plan"] == "added" and d["changed"]
    assert _hash(target) == h
    rc, out, err = cli("import", target, pkg, "--layer", "plant")
    assert rc == 0, err
    assert f"新增 added: {gone[1]}" in out and "平面图 Plan: 新增 added" in out and name in out
    rc, out, err = cli("import", target, pkg, "--layer", "plant", "--json")
    assert rc == 0 and json.loads(out)["changed"] is False
    rc, out, err = cli("import", target, tmp_path / "nothing.gpkg", "--layer", "plant")
    _one_error_line(rc, out, err)
    rc, out, err = cli("import", target, demo_path, "--layer", "plant")
    assert "不是厂区风险包" in _one_error_line(rc, out, err)
    rc, out, err = cli("import", target, pkg, "--layer", "plant", "--crs", "4326")
    assert "--crs" in _one_error_line(rc, out, err)
    rc, out, err = cli("import", target, pkg, "--layer", "enterprises", "--create")
    assert "--create" in _one_error_line(rc, out, err)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_cards_board_and_print(cli, demo_copy, plant_ent, tmp_path):
    """The printing functions through the command: one card per risk point (A5 read back from the page size), the
    bureau's phone set through the command printed on them, the board and the plant map; all marked 示例数据."""
    eid, name, *_ = plant_ent
    assert cli("plant", demo_copy, "--bureau-phone", "0943-3221234")[0] == 0
    with Project.open(demo_copy, readonly=True) as p:
        n_points = len(p.read_table("risk_points", where=f"enterprise_id = {eid}"))
    cards = tmp_path / "cards.pdf"
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--export-cards", cards, "--paper", "a5", "--json")
    assert rc == 0, err
    assert json.loads(out)["paper"] == "A5"
    info = subprocess.run(["pdfinfo", cards], capture_output=True, text=True).stdout
    assert f"Pages:           {n_points}" in info
    w, h = (float(v) for v in info.split("Page size:")[1].split("pts")[0].split("x"))
    assert abs(w * 25.4 / 72 - 148) < 1 and abs(h * 25.4 / 72 - 210) < 1  # A5 portrait
    words = subprocess.run(["pdftotext", cards, "-"], capture_output=True, text=True).stdout
    assert "0943-3221234" in words and "119" in words and "示例数据" in words
    board = tmp_path / "board.pdf"
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--export-cards", board, "--board")
    assert rc == 0, err
    assert "公告栏" in out and "示例数据" in subprocess.run(["pdftotext", board, "-"], capture_output=True, text=True).stdout
    plan_pdf = tmp_path / "plant.pdf"
    rc, out, err = cli("plant", demo_copy, "--enterprise", name, "--print", plan_pdf, "--paper", "A4")
    assert rc == 0, err
    words = subprocess.run(["pdftotext", plan_pdf, "-"], capture_output=True, text=True).stdout
    assert name in words.replace("\n", "") and "示例数据" in words
    english = tmp_path / "cards_en.pdf"
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--export-cards", english, "--lang", "en")
    assert rc == 0, err
    words = subprocess.run(["pdftotext", english, "-"], capture_output=True, text=True).stdout
    assert "Safety risk notice card" in words and "安全风险告知卡" not in words


def test_pack_without_credit_code_warns(cli, demo_copy, plant_ent, tmp_path):
    eid, *_ = plant_ent
    with Project.open(demo_copy) as p, p.engine.begin() as c:
        c.exec_driver_sql(f"UPDATE enterprises SET credit_code = NULL WHERE id = {eid}")
    rc, out, err = cli("plant", demo_copy, "--enterprise", eid, "--pack", tmp_path / "p.gpkg")
    assert rc == 0 and "没有统一社会信用代码" in out
    rc, out, err = cli("import", demo_copy, tmp_path / "p.gpkg", "--layer", "plant")
    assert "没有统一社会信用代码" in _one_error_line(rc, out, err)


@pytest.mark.slow
def test_killed_pack_and_import_leave_whole_files(demo_path, plant_ent, tmp_path):
    """SIGKILL part way through --pack leaves no package or a whole one; through an import, the project holds the
    old or the new plant, never a part (the points of the enterprise counted), and passes integrity_check."""
    import sqlite3
    import time

    from riskmap.io.plant_package import read_package

    eid, *_ = plant_ent
    pkg = tmp_path / "pkg.gpkg"
    t0 = time.perf_counter()
    assert _kill_after(["plant", demo_path, "--enterprise", eid, "--pack", pkg], tmp_path, 120) is False
    full = time.perf_counter() - t0
    n_points = len(read_package(pkg)[1]["risk_points"])
    killed = 0
    for k, f in enumerate((0.4, 0.6, 0.8, 0.95)):
        out = tmp_path / f"k{k}.gpkg"
        killed += _kill_after(["plant", demo_path, "--enterprise", eid, "--pack", out], tmp_path, full * f)
        assert not out.exists() or len(read_package(out)[1]["risk_points"]) == n_points
    base = tmp_path / "base.gpkg"
    shutil.copy(demo_path, base)
    with Project.open(base) as p, p.engine.begin() as c:
        c.exec_driver_sql(f"DELETE FROM assessments WHERE risk_point_id IN "
                          f"(SELECT id FROM risk_points WHERE enterprise_id = {eid})")
        c.exec_driver_sql(f"UPDATE safety_distances SET risk_point_id = NULL WHERE enterprise_id = {eid}")
        c.exec_driver_sql(f"DELETE FROM risk_points WHERE enterprise_id = {eid}")
    t0 = time.perf_counter()
    done = tmp_path / "done.gpkg"
    shutil.copy(base, done)
    assert _kill_after(["import", done, pkg, "--layer", "plant"], tmp_path, 120) is False
    full = time.perf_counter() - t0
    moments = [full * f for f in (0.5, 0.7, 0.85, 0.95)]
    for k, moment in enumerate(moments + ["journal"]):
        target = tmp_path / f"t{k}.gpkg"
        shutil.copy(base, target)
        if moment == "journal":  # as soon as the write transaction holds the file
            moment = (lambda t=target: Path(f"{t}-journal").exists())
        killed += _kill_after(["import", target, pkg, "--layer", "plant"], tmp_path, moment)
        con = sqlite3.connect(target)  # rolls a hot journal back, as the next open would
        try:
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            n = con.execute(f"SELECT count(*) FROM risk_points WHERE enterprise_id = {eid}").fetchone()[0]
        finally:
            con.close()
        assert n in (0, n_points), (k, n)
        with Project.open(target, readonly=True):
            pass
    assert killed >= 3
