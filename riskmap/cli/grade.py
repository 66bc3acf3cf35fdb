"""``riskmap grade``: grade one case by LEC, LS matrix, GB 18218-2018, chemical-park score or direct entry."""

from __future__ import annotations

import json
import re
import sys

from riskmap.errors import RiskmapError

HELP_INPUTS = ('输入字段 / input fields: lec {"L","E","C"}; ls {"L","S"}; gb18218 {"people_within_500m", '
               '"substances": [{"name","quantity_t"(,"hazard_class","Q_t","beta")}]} — 表1之外的物质按 hazard_class '
               '（表2类别，如 柴油 "W5.4"）取临界量，表3毒性气体的 beta 不可改 / a substance outside Table 1 takes Q from '
               'its hazard_class (a Table 2 class such as "W5.4"), a Table 3 gas keeps its β; park {"score"}; '
               'manual {"level","reason","assessor"}')


def register(sub) -> None:
    from riskmap.grading import METHODS

    p = sub.add_parser("grade", help="按一种方法评定风险等级 / grade one case",
                       description="读取 JSON 输入，输出一个 JSON 对象（level, level_name, colour, score, explanation）/ "
                                   "read JSON inputs, print one JSON object. " + HELP_INPUTS)
    p.add_argument("--method", required=True, choices=sorted(METHODS), help="分级方法 / grading method")
    p.add_argument("--json", required=True, metavar="FILE", dest="json_file",
                   help="输入 JSON 文件，- 表示标准输入 / input JSON file, - for stdin")
    p.set_defaults(func=run)


MAX_INPUT_CHARS = 1_000_000  # one case's inputs are a few hundred characters
MAX_DEPTH = 32
MAX_DIGITS = 30
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')


class _BadNumber(ValueError):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def _small_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        raise _BadNumber(f"{digits} 位的整数过大（上限 {MAX_DIGITS} 位）",
                         f"a {digits}-digit integer is too large (at most {MAX_DIGITS} digits)")
    return int(text)


def _no_constant(name: str):
    raise _BadNumber(f"{name} 不是有效数值", f"{name} is not a valid number")


def _depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (brackets inside strings not counted).

    >>> _depth('{"a": [1, "]]"]}')
    2
    """
    depth = deepest = 0
    for ch in _STRINGS.sub("", text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def read_json(name: str):
    """The JSON document in file ``name`` (``-``: stdin); a bad file is a RiskmapError naming it."""
    where = "stdin" if name == "-" else name
    try:
        text = sys.stdin.read() if name == "-" else open(name, encoding="utf-8").read()
    except FileNotFoundError:
        raise RiskmapError(f"找不到输入文件: {name}", f"input file not found: {name}", where=where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RiskmapError(f"无法读取输入文件: {exc}", f"cannot read the input file: {exc}", where=where) from None
    if len(text) > MAX_INPUT_CHARS:
        raise RiskmapError(f"输入超过 {MAX_INPUT_CHARS} 个字符", f"the input is over {MAX_INPUT_CHARS} characters",
                           where=where)
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise RiskmapError(f"JSON 嵌套 {depth} 层，超过上限 {MAX_DEPTH}", f"JSON nested {depth} deep, over the "
                           f"limit of {MAX_DEPTH}", where=where)
    try:
        return json.loads(text, parse_int=_small_int, parse_constant=_no_constant)
    except _BadNumber as exc:
        raise RiskmapError(exc.zh, exc.en, where=where) from None
    except json.JSONDecodeError as exc:
        raise RiskmapError(f"JSON 格式错误（第{exc.lineno}行第{exc.colno}列）: {exc.msg}",
                           f"invalid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}", where=where) from None


def run(args) -> int:
    from riskmap.grading import grade

    inputs = read_json(args.json_file)
    if not isinstance(inputs, dict):
        raise RiskmapError("输入应为一个 JSON 对象", "the input must be one JSON object",
                           where="stdin" if args.json_file == "-" else args.json_file)
    result = grade(args.method, inputs)
    print(json.dumps(result.to_json(), ensure_ascii=False))
    return 0
