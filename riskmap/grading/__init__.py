"""Grading methods: each turns documented inputs into a level 1–4 with name, colour, score and reasons.

>>> grade("lec", {"L": 3, "E": 6, "C": 15}).to_json()["level_name"]
'较大风险'
>>> sorted(METHODS)
['gb18218', 'lec', 'ls', 'manual', 'park']
"""

from __future__ import annotations

from riskmap.errors import RiskmapError
from riskmap.grading import gb18218, lec, ls, manual, park
from riskmap.grading._common import GradeResult
from riskmap.grading.direct import FiredRule, apply_direct_rules, evaluate_direct_rules

__all__ = ["GradeResult", "FiredRule", "METHODS", "grade", "evaluate_direct_rules", "apply_direct_rules",
           "clear_caches"]

METHODS = {"lec": lec.grade, "ls": ls.grade, "gb18218": gb18218.grade, "park": park.grade,
           "manual": manual.grade}
_ALIASES = {"gb 18218": "gb18218", "gb-18218": "gb18218", "gb_18218": "gb18218", "lsmatrix": "ls",
            "ls_matrix": "ls", "matrix": "ls", "risk_matrix": "ls"}


def grade(method: str, inputs: dict, standard=None) -> GradeResult:
    """Grade ``inputs`` by ``method`` (lec, ls, gb18218, park, manual). ``standard``: a path to another
    data file, a loaded standard, or ``None`` for the bundled one in ``resources/standards/``."""
    key = method.strip().casefold() if isinstance(method, str) else method
    key = _ALIASES.get(key, key)
    if key not in METHODS:
        raise RiskmapError(f"未知的分级方法 {method!r}，可选：{', '.join(METHODS)}",
                           f"unknown grading method {method!r}; use one of {', '.join(METHODS)}", where="method")
    return METHODS[key](inputs, standard)


def clear_caches() -> None:
    """Forget the cached standards files (they also reload by themselves when a file changes)."""
    from riskmap.grading import direct
    from riskmap.levels import _load_levels_cached
    for mod in (lec, ls, gb18218, park, direct):
        mod.load.cache_clear()
    _load_levels_cached.cache_clear()
