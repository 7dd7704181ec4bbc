"""The target's own commit marker: a ``schemabuilder.schema_migrations`` row per applied
proposal, written last inside the change's transaction, so that after a crash the row (or its
absence) says whether the change committed.

An online change's row is written with ``status`` ``phase1`` and the second stage's steps in
``phase2_steps`` (``[{index, sql, status: pending | done, ms}]``); each step is marked done as
soon as it has run, and the row says ``success`` only once the schema is verified after the
last one (``failed``, with the step, when one fails). A worker that takes over after a crash
reads what is left from here.

A change too large for the server's lock table in one transaction (``engine.batches``) lists
its further first-stage transactions in ``phase1_batches`` (``[{batch, status, ms, tables,
statements: [{index, sql, table, phase, timeout_ms}]}]``, ``apply.batches``): each marks itself
done in its own transaction, so after a crash a batch is either done and marked, or not done
at all. The row says ``phase1`` until the last batch, the second stage and the re-plan are
done.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

if TYPE_CHECKING:
    from schemabuilder.engine.apply.review import ApplyRequest, Work

MARKER_SCHEMA = "schemabuilder"

MARKER_TABLE = "schema_migrations"

# The seed's schema_migrations columns, plus the proposal and the blueprint's hash.
MARKER_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {MARKER_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {MARKER_SCHEMA}.{MARKER_TABLE} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id text NOT NULL,
        target_schema text NOT NULL,
        version text NOT NULL,
        description text NOT NULL DEFAULT '',
        applied_by text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        checksum text NOT NULL,
        status text NOT NULL DEFAULT 'success',
        error_message text,
        sql_script text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        proposal_id uuid NOT NULL UNIQUE,
        schema_hash text NOT NULL
    )""",
)


# Added to markers made before online applies existed; IF NOT EXISTS makes it idempotent.
STEPS_DDL = (
    f"ALTER TABLE {MARKER_SCHEMA}.{MARKER_TABLE} ADD COLUMN IF NOT EXISTS phase2_steps jsonb"
)

# Added by the first change applied in batches; the same care as for STEPS_DDL.
BATCHES_DDL = (
    f"ALTER TABLE {MARKER_SCHEMA}.{MARKER_TABLE} ADD COLUMN IF NOT EXISTS phase1_batches jsonb"
)

# Marker statuses of an online change.
PHASE1 = "phase1"
SUCCESS = "success"
FAILED = "failed"

# Statuses of a second-stage step or a further batch in the marker (or FAILED).
PENDING = "pending"
DONE = "done"


def write_marker(
    conn: psycopg.Connection[Any],
    request: ApplyRequest,
    current: Work,
    steps: Sequence[dict[str, Any]] = (),
    batches: Sequence[dict[str, Any]] = (),
) -> int:
    """The change's row; with ``steps`` (an online change's second stage) or ``batches``
    (its further first-stage transactions), in ``phase1``."""
    if not _marker_exists(conn):  # the first apply on this target creates it
        for ddl in MARKER_DDL:
            conn.execute(ddl.encode())
    if not steps and not batches:
        return _insert(conn, request, current, (), SUCCESS)
    # Each column checked first: the ALTER takes an ACCESS EXCLUSIVE lock on the marker
    # table, which every target of this database shares, until the commit.
    if not _has_column(conn, "phase2_steps"):
        conn.execute(STEPS_DDL.encode())
    if batches and not _has_column(conn, "phase1_batches"):
        conn.execute(BATCHES_DDL.encode())
    return _insert(conn, request, current, steps, PHASE1, batches)


def _insert(
    conn: psycopg.Connection[Any],
    request: ApplyRequest,
    current: Work,
    steps: Sequence[dict[str, Any]],
    status: str,
    batches: Sequence[dict[str, Any]] = (),
) -> int:
    online = bool(steps or batches)
    columns = "" if not online else ", status, phase2_steps"
    values = "" if not online else ", %s, %s"
    extra: list[Any] = [] if not online else [status, Jsonb(list(steps))]
    if batches:
        columns, values = columns + ", phase1_batches", values + ", %s"
        extra.append(Jsonb(list(batches)))
    row = conn.execute(
        f"""INSERT INTO {MARKER_SCHEMA}.{MARKER_TABLE}
            (tenant_id, target_schema, version, description, applied_by, checksum, sql_script,
             metadata, proposal_id, schema_hash{columns})
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s{values}) RETURNING id""",
        [
            request.tenant_id,
            request.schema,
            request.version,
            request.description,
            request.applied_by,
            current.checksum,
            current.sql,
            Jsonb({**request.metadata, "snapshot_hash": current.desired_hash}),
            request.proposal_id,
            request.schema_hash,
            *extra,
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def update_steps(
    conn: psycopg.Connection[Any],
    marker_id: int,
    steps: Sequence[dict[str, Any]],
    *,
    status: str = PHASE1,
    error: str | None = None,
) -> None:
    """Record the second stage's progress (autocommit: each mark is durable at once)."""
    _update(conn, marker_id, "phase2_steps", steps, status, error)


def update_batches(
    conn: psycopg.Connection[Any],
    marker_id: int,
    batches: Sequence[dict[str, Any]],
    *,
    status: str = PHASE1,
    error: str | None = None,
) -> None:
    """Record the further first-stage transactions' progress (a batch's own mark runs inside
    its transaction: it commits with it)."""
    _update(conn, marker_id, "phase1_batches", batches, status, error)


def _update(
    conn: psycopg.Connection[Any],
    marker_id: int,
    column: str,
    progress: Sequence[dict[str, Any]],
    status: str,
    error: str | None,
) -> None:
    """``column`` (one of the two progress lists), the status and the error of a change."""
    conn.execute(
        sql.SQL("UPDATE {} SET {} = %s, status = %s, error_message = %s WHERE id = %s").format(
            sql.Identifier(MARKER_SCHEMA, MARKER_TABLE), sql.Identifier(column)
        ),
        [Jsonb(list(progress)), status, error, marker_id],
    )


def _has_column(conn: psycopg.Connection[Any], column: str) -> bool:
    row = conn.execute(
        """SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute
           WHERE attrelid = to_regclass(%s) AND attname = %s AND NOT attisdropped)""",
        [f"{MARKER_SCHEMA}.{MARKER_TABLE}", column],
    ).fetchone()
    return bool(row and row[0])


def _marker_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [f"{MARKER_SCHEMA}.{MARKER_TABLE}"]
    ).fetchone()
    return bool(row and row[0])


def read_marker(conn: psycopg.Connection[Any], proposal_id: str) -> dict[str, Any] | None:
    """The target's commit marker for a proposal, or None (never applied, or rolled back):
    its ``status`` (``success``; an online change's ``phase1`` until its second stage is done
    and verified, or ``failed``), ``phase2_steps``, the second stage's steps ([] for a
    change that had none), and ``phase1_batches``, its further first-stage transactions."""
    if not _marker_exists(conn):
        return None
    steps = "phase2_steps" if _has_column(conn, "phase2_steps") else "NULL::jsonb"
    batches = "phase1_batches" if _has_column(conn, "phase1_batches") else "NULL::jsonb"
    cur = conn.execute(
        f"SELECT id, version, checksum, applied_at, metadata, status, {steps}, error_message,"
        f" sql_script, {batches} FROM {MARKER_SCHEMA}.{MARKER_TABLE} WHERE proposal_id = %s",
        [proposal_id],
    )
    row = cur.fetchone()
    if row is None:
        return None
    return {
        "id": row[0],
        "version": row[1],
        "checksum": row[2],
        "applied_at": row[3],
        "metadata": row[4],
        "status": row[5],
        "phase2_steps": list(row[6] or []),
        "error_message": row[7],
        "sql_script": row[8],
        "phase1_batches": list(row[9] or []),
    }
