"""Benchmark of the desktop date control (riskmap.ui.timeline) on a county-sized project with a dated history.

The 100k-enterprise county of bench/make_big_data.py (fictitious) with a history: 95 % of the enterprises
created on 2024-01-01, the rest on days spread over the following two years; every enterprise graded when
created, 30 % graded again and 10 % a third time on random later days (about 140k dated assessment records);
the grids levelled (max). In one process with the main window's map canvas (1920×1080), the layers loaded:

- reading the dated records into memory (``riskmap.asof.LevelHistory``, in the background after the
  project opens);
- a date step: from setting the date control to the redrawn map frame shown (enterprise colours of that
  date and their legend counts: the levels from the records in memory, the level column substituted), for
  dates spread over the history and for a drag of consecutive days; beside it ``riskmap.asof.levels_at``
  alone (the same levels read from the project by SQL, used until the records are in memory);
- the zones of that date (grids levelled again in memory) and hidden dangers: the background snapshot, until
  drawn;
- back to today.

Target (issue 14): moving the date control redraws ≤ 0.5 s.

    .venv/bin/python bench/bench_timeline.py [--project big.gpkg] [--remake]
    .venv/bin/python bench/bench_timeline.py --quick     # 400 enterprises, 960×540, in seconds
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROJECT = Path(tempfile.gettempdir()) / "riskmap-bench" / "timeline_big.gpkg"
W, H = 1920, 1080
START = dt.datetime(2024, 1, 1, 1, 0)
DAYS = 730


def make_project(path: Path, quick: bool = False) -> None:
    """The generated county with a dated history (bulk inserts, one transaction), grids levelled."""
    import numpy as np
    import shapely

    sys.path.insert(0, str(ROOT))
    from bench.make_big_data import METRIC_EPSG, QUICK, dated_history, insert_dated_enterprises, make_big_layers
    from riskmap.grading.zoning import zone_project
    from riskmap.model import Zone
    from riskmap.store import Project

    t = time.perf_counter()
    layers = make_big_layers(seed=0, **(QUICK if quick else {}))
    ents, grids = layers["enterprises"], layers["grids"]
    county = shapely.coverage_union_all(grids.geometry.array)
    rng = np.random.default_rng(0)
    n = len(ents)
    history = dated_history(ents, DAYS, rng)

    def when(day) -> dt.datetime:
        return START + dt.timedelta(days=int(day))

    def build(project):
        with project.session(history=False) as s:
            s.add(Zone(name="示例大县", kind="county", geom=county))
            s.flush()
            s.execute(Zone.__table__.insert(), [
                {"name": name, "kind": "grid", "geom": g, "version": 1}
                for name, g in zip(grids["name"], grids.geometry.array)])
            _, n_rows = insert_dated_enterprises(s, ents, history, DAYS, rng, when)
        print(f"  {n:,} enterprises, {n_rows:,} dated assessments, {len(grids):,} grids")

    path.parent.mkdir(parents=True, exist_ok=True)
    Project.create(path, name="基准测试大县（示例数据）", demo=True, metric_epsg=METRIC_EPSG, build=build,
                   overwrite=True).close()
    with Project.open(path) as p:
        zone_project(p, "grid", "max")
    print(f"project written in {time.perf_counter() - t:.1f} s: {path}")


def measure(project_path: Path, size: tuple[int, int], steps: int) -> dict:
    """Open the project in a main window and move its date control; returns the figures."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as home:
        for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            os.environ[k] = os.path.join(home, k)
        from riskmap.ui.app import make_application

        app = make_application([])
        from PySide6.QtCore import QEventLoop, QTimer

        from riskmap.asof import LevelHistory, levels_at
        from riskmap.ui.main_window import MainWindow
        from riskmap.ui.timeline import TimelinePanel

        win = MainWindow(install_extensions=False)
        for d in win.docks.values():
            d.hide()
        win.menuBar().hide()
        win.toolbar.hide()
        win.statusBar().hide()
        win.canvas.setFixedSize(*size)
        win.show()
        panel = TimelinePanel(win.workspace, win.canvas, None)
        canvas = win.canvas

        def spin_until(cond, timeout_s=300.0):
            end = time.monotonic() + timeout_s
            while not cond() and time.monotonic() < end:
                loop = QEventLoop()
                QTimer.singleShot(5, loop.quit)
                loop.exec()

        win.open_project(project_path)
        spin_until(lambda: win.project is not None and not win.loading and not canvas.is_rendering())
        win.workspace.set_visible("grids", True)
        spin_until(lambda: not canvas.is_rendering() and panel.asof.history is not None)
        out = {"enterprises": len(win.workspace.layer("enterprises").gdf), "history_start": panel.start.isoformat()}
        t = time.perf_counter()
        LevelHistory(win.project)
        out["history_read_s"] = time.perf_counter() - t
        done = []
        canvas.renderFinished.connect(lambda s: done.append(time.perf_counter()))

        applied = []

        def step(at):
            done.clear()
            t = time.perf_counter()
            panel.set_date(at)
            applied.append(time.perf_counter() - t)
            spin_until(lambda: bool(done) and not canvas.is_rendering())
            frame = done[0] - t
            spin_until(lambda: panel.asof._task is None)
            spin_until(lambda: not canvas.is_rendering())
            return frame, time.perf_counter() - t

        first = panel.start
        span = (panel.today() - first).days
        spread = [first + dt.timedelta(days=int(span * (i + 0.5) / steps)) for i in range(steps)]
        drag = [spread[steps // 2] + dt.timedelta(days=k + 1) for k in range(steps)]
        frames, complete, lv_times = [], [], []
        for at in spread + drag:
            f, c = step(at)
            frames.append(f)
            complete.append(c)
            t = time.perf_counter()
            levels_at(win.project, at)
            lv_times.append(time.perf_counter() - t)
        out["frame_spread_s"] = frames[:steps]
        out["frame_drag_s"] = frames[steps:]
        out["complete_s"] = complete
        out["applied_s"] = applied
        out["render_s"] = canvas.last_render_s
        out["levels_at_s"] = lv_times
        out["counts_mid"] = win.workspace.layer("enterprises").prepared.counts()
        shot = os.environ.get("BENCH_SHOT")
        if shot:
            canvas.grab().save(shot)
        t = time.perf_counter()
        done.clear()
        panel.go_today()
        spin_until(lambda: bool(done) and not canvas.is_rendering())
        out["today_s"] = done[0] - t if done else float("nan")
        win.close()
        app.processEvents()
        return out


def report(r: dict, size) -> None:
    import statistics

    ms = lambda s: f"{s * 1000:.0f} ms"  # noqa: E731

    def line(xs):
        return f"min {ms(min(xs))}, median {ms(statistics.median(xs))}, max {ms(max(xs))}"

    print(f"load average {os.getloadavg()[0]:.2f} (2 cores: above ~1 the figures are slowed by other work)")
    print(f"enterprises: {r['enterprises']:,}; history from {r['history_start']}; canvas {size[0]}×{size[1]}")
    print(f"date step to redrawn frame (dates over the history): {line(r['frame_spread_s'])}   (target ≤ 500 ms)")
    print(f"date step to redrawn frame (dragging day by day):    {line(r['frame_drag_s'])}   (target ≤ 500 ms)")
    print(f"  of which the date applied to the layers (levels, classes, hidden features): {line(r['applied_s'])}; "
          f"the rest is the map frame's render (last: {ms(r['render_s'])})")
    print(f"dated records read into memory (once, in the background): {ms(r['history_read_s'])}")
    print(f"riskmap.asof.levels_at alone (SQL, before the records are in memory): {line(r['levels_at_s'])}")
    print(f"zones and hidden dangers of the date drawn (background snapshot): {line(r['complete_s'])}")
    print(f"back to today: {ms(r['today_s'])}")
    print(f"enterprises by level at the last date: {r['counts_mid']}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, default=DEFAULT_PROJECT)
    ap.add_argument("--remake", action="store_true", help="generate the project again")
    ap.add_argument("--steps", type=int, default=8, help="dates measured over the history, and days dragged")
    ap.add_argument("--shot", type=Path, default=None, help="save the canvas at the last date measured here")
    ap.add_argument("--quick", action="store_true", help="400 enterprises in a temporary folder, 960×540 (seconds)")
    args = ap.parse_args(argv)
    if args.shot:
        os.environ["BENCH_SHOT"] = str(args.shot)
    if args.quick:
        with tempfile.TemporaryDirectory(prefix="bench-timeline-") as tmp:
            project = Path(tmp) / "timeline_quick.gpkg"
            make_project(project, quick=True)
            size = (W // 2, H // 2)
            report(measure(project, size, 3), size)
        return
    if args.remake or not args.project.exists():
        make_project(args.project)
    report(measure(args.project, (W, H), args.steps), (W, H))


if __name__ == "__main__":
    main()
