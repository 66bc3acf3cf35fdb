"""riskmap.memory: glibc's malloc arenas capped at start-up, by the command line and by the application."""

import subprocess
import sys

import pytest

from riskmap import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_glibc_takes_the_cap():
    assert memory.limit_arenas() is True  # glibc's answer to mallopt(M_ARENA_MAX, 2)


def test_the_command_line_caps_them_first(monkeypatch):
    import riskmap.cli as cli

    calls = []
    monkeypatch.setattr(cli, "limit_arenas", lambda: calls.append(1) or True)
    assert cli.main(["--version"]) == 0
    assert calls == [1]


def test_the_application_caps_them():
    code = ("import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "import riskmap.memory as m; calls = []; m.limit_arenas = lambda: calls.append(1) or True\n"
            "from riskmap.ui.app import make_application; make_application([]); print(calls)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().endswith("[1]")
