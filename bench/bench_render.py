"""Benchmark of the shared renderer on the large data set (run by hand, not in CI).

    python bench/bench_render.py [--repeat 5] [--png-dir DIR] [--labels/--no-labels]
    python bench/bench_render.py --quick     # the small data set (make_big_data.QUICK), one repeat, seconds

Prints the time to prepare the layers, a full redraw at 1920×1080 of the whole county, a redraw
after a 10× zoom-in, a pan frame from the cached image, and the peak memory (RSS).
A redraw is timed as the canvas does it, in two passes: the map frame without labels (shown first), then
the label pass on its own transparent image (LabelJob); the one-pass render that print uses is given too.
Targets (issue 4): full redraw ≤ 0.5 s, 10× zoom ≤ 0.05 s, pan frame ≤ 16 ms, peak memory ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402
from PySide6.QtGui import QGuiApplication, QPainter  # noqa: E402

from bench.make_big_data import QUICK, make_big_layers  # noqa: E402
from bench.peak import peak_mb  # noqa: E402
from riskmap.layers import load_catalogue  # noqa: E402
from riskmap.render import LabelJob, MapSettings, PreparedLayer, ensure_fonts, new_image, render_image  # noqa: E402

MAP_EPSG = 4544  # CGCS2000 / 3-degree Gauss-Kruger CM 105E


def timed(fn, repeat: int):
    """Wall-clock times, and CPU times of this process (a fairer figure when the machine is shared)."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return out, (times, cpu)


def fmt(tc) -> str:
    times, cpu = tc
    return (f"median {statistics.median(times) * 1000:7.1f} ms   best {min(times) * 1000:7.1f} ms"
            f"   (cpu median {statistics.median(cpu) * 1000:6.1f} ms)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--png-dir", help="save the rendered frames as PNG here")
    ap.add_argument("--no-labels", action="store_true")
    ap.add_argument("--quick", action="store_true", help="small data, one repeat")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeat = 1
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841
    t = time.perf_counter()
    ensure_fonts()
    print(f"fonts                      {(time.perf_counter() - t) * 1000:7.1f} ms")

    t = time.perf_counter()
    data = make_big_layers(seed=0, **(QUICK if args.quick else {}))
    print(f"generate data              {(time.perf_counter() - t):7.2f} s  "
          + ", ".join(f"{k} {len(v):,}" for k, v in data.items()))
    cat = load_catalogue()
    prepared, tprep = [], {}
    t_all = time.perf_counter()
    for key, gdf in data.items():
        t = time.perf_counter()
        prepared.append(PreparedLayer.from_gdf(cat[key], gdf, MAP_EPSG))
        tprep[key] = time.perf_counter() - t
    print(f"prepare (project, arrays)  {(time.perf_counter() - t_all):7.2f} s  "
          + ", ".join(f"{k} {v:.2f} s" for k, v in tprep.items()))

    bounds = [p.total_bounds() for p in prepared]
    extent = (min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
              max(b[3] for b in bounds))
    full = MapSettings(extent, 1920, 1080, dpi=96, crs_epsg=MAP_EPSG)
    labels = not args.no_labels
    print(f"full extent scale          1:{full.scale_denominator():,.0f}   (load average {os.getloadavg()[0]:.2f})")

    stats: list = []
    img, times = timed(lambda: render_image(full, prepared, labels=labels, stats=stats), args.repeat)
    st = stats[-1]
    print(f"full redraw 1920x1080      {fmt(times)}   "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in st.layer_seconds.items())
          + f", labels {len(st.labels)} {st.label_seconds * 1000:.0f} ms")
    if args.png_dir:
        img.save(str(Path(args.png_dir) / "render_bench_full.png"))

    # 10× zoom in: about the view's centre (typical) and about the densest town (worst case for labels)
    ent = prepared[0]
    px = full.map_to_pixel(ent.coords)
    h, xe, ye = np.histogram2d(px[:, 0], px[:, 1], bins=(24, 14), range=((0, 1920), (0, 1080)))
    i, j = divmod(int(h.argmax()), h.shape[1])
    for name, about in (("centre", (960.0, 540.0)), ("densest", ((xe[i] + xe[i + 1]) / 2, (ye[j] + ye[j + 1]) / 2))):
        zoom = full.zoomed(10, about=about)
        stats.clear()
        out, times = timed(lambda: render_image(zoom, prepared, labels=False, stats=stats), args.repeat)
        st = stats[-1]
        print(f"10x zoom, {name:8s} (1:{zoom.scale_denominator():,.0f})  map frame  {fmt(times)}   "
              + ", ".join(f"{k} {v * 1000:.1f} ms ({st.features.get(k, 0)} drawn)"
                          for k, v in st.layer_seconds.items()))
        if labels:
            jobs = []

            def label_pass():
                job = LabelJob(zoom, prepared)
                jobs.append(job)
                return job.run()

            lab_img, t_lab = timed(label_pass, args.repeat)
            print(f"  label pass ({len(jobs[-1].stats.labels)} labels)    {fmt(t_lab)}")
            one, t_one = timed(lambda: render_image(zoom, prepared), args.repeat)
            print(f"  one pass (print)          {fmt(t_one)}")
            if args.png_dir:
                one.save(str(Path(args.png_dir) / f"render_bench_zoom_{name}.png"))
        elif args.png_dir:
            out.save(str(Path(args.png_dir) / f"render_bench_zoom_{name}.png"))

    # a pan frame: the cached image drawn at an offset into the canvas-sized frame
    frame = new_image(full)

    def pan_frame():
        p = QPainter(frame)
        p.fillRect(frame.rect(), 0xFFFFFFFF)
        p.drawImage(QPointF(37, -21), img)
        p.end()

    _, times = timed(pan_frame, max(args.repeat, 20))
    print(f"pan frame from cache       {fmt(times)}")
    print(f"peak RSS                   {peak_mb():7.0f} MB   (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
