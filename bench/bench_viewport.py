"""Benchmark of loading what the view needs (riskmap.store.viewport, riskmap.render.lazy) on a large point layer.

Run by hand, never as a timed test. On a riskmap project (GeoPackage file or PostGIS URL) with many enterprises
(default: bench/make_big_data.py scaled to 1M enterprises, 50k grid cells, 200k lifelines, written once), measures
for the enterprises layer alone, as the canvas's render worker does it:

- counting the layer's rows and its classes (one GROUP BY: the legend before anything is read);
- reading the compact arrays (id, x, y, level) of every row, with an empty cache (cold) and from the cache kept
  between sessions (warm);
- the first full-extent frame after that, a full redraw (aggregates), a 10× zoom frame (exact points or
  aggregates, whichever the view needs), a 40× zoom with names (read by tile), and the same again from the tile
  cache;
- query_bbox of a 0.1° box and aggregate_points of the whole layer at 0.01° (the store functions on their own);
- the large line and polygon layers (lifelines, grids) read whole: a full frame of a new view, a redraw of it
  (layer images kept), a 10× zoom and a 200-px pan of it, each layer and both together;
- the same layers as compact arrays (riskmap.render.lazy.LazyPrepared over viewport.read_shapes, as the canvas
  holds lines and polygons over LAZY_SHAPE_ROWS): read cold and from the user's cache, their size, a new full
  view, a 10× zoom and a pan of it;
- peak memory (max RSS) of the process.

    .venv/bin/python bench/bench_viewport.py [--project city.gpkg | --url postgresql+psycopg://…] [--repeat 3]
    .venv/bin/python bench/bench_viewport.py --quick      # 400 enterprises, in seconds
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peak import peak_mb  # noqa: E402

DEFAULT_PROJECT = Path(tempfile.gettempdir()) / "riskmap-bench" / "viewport_1m.gpkg"
CITY = {"n_enterprises": 1_000_000, "n_grids": 50_000, "n_lifelines": 200_000}


def build(path: Path, quick: bool) -> None:
    import bench.make_big_data as mbd
    from bench.bench_canvas import make_project

    if quick:
        make_project(path, quick=True)
        return
    original = mbd.make_big_layers
    mbd.make_big_layers = lambda seed=0, **kw: original(seed, **CITY)
    try:
        make_project(path)
    finally:
        mbd.make_big_layers = original


def best(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, default=None, help="a riskmap GeoPackage (built when missing)")
    ap.add_argument("--url", default=None, help="a riskmap PostGIS database URL instead of a file")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="400 enterprises, one repeat")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    from riskmap.layers import load_catalogue
    from riskmap.render import MapSettings, ensure_fonts, render_image
    from riskmap.render.lazy import LazyPrepared
    from riskmap.store import Project
    from riskmap.store import viewport as vp

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts and images need it)
    ensure_fonts()
    repeat = 1 if args.quick else max(1, args.repeat)
    target = args.url
    if target is None:
        path = args.project or (Path(tempfile.gettempdir()) / "riskmap-bench" / "viewport_quick.gpkg"
                                if args.quick else DEFAULT_PROJECT)
        if not path.exists():
            build(path, args.quick)
        target = str(path)
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} (2 cores: above ~1 the figures are slowed by other work)")
    project = Project.open(target, readonly=True)
    ents = load_catalogue()["enterprises"]
    epsg = project.metric_epsg or 4544
    t = time.perf_counter()
    rows = vp.layer_rows(project, ents)
    print(f"rows:                     {rows:,} in {1000 * (time.perf_counter() - t):.1f} ms")
    with tempfile.TemporaryDirectory() as cache:
        for kind in ("cold", "warm"):
            lz = LazyPrepared(project, ents, epsg, rows, cache_dir=cache)
            t = time.perf_counter()
            lz.counts()
            counted = time.perf_counter() - t
            t = time.perf_counter()
            lz.load()
            loaded = time.perf_counter() - t
            print(f"class counts ({kind}):      {1000 * counted:.1f} ms")
            print(f"compact arrays ({kind}):    {1000 * loaded:.1f} ms")
        full = MapSettings(lz.total_bounds(), 1920, 1080, crs_epsg=epsg)
        t = time.perf_counter()
        render_image(full, [lz], labels=False)
        print(f"first full frame:         {1000 * (time.perf_counter() - t):.1f} ms "
              f"({'aggregates' if lz.is_aggregated(full) else 'exact points'})")

        def fresh(view, labels=False):
            lz._views.clear()
            render_image(view, [lz], labels=labels)

        print(f"full redraw:              min {1000 * best(lambda: fresh(full), repeat):.1f} ms")
        zoom = full.zoomed(10)
        print(f"10x zoom frame:           min {1000 * best(lambda: fresh(zoom), repeat):.1f} ms "
              f"({lz.for_view(zoom, labels=False).n:,} symbols, "
              f"{'aggregates' if lz.is_aggregated(zoom) else 'exact points'})")
        close = full.zoomed(40)
        t = time.perf_counter()
        fresh(close, True)
        print(f"40x zoom with names:      {1000 * (time.perf_counter() - t):.1f} ms (names read by tile)")
        print(f"40x again, tiles kept:    min {1000 * best(lambda: fresh(close, True), repeat):.1f} ms")
        x0, y0, x1, y1 = vp.layer_extent(project, ents)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        t = time.perf_counter()
        got = vp.query_bbox(project, ents, (cx - 0.05, cy - 0.05, cx + 0.05, cy + 0.05), ["name", "level"])
        print(f"query_bbox 0.1 degree:    {1000 * (time.perf_counter() - t):.1f} ms ({len(got):,} rows)")
        t = time.perf_counter()
        agg = vp.aggregate_points(project, ents, (x0, y0, x1, y1), 0.01)
        print(f"aggregate_points 0.01:    {1000 * (time.perf_counter() - t):.1f} ms ({len(agg):,} cells)")
    shapes(project, epsg, repeat, args.quick)
    shape_arrays(project, epsg, repeat, args.quick)
    project.close()
    print(f"peak memory:              {peak_mb():.0f} MB")


def shapes(project, epsg: int, repeat: int, quick: bool) -> None:
    """The large line and polygon layers (lifelines, grids) read whole and drawn as the canvas does: a new view
    (no layer image of it: decimated lines built once per resolution band, then kept), a redraw of the same view
    (the layer images kept), a 10x zoom and a pan of it (new views), each layer on its own and together."""
    import numpy as np

    import riskmap.render.lazy as lazy
    import riskmap.render.painter as painter
    from riskmap.crs import reproject
    from riskmap.layers import load_catalogue
    from riskmap.render import MapSettings, PreparedLayer, render_image

    if quick:  # a few thousand vertices: thresholds lowered so that every path runs
        lazy.LOD_VERTICES = painter.LAYER_IMAGE_VERTICES = 1000
    import geopandas as gpd

    cat = load_catalogue()
    layers = []
    for name in ("grids", "lifelines"):
        t = time.perf_counter()
        gdf = project.read_layer(cat[name])
        geoms = reproject(np.asarray(gdf.geometry.array, dtype=object), 4490, epsg)
        gdf = gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=gpd.GeoSeries(geoms, index=gdf.index))
        prep = PreparedLayer.from_gdf(cat[name], gdf, epsg, projected=True)
        print(f"{name + ' read':26s}{1000 * (time.perf_counter() - t):.1f} ms ({prep.n:,} features, "
              f"{len(prep.coords):,} vertices)")
        layers.append(prep)
    bounds = np.array([lay.total_bounds() for lay in layers if lay.total_bounds() is not None])
    full = MapSettings((bounds[:, 0].min(), bounds[:, 1].min(), bounds[:, 2].max(), bounds[:, 3].max()),
                       1920, 1080, crs_epsg=epsg)

    def frame(view, which, kept=False):
        if not kept:
            painter.clear_layer_images()
        stats = []
        render_image(view, which, labels=False, stats=stats)
        return stats[0]

    for which, title in ((layers[:1], "grids"), (layers[1:], "lifelines"), (layers, "both")):
        for lay in which:
            lay.__dict__.pop("_lod", None)
        t = time.perf_counter()
        frame(full, which)
        first = time.perf_counter() - t
        new_view = best(lambda: frame(full, which), repeat)
        redraw = best(lambda: frame(full, which, kept=True), repeat)
        zoom = full.zoomed(10)
        frame(zoom, which)  # its band built once
        zoomed = best(lambda: frame(zoom, which), repeat)
        pan = zoom.panned(200, 0)
        panned = best(lambda: frame(pan, which), repeat)
        drawn = [len(lazy.simplified_for_view(lay, full).coords) for lay in which]
        print(f"{title:10s} full: first {1000 * first:.1f} ms (band built), new view {1000 * new_view:.1f} ms "
              f"({sum(drawn):,} vertices drawn), redraw {1000 * redraw:.1f} ms; 10x zoom {1000 * zoomed:.1f} ms; "
              f"pan of it {1000 * panned:.1f} ms")



def shape_arrays(project, epsg: int, repeat: int, quick: bool) -> None:
    """Lifelines and grids as compact arrays (LazyPrepared): read cold and from the cache, their bytes, then a new
    full view, a 10x zoom and a 200-px pan of it (no layer image kept; each view's decimated band built once)."""
    import numpy as np

    import riskmap.render.lazy as lazy
    import riskmap.render.painter as painter
    from riskmap.layers import load_catalogue
    from riskmap.render import MapSettings, render_image
    from riskmap.render.lazy import LazyPrepared
    from riskmap.store import viewport as vp

    if quick:
        lazy.LOD_VERTICES = painter.LAYER_IMAGE_VERTICES = 1000
    cat = load_catalogue()
    with tempfile.TemporaryDirectory() as cache:
        lzs = []
        for name in ("grids", "lifelines"):
            for kind in ("cold", "warm"):
                lz = LazyPrepared(project, cat[name], epsg, vp.layer_rows(project, cat[name]), cache_dir=cache)
                t = time.perf_counter()
                lz.load()
                took = time.perf_counter() - t
                sh = lz._shapes
                size = sum(v.nbytes for v in sh.values() if isinstance(v, np.ndarray))
                print(f"{name + ' arrays ' + kind:26s}{1000 * took:.1f} ms ({len(sh['id']):,} features, "
                      f"{len(sh['coords']):,} vertices, {size / 2 ** 20:.0f} MB)")
            lzs.append(lz)
        b = np.array([lz.total_bounds() for lz in lzs])
        full = MapSettings((b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()), 1920, 1080, crs_epsg=epsg)

        def frame(view, which):
            painter.clear_layer_images()
            for lz in which:
                lz._views.clear()
            render_image(view, which, labels=False)

        for which, title in ((lzs[:1], "grids"), (lzs[1:], "lifelines"), (lzs, "both")):
            t = time.perf_counter()
            frame(full, which)
            first = time.perf_counter() - t
            new_view = best(lambda: frame(full, which), repeat)
            zoom = full.zoomed(10)
            frame(zoom, which)
            zoomed = best(lambda: frame(zoom, which), repeat)
            pan = zoom.panned(200, 0)
            panned = best(lambda: frame(pan, which), repeat)
            print(f"{title + ' arrays':16s} full: first {1000 * first:.1f} ms (band built), new view "
                  f"{1000 * new_view:.1f} ms; 10x zoom {1000 * zoomed:.1f} ms; pan of it {1000 * panned:.1f} ms")


if __name__ == "__main__":
    main()
