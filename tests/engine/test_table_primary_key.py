"""A table-level primary key: the key in any order, said once, naming the table's columns."""

from __future__ import annotations

from typing import Any

import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.contract.as_payload import as_payload
from schemabuilder.engine.desired.ddl import render_ddl


def _payload(key: Any, *, flag: bool = False, auto: bool = False) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "description": "d",
        "auto_columns": auto,
        "tables": [
            {
                "name": "memberships",
                "rls": False,
                "columns": [
                    {"name": "tenantId", "type": "UUID", **({"primary_key": True} if flag else {})},
                    {"name": "user_id", "type": "UUID"},
                ],
                "primary_key": key,
            }
        ],
    }


def _issues(payload: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(payload)
    return [(i.path, i.message) for i in raised.value.issues]


def test_the_key_keeps_its_order_and_its_names_are_normalized() -> None:
    bp = validate_payload(_payload(["user_id", "tenantId"]))
    [table] = bp.tables
    assert table.primary_key == ("user_id", "tenant_id")
    assert all(c.primary_key for c in table.columns)
    [create] = render_ddl(bp, "app")
    assert "PRIMARY KEY (user_id, tenant_id)" in create


def test_written_back_it_normalizes_to_itself() -> None:
    bp = validate_payload(_payload(["user_id", "tenant_id"]))
    again = validate_payload(as_payload(bp))
    assert again == bp


def test_with_auto_columns_it_may_name_the_auto_id() -> None:
    bp = validate_payload(_payload(["tenant_id", "id"], auto=True))
    [table] = bp.tables
    assert table.primary_key == ("tenant_id", "id")
    assert table.column("id") is not None


def test_a_key_said_twice_is_refused_at_the_tables_primary_key() -> None:
    [(path, message)] = _issues(_payload(["user_id", "tenant_id"], flag=True))
    assert path == "payload.tables[0].primary_key"
    assert "said twice" in message


def test_a_missing_or_repeated_column_is_refused_at_its_place() -> None:
    issues = _issues(_payload(["user_id", "tenant", "user_id"]))
    assert [p for p, _ in issues] == [
        "payload.tables[0].primary_key[1]",
        "payload.tables[0].primary_key[2]",
    ]
    assert "did you mean 'tenant_id'?" in issues[0][1]
    assert "twice" in issues[1][1]


def test_an_empty_key_is_refused() -> None:
    [(path, _)] = _issues(_payload([]))
    assert path == "payload.tables[0].primary_key"


def test_a_blueprint_without_it_hashes_as_before() -> None:
    payload = _payload(None)
    del payload["tables"][0]["primary_key"]
    bp = validate_payload(payload)
    assert "key_order" not in bp.tables[0].model_dump(mode="json")
