"""Benchmark riskmap at city scale on both stores: 1M enterprises, 50k grid cells, 200k lifelines.

Data: bench/make_city_data.py (六安市's 7 counties filled with fictitious data, made once per seed in the
work folder and reused). The GeoPackage store is the city file; the PostgreSQL + PostGIS store is a database
holding the county files pushed one by one with riskmap.store.sync.push (timed) — on a throwaway server
(tests/pgserver.py) unless ``--url`` names an empty database (or one holding the data set from an earlier run:
then it is not pushed again).

Measured for each store in a fresh process of its own (so that its peak memory, VmHWM, is its own), with
a 1920×1080 offscreen canvas in the main window with its docks as a new user has them, opened the way the
application opens a project (MainWindow.open_project):

- open to first frame (open_project → the first map frame shown) and to the complete map (every layer drawn,
  labels too), also counted from the process start; on the GeoPackage also with the file out of the operating
  system's page cache (evicted before each of --repeat sessions: the first opening after a restart);
- full redraw: a render job of the whole city in a view not drawn before (panned a few pixels each time: at small
  scales riskmap keeps an image of each large layer's whole extent on the view's pixel grid, which serves a pan by
  whole pixels), of the same view again (layer images kept), and at a scale not drawn before (zoomed out a few
  per cent: every layer painted); min/median of --repeat;
- 10× zoom: a render job of the centre at 10× (cold: first time there; warm: median), and through the canvas
  (zoom_by about another point each time → frame shown), both right after the whole city is drawn; then both
  again (new centres) after waiting for the canvas's idle work after a frame (large layers' indexes, exact tiles
  laid out, their paths built ahead: what a user's moment of looking at the map gives), the wait reported too;
- pan: the frame painted from the cached image while dragging, and the settled redraw after a pan at 10×
  (set_view → frame shown; new ground each time: the last frame moved and the strips it leaves rendered);
- peak memory of that process;
- each store is opened twice, the second session with the user's cache folder of the first (riskmap keeps big
  layers' compact point arrays there): a first opening and an everyday one;
- in another process per store: city zoning (riskmap.grading.zoning.zone_project, grid unit, rule max: 1M
  enterprises into 50k cells; town and county units too) and city statistics (riskmap.stats.city_stats by
  county, town and grid), their county totals checked against the generated data.

QGIS on the same data where the machine has it (a python3 on PATH that imports qgis, e.g. Debian's
python3-qgis 3.22; never a dependency of riskmap): the same layers (enterprises and grid cells categorised by
level in the four colours with riskmap's sizes and opacity, lifelines, town and county outlines, no labels)
from the city GeoPackage and from the PostGIS tables, in the same Gauss–Krüger CRS, rendered at 1920×1080
with QgsMapRendererParallelJob and SequentialJob, full extent and 10× zoom about the centre. QGIS draws each
layer whole at every scale (no level of detail) and in data order (red is not kept on top).

Targets (issue 15): first frame ≤ 1 s, full redraw ≤ 0.3 s, 10× zoom ≤ 50 ms, pan frame ≤ 16 ms, memory
≤ 1 GB on both stores; city zoning ≤ 3 s; city statistics ≤ 1 s. A benchmark, never a timed test.

    .venv/bin/python bench/bench_city.py [--work DIR] [--url URL] [--repeat 3] [--json out.json] [--eager]
    .venv/bin/python bench/bench_city.py --quick     # 2 counties, a few hundred features, 960×540, seconds

``--eager`` also measures the canvas with every layer read whole (today's loading before lazy layers:
LAZY_ROWS raised above the data), the baseline of the note. ``--stores gpkg`` / ``postgis`` runs one store;
``--lazy-rows`` / ``--lazy-shape-rows`` try other thresholds; ``--no-core``, ``--no-qgis``, ``--one-session``
leave parts out. The load average is printed: on a shared machine the figures are only comparable at the
same load.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench.make_city_data import DEFAULT_WORK, METRIC_EPSG, push_counties, write_city  # noqa: E402
from bench.peak import peak_mb  # noqa: E402

W, H = 1920, 1080
TARGETS = {"first_frame": 1.0, "full_redraw": 0.3, "zoom10": 0.05, "pan_frame": 0.016, "memory_mb": 1024,
           "zoning": 3.0, "stats": 1.0}

# ---------------------------------------------------------------------------------------------- children
# every child's own peak memory (bench/peak.py; its source, as the QGIS child runs outside riskmap's environment)
PEAK = "\n" + inspect.getsource(peak_mb) + "\n"

# ---------------------------------------------------------------------------------------------- canvas child
CANVAS_CHILD = PEAK + r"""
import json, os, random, sys, time
T0 = float(os.environ["BENCH_T0"])
from riskmap.ui.app import make_application
app = make_application([])
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QImage
from riskmap.ui.main_window import MainWindow
W, H, REPEAT = int(os.environ["BENCH_W"]), int(os.environ["BENCH_H"]), int(os.environ["BENCH_REPEAT"])
out = {"lazy_available": False}
try:
    import riskmap.store.viewport as viewport
    out["lazy_available"] = True
    out["lazy_rows"] = viewport.LAZY_ROWS
except ImportError:
    viewport = None
EAGER = os.environ.get("BENCH_EAGER") == "1"
for name in ("LAZY_ROWS", "LAZY_SHAPE_ROWS"):  # eager: no layer is lazy (today's whole-layer loading)
    value = 10 ** 12 if EAGER else int(os.environ.get("BENCH_" + name) or 0)
    if value and viewport is not None and hasattr(viewport, name):
        setattr(viewport, name, value)
if viewport is not None:
    out["lazy_rows"] = "raised above the data (eager)" if EAGER else \
        f"points > {viewport.LAZY_ROWS:,}, lines and polygons > {getattr(viewport, 'LAZY_SHAPE_ROWS', viewport.LAZY_ROWS):,}"
win = MainWindow(install_extensions=False)
# the docks as a new user's window has them (their work at opening counts: hidden, they hid a dashboard that
# read the city's million enterprises twice, 1.9 GB); menus, tool and status bars hidden
win.menuBar().hide(); win.toolbar.hide(); win.statusBar().hide()
win.canvas.setFixedSize(W, H)
win.show()
app.processEvents()

def done_loading():
    return win.project is not None and not win.loading and not win.canvas.is_rendering()

def on_frame(seconds, labels=False):
    if win.project is None:
        return
    now = time.perf_counter()
    if "first_frame_s" not in out and not labels:
        out["first_frame_s"] = now - T_OPEN
        out["first_render_s"] = seconds
        out["first_frame_all_layers"] = not win.loading  # False: big layers were still being read
        if os.environ.get("BENCH_FIRST_ONLY") == "1":  # (the first frame alone: print and leave)
            out["peak_rss_mb"] = peak_mb()
            print("BENCH " + json.dumps(out), flush=True)
            os._exit(0)
    if done_loading() and "complete_s" not in out:
        out["complete_s"] = now - T_OPEN
        out["process_complete_s"] = time.time() - T0
        out["complete_render_s"] = win.canvas.last_render_s
        QTimer.singleShot(0, measure)

win.canvas.renderFinished.connect(on_frame)
win.canvas.labelsFinished.connect(lambda s: on_frame(s, True))

def on_open():
    ws = win.workspace
    for lid in ("grids", "enterprises", "lifelines"):
        ws.set_visible(lid, True)  # grids are off in the catalogue; the benchmark draws all three

win.projectOpened.connect(on_open)
out["process_to_open_s"] = time.time() - T0
T_OPEN = time.perf_counter()
win.open_project(sys.argv[1])

def timed(fn, n):
    ts = []
    for _ in range(n):
        t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return [min(ts), sorted(ts)[len(ts) // 2], max(ts)]

def wait_for(signal, timeout_ms=60000):
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)

def settle(c):
    while c.is_rendering():
        wait_for(c.labelsFinished if c._label_job is not None else c.renderFinished, 5000)
    app.processEvents()  # the frame just taken painted on screen (else its paint ran in the next timed zoom)

def wait_idle(c, timeout_s=60.0):
    end = time.perf_counter() + timeout_s
    while c.idle_work_pending() and time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.005)

def measure():
    try:
        _measure()
    except BaseException as exc:
        import traceback
        out["error"] = traceback.format_exc()
    print("BENCH " + json.dumps(out), flush=True)
    win.close()
    app.quit()

def _measure():
    c, ws = win.canvas, win.workspace
    out["layers"] = {l.id: {"rows": int(getattr(l, "row_count", len(l.gdf))), "lazy": bool(getattr(l, "lazy", False)),
                            "held": len(l.gdf)} for l in ws.layers if l.visible}
    c.zoom_full()
    c._render_timer.stop()
    settle(c)
    full = c.view
    def render(view):  # the canvas's map frame (no labels), as the canvas runs it on its worker
        c._cancel_ahead()  # (as the canvas does before a render: the paths built ahead wait for the next frame)
        job = c.render_job(view, labels=False); job.run()
        if job.error: raise job.error
        return job
    out["full_redraw_s"] = timed(lambda: render(full), REPEAT)  # the same view again (kept images may serve it)
    new_views = iter([full.panned(37 * (i + 1), 23 * (i + 1)) for i in range(REPEAT)])
    out["full_new_view_s"] = timed(lambda: render(next(new_views)), REPEAT)  # whole city, a view not drawn before
    job = render(full.panned(-41, -29))  # per layer, in a view not drawn before
    out["full_stats"] = {k: round(v, 4) for k, v in job.stats.layer_seconds.items() if v > 0.0005}
    # the whole city at a scale not drawn before (zoomed out 3-9 %): no kept layer image serves it, every layer
    # is painted (the decimated bands of that resolution may be kept)
    new_scales = iter([full.zoomed(1.03 ** -(i + 1)) for i in range(REPEAT)])
    out["full_new_scale_s"] = timed(lambda: render(next(new_scales)), REPEAT)
    job = render(full.zoomed(0.955))
    out["full_scale_stats"] = {k: round(v, 4) for k, v in job.stats.layer_seconds.items() if v > 0.0005}
    c._accept(render(full))
    c._spares_in_idle_time()  # (as the canvas does after each frame it shows: the free images cleared)
    c.grab().save(os.path.join(os.environ["BENCH_SHOTS"], "full.png"))
    zoomed = full.zoomed(10.0)
    cpu = time.process_time()  # (the process's CPU, all its threads: the work, without the machine's other load)
    t = time.perf_counter(); render(zoomed); out["zoom10_cold_s"] = time.perf_counter() - t
    out["zoom10_cold_cpu_s"] = time.process_time() - cpu
    out["zoom10_redraw_s"] = timed(lambda: render(zoomed), REPEAT)
    job = render(zoomed)
    out["zoom10_stats"] = {k: round(v, 4) for k, v in job.stats.layer_seconds.items() if v > 0.0005}
    out["zoom10_scale"] = round(zoomed.scale_denominator())
    # through the canvas: zoom 10x about another point each time (new ground: nothing cached there yet)
    rnd = random.Random(1)
    frame_t = []
    for i in range(REPEAT):
        c.set_view(full)
        settle(c)
        t = time.perf_counter()
        c.zoom_by(10.0, (rnd.uniform(0.3, 0.7) * W, rnd.uniform(0.3, 0.7) * H))
        wait_for(c.renderFinished)
        frame_t.append(time.perf_counter() - t)
    settle(c)
    out["canvas_zoom_frame_s"] = [min(frame_t), sorted(frame_t)[len(frame_t) // 2], max(frame_t)]
    c.grab().save(os.path.join(os.environ["BENCH_SHOTS"], "zoom.png"))
    # the same after the canvas's idle work (indexes, tiles laid out, their paths built ahead), as when a user
    # looks at the city for a moment before zooming in: the render job about new centres, then the canvas
    idle_t, idle_cold, idle_cpu, frame_t = [], [], [], []
    for i in range(REPEAT):
        c.set_view(full)
        settle(c)
        t = time.perf_counter()
        wait_idle(c)
        idle_t.append(time.perf_counter() - t)
        # about the dense middle of the city as the first 10× zoom, moved by 30-60 % of the zoomed view's size
        # (mostly new ground: no kept image of it)
        dx, dy = (rnd.choice((-1, 1)) * rnd.uniform(0.03, 0.06) * n for n in (W, H))
        view = full.panned(dx, dy).zoomed(10.0)
        cpu = time.process_time()
        t = time.perf_counter(); render(view); idle_cold.append(time.perf_counter() - t)
        idle_cpu.append(time.process_time() - cpu)
        c.set_view(full)
        settle(c)
        t = time.perf_counter()
        c.zoom_by(10.0, (W / 2 - dx, H / 2 - dy))
        wait_for(c.renderFinished)
        frame_t.append(time.perf_counter() - t)
        settle(c)
    out["idle_wait_s"] = [min(idle_t), sorted(idle_t)[len(idle_t) // 2], max(idle_t)]
    out["zoom10_idle_cold_s"] = [min(idle_cold), sorted(idle_cold)[len(idle_cold) // 2], max(idle_cold)]
    out["zoom10_idle_cold_cpu_s"] = [min(idle_cpu), sorted(idle_cpu)[len(idle_cpu) // 2], max(idle_cpu)]
    out["canvas_zoom_idle_frame_s"] = [min(frame_t), sorted(frame_t)[len(frame_t) // 2], max(frame_t)]
    # pan frames: while dragging the canvas paints its cached image shifted (no render)
    img = QImage(W, H, QImage.Format.Format_ARGB32_Premultiplied)
    def pan_frames(view):
        c._accept(render(view))
        frames = []
        for i in range(60):
            c.view = view.panned(3 * i, 2 * i)
            t = time.perf_counter()
            c.render(img)
            frames.append(time.perf_counter() - t)
        frames.sort()
        return [frames[0], frames[len(frames) // 2], frames[-1]]
    out["pan_frame_full_s"] = pan_frames(full)
    out["pan_frame_zoom_s"] = pan_frames(zoomed)
    # the settled redraw after a pan at 10x: a third of the width each time, onto new ground
    c.set_view(zoomed)
    settle(c)
    settled = []
    for i in range(REPEAT):
        t = time.perf_counter()
        c.set_view(c.view.panned(W / 3, H / 5 * (1 if i % 2 else -1)))
        wait_for(c.renderFinished)
        settled.append(time.perf_counter() - t)
        settle(c)
    out["pan_settled_s"] = [min(settled), sorted(settled)[len(settled) // 2], max(settled)]
    out["peak_rss_mb"] = peak_mb()

QTimer.singleShot(int(os.environ.get("BENCH_TIMEOUT_MS", "900000")), app.quit)
app.exec()
if "complete_s" not in out:
    out["error"] = "the map was not complete before the time-out"
    print("BENCH " + json.dumps(out), flush=True)
"""

# ---------------------------------------------------------------------------------------------- core child
CORE_CHILD = PEAK + r"""
import json, sys, time, traceback
from riskmap.store import Project
target, repeat = sys.argv[1], int(sys.argv[2])
out = {}
project = Project.open(target)
from riskmap.grading.zoning import zone_project
def zone(unit):
    ts, steps, result = [], [], None
    for _ in range(repeat if unit == "grid" else 1):
        t = time.perf_counter()
        result = zone_project(project, unit, "max")
        ts.append(time.perf_counter() - t)
        steps.append({k: round(v, 3) for k, v in result.timings.items()})
    levels = {}
    for z in result.zones:
        levels[str(z.level)] = levels.get(str(z.level), 0) + 1
    return {"seconds": ts, "zones": len(result.zones), "levels": levels, "timings": steps[-1],
            "first_timings": steps[0]}
for unit in ("grid", "town", "county"):
    try:
        out[f"zoning_{unit}"] = zone(unit)
    except Exception as exc:
        out[f"zoning_{unit}"] = {"error": f"{type(exc).__name__}: {exc}"}
try:
    from riskmap.stats import city_stats
except ImportError:
    city_stats = None
if city_stats is None:
    from riskmap.stats import project_stats
    t = time.perf_counter(); s = project_stats(project); out["project_stats_s"] = time.perf_counter() - t
    out["by_level"] = s["by_level"]
else:
    for by in ("county", "town", "grid"):
        try:
            ts = []
            for _ in range(repeat):
                t = time.perf_counter(); df = city_stats(project, by=by); ts.append(time.perf_counter() - t)
            row = {"seconds": ts, "rows": len(df), "columns": [str(c) for c in df.columns]}
            if by == "county":
                row["table"] = json.loads(df.to_json(orient="records", force_ascii=False))
            out[f"stats_{by}"] = row
        except Exception as exc:
            out[f"stats_{by}"] = {"error": traceback.format_exc(limit=3)}
out["peak_rss_mb"] = peak_mb()
project.close()
print("BENCH " + json.dumps(out, ensure_ascii=False), flush=True)
"""

# ---------------------------------------------------------------------------------------------- QGIS child
QGIS_CHILD = PEAK + r"""
import json, os, sys, time
cfg = json.loads(sys.argv[1])
from qgis.core import (Qgis, QgsApplication, QgsCategorizedSymbolRenderer, QgsCoordinateReferenceSystem,
                       QgsDataSourceUri, QgsMapRendererParallelJob, QgsMapRendererSequentialJob, QgsMapSettings,
                       QgsRectangle, QgsRendererCategory, QgsSingleSymbolRenderer, QgsSymbol, QgsVectorLayer, QgsWkbTypes)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
app = QgsApplication([], False)
app.initQgis()
out = {"version": Qgis.QGIS_VERSION}
W, H, REPEAT = cfg["width"], cfg["height"], cfg["repeat"]

def make_layer(table, subset, name, geom_type):
    if cfg["store"] == "gpkg":
        uri = f"{cfg['path']}|layername={table}" + (f"|subset={subset}" if subset else "")
        lyr = QgsVectorLayer(uri, name, "ogr")
    else:
        u = QgsDataSourceUri()
        u.setConnection(cfg["host"], cfg["port"], cfg["dbname"], cfg["user"], cfg["password"])
        u.setDataSource("public", table, "geom", subset or "", "id")
        u.setSrid("4490")
        u.setWkbType(geom_type)
        lyr = QgsVectorLayer(u.uri(False), name, "postgres")
    if not lyr.isValid():
        raise SystemExit(f"QGIS cannot open {table} ({cfg['store']})")
    return lyr

def by_level(lyr, style):
    # riskmap's layer styles (layers/enterprises.toml, grids.toml): level colours, grey / white for none
    cats = []
    for n, colour in [*cfg["colours"].items(), (None, style["none"])]:
        sym = QgsSymbol.defaultSymbol(lyr.geometryType())
        c = QColor(colour)
        c.setAlphaF(style.get("opacity", 1.0))
        sym.setColor(c)
        layer = sym.symbolLayer(0)
        if "size" in style:
            sym.setSize(style["size"])
        layer.setStrokeColor(QColor(style["stroke"]))
        layer.setStrokeWidth(style["stroke_width"])
        cats.append(QgsRendererCategory(None if n is None else int(n), sym, str(n)))
    lyr.setRenderer(QgsCategorizedSymbolRenderer("level", cats))

def outline(lyr, width):
    sym = QgsSymbol.defaultSymbol(lyr.geometryType())
    sym.symbolLayer(0).setBrushStyle(0)  # Qt.NoBrush: outlines only
    sym.symbolLayer(0).setStrokeColor(QColor("#000000"))
    sym.symbolLayer(0).setStrokeWidth(width)
    lyr.setRenderer(QgsSingleSymbolRenderer(sym))

t = time.perf_counter()
grids = make_layer("zones", "kind = 'grid'", "grids", QgsWkbTypes.MultiPolygon)
towns = make_layer("zones", "kind = 'town'", "towns", QgsWkbTypes.MultiPolygon)
counties = make_layer("zones", "kind = 'county'", "counties", QgsWkbTypes.MultiPolygon)
ents = make_layer("enterprises", None, "enterprises", QgsWkbTypes.Point)
lines = make_layer("lifelines", None, "lifelines", QgsWkbTypes.MultiLineString)
by_level(grids, {"none": "#FFFFFF", "opacity": 0.35, "stroke": "#8A8A8A", "stroke_width": 0.1})
by_level(ents, {"none": "#9E9E9E", "size": 2.4, "stroke": "#202020", "stroke_width": 0.2})
outline(towns, 0.3)
outline(counties, 0.8)
lsym = QgsSymbol.defaultSymbol(lines.geometryType())
lsym.setColor(QColor("#1f78b4"))
lsym.setWidth(0.35)
lines.setRenderer(QgsSingleSymbolRenderer(lsym))
for lyr in (grids, towns, counties, ents, lines):
    lyr.setLabelsEnabled(False)  # riskmap's map frame has no labels (they come in a second pass)
out["open_s"] = time.perf_counter() - t

ms = QgsMapSettings()
ms.setOutputSize(QSize(W, H))
ms.setOutputDpi(96)
ms.setDestinationCrs(QgsCoordinateReferenceSystem(f"EPSG:{cfg['epsg']}"))
ms.setLayers([counties, ents, lines, towns, grids])  # top first
ms.setBackgroundColor(QColor("white"))
x0, y0, x1, y1 = cfg["extent"]
full = QgsRectangle(x0, y0, x1, y1)
cx, cy, w, h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 20, (y1 - y0) / 20
zoom = QgsRectangle(cx - w, cy - h, cx + w, cy + h)

def render(extent, parallel, save=None):
    ms.setExtent(extent)
    job = QgsMapRendererParallelJob(ms) if parallel else QgsMapRendererSequentialJob(ms)
    t = time.perf_counter()
    job.start()
    job.waitForFinished()
    dt = time.perf_counter() - t
    if save:
        job.renderedImage().save(save)
    return dt

def timed(extent, parallel, n):
    ts = sorted(render(extent, parallel) for _ in range(n))
    return [ts[0], ts[len(ts) // 2], ts[-1]]

out["first_render_s"] = render(full, True, os.path.join(cfg["shots"], "qgis_full.png"))
out["first_frame_s"] = out["open_s"] + out["first_render_s"]
out["full_parallel_s"] = timed(full, True, REPEAT)
out["full_sequential_s"] = timed(full, False, max(1, REPEAT // 2))
out["zoom10_cold_s"] = render(zoom, True, os.path.join(cfg["shots"], "qgis_zoom.png"))
out["zoom10_parallel_s"] = timed(zoom, True, REPEAT)
out["zoom10_sequential_s"] = timed(zoom, False, REPEAT)
out["features"] = {"enterprises": ents.featureCount(), "grids": sum(1 for _ in grids.getFeatures()),
                   "lifelines": lines.featureCount()}
out["peak_rss_mb"] = peak_mb()
print("BENCH " + json.dumps(out), flush=True)
app.exitQgis()
"""


def find_qgis_python() -> str | None:
    """A python3 on PATH that imports qgis (checked in that order), or None."""
    seen = set()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for name in ("python3", "python"):
            exe = os.path.join(folder, name)
            if not os.path.isfile(exe) or not os.access(exe, os.X_OK):
                continue
            real = os.path.realpath(exe)
            if real in seen:
                continue
            seen.add(real)
            try:
                ok = subprocess.run([exe, "-c", "import qgis.core"], capture_output=True, timeout=60,
                                    env=_clean_env()).returncode == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if ok:
                return exe
    return None


def _clean_env(**extra) -> dict:
    """The environment for a process outside riskmap's virtual environment (QGIS: the system's own Python)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.update(extra)
    return env


def _bench_line(proc: subprocess.CompletedProcess, what: str) -> dict:
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    return {"error": f"{what} failed (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"}


def run_canvas(target: str, repeat: int, size: tuple[int, int], shots: Path, eager: bool = False,
               lazy_rows: int | None = None, lazy_shape_rows: int | None = None, cache: str | None = None,
               first_only: bool = False) -> dict:
    """The canvas figures of one session in a fresh process (fresh settings; ``cache``: the user's cache folder,
    kept between sessions — riskmap keeps big layers' compact arrays there). ``first_only``: open to the first
    frame alone."""
    shots.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home:  # fresh settings: no remembered window state
        env = dict(os.environ, BENCH_W=str(size[0]), BENCH_H=str(size[1]), BENCH_REPEAT=str(repeat),
                   BENCH_SHOTS=str(shots), BENCH_EAGER="1" if eager else "0", PYTHONPATH=str(ROOT),
                   BENCH_LAZY_ROWS=str(lazy_rows or ""), BENCH_LAZY_SHAPE_ROWS=str(lazy_shape_rows or ""),
                   BENCH_FIRST_ONLY="1" if first_only else "0",
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
        for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            env[k] = os.path.join(home, k)
        if cache:
            env["XDG_CACHE_HOME"] = cache
        env["BENCH_T0"] = repr(time.time())
        load = os.getloadavg()[0]
        proc = subprocess.run([sys.executable, "-c", CANVAS_CHILD, target], env=env, capture_output=True,
                              text=True, timeout=1800)
    return {**_bench_line(proc, "the canvas process"), "load": [load, os.getloadavg()[0]]}


def first_frames_uncached(target: str, repeat: int, size: tuple[int, int], shots: Path) -> dict | None:
    """Open to first frame with the project file out of the page cache (evicted before each session; the user's
    cache empty): the first opening after a restart. None where the file cannot be evicted."""
    from riskmap.store.prefetch import evict

    runs = []
    for _ in range(repeat):
        if not evict(target):
            return None
        runs.append(run_canvas(target, repeat, size, shots, first_only=True))
    seconds = sorted(r["first_frame_s"] for r in runs if "first_frame_s" in r)
    if not seconds:
        return {"error": next((r.get("error") for r in runs if r.get("error")), "no first frame")}
    return {"first_frame_s": [seconds[0], seconds[len(seconds) // 2], seconds[-1]],
            "peak_rss_mb": max(r.get("peak_rss_mb", 0) for r in runs)}


def run_core(target: str, repeat: int) -> dict:
    """Zoning and statistics in a fresh process with an empty user cache, so that the first run places every
    enterprise afresh even on a database an earlier run zoned (riskmap keeps the placements there)."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPATH=str(ROOT), XDG_CACHE_HOME=cache)
        proc = subprocess.run([sys.executable, "-c", CORE_CHILD, target, str(repeat)], env=env, capture_output=True,
                              text=True, timeout=1800)
    return _bench_line(proc, "the zoning and statistics process")


def run_qgis(python: str, store: str, target: str, extent, repeat: int, size: tuple[int, int], shots: Path) -> dict:
    from riskmap.levels import colour

    cfg = {"store": store, "epsg": METRIC_EPSG, "extent": list(extent), "width": size[0], "height": size[1],
           "repeat": repeat, "shots": str(shots / f"qgis_{store}"),
           "colours": {str(n): colour(n) for n in (1, 2, 3, 4)}, "none_colour": "#9E9E9E"}
    Path(cfg["shots"]).mkdir(parents=True, exist_ok=True)
    if store == "gpkg":
        cfg["path"] = target
    else:
        from sqlalchemy.engine import make_url

        u = make_url(target)
        cfg.update(host=str(u.query.get("host") or u.host or ""), port=str(u.port or 5432), dbname=u.database,
                   user=u.username or "", password=u.password or "")
    with tempfile.TemporaryDirectory() as home:
        proc = subprocess.run([python, "-c", QGIS_CHILD, json.dumps(cfg)], capture_output=True, text=True,
                              timeout=1800, env=_clean_env(HOME=home), cwd=home)
    return _bench_line(proc, f"QGIS ({store})")


def city_bbox(city_file: str) -> list[float]:
    """lon/lat bounds of the city's county zones."""
    import pyogrio

    return list(pyogrio.read_info(city_file, layer="zones")["total_bounds"])


def full_extent(bbox_4490, size) -> list[float]:
    """The city's extent in the metric CRS, 5 % margin, widened to the canvas's aspect (as zoom_full)."""
    import pyproj

    tr = pyproj.Transformer.from_crs(4490, METRIC_EPSG, always_xy=True)
    xs, ys = tr.transform([bbox_4490[0], bbox_4490[2], bbox_4490[0], bbox_4490[2]],
                          [bbox_4490[1], bbox_4490[1], bbox_4490[3], bbox_4490[3]])
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    w, h = (x1 - x0) * 1.1, (y1 - y0) * 1.1
    aspect = size[0] / size[1]
    w, h = max(w, h * aspect), max(h, w / aspect)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


# ---------------------------------------------------------------------------------------------- report
def _ms(s) -> str:
    return "-" if s is None else (f"{s * 1000:.0f} ms" if s < 10 else f"{s:.1f} s")


def _mid(v):
    """The median of a [min, median, max] figure, or the figure itself."""
    return None if v is None else (v[1] if isinstance(v, list) else v)


def _verdict(value, target) -> str:
    if value is None:
        return ""
    return "ok" if value <= target else "!!!"  # !!!: the target is missed


def report(results: dict, quick: bool) -> None:
    stores = [s for s in ("gpkg", "postgis") if s in results["stores"]]
    names = {"gpkg": "GeoPackage", "postgis": "PostGIS"}
    print(f"\nmachine: {os.cpu_count()} cores (shared), load average {os.getloadavg()[0]:.2f}; "
          f"canvas {results['size'][0]}×{results['size'][1]}; median of {results['repeat']}")
    print(f"data: {results['sizes']}  (ok: target met, !!!: target missed)")
    if results.get("push"):
        p = results["push"]
        print(f"push into PostGIS ({p['mode']}): total {p['total_s']:.1f} s; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in p["seconds"].items()))
    rows = [
        ("open to first frame", "first_frame_s", "first_frame"),
        ("open to complete map (labels too)", "complete_s", None),
        ("process start to complete map", "process_complete_s", None),
        ("full redraw, a view not drawn before", "full_new_view_s", "full_redraw"),
        ("full redraw, the same view again", "full_redraw_s", "full_redraw"),
        ("full redraw, a scale not drawn before", "full_new_scale_s", "full_redraw"),
        ("10× zoom, first time there", "zoom10_cold_s", "zoom10"),
        ("  its CPU time (all threads)", "zoom10_cold_cpu_s", None),
        ("10× zoom redraw (median)", "zoom10_redraw_s", "zoom10"),
        ("10× zoom in the canvas (new point)", "canvas_zoom_frame_s", "zoom10"),
        ("idle work after a frame (waited)", "idle_wait_s", None),
        ("10× zoom, first time, after idle work", "zoom10_idle_cold_s", "zoom10"),
        ("  its CPU time (all threads)", "zoom10_idle_cold_cpu_s", None),
        ("10× in the canvas, after idle work", "canvas_zoom_idle_frame_s", "zoom10"),
        ("pan frame, full view (cache)", "pan_frame_full_s", "pan_frame"),
        ("pan frame, 10× view (cache)", "pan_frame_zoom_s", "pan_frame"),
        ("redraw settled after a pan at 10×", "pan_settled_s", None),
    ]
    titles = {"canvas": "riskmap canvas, first session (the user's cache empty)",
              "canvas_again": "riskmap canvas, second session (the user's cache of the first: compact point arrays)",
              "canvas_eager": "riskmap canvas, every layer read whole (today's loading before lazy layers: baseline)"}
    for mode, title in titles.items():
        if not any(mode in results["stores"][s] for s in stores):
            continue
        print(f"\n{title}")
        print(f"  {'':<38}" + "".join(f"{names[s]:>14}" for s in stores) + f"{'target':>10}")
        for label, key, target in rows:
            vals = [_mid(results["stores"][s].get(mode, {}).get(key)) for s in stores]
            verdicts = [_verdict(v, TARGETS[target]) if target else "" for v in vals]
            t = _ms(TARGETS[target]) if target else ""
            print(f"  {label:<38}" + "".join(f"{_ms(v):>10} {vd:<3}" for v, vd in zip(vals, verdicts)) + f"{t:>10}")
        mem = [results["stores"][s].get(mode, {}).get("peak_rss_mb") for s in stores]
        print(f"  {'peak memory':<38}" + "".join(f"{(f'{m:.0f} MB' if m else '-'):>10} "
                                                  f"{_verdict(m, TARGETS['memory_mb']) if m else '':<3}"
                                                  for m in mem) + f"{'1024 MB':>10}")
        print(f"  {'load average before / after':<38}" + "".join(
            f"{'/'.join(f'{x:.1f}' for x in results['stores'][s].get(mode, {}).get('load', [])):>14}" for s in stores))
        if mode == "canvas" and any(results["stores"][s].get("uncached") for s in stores):
            vals = [_mid((results["stores"][s].get("uncached") or {}).get("first_frame_s")) for s in stores]
            print(f"  {'open to first frame, file not cached':<38}" + "".join(
                f"{_ms(v):>10} {_verdict(v, TARGETS['first_frame']):<3}" for v in vals) + f"{'1000 ms':>10}")
        for s in stores:
            r = results["stores"][s].get(mode, {})
            if r.get("first_frame_all_layers") is False:
                print(f"  {names[s]}: the first frame came before every layer was read (the complete map is the "
                      f"one with all of them)")
            if r.get("error"):
                print(f"  {names[s]}: ERROR {r['error'][-1500:]}")
            else:
                shown = {k: (f"{v['rows']:,} lazy, {v['held']:,} held" if v["lazy"] else f"{v['rows']:,}")
                         for k, v in (r.get("layers") or {}).items() if v["rows"]}
                print(f"  {names[s]} layers drawn (rows): {shown}; lazy layers: "
                      f"{'LAZY_ROWS ' + str(r.get('lazy_rows')) if r.get('lazy_available') else 'not in this riskmap'}")
                print(f"    full view at a scale not drawn before, per layer: {r.get('full_scale_stats')}")
                print(f"    full view not drawn before, per layer: {r.get('full_stats')}; 10× again, per layer: "
                      f"{r.get('zoom10_stats')} "
                      f"(1:{r.get('zoom10_scale', 0):,})")
    if not any("core" in results["stores"][s] for s in stores):
        stores_core = []
    else:
        stores_core = stores
    if stores_core:
        print("\ncity zoning and statistics")
    report_core(results, stores_core, names)
    report_qgis(results, stores, names)


def report_core(results: dict, stores: list[str], names: dict) -> None:
    if not stores:
        return
    print(f"  {'':<38}" + "".join(f"{names[s]:>14}" for s in stores) + f"{'target':>10}")
    for label, key, target in [("zoning grid, rule max (median)", "zoning_grid", "zoning"),
                               ("zoning town", "zoning_town", None), ("zoning county", "zoning_county", None),
                               ("city_stats by county (median)", "stats_county", "stats"),
                               ("city_stats by town (median)", "stats_town", "stats"),
                               ("city_stats by grid (median)", "stats_grid", "stats")]:
        vals = []
        for s in stores:
            r = results["stores"][s].get("core", {}).get(key) or {}
            ts = r.get("seconds")
            vals.append(sorted(ts)[len(ts) // 2] if ts else None)
        print(f"  {label:<38}" + "".join(f"{_ms(v):>10} {_verdict(v, TARGETS[target]) if target else '':<3}"
                                         for v in vals) + f"{_ms(TARGETS[target]) if target else '':>10}")
    for s in stores:
        core = results["stores"][s].get("core", {})
        if core.get("error"):
            print(f"  {names[s]}: ERROR {core['error'][-1500:]}")
            continue
        for key in ("zoning_grid", "zoning_town", "zoning_county", "stats_county", "stats_town", "stats_grid"):
            r = core.get(key)
            if r and r.get("error"):
                print(f"  {names[s]} {key}: {r['error'].strip().splitlines()[-1]}")
            elif r and key.startswith("zoning"):
                print(f"  {names[s]} {key}: {r['zones']} zones, levels {r['levels']}, first run "
                      f"{_ms(r['seconds'][0])}, its steps {r.get('first_timings', r['timings'])}")
                if len(r["seconds"]) > 1:
                    print(f"    the last run's steps {r['timings']}")
            elif r and key.startswith("stats"):
                print(f"  {names[s]} {key}: {r['rows']} rows, first run {_ms(r['seconds'][0])}")
        if "project_stats_s" in core:
            print(f"  {names[s]}: riskmap.stats.city_stats not available; project_stats (whole city, one "
                  f"table) {_ms(core['project_stats_s'])}: {core['by_level']}")
        if s == "postgis" and "gpkg" in stores:
            tables = [(results["stores"][x].get("core", {}).get("stats_county") or {}).get("table") for x in stores]
            if all(tables):
                print(f"  PostGIS: city_stats by county equal to the GeoPackage's: {tables[0] == tables[1]}")
        if "counts_match" in core:
            print(f"  {names[s]}: enterprises per county from city_stats equal the generated ones: "
                  f"{core['counts_match']}")
        print(f"  {names[s]}: zoning and statistics process peak memory {core.get('peak_rss_mb', 0):.0f} MB")
        if s == "postgis" and "zoned_copy" in core:
            print("  PostGIS: zoned " + ("a copy of the database (dropped after)" if core["zoned_copy"] else
                                       "the database itself: its counties and towns are coloured in the next runs"))


def report_qgis(results: dict, stores: list[str], names: dict) -> None:
    q = results.get("qgis")
    print()
    if q is None:
        print("QGIS left out (--no-qgis)")
        return
    if q.get("unavailable"):
        print("QGIS not available" + (f" ({q['unavailable']})" if q and q.get("unavailable") else ""))
        return
    print(f"QGIS {q.get('version', '?')} on the same data (same layers, {results['size'][0]}×{results['size'][1]})")
    print(f"  {'':<38}" + "".join(f"{names[s]:>14}" for s in stores))
    for label, key in [("open layers + first frame", "first_frame_s"), ("full redraw parallel (median)",
                                                                        "full_parallel_s"),
                       ("full redraw sequential (median)", "full_sequential_s"),
                       ("10× zoom, first time there", "zoom10_cold_s"),
                       ("10× zoom parallel (median)", "zoom10_parallel_s"),
                       ("10× zoom sequential (median)", "zoom10_sequential_s")]:
        print(f"  {label:<38}" + "".join(f"{_ms(_mid(q.get(s, {}).get(key))):>14}" for s in stores))
    print(f"  {'peak memory':<38}" + "".join(f"{q.get(s, {}).get('peak_rss_mb', 0):>11.0f} MB" for s in stores))
    for s in stores:
        if q.get(s, {}).get("error"):
            print(f"  QGIS {names[s]}: ERROR {q[s]['error'][-1500:]}")
        elif q.get(s):
            print(f"  QGIS {names[s]} features: {q[s].get('features')}")


def held_counties(url: str) -> list[str]:
    """The adcodes of the counties the database ``url`` holds ([] for an empty one)."""
    from riskmap.store import Project
    from riskmap.store.postgis import has_schema, make_engine, parse_url

    engine = make_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            if not has_schema(conn):
                return []
        with Project.open(url, readonly=True) as project:
            return sorted(a for a, _ in project.counties())
    finally:
        engine.dispose()


def settle_server(url: str) -> None:
    """After a push: VACUUM (ANALYZE) and CHECKPOINT, so that the server's own work on a million new rows (the
    autovacuum of the inserted tables, the checkpoint's writes) is done before anything is timed rather than
    beside the first measurements (the GeoPackage's first session opened in 0.9–1.1 s instead of 0.4 s there).
    What the user may not do (CHECKPOINT needs a superuser) is left out."""
    from sqlalchemy import create_engine, text

    from riskmap.store.postgis import parse_url

    engine = create_engine(parse_url(url), isolation_level="AUTOCOMMIT")
    t = time.perf_counter()
    try:
        for statement in ("VACUUM (ANALYZE)", "CHECKPOINT"):
            try:
                with engine.connect() as conn:
                    conn.execute(text(statement))
            except Exception as exc:  # noqa: BLE001
                print(f"  {statement} left out: {str(exc).splitlines()[0]}", flush=True)
    finally:
        engine.dispose()
    print(f"  the server settled (VACUUM, CHECKPOINT) in {time.perf_counter() - t:.1f} s", flush=True)


@contextmanager
def zoning_database(url: str):
    """A copy of the database ``url`` to zone (CREATE DATABASE … TEMPLATE, dropped afterwards), so that zoning's
    levels (counties and towns coloured) do not change what the next runs draw: the PostGIS canvas then shows
    what the GeoPackage's does (zoned on a copy of the file). Yields ``(url, copied)``; where the copy cannot be
    made (no CREATEDB right, the database in use), the database itself, ``copied`` False."""
    from sqlalchemy import create_engine, text

    from riskmap.store.postgis import parse_url

    source = parse_url(url)
    name = f"{source.database}_zoning_{os.getpid()}"
    engine = create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.connect() as conn:
            create = f"CREATE DATABASE {quote(name)} TEMPLATE {quote(source.database)}"
            # the files copied whole after a checkpoint: PostgreSQL 15's default copies them page by page through
            # shared buffers, left dirty for the zoning to wait on (its first run 3.4 s instead of 2.4)
            if conn.dialect.server_version_info >= (15,):
                create += " STRATEGY FILE_COPY"
            conn.execute(text(create))
    except Exception as exc:  # noqa: BLE001
        engine.dispose()
        print(f"zoning the database itself (no copy: {str(exc).splitlines()[0]})", flush=True)
        yield url, False
        return
    try:
        yield source.set(database=name).render_as_string(hide_password=False), True
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {quote(name)}"))
        engine.dispose()


def counts_match(core: dict, manifest: dict) -> bool | None:
    """Whether city_stats by county gives the generated number of enterprises of each county."""
    table = (core.get("stats_county") or {}).get("table")
    if not table:
        return None
    want = {a: c["enterprises"] for a, c in manifest["per_county"].items()}
    got = {str(row["county"]): int(row["total"]) for row in table if row.get("total")}
    return got == want


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, help="folder for the data set (default: riskmap-bench in the temporary "
                                              "folder; --quick: a new temporary folder)")
    ap.add_argument("--url", help="an empty PostgreSQL + PostGIS database, or one holding the data set's counties "
                                  "from an earlier run (default: a throwaway server)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--city", choices=("liuan", "fictitious"), default="liuan",
                    help="the data set's city (bench/make_city_data.py; default 六安市's 7 counties)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--stores", default="gpkg,postgis", help="gpkg, postgis or both (default)")
    ap.add_argument("--eager", action="store_true", help="also measure the canvas with every layer read whole")
    ap.add_argument("--lazy-rows", type=int, help="read point layers over this many rows by view (default: "
                                                   "riskmap's LAZY_ROWS)")
    ap.add_argument("--lazy-shape-rows", type=int, help="read line and polygon layers over this many rows by view "
                                                         "(default: riskmap's LAZY_SHAPE_ROWS)")
    ap.add_argument("--one-session", action="store_true",
                    help="open each store once (default: twice, the second with the user's cache of the first)")
    ap.add_argument("--no-qgis", action="store_true", help="leave QGIS out")
    ap.add_argument("--no-core", action="store_true", help="leave zoning and statistics out")
    ap.add_argument("--shots", type=Path, help="save the canvas grabs here (default: the work folder)")
    ap.add_argument("--json", type=Path, help="write every figure to this JSON file")
    ap.add_argument("--quick", action="store_true", help="2 counties, a few hundred features, 960×540, one run")
    args = ap.parse_args(argv)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if args.quick:
        args.repeat = 1
    size = (W // 2, H // 2) if args.quick else (W, H)
    with tempfile.TemporaryDirectory(prefix="bench-city-") as tmp:
        work = args.work or (Path(tmp) if args.quick else DEFAULT_WORK)
        manifest = write_city(work, args.seed, args.quick, city=args.city)
        city_file = Path(manifest["city_file"])
        shots = args.shots or city_file.parent / "shots"
        results = {"size": list(size), "repeat": args.repeat, "sizes": manifest["sizes"], "stores": {},
                   "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()}}
        targets = {}
        server = None
        try:
            if "gpkg" in stores:
                targets["gpkg"] = str(city_file)
            if "postgis" in stores:
                url = args.url
                if url is None:
                    from pgserver import PgServer

                    server = PgServer.start()
                    url = server.create_database("city")
                if args.url and held_counties(url) == sorted(manifest["county_files"]):
                    print("the database holds the data set's counties already: not pushed again", flush=True)
                else:
                    print("pushing the county files into PostGIS …", flush=True)
                    results["push"] = push_counties(manifest, url)
                    settle_server(url)
                targets["postgis"] = url
            for store, target in targets.items():
                print(f"measuring {store} …", flush=True)
                r = results["stores"][store] = {}
                cache = Path(tmp) / f"cache_{store}"  # the user's cache: empty at the first session
                lazy = {"lazy_rows": args.lazy_rows, "lazy_shape_rows": args.lazy_shape_rows, "cache": str(cache)}
                r["canvas"] = run_canvas(target, args.repeat, size, shots / store, **lazy)
                if not args.one_session:
                    r["canvas_again"] = run_canvas(target, args.repeat, size, shots / f"{store}_again", **lazy)
                if store == "gpkg":
                    r["uncached"] = first_frames_uncached(target, args.repeat, size, shots / f"{store}_uncached")
                if args.eager:
                    r["canvas_eager"] = run_canvas(target, args.repeat, size, shots / f"{store}_eager", eager=True)
                if args.no_core:
                    continue
                if store == "gpkg":  # zoning writes levels: on a copy, the data set stays as generated
                    copy = Path(tmp) / "city_zoning.gpkg"
                    shutil.copy(city_file, copy)
                    r["core"] = run_core(str(copy), args.repeat)
                    copy.unlink()
                else:
                    with zoning_database(target) as (copy_url, copied):
                        r["core"] = run_core(copy_url, args.repeat)
                        r["core"]["zoned_copy"] = copied
                match = counts_match(r["core"], manifest)
                if match is not None:
                    r["core"]["counts_match"] = match
            if not args.no_qgis:
                python = find_qgis_python()
                if python is None:
                    results["qgis"] = {"unavailable": "no python3 on PATH imports qgis"}
                else:
                    results["qgis"] = {}
                    extent = full_extent(city_bbox(manifest["city_file"]), size)
                    for store, target in targets.items():
                        print(f"measuring QGIS on {store} …", flush=True)
                        results["qgis"][store] = run_qgis(python, store, target, extent, args.repeat, size, shots)
                    results["qgis"]["version"] = next((v.get("version") for v in results["qgis"].values()
                                                       if isinstance(v, dict) and v.get("version")), "?")
        finally:
            if server is not None:
                server.stop()
        report(results, args.quick)
        print(f"canvas grabs: {shots}")
        if args.json:
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
            print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
