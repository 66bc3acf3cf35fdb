"""The benchmarks' peak memory is the process's own (bench/peak.py), not the parent's it was started from."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import sys
sys.path.insert(0, sys.argv[1])
from bench.peak import peak_mb
print(round(peak_mb()))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="VmHWM is read from /proc (Linux)")
def test_child_reports_its_own_peak_not_its_parents():
    blob = bytearray(400 * 2 ** 20)  # the parent holds 400 MB, touched
    blob[::4096] = b"\1" * len(blob[::4096])
    from bench.peak import peak_mb

    assert peak_mb() >= 400
    out = subprocess.run([sys.executable, "-c", CHILD, str(ROOT)], capture_output=True, text=True, check=True)
    child = int(out.stdout.strip())
    assert 1 <= child < 200, child  # an interpreter alone: tens of MB, not the parent's 400 MB
    del blob

