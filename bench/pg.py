"""The PostgreSQL server the benchmarks run against, and the databases they make on it."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from bench.proc import Run, measure

RESULTS = Path(__file__).resolve().parent / "results"
# Kept between runs (bench/results/ is git-ignored) so only the first run pays for initdb.
DEFAULT_PGDATA = RESULTS / "pg"


@contextmanager
def server(url: str | None) -> Iterator[str]:
    """Yield the URL of a server's ``postgres`` database: ``url`` when given, else the embedded
    server in bench/results/pg, started here and stopped on the way out.

    The embedded server is the default because it is what the app runs on with no setup, and
    it allows 1,024 locks per transaction: building a 1,000-table shadow database in one
    transaction needs several thousand, more than a stock server's 64 x max_connections.
    """
    if url:
        yield url
        return
    # fsync off: nothing here needs to survive a crash, and it makes the shadow build (one
    # big commit) faster, so the comparison errs in the baseline's favour.
    os.environ["SB_EMBEDDED_FAST"] = "1"
    from schemabuilder import embedded

    RESULTS.mkdir(parents=True, exist_ok=True)
    # The server runs as its own user when we are root: it must be able to reach its data dir.
    RESULTS.chmod(0o755)
    with _exclusive(RESULTS / "pg.lock"):
        embedded_url = embedded.start(DEFAULT_PGDATA)
        try:
            yield embedded_url
        finally:
            embedded.stop(DEFAULT_PGDATA)


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """One benchmark at a time on the shared data dir: the first to finish would otherwise
    stop the server under the other (and their timings would disturb each other anyway)."""
    with lock_path.open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print("[bench] another benchmark is using bench/results/pg: waiting", flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` on the same server."""
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def recreate_database(server_url: str, name: str) -> str:
    """Drop ``name`` if it exists, create it empty; return its URL."""
    drop_database(server_url, name)
    return create_database(server_url, name)


def create_database(server_url: str, name: str) -> str:
    """Create the empty database ``name``; return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def server_version(url: str) -> str:
    """``PostgreSQL 18.1``: the product and version, without the build details."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0].split()[0] if row else '?'}"


def psql_file(url: str, path: Path) -> Run:
    """Run the script ``path`` with psql in ONE transaction, stopping at the first error: the
    way people build a shadow database by hand (``psql -1 -f``)."""
    psql = shutil.which("psql") or "/usr/bin/psql"
    cmd = [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path), "-d", url]
    return measure(cmd).check(f"psql -1 -f {path.name}")
