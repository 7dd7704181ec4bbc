"""Who a statement waits for, read on a second connection while it waits.

Once a lock timeout has fired, the backend no longer waits and ``pg_blocking_pids`` of it is
empty: the blockers have to be read during the wait. ``LockWatch`` keeps one thread and (only
once a statement has run longer than ``after_s``) one connection of its own for a whole apply;
a statement that ends quickly costs two lock round trips in this process and nothing on the
server.

What is read of another backend: its pid, the lock mode it holds (or waits for) on what we
wait for, the age of its transaction and its backend type. Never its query, application name
or role: those are another connection's data (see ``engine.safe_errors``).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg

log = logging.getLogger(__name__)

POLL_S = 0.1  # how often a waiting statement's blockers are read again

# The lock the backend waits for (if any), and each backend that blocks it, with the
# strongest mode that backend holds or waits for on the same lockable object.
_WAIT_SQL = """
WITH waiting AS (
    SELECT l.locktype, l.database, l.relation, l.transactionid, l.mode
    FROM pg_catalog.pg_locks l
    WHERE l.pid = %(pid)s AND NOT l.granted
    LIMIT 1
)
SELECT w.locktype, w.mode, n.nspname, c.relname,
       b.pid, a.backend_type,
       extract(epoch FROM now() - a.xact_start)::float8,
       bl.mode, bl.granted
FROM waiting w
LEFT JOIN pg_catalog.pg_class c ON c.oid = w.relation
LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest(pg_catalog.pg_blocking_pids(%(pid)s)) AS b(pid)
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = b.pid
LEFT JOIN LATERAL (
    SELECT o.mode, o.granted FROM pg_catalog.pg_locks o
    WHERE o.pid = b.pid AND o.locktype = w.locktype
      AND o.database IS NOT DISTINCT FROM w.database
      AND o.relation IS NOT DISTINCT FROM w.relation
      AND o.transactionid IS NOT DISTINCT FROM w.transactionid
    ORDER BY o.granted DESC, array_position(%(strength)s::text[], o.mode) DESC NULLS LAST
    LIMIT 1
) bl ON true
ORDER BY b.pid
"""

# pg_locks' mode names, weakest first.
MODES = (
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
)


@dataclass(frozen=True)
class Blocker:
    """Another backend in the way: only what is ours to show."""

    pid: int
    mode: str | None  # the strongest mode it holds (or waits for) on what we wait for
    granted: bool  # False: it waits ahead of us in the queue for a mode that conflicts
    xact_age_s: float | None  # None when the target's role may not see it
    backend_type: str | None
    table: str | None  # the table of that lock, when it is a table lock

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "mode": self.mode,
            "granted": self.granted,
            "xact_age_s": None if self.xact_age_s is None else round(self.xact_age_s, 1),
            "backend_type": self.backend_type,
            "table": self.table,
        }

    def describe(self) -> str:
        """``pid 4242 (AccessShareLock, in a transaction for 37 s)``"""
        parts = [self.mode or "a lock"] if self.granted else [f"waiting for {self.mode}"]
        if self.xact_age_s is not None:
            parts.append(f"in a transaction for {self.xact_age_s:,.0f} s")
        if self.backend_type and self.backend_type != "client backend":
            parts.append(self.backend_type)
        return f"pid {self.pid} ({', '.join(parts)})"


@dataclass(frozen=True)
class Wait:
    """What one statement was seen waiting for, and who held it up."""

    wanted: str  # ``ACCESS EXCLUSIVE on public.orders``
    blockers: tuple[Blocker, ...]


def sql_mode(mode: str) -> str:
    """``AccessExclusiveLock`` → ``ACCESS EXCLUSIVE`` (how LOCK TABLE spells it)."""
    words: list[str] = []
    for ch in mode.removesuffix("Lock"):
        if ch.isupper() and words:
            words.append(" ")
        words.append(ch.upper())
    return "".join(words)


def read_wait(probe: psycopg.Connection[Any], pid: int) -> Wait | None:
    """What backend ``pid`` waits for now, and who blocks it; None when it does not wait."""
    rows = probe.execute(_WAIT_SQL, {"pid": pid, "strength": list(MODES)}).fetchall()
    if not rows:
        return None
    locktype, mode, nspname, relname = rows[0][:4]
    if relname is not None:
        what = f"{nspname}.{relname}"
    elif locktype == "transactionid":
        what = "a row another transaction changes"
    elif locktype == "virtualxid":
        # A concurrent build (or drop) waits so for every transaction older than itself, on
        # any table: the blockers are those transactions.
        what = "the end of an older transaction"
    else:
        what = f"a {locktype} lock"
    blockers = tuple(
        Blocker(
            pid=r[4],
            mode=r[7],
            granted=bool(r[8]) if r[7] is not None else True,
            xact_age_s=r[6],
            backend_type=r[5],
            table=relname,
        )
        for r in rows
    )
    return Wait(f"{sql_mode(mode)} on {what}", blockers)


class LockWatch:
    """Watches the statements of one connection, one at a time (``begin`` … ``end``): while
    one has run longer than its ``after_s``, a second connection reads what it waits for,
    every ``POLL_S``. Use as a context manager; the thread and the connection end with it."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._pid = conn.info.backend_pid
        self._dsn = conn.info.dsn
        self._password = conn.info.password or None
        self._cond = threading.Condition()
        self._token = 0
        self._due: float | None = None  # monotonic time from which to read, while running
        self._seen: Wait | None = None
        self._closed = False
        self._probe: psycopg.Connection[Any] | None = None
        self._unreachable = False
        self._thread: threading.Thread | None = None

    def __enter__(self) -> LockWatch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def begin(self, after_s: float) -> int:
        """A statement starts; its blockers are read once it has run ``after_s``."""
        with self._cond:
            self._token += 1
            self._due = time.monotonic() + after_s
            self._seen = None
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="schemabuilder-lock-watch", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
            return self._token

    def end(self, token: int) -> Wait | None:
        """The statement ended: what it was last seen waiting for (None: not seen waiting)."""
        with self._cond:
            seen = self._seen if token == self._token else None
            self._due = None
            self._seen = None
            self._cond.notify_all()
            return seen

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
        if self._probe is not None:
            self._probe.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._due is None or time.monotonic() < self._due):
                    timeout = None if self._due is None else self._due - time.monotonic()
                    self._cond.wait(timeout)
                if self._closed:
                    return
                token = self._token
            seen = self._read()
            with self._cond:
                if token == self._token and self._due is not None:
                    if seen is not None:
                        self._seen = seen
                    self._due = time.monotonic() + POLL_S

    def _read(self) -> Wait | None:
        if self._unreachable:
            return None
        try:
            if self._probe is None:
                self._probe = psycopg.connect(
                    self._dsn, password=self._password, connect_timeout=5, autocommit=True
                )
            return read_wait(self._probe, self._pid)
        except psycopg.Error:
            # Without it the retries still run; the records only lack who blocked.
            log.warning("could not read who blocks the apply", exc_info=True)
            self._unreachable = True
            return None
