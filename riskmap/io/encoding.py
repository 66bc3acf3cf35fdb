"""Text encodings of bureau files: UTF-8 (with or without BOM) or GBK/GB18030, told apart by strict decoding.

A Chinese text that is not valid UTF-8 is almost always GBK; GB18030 is the superset that decodes every
GBK file, so it is the name used for decoding.

>>> decode_bytes("企业名称".encode("gbk"))
('企业名称', 'GB18030')
>>> decode_bytes(b"\\xef\\xbb\\xbfname")
('name', 'UTF-8-SIG')
"""

from __future__ import annotations

import struct
from pathlib import Path

from riskmap.errors import RiskmapError

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig", "UTF-8-SIG"), (b"\xff\xfe", "utf-16", "UTF-16"),
         (b"\xfe\xff", "utf-16", "UTF-16"))


def guess_encoding(samples) -> str | None:
    """'UTF-8' or 'GB18030' for byte strings that decode strictly in it (UTF-8 tried first);
    None when all samples are plain ASCII (any encoding reads them)."""
    samples = [s for s in samples if s and not s.isascii()]
    if not samples:
        return None
    for codec, name in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        bad = 0
        for s in samples:
            try:
                s.decode(codec)
            except UnicodeDecodeError:
                bad += 1
        if bad == 0:
            return name
    return None


def decode_bytes(data: bytes, where: str = "") -> tuple[str, str]:
    """Decode a whole text file: BOM first, then strict UTF-8, then strict GB18030."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec), name
            except UnicodeDecodeError as exc:
                raise _undecodable(where, exc) from None
    for codec, name in (("utf-8", "UTF-8"), ("gb18030", "GB18030")):
        try:
            return data.decode(codec), name
        except UnicodeDecodeError:
            continue
    try:
        data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _undecodable(where, exc) from None
    raise AssertionError  # pragma: no cover


def _undecodable(where: str, exc: UnicodeDecodeError) -> RiskmapError:
    return RiskmapError(
        f"文件编码无法识别（不是 UTF-8 也不是 GBK），第 {exc.start} 字节附近",
        f"unknown text encoding (neither UTF-8 nor GBK) near byte {exc.start}", where=where)


def dbf_text_samples(dbf: Path, max_records: int = 20000) -> list[bytes]:
    """Field names and text values (type C) of the first records of a dBASE file."""
    with open(dbf, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            return []
        n_records, header_len, record_len = struct.unpack("<IHH", head[4:12])
        descriptors = fh.read(max(header_len - 32, 0))
        fields = []
        offset = 1  # the deletion flag
        names = []
        for i in range(0, len(descriptors) - 31, 32):
            d = descriptors[i:i + 32]
            if d[0] == 0x0D:
                break
            names.append(d[:11].split(b"\x00", 1)[0])
            length = d[16]
            if d[11:12] == b"C":
                fields.append((offset, length))
            offset += length
        fh.seek(header_len)
        body = fh.read(record_len * min(n_records, max_records)) if record_len else b""
    samples = list(names)
    seen = set()
    for start in range(0, len(body) - record_len + 1, record_len or 1):
        rec = body[start:start + record_len]
        for off, length in fields:
            value = rec[off:off + length].rstrip(b" \x00")
            if value and value not in seen:
                seen.add(value)
                samples.append(value)
    return samples


def shapefile_encoding(shp: Path) -> tuple[str | None, str]:
    """The encoding to pass to GDAL for a shapefile, and how it was found.

    A .cpg file is GDAL's own business (returns None); otherwise the .dbf text is decoded strictly.
    """
    shp = Path(shp)
    for suffix in (".cpg", ".CPG"):
        if shp.with_suffix(suffix).exists():
            return None, "cpg"
    dbf = next((shp.with_suffix(s) for s in (".dbf", ".DBF") if shp.with_suffix(s).exists()), None)
    if dbf is None:
        return None, "no-dbf"
    enc = guess_encoding(dbf_text_samples(dbf))
    return enc, "detected" if enc else "ascii"
