"""Foreign keys to tables in another schema (Supabase's ``auth.users``): written, checked
against the target's catalog, never counted, never changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.contract.as_payload import as_payload
from schemabuilder.engine.contract.normalize import schema_hash
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import plan
from tests.engine.conftest import fresh_database

AUTH = """
CREATE SCHEMA auth;
CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, nickname text);
INSERT INTO auth.users VALUES ('00000000-0000-0000-0000-000000000001', 'a@example.com', 'a');
"""


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbout", request)


def profiles(reference: Any) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "description": "test",
        "auto_columns": False,
        "tables": [
            {
                "name": "profiles",
                "columns": [
                    {"name": "id", "type": "UUID", "primary_key": True, "references": reference},
                    {"name": "display_name", "type": "TEXT"},
                ],
                "rls": False,
            }
        ],
    }


def test_the_string_forms_name_a_schema_or_not() -> None:
    bp = validate_payload(profiles("auth.users(id)"))
    ref = bp.tables[0].columns[0].references
    assert ref is not None
    assert (ref.ref_schema, ref.table, ref.column, ref.target) == (
        "auth",
        "users",
        "id",
        "auth.users",
    )
    old = validate_payload(profiles("users.id")).tables[0].columns[0].references
    assert old is not None and (old.ref_schema, old.table, old.column) == (None, "users", "id")


def test_an_old_reference_keeps_its_hash_and_a_new_one_round_trips() -> None:
    old = validate_payload(profiles("users.id"))
    assert "ref_schema" not in old.model_dump_json()
    new = validate_payload(profiles({"schema": "auth", "table": "users", "column": "id"}))
    assert validate_payload(as_payload(new)) == new
    assert schema_hash(validate_payload(as_payload(new))) == schema_hash(new)
    assert schema_hash(new) != schema_hash(validate_payload(profiles("auth_users.id")))


def test_a_schema_that_is_no_identifier_is_refused_at_its_path() -> None:
    with pytest.raises(BlueprintInvalid) as caught:
        validate_payload(profiles({"schema": "Auth Users", "table": "users", "column": "id"}))
    assert [i.path for i in caught.value.issues] == [
        "payload.tables[0].columns[0].references.schema"
    ]
    bp = profiles("users.id")
    bp["tables"][0]["foreign_keys"] = [
        {"columns": ["id"], "references": {"schema": "a-b", "table": "users", "columns": ["id"]}}
    ]
    with pytest.raises(BlueprintInvalid) as caught:
        validate_payload(bp)
    assert [i.path for i in caught.value.issues] == [
        "payload.tables[0].foreign_keys[0].references.schema"
    ]


def test_a_reference_to_a_column_that_is_not_unique_is_refused(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(AUTH)
        for ref, message in (
            ("auth.users(nickname)", "neither the primary key nor unique on the target"),
            ("auth.users(uid)", "auth.users has no column uid on the target"),
            ("auth.people(id)", "auth.people(id) does not exist on the target"),
        ):
            with pytest.raises(BlueprintInvalid) as caught:
                plan(conn, validate_payload(profiles(ref)), schema="public", managed=set())
            issues = [(i.path, i.message) for i in caught.value.issues]
            assert len(issues) == 1
            assert issues[0][0] == "payload.tables[0].columns[0].references"
            assert message in issues[0][1]


def test_rows_are_never_counted_against_an_outside_table(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(AUTH)
        # An orphan: counting it would make the plan say it will fail.
        conn.execute(
            "CREATE TABLE profiles (id uuid PRIMARY KEY, display_name text);"
            "INSERT INTO profiles VALUES ('00000000-0000-0000-0000-000000000002', 'orphan')"
        )
        before = introspect(conn, "auth")
        result = plan(
            conn,
            validate_payload(profiles("auth.users(id)")),
            schema="public",
            managed={"profiles"},
        )
        assert introspect(conn, "auth") == before
    [hazard] = [h for h in result.hazards if h.kind is HazardKind.ADDS_FOREIGN_KEY]
    assert hazard.severity is Severity.WARNING
    assert "not counted (auth.users is outside the blueprint)" in hazard.message
    assert "SHARE ROW EXCLUSIVE on auth.users" in hazard.message
    assert not result.will_fail


def test_a_new_table_says_what_it_locks(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(AUTH)
        result = plan(
            conn, validate_payload(profiles("auth.users(id)")), schema="public", managed=set()
        )
    [hazard] = result.hazards
    assert (hazard.kind, hazard.severity) == (HazardKind.ADDS_FOREIGN_KEY, Severity.INFO)
    assert "SHARE ROW EXCLUSIVE on auth.users" in hazard.message


def test_a_reference_naming_the_target_schema_plans_as_without_it(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE users (id uuid PRIMARY KEY)")
        plain = plan(conn, validate_payload(profiles("users.id")), schema="public", managed=set())
        named = plan(
            conn, validate_payload(profiles("public.users(id)")), schema="public", managed=set()
        )
    assert named.sql == plain.sql
    assert "REFERENCES users(id)" in plain.sql
