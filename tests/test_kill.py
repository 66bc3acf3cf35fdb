"""Pull the plug: SIGKILL the CLI part way through an import, a zoning run, exports and a db pull.

After every kill the project file is whole (``PRAGMA integrity_check``, it opens), holds the old or the new
state and never one in between (enterprise count), its zones agree with its enterprises, and the target of
an export or pull is either absent or complete and readable. Each operation runs once to the end first: that
run gives the new state and the duration over which the kills are spread.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import pyogrio
import pytest
import shapely

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "riskmap.cli"]
N_IMPORT = 3000  # over the 2,000 rows above which an import levels the zoned units again from scratch
FRACTIONS = (0.3, 0.45, 0.6, 0.75, 0.9)  # of a full run (the first ~third is Python starting up)
FEWER = (0.45, 0.7, 0.9)  # the zoning run and the pull (the whole module stays near 90 s)


def _env() -> dict:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen")


def _run(args, cwd) -> float:
    """Run the CLI to the end; its duration in seconds."""
    t0 = time.perf_counter()
    done = subprocess.run(CLI + [str(a) for a in args], cwd=cwd, env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.perf_counter() - t0


def _kill_after(args, cwd, moment) -> bool:
    """Start the CLI and SIGKILL its process group at ``moment``: after that many seconds, or (a callable) as
    soon as it returns True, e.g. once a write is under way. True when the process was still running."""
    proc = subprocess.Popen(CLI + [str(a) for a in args], cwd=cwd, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.perf_counter() + (120 if callable(moment) else moment)
    while proc.poll() is None:
        if (moment() if callable(moment) else False) or time.perf_counter() >= deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    return False


def _writing_project(target: Path):
    """True while a write transaction holds the project (SQLite's rollback journal exists)."""
    return lambda: Path(f"{target}-journal").exists()


def _writing_file(out: Path):
    """True once riskmap's temporary file for ``out`` exists beside it (the write is under way)."""
    return lambda: any(out.parent.glob(f".{out.name}.riskmap-*"))


def _delays(duration: float, fractions=FRACTIONS, writing=None) -> list:
    """Kill moments spread over a full run, and (``writing``) one as soon as the write is under way: that one
    lands whatever the machine's speed, so each test kills at least once mid-write."""
    return [duration * f for f in fractions] + ([writing] if writing is not None else [])


# ---- what must hold after a kill --------------------------------------------------------------------
def _integrity(path: Path) -> None:
    conn = sqlite3.connect(path)  # rolls a hot journal back, as any next open would
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path
    finally:
        conn.close()


def _enterprise_count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM enterprises").fetchone()[0]
    finally:
        conn.close()


def _zones_consistent(path: Path) -> int:
    """Every zone of a unit levelled under 就高 (the settings stored in the project) holds the highest level
    (lowest number) of the enterprises inside it, recomputed here with shapely; returns the zones checked."""
    from riskmap.grading.zoning import UNIT_KINDS
    from riskmap.store import Project

    with Project.open(path) as p:  # the GeoPackage opens (and would be repaired or upgraded here)
        meta = p.meta()
        zones = p.read_table("zones", columns=["id", "kind", "level"])
        ents = p.read_table("enterprises", columns=["id", "level"])
    ents = ents[ents["level"].notna() & ents.geometry.notna()]
    levels = ents["level"].to_numpy(dtype=np.int64)
    tree = shapely.STRtree(ents.geometry.to_numpy())
    checked = 0
    for key, value in meta.items():
        if not key.startswith("zoning."):
            continue
        settings = json.loads(value)
        if settings.get("rule") != "max" or settings.get("count_rules"):
            continue
        unit = zones[zones["kind"].isin(UNIT_KINDS[settings["unit"]])]
        zone_idx, ent_idx = tree.query(unit.geometry.to_numpy(), predicate="intersects")  # boundary: both
        want = np.full(len(unit), settings.get("empty_level") or 0, dtype=np.int64)
        top = np.full(len(unit), 99, dtype=np.int64)
        np.minimum.at(top, zone_idx, levels[ent_idx])
        want = np.where(top < 99, top, want)
        have = unit["level"].to_numpy(dtype=float)
        bad = [(int(i), h, int(w)) for i, h, w in zip(unit["id"], have, want) if h != w]
        assert not bad, f"{path.name}: {settings['unit']} zones (id, stored, from enterprises): {bad[:5]}"
        checked += len(unit)
    return checked


def _project_ok(path: Path, counts: set[int]) -> int:
    _integrity(path)
    n = _enterprise_count(path)
    assert n in counts, f"{n} enterprises, expected one of {sorted(counts)}"
    assert _zones_consistent(path) > 0
    return n


def _output_ok(path: Path, kind: str) -> bool:
    """The target is absent (False) or complete and readable (True)."""
    if not path.exists():
        return False
    if kind == "gpkg":
        _integrity(path)
        layers = pyogrio.list_layers(path)
        assert len(layers), path
        for name, _ in layers:
            pyogrio.read_dataframe(path, layer=name)
    elif kind == "xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        assert wb.sheetnames and any(True for _ in wb[wb.sheetnames[0]].iter_rows(max_row=2))
        wb.close()
    elif kind == "pdf":
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True)
        assert info.returncode == 0 and "Pages:" in info.stdout, info.stderr
    return True


# ---- fixtures ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder with the demo project (made once by the CLI) and an import file of N_IMPORT enterprises."""
    folder = tmp_path_factory.mktemp("kill")
    _run(["demo", "--place", "会宁县", "--out", "demo.gpkg"], folder)
    from riskmap.store import Project

    with Project.open(folder / "demo.gpkg", readonly=True) as p:
        towns = p.read_table("zones", where="kind = 'town'", columns=["id"])
    area = shapely.union_all(towns.geometry.to_numpy())
    shapely.prepare(area)
    x0, y0, x1, y1 = area.bounds
    rng = np.random.default_rng(11)
    xy = np.empty((0, 2))
    while len(xy) < N_IMPORT:
        x, y = rng.uniform(x0, x1, N_IMPORT), rng.uniform(y0, y1, N_IMPORT)
        inside = shapely.contains_xy(area, x, y)
        xy = np.vstack([xy, np.column_stack([x[inside], y[inside]])])
    with open(folder / "import.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["企业名称", "行业", "风险等级", "经度", "纬度"])
        for i, (x, y) in enumerate(xy[:N_IMPORT]):
            out.writerow([f"断电测试企业{i:04d}", "加油站", 1 + i % 4, f"{x:.6f}", f"{y:.6f}"])
    return folder


def _copy(work: Path, name: str) -> Path:
    target = work / name
    for extra in ("-journal", "-wal", "-shm"):
        Path(f"{target}{extra}").unlink(missing_ok=True)
    shutil.copyfile(work / "demo.gpkg", target)
    return target


# ---- the kills --------------------------------------------------------------------------------------
def test_kill_import(work):
    old = _enterprise_count(work / "demo.gpkg")
    full = _copy(work, "imported.gpkg")
    duration = _run(["import", full, "import.csv", "--layer", "enterprises"], work)
    new = _project_ok(full, {old + N_IMPORT})
    seen = []
    target = work / "killed_import.gpkg"
    for delay in _delays(duration, writing=_writing_project(target)):
        target = _copy(work, "killed_import.gpkg")
        killed = _kill_after(["import", target, "import.csv", "--layer", "enterprises"], work, delay)
        seen.append((killed, _project_ok(target, {old, new})))
    print(f"import: killed {sum(k for k, _ in seen)}/{len(seen)}, "
          f"state old {sum(n == old for _, n in seen)}, new {sum(n == new for _, n in seen)}")
    assert any(k for k, _ in seen), f"the import always finished before its kill: {seen}"


def test_kill_zone(work):
    """A killed zoning run leaves the towns as they were (not levelled) or all levelled, never some."""
    from riskmap.store import Project

    target = _copy(work, "zoned.gpkg")
    duration = _run(["zone", target, "--unit", "town", "--rule", "max"], work)
    _project_ok(target, {_enterprise_count(target)})
    killed, states = [], []
    for delay in _delays(duration, FEWER, _writing_project(work / "killed_zone.gpkg")):
        target = _copy(work, "killed_zone.gpkg")
        with Project.open(target) as p:  # the old state: towns not levelled; the run levels every one
            p.execute("UPDATE zones SET level = NULL, level_reason = NULL WHERE kind = 'town'")
        killed.append(_kill_after(["zone", target, "--unit", "town", "--rule", "max"], work, delay))
        _integrity(target)
        conn = sqlite3.connect(target)
        levels = [r[0] for r in conn.execute("SELECT level FROM zones WHERE kind = 'town'")]
        conn.close()
        assert all(v is None for v in levels) or all(v is not None for v in levels), levels  # old or new
        if levels[0] is not None:
            _project_ok(target, {_enterprise_count(target)})
        states.append(levels[0] is not None)
    print(f"zone: killed {killed}, state old {states.count(False)}, new {sum(states)}")
    assert any(killed), "the zone run always finished before its kill"


@pytest.mark.parametrize("kind", ["gpkg", "xlsx", "pdf"])
def test_kill_export(work, kind):
    source = _copy(work, f"export_{kind}.gpkg")
    n = _enterprise_count(source)
    out = work / f"full.{kind}"
    duration = _run(["export", source, "--out", out], work)
    assert _output_ok(out, kind)
    killed, written = [], []
    for delay in _delays(duration, (0.5, 0.8), _writing_file(work / f"killed.{kind}")):
        out = work / f"killed.{kind}"
        out.unlink(missing_ok=True)
        killed.append(_kill_after(["export", source, "--out", out], work, delay))
        written.append(_output_ok(out, kind))
        _project_ok(source, {n})
    print(f"export {kind}: killed {sum(killed)}/{len(killed)}, target absent {written.count(False)}, "
          f"complete {sum(written)}")
    assert any(killed), f"the {kind} export always finished before its kill"


def test_kill_pull(work, pg_server, pg_demo_template):
    db = "kill_pull"
    url = pg_server.create_database(db, template=pg_demo_template)
    try:
        from riskmap.store import Project

        with Project.open(url, readonly=True) as p:
            counts = {k: v for k, v in p.counts().items()}
        full = work / "pulled.gpkg"
        duration = _run(["db", "pull", url, full], work)
        assert _output_ok(full, "gpkg")
        killed, written = [], []
        for delay in _delays(duration, FEWER, _writing_file(work / "killed_pull.gpkg")):
            out = work / "killed_pull.gpkg"
            out.unlink(missing_ok=True)
            killed.append(_kill_after(["db", "pull", url, out], work, delay))
            written.append(_output_ok(out, "gpkg"))
            if written[-1]:
                _project_ok(out, {counts["enterprises"]})
                with Project.open(out, readonly=True) as p:
                    assert p.counts() == counts
        print(f"pull: killed {sum(killed)}/{len(killed)}, target absent {written.count(False)}, "
              f"complete {sum(written)}")
        assert any(killed), "the pull always finished before its kill"
    finally:
        pg_server.drop_database(db)
