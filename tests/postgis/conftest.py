"""Fixtures of the shared-database tests: empty databases and login users holding each riskmap role."""

from __future__ import annotations

import itertools

import pytest

_names = itertools.count(1)

PASSWORDS = {"ann_viewer": "Vw-3x!pass", "bo_editor": "Ed-7y!pass", "cai_assessor": "As-9z!pass",
             "du_admin": "Ad-1w!pass"}
ROLE_OF = {"ann_viewer": "viewer", "bo_editor": "editor", "cai_assessor": "assessor", "du_admin": "admin"}


@pytest.fixture
def pg_empty_url(pg_server):
    """A fresh database with PostGIS and nothing else (superuser URL)."""
    name = f"empty_{next(_names)}"
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def pg_users(pg_server, pg_demo_template):
    """Login users with passwords, one per riskmap role (granted through the app's own grant_role)."""
    from sqlalchemy import create_engine

    from riskmap.store.roles import grant_role

    engine = create_engine(pg_server.url("postgres"))
    with engine.begin() as conn:
        for user, role in ROLE_OF.items():
            grant_role(conn, user, role, password=PASSWORDS[user], create=True)
    engine.dispose()
    return dict(PASSWORDS)


@pytest.fixture
def url_as(pg_server, pg_demo_url, pg_users):
    """``url_as(user)``: the URL of this test's demo database for one of the ``pg_users``."""
    from sqlalchemy.engine import make_url

    database = make_url(pg_demo_url).database

    def make(user: str) -> str:
        return pg_server.url(database, user, pg_users[user])

    return make
