"""``riskmap`` in a child process, so that a crash, an abort or a traceback shows; file hashes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path


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
