"""Hostile files through ``riskmap import PROJECT FILE --layer enterprises`` in a child process each:
exit 2, one line on stderr, no traceback, the project byte-for-byte unchanged."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from hostile_cli import riskmap, sha256
from hostile_files import CASES, make_case

# what each refusal must say (Chinese or English part of the one line)
SAYS = {
    "empty.csv": "空", "empty.xlsx": "ZIP", "empty.geojson": "GeoJSON", "truncated.xlsx": "ZIP",
    "truncated.geojson": "GeoJSON", "garbage.xlsx": "damaged", "garbage.shp": "damaged", "nul.csv": "NUL",
    "mixed.csv": "GBK", "lat91.csv": "1 rows have errors", "lat91.geojson": "1 rows have errors", "1e308.csv": "errors", "nan.geojson": "1 rows have errors",
    "folder.csv": "folder", "shp5_dbf2.shp": "5 shapes but shp5_dbf2.dbf holds 2",
    "shp5_dbf9.shp": "5 shapes but shp5_dbf9.dbf holds 9", "bomb.xlsx": "ZIP bomb",
    "longcell.xlsx": "cell Sheet1!A2 holds 32768 characters", "manycells.xlsx": "characters of text",
    "farcells.xlsx": "1048576 rows × 16384 columns", "xxe.xlsx": "document type declaration",
    "laughs.xlsx": "document type declaration", "xxe.kml": "kml", "laughs.kml": "kml", "laughs.kmz": "kml",
    "bomb.kmz": "ZIP bomb",
}


@pytest.fixture(scope="module")
def outcomes(hostile_project, tmp_path_factory):
    """Every case run once, three at a time, each on its own copy of the project: name → (result, same)."""
    folder = tmp_path_factory.mktemp("cases")

    def run(name):
        work = folder / name.replace(".", "_")
        work.mkdir()
        project = shutil.copy(hostile_project, work / "project.gpkg")
        before = sha256(project)
        result = riskmap("import", project, make_case(name, work), "--layer", "enterprises")
        return name, (result, sha256(project) == before)

    with ThreadPoolExecutor(3) as pool:
        return dict(pool.map(run, CASES))


def test_every_case_has_its_words():
    assert set(SAYS) == set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_hostile_file_is_refused_in_one_line(outcomes, name):
    result, same = outcomes[name]
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "panicked" not in err, err
    assert result.returncode == 2, (result.returncode, err[-2000:])
    assert err.count("\n") == 1 and err.startswith("riskmap: "), err
    assert SAYS[name] in err, err
    assert same, "the project file changed"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod-000 file anyway (tests run as root here)")
def test_unreadable_file(hostile_project, tmp_path):
    project = shutil.copy(hostile_project, tmp_path / "project.gpkg")
    path = tmp_path / "locked.csv"
    path.write_text("名称,行业,经度,纬度\n甲,加油站,105.1,35.6\n", encoding="utf-8")
    path.chmod(0)
    before = sha256(project)
    result = riskmap("import", project, path, "--layer", "enterprises")
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert sha256(project) == before
