"""Direct entry of a level by an assessor, with a written reason.

>>> r = grade({"level": "较大", "reason": "现场复核", "assessor": "张三"})
>>> r.level, r.colour
(2, '#FF8C00')
"""

from __future__ import annotations

from riskmap.grading._common import GradeResult, as_text, check_inputs, make_result, need
from riskmap.levels import label_zh, parse_level

METHOD = "manual"


def grade(inputs: dict, standard=None) -> GradeResult:
    """Grade ``{"level", "reason", "assessor"}``; ``level`` in any spelling :func:`parse_level` accepts."""
    inputs = check_inputs(inputs, METHOD)
    level = parse_level(need(inputs, "level"), where="level")
    reason = as_text(need(inputs, "reason"), "reason")
    assessor = as_text(need(inputs, "assessor"), "assessor")
    explanation = f"评估人 {assessor} 直接认定为{label_zh(level)}；理由：{reason}"
    details = {"entered_level": inputs["level"], "reason": reason, "assessor": assessor}
    return make_result(METHOD, level, None, explanation, details)
