"""GeoPDF (``riskmap export … --format pdf --geopdf`` and the print dialog's check box) on the 会宁县 demo:
the layers come back as optional content groups named in Chinese (read with pikepdf, and by GDAL when
``gdalinfo`` is installed), switching the 企业 group off in a copy hides a 重大 enterprise's red dot
(rendered with poppler's pdftoppm, which honours /OCProperties /D /OFF), the map frame's /Measure gives
its corners in latitude and longitude as computed here from the extent, and the page looks like the plain
PDF of the same layout. A demo's 示例数据 stays on the page whatever is switched off."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pikepdf
import pytest
from pyproj import CRS, Transformer

from riskmap.export.options import ExportOptions

POPPLER = all(shutil.which(t) for t in ("pdftoppm", "pdftotext"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils not installed (scripts/system-deps.sh test)")
GDAL = shutil.which("gdalinfo")
DPI = 100  # pdftoppm resolution of the checks
PAPER_MM = {"A3": (420.0, 297.0), "A4": (297.0, 210.0)}  # landscape


@pytest.fixture(autouse=True)
def _widgets_application(qapp):
    """pytest-qt's QApplication before anything here paints: riskmap.printing's ensure_app makes a bare
    QGuiApplication when there is none, and no widget (the print dialog test) could use that."""
    return qapp


@pytest.fixture(scope="module")
def exported(demo_open, qapp, tmp_path_factory):
    """The demo as GeoPDF and as plain PDF (same layout, A3 landscape, with the coordinate grid), and what
    the export drew: its content and template (for the map frame computed by hand below)."""
    from riskmap.printing.export import SUPPORT_LAYERS, collect_layers, ensure_app, export_print, prepare, \
        visible_layer_ids

    ensure_app()
    folder = tmp_path_factory.mktemp("geopdf")
    geo, plain = folder / "一张图.pdf", folder / "plain.pdf"
    opts = ExportOptions(out=geo, paper="A3", geopdf=True, grid=True, unit="示例应急管理局")
    export_print(demo_open, "pdf", opts)
    export_print(demo_open, "pdf", ExportOptions(out=plain, paper="A3", grid=True, unit="示例应急管理局"))
    src = collect_layers(demo_open, sorted(set(visible_layer_ids(None)) | set(SUPPORT_LAYERS)))
    content, template, _ = prepare(src, opts)
    return {"geo": geo, "plain": plain, "content": content, "template": template, "dir": folder}


def frame(exported) -> dict:
    """The map frame by hand: its rectangle on the page in points (from the template, in whole pixels of
    the export's 300 dpi as painted) and its extent in the metric CRS: the content's extent widened about
    its centre to the frame's aspect ratio (square pixels)."""
    item = exported["template"].page("A3", "landscape").first("map")
    x, y, w, h = item.rect  # mm from the top-left corner
    px = [round(v * 300 / 25.4) for v in (x, y)] + [max(1, round(v * 300 / 25.4)) for v in (w, h)]
    x0, y0, wp, hp = px
    xmin, ymin, xmax, ymax = exported["content"].extent
    res = max((xmax - xmin) / wp, (ymax - ymin) / hp)
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    extent = (cx - res * wp / 2, cy - res * hp / 2, cx + res * wp / 2, cy + res * hp / 2)
    pt = 72 / 300
    return {"px": (x0, y0, wp, hp), "extent": extent, "res": res,
            "rect_pt": (x0 * pt, y0 * pt, (x0 + wp) * pt, (y0 + hp) * pt)}


def render(pdf_path, out_prefix) -> np.ndarray:
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", str(pdf_path), str(out_prefix)], check=True)
    return np.asarray(Image.open(f"{out_prefix}.png").convert("RGB")).astype(int)


def with_groups_off(src, dst, names: set[str]) -> None:
    """A copy of the GeoPDF whose default configuration switches the groups ``names`` off."""
    with pikepdf.open(src) as pdf:
        props = pdf.Root.OCProperties
        off = [g for g in props.OCGs if str(g.Name) in names]
        assert len(off) == len(names), [str(g.Name) for g in props.OCGs]
        props.D.OFF = pikepdf.Array(off)
        props.D.ON = pikepdf.Array([g for g in props.OCGs if str(g.Name) not in names])
        pdf.save(dst)


def group_names(path) -> list[str]:
    with pikepdf.open(path) as pdf:
        return [str(g.Name) for g in pdf.Root.OCProperties.OCGs]


# ------------------------------------------------------------------------------------------ layers
def test_layer_names_read_back_in_chinese(exported):
    from riskmap.layers import load_catalogue

    names = group_names(exported["geo"])
    cat = load_catalogue()
    scale = frame(exported)["res"] * 300 / 0.0254  # the sheet's scale denominator (300 dpi)
    drawn = [lay for lay in exported["content"].layers if lay.n and lay.layer_def.visible_at(scale)]
    # every catalogue layer the map draws, by its Chinese name, and the labels, grid and legend
    for lay in drawn:
        assert cat[lay.id].name_zh in names, (lay.id, names)
    # the plant's layers (shown below 1:25 000) are not drawn on the county sheet: no PDF layer for them
    assert scale > 25_000 and not {cat["risk_points"].name_zh, cat["hazard_sources"].name_zh} & set(names)
    assert {"企业", "镇街", "县界", "隐患", "注记", "经纬网", "图例"} <= set(names)
    assert len(names) == len(set(names))
    with pikepdf.open(exported["geo"]) as pdf:
        for g in pdf.Root.OCProperties.OCGs:
            raw = bytes(g.Name)
            assert raw[:2] == b"\xfe\xff"  # UTF-16BE with a byte order mark, not PDFDocEncoding
            assert raw[2:].decode("utf-16-be") == str(g.Name)
            assert g.Type == "/OCG"
        d = pdf.Root.OCProperties.D
        assert len(d.ON) == len(names) and len(d.OFF) == 0 and len(d.Order) == len(names)
        # the page content shows each group's drawing inside /OC /ocN BDC … EMC
        page = pdf.pages[0]
        ops = pikepdf.parse_content_stream(page)
        marked = [op for op in ops if str(op.operator) == "BDC"]
        assert len(marked) >= len(names)
        assert all(op.operands[0] == "/OC" for op in marked)
        props = page.obj.Resources.Properties
        assert {str(props[op.operands[1]].Name) for op in marked} == set(names)


@needs_poppler
def test_switching_the_enterprise_group_off_hides_a_major_enterprise(exported, demo_open):
    fr = frame(exported)
    ent = demo_open.read_table("enterprises")
    epsg = exported["content"].epsg
    to_metric = Transformer.from_crs(4490, epsg, always_xy=True)
    others = []
    for table in ("enterprises", "hidden_dangers", "emergency_resources", "protected_targets"):
        gdf = demo_open.read_table(table)
        pts = gdf[gdf.geometry.notna() & (gdf.geometry.geom_type == "Point")]
        others.append(np.column_stack(to_metric.transform(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy())))
    others = np.vstack(others)
    red = ent[(ent["level"] == 1) & ent.geometry.notna()]
    xy = np.column_stack(to_metric.transform(red.geometry.x.to_numpy(), red.geometry.y.to_numpy()))
    # the 重大 enterprise farthest from every other point symbol (nothing else red drawn on it)
    gaps = [np.sort(np.hypot(*(others - p).T))[1] for p in xy]
    ex, ey = xy[int(np.argmax(gaps))]
    xmin, _, _, ymax = fr["extent"]
    x0, y0, _, _ = fr["px"]
    col = round((x0 + (ex - xmin) / fr["res"]) * DPI / 300)
    row = round((y0 + (ymax - ey) / fr["res"]) * DPI / 300)

    def is_red(img):
        win = img[row - 1:row + 2, col - 1:col + 2]
        return bool(((win[..., 0] > 200) & (win[..., 1] < 80) & (win[..., 2] < 80)).all())

    on = render(exported["geo"], exported["dir"] / "on")
    off_pdf = exported["dir"] / "企业关.pdf"
    with_groups_off(exported["geo"], off_pdf, {"企业"})
    off = render(off_pdf, exported["dir"] / "off")
    assert is_red(on)  # the 重大 enterprise's red dot
    assert not is_red(off)
    assert (off[row, col] > 120).all()  # what lies under it (a town's light fill), not black or red
    # nothing but the enterprise symbols changed: the title, legend and every other layer are still there
    changed = np.abs(on - off).max(axis=2) > 0
    assert 0 < changed.mean() < 0.05
    title_band = slice(0, round(fr["px"][1] * DPI / 300))
    assert not changed[title_band].any()


@needs_poppler
def test_the_page_looks_like_the_plain_pdf_and_keeps_its_demo_mark(exported):
    geo = render(exported["geo"], exported["dir"] / "geo")
    plain = render(exported["plain"], exported["dir"] / "plain")
    assert geo.shape == plain.shape
    differ = np.abs(geo - plain).max(axis=2) > 24
    assert differ.mean() < 0.001, differ.mean()  # the same drawing, in the same order
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(exported["geo"]), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "会宁县安全风险一张图（示例数据）" in text and "编制单位：示例应急管理局" in text
    assert "示例数据：图中企业、分区与数据均为虚构" in text
    # every group off: the map's layers go, the demo watermark, note, title and frame stay
    every = exported["dir"] / "all_off.pdf"
    with_groups_off(exported["geo"], every, set(group_names(exported["geo"])))
    bare = render(every, exported["dir"] / "bare")
    fr = frame(exported)
    x0, y0, wp, hp = (round(v * DPI / 300) for v in fr["px"])
    inside = bare[y0 + 5:y0 + hp - 5, x0 + 5:x0 + wp - 5]
    tint = (np.abs(inside - np.array([242, 215, 215])).max(axis=2) <= 12).sum()
    assert tint > 1000  # 示例数据 across the map (red at 12 % over white)
    assert np.array_equal(bare[:y0], geo[:y0])  # the title above the map frame is untouched
    with pikepdf.open(exported["geo"]) as pdf:
        fonts = [f for f in pdf.objects if isinstance(f, pikepdf.Dictionary) and f.get("/Type") == "/FontDescriptor"]
        assert len(fonts) == len({str(f.FontName) for f in fonts})  # each font embedded once


# ------------------------------------------------------------------------------------------ registration
def test_measure_gives_the_frame_corners_in_latitude_and_longitude(exported):
    fr = frame(exported)
    epsg = exported["content"].epsg
    crs = CRS.from_epsg(epsg)
    to_geo = Transformer.from_crs(crs, CRS.from_epsg(4490), always_xy=True)
    xmin, ymin, xmax, ymax = fr["extent"]
    want = []
    for x, y in ((xmin, ymax), (xmin, ymin), (xmax, ymin), (xmax, ymax)):  # ul, ll, lr, ur
        lon, lat = to_geo.transform(x, y)
        want += [lat, lon]
    w_pt, h_pt = (v * 72 / 25.4 for v in PAPER_MM["A3"])
    with pikepdf.open(exported["geo"]) as pdf:
        assert (pdf.pdf_version, pdf.extension_level) == ("1.7", 3)  # Adobe's geospatial extension level
        page = pdf.pages[0]
        assert float(page.obj.MediaBox[2]) == pytest.approx(w_pt, abs=0.01)
        (vp,) = list(page.obj.VP)
        assert vp.Type == "/Viewport" and str(vp.Name) == "地图"
        m = vp.Measure
        assert m.Type == "/Measure" and m.Subtype == "/GEO"
        gpts = [float(v) for v in m.GPTS]
        assert gpts == pytest.approx(want, abs=1e-6)
        assert [float(v) for v in m.LPTS] == [0, 1, 0, 0, 1, 0, 1, 1]
        assert [float(v) for v in m.Bounds] == [0, 1, 0, 0, 1, 0, 1, 1]
        assert m.GCS.Type == "/PROJCS" and int(m.GCS.EPSG) == epsg
        wkt = CRS.from_wkt(str(m.GCS.WKT))  # ESRI's WKT 1, as GDAL writes it: the same projection
        lons, lats = to_geo.transform([xmin, xmax], [ymin, ymax])
        back = Transformer.from_crs(4490, wkt, always_xy=True).transform(lons, lats)
        assert np.allclose(back, ([xmin, xmax], [ymin, ymax]), atol=0.001)
        # the viewport is the map frame on the page (PDF y up from the bottom; Qt places the page's top at
        # its whole-point height, a fraction of a point above the exact A3 height)
        left, top, right, bottom = fr["rect_pt"]
        bbox = [float(v) for v in vp.BBox]
        assert bbox[0] == pytest.approx(left, abs=1e-6) and bbox[2] == pytest.approx(right, abs=1e-6)
        assert bbox[3] - bbox[1] == pytest.approx(bottom - top, abs=1e-6)
        assert bbox[3] == pytest.approx(round(h_pt) - top, abs=1e-6)


@pytest.mark.skipif(not GDAL, reason="gdalinfo (gdal-bin) not installed")
def test_gdal_reads_the_registration_and_the_layers(exported):
    out = subprocess.run([GDAL, "-json", "-mdd", "LAYERS", str(exported["geo"])], capture_output=True, text=True,
                         check=True).stdout
    info = json.loads(out)
    assert 'ID["EPSG",%d]' % exported["content"].epsg in info["coordinateSystem"]["wkt"]
    layers = set(info["metadata"]["LAYERS"].values())
    assert layers == set(group_names(exported["geo"]))
    assert {"企业", "县界", "镇街"} <= layers
    import shapely

    neatline = shapely.from_wkt(info["metadata"][""]["NEATLINE"])
    xmin, ymin, xmax, ymax = frame(exported)["extent"]
    assert neatline.bounds == pytest.approx((xmin, ymin, xmax, ymax), abs=0.5)  # metres
    # GDAL's own raster of the page: the frame's corners land where the geotransform says
    gt = info["geoTransform"]
    size_x, size_y = info["size"]
    assert gt[0] < xmin and gt[0] + gt[1] * size_x > xmax and gt[3] > ymax and gt[3] + gt[5] * size_y < ymin


# ------------------------------------------------------------------------------------------ atlas, CLI, dialog
def test_atlas_pages_each_carry_their_own_frame(demo_open, qapp, tmp_path):
    from riskmap.printing.export import export_print

    out = tmp_path / "园区图集.pdf"
    export_print(demo_open, "pdf", ExportOptions(out=out, paper="A4", atlas="park", geopdf=True))
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
        corners = [tuple(float(v) for v in page.obj.VP[0].Measure.GPTS) for page in pdf.pages]
        assert corners[0] != corners[1]
        assert "企业" in [str(g.Name) for g in pdf.Root.OCProperties.OCGs]
        for page in pdf.pages:
            assert any(str(op.operator) == "BDC" for op in pikepdf.parse_content_stream(page))


@needs_poppler
def test_user_text_stays_text(demo_open, qapp, tmp_path):
    """A title written in PDF syntax (and template syntax) is the document's title and a line on the page,
    never a dictionary entry or an action."""
    from riskmap.printing.export import export_print

    # (no digits: Qt's ToUnicode map leaves out some digit glyphs, so pdftotext may drop them)
    title = "{{x*y}}) >> /OpenAction << /S /JavaScript /JS (app.alert(x)) >> \\ ( 风险图"
    out = tmp_path / "t.pdf"
    export_print(demo_open, "pdf", ExportOptions(out=out, paper="A4", geopdf=True, title=title))
    with pikepdf.open(out) as pdf:
        assert "/OpenAction" not in pdf.Root and "/AA" not in pdf.Root
        assert len(pdf.Root.get("/Names", pikepdf.Dictionary())) == 0  # Qt's empty name tree, no scripts
        assert str(pdf.docinfo.Title) == f"{title}（示例数据）"
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert title.replace(" ", "") in text.replace(" ", "").replace("\n", "")


@pytest.mark.parametrize("after", [1, 13])  # parts painted (of 14 on this page): the background; all but one
def test_cancelled_geopdf_leaves_nothing(demo_open, tmp_path, after):
    from riskmap.printing.export import export_print
    from riskmap.progress import Cancelled

    painted = []  # parts painted so far, from the progress messages (第 k/n 部分)

    def progress(fraction, message=""):
        if "部分" in str(message):
            painted.append(int(str(message).split("第 ")[1].split("/")[0]))

    def cancel():
        return bool(painted) and painted[-1] >= after

    with pytest.raises(Cancelled, match="导出已取消"):
        export_print(demo_open, "pdf", ExportOptions(out=tmp_path / "c.pdf", geopdf=True), progress=progress,
                     cancel=cancel)
    assert painted and painted[-1] == after  # cancelled while Qt painted the parts
    assert list(tmp_path.iterdir()) == []  # neither the PDF nor the temporary folder of Qt's pages


def test_cli_geopdf(demo_path, cli, tmp_path):
    out = tmp_path / "cli.pdf"
    code, stdout, stderr = cli("export", demo_path, "--out", out, "--paper", "A4", "--geopdf")
    assert code == 0, stderr
    assert "企业" in group_names(out)
    code, _, stderr = cli("export", demo_path, "--out", tmp_path / "a.png", "--geopdf")
    assert code == 2 and "GeoPDF" in stderr and len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "a.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cli.pdf"]  # no temporary left beside it


def test_print_dialog_check_box_writes_a_geopdf(qtbot, demo_path, tmp_path):
    from PySide6.QtCore import QSettings

    from PySide6.QtWidgets import QApplication

    from riskmap.ui.app import make_application
    from riskmap.ui.i18n import install_language
    from riskmap.ui.prefs import Prefs
    from tests.ui.conftest import open_window

    if not isinstance(QApplication.instance(), QApplication):  # a test before made a bare QGuiApplication
        pytest.skip("this run has a QGuiApplication without widgets (a test before did not use qapp)")
    make_application([])
    install_language("zh")
    prefs = Prefs(QSettings(str(tmp_path / "riskmap.ini"), QSettings.Format.IniFormat))
    window = open_window(qtbot, prefs, demo_path)
    window.action("action_print").trigger()
    dlg = window.dialogs["print_dialog"]
    qtbot.addWidget(dlg)
    qtbot.waitUntil(dlg.preview_ready, timeout=30000)
    assert dlg.geopdf_check.text() == "GeoPDF：图层可开关，带坐标" and not dlg.geopdf_check.isChecked()
    plain = tmp_path / "plain.pdf"
    dlg.export("pdf", str(plain))
    qtbot.waitUntil(lambda: dlg.last_export is not None, timeout=60000)
    with pikepdf.open(plain) as pdf:
        assert "/OCProperties" not in pdf.Root and "/VP" not in pdf.pages[0].obj
    dlg.geopdf_check.setChecked(True)
    dlg.last_export = None
    out = tmp_path / "dialog.pdf"
    dlg.export("pdf", str(out))
    qtbot.waitUntil(lambda: dlg.last_export is not None, timeout=60000)
    assert {"企业", "镇街", "注记", "图例"} <= set(group_names(out))
    with pikepdf.open(out) as pdf:
        assert pdf.pages[0].obj.VP[0].Measure.Subtype == "/GEO"
