"""Every ``>>>`` example in riskmap runs: doctest over every module of the package (Qt modules under the
offscreen QApplication of pytest-qt). An example that is only a comment (``>>> # …``) runs as a no-op."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import riskmap

ROOT = Path(riskmap.__file__).parent
QT_PACKAGES = ("riskmap.ui", "riskmap.render", "riskmap.printing")


def _modules() -> list[str]:
    names = ["riskmap"] + [m.name for m in pkgutil.walk_packages(riskmap.__path__, "riskmap.")
                           if not m.name.endswith("__main__")]
    return sorted(n for n in names if ">>>" in _source(n))


def _source(name: str) -> str:
    rel = Path(*name.split(".")[1:])
    path = ROOT / rel / "__init__.py" if (ROOT / rel).is_dir() else (ROOT / rel).with_suffix(".py")
    return path.read_text(encoding="utf-8")


def test_every_file_with_examples_is_found():
    with_examples = {p for p in ROOT.rglob("*.py") if ">>>" in p.read_text(encoding="utf-8")}
    assert len(_modules()) == len(with_examples) > 30


@pytest.mark.parametrize("name", _modules())
def test_examples(name, request):
    if name.startswith(QT_PACKAGES):
        request.getfixturevalue("qapp")
    module = importlib.import_module(name)
    assert "+SKIP" not in _source(name), "examples run; write one that can, or a comment"
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
    real = re.findall(r"^\s*>>> (?!#)", _source(name), flags=re.M)
    assert result.failed == 0
    assert result.attempted >= len(real) > 0 or (result.attempted == 0 and not real)
