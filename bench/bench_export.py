"""Benchmark the print exports (run by hand: ``python bench/bench_export.py``).

Cases, each in its own process so that peak memory (max RSS) is its own:
  demo-pdf      the 会宁县 demo project as an A3 landscape 300 dpi PDF
  big-pdf       100k enterprises + 5k grid cells + 20k lifelines (bench/make_big_data.py) as A3 300 dpi PDF
  big-geopdf    the same as GeoPDF (layers as optional content groups, georeferenced; issue 14)
  big-png       the same as A3 300 dpi PNG
  big-png-a0    the same as A0 300 dpi PNG (9933 × 14043 px), painted in strips
  xlsx-5k, xlsx-50k, xlsx-100k   the "一张图" XLSX workbook of 5k / 50k / 100k enterprises (+ 5k grid cells);
                target (issue 11 item 9): 100k enterprises in at most 15 s, and linear
Targets (DESIGN.md): QGIS 3.22 exports the big layout as an A3 300 dpi PDF in about 4 s, 10 MB.

``--quick`` runs every case on the small data set (bench/make_big_data.py QUICK) at 72 dpi, in seconds; a
folder given with ``--folder`` that already holds ``demo.gpkg`` spares building the demo. A failed case makes
the exit status 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.peak import peak_mb  # noqa: E402

CASES = ("demo-pdf", "big-pdf", "big-geopdf", "big-png", "big-png-a0", "xlsx-5k", "xlsx-50k", "xlsx-100k")
XLSX_SIZES = {"xlsx-5k": 5_000, "xlsx-50k": 50_000, "xlsx-100k": 100_000}
QUICK_DPI = 72


def _opts(out, paper="A3", orientation="landscape", dpi=300):
    from riskmap.export.options import ExportOptions

    return ExportOptions(out=out, paper=paper, orientation=orientation, dpi=dpi)


def run_case(case: str, folder: Path, quick: bool = False) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from riskmap.printing.export import ensure_app, export_print

    ensure_app()
    dpi = QUICK_DPI if quick else 300
    result = {"case": case}
    if case in XLSX_SIZES:
        return _xlsx_case(case, folder, quick, result)
    if case == "demo-pdf":
        from riskmap.demo import make_demo

        path = folder / "demo.gpkg"
        if not path.exists():
            make_demo(path, place="会宁县", seed=1).close()
        from riskmap.store import Project

        out = folder / "demo.pdf"
        with Project.open(path, readonly=True) as project:
            t = time.perf_counter()
            export_print(project, "pdf", _opts(out, dpi=dpi))
            result["seconds"] = time.perf_counter() - t
    else:
        sys.path.insert(0, str(ROOT / "bench"))
        from make_big_data import QUICK, make_big_layers

        from riskmap.export.base import source_from_frames
        from riskmap.printing.compose import PagePainter
        from riskmap.printing.content import Texts, build_content
        from riskmap.printing.output import write_pdf, write_png
        from riskmap.printing.template import load_template

        t = time.perf_counter()
        frames = make_big_layers(seed=0, **(QUICK if quick else {}))
        result["generate_s"] = time.perf_counter() - t
        src = source_from_frames("示例十万企业", frames, is_demo=True, metric_epsg=4544)
        paper = "A0" if case == "big-png-a0" else "A3"
        t = time.perf_counter()
        content = build_content(src, ["grids", "lifelines", "enterprises"])
        template = load_template("standard")
        pp = PagePainter(template.page(paper, "landscape" if paper == "A3" else "portrait"), content, Texts(),
                         template, dpi)
        result["prepare_s"] = time.perf_counter() - t
        result["rss_before_write_mb"] = peak_mb()
        out = folder / f"{case}.{'pdf' if case in ('big-pdf', 'big-geopdf') else 'png'}"
        t = time.perf_counter()
        if case == "big-pdf":
            write_pdf([pp], out, title="bench")
        elif case == "big-geopdf":
            from riskmap.printing.geopdf import write_geopdf

            result["groups"] = len(write_geopdf([pp], out, title="bench")["groups"])
        else:
            info = write_png(pp, out, title="bench")
            result.update(info)
            result["pixels"] = f"{pp.width_px}x{pp.height_px}"
        result["seconds"] = time.perf_counter() - t
    result["mb"] = out.stat().st_size / 1e6
    result["max_rss_mb"] = peak_mb()
    return result


def _xlsx_case(case: str, folder: Path, quick: bool, result: dict) -> dict:
    """The XLSX workbook of a big county (no project: the encroachment, danger and indicator sheets are empty)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from make_big_data import QUICK, make_big_layers

    from riskmap.export.base import source_from_frames
    from riskmap.export.xlsx import export_xlsx

    sizes = dict(QUICK) if quick else {"n_enterprises": XLSX_SIZES[case]}
    t = time.perf_counter()
    frames = make_big_layers(seed=0, **sizes)
    result["generate_s"] = time.perf_counter() - t
    result["enterprises"] = len(frames["enterprises"])
    src = source_from_frames("示例十万企业", {k: frames[k] for k in ("enterprises", "grids")}, is_demo=True)
    out = folder / f"{case}.xlsx"
    t = time.perf_counter()
    export_xlsx(src, out)
    result["seconds"] = time.perf_counter() - t
    result["mb"] = out.stat().st_size / 1e6
    result["max_rss_mb"] = peak_mb()
    return result


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=CASES, help="run one case in this process (prints JSON)")
    ap.add_argument("--folder", help="working folder (default: a temporary one)")
    ap.add_argument("--quick", action="store_true", help=f"small data at {QUICK_DPI} dpi (seconds)")
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(args.case, Path(args.folder), args.quick)))
        return
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        folder = Path(args.folder or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for case in CASES:
            r = subprocess.run([sys.executable, __file__, "--case", case, "--folder", str(folder)]
                               + (["--quick"] if args.quick else []), capture_output=True, text=True)
            if r.returncode:
                print(f"{case}: failed\n{r.stderr[-2000:]}")
                failed.append(case)
                continue
            res = json.loads(r.stdout.strip().splitlines()[-1])
            extra = " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in res.items()
                             if k not in ("case", "seconds", "mb", "max_rss_mb"))
            print(f"{case:<11} {res['seconds']:6.2f} s  {res['mb']:7.2f} MB  max RSS {res['max_rss_mb']:7.0f} MB  {extra}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
