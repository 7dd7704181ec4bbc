"""Renames alone and in any combination: columns (renamed_from), an index, a named check, a
policy and the table itself. Every rename is emitted as a RENAME (never a drop and add), the
rows keep their values, and once applied a second plan is empty."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemabuilder.engine import validate_payload
from schemabuilder.engine.plan import plan

LIVE = """
CREATE TABLE {s}.{table} (
    id integer PRIMARY KEY,
    tenant_id uuid NOT NULL,
    email text NOT NULL,
    status text NOT NULL DEFAULT 'new',
    CONSTRAINT status_known CHECK (status IN ('new', 'done'))
);
CREATE INDEX by_email ON {s}.{table} (email) WHERE status <> 'done';
ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY;
CREATE POLICY see_own ON {s}.{table} FOR SELECT
    USING (tenant_id::text = current_setting('app.tenant', true) AND status <> 'done');
INSERT INTO {s}.{table} VALUES (1, gen_random_uuid(), 'a@x', 'new'), (2, gen_random_uuid(), 'b@x', 'done');
"""

COLUMNS = ("email", "status")
KINDS = ("table", "email", "status", "index", "check", "policy")


def _blueprint(renamed: frozenset[str]) -> dict[str, Any]:
    def name(old: str) -> str:
        return f"{old}_2" if old in renamed else old

    def column(old: str, type_: str, **rest: Any) -> dict[str, Any]:
        col = {"name": name(old), "type": type_, "not_null": True, **rest}
        if old in renamed:
            col["renamed_from"] = old
        return col

    email, status = name("email"), name("status")
    table: dict[str, Any] = {
        "name": name("items"),
        "rls": True,
        "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": True},
            {"name": "tenant_id", "type": "UUID", "not_null": True},
            column("email", "TEXT"),
            column("status", "TEXT", default="'new'"),
        ],
        "checks": [{"name": name("status_known"), "expression": f"{status} IN ('new', 'done')"}],
        "indexes": [{"name": name("by_email"), "columns": [email], "where": f"{status} <> 'done'"}],
        "policies": [
            {
                "name": name("see_own"),
                "command": "SELECT",
                "using": f"tenant_id::text = current_setting('app.tenant', true) "
                f"AND {status} <> 'done'",
            }
        ],
    }
    if "items" in renamed:
        table["renamed_from"] = "items"
    return {
        "schema_version": "2",
        "description": "renames",
        "auto_columns": False,
        "tables": [table],
    }


def _as_names(kinds: frozenset[str]) -> frozenset[str]:
    mapping = {
        "table": "items",
        "email": "email",
        "status": "status",
        "index": "by_email",
        "check": "status_known",
        "policy": "see_own",
    }
    return frozenset(mapping[k] for k in kinds)


@pytest.fixture
def conn(target_db_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(target_db_url, autocommit=True) as connection:
        yield connection


_counter = itertools.count()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.frozensets(st.sampled_from(KINDS), min_size=1))
def test_any_combination_of_renames_is_renamed_in_place_and_converges(
    conn: psycopg.Connection[Any], kinds: frozenset[str]
) -> None:
    schema = f"ren_{next(_counter)}"
    renamed = _as_names(kinds)
    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
    try:
        conn.execute(LIVE.format(s=schema, table="items").encode())
        bp = validate_payload(_blueprint(renamed))
        p = plan(conn, bp, schema=schema, managed={"items"})

        sql = p.sql
        assert "DROP " not in sql and "CREATE " not in sql and "ADD " not in sql, sql
        renames = [s.sql for s in p.statements if " RENAME " in s.sql]
        # A renamed table's primary key follows its name (items_pkey -> items_2_pkey).
        expected = renamed | ({"items_pkey"} if "items" in renamed else set())
        assert len(renames) == len(expected), sql
        for old in expected:
            new_name = "items_2_pkey" if old == "items_pkey" else f"{old}_2"
            assert any(
                r.endswith(f" TO {new_name}") and old in r[: r.rindex(" TO ")] for r in renames
            ), (old, sql)

        with conn.transaction():
            conn.execute(sql.encode())
        again = plan(conn, bp, schema=schema, managed={t.name for t in bp.tables})
        assert again.is_empty, again.sql
        table = f"{schema}.{'items_2' if 'items' in renamed else 'items'}"
        email = "email_2" if "email" in renamed else "email"
        rows = conn.execute(f"SELECT id, {email} FROM {table} ORDER BY id").fetchall()
        assert rows == [(1, "a@x"), (2, "b@x")]
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
