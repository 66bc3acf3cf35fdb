"""Shapefile export: one .shp per layer, UTF-8 with a .cpg file (or GBK for older Chinese software).

Field names are cut to the format's 10 bytes and kept unique; a ``fields.csv`` beside the files maps
them back to the full names and their Chinese titles.

>>> shp_field_names(["responsible_person", "responsible_phone", "id"])
['responsibl', 'responsi_1', 'id']
"""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path

import pandas as pd
import pyogrio

from riskmap.atomic import atomic_path
from riskmap.atomic import csv_cell
from riskmap.errors import RiskmapError
from riskmap.export.base import ExportSource, export_steps, is_approximate, typed_frame
from riskmap.marks import DEMO_MARK, DEMO_NOTE

ENCODINGS = {"utf-8": ("UTF-8", "utf-8"), "utf8": ("UTF-8", "utf-8"), "gbk": ("GBK", "gbk"),
             "cp936": ("GBK", "gbk"), "gb18030": ("GBK", "gbk")}


def shp_field_names(names: list[str]) -> list[str]:
    """Unique names of at most 10 characters (ASCII names, as the store's are)."""
    out, used = [], set()
    for name in names:
        cand = name[:10]
        k = 1
        while cand.lower() in used:
            suffix = f"_{k}"
            cand = name[: 10 - len(suffix)] + suffix
            k += 1
        used.add(cand.lower())
        out.append(cand)
    return out


def export_shp(src: ExportSource, out: str | os.PathLike, *, encoding: str = "utf-8", progress=None,
               cancel=None) -> None:
    """Write each layer as ``<layer id>.shp`` into the folder ``out`` (or into a .zip when out ends in .zip)."""
    enc = ENCODINGS.get(encoding.lower().replace("_", "-"))
    if enc is None:
        raise RiskmapError(f"不支持的编码: {encoding}（可用 UTF-8、GBK）", f"unsupported encoding: {encoding} (use UTF-8 or GBK)")
    gdal_enc, py_enc = enc
    out = Path(out)
    as_zip = out.suffix.lower() == ".zip"
    steps = export_steps(progress, cancel, len(src.layers) + 1)
    with atomic_path(out, directory=not as_zip) as tmp:
        folder = tmp.parent / "shp" if as_zip else tmp
        folder.mkdir(exist_ok=True)
        mapping, truncated = [], []
        for x in src.layers:
            steps.check()
            df = typed_frame(x)
            if src.is_demo:  # a lone .shp copied elsewhere still says what it is
                df.insert(0, "demo_note", DEMO_MARK)
            cols = [c for c in df.columns if c != df.geometry.name]
            short = shp_field_names(cols)
            df = df.rename(columns=dict(zip(cols, short)))
            for c in short:  # shapefiles have no boolean type
                if str(df[c].dtype) == "boolean":
                    df[c] = df[c].astype("Int64")
            _check_encodable(df, short, py_enc, x.layer.name_zh)
            for c, full in zip(short, cols):
                if _fit_dbf_text(df, c, py_enc):
                    truncated.append(f"{x.layer.name_zh} {x.id}.shp: {full} ({c})")
            pyogrio.write_dataframe(df, folder / f"{x.id}.shp", driver="ESRI Shapefile", encoding=gdal_enc,
                                    promote_to_multi=x.layer.geometry != "point")
            mapping += [(x.id, s, c, "示例数据标记" if c == "demo_note" else x.field_title(c))
                        for s, c in zip(short, cols)]
            steps.step(x.layer.name_zh)
        with open(folder / "fields.csv", "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(["layer", "shp_field", "field", "title"])
            w.writerows([csv_cell(v) for v in row] for row in mapping)
        readme = ["riskmap Shapefile 导出 / export", f"项目 project: {src.name}", "坐标系 CRS: EPSG:4490 (CGCS2000)",
                  f"字符编码 encoding: {gdal_enc}"]
        if src.is_demo:
            readme.insert(0, DEMO_NOTE)
        readme += [f"{note}（{x.id}.shp）" for x, note in zip([x for x in src.layers if is_approximate(x.layer)],
                                                              src.approximate_notes)]
        if truncated:
            readme += [f"以下文字字段有超过 {DBF_TEXT_BYTES} 字节（Shapefile 上限）的值，已截断并以“…”结尾，完整内容见 GeoPackage 或 "
                       f"XLSX 导出 / these text fields had values over the format's {DBF_TEXT_BYTES} bytes, cut and "
                       "ended with '…' (GeoPackage or XLSX exports keep them whole):", *truncated]
        (folder / ("示例数据_说明.txt" if src.is_demo else "说明.txt")).write_text("\n".join(readme) + "\n",
                                                                              encoding="utf-8-sig")
        if as_zip:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for f in sorted(folder.iterdir()):
                    zf.write(f, f.name)
        steps.step("完成")


DBF_TEXT_BYTES = 254  # a dBASE character field holds at most 254 bytes


def fit_text(value: str, encoding: str, limit: int = DBF_TEXT_BYTES) -> str:
    """``value`` cut to at most ``limit`` bytes in ``encoding`` on a character boundary, ending with "…" when cut.

    >>> fit_text("安全" * 200, "utf-8").endswith("…"), len(fit_text("安全" * 200, "utf-8").encode("utf-8")) <= 254
    (True, True)
    >>> fit_text("加油站", "gbk")
    '加油站'
    """
    if len(value.encode(encoding)) <= limit:
        return value
    room = limit - len("…".encode(encoding))
    return value.encode(encoding)[:room].decode(encoding, errors="ignore") + "…"


def _fit_dbf_text(df, column: str, py_enc: str) -> bool:
    """Cut the text values of ``column`` that a DBF field cannot hold (GDAL would cut them mid-character);
    whether any was cut."""
    if not (df[column].dtype == object or pd.api.types.is_string_dtype(df[column].dtype)):
        return False
    long = df[column].map(lambda v: isinstance(v, str) and len(v.encode(py_enc)) > DBF_TEXT_BYTES)
    if not long.any():
        return False
    df.loc[long, column] = df.loc[long, column].map(lambda v: fit_text(v, py_enc))
    return True


def _check_encodable(df, columns, py_enc: str, layer_title: str) -> None:
    """GBK cannot hold every character: name the first value that does not fit instead of writing '?'."""
    if py_enc == "utf-8":
        return
    for c in columns:
        if not (df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype)):
            continue
        for idx, v in df[c].items():
            if isinstance(v, str):
                try:
                    v.encode(py_enc)
                except UnicodeEncodeError:
                    raise RiskmapError(f"“{v}”含有 GBK 无法表示的字符，请改用 UTF-8",
                                       f"{v!r} has characters GBK cannot encode; use UTF-8",
                                       where=f"{layer_title} id={idx} {c}") from None
