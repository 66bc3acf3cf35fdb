"""Bundle start-up: a fresh process of the built bundle (dist/riskmap, scripts/build-bundle.sh) to its first
painted map frame, and to the end of ``riskmap --version``.

The window runs offscreen; ``RISKMAP_FIRST_FRAME=1`` makes it print "riskmap: first frame" when the first
map frame of the project is painted, and quit. The time is taken from just before the process is started to
that line. The disk cache is warm (the first run is thrown away; dropping caches needs root and a quiet
machine): a "cold process" start, not a cold-disk start. Each run gets an empty HOME.

    .venv/bin/python bench/bench_bundle.py              # 5 runs on the demo project (target ≤ 3 s)
    .venv/bin/python bench/bench_bundle.py --quick      # 1 run
    .venv/bin/python bench/bench_bundle.py --bundle /opt/riskmap
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "dist" / "riskmap"


def exe_of(bundle: Path) -> Path:
    return bundle / ("riskmap.exe" if os.name == "nt" else "riskmap")


def env_for(home: Path) -> dict:
    return {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8",
            "QT_QPA_PLATFORM": "offscreen", "APPDATA": str(home / "appdata"),
            "LOCALAPPDATA": str(home / "localappdata"), "SYSTEMROOT": os.environ.get("SYSTEMROOT", "")}


def first_frame(exe: Path, project: Path, home: Path) -> float:
    env = dict(env_for(home), RISKMAP_FIRST_FRAME="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen([str(exe), str(project)], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    seconds = None
    for line in proc.stdout:
        if "first frame" in line:
            seconds = time.perf_counter() - t0
            break
    proc.wait(timeout=120)
    if seconds is None:
        raise SystemExit(f"bench_bundle: no first frame (exit {proc.returncode})")
    return seconds


def version_time(exe: Path, home: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([str(exe), "--version"], env=env_for(home), check=True, capture_output=True)
    return time.perf_counter() - t0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=DEFAULT, help="the bundle folder (default dist/riskmap)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="one run, in seconds")
    args = ap.parse_args(argv)
    exe = exe_of(args.bundle)
    if not exe.exists():
        print(f"bench_bundle: no bundle at {args.bundle} (scripts/build-bundle.sh builds it)")
        sys.exit(3)
    runs = 1 if args.quick else args.runs
    size = sum(p.stat().st_size for p in args.bundle.rglob("*") if p.is_file() and not p.is_symlink())
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        tmp = Path(tmp)
        project = tmp / "示例 项目.gpkg"
        subprocess.run([str(exe), "demo", "--out", str(project)], env=env_for(tmp / "h0"), check=True,
                       capture_output=True)
        first_frame(exe, project, tmp / "warm")  # warm the disk cache
        frames = [first_frame(exe, project, tmp / f"h{i}") for i in range(runs)]
        versions = [version_time(exe, tmp / f"v{i}") for i in range(runs)]
    print(f"bundle: {args.bundle} ({size / 1e6:.0f} MB unpacked)")
    print(f"cold process start to first map frame: {statistics.median(frames):.2f} s median of {runs} "
          f"(min {min(frames):.2f} s, max {max(frames):.2f} s; warm disk)   (target ≤ 3 s)")
    print(f"riskmap --version: {statistics.median(versions):.2f} s median of {runs}")


if __name__ == "__main__":
    main()
