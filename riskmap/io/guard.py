"""Look at a zipped spreadsheet before a parser does: refuse bombs in seconds, within bounded memory.

An XLSX of 18 KB can hold one 8-million-character shared string used by 500 cells; python-calamine then
copies it into every cell (gigabytes), and two cells at A1 and XFD1048576 make it allocate the whole
sheet (an abort, not an exception). So, before calamine opens the file:

* every ZIP member's declared size and compression ratio is checked (ratios as Apache POI's ZipSecureFile);
* the shared strings, sheets (XLSX) and ``content.xml`` (ODS) are streamed through expat, counting
  characters without keeping them: no cell over Excel's own limit of 32,767 characters, no document type
  declarations (XXE, billion laughs), a bounded number of text characters and a bounded sheet area.

Reading through :mod:`zipfile` also checks each member's CRC and declared size, so a member that lies about
its size is caught here, not in the parser.

"""

from __future__ import annotations

import re
import zipfile
from array import array
from pathlib import Path
from xml.parsers import expat

from riskmap.errors import RiskmapError

MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
MAX_TEXT_CHARS = 50_000_000  # all text cells of a workbook together
MAX_AREA = 5_000_000  # cells of the rectangle a sheet spans (the reader allocates all of it)
MAX_ROWS, MAX_COLS = 1_048_576, 16_384  # Excel's sheet size
MAX_MEMBER_BYTES = 256 << 20  # one member, uncompressed
MAX_TOTAL_BYTES = 1 << 30  # all members, uncompressed
MAX_MEMBERS = 10_000
MAX_RATIO = 100  # uncompressed / compressed, checked above RATIO_GRACE bytes (Apache POI: 0.01)
RATIO_GRACE = 1 << 20
CHUNK = 1 << 20

ZIPPED_SHEETS = {".xlsx", ".xlsm", ".ods"}
_REF = re.compile(r"([A-Za-z]{0,3})(\d*)$")


def _err(where: str, zh: str, en: str) -> RiskmapError:
    return RiskmapError(zh, en, where=where)


def check_zip_members(infos, where: str) -> None:
    """Refuse a ZIP whose members (name, compressed, uncompressed sizes) are too many, too big or too
    compressed to be an honest file."""
    infos = list(infos)
    if len(infos) > MAX_MEMBERS:
        raise _err(where, f"压缩包内有 {len(infos)} 个文件，超过上限 {MAX_MEMBERS}",
                   f"the archive holds {len(infos)} members, over the limit of {MAX_MEMBERS}")
    total = 0
    for name, packed, size in infos:
        if size > MAX_MEMBER_BYTES:
            raise _err(where, f"文件中的 {name} 解压后 {size} 字节，超过上限 {MAX_MEMBER_BYTES} 字节，可能是压缩炸弹",
                       f"member {name} unpacks to {size} bytes, over the limit of {MAX_MEMBER_BYTES}: "
                       "a ZIP bomb?")
        if size > RATIO_GRACE and size > MAX_RATIO * max(packed, 1):
            raise _err(where, f"文件中的 {name} 压缩比 {size // max(packed, 1)}:1 异常，可能是压缩炸弹",
                       f"member {name} is compressed {size // max(packed, 1)}:1, far beyond any honest "
                       "file: a ZIP bomb?")
        total += size
    if total > MAX_TOTAL_BYTES:
        raise _err(where, f"压缩包解压后共 {total} 字节，超过上限 {MAX_TOTAL_BYTES} 字节",
                   f"the archive unpacks to {total} bytes, over the limit of {MAX_TOTAL_BYTES}")


def open_zip(path: Path) -> zipfile.ZipFile:
    """``path`` as a ZipFile whose members passed :func:`check_zip_members`."""
    where = path.name
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _err(where, f"文件已损坏，不是完整的 ZIP/XLSX（{exc}）",
                   f"damaged file: not a complete ZIP/XLSX ({exc})") from None
    try:
        check_zip_members(((i.filename, i.compress_size, i.file_size) for i in zf.infolist()), where)
    except RiskmapError:
        zf.close()
        raise
    return zf


def check_spreadsheet(path: Path) -> None:
    """Refuse an XLSX/XLSM/ODS that would exhaust the reader; other files pass untouched."""
    suffix = path.suffix.lower()
    if suffix not in ZIPPED_SHEETS:
        return
    with open_zip(path) as zf:
        try:
            if suffix == ".ods":
                _check_ods(zf, path.name)
            else:
                _check_xlsx(zf, path.name)
        except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise _err(path.name, f"文件已损坏（{exc}）", f"damaged file ({exc})") from None


# ------------------------------------------------------------------------------- streaming expat


def _parse(zf: zipfile.ZipFile, name: str, where: str, start=None, end=None, text=None) -> None:
    """Stream member ``name`` through expat (namespaces split off); a DTD is refused."""
    p = expat.ParserCreate(namespace_separator="}")
    p.buffer_text = True

    def no_dtd(*_a):
        raise _err(where, f"{name} 含有文档类型声明（DTD），拒绝读取（可能是 XXE 或实体膨胀攻击）",
                   f"{name} has a document type declaration: refused (XXE or entity expansion?)")

    p.StartDoctypeDeclHandler = no_dtd
    p.EntityDeclHandler = no_dtd
    if start:
        p.StartElementHandler = start
    if end:
        p.EndElementHandler = end
    if text:
        p.CharacterDataHandler = text
    with zf.open(name) as fh:
        head = fh.read(4)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head:
            raise _err(where, f"{name} 不是 UTF-8 编码的 XML", f"{name} is not UTF-8 XML")
        try:
            p.Parse(head, False)
            while chunk := fh.read(CHUNK):
                p.Parse(chunk, False)
            p.Parse(b"", True)
        except expat.ExpatError as exc:
            raise _err(where, f"{name} 不是完整的 XML（{expat.errors.messages[exc.code]}，第 {exc.lineno} 行）",
                       f"{name} is not well-formed XML ({expat.errors.messages[exc.code]}, line {exc.lineno})") \
                from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def column_letter(i: int) -> str:
    """Excel's letters of 0-based column ``i``: 0 → A, 27 → AB."""
    s, i = "", i + 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(sheet: str, row: int, col: int) -> str:
    return f"{sheet}!{column_letter(col)}{row + 1}"


class _Extent:
    """Rows and columns a sheet's non-empty cells span, and the text characters read."""

    def __init__(self, where: str, sheet: str):
        self.where, self.sheet = where, sheet
        self.r0 = self.c0 = None
        self.r1 = self.c1 = -1

    def add(self, row: int, col: int, rows: int = 1, cols: int = 1) -> None:
        if row + rows > MAX_ROWS or col + cols > MAX_COLS:
            raise _err(self.where, f"工作表“{self.sheet}”的单元格超出 Excel 的范围（{_cell(self.sheet, row, col)}）",
                       f"sheet {self.sheet!r} has a cell beyond Excel's sheet size ({_cell(self.sheet, row, col)})")
        if self.r0 is None:
            self.r0, self.c0 = row, col
        else:
            if row < self.r0:
                self.r0 = row
            if col < self.c0:
                self.c0 = col
        if row + rows - 1 > self.r1:
            self.r1 = row + rows - 1
        if col + cols - 1 > self.c1:
            self.c1 = col + cols - 1

    def check(self) -> None:
        if self.r0 is None:
            return
        h, w = self.r1 - self.r0 + 1, self.c1 - self.c0 + 1
        if h * w > MAX_AREA:
            raise _err(self.where,
                       f"工作表“{self.sheet}”的数据范围 {h} 行 × {w} 列（{_cell(self.sheet, self.r0, self.c0)}:"
                       f"{_cell(self.sheet, self.r1, self.c1)}）超过上限 {MAX_AREA} 个单元格",
                       f"sheet {self.sheet!r} spans {h} rows × {w} columns, over the limit of {MAX_AREA} cells")


class _Text:
    """The running total of text characters, and the one-cell limit."""

    def __init__(self, where: str):
        self.where, self.total = where, 0

    def add_at(self, n: int, sheet: str, row: int, col: int) -> None:
        """:meth:`add` for one cell, named only when a limit is passed."""
        self.total += n
        if n > MAX_CELL_CHARS or self.total > MAX_TEXT_CHARS:
            self.total -= n
            self.add(n, _cell(sheet, row, col))

    def add(self, n: int, cell: str, times: int = 1) -> None:
        if n > MAX_CELL_CHARS:
            raise _err(self.where, f"单元格 {cell} 有 {n} 个字符，超过 Excel 的上限 {MAX_CELL_CHARS}",
                       f"cell {cell} holds {n} characters, over Excel's limit of {MAX_CELL_CHARS}")
        self.total += n * times
        if self.total > MAX_TEXT_CHARS:
            raise _err(self.where, f"表格中的文字超过 {MAX_TEXT_CHARS} 个字符（到单元格 {cell} 为止），拒绝读取",
                       f"the spreadsheet holds over {MAX_TEXT_CHARS} characters of text (by cell {cell}): refused")


# ------------------------------------------------------------------------------- XLSX


def _attrs(pairs: dict) -> dict:
    return {_local(k): v for k, v in pairs.items()}


def _xlsx_sheets(zf: zipfile.ZipFile, where: str) -> list[tuple[str, str]]:
    """(sheet name, member) for every worksheet; members without a name keep their file name."""
    names = set(zf.namelist())
    rels, sheets = {}, []

    def rel(tag, a):
        if _local(tag) == "Relationship":
            a = _attrs(a)
            target = a.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            rels[a.get("Id")] = re.sub(r"[^/]+/\.\./", "", target)

    def sheet(tag, a):
        if _local(tag) == "sheet":
            a = _attrs(a)
            sheets.append((a.get("name", "?"), a.get("id")))

    if "xl/_rels/workbook.xml.rels" in names and "xl/workbook.xml" in names:
        _parse(zf, "xl/_rels/workbook.xml.rels", where, start=rel)
        _parse(zf, "xl/workbook.xml", where, start=sheet)
    out = [(n, rels[i]) for n, i in sheets if rels.get(i) in names]
    known = {m for _n, m in out}
    out += [(Path(m).stem, m) for m in sorted(names)
            if m.startswith("xl/worksheets/") and m.endswith(".xml") and m not in known]
    return out


def _shared_lengths(zf: zipfile.ZipFile, where: str) -> array:
    """The length in characters of every shared string (rich-text runs added up)."""
    lengths = array("q")
    names = set(zf.namelist())
    member = next((m for m in ("xl/sharedStrings.xml", "xl/sharedstrings.xml") if m in names), None)
    if member is None:
        return lengths
    state = {"in_t": 0}

    def start(tag, _a):
        t = _local(tag)
        if t == "si":
            lengths.append(0)
        elif t == "t" and lengths:
            state["in_t"] += 1

    def end(tag):
        if _local(tag) == "t" and state["in_t"]:
            state["in_t"] -= 1

    def text(data):
        if state["in_t"]:
            lengths[-1] += len(data)

    _parse(zf, member, where, start, end, text)
    return lengths


def _check_xlsx(zf: zipfile.ZipFile, where: str) -> None:
    lengths = _shared_lengths(zf, where)
    n_shared = len(lengths)
    total = _Text(where)
    names: dict[str, str] = {}  # element tag → local name (a sheet has a handful of tags, met ~20 times per cell)

    def local(tag):
        t = names.get(tag)
        if t is None:
            t = names[tag] = _local(tag)
        return t

    for sheet, member in _xlsx_sheets(zf, where):
        ext = _Extent(where, sheet)
        st = {"row": -1, "col": -1, "t": None, "in_v": False, "v": [], "n": 0, "inline": 0, "in_is": False,
              "value": False}

        def start(tag, a, st=st):
            t = local(tag)
            if t == "c":
                for k in a:
                    if "}" in k:  # namespaced attribute names: strip them (cells normally have none)
                        a = _attrs(a)
                        break
                m = _REF.match(a.get("r", ""))
                letters, digits = m.groups() if m else ("", "")
                if letters:
                    col = 0
                    for ch in letters.upper():
                        col = col * 26 + ord(ch) - 64
                    st["col"] = col - 1
                else:
                    st["col"] += 1
                if digits:
                    st["row"] = int(digits) - 1
                st["t"] = a.get("t")
                st["v"] = []
                st["n"] = st["inline"] = 0
                st["value"] = False
            elif t == "row":
                r = _attrs(a).get("r")
                st["row"] = int(r) - 1 if r and r.isdigit() else st["row"] + 1
                st["col"] = -1
            elif t == "v":
                st["in_v"] = st["value"] = True
            elif t == "is":
                st["in_is"] = st["value"] = True

        def end(tag, st=st, ext=ext):
            t = local(tag)
            if t == "v":
                st["in_v"] = False
            elif t == "is":
                st["in_is"] = False
            elif t == "c" and st["value"]:
                row, col = st["row"], st["col"]
                row, col = (row if row > 0 else 0), (col if col > 0 else 0)
                ext.add(row, col)
                if st["t"] == "s":
                    k = "".join(st["v"]).strip()
                    if k.isdigit() and int(k) < n_shared:
                        total.add_at(lengths[int(k)], sheet, row, col)
                else:
                    total.add_at(st["n"] + st["inline"], sheet, row, col)

        def text(data, st=st):
            if st["in_v"]:
                if st["t"] == "s":
                    if len(st["v"]) < 4:
                        st["v"].append(data[:20])
                else:
                    st["n"] += len(data)
            elif st["in_is"]:
                st["inline"] += len(data)

        _parse(zf, member, where, start, end, text)
        ext.check()


# ------------------------------------------------------------------------------- ODS


def _check_ods(zf: zipfile.ZipFile, where: str) -> None:
    if "content.xml" not in zf.namelist():
        return
    total = _Text(where)
    st = {"sheet": "?", "ext": None, "row": 0, "next": 0, "col": 0, "rrep": 1, "crep": 1, "n": 0,
          "value": False, "in_cell": False}

    def rep(a, key):
        v = a.get(key, "1")
        return int(v) if v.isdigit() and 0 < len(v) < 9 else MAX_ROWS + 1

    def start(tag, a):
        t = _local(tag)
        if t == "table":
            if st["ext"] is not None:
                st["ext"].check()
            st.update(sheet=_attrs(a).get("name", "?"), row=0, next=0)
            st["ext"] = _Extent(where, st["sheet"])
        elif t == "table-row":
            st.update(row=st["next"], col=0, rrep=rep(_attrs(a), "number-rows-repeated"))
            st["next"] += st["rrep"]
        elif t in ("table-cell", "covered-table-cell"):
            a = _attrs(a)
            st.update(crep=rep(a, "number-columns-repeated"), n=0, in_cell=True,
                      value="value-type" in a)
        elif st["in_cell"] and t in ("p", "h"):
            st["value"] = True

    def end(tag):
        t = _local(tag)
        if t in ("table-cell", "covered-table-cell"):
            row, col = st["row"], st["col"]
            if st["value"] and st["ext"] is not None:
                st["ext"].add(row, col, min(st["rrep"], MAX_ROWS + 1), min(st["crep"], MAX_COLS + 1))
                total.add(st["n"], _cell(st["sheet"], row, col), st["rrep"] * st["crep"])
            st["col"] += st["crep"]
            st.update(in_cell=False, value=False, crep=1)
        elif t == "table" and st["ext"] is not None:
            st["ext"].check()
            st["ext"] = None

    def text(data):
        if st["in_cell"]:
            st["n"] += len(data)

    _parse(zf, "content.xml", where, start, end, text)
