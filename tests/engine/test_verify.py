"""Verification after the statements: the tables the plan changes must match the desired
state, and a table it did not say it changes is found by its fingerprint when it moved."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from schemabuilder.engine.apply import Work, fingerprints, verify
from schemabuilder.engine.catalog import introspect
from schemabuilder.engine.phases import Phase, Statement

SCHEMA = "app"


@pytest.fixture
def conn(target_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(target_db_url, autocommit=True) as connection:
        connection.execute(
            b"CREATE SCHEMA app; CREATE TABLE app.a (id int PRIMARY KEY);"
            b"CREATE TABLE app.b (id int PRIMARY KEY); CREATE TABLE app.c (id int PRIMARY KEY)"
        )
        try:
            yield connection
        finally:
            connection.execute(
                b"DROP EVENT TRIGGER IF EXISTS sb_test_noop; DROP SCHEMA app CASCADE"
            )


def _work(conn: psycopg.Connection, desired_tables: set[str], sql: str) -> Work:
    """A change that says it alters app.a only (its statement names table a)."""
    desired = introspect(conn, SCHEMA, tables=desired_tables)
    statement = Statement(sql=sql, phase=Phase.ADD_COLUMNS, table="a", reason="test")
    return Work((statement,), desired, desired.hash, (), "x", sql, None)


def _run(conn: psycopg.Connection, work: Work, scope: set[str], extra: str) -> list[str]:
    """Run the change plus ``extra`` (what the plan did not foresee), verify, roll back."""
    with conn.transaction(force_rollback=True):
        before = fingerprints(conn, SCHEMA, scope)
        conn.execute(work.sql.encode())
        if extra:
            conn.execute(extra.encode())
        residue, _ = verify(conn, SCHEMA, work, scope, before)
    return residue


def test_a_table_the_plan_did_not_touch_is_checked_when_it_changed(
    conn: psycopg.Connection,
) -> None:
    scope = {"a", "b", "c"}
    work = _work(conn, {"a", "b", "c"}, "SELECT 1")
    assert _run(conn, work, scope, "") == []
    # b is in the desired state: it is introspected and its new column is residue.
    residue = _run(conn, work, scope, "ALTER TABLE app.b ADD COLUMN sneaky int")
    assert residue == ["column b.sneaky is unexpected"]
    # c is in scope but not in the desired state (nor dropped): it must not have changed.
    work_without_c = _work(conn, {"a", "b"}, "SELECT 1")
    residue = _run(conn, work_without_c, scope, "COMMENT ON TABLE app.c IS 'moved'")
    assert residue == ["table c changed, but the plan did not change it"]


def test_the_plans_own_table_is_verified(conn: psycopg.Connection) -> None:
    """The statement changes a, but not into the desired state: the difference is residue."""
    conn.execute(b"ALTER TABLE app.a ADD COLUMN note text")
    work = _work(conn, {"a", "b"}, "ALTER TABLE app.a ADD COLUMN note2 text")
    conn.execute(b"ALTER TABLE app.a DROP COLUMN note")
    residue = _run(conn, work, {"a", "b"}, "")
    assert sorted(residue) == ["column a.note is missing", "column a.note2 is unexpected"]
