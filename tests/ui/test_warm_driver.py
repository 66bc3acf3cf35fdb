"""The main window's warm-up thread imports, in a new process, the modules opening a project needs before its
first frame (the permissions' roles module among them), so that the GUI thread does not import them then, and
reads the layer catalogue."""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = r"""
import sys, threading
from riskmap.ui.app import make_application
app = make_application([])
from riskmap.ui.main_window import MainWindow
before = {m for m in ("riskmap.store.roles", "riskmap.store.viewport", "riskmap.render.lazy") if m in sys.modules}
w = MainWindow(install_extensions=False)
for t in threading.enumerate():
    if t.name == "riskmap-warm":
        t.join(60)
from riskmap.layers import load_catalogue
print("catalogue kept", load_catalogue.cache_info().currsize)
print(sorted(before), [m for m in ("riskmap.store.roles", "riskmap.store.viewport", "riskmap.render.lazy")
                        if m not in sys.modules])
"""


def test_warm_up_imports_what_opening_needs(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "c"),
               XDG_DATA_HOME=str(tmp_path / "d"), XDG_CACHE_HOME=str(tmp_path / "k"))
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    before, missing = out.stdout.strip().splitlines()[-1].split("] [")
    assert "riskmap.store.roles" not in before  # not imported by the window's own modules: the thread did it
    assert missing == "]"  # every one of them imported by the thread
    assert "catalogue kept 1" in out.stdout  # the layer catalogue read by the thread too
