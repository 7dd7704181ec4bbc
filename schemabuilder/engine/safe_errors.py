"""Database errors as people may read them: our own words, never another connection's data.

A PostgreSQL error is shown to every member of a tenant (a proposal's error, the API, the
page, the audit trail), and the database may be shared with other tenants. The server's
text is not safe to copy there: a lock timeout's or a deadlock's ``DETAIL`` and ``CONTEXT``
name other backends (their pids, the statement they run), and a connection failure names the
host, the port, the database and the role. So every exit of an error goes through
``safe_message``: the SQLSTATE, what happened, what to do, and only data we own (our table
names, our statement number, passed in by the caller as ``where``).

Only the primary message of errors that are about our own statement is kept (``relation
"orders" already exists``): never ``DETAIL``, ``CONTEXT`` or ``HINT``, which may quote rows or
other connections. Errors of the kinds below are replaced entirely.
"""

from __future__ import annotations

import psycopg

__all__ = ["database_error", "safe_message"]

# SQLSTATE → (what happened, what to do). Texts of our own: nothing of the server's message.
_KNOWN: dict[str, tuple[str, str]] = {
    "55P03": (
        "lock timeout: another connection held a lock this change needs for longer than the "
        "target's lock timeout",
        "Nothing was changed. Try again when the tables are not in use; a database "
        "administrator can see which connection holds the lock in pg_locks.",
    ),
    "40P01": (
        "deadlock: PostgreSQL aborted this transaction to break a deadlock with another connection",
        "Nothing was changed. It is safe to try again.",
    ),
    "57014": (
        "statement timeout: a statement ran longer than the target's statement timeout",
        "Nothing was changed. Try again when the database is less busy, or raise the "
        "target's statement timeout.",
    ),
    "40001": (
        "serialization failure: a concurrent transaction changed what this one read",
        "Nothing was changed. It is safe to try again.",
    ),
    "55006": (
        "object in use: another connection is using an object this change needs",
        "Nothing was changed. Try again when it is not in use.",
    ),
    "57P01": (
        "the database server is shutting down",
        "Try again once it is back.",
    ),
    "57P03": (
        "the database server is not accepting connections yet",
        "Try again shortly.",
    ),
    "53300": (
        "the database server has no connection slot left",
        "Try again shortly, or ask its administrator to raise max_connections.",
    ),
    "28P01": (
        "authentication failed for the target's role",
        "Check the password in the target's connection URL on this server.",
    ),
    "28000": (
        "the target's role is not allowed to connect",
        "Check the role and pg_hba.conf with the database administrator.",
    ),
    "3D000": (
        "the target's database does not exist",
        "Check the database name in the target's connection URL on this server.",
    ),
}

_CONNECTION = (
    "connection failure: could not connect to the database, or the connection was lost",
    "Check that the database is up and that the connection URL configured on this server "
    "is right (the address is not shown here).",
)
_UNKNOWN_SERVER = (
    "the database server reported an error",
    "Nothing was changed. The server's log has the details.",
)


def database_error(exc: BaseException) -> psycopg.Error | None:
    """The psycopg error behind ``exc`` (itself, or what it was raised from), if any: the ORM
    and our own exceptions wrap them."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, psycopg.Error):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _sqlstate(exc: psycopg.Error) -> str:
    return exc.sqlstate or ""


def safe_message(exc: BaseException, *, where: str = "") -> str:
    """What to show of ``exc``: ``[where: ]SQLSTATE code (what happened). What to do.``

    ``where`` is ours to name (``Statement 3 of 5``, ``target t_demo/dev``). An exception that
    is no database error says only its type: its text is not known to be safe.
    """
    prefix = f"{where}: " if where else ""
    db = database_error(exc)
    if db is None:
        return f"{prefix}{type(exc).__name__} (an internal error; the server's log has details)"
    code = _sqlstate(db)
    if code in _KNOWN:
        what, todo = _KNOWN[code]
    elif code.startswith("08") or (not code and isinstance(db, psycopg.OperationalError)):
        # libpq's own connection errors carry no SQLSTATE; their text names host and port.
        what, todo = _CONNECTION
        code = code or "08006"
    elif code and not code.startswith(("53", "57", "58", "XX", "F0", "HV", "P0")):
        # An error about our own statement (syntax, a missing or duplicate object, a data
        # check): its primary message names our objects, and helps the reader fix it.
        primary = (db.diag.message_primary or "").strip().splitlines()
        if primary:
            return f"{prefix}SQLSTATE {code}: {primary[0][:300]}"
        what, todo = _UNKNOWN_SERVER
    else:
        what, todo = _UNKNOWN_SERVER
    state = f"SQLSTATE {code}" if code else "no SQLSTATE"
    return f"{prefix}{state} ({what}). {todo}"
