"""The package layering of DESIGN.md holds: the import-linter contracts in pyproject.toml pass, and every
package and module of riskmap has its place in the layers (a new package can't slip past the contract)."""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import riskmap

ROOT = Path(__file__).resolve().parents[1]


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def _lint_imports() -> str | None:
    local = Path(sys.executable).with_name("lint-imports")
    return str(local) if local.exists() else shutil.which("lint-imports")


def test_import_contracts_are_kept():
    tool = _lint_imports()
    if tool is None:
        pytest.skip("import-linter is not installed (scripts/test.sh installs the test extras)")
    r = subprocess.run([tool, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def test_every_package_has_a_layer():
    layered = set()
    for contract in _contracts():
        if contract["type"] == "layers":
            for layer in contract["layers"]:
                layered |= {m.strip() for m in layer.split("|")}
    top = {f"riskmap.{m.name}" for m in pkgutil.iter_modules(riskmap.__path__)}
    assert top - layered == set(), "add these to the layers in pyproject.toml"
    assert layered - top == set(), "these layers name no module"


def test_qt_contract_covers_every_core_package():
    forbidden = next(c for c in _contracts() if c["type"] == "forbidden" and "PySide6" in c["forbidden_modules"])
    top = {f"riskmap.{m.name}" for m in pkgutil.iter_modules(riskmap.__path__)}
    qt_allowed = {"riskmap.ui", "riskmap.render", "riskmap.printing", "riskmap.cli"}  # cli opens the window
    assert set(forbidden["source_modules"]) == top - qt_allowed
