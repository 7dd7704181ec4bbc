"""Each DDL statement with a short lock timeout, retried a bounded number of times.

A statement that waits for a lock makes every later query on that table queue behind it: on a
busy table, an ALTER waiting for ACCESS EXCLUSIVE stops all reads and writes for as long as it
waits. So each statement waits at most ``lock_timeout_ms`` (a target setting), and on a lock
timeout (SQLSTATE 55P03) or a deadlock (40P01) it gives way: the statement is undone, the
runner sleeps a random time (full jitter: uniform between 0 and the exponential step, so that
two appliers do not retry in step) and tries again, up to ``max_attempts``. Inside a
transaction the statement runs in a savepoint of its own, since a failed statement aborts the
whole transaction; rolling back to it keeps what the earlier statements did, and the locks
they took.

Every attempt that gave way is recorded (``LockRetry``): how long it waited, what it waited for
and who blocked it, read while it waited (``lock_watch``). After the last attempt the runner
raises ``LockTimeout`` or ``Deadlock`` naming the blockers: their pid, lock mode and the age of
their transaction, never their query.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql

from schemabuilder.engine.apply.errors import Deadlock, LockTimeout
from schemabuilder.engine.apply.lock_watch import Blocker, LockWatch, Wait
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement
from schemabuilder.engine.safe_errors import safe_message

__all__ = ["Execute", "LockRetries", "LockRetry", "LockRetryPolicy", "run_with_lock_retries"]

_SAVEPOINT = b"sb_lock_retry"


@dataclass(frozen=True)
class LockRetryPolicy:
    """How long one statement may wait for a lock, and how often it tries."""

    lock_timeout_ms: int = 2_000
    max_attempts: int = 4
    base_backoff_ms: int = 250  # the first sleep is up to this, each later one up to twice more
    max_backoff_ms: int = 5_000
    # The jitter's source; None: a generator seeded afresh for each statement. Tests pass one
    # seeded, or one that always gives the same draw.
    rng: random.Random | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.lock_timeout_ms < 1 or self.max_attempts < 1:
            raise ValueError("lock_timeout_ms and max_attempts must be at least 1")
        if self.base_backoff_ms < 0 or self.max_backoff_ms < self.base_backoff_ms:
            raise ValueError("backoffs: 0 <= base_backoff_ms <= max_backoff_ms")

    def backoff_ms(self, attempt: int, rng: random.Random) -> float:
        """The sleep after failed attempt ``attempt`` (1, 2, ...): full jitter."""
        step = min(self.max_backoff_ms, self.base_backoff_ms * 2 ** (attempt - 1))
        return rng.uniform(0, step)


@dataclass(frozen=True)
class LockRetry:
    """One attempt that gave way to another connection's lock."""

    attempt: int  # 1-based
    sqlstate: str  # 55P03 or 40P01
    waited_ms: float  # how long the attempt ran before it gave way
    backoff_ms: float | None  # the sleep before the next attempt; None: it was the last
    wanted: str | None  # ``ACCESS EXCLUSIVE on public.orders``; None: not seen waiting
    blockers: tuple[Blocker, ...]

    @property
    def kind(self) -> str:
        return "deadlock" if self.sqlstate == "40P01" else "lock timeout"

    def describe(self) -> str:
        """``retried after a lock timeout (waited 2,000 ms for ...; blocked by pid 4242 ...)``"""
        return f"retried after a {self.kind} ({_who(self)})"

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "sqlstate": self.sqlstate,
            "waited_ms": round(self.waited_ms, 1),
            "backoff_ms": None if self.backoff_ms is None else round(self.backoff_ms, 1),
            "wanted": self.wanted,
            "blockers": [b.to_json() for b in self.blockers],
        }


OnRetry = Callable[[LockRetry], None]
# One attempt of a statement in autocommit: (connection, statement).
Execute = Callable[[psycopg.Connection[Any], str], None]


def _who(retry: LockRetry) -> str:
    wanted = f" for {retry.wanted}" if retry.wanted else ""
    held = (
        "held by " + ", ".join(b.describe() for b in retry.blockers)
        if retry.blockers
        else "the blocker could not be seen"
    )
    return f"waited {retry.waited_ms:,.0f} ms{wanted}; {held}"


def run_with_lock_retries(
    conn: psycopg.Connection[Any],
    statement_sql: str,
    policy: LockRetryPolicy,
    *,
    in_transaction: bool,
    on_retry: OnRetry | None = None,
    where: str = "",
    watch: LockWatch | None = None,
    execute: Execute | None = None,
) -> list[LockRetry]:
    """Run one statement under ``policy``; the attempts that gave way (all were retried).

    ``in_transaction``: ``conn`` is inside a transaction; the statement runs in a savepoint
    and ``SET LOCAL lock_timeout`` stays at the policy's value afterwards (the apply sets the
    same value for its whole transaction). Otherwise (autocommit) ``lock_timeout`` is set for
    the statement and put back as it was. ``where`` names the statement in the error
    (``Statement 3 of 5 failed``). ``watch``: one shared by the statements of an apply; by
    default one for this statement alone. ``execute``: how one attempt runs in autocommit
    (by default the statement alone; an online change's second stage first drops what an
    interrupted concurrent build left, see ``stage_two``). Other errors propagate as psycopg
    raised them. Raises LockTimeout or Deadlock after ``policy.max_attempts`` attempts.
    """
    if watch is None:
        with LockWatch(conn) as own:
            return run_with_lock_retries(
                conn,
                statement_sql,
                policy,
                in_transaction=in_transaction,
                on_retry=on_retry,
                where=where,
                watch=own,
                execute=execute,
            )
    rng = policy.rng or random.Random()
    retries: list[LockRetry] = []

    def run(conn: psycopg.Connection[Any], statement_sql: str, timeout_ms: int) -> None:
        if in_transaction:
            _in_savepoint(conn, statement_sql, timeout_ms)
        else:
            _in_autocommit(conn, statement_sql, timeout_ms, execute or _plain)

    for attempt in range(1, policy.max_attempts + 1):
        # A first attempt is watched once it has waited a quarter of its timeout (most
        # statements are long done by then); a retry, which met a lock before, from the start.
        after_s = min(0.25, policy.lock_timeout_ms / 4000) if attempt == 1 else 0.0
        token = watch.begin(after_s)
        began = time.perf_counter()
        try:
            run(conn, statement_sql, policy.lock_timeout_ms)
        except (errors.LockNotAvailable, errors.DeadlockDetected) as exc:
            waited_ms = (time.perf_counter() - began) * 1000
            seen = watch.end(token)
            if in_transaction:
                _undo_savepoint(conn)
            last = attempt == policy.max_attempts
            retry = _record(exc, attempt, waited_ms, seen, policy, rng, last)
            if last:
                raise _give_up(exc, retries, retry, policy, where) from exc
            retries.append(retry)
            if on_retry is not None:
                on_retry(retry)
            time.sleep((retry.backoff_ms or 0) / 1000)
        except BaseException:
            watch.end(token)
            raise
        else:
            watch.end(token)
            return retries
    raise AssertionError("unreachable: the last attempt returns or raises")


def _in_savepoint(conn: psycopg.Connection[Any], statement_sql: str, timeout_ms: int) -> None:
    # One round trip, as many as the statement alone: the savepoint, its lock timeout, the
    # statement and the release go together (a failure skips the rest of the string). The
    # newlines end any comment the statement may close with.
    conn.execute(
        b"SAVEPOINT %s; SET LOCAL lock_timeout = '%dms';\n%s\n;RELEASE SAVEPOINT %s"
        % (_SAVEPOINT, timeout_ms, statement_sql.encode(), _SAVEPOINT)
    )


def _undo_savepoint(conn: psycopg.Connection[Any]) -> None:
    conn.execute(b"ROLLBACK TO SAVEPOINT %s; RELEASE SAVEPOINT %s" % (_SAVEPOINT, _SAVEPOINT))


def _plain(conn: psycopg.Connection[Any], statement_sql: str) -> None:
    conn.execute(statement_sql.encode())


def _in_autocommit(
    conn: psycopg.Connection[Any], statement_sql: str, timeout_ms: int, execute: Execute
) -> None:
    row = conn.execute(
        "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, false)",
        [f"{timeout_ms}ms"],
    ).fetchone()
    assert row is not None
    try:
        execute(conn, statement_sql)
    finally:
        conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(row[0])))


def _record(
    exc: psycopg.Error,
    attempt: int,
    waited_ms: float,
    seen: Wait | None,
    policy: LockRetryPolicy,
    rng: random.Random,
    last: bool,
) -> LockRetry:
    return LockRetry(
        attempt=attempt,
        sqlstate=exc.sqlstate or "",
        waited_ms=waited_ms,
        backoff_ms=None if last else policy.backoff_ms(attempt, rng),
        wanted=seen.wanted if seen else None,
        blockers=seen.blockers if seen else (),
    )


def _give_up(
    exc: psycopg.Error,
    retries: list[LockRetry],
    last: LockRetry,
    policy: LockRetryPolicy,
    where: str,
) -> LockTimeout | Deadlock:
    """The error after the last attempt: our words (``safe_message``), then how long and how
    often it waited, for what, and the blockers of the last attempt (or of the latest one
    that saw any)."""
    attempts = [*retries, last]
    named = next((a for a in reversed(attempts) if a.blockers or a.wanted), last)
    wanted = f" for {named.wanted}" if named.wanted else ""
    held = (
        "held by " + ", ".join(b.describe() for b in named.blockers)
        if named.blockers
        else "the blocking connection could not be seen"
    )
    if isinstance(exc, errors.DeadlockDetected):
        detail = f"Deadlocked {len(attempts)} times{wanted}; {held}."
    else:
        detail = f"Waited {policy.lock_timeout_ms:,} ms x {len(attempts)}{wanted}; {held}."
    message = f"{safe_message(exc, where=where)} {detail}"
    blockers = [b.to_json() for b in named.blockers]
    if isinstance(exc, errors.DeadlockDetected):
        return Deadlock(message, blockers=blockers, retries=attempts)
    return LockTimeout(message, blockers, retries=attempts)


# Phases whose statements lock nothing but their own table (``Statement.table``): once that
# table is ours (created in this transaction, or locked up front at least as strongly), such
# a statement cannot wait for another connection. Foreign keys, drops of tables and types,
# policies (their expressions may read other tables) and the setup may: not listed.
_OWN_TABLE_ONLY = frozenset(
    {
        Phase.RENAME_COLUMNS,
        Phase.RENAME_CONSTRAINTS,
        Phase.DROP_INDEXES,
        Phase.DROP_CONSTRAINTS,
        Phase.DROP_COLUMNS,
        Phase.CREATE_TABLES,
        Phase.ADD_COLUMNS,
        Phase.ALTER_COLUMNS,
        Phase.ADD_CONSTRAINTS,
        Phase.CREATE_INDEXES,
        Phase.COMMENTS,
        Phase.ROW_LEVEL_SECURITY,
        Phase.GRANTS,
    }
)

_STRENGTH = {
    LockMode.NONE: 0,
    LockMode.SHARE_UPDATE_EXCLUSIVE: 1,
    LockMode.SHARE: 2,
    LockMode.SHARE_ROW_EXCLUSIVE: 3,
    LockMode.ACCESS_EXCLUSIVE: 4,
}


class LockRetries:
    """The lock discipline of one apply: its policy, one watch for all of its statements,
    and every retry they made (``recorded``). Use as a context manager.

    Inside a transaction, a savepoint per statement is what makes a retry possible, and it
    is not free: each one is a subtransaction, and with thousands of them in one transaction
    PostgreSQL slows down (3,000 statements ran ~60% slower). So a statement that cannot wait
    for anyone (``_OWN_TABLE_ONLY`` on a table this transaction already holds, see ``held``)
    runs as it is, without a savepoint or a lock timeout of its own.
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        policy: LockRetryPolicy,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.policy = policy
        self.recorded: list[LockRetry] = []
        self._conn = conn
        self._on_retry = on_retry
        self._watch = LockWatch(conn)
        # Our tables this transaction holds, and how strongly: locked up front, or created.
        self.held: dict[str, LockMode] = {}

    def __enter__(self) -> LockRetries:
        return self

    def __exit__(self, *exc: object) -> None:
        self._watch.close()

    def run(self, statement_sql: str, *, in_transaction: bool = True, where: str = "") -> None:
        run_with_lock_retries(
            self._conn,
            statement_sql,
            self.policy,
            in_transaction=in_transaction,
            on_retry=self._record,
            where=where,
            watch=self._watch,
        )

    def lock(self, statement_sql: str, tables: Iterable[str], mode: LockMode) -> None:
        """Run ``LOCK TABLE`` ``statement_sql`` (retried like any statement), then hold
        ``tables`` in ``mode`` for the statements that follow."""
        self.run(statement_sql, where="Locking the tables it changes failed")
        for table in tables:
            self._hold(table, mode)

    def statement(self, statement: Statement, *, where: str = "") -> None:
        """Run one statement of the plan in the apply's transaction."""
        held = self.held.get(statement.table)
        if (
            statement.phase in _OWN_TABLE_ONLY
            and held is not None
            and _STRENGTH[statement.lock] <= _STRENGTH[held]
        ):
            self._conn.execute(statement.sql.encode())
        else:
            self.run(statement.sql, where=where)
        if statement.phase is Phase.CREATE_TABLES:
            # Nobody else sees a table before our commit: it cannot be locked by anyone.
            self._hold(statement.table, LockMode.ACCESS_EXCLUSIVE)

    def _hold(self, table: str, mode: LockMode) -> None:
        if _STRENGTH[mode] > _STRENGTH[self.held.get(table, LockMode.NONE)]:
            self.held[table] = mode

    def _record(self, retry: LockRetry) -> None:
        self.recorded.append(retry)
        if self._on_retry is not None:
            self._on_retry(retry)
