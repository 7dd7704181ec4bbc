"""plan() beyond the case folders: what it leaves behind, what it costs, how it reports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.desired.cache import MemoryCanonicalCache
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.hazards import facts as facts_module
from schemabuilder.engine.plan import plan
from schemabuilder.engine.render_text import render_text
from tests.engine.conftest import fresh_database


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbplan", request)


def payload(*tables: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"schema_version": "1", "description": "test", **extra, "tables": list(tables)}


def apply(conn: psycopg.Connection[Any], sql: str) -> None:
    with conn.transaction():
        conn.execute(sql.encode())


THREE = payload(
    {"name": "apps", "columns": [{"name": "code", "type": "TEXT", "unique": True}]},
    {"name": "notes", "columns": [{"name": "body", "type": "TEXT"}]},
    {
        "name": "tags",
        "columns": [{"name": "label", "type": "TEXT", "references": "apps.code"}],
    },
)


def test_planning_changes_nothing(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id uuid PRIMARY KEY, body text)")
        before = introspect(conn, "public")
        result = plan(conn, validate_payload(THREE), schema="public", managed={"notes"})
        assert not result.is_empty
        after = introspect(conn, "public")
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'sb_scratch_%'"
        ).fetchone()
        path = conn.execute("SHOW search_path").fetchone()
    assert after == before
    assert result.base_snapshot_hash == before.restricted({"notes"}).hash
    assert schemas == (0,)
    assert path == ('"$user", public',)


def test_a_warm_cache_materializes_only_what_changed(url: str) -> None:
    cache = MemoryCanonicalCache()
    v1 = validate_payload(THREE)
    changed = json.loads(json.dumps(THREE))
    changed["tables"][1]["columns"].append({"name": "pinned", "type": "BOOLEAN"})
    v2 = validate_payload(changed)
    with psycopg.connect(url, autocommit=True) as conn:
        first = plan(conn, v1, schema="public", managed=set(), cache=cache)
        assert first.materialized_tables == ("apps", "notes", "tags")
        apply(conn, first.sql)
        managed = {"apps", "notes", "tags"}
        warm = plan(conn, v2, schema="public", managed=managed, cache=cache)
        cold = plan(conn, v2, schema="public", managed=managed)
    assert warm.materialized_tables == ("notes",)
    assert cold.materialized_tables == ("apps", "notes", "tags")
    assert warm.sql == cold.sql
    assert warm.desired == cold.desired
    assert "ADD COLUMN pinned boolean" in warm.sql


def test_the_plan_reads_as_json_and_as_text(url: str) -> None:
    bp = validate_payload(
        payload(
            {
                "name": "notes",
                "rls": False,
                "columns": [
                    {"name": "id", "type": "INTEGER", "primary_key": True},
                    {"name": "body", "type": "TEXT"},
                ],
            },
            auto_columns=False,
        )
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE notes (id integer PRIMARY KEY, body text, secret text);"
            "INSERT INTO notes VALUES (1, 'hello', 'x');"
            "CREATE TABLE legacy (id integer)"
        )
        result = plan(conn, bp, schema="public", managed={"notes"})
    data = json.loads(json.dumps(result.to_json()))
    assert data["checksum"] == result.checksum
    assert data["is_dangerous"] is True
    assert data["unmanaged_tables"] == ["legacy"]
    assert Snapshot.from_json(data["desired"]) == result.desired
    assert {h["kind"] for h in data["hazards"]} >= {"DROPS_COLUMN", "DROPS_TABLE"} - {"DROPS_TABLE"}
    text = render_text(result)
    assert "DANGEROUS" in text
    assert "Unmanaged, left alone: legacy" in text
    assert "DANGER  DROPS_COLUMN: drops column notes.secret: 1 non-NULL values are lost" in text
    assert "ALTER TABLE public.notes DROP COLUMN secret;" in text


def test_a_large_table_is_not_scanned_and_says_so(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_module, "SMALL_TABLE_ROWS", 1)
    bp = validate_payload(
        payload(
            {
                "name": "items",
                "rls": False,
                "columns": [
                    {"name": "id", "type": "INTEGER", "primary_key": True},
                    {"name": "name", "type": "TEXT", "not_null": True},
                ],
            },
            auto_columns=False,
        )
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE items (id integer PRIMARY KEY, name text, note text);"
            "INSERT INTO items VALUES (1, 'a', 'x'), (2, 'b', NULL)"
        )
        result = plan(conn, bp, schema="public", managed={"items"})
    hazards = {h.kind: h for h in result.hazards}
    dropped = hazards[HazardKind.DROPS_COLUMN]
    assert dropped.severity is Severity.DANGER
    assert dropped.numbers["non_null_values"] is None
    assert "not counted" in dropped.message
    not_null = hazards[HazardKind.ADDS_NOT_NULL]
    assert not_null.severity is Severity.WARNING
    assert not_null.numbers["null_rows"] is None


def test_server_rejections_point_at_the_blueprint(url: str) -> None:
    bp = validate_payload(
        payload(
            {
                "name": "notes",
                "columns": [
                    {"name": "body", "type": "TEXT"},
                    {"name": "stamp", "type": "TIMESTAMPTZ", "default": "now(1)"},
                ],
                "indexes": [
                    {"name": "idx_notes_body", "columns": ["body"]},
                ],
            },
        )
    )
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(BlueprintInvalid) as err:
        plan(conn, bp, schema="public", managed=set())
    [issue] = err.value.issues
    # The auto columns come first in the normalized table; the path is the author's.
    assert issue.path == "payload.tables[0].columns[1].default"
    assert "now(integer) does not exist" in issue.message
    assert "sb_scratch" not in issue.message


def test_an_index_predicate_rejection_points_at_where(url: str) -> None:
    bp = validate_payload(
        payload(
            {
                "name": "notes",
                "columns": [{"name": "body", "type": "TEXT"}],
                "indexes": [
                    {"name": "idx_a", "columns": ["body"]},
                    {"name": "idx_b", "columns": ["body"], "where": "lower(body, 2) IS NULL"},
                ],
            },
        )
    )
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(BlueprintInvalid) as err:
        plan(conn, bp, schema="public", managed=set())
    assert [i.path for i in err.value.issues] == ["payload.tables[0].indexes[1].where"]


def test_a_missing_target_schema_is_created(url: str) -> None:
    bp = validate_payload(payload({"name": "notes", "columns": [{"name": "body", "type": "TEXT"}]}))
    with psycopg.connect(url, autocommit=True) as conn:
        result = plan(conn, bp, schema="tenant_42", managed=set())
        assert result.statements[0].sql == "CREATE SCHEMA tenant_42"
        apply(conn, result.sql)
        again = plan(conn, bp, schema="tenant_42", managed={"notes"})
    assert again.is_empty
