"""Opening the first project moves the start-up objects out of the cyclic collector's reach (gc.freeze), once per
process: a full collection while the project is read then looks only at what came after, and garbage made
later is still collected."""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = r"""
import gc, json, sys
from riskmap.ui.app import make_application
app = make_application([])
from PySide6.QtCore import QEventLoop, QTimer
from riskmap.ui.main_window import MainWindow
w = MainWindow(install_extensions=False)
app.processEvents()
out = {"before": gc.get_freeze_count(), "alive": len(gc.get_objects())}

def open_and_wait(path):
    loop = QEventLoop()
    w.projectOpened.connect(loop.quit)
    QTimer.singleShot(60000, loop.quit)
    w.open_project(path)
    loop.exec()
    w.projectOpened.disconnect(loop.quit)

open_and_wait(sys.argv[1])
out["after"] = gc.get_freeze_count()
out["opened"] = w.project is not None
out["gen2"] = len(gc.get_objects(generation=2))
open_and_wait(sys.argv[1])
out["again"] = gc.get_freeze_count()

class Node:
    pass

a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after the freeze: still found by the collector
import weakref
ref = weakref.ref(a)
del a, b
gc.collect()
out["cycle_freed"] = ref() is None
print("OUT " + json.dumps(out))
"""


def test_first_open_freezes_the_start_up_objects_once(demo_path, tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "c"),
               XDG_DATA_HOME=str(tmp_path / "d"), XDG_CACHE_HOME=str(tmp_path / "k"))
    proc = subprocess.run([sys.executable, "-c", CHILD, str(demo_path)], capture_output=True, text=True, env=env,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    import json

    out = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("OUT "))[4:])
    assert out["opened"]
    assert out["before"] == 0  # building the window freezes nothing
    assert out["after"] >= 0.9 * out["alive"] > 50_000  # the window's objects (and the modules') frozen
    assert out["gen2"] < out["after"] / 2  # a full collection now looks at far fewer objects than before
    assert out["again"] <= out["after"]  # once per process: a second project's objects are not frozen (some die)
    assert out["cycle_freed"]
