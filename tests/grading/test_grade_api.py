"""grade() dispatch, GradeResult.to_json, the data files, doctests, and no Qt in the core."""

import doctest
import importlib
import json
import subprocess
import sys

import pytest

from riskmap.errors import RiskmapError
from riskmap.grading import METHODS, GradeResult, clear_caches, gb18218, grade, lec, ls, park
from riskmap.grading import direct
from riskmap.paths import STANDARDS_DIR

MODULES = ["riskmap.levels", "riskmap.grading", "riskmap.grading._common", "riskmap.grading.lec",
           "riskmap.grading.ls", "riskmap.grading.gb18218", "riskmap.grading.park", "riskmap.grading.manual",
           "riskmap.grading.direct"]

SAMPLES = {
    "lec": {"L": 3, "E": 6, "C": 15},
    "ls": {"L": 3, "S": 3},
    "gb18218": {"people_within_500m": 120, "substances": [{"name": "液氨", "quantity_t": 20}]},
    "park": {"score": 72},
    "manual": {"level": 1, "reason": "x", "assessor": "y"},
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_to_json_shape(method):
    r = grade(method, SAMPLES[method])
    assert isinstance(r, GradeResult)
    j = r.to_json()
    assert set(j) == {"method", "level", "level_name", "colour", "score", "explanation", "details"}
    assert j["method"] == method and j["level"] in (1, 2, 3, 4)
    assert j["colour"].startswith("#") and len(j["colour"]) == 7
    json.dumps(j, ensure_ascii=False)  # JSON-ready


def test_method_names():
    assert grade(" LEC ", SAMPLES["lec"]).method == "lec"
    assert grade("GB-18218", SAMPLES["gb18218"]).method == "gb18218"
    with pytest.raises(RiskmapError) as err:
        grade("fmea", {})
    assert err.value.where == "method" and "lec" in str(err.value)


def test_result_is_immutable():
    r = grade("lec", SAMPLES["lec"])
    with pytest.raises(AttributeError):
        r.level = 1


@pytest.mark.parametrize("name", ["levels.toml", "lec.toml", "ls_matrix.toml", "gb18218.toml", "park.toml",
                                  "direct_rules.toml"])
def test_every_file_has_a_source(name):
    import tomllib
    data = tomllib.loads((STANDARDS_DIR / name).read_text(encoding="utf-8"))
    assert data["source"]["standard"] and data["source"]["note"]


def test_bundled_files_load():
    for load in (lec.load, ls.load, gb18218.load, park.load, direct.load):
        load()


@pytest.mark.parametrize("loader, name, old, new, key", [
    (lec.load, "lec.toml", "[[bands]]", "[[bandz]]", "lec.toml:bands"),
    (lec.load, "lec.toml", "value = 0.5\nzh = \"很不可能", "value = -0.5\nzh = \"很不可能", "lec.toml:L[4].value"),
    (lec.load, "lec.toml", "min = 160", "min = 400", "lec.toml:bands[1].min"),
    (ls.load, "ls_matrix.toml", "level = 2", "level = \"紫\"", "ls_matrix.toml:bands[1].level"),
    (park.load, "park.toml", "[source]", "[sauce]", "park.toml:source"),
    (gb18218.load, "gb18218.toml", 'hazard_class = "W2"', 'hazard_class = "W99"', "gb18218.toml:substance[13].hazard_class"),
])
def test_bad_data_file_names_path_and_key(edited_standard, loader, name, old, new, key):
    with pytest.raises(RiskmapError) as err:
        loader(edited_standard(name, old, new, count=-1))
    assert err.value.where.endswith(key)


def test_toml_syntax_error_names_file(tmp_path):
    p = tmp_path / "lec.toml"
    p.write_text("[source\n", encoding="utf-8")
    with pytest.raises(RiskmapError) as err:
        lec.load(p)
    assert str(p) in str(err.value)


def test_edited_file_is_reloaded(tmp_path):
    p = tmp_path / "park.toml"
    p.write_text((STANDARDS_DIR / "park.toml").read_text(encoding="utf-8"), encoding="utf-8")
    assert grade("park", {"score": 86}, standard=p).level == 4
    import os
    p.write_text(p.read_text(encoding="utf-8").replace("min = 85", "min = 90"), encoding="utf-8")
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10_000_000))
    assert grade("park", {"score": 86}, standard=p).level == 3
    clear_caches()


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0 and result.attempted > 0


def test_core_does_not_import_qt():
    code = ("import sys, riskmap.levels, riskmap.grading; "
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'shiboken'))]")
    subprocess.run([sys.executable, "-c", code], check=True)
