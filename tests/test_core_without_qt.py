"""DESIGN rule 1: every module of the core imports and works without PySide6 (ui, render, printing excluded)."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import riskmap

QT_FREE = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6"):
            raise ImportError("Qt is blocked in this test")
sys.meta_path.insert(0, Block())
import pkgutil, importlib, riskmap
riskmap.__path__.extend(sys.argv[1:])  # the self-test adds a folder with a module of its own
core = [m.name for m in pkgutil.walk_packages(riskmap.__path__, "riskmap.")
        if not m.name.startswith(("riskmap.ui", "riskmap.render", "riskmap.printing"))
        and not m.name.endswith("__main__")]
for name in core:
    importlib.import_module(name)
print(len(core))
"""
QT_PACKAGES = ("ui", "render", "printing")


def _run(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", QT_FREE, *extra], capture_output=True, text=True)


def _core_files() -> list[Path]:
    root = Path(riskmap.__file__).parent
    return [p for p in root.rglob("*.py") if p.relative_to(root).parts[0] not in QT_PACKAGES
            and p.name != "__main__.py" and "__pycache__" not in p.parts]


def test_every_core_package_is_a_package():
    """pkgutil walks only folders with an __init__.py: a core folder without one would go unchecked."""
    folders = {p.parent for p in _core_files()}
    assert [f for f in folders if not (f / "__init__.py").exists()] == []


def test_core_imports_without_qt():
    r = _run()
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) == len(_core_files()) - 1  # every module but riskmap/__init__.py itself


def test_the_check_fails_on_a_core_module_that_imports_qt(tmp_path):
    (tmp_path / "qt_sneaks_in.py").write_text("from PySide6.QtGui import QColor\n", encoding="utf-8")
    r = _run(str(tmp_path))
    assert r.returncode != 0 and "Qt is blocked" in r.stderr and "qt_sneaks_in" in r.stderr
