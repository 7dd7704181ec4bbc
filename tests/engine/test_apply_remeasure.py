"""Severities decided on the live data are measured again under the apply's locks: rows that
arrived between review and apply send the plan back for review, with nothing changed."""

from __future__ import annotations

import psycopg
import pytest

from schemabuilder.engine.apply import PlanChanged, StatementFailed, WillFail, apply_plan
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.hazards.remeasure import data_sensitive
from tests.engine.test_apply_checks import _blueprint, _request, _reviewed, _table
from tests.engine.test_apply_checks import conn as conn


def _severity(p, kind: HazardKind) -> Severity:  # type: ignore[no-untyped-def]
    (hazard,) = [h for h in p.hazards if h.kind is kind]
    return hazard.severity


def test_a_table_that_was_empty_at_review_and_has_rows_at_apply_is_not_dropped(
    conn: psycopg.Connection,
) -> None:
    bp = _blueprint(_table("a"))  # b is no longer wanted: dropped
    p, reviewed = _reviewed(conn, bp)
    assert _severity(p, HazardKind.DROPS_TABLE) is Severity.WARNING  # empty: auto-queued
    assert data_sensitive(p.statements)
    conn.execute("INSERT INTO app.b SELECT g FROM generate_series(1, 1000) g")

    with pytest.raises(PlanChanged, match="live data changed") as info:
        apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    assert _severity(info.value.new_plan, HazardKind.DROPS_TABLE) is Severity.DANGER
    assert "1,000 rows" in str(info.value)
    (rows,) = conn.execute("SELECT count(*) FROM app.b").fetchone()
    assert rows == 1000


def test_a_column_all_null_at_review_and_filled_at_apply_is_not_dropped(
    conn: psycopg.Connection,
) -> None:
    conn.execute("ALTER TABLE app.a ADD COLUMN note text; INSERT INTO app.a VALUES (1, NULL)")
    bp = _blueprint(_table("a"), _table("b"))  # a.note is no longer wanted
    p, reviewed = _reviewed(conn, bp)
    assert _severity(p, HazardKind.DROPS_COLUMN) is not Severity.DANGER
    conn.execute("UPDATE app.a SET note = 'kept'")

    with pytest.raises(PlanChanged):
        apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    (note,) = conn.execute("SELECT note FROM app.a").fetchone()
    assert note == "kept"


def test_a_unique_that_had_no_duplicates_at_review_is_refused_when_they_appear(
    conn: psycopg.Connection,
) -> None:
    conn.execute("ALTER TABLE app.a ADD COLUMN email text; INSERT INTO app.a VALUES (1, 'x')")
    table = _table("a", "email")
    table["unique"] = [["email"]]
    bp = _blueprint(table, _table("b"))
    # In one transaction (online, the key's index is built after the commit, and that build
    # fails on the duplicates: tests/apply/test_online_remeasure.py).
    p, reviewed = _reviewed(conn, bp, apply_mode="atomic")
    assert _severity(p, HazardKind.ADDS_UNIQUE) is Severity.INFO
    conn.execute("INSERT INTO app.a VALUES (2, 'x')")

    with pytest.raises(PlanChanged) as info:
        apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    assert info.value.new_plan.will_fail


def test_an_unchanged_count_applies_the_reviewed_plan(conn: psycopg.Connection) -> None:
    bp = _blueprint(_table("a"))
    p, reviewed = _reviewed(conn, bp)
    outcome = apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
    assert outcome.plan is None  # the reviewed statements ran as they were
    assert "remeasure" in outcome.phases_ms
    (gone,) = conn.execute("SELECT to_regclass('app.b') IS NULL").fetchone()
    assert gone


def test_a_reviewed_plan_that_will_fail_is_never_run(conn: psycopg.Connection) -> None:
    conn.execute(
        "ALTER TABLE app.a ADD COLUMN email text; INSERT INTO app.a VALUES (1, 'x'), (2, 'x')"
    )
    table = _table("a", "email")
    table["unique"] = [["email"]]
    bp = _blueprint(table, _table("b"))
    p, reviewed = _reviewed(conn, bp)
    assert p.will_fail
    with pytest.raises(WillFail, match="will fail: 1 duplicate"):
        apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)


def test_a_key_to_another_schemas_table_is_not_counted_at_apply_either(
    conn: psycopg.Connection,
) -> None:
    """The rows of a table outside the blueprint are never read by a plan, the apply's
    re-measure included: an orphan that arrived after review is not caught there, and the
    server's own check fails the statement, with nothing changed (in one transaction: online,
    the key stays NOT VALID and its validation fails after the commit)."""
    conn.execute(
        "CREATE SCHEMA ext; CREATE TABLE ext.users (id integer PRIMARY KEY);"
        "INSERT INTO ext.users VALUES (1); INSERT INTO app.a VALUES (1)"
    )
    try:
        table = _table("a")
        table["columns"][0]["references"] = "ext.users(id)"
        bp = _blueprint(table, _table("b"))
        p, reviewed = _reviewed(conn, bp, apply_mode="atomic")
        assert _severity(p, HazardKind.ADDS_FOREIGN_KEY) is Severity.WARNING
        assert data_sensitive(p.statements)
        conn.execute("INSERT INTO app.a VALUES (2)")  # no user 2

        with pytest.raises(StatementFailed, match="foreign key"):
            apply_plan(conn, bp, _request(bp, p), reviewed=reviewed)
        (keys,) = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'app.a'::regclass "
            "AND contype = 'f'"
        ).fetchone()
        assert keys == 0
    finally:
        conn.execute("DROP SCHEMA ext CASCADE")
