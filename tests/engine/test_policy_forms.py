"""Policy names as Supabase writes them, and the deny-all table (``"policies": []``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.contract.as_payload import as_payload
from tests.engine.blueprint_examples import VALID_PAYLOADS

READ_OWN = "tenant_id::text = current_setting('app.current_tenant_id', true)"


def payload(policies: list[dict[str, Any]] | None) -> dict[str, Any]:
    data = copy.deepcopy(VALID_PAYLOADS["seed_patients"])
    data["tables"][0].pop("policies", None)
    if policies is not None:
        data["tables"][0]["policies"] = policies
    return data


def policy(name: str, **rest: Any) -> dict[str, Any]:
    return {"name": name, "command": "SELECT", "using": READ_OWN, **rest}


def messages(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(BlueprintInvalid) as info:
        validate_payload(data)
    return {i.path: i.message for i in info.value.issues}


def test_a_name_that_is_not_a_plain_identifier_is_kept_exactly_as_written() -> None:
    written = "Users can view their own profile."
    (table,) = validate_payload(payload([policy(written)])).tables
    assert [p.name for p in table.policies] == ["patients_tenant_fence", written]


def test_a_plain_identifier_is_still_normalized_to_snake_case() -> None:
    (table,) = validate_payload(payload([policy("OwnRows")])).tables
    assert table.policies[1].name == "own_rows"


def test_a_written_name_longer_than_63_bytes_is_refused_at_its_path() -> None:
    found = messages(payload([policy("Ü" * 32)]))  # 64 bytes in UTF-8
    assert "is 64 bytes long" in found["payload.tables[0].policies[0].name"]


@pytest.mark.parametrize("name", ["", "nul\x00inside", "new\nline"])
def test_an_empty_name_or_a_control_character_is_refused(name: str) -> None:
    assert "payload.tables[0].policies[0].name" in messages(payload([policy(name)]))


def test_two_policies_with_the_same_written_name_are_refused() -> None:
    found = messages(payload([policy("Members read."), policy("Members read.")]))
    assert "already has the name 'Members read.'" in found["payload.tables[0].policies[1].name"]


def test_an_absent_policy_list_gets_the_fence_and_the_default_policy() -> None:
    (table,) = validate_payload(payload(None)).tables
    assert [p.name for p in table.policies] == [
        "patients_tenant_fence",
        "patients_tenant_isolation",
    ]


def test_an_empty_policy_list_is_row_level_security_with_no_policy_at_all() -> None:
    (table,) = validate_payload(payload([])).tables
    assert table.rls is True
    assert table.policies == ()


def test_without_auto_columns_a_deny_all_table_gets_no_fence_column() -> None:
    data = payload([])
    data["auto_columns"] = False
    (table,) = validate_payload(data).tables
    assert "tenant_id" not in [c.name for c in table.columns]


def test_a_deny_all_table_and_a_written_name_survive_the_way_back_to_a_payload() -> None:
    data = payload([])
    data["tables"].append(
        {
            "name": "profiles",
            "columns": [{"name": "bio", "type": "TEXT"}],
            "policies": [policy("Users can view their own profile.", permissive=False)],
        }
    )
    once = validate_payload(data)
    assert validate_payload(as_payload(once)) == once
