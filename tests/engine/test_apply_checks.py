"""The checks of an apply around its statements: the scope's fingerprints, read on a second
connection while the statements run, and what happens when they show the schema moved or
cannot be read there."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import (
    ApplyRequest,
    PlanChanged,
    Reviewed,
    apply_plan,
    fingerprints,
    lock_tables,
    scope_of,
)
from schemabuilder.engine.apply.scope import ScopeCheck
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.plan import Plan, plan

SCHEMA = "app"


def _table(name: str, *columns: str) -> dict[str, Any]:
    cols = [{"name": "id", "type": "INTEGER", "primary_key": True}]
    cols += [{"name": c, "type": "TEXT"} for c in columns]
    return {"name": name, "columns": cols, "rls": False}


def _blueprint(*tables: dict[str, Any]) -> NormalizedBlueprint:
    return validate_payload(
        {"schema_version": "002", "description": "t", "auto_columns": False, "tables": list(tables)}
    )


@pytest.fixture
def conn(target_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(target_db_url, autocommit=True) as connection:
        connection.execute(
            b"CREATE SCHEMA app; CREATE TABLE app.a (id integer PRIMARY KEY);"
            b"CREATE TABLE app.b (id integer PRIMARY KEY)"
        )
        try:
            yield connection
        finally:
            connection.execute(
                b"DROP SCHEMA app CASCADE; DROP SCHEMA IF EXISTS schemabuilder CASCADE"
            )


def _reviewed(
    conn: psycopg.Connection, bp: NormalizedBlueprint, apply_mode: str = "online"
) -> tuple[Plan, Reviewed]:
    prints = fingerprints(conn, SCHEMA, scope_of(bp, {"a", "b"}))
    p = plan(conn, bp, schema=SCHEMA, managed={"a", "b"}, apply_mode=apply_mode)
    return p, Reviewed.of(p, prints)


def _request(bp: NormalizedBlueprint, p: Plan) -> ApplyRequest:
    return ApplyRequest.reviewing(
        p,
        proposal_id="00000000-0000-0000-0000-0000000000a1",
        tenant_id="t_test",
        schema=SCHEMA,
        managed=frozenset({"a", "b"}),
        schema_hash="test",
        version=bp.schema_version,
        description="test",
        applied_by="test",
        lock_key=11,
        lock_timeout_ms=5_000,
        statement_timeout_ms=60_000,
    )


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        [f"app.{table}"],
    ).fetchall()
    return [r[0] for r in rows]


def test_the_reviewed_statements_run_and_the_check_beside_them_passes(
    conn: psycopg.Connection,
) -> None:
    bp = _blueprint(_table("a", "note"), _table("b"))
    p, reviewed = _reviewed(conn, bp)
    outcome = apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    assert not outcome.replanned_schema_moved
    assert outcome.plan is None  # the reviewed statements ran as they were
    assert _columns(conn, "a") == ["id", "note"]


def test_a_table_the_plan_does_not_change_that_moved_undoes_the_statements(
    conn: psycopg.Connection,
) -> None:
    """b moves after review; the plan does not touch b, so only the check on the second
    connection can see it: the statements on a are undone and the fresh plan (which would
    now drop b's new column) goes back to review."""
    bp = _blueprint(_table("a", "note"), _table("b"))
    p, reviewed = _reviewed(conn, bp)
    conn.execute(b"ALTER TABLE app.b ADD COLUMN by_hand text")
    with pytest.raises(PlanChanged) as raised:
        apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    assert "by_hand" in raised.value.new_plan.sql
    assert _columns(conn, "a") == ["id"]
    assert _columns(conn, "b") == ["id", "by_hand"]


def test_a_move_the_fresh_plan_absorbs_is_applied_after_planning_again(
    conn: psycopg.Connection,
) -> None:
    """A column added to b and dropped again: b's fingerprint moved but the fresh plan is the
    reviewed one, so the change is applied, after the statements ran a second time."""
    bp = _blueprint(_table("a", "note"), _table("b"))
    p, reviewed = _reviewed(conn, bp)
    conn.execute(b"ALTER TABLE app.b ADD COLUMN x text; ALTER TABLE app.b DROP COLUMN x")
    outcome = apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    assert outcome.replanned_schema_moved
    assert outcome.checksum == p.checksum
    assert _columns(conn, "a") == ["id", "note"]


def test_without_a_second_connection_the_check_runs_in_the_transaction_and_statements_run_once(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScopeCheck, "_connect", staticmethod(lambda *args: None))  # refused
    bp = _blueprint(_table("a", "note", "memo"), _table("b"))
    p, reviewed = _reviewed(conn, bp)
    ran: list[str] = []
    outcome = apply_plan(
        conn, bp, _request(bp, p), reviewed=reviewed, on_progress=lambda i, n, t: ran.append(t.sql)
    )
    assert not outcome.replanned_schema_moved
    assert "fingerprint" in outcome.phases_ms  # checked here, before the statements
    assert ran == [st.sql for st in p.statements]  # each statement ran once, not twice
    assert _columns(conn, "a") == ["id", "note", "memo"]


def test_a_statements_own_timeout_ends_with_it(conn: psycopg.Connection) -> None:
    """A statement that scans a populated table gets a longer statement_timeout; the ones
    after it get the change's own again."""
    bp = _blueprint(_table("a", "note", "memo"), _table("b"))
    p, reviewed = _reviewed(conn, bp)
    first, *rest = p.statements
    slow = dataclasses.replace(first, statement_timeout_ms=600_000)
    reviewed = dataclasses.replace(reviewed, statements=(slow, *rest))
    seen: list[str] = []

    def after_each(index: int, total: int, timing: Any) -> None:
        seen.append(conn.execute("SHOW statement_timeout").fetchone()[0])

    apply_plan(conn, bp, _request(bp, p), reviewed=reviewed, on_progress=after_each)
    assert len(seen) == len(p.statements) >= 2
    assert seen == ["1min"] * len(seen)  # the request's 60 s, also right after the slow one


def _locked_exclusively(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE l.pid = pg_backend_pid() AND l.mode = 'AccessExclusiveLock' "
        "AND c.relnamespace = 'app'::regnamespace AND c.relkind = 'r' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def test_a_renamed_table_is_locked_up_front_by_its_live_name(conn: psycopg.Connection) -> None:
    """The statements of a renamed table name it by its new name, which does not exist yet:
    the up-front lock must find it by the name it has now."""
    bp = _blueprint({**_table("a2", "note"), "renamed_from": "a"}, _table("b"))
    p, _ = _reviewed(conn, bp)
    assert {st.table for st in p.statements} - {""} == {"a2"}
    with conn.transaction():
        assert lock_tables(conn, SCHEMA, p.statements) is True
        assert _locked_exclusively(conn) == []  # by the new name alone, nothing is found
    with conn.transaction():
        assert lock_tables(conn, SCHEMA, p.statements, renamed_from={"a2": "a"}) is True
        assert _locked_exclusively(conn) == ["a"]
    outcome = apply_plan(conn, bp, _request(bp, p), reviewed=_reviewed(conn, bp)[1])
    assert outcome.plan is None  # locked up front, so the reviewed statements ran as they were
    assert _columns(conn, "a2") == ["id", "note"]
