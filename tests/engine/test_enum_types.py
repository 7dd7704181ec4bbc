"""Enum types in the blueprint: validated at their paths, and the canonical-form cache never
vouches for a table whose check or default names a value the blueprint's types no longer have."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.catalog.enums import LiveEnum
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.normalize import canonical_json, schema_hash
from schemabuilder.engine.desired.cache import MemoryCanonicalCache
from schemabuilder.engine.diff.changes import DiffContext
from schemabuilder.engine.diff.renames import Renames
from schemabuilder.engine.diff.types import TypeState, diff_types, names_value
from schemabuilder.engine.hazards.facts import LiveFacts
from schemabuilder.engine.plan import plan

SCHEMA = "app"


def _payload(types: list[dict[str, Any]], check: str | None = None) -> dict[str, Any]:
    column: dict[str, Any] = {"name": "status", "type": "order_status"}
    if check:
        column["check"] = check
    return {
        "schema_version": "001",
        "description": "t",
        "auto_columns": False,
        "types": types,
        "tables": [
            {
                "name": "orders",
                "columns": [{"name": "id", "type": "INTEGER", "primary_key": True}, column],
                "rls": False,
            }
        ],
    }


def _issues(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(BlueprintInvalid) as caught:
        validate_payload(data)
    return [(i.path, i.message) for i in caught.value.issues]


@pytest.mark.parametrize(
    ("spec", "path", "fragment"),
    [
        ({"name": "order status", "enum": ["a"]}, "payload.types[0].name", ""),
        ({"name": "OrderStatus", "enum": ["a"]}, "payload.types[0].name", "order_status"),
        ({"name": "order_status", "enum": []}, "payload.types[0].enum", ""),
        ({"name": "order_status", "enum": ["a", ""]}, "payload.types[0].enum[1]", "empty"),
        ({"name": "order_status", "enum": ["é" * 32]}, "payload.types[0].enum[0]", "63 bytes"),
        ({"name": "order_status", "enum": ["a", "b", "a"]}, "payload.types[0].enum[2]", "twice"),
        (
            {"name": "order_status", "enum": ["a"], "renamed_values": {"b": "c"}},
            "payload.types[0].renamed_values.b",
            "not in enum",
        ),
        (
            {"name": "order_status", "enum": ["a", "b"], "renamed_values": {"b": "a"}},
            "payload.types[0].renamed_values.b",
            "still in enum",
        ),
        ({"name": "orders", "enum": ["a"]}, "payload.types[0].name", "also a table"),
        ({"name": "order_status", "enum": ["a"], "values": []}, "payload.types[0].values", ""),
    ],
)
def test_a_type_is_checked_at_its_path(spec: dict[str, Any], path: str, fragment: str) -> None:
    issues = _issues(_payload([spec]))
    assert [p for p, _ in issues] == [path], issues
    assert fragment in issues[0][1]


def test_a_type_declared_twice_is_refused() -> None:
    spec = {"name": "order_status", "enum": ["a"]}
    issues = _issues(_payload([spec, spec]))
    assert [p for p, _ in issues] == ["payload.types[1].name"]


def test_a_blueprint_without_types_hashes_as_before_types_existed() -> None:
    data = _payload([])
    del data["types"]
    bp = validate_payload(data)
    assert '"types"' not in canonical_json(bp)
    assert schema_hash(bp) == schema_hash(validate_payload({**data, "types": []}))
    with_types = validate_payload(_payload([{"name": "order_status", "enum": ["a"]}]))
    assert schema_hash(with_types) != schema_hash(bp)


@pytest.fixture
def conn(any_target_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(any_target_url, autocommit=True) as connection:
        connection.execute(b"CREATE SCHEMA app")
        try:
            yield connection
        finally:
            connection.execute(b"DROP SCHEMA app CASCADE")


def test_a_value_gone_from_the_type_is_never_taken_from_the_cache(
    conn: psycopg.Connection,
) -> None:
    cache = MemoryCanonicalCache()
    check = "status <> 'paid'"
    first = validate_payload(_payload([{"name": "order_status", "enum": ["new", "paid"]}], check))
    planned = plan(conn, first, schema=SCHEMA, managed=(), cache=cache)
    assert "orders" in planned.materialized_tables
    again = plan(conn, first, schema=SCHEMA, managed=(), cache=cache)
    assert again.materialized_tables == ()  # the cache vouches for the same types
    without = validate_payload(_payload([{"name": "order_status", "enum": ["new"]}], check))
    with pytest.raises(BlueprintInvalid) as caught:
        plan(conn, without, schema=SCHEMA, managed=(), cache=cache)
    assert "invalid input value for enum" in caught.value.issues[0].message


def test_a_value_added_live_invalidates_the_forms_learned_before(
    conn: psycopg.Connection,
) -> None:
    conn.execute(
        b"CREATE TYPE app.order_status AS ENUM ('new');"
        b"CREATE TABLE app.orders (id integer PRIMARY KEY, status app.order_status)"
    )
    cache = MemoryCanonicalCache()
    types = [{"name": "order_status", "enum": ["new", "paid"]}]
    bp = validate_payload(_payload(types))
    first = plan(conn, bp, schema=SCHEMA, managed={"orders"}, cache=cache)
    assert [s.sql for s in first.statements][1:] == [
        "ALTER TYPE app.order_status ADD VALUE 'paid' AFTER 'new'"
    ]
    conn.execute(b"ALTER TYPE app.order_status ADD VALUE 'paid'")
    second = plan(conn, bp, schema=SCHEMA, managed={"orders"}, cache=cache)
    assert second.is_empty
    # The enum's values are part of the environment every form was learned in.
    assert "orders" in second.materialized_tables


def _context() -> DiffContext:
    return DiffContext(schema=SCHEMA, facts=cast(LiveFacts, None), renames=Renames())


def test_before_postgresql_12_an_added_value_is_refused_at_its_path() -> None:
    bp = validate_payload(_payload([{"name": "order_status", "enum": ["new", "paid"]}]))
    live = {"order_status": LiveEnum("order_status", ("new",))}
    for version, refused in ((110000, True), (120000, False)):
        ctx = _context()
        state = TypeState(desired=bp.types, live=live, uses=(), server_version=version)
        diff_types(ctx, state, Snapshot(schema=SCHEMA), Snapshot(schema=SCHEMA))
        if refused:
            assert [i.path for i in ctx.issues] == ["payload.types[0].enum[1]"]
            assert "before 12" in ctx.issues[0].message
            assert not ctx.statements
        else:
            assert not ctx.issues
            assert [s.sql for s in ctx.statements] == [
                "ALTER TYPE app.order_status ADD VALUE 'paid' AFTER 'new'"
            ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("'draft'::order_status", True),
        ("'{pending,draft}'::order_status[]", True),
        ("(status = ANY (ARRAY['pending'::order_status, 'draft'::order_status]))", True),
        ("'drafts'::order_status", False),
        ("'draft'::order_status_old", False),
        ("'draft'::text", False),
        ("'{pending}'::order_status[]", False),
    ],
)
def test_a_use_of_a_value_is_found_as_postgresql_prints_it(text: str, named: bool) -> None:
    assert names_value(text, "order_status", "draft") is named


def test_a_blueprint_with_types_written_back_as_a_payload_normalizes_to_itself() -> None:
    from schemabuilder.engine.contract.as_payload import as_payload

    once = validate_payload(
        _payload(
            [
                {
                    "name": "order_status",
                    "enum": ["pending", "paid"],
                    "comment": "where an order is",
                    "renamed_from": "status_kind",
                    "renamed_values": {"payed": "paid"},
                }
            ]
        )
    )
    assert validate_payload(as_payload(once)) == once
