"""Turn PostgreSQL URLs into Django DATABASES entries and find the embedded server.

Kept free of Django imports so the launcher and the test plugin can use it before Django
is configured.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The project's local state: embedded PostgreSQL, secret key, demo password."""
    return Path(os.environ.get("SB_DATA_DIR", BASE_DIR / ".data")).resolve()


def django_db_from_url(url: str) -> dict[str, object]:
    """A Django DATABASES entry for a ``postgresql://`` URL (unix sockets via ``?host=``)."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"DATABASE_URL must start with postgresql://, got {parts.scheme!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    options: dict[str, object] = {}
    if "sslmode" in query:
        options["sslmode"] = query.pop("sslmode")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")) or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def embedded_socket_dir(pgdata: Path) -> Path | None:
    """The unix socket directory of a running embedded server, read from postmaster.pid."""
    pidfile = pgdata / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
    except OSError:
        return None
    # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shm, status
    return Path(lines[4]) if len(lines) > 4 and lines[4] else None


# The embedded server's demo target database: alias dev when DATABASE_URL is not set. The demo
# target connects as a role of its own, as a real target should (README, "Target roles"):
# LOGIN, no superuser, no BYPASSRLS, owner of the demo's schema only.
DEMO_TARGET_DB = "schemabuilder_demo"
DEMO_TARGET_ROLE = "schemabuilder_demo_target"
DEMO_TARGET_SCHEMA = "public"


def embedded_url(database: str, pgdata: Path | None = None, *, user: str = "postgres") -> str:
    """URL of ``database`` on the embedded server (which may not be running yet)."""
    pgdata = pgdata or data_dir() / "postgres"
    socket_dir = embedded_socket_dir(pgdata) or pgdata
    return f"postgresql://{user}@/{database}?host={socket_dir}"
