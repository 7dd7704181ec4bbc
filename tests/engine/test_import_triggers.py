"""Import of triggers: said in the blueprint's words (the updated_at convenience as its one
word only when it is exactly that), and planned again, nothing to do."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from schemabuilder.engine import import_schema, plan, validate_payload
from tests.engine.conftest import fresh_database


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbimptrig", request)


SCHEMA = """
CREATE SCHEMA audit;
CREATE FUNCTION audit.record() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN RETURN NULL; END$$;
CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql SET search_path = '' AS
  $$BEGIN
      NEW.updated_at := now();
      RETURN NEW;
    END;$$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN NEW.updated_at = current_timestamp; RETURN NEW; END$$;
CREATE TABLE notes (id int PRIMARY KEY, body text, status text,
                    updated_at timestamptz NOT NULL DEFAULT now());
CREATE TRIGGER set_updated_at BEFORE UPDATE ON notes FOR EACH ROW
  EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER notes_audit AFTER UPDATE OF status, body ON notes FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status OR NEW.body IS NULL)
  EXECUTE FUNCTION audit.record('notes', 'it''s');
CREATE TABLE pages (id int PRIMARY KEY, updated_at timestamptz);
CREATE TRIGGER pages_touch BEFORE UPDATE ON pages FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TRIGGER pages_truncated AFTER TRUNCATE ON pages FOR EACH STATEMENT
  EXECUTE FUNCTION audit.record();
CREATE TABLE plain (id int PRIMARY KEY);
"""


def test_triggers_are_imported_and_plan_nothing(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA.encode())
        result = import_schema(conn, "public", fence=None)
        bp = validate_payload(result.payload)
        again = plan(conn, bp, schema="public", managed={t.name for t in bp.tables})
    assert again.sql == "", again.sql
    tables = {t["name"]: t for t in result.payload["tables"]}
    notes = tables["notes"]["triggers"]
    assert notes[1] == "updated_at"  # exactly the convenience: its name, timing and body
    assert notes[0]["events"] == [{"update": ["body", "status"]}]
    assert notes[0]["function"] == "audit.record"
    assert notes[0]["arguments"] == ["notes", "it's"]
    assert "old.status IS DISTINCT FROM new.status" in notes[0]["when"]
    # Another name, another body: a trigger like any other, written out in full.
    pages = {t["name"]: t for t in tables["pages"]["triggers"]}
    assert pages["pages_touch"]["function"] == "touch"
    assert pages["pages_truncated"]["level"] == "statement"
    assert "triggers" not in tables["plain"]  # nothing to say: left alone
    assert not [o for o in result.left_out if o.kind == "trigger"]


def test_a_schema_without_the_convenience_s_function_imports_it_as_a_trigger(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA.encode())
        conn.execute(
            "CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN NEW.updated_at := now(); NEW.body := 'x'; RETURN NEW; END$$"
        )
        result = import_schema(conn, "public", fence=None)
        bp = validate_payload(result.payload)
        again = plan(conn, bp, schema="public", managed={t.name for t in bp.tables})
    assert again.is_empty
    notes = next(t for t in result.payload["tables"] if t["name"] == "notes")["triggers"]
    assert {
        "name": "set_updated_at",
        "timing": "before",
        "events": ["update"],
        "level": "row",
        "function": "set_updated_at",
    } in notes
