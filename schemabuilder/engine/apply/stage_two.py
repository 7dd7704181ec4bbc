"""The second stage of an online apply: the slow steps, one by one, outside a transaction.

Each step runs in autocommit, with the change's ``lock_timeout`` and its own statement
timeout, and is marked done in the target's marker right after it succeeds. Before a step
runs, the catalog is asked whether it already happened: a worker killed between a step and
its mark leaves a step done but pending, which is then marked, never run again blindly (an
index present and valid, a constraint validated, a column NOT NULL, a helper gone). An INVALID
index of a build's name, left by a build that failed or was killed, is dropped
(``DROP INDEX CONCURRENTLY IF EXISTS``) and the build run again.

A step waits for its locks as a first-stage statement does (``lock_retry``, with the change's
policy): at most the lock timeout, then it gives way, sleeps (backoff with jitter) and tries
again, each retry recorded with who blocked it. A concurrent build also waits, through their
virtual transaction ids, for every transaction older than itself, anywhere in the database:
an open transaction elsewhere times it out like a table lock does. A build that gave way
leaves its INVALID index, which is dropped before the next try.

A step that fails stops the stage: a concurrent build's INVALID index is dropped, the marker
says ``failed`` and which step (after the last try of a lock: who blocked it), and what stage 1
made stays (it is a consistent schema: a constraint NOT VALID is enforced for new rows; the
next plan adds what is missing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors, sql

from schemabuilder.engine.apply import runner
from schemabuilder.engine.apply.errors import Deadlock, LockTimeout, StageTwoFailed
from schemabuilder.engine.apply.lock_retry import (
    LockRetryPolicy,
    OnRetry,
    run_with_lock_retries,
)
from schemabuilder.engine.apply.lock_watch import LockWatch
from schemabuilder.engine.apply.marker import DONE, FAILED, PENDING, update_steps
from schemabuilder.engine.diff.phases import Statement
from schemabuilder.engine.diff.steps import Step, StepKind, step_of
from schemabuilder.engine.safe_errors import safe_message


@dataclass(frozen=True)
class StageTwoStep:
    """One step of the second stage as the marker lists it."""

    index: int  # the statement's place in the plan
    sql: str
    status: str = PENDING  # pending | done | failed
    ms: float | None = None
    timeout_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The marker's form."""
        return {
            "index": self.index,
            "sql": self.sql,
            "status": self.status,
            "ms": self.ms,
            "timeout_ms": self.timeout_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StageTwoStep:
        return cls(
            index=int(data["index"]),
            sql=str(data["sql"]),
            status=str(data.get("status", PENDING)),
            ms=data.get("ms"),
            timeout_ms=data.get("timeout_ms"),
        )


def steps_of(statements: Iterable[Statement]) -> list[StageTwoStep]:
    """The second stage of a plan's statements, all pending."""
    return [
        StageTwoStep(index=i, sql=st.sql, timeout_ms=st.statement_timeout_ms)
        for i, st in enumerate(statements)
        if st.stage == 2
    ]


StepProgress = Callable[[StageTwoStep], None]


def run_stage_two(
    conn: psycopg.Connection[Any],
    *,
    schema: str,
    marker_id: int,
    steps: Sequence[StageTwoStep],
    lock_policy: LockRetryPolicy,
    statement_timeout_ms: int,
    on_step: StepProgress | None = None,
    on_lock_retry: OnRetry | None = None,
) -> list[StageTwoStep]:
    """Run the pending ``steps`` in order, marking each; the steps as they end up.

    Each step waits for its locks under ``lock_policy`` (its lock timeout a try, its number
    of tries); ``on_lock_retry`` hears of each retry as it happens.
    Raises ``StageTwoFailed`` when a step fails, a lock timeout after the last try included
    (the marker says ``failed``); stage 1 stays committed.
    """
    conn.autocommit = True
    done = list(steps)
    conn.execute(
        sql.SQL("SET search_path TO {}; SET lock_timeout = {}").format(
            sql.Identifier(schema), sql.Literal(f"{lock_policy.lock_timeout_ms}ms")
        )
    )
    try:
        with LockWatch(conn) as watch:
            for n, step in enumerate(done):
                if step.status == DONE:
                    continue
                what = step_of(step.sql)
                if _already_done(conn, schema, what):
                    done[n] = StageTwoStep(step.index, step.sql, DONE, 0.0, step.timeout_ms)
                else:
                    done[n] = _run_step(
                        conn,
                        _Step(schema, step, what, n, marker_id, statement_timeout_ms),
                        done,
                        _Locks(lock_policy, watch, on_lock_retry),
                    )
                update_steps(conn, marker_id, [s.to_json() for s in done])
                if on_step is not None:
                    on_step(done[n])
    finally:
        conn.execute("RESET search_path; RESET lock_timeout; RESET statement_timeout")
    return done


@dataclass(frozen=True)
class _Step:
    """One pending step, where it runs and how long it may take."""

    schema: str
    step: StageTwoStep
    what: Step
    n: int  # its place among the stage's steps
    marker_id: int
    statement_timeout_ms: int


@dataclass(frozen=True)
class _Locks:
    """How the steps wait for their locks: the change's policy, one watch for the stage."""

    policy: LockRetryPolicy
    watch: LockWatch
    on_retry: OnRetry | None


def _run_step(
    conn: psycopg.Connection[Any], at: _Step, steps: list[StageTwoStep], locks: _Locks
) -> StageTwoStep:
    step, what, schema = at.step, at.what, at.schema
    timeout = max(step.timeout_ms or 0, at.statement_timeout_ms)
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{timeout}ms")))
    build = what.kind is StepKind.BUILD_INDEX

    def attempt(c: psycopg.Connection[Any], statement: str) -> None:
        if build and index_state(c, schema, what.name) is False:
            # What an earlier build left (a try that gave way, a killed worker): dropped
            # concurrently, under the same lock timeout, as part of this try.
            _drop_invalid(c, schema, what.name)
        runner.run_statement(c, statement)

    where = f"Stage 2 step {at.n + 1} of {len(steps)} ({_short(step.sql)}) failed"
    began = time.perf_counter()
    try:
        run_with_lock_retries(
            conn,
            step.sql,
            locks.policy,
            in_transaction=False,
            on_retry=locks.on_retry,
            where=where,
            watch=locks.watch,
            execute=attempt,
        )
    except (LockTimeout, Deadlock) as exc:
        raise _failed(
            conn, at, steps, str(exc) + _left(conn, at), blockers=exc.blockers, retries=exc.retries
        ) from exc
    except psycopg.Error as exc:
        message = safe_message(exc, where=where) + _left(conn, at)
        raise _failed(conn, at, steps, message) from exc
    ms = round((time.perf_counter() - began) * 1000, 1)
    return StageTwoStep(step.index, step.sql, DONE, ms, step.timeout_ms)


def _left(conn: psycopg.Connection[Any], at: _Step) -> str:
    """Drop a failed build's INVALID index; what is left of it, said for the error."""
    if at.what.kind is not StepKind.BUILD_INDEX:
        return ""
    try:
        if index_state(conn, at.schema, at.what.name) is False:
            _drop_invalid(conn, at.schema, at.what.name)
    except (errors.LockNotAvailable, errors.DeadlockDetected):
        # The blocker still holds the table: the next build of this name drops it first.
        return (
            f" Its INVALID index {at.what.name} could not be dropped yet (the table is still "
            "locked); the next apply drops it before it builds the index again."
        )
    return ""


def _failed(
    conn: psycopg.Connection[Any],
    at: _Step,
    steps: list[StageTwoStep],
    message: str,
    **lock: Any,
) -> StageTwoFailed:
    """Mark the step and the change ``failed`` in the marker; the error to raise."""
    step = at.step
    steps[at.n] = StageTwoStep(step.index, step.sql, FAILED, None, step.timeout_ms)
    update_steps(conn, at.marker_id, [s.to_json() for s in steps], status=FAILED, error=message)
    return StageTwoFailed(message, step.index, step.sql, **lock)


def _short(statement: str, limit: int = 80) -> str:
    return statement if len(statement) <= limit else statement[: limit - 3] + "..."


def _drop_invalid(conn: psycopg.Connection[Any], schema: str, name: str) -> None:
    conn.execute(
        sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(schema, name))
    )


def index_state(conn: psycopg.Connection[Any], schema: str, name: str) -> bool | None:
    """True: the index exists and is valid; False: it exists, INVALID; None: no such index."""
    row = conn.execute(
        """SELECT i.indisvalid FROM pg_catalog.pg_index i
           JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s""",
        [schema, name],
    ).fetchone()
    return None if row is None else bool(row[0])


def _constraint_validated(
    conn: psycopg.Connection[Any], schema: str, table: str, name: str
) -> bool | None:
    row = conn.execute(
        """SELECT con.convalidated FROM pg_catalog.pg_constraint con
           JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND con.conname = %s""",
        [schema, table, name],
    ).fetchone()
    return None if row is None else bool(row[0])


def _not_null(conn: psycopg.Connection[Any], schema: str, table: str, column: str) -> bool:
    row = conn.execute(
        """SELECT a.attnotnull FROM pg_catalog.pg_attribute a
           JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relname = %s AND a.attname = %s AND NOT a.attisdropped""",
        [schema, table, column],
    ).fetchone()
    return bool(row and row[0])


def _already_done(conn: psycopg.Connection[Any], schema: str, step: Step) -> bool:
    """Whether the catalog shows ``step`` happened (a crash between it and its mark)."""
    if step.kind is StepKind.BUILD_INDEX:
        return index_state(conn, schema, step.name) is True
    if step.kind is StepKind.DROP_INDEX:
        return index_state(conn, schema, step.name) is None
    if step.kind is StepKind.VALIDATE:
        # Gone: a later step (the NOT NULL helper's drop) already ran.
        return _constraint_validated(conn, schema, step.table, step.name) is not False
    if step.kind is StepKind.SET_NOT_NULL:
        return _not_null(conn, schema, step.table, step.name)
    if step.kind is StepKind.DROP_CONSTRAINT:
        return _constraint_validated(conn, schema, step.table, step.name) is None
    if step.kind is StepKind.ADD_CONSTRAINT:
        return _constraint_validated(conn, schema, step.table, step.name) is not None
    return False
