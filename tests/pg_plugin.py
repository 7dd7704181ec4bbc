"""pytest plugin: the suite's PostgreSQL, started before Django reads its settings.

With ``TEST_DATABASE_URL`` set, the suite uses that server. Otherwise it starts the embedded
server in a temporary data directory and stops it (and deletes the directory) at the end.
Loaded with ``-p tests.pg_plugin`` so it runs before pytest-django configures Django.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

_state: dict[str, object] = {}

PG15_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: object, args: object
) -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        from schemabuilder import embedded

        tmp = Path(tempfile.mkdtemp(prefix="sb-test-pg-"))
        os.chmod(tmp, 0o755)
        os.environ["SB_EMBEDDED_FAST"] = "1"  # fsync off: test data is thrown away
        url = embedded.start(tmp / "pg")
        _state["pgdata"] = tmp / "pg"
        _state["tmp"] = tmp
    _state["server_url"] = url
    # Django's test runner creates test_<NAME> from this; the app never touches NAME itself.
    os.environ["DATABASE_URL"] = _with_database(url, "schemabuilder")
    # Keep the developer's .data/ out of the tests (secret key, demo password).
    os.environ.setdefault("SB_DATA_DIR", str(Path(tempfile.mkdtemp(prefix="sb-test-data-"))))


def pytest_unconfigure(config: pytest.Config) -> None:
    pgdata = _state.get("pgdata")
    if isinstance(pgdata, Path):
        from schemabuilder import embedded

        embedded.stop(pgdata)
        shutil.rmtree(str(_state["tmp"]), ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """URL of the test server's ``postgres`` database (superuser): create what you need."""
    return str(_state["server_url"])


def _scratch_database(server_url: str, name: str) -> Iterator[str]:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def target_db_url(pg_server_url: str) -> Iterator[str]:
    """A database of its own on the suite's server, for engine tests that play the target."""
    yield from _scratch_database(pg_server_url, "sb_test_target")


def pg15_available(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            return conn.info.server_version >= 150000
    except psycopg.Error:
        return False


@pytest.fixture(scope="session")
def pg15_target_url() -> Iterator[str]:
    """A scratch database on the PostgreSQL 15 server at 127.0.0.1:5432 (skipped, loudly, if absent)."""
    url = os.environ.get("PG15_URL", PG15_DEFAULT_URL)
    if not pg15_available(url):
        pytest.skip(f"PostgreSQL 15 not reachable at {url}: second-server run SKIPPED")
    # A suffix keeps two checkouts that test at once off each other's database on the shared server.
    suffix = os.environ.get("SB_TEST_DB_SUFFIX", "")
    yield from _scratch_database(url, f"sb_test_target15{suffix}")


@pytest.fixture(scope="session", params=["embedded", "pg15"])
def any_target_url(request: pytest.FixtureRequest) -> str:
    """Each target server in turn: the suite's own, then PostgreSQL 15."""
    name = "target_db_url" if request.param == "embedded" else "pg15_target_url"
    return str(request.getfixturevalue(name))
