"""``riskmap grade``: one JSON object per case, worked by hand from the standards; bad input → one line, exit 2."""

import io
import json
import subprocess
import sys

import pytest

from riskmap.cli import main

KEYS = {"level", "level_name", "colour", "score", "explanation"}
RED, ORANGE, YELLOW, BLUE = "#FF0000", "#FF8C00", "#FFE600", "#0070FF"


def run_main(capsys, monkeypatch, method, inputs):
    monkeypatch.setattr(sys, "stdin", io.StringIO(inputs if isinstance(inputs, str) else json.dumps(inputs)))
    code = main(["grade", "--method", method, "--json", "-"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("method,inputs,level,colour,score", [
    # LEC: D = L × E × C; ≥320 红, [160, 320) 橙, [70, 160) 黄, < 70 蓝
    ("lec", {"L": 10, "E": 6, "C": 15}, 1, RED, 900),
    ("lec", {"L": 6, "E": 6, "C": 7}, 2, ORANGE, 252),
    ("lec", {"L": 1, "E": 6, "C": 15}, 3, YELLOW, 90),
    ("lec", {"L": 3, "E": 3, "C": 7}, 4, BLUE, 63),
    # LS: R = L × S; 20–25 红, 9–16 橙, 4–8 黄, 1–3 蓝
    ("ls", {"L": 4, "S": 5}, 1, RED, 20),
    ("ls", {"L": 3, "S": 3}, 2, ORANGE, 9),
    ("ls", {"L": 2, "S": 4}, 3, YELLOW, 8),
    ("ls", {"L": 1, "S": 3}, 4, BLUE, 3),
    # GB 18218: R = α Σ β q / Q.  Cl₂ (Q 5 t, β 4) 10 t + NH₃ (Q 10 t, β 2) 30 t, 40 people (α 1.2):
    # 1.2 × (4 × 2 + 2 × 3) = 16.8 → 三级 → 黄
    ("gb18218", {"people_within_500m": 40, "substances": [{"name": "氯", "quantity_t": 10},
                                                           {"name": "氨", "quantity_t": 30}]}, 3, YELLOW, 16.8),
    # HCN (Q 1 t, β 10) 12 t, nobody within 500 m (α 0.5): 0.5 × 10 × 12 = 60 → 二级 → 橙
    ("gb18218", {"people_within_500m": 0, "substances": [{"name": "氰化氢", "quantity_t": 12}]}, 2, ORANGE, 60),
    # a substance not in the table with its own Q and β, 100 people (α 2): 2 × 1.5 × 20/10 = 6 → 四级 → 蓝
    ("gb18218", {"people_within_500m": 100, "substances": [{"name": "示例物质X", "quantity_t": 20, "Q_t": 10,
                                                            "beta": 1.5}]}, 4, BLUE, 6),
    # chemical park: < 60 A 红, [60, 70) B 橙, [70, 85) C 黄, ≥ 85 D 蓝
    ("park", {"score": 59.9}, 1, RED, 59.9),
    ("park", {"score": 60}, 2, ORANGE, 60),
    ("park", {"score": 84.99}, 3, YELLOW, 84.99),
    ("park", {"score": 85}, 4, BLUE, 85),
])
def test_cases_by_hand(capsys, monkeypatch, method, inputs, level, colour, score):
    code, out, err = run_main(capsys, monkeypatch, method, inputs)
    assert code == 0 and err == ""
    assert out.count("\n") == 1  # one JSON object on one line
    result = json.loads(out)
    assert KEYS <= set(result)
    assert (result["level"], result["colour"]) == (level, colour)
    assert result["score"] == pytest.approx(score)
    assert result["level_name"] == {1: "重大风险", 2: "较大风险", 3: "一般风险", 4: "低风险"}[level]
    assert result["explanation"]


@pytest.mark.parametrize("method,inputs,field", [
    ("lec", {"L": 3, "E": 6}, "C"),                       # missing field
    ("lec", {"L": 4, "E": 6, "C": 7}, "L"),               # L outside the table
    ("ls", {"L": 6, "S": 1}, "L"),
    ("gb18218", {"people_within_500m": 10, "substances": [{"name": "氨", "quantity_t": -5}]}, "quantity_t"),
    ("gb18218", {"people_within_500m": 10, "substances": [{"name": "不存在的物质", "quantity_t": 5}]}, "不存在的物质"),
    ("gb18218", {"substances": [{"name": "氨", "quantity_t": 5}]}, "people_within_500m"),
    ("park", {"score": "高"}, "score"),
    ("lec", "{\"L\": 3,", "JSON"),                        # not JSON
    ("lec", "[3, 6, 7]", "JSON"),                         # not an object
])
def test_bad_input_one_line_exit_2(capsys, monkeypatch, method, inputs, field):
    code, out, err = run_main(capsys, monkeypatch, method, inputs)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("riskmap: ")
    assert field in err
    assert "Traceback" not in err


def test_real_command_line_with_file_and_stdin(tmp_path):
    case = tmp_path / "case.json"
    case.write_text(json.dumps({"L": 3, "E": 6, "C": 15}), encoding="utf-8")
    cmd = [sys.executable, "-m", "riskmap.cli", "grade", "--method", "lec", "--json"]
    r = subprocess.run(cmd + [str(case)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["level"], out["score"], out["level_name"]) == (2, 270, "较大风险")  # 3 × 6 × 15 = 270
    r = subprocess.run(cmd + ["-"], input='{"L": 0.5, "E": 1, "C": 1}', capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout)["level"] == 4  # D = 0.5
    r = subprocess.run(cmd + [str(tmp_path / "missing.json")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stdout == "" and "missing.json" in r.stderr and r.stderr.count("\n") == 1
    r = subprocess.run([sys.executable, "-m", "riskmap.cli", "grade", "--method", "dow", "--json", "-"],
                       input="{}", capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "dow" in r.stderr
