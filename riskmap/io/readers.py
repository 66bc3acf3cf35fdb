"""Read the files bureaus have into one shape (:class:`Source`): raw cell values by source column, the
row numbers a user sees, and geometry with its declared CRS for vector formats.

Spreadsheets (XLSX/XLS/ODS through python-calamine, CSV through the csv module) keep their cells as
they are: the header row is found under any title rows by scoring header synonyms, merged cells are
filled from their top-left cell. Vector formats (GeoPackage, Shapefile, GeoJSON, KML/KMZ, DXF) go
through GDAL (pyogrio); a shapefile without .cpg has its .dbf encoding detected (UTF-8 or GBK).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskmap.errors import RiskmapError
from riskmap.io.encoding import decode_bytes, guess_encoding, shapefile_encoding
from riskmap.io.guard import check_spreadsheet, column_letter, open_zip
from riskmap.io.issues import Report

SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
DELIMITED = {".csv", ".txt", ".tsv"}
VECTORS = {".gpkg", ".shp", ".geojson", ".json", ".kml", ".kmz", ".dxf", ".gml", ".zip"}
KML_JUNK = {"begin", "end", "altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon",
            "snippet", "timestamp"}

Scorer = Callable[[list], int]


@dataclass
class Source:
    """What a file holds, before any mapping: ``frame`` has one object column per source column."""

    path: Path
    format: str
    frame: pd.DataFrame
    rows: np.ndarray  # the row number (or label) a user finds each record under
    geometry: np.ndarray | None = None  # shapely geometries (vector formats)
    crs: object = None  # pyproj CRS declared by the file, None when unknown
    layer: str | None = None  # sheet or source layer read
    layers: list[str] = field(default_factory=list)  # all sheets or layers of the file
    header_row: int | None = None  # spreadsheet row of the headers (1-based)
    encoding: str | None = None
    report: Report | None = None
    read_issues: list = field(default_factory=list)  # what reading found (kept when validating again)

    @property
    def is_table(self) -> bool:
        return self.geometry is None

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def __len__(self) -> int:
        return len(self.frame)


def _where(path: Path) -> str:
    return path.name


def read_source(path, *, sheet: str | None = None, header_row: int | None = None, scorer: Scorer | None = None,
                report: Report | None = None) -> Source:
    """Read ``path``; ``sheet`` picks a worksheet or a source layer, ``header_row`` (1-based) overrides
    header detection, ``scorer`` counts header-like cells in a row. Findings go to ``report``."""
    path = Path(path)
    report = report if report is not None else Report(path.name)
    if not path.exists():
        raise RiskmapError(f"文件不存在：{path}", f"file not found: {path}")
    if path.is_dir():
        if path.suffix.lower() == ".gdb":
            return _read_vector(path, sheet, report)
        raise RiskmapError(f"这是文件夹，不是数据文件：{path}", f"a folder, not a data file: {path}")
    suffix = path.suffix.lower()
    if suffix in SPREADSHEETS:
        src = _read_spreadsheet(path, sheet, header_row, scorer, report)
    elif suffix in DELIMITED:
        src = _read_delimited(path, header_row, scorer, report)
    elif suffix in VECTORS:
        src = _read_vector(path, sheet, report)
    else:
        raise RiskmapError(
            f"不支持的文件类型：{path.suffix}（可用 XLSX、CSV、SHP、GPKG、GeoJSON、KML/KMZ、DXF）",
            f"unsupported file type {path.suffix!r} (use XLSX, CSV, SHP, GPKG, GeoJSON, KML/KMZ, DXF)",
            where=_where(path))
    src.report = report
    return src


# ------------------------------------------------------------------------------- spreadsheets


def _read_spreadsheet(path: Path, sheet, header_row, scorer, report: Report) -> Source:
    try:
        from python_calamine import CalamineWorkbook
    except ImportError as exc:  # pragma: no cover - a dependency of riskmap
        raise RiskmapError("缺少 python-calamine，无法读取表格", "python-calamine is missing") from exc
    check_spreadsheet(path)  # bombs are refused before calamine sees them
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for damaged files
        raise RiskmapError(f"表格文件无法打开，可能已损坏或加密：{exc}",
                           f"cannot open the spreadsheet (damaged or encrypted?): {exc}", where=_where(path)) from None
    names = [m.name for m in wb.sheets_metadata if str(m.typ).endswith("WorkSheet")] or list(wb.sheet_names)
    if sheet is not None:
        if sheet not in names:
            raise RiskmapError(f"没有名为“{sheet}”的工作表（有：{'、'.join(names)}）",
                               f"no sheet named {sheet!r} (sheets: {', '.join(names)})", where=_where(path))
        candidates = [sheet]
    else:
        candidates = names
    best = None
    for name in candidates:
        try:
            ws = wb.get_sheet_by_name(name)
            grid = ws.to_python(skip_empty_area=False)
            merged = ws.merged_cell_ranges or []
        except Exception as exc:
            raise RiskmapError(f"工作表“{name}”无法读取：{exc}", f"cannot read sheet {name!r}: {exc}",
                               where=_where(path)) from None
        if not grid:
            continue
        _fill_merged(grid, merged)
        h, score = _find_header(grid, scorer, header_row)
        if best is None or score > best[0]:
            best = (score, name, grid, h)
        if len(candidates) > 1 and sheet is None and score >= 2 and name == candidates[0]:
            break  # the first sheet clearly is a table: do not read the others
    if best is None:
        raise RiskmapError("表格是空的", "the spreadsheet is empty", where=_where(path))
    _score, name, grid, h = best
    if len(names) > 1:
        report.note(f"读取工作表“{name}”（共 {len(names)} 个：{'、'.join(names)}）",
                    f"reading sheet {name!r} ({len(names)} sheets)")
    src = _grid_to_source(path, "XLSX" if path.suffix.lower() != ".ods" else "ODS", grid, 1, h, scorer, report)
    src.layer, src.layers = name, names
    return src


def _fill_merged(grid: list[list], merged) -> None:
    """Give every cell of a merged range the value of its top-left cell (ranges 0-based, inclusive)."""
    for (r0, c0), (r1, c1) in merged:
        if r0 >= len(grid):
            continue
        value = grid[r0][c0] if c0 < len(grid[r0]) else ""
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            row = grid[r]
            for c in range(c0, min(c1, len(row) - 1) + 1):
                row[c] = value


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _find_header(grid: list[list], scorer: Scorer | None, header_row: int | None, first_number: int = 1,
                 scan: int | None = None) -> tuple[int, int]:
    """Index of the header row in ``grid`` and its score."""
    if header_row is not None:
        i = header_row - first_number
        if not 0 <= i < len(grid):
            raise RiskmapError(f"表头行 {header_row} 超出表格范围", f"header row {header_row} is outside the sheet")
        return i, scorer(grid[i]) if scorer else 0
    if scan is None:
        from riskmap.io.fieldmap import load_synonyms
        scan = int(load_synonyms().checks.get("header_scan_rows", 30))
    best_i, best_score = None, 0
    for i, row in enumerate(grid[:scan]):
        if all(_blank(v) for v in row):
            continue
        if best_i is None:
            best_i = i
        score = scorer(row) if scorer else 0
        if score > best_score:
            best_i, best_score = i, score
    if best_i is None:
        raise RiskmapError(f"表格前 {scan} 行都是空的", f"the first {scan} rows are empty")
    return best_i, best_score


def _header_text(v) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return " ".join(str(v).split()) if v is not None else ""


def _grid_to_source(path: Path, fmt: str, grid: list[list], first_number: int, h: int, scorer, report: Report,
                    numbers: list[int] | None = None) -> Source:
    """Cut a grid of cells at header row ``h`` into a Source. ``numbers`` are the row numbers of the grid
    rows (default: ``first_number + index``)."""
    width = max(len(r) for r in grid)
    header = list(grid[h]) + [""] * (width - len(grid[h]))
    start = h + 1
    # a second header row under merged group headers: 坐标 over 经度 | 纬度
    if scorer and start < len(grid):
        sub = list(grid[start]) + [""] * (width - len(grid[start]))
        filled = [v for v in sub if not _blank(v)]
        if filled and scorer(sub) >= 1 and all(isinstance(v, str) for v in filled) and len(filled) * 2 <= width + 1:
            header = [s if not _blank(s) else hd for s, hd in zip(sub, header)]
            start += 1
    names, seen = [], {}
    for i, v in enumerate(header):
        name = _header_text(v) if not _blank(v) else f"列{column_letter(i)}"
        if name in seen:
            seen[name] += 1
            name = f"{name}({seen[name]})"
        else:
            seen[name] = 1
        names.append(name)
    body = grid[start:]
    header_number = first_number + h if numbers is None else numbers[h]
    if numbers is None:
        numbers = list(range(first_number + start, first_number + start + len(body)))
    else:
        numbers = numbers[start:]
    if body and any(len(r) != width for r in body):
        body = [list(r) + [""] * (width - len(r)) if len(r) < width else list(r[:width]) for r in body]
    arr = np.empty((len(body), width), dtype=object)
    if body:
        arr[:] = body
    nums = np.asarray(numbers, dtype=np.int64)
    if arr.size:
        empty = (arr == "") | pd.isna(arr)
        arr[empty] = None
        keep = ~empty.all(axis=1)
        head = np.array([v if not _blank(v) else None for v in header], dtype=object)
        named = head != None  # noqa: E711
        repeat = ((arr == head) & named).sum(axis=1) >= max(2, int(named.sum()) - 1)
        keep &= ~repeat
        arr, nums = arr[keep], nums[keep]
    frame = pd.DataFrame(arr, columns=names, dtype=object)
    frame.index = pd.RangeIndex(len(frame))
    return Source(path=path, format=fmt, frame=frame, rows=nums, header_row=header_number, report=report)


# ------------------------------------------------------------------------------- CSV


def _read_delimited(path: Path, header_row, scorer, report: Report) -> Source:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RiskmapError(f"无法读取文件（{exc.strerror}）", f"cannot read the file ({exc.strerror})",
                           where=_where(path)) from None
    text, enc = decode_bytes(data, where=_where(path))
    if "\x00" in text:  # a binary file, or one damaged on the way: never a value to keep
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise RiskmapError(f"文件第 {line} 行含有 NUL 字符（\\0），不是正常的文本文件",
                           f"line {line} holds a NUL character (\\0): not a plain text file", where=_where(path))
    if enc != "UTF-8":
        report.note(f"文本编码：{enc}", f"text encoding: {enc}")
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    grid, numbers = [], []
    try:
        line = 1
        for row in reader:
            grid.append(row)
            numbers.append(line)
            line = reader.line_num + 1
    except csv.Error as exc:
        raise RiskmapError(f"CSV 格式错误，第 {reader.line_num} 行：{exc}",
                           f"CSV format error at line {reader.line_num}: {exc}", where=_where(path)) from None
    if not grid:
        raise RiskmapError("文件是空的", "the file is empty", where=_where(path))
    if header_row is not None:
        if header_row not in numbers:
            raise RiskmapError(f"表头行 {header_row} 超出文件范围", f"header row {header_row} is outside the file",
                               where=_where(path))
        h = numbers.index(header_row)
    else:
        h, _score = _find_header(grid, scorer, None)
    src = _grid_to_source(path, "CSV", grid, 1, h, scorer, report, numbers=numbers)
    src.encoding = enc
    return src


# ------------------------------------------------------------------------------- GDAL formats


@contextlib.contextmanager
def _gdal_config(**options):
    import pyogrio

    old = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(options)
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(old)


def _vector_error(path: Path, exc: Exception) -> RiskmapError:
    """A GDAL failure said plainly; for JSON, the line and column where the text breaks."""
    if path.suffix.lower() in (".geojson", ".json"):
        try:
            text, _enc = decode_bytes(path.read_bytes(), where=_where(path))
            json.loads(text)
        except json.JSONDecodeError as jexc:
            return RiskmapError(
                f"GeoJSON 文件不完整或已损坏：第{jexc.lineno}行第{jexc.colno}列 {jexc.msg}",
                f"GeoJSON file is truncated or damaged: line {jexc.lineno}, column {jexc.colno}: {jexc.msg}",
                where=_where(path))
        except (RiskmapError, OSError):
            pass
    return RiskmapError(f"文件无法读取，可能已损坏：{exc}", f"cannot read the file (damaged?): {exc}",
                        where=_where(path))


def _read_vector(path: Path, sheet, report: Report) -> Source:
    import pyogrio

    suffix = path.suffix.lower()
    if suffix == ".zip":
        return _read_zip(path, sheet, report)
    if suffix == ".kmz":
        open_zip(path).close()  # GDAL unpacks it: refuse a bomb first
    encoding = None
    open_path = path
    tmp = None
    config: dict = {}
    if suffix == ".dxf":
        # GDAL follows $DWGCODEPAGE, which R2007+ files (UTF-8) and Chinese CAD files often misstate
        enc = guess_encoding([path.read_bytes()])
        if enc:
            config["DXF_ENCODING"] = "UTF-8" if enc == "UTF-8" else "CP936"
            if enc != "UTF-8":
                report.note(f"DXF 文字编码：{enc}", f"DXF text encoding: {enc}")
    try:
        if suffix == ".shp":
            check_shapefile_counts(path)
            enc, how = shapefile_encoding(path)
            if how == "detected":
                encoding = enc
                report.note(f"没有 .cpg 文件，按内容判断属性编码为 {enc}",
                            f"no .cpg file: attribute encoding detected as {enc}")
            if not any(path.with_suffix(s).exists() for s in (".shx", ".SHX")):
                tmp = Path(tempfile.mkdtemp(prefix="riskmap-shp-"))
                for part in path.parent.glob(path.stem + ".*"):
                    shutil.copy(part, tmp / part.name)
                open_path = tmp / path.name
                report.add(None, "", None, "缺少 .shx 索引文件，已按 .shp 重建（原文件未改动）",
                           "the .shx index file is missing: rebuilt from the .shp (the original is untouched)",
                           "repaired")
        try:
            with _gdal_config(SHAPE_RESTORE_SHX="YES" if tmp else None, **config):
                layers = pyogrio.list_layers(open_path)
        except Exception as exc:
            raise _vector_error(path, exc) from None
        names = [str(n) for n, _g in layers]
        if sheet is not None:
            if sheet not in names:
                raise RiskmapError(f"没有名为“{sheet}”的图层（有：{'、'.join(names)}）",
                                   f"no layer named {sheet!r} (layers: {', '.join(names)})", where=_where(path))
            chosen = [sheet]
        elif suffix in (".kml", ".kmz"):
            chosen = names  # KML folders are only grouping: read them all
        elif len(names) == 1:
            chosen = names
        else:
            spatial = [str(n) for n, g in layers if g is not None]
            if len(spatial) == 1:
                chosen = spatial
            else:
                raise RiskmapError(f"文件有多个图层，请用 --sheet 选择一个：{'、'.join(names)}",
                                   f"the file has several layers; choose one with --sheet: {', '.join(names)}",
                                   where=_where(path))
        frames, geoms, labels, crs, fmt = [], [], [], None, None
        for name in chosen:
            try:
                with _gdal_config(SHAPE_RESTORE_SHX="YES" if tmp else None, **config):
                    info = pyogrio.read_info(open_path, layer=name, encoding=encoding)
                    if info["features"] == 0 and len(chosen) > 1:
                        continue
                    gdf = pyogrio.read_dataframe(open_path, layer=name, encoding=encoding)
            except Exception as exc:
                raise _vector_error(path, exc) from None
            fmt = info.get("driver") or fmt
            if gdf.crs is not None and crs is None:
                crs = gdf.crs
            geom_col = gdf.geometry.name if hasattr(gdf, "geometry") and "geometry" in gdf else None
            g = gdf.geometry.to_numpy() if geom_col else np.full(len(gdf), None, dtype=object)
            attrs = pd.DataFrame(gdf.drop(columns=[geom_col] if geom_col else [])).astype(object)
            if suffix in (".kml", ".kmz"):
                attrs = attrs.drop(columns=[c for c in attrs.columns if c in KML_JUNK])
            frames.append(attrs)
            geoms.append(np.asarray(g, dtype=object))
            n = np.arange(1, len(gdf) + 1)
            labels.append(n if len(chosen) == 1 else np.array([f"{name}#{k}" for k in n], dtype=object))
        if not frames:
            raise RiskmapError("文件中没有要素", "the file has no features", where=_where(path))
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
        frame = frame.astype(object).where(pd.notna(frame), None)
        src = Source(path=path, format=fmt or suffix.lstrip(".").upper(), frame=frame,
                     rows=np.concatenate(labels), geometry=np.concatenate(geoms), crs=crs,
                     layer=chosen[0] if len(chosen) == 1 else None, layers=names, encoding=encoding, report=report)
        return src
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _part(shp: Path, suffix: str) -> Path | None:
    return next((p for p in (shp.with_suffix(suffix), shp.with_suffix(suffix.upper())) if p.is_file()), None)


def _shape_count(shp: Path) -> int:
    """Records in a .shp: from its .shx (8 bytes a record), else by walking the record headers."""
    shx = _part(shp, ".shx")
    if shx is not None:
        size = shx.stat().st_size
        with open(shx, "rb") as fh:
            head = fh.read(28)
        declared = struct.unpack(">i", head[24:28])[0] * 2 if len(head) == 28 else -1
        if size < 100 or declared != size or (size - 100) % 8:
            raise RiskmapError(f"{shx.name} 已损坏或不完整（头部记为 {declared} 字节，实际 {size} 字节）",
                               f"{shx.name} is damaged or truncated (its header says {declared} bytes, the file "
                               f"has {size})", where=shp.name)
        return (size - 100) // 8
    n, pos, size = 0, 100, shp.stat().st_size
    with open(shp, "rb") as fh:
        while pos + 8 <= size:
            fh.seek(pos)
            words = struct.unpack(">2i", fh.read(8))[1]
            if words < 0:
                break
            pos += 8 + 2 * words
            n += 1
    return n


def check_shapefile_counts(shp: Path) -> None:
    """A shapefile whose .shp and .dbf hold different numbers of records is refused with both counts
    (GDAL would read the shorter one and drop the rest without a word)."""
    dbf = _part(shp, ".dbf")
    if dbf is None:
        return
    try:
        with open(dbf, "rb") as fh:
            head = fh.read(12)
        if len(head) < 12:
            raise RiskmapError(f"{dbf.name} 已损坏（不足 12 字节）", f"{dbf.name} is damaged (under 12 bytes)",
                               where=shp.name)
        records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        size = dbf.stat().st_size
        if header_len + records * record_len > size:
            have = max(size - header_len, 0) // max(record_len, 1)
            raise RiskmapError(f"{dbf.name} 不完整：头部记为 {records} 行，文件只容得下 {have} 行",
                               f"{dbf.name} is truncated: its header says {records} rows, the file holds {have}",
                               where=shp.name)
        shapes = _shape_count(shp)
    except OSError as exc:
        raise RiskmapError(f"无法读取文件（{exc.strerror}）", f"cannot read the file ({exc.strerror})",
                           where=shp.name) from None
    if shapes != records:
        raise RiskmapError(f"{shp.name} 有 {shapes} 个图形，而 {dbf.name} 有 {records} 行属性，两者应一一对应"
                           "（文件不完整或不配套）",
                           f"{shp.name} holds {shapes} shapes but {dbf.name} holds {records} attribute rows; they "
                           "must match one to one (a truncated or mismatched file)", where=shp.name)


def _read_zip(path: Path, sheet, report: Report) -> Source:
    """A zipped shapefile (or any single vector file in a zip): unpacked to a temporary folder."""
    zf = open_zip(path)  # members too big or too compressed are refused
    with zf, tempfile.TemporaryDirectory(prefix="riskmap-zip-") as tmp:
        members = [m for m in zf.infolist() if not m.is_dir()]
        inner = [m for m in members if Path(m.filename).suffix.lower() in VECTORS - {".zip"}]
        if not inner:
            raise RiskmapError("ZIP 中没有可读的数据文件", "no data file in the ZIP", where=_where(path))
        if len(inner) > 1 and sheet is None:
            raise RiskmapError(f"ZIP 中有多个数据文件，请用 --sheet 选一个：{'、'.join(Path(m.filename).name for m in inner)}",
                               "several data files in the ZIP; choose one with --sheet", where=_where(path))
        pick = inner[0] if len(inner) == 1 else next((m for m in inner if Path(m.filename).stem == sheet or
                                                      Path(m.filename).name == sheet), None)
        if pick is None:
            raise RiskmapError(f"ZIP 中没有“{sheet}”", f"no {sheet!r} in the ZIP", where=_where(path))
        for m in members:
            target = Path(tmp) / Path(m.filename).name  # flat: no paths from the archive are trusted
            with zf.open(m) as src_fh, open(target, "wb") as out:
                shutil.copyfileobj(src_fh, out)
        src = _read_vector(Path(tmp) / Path(pick.filename).name, None if len(inner) > 1 else sheet, report)
    src.path = path
    return src
