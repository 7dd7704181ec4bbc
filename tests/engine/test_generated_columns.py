"""Stored generated columns: validated as checks are, created and added, and a changed
expression: SET EXPRESSION from PostgreSQL 17 on, before it the column dropped and added
again with its indexes, constraints and policies built again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, import_schema, validate_payload
from schemabuilder.engine.apply import Reviewed, apply_plan, fingerprints, scope_of
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.desired.cache import MemoryCanonicalCache
from schemabuilder.engine.diff import generated
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import plan
from tests.engine.conftest import fresh_database
from tests.engine.test_plan_cases import _request

LIVE = """
CREATE TABLE items (
    id integer PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    name_key text GENERATED ALWAYS AS (lower(name)) STORED,
    CONSTRAINT items_name_key_check CHECK (length(name_key) > 0)
);
CREATE INDEX items_name_key_idx ON items (name_key);
ALTER TABLE items ENABLE ROW LEVEL SECURITY;
CREATE POLICY items_visible ON items FOR SELECT USING (name_key <> 'hidden');
INSERT INTO items VALUES (1, gen_random_uuid(), ' Apple '), (2, gen_random_uuid(), 'Pear');
"""


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbgen", request)


def _payload(name_key: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": "2",
        "description": "d",
        "auto_columns": False,
        "tables": [
            {
                "name": "items",
                "columns": [
                    {"name": "id", "type": "INTEGER", "primary_key": True},
                    {"name": "tenant_id", "type": "UUID", "not_null": True},
                    {"name": "name", "type": "TEXT", "not_null": True},
                    {"name": "name_key", "type": "TEXT", **name_key},
                ],
                "indexes": [{"name": "items_name_key_idx", "columns": ["name_key"]}],
                "checks": [{"expression": "length(name_key) > 0"}],
                "policies": [
                    {"name": "items_visible", "command": "SELECT", "using": "name_key <> 'hidden'"}
                ],
            }
        ],
    }


def _issue(name_key: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(_payload(name_key))
    [issue] = raised.value.issues
    return issue.path, issue.message


@pytest.mark.parametrize(
    ("extra", "word"),
    [({"default": "'x'"}, "a default"), ({"identity": "always"}, "an identity")],
)
def test_a_generated_column_with_a_default_or_an_identity_is_refused_at_its_path(
    extra: dict[str, Any], word: str
) -> None:
    path, message = _issue({"generated": "lower(name)", **extra})
    assert path == "payload.tables[0].columns[3].generated"
    assert f"cannot also have {word}" in message


def test_a_serial_generated_column_is_refused() -> None:
    payload = _payload({})
    payload["tables"][0]["columns"][0] = {
        "name": "id",
        "type": "BIGSERIAL",
        "primary_key": True,
        "generated": "1",
    }
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(payload)
    [issue] = raised.value.issues
    assert issue.path == "payload.tables[0].columns[0].generated"
    assert "a serial type" in issue.message


@pytest.mark.parametrize("expression", ["now()::text", "pg_read_file('x')", "random()::text"])
def test_a_generated_expression_may_call_only_immutable_built_ins(expression: str) -> None:
    path, message = _issue({"generated": expression})
    assert path == "payload.tables[0].columns[3].generated"
    assert "immutable" in message or "not allowed" in message or "refused" in message


def _apply_and_replan(conn: psycopg.Connection[Any], first: Any, bp: Any, prints: Any) -> None:
    # As the worker applies a reviewed plan: locks, fingerprints, statements, verification.
    outcome = apply_plan(
        conn, bp, _request(bp, first, {"items"}), reviewed=Reviewed.of(first, prints)
    )
    assert not outcome.replanned_schema_moved
    assert introspect(conn, "public", tables={"items"}) == first.desired
    again = plan(conn, bp, schema="public", managed={"items"})
    assert again.is_empty, again.sql
    rows = conn.execute("SELECT name_key FROM items ORDER BY id").fetchall()
    assert rows == [("apple",), ("pear",)]


def test_a_changed_expression_is_set_in_place_from_17_on(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.info.server_version < generated.SET_EXPRESSION_SINCE:
            pytest.skip("SET EXPRESSION exists from PostgreSQL 17 on")
        conn.execute(LIVE)
        bp = validate_payload(_payload({"generated": "lower(btrim(name))"}))
        prints = fingerprints(conn, "public", scope_of(bp, {"items"}))
        first = plan(conn, bp, schema="public", managed={"items"})
        body = [s for s in first.statements if s.table]
        assert [s.sql for s in body] == [
            "ALTER TABLE public.items ALTER COLUMN name_key SET EXPRESSION AS (lower(btrim(name)))"
        ]
        kinds = [h.kind for h in body[0].hazards]
        assert HazardKind.REWRITES_TABLE in kinds
        _apply_and_replan(conn, first, bp, prints)


def test_before_17_a_changed_expression_drops_and_adds_the_column_and_builds_its_members_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every server takes the path of the servers before 17 here (PostgreSQL 15 does anyway).
    monkeypatch.setattr(generated, "SET_EXPRESSION_SINCE", 10**9)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        bp = validate_payload(_payload({"generated": "lower(btrim(name))"}))
        prints = fingerprints(conn, "public", scope_of(bp, {"items"}))
        # One transaction: the statements as written (online, the index builds concurrently).
        first = plan(conn, bp, schema="public", managed={"items"}, apply_mode="atomic")
        body = [s.sql.split(" ON ")[0] if "POLICY" in s.sql else s.sql for s in first.statements]
        assert body[1:] == [
            "DROP POLICY items_visible",
            "DROP INDEX public.items_name_key_idx",
            "ALTER TABLE public.items DROP COLUMN name_key",
            "ALTER TABLE public.items ADD COLUMN name_key text GENERATED ALWAYS AS "
            "(lower(btrim(name))) STORED",
            "ALTER TABLE public.items ADD CONSTRAINT items_name_key_check CHECK "
            "(length(name_key) > 0)",
            "CREATE INDEX items_name_key_idx ON public.items USING btree (name_key)",
            "CREATE POLICY items_visible",
        ]
        # The values come back computed: nothing is lost, so no DROPS_COLUMN.
        assert HazardKind.DROPS_COLUMN not in {h.kind for h in first.hazards}
        assert not first.is_dangerous
        _apply_and_replan(conn, first, bp, prints)


def test_before_17_a_view_on_the_column_makes_the_change_dangerous(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generated, "SET_EXPRESSION_SINCE", 10**9)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE + "CREATE VIEW item_keys AS SELECT name_key FROM items;")
        bp = validate_payload(_payload({"generated": "lower(btrim(name))"}))
        first = plan(conn, bp, schema="public", managed={"items"})
    [blocked] = [h for h in first.hazards if h.kind is HazardKind.BLOCKED_BY_DEPENDENTS]
    assert blocked.severity is Severity.DANGER
    assert "item_keys" in blocked.message


def test_a_stored_generated_column_is_imported(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE)
        result = import_schema(conn, "public")
        [table] = result.payload["tables"]
        [column] = [c for c in table["columns"] if c["name"] == "name_key"]
        assert column == {"name": "name_key", "type": "text", "generated": "lower(name)"}
        bp = validate_payload(result.payload)
        assert plan(conn, bp, schema="public", managed={"items"}).is_empty


def _sums(a_type: str, extra: list[dict[str, Any]]) -> Any:
    return validate_payload(
        {
            "schema_version": "1",
            "description": "d",
            "auto_columns": False,
            "tables": [
                {
                    "name": "sums",
                    "rls": False,
                    "columns": [
                        {"name": "id", "type": "INTEGER", "primary_key": True},
                        {"name": "a", "type": a_type},
                        {"name": "b", "type": "INTEGER"},
                        {"name": "total", "type": "NUMERIC", "generated": "a + b"},
                        *extra,
                    ],
                }
            ],
        }
    )


def test_a_generated_column_assembled_from_cached_forms_is_what_materializing_prints(
    url: str,
) -> None:
    cache = MemoryCanonicalCache()
    with psycopg.connect(url, autocommit=True) as conn:
        plan(conn, _sums("INTEGER", []), schema="public", managed=set(), cache=cache)
        # One column more, and the same expression over another type: each must print as a
        # fresh materialization prints it, whatever the cache learned from the first.
        for bp in (
            _sums("INTEGER", [{"name": "note", "type": "TEXT"}]),
            _sums("NUMERIC(10,2)", []),
        ):
            cached = plan(conn, bp, schema="public", managed=set(), cache=cache)
            fresh = plan(conn, bp, schema="public", managed=set())
            assert cached.desired == fresh.desired
            assert cached.sql == fresh.sql


def test_an_identity_column_is_not_assembled_from_a_plain_columns_form(url: str) -> None:
    # The column's form key holds its identity (it did not, and an identity column was
    # assembled from the form of a plain one of the same type).
    def blueprint(identity: bool) -> Any:
        key: dict[str, Any] = {"name": "id", "type": "BIGINT", "primary_key": True}
        if identity:
            key["identity"] = "by default"
        return validate_payload(
            {
                "schema_version": "1",
                "description": "d",
                "auto_columns": False,
                "tables": [
                    {
                        "name": "tickets",
                        "rls": False,
                        "columns": [key, {"name": "title", "type": "TEXT"}],
                    }
                ],
            }
        )

    cache = MemoryCanonicalCache()
    with psycopg.connect(url, autocommit=True) as conn:
        plan(conn, blueprint(False), schema="public", managed=set(), cache=cache)
        cached = plan(conn, blueprint(True), schema="public", managed=set(), cache=cache)
        fresh = plan(conn, blueprint(True), schema="public", managed=set())
    assert cached.desired == fresh.desired
    assert "GENERATED BY DEFAULT AS IDENTITY" in cached.sql
