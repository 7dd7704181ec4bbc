"""Triggers in a plan: what an applied trigger does, the reviewer's changes and words, and
the triggers a blueprint leaves alone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.diff.changes import Action
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import plan
from schemabuilder.engine.render_text import render_text
from schemabuilder.engine.triggers import trigger_residue
from tests.engine.conftest import fresh_database


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbtrig", request)


LIVE = """
CREATE TABLE notes (id integer PRIMARY KEY, body text, updated_at timestamptz NOT NULL);
INSERT INTO notes VALUES (1, 'first', '2000-01-01 00:00:00+00');
CREATE SCHEMA audit;
CREATE TABLE audit.log (tbl text, op text);
CREATE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO audit.log VALUES (TG_ARGV[0], TG_OP); RETURN NULL; END$$;
CREATE FUNCTION not_a_trigger() RETURNS integer LANGUAGE sql AS 'SELECT 1';
"""


def _blueprint(triggers: list[Any] | None) -> dict[str, Any]:
    table: dict[str, Any] = {
        "name": "notes",
        "rls": False,
        "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": True},
            {"name": "body", "type": "TEXT"},
            {"name": "updated_at", "type": "TIMESTAMPTZ", "not_null": True},
        ],
    }
    if triggers is not None:
        table["triggers"] = triggers
    return {"schema_version": "1", "description": "d", "auto_columns": False, "tables": [table]}


def _plan(conn: psycopg.Connection[Any], triggers: list[Any] | None) -> Any:
    return plan(conn, validate_payload(_blueprint(triggers)), schema="public", managed={"notes"})


def test_after_apply_an_update_sets_updated_at(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        p = _plan(conn, ["updated_at"])
        with conn.transaction():
            conn.execute(p.sql.encode())
        conn.execute("UPDATE notes SET body = 'second' WHERE id = 1")
        row = conn.execute("SELECT updated_at > '2000-01-01 00:00:00+00' FROM notes").fetchone()
        assert row == (True,)
        # The function is there now, with the convenience's body: planned again, nothing.
        assert _plan(conn, ["updated_at"]).is_empty


def test_an_update_of_trigger_fires_only_for_its_columns(url: str) -> None:
    audit = {
        "name": "notes_audit",
        "timing": "after",
        "events": [{"update": ["body"]}],
        "function": "audit.record",
        "arguments": ["notes"],
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        p = _plan(conn, [audit])
        with conn.transaction():
            conn.execute(p.sql.encode())
        conn.execute("UPDATE notes SET updated_at = now() WHERE id = 1")
        conn.execute("UPDATE notes SET body = 'x' WHERE id = 1")
        rows = conn.execute("SELECT tbl, op FROM audit.log").fetchall()
        assert rows == [("notes", "UPDATE")]
        assert _plan(conn, [audit]).is_empty


def test_a_function_of_another_schema_is_a_warning_that_says_whose_code_it_is(url: str) -> None:
    audit = {
        "name": "notes_audit",
        "timing": "after",
        "events": ["insert"],
        "function": "audit.record",
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        p = _plan(conn, [audit])
    (hazard,) = p.hazards
    assert (hazard.kind, hazard.severity) == (HazardKind.CHANGES_CODE, Severity.WARNING)
    assert "audit.record()" in hazard.message and "schema audit" in hazard.message
    assert "EXECUTE FUNCTION audit.record()" in str(hazard.numbers["after"])
    (change,) = p.changes
    (member,) = change.members
    assert (member.kind, member.name, member.action) == ("trigger", "notes_audit", Action.ADDED)
    assert "+ trigger notes_audit CREATE TRIGGER notes_audit AFTER INSERT" in render_text(p)


def test_a_changed_trigger_shows_its_definition_before_and_after(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        conn.execute(
            "CREATE TRIGGER notes_audit AFTER INSERT ON notes FOR EACH ROW "
            "EXECUTE FUNCTION audit.record('notes')"
        )
        p = _plan(
            conn,
            [
                {
                    "name": "notes_audit",
                    "timing": "after",
                    "events": ["insert", "delete"],
                    "function": "audit.record",
                    "arguments": ["notes"],
                }
            ],
        )
    (statement,) = [s for s in p.statements if s.hazards]
    assert statement.sql.startswith("CREATE OR REPLACE TRIGGER notes_audit AFTER INSERT OR DELETE")
    (hazard,) = statement.hazards
    assert "AFTER INSERT ON public.notes" in str(hazard.numbers["before"])
    assert "AFTER INSERT OR DELETE ON public.notes" in str(hazard.numbers["after"])
    assert "~ trigger notes_audit: CREATE TRIGGER" in render_text(p)


def test_triggers_left_out_are_left_alone_and_an_empty_list_drops_them(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        conn.execute(
            "CREATE TRIGGER notes_audit AFTER INSERT ON notes FOR EACH ROW "
            "EXECUTE FUNCTION audit.record('notes')"
        )
        assert _plan(conn, None).is_empty
        dropped = _plan(conn, [])
    assert [s.sql for s in dropped.statements][1:] == ["DROP TRIGGER notes_audit ON public.notes"]
    code, lock = dropped.hazards
    assert code.kind is HazardKind.CHANGES_CODE and code.severity is Severity.WARNING
    assert "relies on" in code.message
    # DROP TRIGGER locks the table ACCESS EXCLUSIVE, and it holds a row.
    assert lock.kind is HazardKind.ACCESS_EXCLUSIVE_LOCK


def test_a_function_that_does_not_return_trigger_is_refused_at_its_path(url: str) -> None:
    bad = {"name": "t", "timing": "before", "events": ["insert"], "function": "not_a_trigger"}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        with pytest.raises(BlueprintInvalid) as raised:
            _plan(conn, [bad])
    (issue,) = raised.value.issues
    assert issue.path == "payload.tables[0].triggers[0].function"
    assert "does not return trigger" in issue.message


def test_a_condition_postgresql_refuses_is_refused_at_its_when(url: str) -> None:
    # OLD does not exist for an INSERT: only the server knows, when the trigger is made.
    bad = {
        "name": "t",
        "timing": "before",
        "events": ["insert"],
        "when": "OLD.body IS NULL",
        "function": "audit.record",
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        with pytest.raises(BlueprintInvalid) as raised:
            _plan(conn, [bad])
    (issue,) = raised.value.issues
    assert issue.path == "payload.tables[0].triggers[0].when"
    assert "PostgreSQL rejected it" in issue.message and "sb_scratch" not in issue.message


def test_a_trigger_on_a_column_that_changes_type_is_dropped_first_and_made_again(url: str) -> None:
    audit = {
        "name": "notes_audit",
        "timing": "after",
        "events": [{"update": ["body"]}],
        "function": "audit.record",
    }
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        conn.execute(
            "CREATE TRIGGER notes_audit AFTER UPDATE OF body ON notes FOR EACH ROW "
            "EXECUTE FUNCTION audit.record()"
        )
        data = _blueprint([audit])
        data["tables"][0]["columns"][1]["type"] = "VARCHAR(100)"
        p = plan(conn, validate_payload(data), schema="public", managed={"notes"})
        sql = [s.sql for s in p.statements]
        drop = sql.index("DROP TRIGGER notes_audit ON public.notes")
        alter = next(i for i, s in enumerate(sql) if "ALTER COLUMN body TYPE" in s)
        create = next(i for i, s in enumerate(sql) if s.startswith("CREATE TRIGGER notes_audit"))
        assert drop < alter < create
        with conn.transaction():
            conn.execute(p.sql.encode())
        assert plan(conn, validate_payload(data), schema="public", managed={"notes"}).is_empty


def test_verification_names_a_trigger_that_is_not_the_blueprint_s(url: str) -> None:
    bp = validate_payload(_blueprint(["updated_at"]))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        p = plan(conn, bp, schema="public", managed={"notes"})
        with conn.transaction():
            conn.execute(p.sql.encode())
        assert trigger_residue(conn, bp, "public", p.desired) == []
        conn.execute("DROP TRIGGER set_updated_at ON notes")
        assert trigger_residue(conn, bp, "public", p.desired) == [
            "trigger: CREATE TRIGGER set_updated_at BEFORE UPDATE ON public.notes FOR EACH ROW "
            "EXECUTE FUNCTION public.set_updated_at()"
        ]
