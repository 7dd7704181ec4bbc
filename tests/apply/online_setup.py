"""The live schema and the blueprint of the online apply tests, shared with the child process
that the crash tests kill (``online_child.py``)."""

from __future__ import annotations

from typing import Any

import psycopg

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import ApplyRequest, Reviewed, fingerprints, scope_of
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.plan import Plan, plan

SCHEMA = "shop"
MANAGED = frozenset({"customers", "orders"})
PROPOSAL = "00000000-0000-0000-0000-0000000000a1"

LIVE = """
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id bigint PRIMARY KEY, email text);
CREATE TABLE shop.orders (
    id bigint PRIMARY KEY, code text, note text, customer_id bigint, amount integer
);
CREATE INDEX idx_orders_note ON shop.orders (note);
INSERT INTO shop.customers SELECT g, 'c' || g || '@example.com' FROM generate_series(1, 50) g;
INSERT INTO shop.orders SELECT g, 'o' || g, 'n', (g % 50) + 1, g FROM generate_series(1, 500) g;
"""


def _column(name: str, type_: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, **more}


def blueprint(*, apply_mode: str | None = None) -> NormalizedBlueprint:
    """Every kind of second-stage step on the two existing tables: a unique key (its index
    built concurrently, then attached), the foreign key to it, a check, a NOT NULL, an index
    built and one dropped concurrently; and a new table (all in stage 1)."""
    payload: dict[str, Any] = {
        "schema_version": "002",
        "description": "online",
        "auto_columns": False,
        "tables": [
            {
                "name": "customers",
                "rls": False,
                "columns": [
                    _column("id", "BIGINT", primary_key=True),
                    _column("email", "TEXT", unique=True),
                ],
            },
            {
                "name": "orders",
                "rls": False,
                "columns": [
                    _column("id", "BIGINT", primary_key=True),
                    _column("code", "TEXT", not_null=True),
                    _column("note", "TEXT"),
                    _column("customer_id", "BIGINT", references="customers.id"),
                    _column("amount", "INTEGER", check="amount > 0"),
                ],
                "indexes": [{"name": "idx_orders_amount", "columns": ["amount"]}],
            },
            {
                "name": "notes",
                "rls": False,
                "columns": [
                    _column("id", "BIGINT", primary_key=True),
                    _column("order_id", "BIGINT", references="orders.id"),
                ],
                "indexes": [{"name": "idx_notes_order", "columns": ["order_id"]}],
            },
        ],
    }
    if apply_mode is not None:
        payload["apply_mode"] = apply_mode
    return validate_payload(payload)


def reviewed_plan(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, apply_mode: str = "online"
) -> tuple[Plan, Reviewed]:
    prints = fingerprints(conn, SCHEMA, scope_of(bp, MANAGED))
    p = plan(conn, bp, schema=SCHEMA, managed=MANAGED, apply_mode=apply_mode)
    return p, Reviewed.of(p, prints)


def request_for(p: Plan, *, lock_timeout_ms: int = 10_000) -> ApplyRequest:
    return ApplyRequest.reviewing(
        p,
        proposal_id=PROPOSAL,
        tenant_id="t_online",
        schema=SCHEMA,
        managed=MANAGED,
        schema_hash="online",
        version="002",
        description="online",
        applied_by="alice",
        lock_key=1717,
        lock_timeout_ms=lock_timeout_ms,
        statement_timeout_ms=60_000,
    )


def invalid_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        """SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND NOT i.indisvalid ORDER BY 1""",
        [SCHEMA],
    ).fetchall()
    return [str(r[0]) for r in rows]
