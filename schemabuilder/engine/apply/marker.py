"""The target's own commit marker: a ``schemabuilder.schema_migrations`` row per applied
proposal, written last inside the change's transaction, so that after a crash the row (or its
absence) says whether the change committed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
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


def write_marker(conn: psycopg.Connection[Any], request: ApplyRequest, current: Work) -> int:
    if not _marker_exists(conn):  # the first apply on this target creates it
        for ddl in MARKER_DDL:
            conn.execute(ddl.encode())
    row = conn.execute(
        f"""INSERT INTO {MARKER_SCHEMA}.{MARKER_TABLE}
            (tenant_id, target_schema, version, description, applied_by, checksum, sql_script,
             metadata, proposal_id, schema_hash)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
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
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def _marker_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [f"{MARKER_SCHEMA}.{MARKER_TABLE}"]
    ).fetchone()
    return bool(row and row[0])


def read_marker(conn: psycopg.Connection[Any], proposal_id: str) -> dict[str, Any] | None:
    """The target's commit marker for a proposal, or None (never applied, or rolled back)."""
    if not _marker_exists(conn):
        return None
    cur = conn.execute(
        f"SELECT id, version, checksum, applied_at, metadata FROM {MARKER_SCHEMA}.{MARKER_TABLE}"
        " WHERE proposal_id = %s",
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
    }
