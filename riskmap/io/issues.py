"""The validation report of an import: one line per problem (file, row, field, value, reason).

>>> r = Report("a.xlsx")
>>> r.add(5, "level", "紫", "无法识别的风险等级", "unrecognised risk level")
>>> r.error_rows(), r.lines()[0]
({5}, 'a.xlsx 第5行 level="紫": 错误 无法识别的风险等级 / unrecognised risk level')
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from riskmap.atomic import write_csv
from riskmap.scalars import plain_scalar

SEVERITIES = ("error", "repaired", "warning", "info")
SEVERITY_ZH = {"error": "错误", "repaired": "已修复", "warning": "警告", "info": "说明"}


@dataclass(frozen=True)
class Issue:
    """One finding. ``row`` is the row as the user sees it in the source (Excel row, CSV line,
    feature number from 1), None for the whole file; ``field`` the target field or source column."""

    row: int | str | None
    field: str
    value: object
    zh: str
    en: str
    severity: str = "error"
    file: str = ""

    def text(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" 第{self.row}行" if isinstance(self.row, int) else f" {self.row}"
        if self.field:
            where += f" {self.field}"
            if not _blank(self.value):
                where += f"={_show(self.value)}"
        return f"{where.strip()}: {SEVERITY_ZH[self.severity]} {self.zh} / {self.en}"


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def _show(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if len(text) > 40:
        text = text[:37] + "…"
    return f'"{text}"'


@dataclass
class Report:
    """All issues of one import, in the order found."""

    file: str
    issues: list[Issue] = field(default_factory=list)

    def add(self, row, field_name: str, value, zh: str, en: str, severity: str = "error") -> None:
        if severity not in SEVERITIES:
            raise ValueError(severity)
        self.issues.append(Issue(row, field_name, value, zh, en, severity, self.file))

    def add_rows(self, rows, field_name: str, values, zh: str, en: str, severity: str = "error") -> None:
        """The same finding for many rows (``rows`` and ``values`` of equal length)."""
        for r, v in zip(rows, values):
            self.issues.append(Issue(plain_scalar(r), field_name, plain_scalar(v), zh, en, severity, self.file))

    def note(self, zh: str, en: str, severity: str = "info") -> None:
        self.add(None, "", None, zh, en, severity)

    def of(self, severity: str) -> list[Issue]:
        return [i for i in self.issues if i.severity == severity]

    @property
    def errors(self) -> list[Issue]:
        return self.of("error")

    def error_rows(self) -> set:
        return {i.row for i in self.issues if i.severity == "error" and i.row is not None}

    def file_errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error" and i.row is None]

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for i in self.issues:
            out[i.severity] += 1
        return out

    def sorted(self) -> list[Issue]:
        """File-level notes first, then by row (the order of the source)."""
        def key(i: Issue):
            if i.row is None:
                return (0, 0, "")
            return (1, i.row, "") if isinstance(i.row, int) else (1, 0, str(i.row))
        return sorted(self.issues, key=key)

    def lines(self, limit: int | None = None) -> list[str]:
        items = self.sorted()
        out = [i.text() for i in (items if limit is None else items[:limit])]
        if limit is not None and len(items) > limit:
            out.append(f"……另有 {len(items) - limit} 条 / {len(items) - limit} more")
        return out

    def write_csv(self, path) -> None:
        """The report as a CSV (UTF-8 with BOM so that Excel shows the Chinese; cells never start a formula)."""
        write_csv(path, ["文件 file", "行 row", "字段 field", "值 value", "级别 severity", "原因", "reason"],
                  ([i.file, "" if i.row is None else i.row, i.field, "" if _blank(i.value) else plain_scalar(i.value),
                    i.severity, i.zh, i.en] for i in self.sorted()))
