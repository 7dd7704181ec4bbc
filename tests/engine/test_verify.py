"""Verification after the statements: the tables the plan changes must match the desired
state (printing again only the members the statements wrote, the others as the plan saw
them), and a table it did not say it changes is found by the lock that changing it takes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import psycopg
import pytest

from schemabuilder.engine.apply import lock_tables
from schemabuilder.engine.apply.verification import verify
from schemabuilder.engine.catalog.fingerprints import fingerprints
from schemabuilder.engine.catalog.introspect import introspect, introspect_written
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement

SCHEMA = "app"


@pytest.fixture
def conn(target_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(target_db_url, autocommit=True) as connection:
        connection.execute(
            b"CREATE SCHEMA app; CREATE TABLE app.a (id int PRIMARY KEY);"
            b"CREATE TABLE app.b (id int PRIMARY KEY, n int); CREATE INDEX b_n ON app.b (n);"
            b"CREATE TABLE app.c (id int PRIMARY KEY)"
        )
        try:
            yield connection
        finally:
            connection.execute(
                b"DROP EVENT TRIGGER IF EXISTS sb_test_noop; DROP SCHEMA app CASCADE"
            )


def _statement(sql: str, table: str = "a", lock: LockMode = LockMode.ACCESS_EXCLUSIVE) -> Statement:
    return Statement(sql=sql, phase=Phase.ADD_COLUMNS, table=table, reason="test", lock=lock)


def _run(
    conn: psycopg.Connection,
    desired: Snapshot,
    sql: str,
    extra: str = "",
    *,
    scope: set[str] | None = None,
    base: Snapshot | None = None,
) -> list[str]:
    """Run a change that says it alters app.a only, plus ``extra`` (what the plan did not
    foresee), verify, roll back."""
    scope = scope if scope is not None else {"a", "b", "c"}
    with conn.transaction(force_rollback=True):
        before = fingerprints(conn, SCHEMA, scope)
        conn.execute(sql.encode())
        if extra:
            conn.execute(extra.encode())
        residue, _ = verify(
            conn,
            SCHEMA,
            desired=desired,
            statements=[_statement(sql)],
            dropped=(),
            scope=scope,
            before=before,
            base=base,
        )
    return residue


@pytest.mark.parametrize("with_base", [False, True], ids=["whole", "written"])
def test_a_table_the_plan_did_not_touch_is_checked_when_it_changed(
    conn: psycopg.Connection, with_base: bool
) -> None:
    desired = introspect(conn, SCHEMA, tables={"a", "b", "c"})
    base = desired.restricted({"a"}) if with_base else None
    assert _run(conn, desired, "SELECT 1", base=base) == []
    # b is in the desired state: it is introspected and its new column is residue.
    residue = _run(conn, desired, "SELECT 1", "ALTER TABLE app.b ADD COLUMN sneaky int", base=base)
    assert residue == ["column b.sneaky is unexpected"]
    # A member removed from an untouched table writes no row, but takes the table's lock.
    residue = _run(conn, desired, "SELECT 1", "DROP INDEX app.b_n", base=base)
    assert residue == ["index b.b_n is missing"]
    # c is in scope but not in the desired state (nor dropped): it must not have changed.
    without_c = desired.restricted({"a", "b"})
    residue = _run(conn, without_c, "SELECT 1", "COMMENT ON TABLE app.c IS 'moved'", base=base)
    assert residue == ["table c changed, but the plan did not change it"]


def test_the_plans_own_table_is_verified(conn: psycopg.Connection) -> None:
    """The statement changes a, but not into the desired state: the difference is residue."""
    conn.execute(b"ALTER TABLE app.a ADD COLUMN note text")
    desired = introspect(conn, SCHEMA, tables={"a", "b"})
    conn.execute(b"ALTER TABLE app.a DROP COLUMN note")
    residue = _run(conn, desired, "ALTER TABLE app.a ADD COLUMN note2 text", scope={"a", "b"})
    assert sorted(residue) == ["column a.note is missing", "column a.note2 is unexpected"]


def test_a_member_the_statements_missed_is_compared_as_the_plan_saw_it(
    conn: psycopg.Connection,
) -> None:
    """The plan wants a default on a.note, but its statement changes another column: note's
    rows are not written, and as the plan saw it (no default) it is not the desired state."""
    conn.execute(b"ALTER TABLE app.a ADD COLUMN note text")
    base = introspect(conn, SCHEMA, tables={"a"})
    conn.execute(b"ALTER TABLE app.a ALTER COLUMN note SET DEFAULT 'n'")
    desired = introspect(conn, SCHEMA, tables={"a", "b", "c"})
    conn.execute(b"ALTER TABLE app.a ALTER COLUMN note DROP DEFAULT")
    residue = _run(conn, desired, "ALTER TABLE app.a ADD COLUMN other int", base=base)
    assert residue == [
        "column a.other is unexpected",
        "column a.note differs: default None (expected \"'n'::text\")",
    ]


def test_only_written_members_are_printed_again(conn: psycopg.Connection) -> None:
    """introspect_written prints the members this transaction wrote and takes the others from
    the base it is given: planting a wrong type in the base shows which is which."""
    conn.execute(b"ALTER TABLE app.b ADD COLUMN note text; COMMENT ON COLUMN app.b.note IS 'x'")
    real = introspect(conn, SCHEMA, tables={"b"})
    b = real.table_map["b"]
    planted = dataclasses.replace(
        b, columns=tuple(dataclasses.replace(c, type="planted") for c in b.columns)
    )
    base = Snapshot(schema=SCHEMA, tables=(planted,))
    with conn.transaction(force_rollback=True):
        conn.execute(b"ALTER TABLE app.b ALTER COLUMN n TYPE bigint")
        got = introspect_written(conn, SCHEMA, {"b"}, base).table_map["b"]
        whole = introspect(conn, SCHEMA, tables={"b"}).table_map["b"]
    assert {c.name: c.type for c in got.columns} == {
        "id": "planted",
        "n": "bigint",
        "note": "planted",
    }
    assert [c.position for c in got.ordered_columns] == [c.position for c in whole.ordered_columns]
    assert got.index_map == whole.index_map  # rebuilt by the type change: printed again


def test_unwritten_members_that_are_not_the_bases_are_never_guessed(
    conn: psycopg.Connection,
) -> None:
    """When the members the statements did not write are not exactly the base's (less what
    the desired state drops), the table is introspected whole: the server's digest of them
    says so, also for a change that deletes a row instead of writing one."""
    conn.execute(b"ALTER TABLE app.b ADD COLUMN note text; COMMENT ON COLUMN app.b.note IS 'x'")
    real = introspect(conn, SCHEMA, tables={"b"})
    b = real.table_map["b"]
    planted = Snapshot(
        schema=SCHEMA,
        tables=(
            dataclasses.replace(
                b, columns=tuple(dataclasses.replace(c, type="planted") for c in b.columns)
            ),
        ),
    )
    without_index = Snapshot(schema=SCHEMA, tables=(dataclasses.replace(b, indexes=()),))
    with conn.transaction(force_rollback=True):
        # The comment's row is deleted: nothing of the column is written.
        conn.execute(b"COMMENT ON COLUMN app.b.note IS NULL")
        got = introspect_written(conn, SCHEMA, {"b"}, planted).table_map["b"]
        assert got == introspect(conn, SCHEMA, tables={"b"}).table_map["b"]
        assert got.column_map["note"].comment is None
    with conn.transaction(force_rollback=True):
        conn.execute(b"DROP INDEX app.b_n")  # the desired state keeps it: not a planned drop
        got = introspect_written(conn, SCHEMA, {"b"}, planted, real).table_map["b"]
        assert got.index_map == {} and got.column_map["id"].type == "integer"
        # Dropped as the desired state says: the rest comes from the base.
        got = introspect_written(conn, SCHEMA, {"b"}, planted, without_index).table_map["b"]
        assert got.index_map == {} and got.column_map["id"].type == "planted"
    # A base that lacks a member: the table is introspected whole.
    assert introspect_written(conn, SCHEMA, {"b"}, Snapshot(schema=SCHEMA)) == real


def test_tables_are_locked_up_front_in_their_statements_strongest_mode(
    conn: psycopg.Connection,
) -> None:
    statements = [
        _statement("CREATE INDEX ...", "a", LockMode.SHARE),
        _statement("ALTER TABLE ...", "b", LockMode.SHARE),
        _statement("ALTER TABLE ...", "b", LockMode.ACCESS_EXCLUSIVE),
        _statement("CREATE TABLE ...", "new_table"),  # does not exist yet: nothing to lock
        _statement("SET LOCAL ...", "", LockMode.NONE),
    ]
    with conn.transaction(force_rollback=True):
        assert lock_tables(conn, SCHEMA, statements) is True
        held = dict(
            conn.execute(
                """SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                   WHERE l.pid = pg_backend_pid() AND c.relnamespace = 'app'::regnamespace
                     AND c.relkind = 'r'"""
            ).fetchall()
        )
    assert held == {"a": "ShareLock", "b": "AccessExclusiveLock"}
