"""An apply verifies grants and enum types too: after the statements, what the blueprint
says of them must hold, or the change rolls back; and a change to them between review and
apply moves the schema's fingerprint, so the reviewed statements do not run blind."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import (
    PlanChanged,
    Reviewed,
    VerificationFailed,
    apply_plan,
    fingerprints,
    scope_of,
)
from schemabuilder.engine.catalog.fingerprints import SCHEMA_OBJECTS
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.diff.phases import Phase
from schemabuilder.engine.plan import Plan, plan
from tests.engine.conftest import fresh_database
from tests.engine.test_plan_cases import _request

SCHEMA = "public"
LIVE = """
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE notes (id integer PRIMARY KEY, body text, feeling mood);
INSERT INTO notes VALUES (1, 'a', 'happy');
"""


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbverify", request)


def _blueprint(**payload: Any) -> NormalizedBlueprint:
    table: dict[str, Any] = {
        "name": "notes",
        "rls": False,
        "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": True},
            {"name": "body", "type": "TEXT"},
            {"name": "feeling", "type": "mood"},
        ],
        **payload.pop("table", {}),
    }
    return validate_payload(
        {
            "schema_version": "2",
            "description": "d",
            "auto_columns": False,
            "types": [{"name": "mood", "enum": ["happy", "sad"]}],
            "tables": [table],
            **payload,
        }
    )


def _planned(conn: psycopg.Connection[Any], bp: NormalizedBlueprint) -> tuple[Plan, Reviewed]:
    prints = fingerprints(conn, SCHEMA, scope_of(bp, {"notes"}))
    found = plan(conn, bp, schema=SCHEMA, managed={"notes"}, managed_types={"mood"})
    return found, Reviewed.of(found, prints)


def _apply(conn: psycopg.Connection[Any], bp: NormalizedBlueprint, p: Plan, r: Reviewed) -> Any:
    request = dataclasses.replace(_request(bp, p, {"notes"}), managed_types=frozenset({"mood"}))
    return apply_plan(conn, bp, request, reviewed=r)


def _without(reviewed: Reviewed, phase: Phase) -> Reviewed:
    """The reviewed plan less its statements of ``phase``: what a change that did not reach
    the desired grants or types would run."""
    kept = tuple(s for s in reviewed.statements if s.phase is not phase)
    assert len(kept) < len(reviewed.statements)
    return dataclasses.replace(reviewed, statements=kept)


def test_a_grant_the_statements_did_not_make_fails_verification(url: str) -> None:
    bp = _blueprint(table={"grants": [{"role": "authenticated", "privileges": ["SELECT"]}]})
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        found, reviewed = _planned(conn, bp)
        with pytest.raises(VerificationFailed) as failed:
            _apply(conn, bp, found, _without(reviewed, Phase.GRANTS))
        assert failed.value.residue == [
            "grants: GRANT SELECT ON TABLE public.notes TO authenticated is still needed"
        ]
        # Rolled back: nothing was granted. The whole reviewed plan then applies.
        assert conn.execute(
            "SELECT has_table_privilege('authenticated', 'public.notes', 'SELECT')"
        ).fetchone() == (False,)
        _apply(conn, bp, found, reviewed)
        assert plan(conn, bp, schema=SCHEMA, managed={"notes"}, managed_types={"mood"}).is_empty


def test_an_enum_value_the_statements_did_not_add_fails_verification(url: str) -> None:
    bp = _blueprint(types=[{"name": "mood", "enum": ["happy", "sad", "calm"]}])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        found, reviewed = _planned(conn, bp)
        with pytest.raises(VerificationFailed) as failed:
            _apply(conn, bp, found, _without(reviewed, Phase.TYPES))
        assert failed.value.residue == [
            "type mood has the values happy, sad, expected happy, sad, calm"
        ]


def test_default_privileges_changed_since_review_move_the_fingerprint(url: str) -> None:
    bp = _blueprint(
        default_privileges=[{"role": "authenticated", "on": "tables", "privileges": ["SELECT"]}]
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        found, reviewed = _planned(conn, bp)
        assert SCHEMA_OBJECTS in reviewed.fingerprints
        # Someone widens them between review and apply: the reviewed GRANT alone would leave
        # INSERT granted; a fresh plan revokes it, which nobody reviewed.
        conn.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT INSERT ON TABLES TO authenticated"
        )
        with pytest.raises(PlanChanged) as changed:
            _apply(conn, bp, found, reviewed)
        assert any("REVOKE" in s.sql for s in changed.value.new_plan.statements)


def test_an_enum_value_added_since_review_moves_the_fingerprint(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        before = fingerprints(conn, SCHEMA, {"notes"})
        conn.execute("ALTER TYPE mood ADD VALUE 'calm'")
        after = fingerprints(conn, SCHEMA, {"notes"})
        conn.execute("COMMENT ON TYPE mood IS 'how it felt'")
        commented = fingerprints(conn, SCHEMA, {"notes"})
    assert before["notes"] == after["notes"] == commented["notes"]
    assert len({before[SCHEMA_OBJECTS], after[SCHEMA_OBJECTS], commented[SCHEMA_OBJECTS]}) == 3


def test_a_grant_on_a_tables_sequence_moves_its_fingerprint(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE + "CREATE TABLE tickets (id serial PRIMARY KEY);")
        before = fingerprints(conn, SCHEMA, {"tickets"})
        conn.execute("GRANT USAGE ON SEQUENCE tickets_id_seq TO authenticated")
        after = fingerprints(conn, SCHEMA, {"tickets"})
    assert before["tickets"] != after["tickets"]


def test_a_function_replaced_since_review_moves_the_fingerprint(url: str) -> None:
    function = {
        "name": "note_count",
        "returns": "bigint",
        "language": "sql",
        "volatility": "stable",
        "body": "select count(*) from public.notes",
    }
    bp = _blueprint(functions=[function])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        conn.execute(
            "CREATE FUNCTION note_count() RETURNS bigint LANGUAGE sql STABLE "
            "AS $$select count(*) from public.notes$$"
        )
        found, reviewed = _planned(conn, bp)
        assert found.is_empty
        # Someone replaces its body between review and apply: the empty reviewed plan would
        # leave it so; a fresh plan puts the blueprint's body back, which nobody reviewed.
        conn.execute(
            "CREATE OR REPLACE FUNCTION note_count() RETURNS bigint LANGUAGE sql STABLE "
            "AS $$select 42::bigint$$"
        )
        with pytest.raises(PlanChanged) as changed:
            _apply(conn, bp, found, reviewed)
        assert any("note_count" in s.sql for s in changed.value.new_plan.statements)
        conn.execute("COMMENT ON FUNCTION note_count() IS 'how many'")
        commented = fingerprints(conn, SCHEMA, {"notes"})
    assert commented[SCHEMA_OBJECTS] != reviewed.fingerprints[SCHEMA_OBJECTS]
