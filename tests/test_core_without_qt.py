"""DESIGN rule 1: the core imports and works without PySide6."""

import subprocess
import sys

BLOCK_QT = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6."):
            raise ImportError("Qt is blocked in this test")
sys.meta_path.insert(0, Block())
import pkgutil, importlib, riskmap
core = [m.name for m in pkgutil.walk_packages(riskmap.__path__, "riskmap.")
        if not m.name.startswith(("riskmap.ui", "riskmap.render", "riskmap.printing"))
        and not m.name.endswith("__main__")]
for name in core:
    importlib.import_module(name)
print(len(core))
"""


def test_core_imports_without_qt():
    r = subprocess.run([sys.executable, "-c", BLOCK_QT], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip()) >= 10
