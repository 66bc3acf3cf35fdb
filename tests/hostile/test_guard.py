"""The spreadsheet guard and the shapefile count check, in-process, at their limits."""

from __future__ import annotations

import pytest
from hostile_files import HEADER, shapefile, write_xlsx, xlsx_table

from riskmap.errors import RiskmapError
from riskmap.io import guard
from riskmap.io.readers import read_source


def test_a_cell_of_exactly_32767_characters_is_read(tmp_path):
    src = read_source(xlsx_table(tmp_path / "ok.xlsx", HEADER, [["甲" * 32_767, "加油站", "105.1", "35.6"]]))
    assert len(src.frame.iloc[0, 0]) == 32_767


def test_one_character_more_is_refused_naming_the_cell(tmp_path):
    path = xlsx_table(tmp_path / "long.xlsx", HEADER, [["a", "b", "c", "d"], ["x", "乙" * 32_768, "1", "2"]])
    with pytest.raises(RiskmapError, match=r"Sheet1!B3 holds 32768 characters") as e:
        read_source(path)
    assert e.value.where == "long.xlsx"


def test_an_unused_long_shared_string_does_no_harm(tmp_path):
    path = write_xlsx(tmp_path / "unused.xlsx", HEADER + ["x" * 40_000], [[0, 1, 2, 3]])
    assert read_source(path).columns == HEADER


def test_sheet_area_limit(tmp_path, monkeypatch):
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    sheet = (f'<?xml version="1.0"?><worksheet {ns}><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
             '<row r="100"><c r="J100" t="s"><v>0</v></c></row></sheetData></worksheet>')
    path = write_xlsx(tmp_path / "far.xlsx", ["名称"], [], sheet_xml=sheet)
    monkeypatch.setattr(guard, "MAX_AREA", 1_000)
    guard.check_spreadsheet(path)  # 100 × 10 = 1,000 cells: at the limit
    monkeypatch.setattr(guard, "MAX_AREA", 999)
    with pytest.raises(RiskmapError, match="100 rows × 10 columns"):
        guard.check_spreadsheet(path)


def test_zip_member_limits():
    guard.check_zip_members([("a.xml", 1_000, 90_000), ("b.xml", 10, 1_000_000)], "x.xlsx")  # small: any ratio
    with pytest.raises(RiskmapError, match="compressed 200:1"):
        guard.check_zip_members([("a.xml", 10_000, 2_000_000)], "x.xlsx")
    with pytest.raises(RiskmapError, match="unpacks to"):
        guard.check_zip_members([("a.xml", 200 << 20, 300 << 20)], "x.xlsx")


def test_a_member_that_lies_about_its_size_is_caught(tmp_path):
    path = xlsx_table(tmp_path / "lie.xlsx", HEADER, [["甲", "加油站", "105.1", "35.6"]])
    data = bytearray(path.read_bytes())
    name = b"xl/sharedStrings.xml"
    # the central directory's uncompressed size of the shared strings, set to 10 bytes
    at = data.rindex(b"PK\x01\x02", 0, data.rindex(name))
    data[at + 24:at + 28] = (10).to_bytes(4, "little")
    local = data.index(b"PK\x03\x04" + bytes(data[at + 6:at + 8]), 0)
    while data[local + 30:local + 30 + len(name)] != name:
        local = data.index(b"PK\x03\x04", local + 4)
    data[local + 22:local + 26] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(RiskmapError, match="damaged"):
        guard.check_spreadsheet(path)


def test_matching_shapefile_counts_pass_and_a_missing_shx_is_counted_from_the_shp(tmp_path):
    shp = shapefile(tmp_path / "ok.shp", 3, 3)
    assert len(read_source(shp)) == 3
    bad = shapefile(tmp_path / "bad.shp", 4, 3)
    bad.with_suffix(".shx").unlink()
    with pytest.raises(RiskmapError, match="4 shapes but bad.dbf holds 3"):
        read_source(bad)


def test_a_truncated_dbf_is_refused(tmp_path):
    shp = shapefile(tmp_path / "cut.shp", 3, 3)
    dbf = shp.with_suffix(".dbf")
    dbf.write_bytes(dbf.read_bytes()[:-30])
    with pytest.raises(RiskmapError, match="says 3 rows, the file holds 1"):
        read_source(shp)
