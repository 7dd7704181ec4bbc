"""Fixtures of the engine's database tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest


def database_url(server_url: str, name: str) -> str:
    """``server_url`` pointing at database ``name``."""
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


def fresh_database(server_url: str, prefix: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database of one test's own on ``server_url``, dropped afterwards (use with
    ``yield from`` in a fixture)."""
    name = f"{prefix}_{request.node.name[:30]}_{os.getpid()}"
    name = name.replace("[", "_").replace("]", "").replace("-", "_")
    admin = database_url(server_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(server_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def case_url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database of its own for one case, on the server under test.

    Named after the case and this process, and created from the server's ``postgres``
    database, so that other test runs on the same server do not get in the way.
    """
    name = f"sbcase_{request.node.callspec.params['case']}_{os.getpid()}"[:63]
    admin = database_url(any_target_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(any_target_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
