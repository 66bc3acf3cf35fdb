"""Every benchmark runs in its quick mode (small data, seconds) and prints its figures, so none can rot.

No timed assertions: the figures are checked to be there, not how fast they are (DESIGN.md: benchmarks are
measured by hand). Each bench runs as its own process, as a person would start it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
NUMBER = r"[\d,.]+"


def run_bench(name: str, tmp_path: Path, *args: str) -> str:
    """Run ``bench/<name>.py --quick *args``; returns its output after checking that it exited 0."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TMPDIR=str(tmp_path))
    for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        env[k] = str(tmp_path / k.lower())
    proc = subprocess.run([sys.executable, str(BENCH / f"{name}.py"), "--quick", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{name} --quick failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def has_figure(out: str, pattern: str) -> bool:
    return re.search(pattern, out, re.MULTILINE) is not None


def test_make_big_data(tmp_path):
    out = run_bench("make_big_data", tmp_path, "--out", str(tmp_path / "layers.gpkg"))
    for layer, n in (("enterprises", 400), ("grids", None), ("lifelines", 200)):
        assert has_figure(out, rf"^  {layer}: {n or NUMBER} features"), out
    assert (tmp_path / "layers.gpkg").exists()


def test_bench_canvas(tmp_path):
    out = run_bench("bench_canvas", tmp_path, "--shot", str(tmp_path / "zoom.png"))
    for label in ("cold start to first map frame:", "full redraw:", "10× zoom redraw:", "pan frame \\(cache\\):",
                  "peak memory:"):
        assert has_figure(out, rf"^{label} .*{NUMBER} (ms|s|MB)"), (label, out)
    assert has_figure(out, r"'enterprises': 400"), out
    assert (tmp_path / "zoom.png").stat().st_size > 0


def test_bench_render(tmp_path):
    out = run_bench("bench_render", tmp_path)
    assert has_figure(out, rf"^full redraw 1920x1080 +median +{NUMBER} ms"), out
    assert has_figure(out, rf"^10x zoom, centre .* map frame +median +{NUMBER} ms"), out
    assert has_figure(out, rf"^pan frame from cache +median +{NUMBER} ms"), out


def test_bench_encroachment(tmp_path):
    out = run_bench("bench_encroachment", tmp_path)
    assert has_figure(out, rf"^check_encroachments \(read tables \+ check\): {NUMBER} s"), out
    assert has_figure(out, rf"^find_encroachments \(in memory\): +{NUMBER} s"), out


def test_bench_zoning(tmp_path):
    out = run_bench("bench_zoning", tmp_path)
    assert has_figure(out, r"^400 enterprises, \d+ grid cells"), out
    for rule in ("max", "weighted"):
        assert has_figure(out, rf"^from scratch, zone_project \({rule} *\) total: +median +{NUMBER} ms"), out
    assert has_figure(out, rf"^incremental, level change: recolour +median +{NUMBER} ms"), out
    assert has_figure(out, rf"^incremental, relocation .* median +{NUMBER} ms"), out


def test_bench_import(tmp_path, demo_path):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(demo_path, work / "huining.gpkg")  # the session's demo: the bench does not build its own
    out = run_bench("bench_import", tmp_path, "--keep", str(work))
    assert has_figure(out, rf"^  total +{NUMBER}s"), out
    assert has_figure(out, r"^rows 300: imported 300"), out
    # the update run: a newer copy of a 300-row list, matched by credit code
    assert has_figure(out, rf"^  total +{NUMBER}s +{NUMBER}s +\(target ≤ 10 s\)$"), out
    assert has_figure(out, r"^  made: 30 changed, 15 new, 15 gone; found: 15 added, 30 changed, 255 unchanged"), out


def test_bench_export(tmp_path, demo_path):
    sys.path.insert(0, str(BENCH))
    try:
        from bench_export import CASES
    finally:
        sys.path.remove(str(BENCH))
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(demo_path, work / "demo.gpkg")
    out = run_bench("bench_export", tmp_path, "--folder", str(work))
    for case in CASES:  # every case, also those added later
        assert has_figure(out, rf"^{re.escape(case)} +{NUMBER} s +{NUMBER} MB"), (case, out)


def test_bench_new(tmp_path):
    out = run_bench("bench_new", tmp_path, "--work", str(tmp_path / "work"))
    assert has_figure(out, rf"^search worst: {NUMBER} ms"), out
    for level, name, zones in (("county", "平阴县", 1), ("city", "六安市", 8), ("province", "安徽省", 17)):
        assert has_figure(out, rf"^new {level} {name}: {NUMBER} s median of 1.*, {zones} zones, {NUMBER} MB"), out


@pytest.mark.postgis
def test_bench_postgis(tmp_path, pg_server):
    url = pg_server.create_database("bench_quick")
    try:
        out = run_bench("bench_postgis", tmp_path, "--url", url)
    finally:
        pg_server.drop_database("bench_quick")
    assert has_figure(out, r"^400 enterprises, \d+ grid cells"), out
    assert has_figure(out, rf"^  read_table enterprises \(400 points\) +{NUMBER} +{NUMBER}"), out
    assert has_figure(out, rf"^  check_encroachments +{NUMBER} +{NUMBER} .*same result: True"), out
    assert has_figure(out, r"^  zone_project grid max .*same levels: True"), out


def test_bench_timeline(tmp_path):
    out = run_bench("bench_timeline", tmp_path, "--shot", str(tmp_path / "timeline.png"))
    assert has_figure(out, r"^enterprises: 400; history from 2024-01-01"), out
    for label in ("date step to redrawn frame \\(dates over the history\\):",
                  "date step to redrawn frame \\(dragging day by day\\):", "riskmap.asof.levels_at alone",
                  "zones and hidden dangers of the date drawn"):
        assert has_figure(out, rf"^{label}.* min {NUMBER} ms, median {NUMBER} ms"), (label, out)
    assert has_figure(out, rf"^dated records read into memory .*: {NUMBER} ms"), out
    assert (tmp_path / "timeline.png").stat().st_size > 0


def test_bench_briefing(tmp_path):
    out = run_bench("bench_briefing", tmp_path, "--out", str(tmp_path / "out"))
    assert has_figure(out, r"^  400 enterprises, [\d,]+ dated assessments, \d+ towns"), out
    for fmt in ("DOCX", "PDF "):
        assert has_figure(out, rf"^briefing {fmt}: +{NUMBER} s +\[layers as of the end date {NUMBER} s, "
                               rf"figures and changes {NUMBER} s, map {NUMBER} s"), out
    assert has_figure(out, rf"^target: ≤ 10 s per briefing — slowest {NUMBER} s"), out
    assert (tmp_path / "out" / "briefing.docx").stat().st_size > 0 and (tmp_path / "out" / "briefing.pdf").exists()


def test_bench_bundle(tmp_path):
    if not (ROOT / "dist" / "riskmap" / ("riskmap.exe" if os.name == "nt" else "riskmap")).exists():
        pytest.skip("dist/riskmap is not built (scripts/build-bundle.sh builds it, ~3 min)")
    out = run_bench("bench_bundle", tmp_path)
    assert has_figure(out, rf"^cold process start to first map frame: {NUMBER} s median of 1"), out
    assert has_figure(out, rf"^riskmap --version: {NUMBER} s"), out
    assert has_figure(out, rf"^bundle: .* \({NUMBER} MB unpacked\)"), out


def test_make_city_data(tmp_path):
    import pyogrio
    import shapely

    out = run_bench("make_city_data", tmp_path, "--work", str(tmp_path / "work"))
    assert has_figure(out, r"^  enterprises: 400$"), out
    assert has_figure(out, r"^  counties: 2$"), out
    folder = tmp_path / "work" / "city_liuan_quick_0"
    files = sorted(folder.glob("county_*.gpkg"))
    assert [f.name for f in files] == ["county_341502.gpkg", "county_341503.gpkg"]  # 金安区, 裕安区 of 六安市
    total = 0
    for f in files:  # each county file holds its own county only, every enterprise inside its boundary
        adcode = f.stem.split("_")[1]
        zones = pyogrio.read_dataframe(f, layer="zones")
        ents = pyogrio.read_dataframe(f, layer="enterprises")
        county = zones[zones["kind"] == "county"]
        assert county["code"].tolist() == [adcode]
        assert shapely.contains(county.geometry.iloc[0].buffer(1e-9), ents.geometry.values).all()
        assert set(ents["county"]) == {adcode} and ents["name"].str.startswith("示例").all()
        assert has_figure(out, rf"^  county {adcode} ..区: towns \d+, grids \d+, enterprises {len(ents)}, "
                               rf"lifelines"), out
        total += len(ents)
    assert total == 400
    city = pyogrio.read_dataframe(folder / "city.gpkg", layer="enterprises")
    assert len(city) == 400 and sorted(set(city["county"])) == ["341502", "341503"]
    meta = dict(pyogrio.read_dataframe(folder / "city.gpkg", layer="project_meta")[["key", "value"]].values)
    assert meta["place"] == "341500" and meta["demo"] == "1" and "示例数据" in meta["name"]


@pytest.mark.postgis
def test_bench_city(tmp_path, pg_server):
    url = pg_server.create_database("bench_city_quick")
    try:
        out = run_bench("bench_city", tmp_path, "--url", url, "--json", str(tmp_path / "city.json"),
                        "--shots", str(tmp_path / "shots"))
    finally:
        pg_server.drop_database("bench_city_quick")
    assert has_figure(out, r"^data: \{'counties': 2, 'towns': 8, 'grids': \d+, 'enterprises': 400"), out
    assert has_figure(out, rf"^push into PostGIS \((counties|city)\): total {NUMBER} s"), out
    for label in ("open to first frame", "full redraw, a view not drawn before", "full redraw, the same view again",
                  "10× zoom redraw \\(median\\)", "pan frame, full view \\(cache\\)", "redraw settled after a pan at 10×",
                  "zoning grid, rule max \\(median\\)", "  its CPU time \\(all threads\\)"):
        assert has_figure(out, rf"^  {label} +{NUMBER} (ms|s) .* +{NUMBER} (ms|s)"), (label, out)  # both stores
    assert has_figure(out, rf"^  peak memory +{NUMBER} MB .* +{NUMBER} MB"), out
    for store in ("GeoPackage", "PostGIS"):  # the first run's own steps, beside its time (a new process's)
        assert has_figure(out, rf"^  {store} zoning_grid: \d+ zones, .* first run {NUMBER} ms, its steps "
                               rf"\{{'read': {NUMBER}, .*'total': {NUMBER}"), out
    if hasattr(os, "posix_fadvise"):  # the GeoPackage evicted from the page cache before each session
        assert has_figure(out, rf"^  open to first frame, file not cached +{NUMBER} ms"), out
    assert "ERROR" not in out, out
    assert has_figure(out, r"^QGIS not available") or has_figure(
        out, rf"^  full redraw parallel \(median\) +{NUMBER} (ms|s) +{NUMBER} (ms|s)"), out
    import json

    figures = json.loads((tmp_path / "city.json").read_text(encoding="utf-8"))
    assert figures["stores"]["gpkg"]["canvas"]["layers"]["enterprises"]["rows"] == 400
    assert figures["stores"]["postgis"]["canvas"]["layers"]["enterprises"]["rows"] == 400
    assert (tmp_path / "shots" / "gpkg" / "full.png").stat().st_size > 0


def test_bench_viewport(tmp_path):
    out = run_bench("bench_viewport", tmp_path)
    for label in ("compact arrays \\(cold\\):", "compact arrays \\(warm\\):", "first full frame:", "full redraw:",
                  "10x zoom frame:", "40x zoom with names:", "query_bbox 0.1 degree:", "aggregate_points 0.01:",
                  "peak memory:"):
        assert has_figure(out, rf"^{label} .*{NUMBER} (ms|MB)"), (label, out)
    assert has_figure(out, r"^rows: +400 in"), out
    for title in ("grids", "lifelines", "both"):
        assert has_figure(out, rf"^{title} +full: first {NUMBER} ms .*new view {NUMBER} ms \(.*vertices drawn\), "
                               rf"redraw {NUMBER} ms; 10x zoom {NUMBER} ms; pan of it {NUMBER} ms"), (title, out)
        assert has_figure(out, rf"^{title} arrays +full: first {NUMBER} ms \(band built\), new view {NUMBER} ms; "
                               rf"10x zoom {NUMBER} ms; pan of it {NUMBER} ms"), (title, out)
    for name in ("grids", "lifelines"):
        for kind in ("cold", "warm"):
            assert has_figure(out, rf"^{name} arrays {kind} +{NUMBER} ms \([\d,]+ features, [\d,]+ vertices"), out


def test_bench_layer_query(tmp_path, pg_server):
    url = pg_server.create_database("bench_layer_query_quick")
    try:
        out = run_bench("bench_layer_query", tmp_path, "--url", url)
    finally:
        pg_server.drop_database("bench_layer_query_quick")
    assert has_figure(out, r"^3,000 enterprises; median of 1 runs"), out
    for label in (r"class_counts \(legend\)", r"search, an exact name", r"features_at \(identify, 5 px\)",
                  r"page of 200 at row 2,800, by level", r"ordered_ids by level"):
        assert has_figure(out, rf"^  {label} +{NUMBER} +{NUMBER}"), (label, out)
