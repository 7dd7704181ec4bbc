"""The second stage of an online apply: the slow steps, one by one, outside a transaction.

Each step runs in autocommit, with the change's ``lock_timeout`` and its own statement
timeout, and is marked done in the target's marker right after it succeeds. Before a step
runs, the catalog is asked whether it already happened: a worker killed between a step and
its mark leaves a step done but pending, which is then marked, never run again blindly (an
index present and valid, a constraint validated, a column NOT NULL, a helper gone). An INVALID
index of a build's name, left by a build that failed or was killed, is dropped
(``DROP INDEX CONCURRENTLY IF EXISTS``) and the build run again.

A step that fails stops the stage: a concurrent build's INVALID index is dropped, the marker
says ``failed`` and which step, and what stage 1 made stays (it is a consistent schema: a
constraint NOT VALID is enforced for new rows; the next plan adds what is missing).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from schemabuilder.engine.apply import runner
from schemabuilder.engine.apply.errors import StageTwoFailed
from schemabuilder.engine.apply.marker import FAILED, update_steps
from schemabuilder.engine.diff.phases import Statement
from schemabuilder.engine.diff.steps import Step, StepKind, step_of
from schemabuilder.engine.safe_errors import safe_message

PENDING = "pending"
DONE = "done"


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
    lock_timeout_ms: int,
    statement_timeout_ms: int,
    on_step: StepProgress | None = None,
) -> list[StageTwoStep]:
    """Run the pending ``steps`` in order, marking each; the steps as they end up.

    Raises ``StageTwoFailed`` when a step fails, a lock timeout included (the marker says
    ``failed``); stage 1 stays committed.
    """
    conn.autocommit = True
    done = list(steps)
    conn.execute(
        sql.SQL("SET search_path TO {}; SET lock_timeout = {}").format(
            sql.Identifier(schema), sql.Literal(f"{lock_timeout_ms}ms")
        )
    )
    try:
        for n, step in enumerate(done):
            if step.status == DONE:
                continue
            what = step_of(step.sql)
            if _already_done(conn, schema, what):
                done[n] = StageTwoStep(step.index, step.sql, DONE, 0.0, step.timeout_ms)
            else:
                done[n] = _run_step(
                    conn, schema, step, what, n, done, marker_id, statement_timeout_ms
                )
            update_steps(conn, marker_id, [s.to_json() for s in done])
            if on_step is not None:
                on_step(done[n])
    finally:
        conn.execute("RESET search_path; RESET lock_timeout; RESET statement_timeout")
    return done


def _run_step(
    conn: psycopg.Connection[Any],
    schema: str,
    step: StageTwoStep,
    what: Step,
    n: int,
    steps: list[StageTwoStep],
    marker_id: int,
    statement_timeout_ms: int,
) -> StageTwoStep:
    timeout = max(step.timeout_ms or 0, statement_timeout_ms)
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{timeout}ms")))
    if what.kind is StepKind.BUILD_INDEX and index_state(conn, schema, what.name) is False:
        _drop_invalid(conn, schema, what.name)  # an earlier build's remains
    began = time.perf_counter()
    try:
        runner.run_statement(conn, step.sql)
    except psycopg.Error as exc:
        if what.kind is StepKind.BUILD_INDEX and index_state(conn, schema, what.name) is False:
            _drop_invalid(conn, schema, what.name)
        where = f"Stage 2 step {n + 1} of {len(steps)} ({_short(step.sql)}) failed"
        message = safe_message(exc, where=where)
        steps[n] = StageTwoStep(step.index, step.sql, FAILED, None, step.timeout_ms)
        update_steps(conn, marker_id, [s.to_json() for s in steps], status=FAILED, error=message)
        raise StageTwoFailed(message, step.index, step.sql) from exc
    ms = round((time.perf_counter() - began) * 1000, 1)
    return StageTwoStep(step.index, step.sql, DONE, ms, step.timeout_ms)


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
