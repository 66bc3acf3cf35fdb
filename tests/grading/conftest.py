"""Helpers for the grading tests: copies of the bundled standards files with one setting changed."""

import pytest

from riskmap.paths import STANDARDS_DIR


@pytest.fixture
def edited_standard(tmp_path):
    """``edited_standard("lec.toml", old, new)`` → path of a copy with ``old`` replaced by ``new``
    (the first ``count`` times; ``count=-1``: everywhere)."""

    def make(name: str, old: str, new: str, count: int = 1):
        text = (STANDARDS_DIR / name).read_text(encoding="utf-8")
        assert text.count(old) >= max(count, 1), f"{old!r} not found in {name}"
        p = tmp_path / name
        p.write_text(text.replace(old, new, count), encoding="utf-8")
        return p

    return make
