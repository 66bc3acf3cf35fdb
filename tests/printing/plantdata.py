"""A plant built by hand in a copy of the demo for the print tests: a 400×300 px plan with a teal block,
georeferenced by its four corners over a 0.004° × 0.0027° box beside the enterprise, and four risk-point
areas graded by LEC to the four levels (D = 900 red, 252 orange, 126 yellow, 7 blue), with card fields."""

from __future__ import annotations

import io
import shutil

import numpy as np
import shapely
from PIL import Image, ImageDraw

PLAN_RGB = (0, 160, 160)  # the teal block of the plan (pixels 20…120 × 200…280): no risk point covers it
PLAN_W, PLAN_H = 400, 300
DLON, DLAT = 0.004, 0.0027
BUREAU_PHONE = "0943-3221234"
RESPONSIBLE_PHONE = "13912345678"
POINTS = [  # name, category, (col0, row0, col1, row1) on the plan, LEC inputs, level, signs
    ("液氨储罐区", "area", (200, 30, 300, 110), {"L": 10, "E": 6, "C": 15}, 1, ["W005", "W003", "P002", "M004", "E001"]),
    ("合成装置", "device", (60, 30, 170, 110), {"L": 6, "E": 6, "C": 7}, 2, ["W002", "W010", "M006"]),
    ("装卸站台", "facility", (200, 150, 300, 230), {"L": 3, "E": 6, "C": 7}, 3, ["W031", "M011"]),
    ("中控室", "post", (320, 150, 380, 230), {"L": 1, "E": 1, "C": 7}, 4, ["E006", "E007"]),
]


def plan_on_paper() -> tuple[int, int, int]:
    """The teal block as printed: the plan layer's opacity (layers/plant_plans.toml) over white paper."""
    from riskmap.layers import raster_catalogue

    op = float(raster_catalogue()["plant_plans"].style.fill_opacity)
    return tuple(round(op * c + (1 - op) * 255) for c in PLAN_RGB)


def plan_png() -> bytes:
    im = Image.new("RGB", (PLAN_W, PLAN_H), (250, 250, 245))
    d = ImageDraw.Draw(im)
    d.rectangle([5, 5, PLAN_W - 6, PLAN_H - 6], outline=(40, 40, 40), width=4)
    d.rectangle([20, 200, 120, 280], fill=PLAN_RGB)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


class Plant:
    def __init__(self, lon0: float, lat0: float):
        self.lon0, self.lat0 = lon0, lat0

    def lonlat(self, col, row):
        return self.lon0 + DLON * col / PLAN_W, self.lat0 + DLAT * (PLAN_H - row) / PLAN_H

    def box(self, c0, r0, c1, r1):
        (x0, y1), (x1, y0) = self.lonlat(c0, r0), self.lonlat(c1, r1)
        return shapely.box(x0, y0, x1, y1)


def build(demo_path, folder, *, demo: bool = True, name: str | None = None, texts: dict | None = None):
    """A copy of the demo with the plant on its first located enterprise; returns (path, enterprise id, Plant)."""
    from riskmap.plant import add_risk_point, set_plan
    from riskmap.store import Project

    path = folder / ("plant_demo.gpkg" if demo else "plant_real.gpkg")
    shutil.copy(demo_path, path)
    with Project.open(path) as project:
        ents = project.read_table("enterprises", columns=["id", "name"])
        ents = ents[ents.geometry.notna()]
        eid = int(ents["id"].iloc[0])
        pt = ents.geometry.iloc[0]
        plant = Plant(pt.x - DLON / 2, pt.y - DLAT / 2)
        gcps = [(c, r, *plant.lonlat(c, r)) for c, r in ((0, 0), (PLAN_W, 0), (PLAN_W, PLAN_H), (0, PLAN_H))]
        set_plan(project, eid, plan_png(), gcps, source_name="厂区平面图.png")
        for pname, cat, cells, inputs, _, signs in POINTS:
            card = {"name": pname, "hazard_factors": f"{pname}：泄漏、火灾、中毒", "accident_types": "火灾、其他爆炸、中毒和窒息",
                    "control_measures": f"{pname}设置可燃/有毒气体检测报警，定期巡检",
                    "emergency_measures": "立即报告，启动应急预案，疏散人员", "responsible_person": "王五",
                    "responsible_phone": RESPONSIBLE_PHONE, "signs": signs, **(texts or {}).get(pname, {})}
            add_risk_point(project, eid, category=cat, geom=plant.box(*cells), method="lec", inputs=inputs,
                           assessor="测试", **card)
        meta = {"bureau_phone": BUREAU_PHONE, "org": "会宁县应急管理局"}
        if name is not None:
            with project.session(history=False) as s:
                from riskmap.model import Enterprise

                s.get(Enterprise, eid).name = name
        if not demo:
            meta["demo"] = None
        project.set_meta(**meta)
    return path, eid, plant


def pdf_pages(pdf, dpi, folder, first=None, last=None) -> list[np.ndarray]:
    """The PDF's pages as RGB arrays, rendered by poppler's pdftoppm."""
    import subprocess

    stem = folder / f"{pdf.stem}-{dpi}"
    cmd = ["pdftoppm", "-r", str(dpi), "-png"]
    if first:
        cmd += ["-f", str(first), "-l", str(last or first)]
    subprocess.run(cmd + [str(pdf), str(stem)], check=True)
    files = sorted(folder.glob(f"{stem.name}-*.png"))
    return [np.asarray(Image.open(f).convert("RGB")) for f in files]


def pdf_text(pdf, page: int | None = None) -> str:
    import subprocess

    cmd = ["pdftotext", "-layout"]
    if page:
        cmd += ["-f", str(page), "-l", str(page)]
    return subprocess.run(cmd + [str(pdf), "-"], check=True, capture_output=True, text=True).stdout


def page_sizes_mm(pdf) -> list[tuple[float, float]]:
    import pikepdf

    with pikepdf.open(pdf) as doc:
        return [tuple(round(float(v) * 25.4 / 72, 1) for v in (p.mediabox[2], p.mediabox[3])) for p in doc.pages]


def hexrgb(h: str) -> tuple[int, int, int]:
    return int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)


def near(a, b, tol=12) -> bool:
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


def count_colour(img: np.ndarray, rgb, tol=10) -> int:
    return int((np.abs(img.astype(int) - np.array(rgb)).max(axis=2) <= tol).sum())
