"""Schema versions of the project file and the steps between them.

The version lives in ``project_meta`` under ``schema_version``. Each step is a function that
takes a SQLAlchemy Connection inside the open transaction and upgrades by exactly one version.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

SCHEMA_VERSION = 1

# MIGRATIONS[n] upgrades a project from version n to n + 1.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


def pending(version: int) -> list[Callable[[Connection], None]]:
    """The steps that bring ``version`` up to SCHEMA_VERSION, in order."""
    return [MIGRATIONS[v] for v in range(version, SCHEMA_VERSION)]
