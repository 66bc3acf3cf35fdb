"""The hostile-input suite runs ``riskmap`` in a child process: a crash, an abort or a traceback shows."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # files.py: the hostile file makers


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def riskmap(*args, stdin: bytes = b"", timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m riskmap.cli ARGS`` with a bounded address space (a bomb fails the test, not the machine)."""

    def limit():  # pragma: no cover - runs in the child
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.run([sys.executable, "-m", "riskmap.cli", *map(str, args)], input=stdin, capture_output=True,
                          timeout=timeout, env=env, preexec_fn=limit)


@pytest.fixture(scope="session")
def hostile_project(tmp_path_factory):
    """An empty project (no county) that every case must leave byte-for-byte as it was."""
    from riskmap.store import Project

    path = tmp_path_factory.mktemp("hostile") / "project.gpkg"
    Project.create(path, name="对抗输入").close()
    return path
