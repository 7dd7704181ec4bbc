"""Normalization: snake_case, auto columns, default indexes, the fence, the canonical hash."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from schemabuilder.engine import (
    NTable,
    canonical_json,
    idempotency_key,
    schema_hash,
    validate_envelope,
    validate_payload,
)
from schemabuilder.engine.contract.as_payload import as_payload
from tests.engine.blueprint_examples import (
    SEED_NORMALIZED_TABLE,
    VALID_PAYLOADS,
    seed_envelope,
)


def seed_shape(table: NTable) -> dict[str, Any]:
    """A normalized table projected onto the seed's shape: only the keys the seed shows,
    and only where they differ from their defaults."""
    columns = []
    for column in table.columns:
        data = {"name": column.name, "type": column.type}
        for key in ("not_null", "primary_key", "default"):
            value = getattr(column, key)
            if value not in (None, False):
                data[key] = value
        columns.append(data)
    indexes = [
        {
            "name": index.name,
            "columns": [
                " ".join(filter(None, [c.name, c.direction, c.nulls and f"NULLS {c.nulls}"]))
                for c in index.columns
            ],
        }
        for index in table.indexes
    ]
    return {"name": table.name, "columns": columns, "indexes": indexes}


def payload(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID_PAYLOADS["seed_patients"])
    data.update(changes)
    return data


def test_the_seed_patients_table_normalizes_exactly_to_the_seed_normalized_table() -> None:
    accepted = validate_envelope(seed_envelope())

    (table,) = accepted.blueprint.tables
    assert seed_shape(table) == json.loads(SEED_NORMALIZED_TABLE.read_text())


def test_the_seed_table_gets_the_restrictive_fence_and_tenant_isolation_for_all_commands() -> None:
    (table,) = validate_payload(payload()).tables
    fence = "tenant_id::text = current_setting('app.current_tenant_id', true)"
    assert [(p.name, p.command, p.roles, p.permissive) for p in table.policies] == [
        ("patients_tenant_fence", "ALL", ("public",), False),
        ("patients_tenant_isolation", "ALL", ("public",), True),
    ]
    for policy in table.policies:
        assert policy.using == policy.with_check == fence
    assert table.rls is True


def test_the_envelope_answer_carries_the_hash_and_the_idempotency_key() -> None:
    accepted = validate_envelope(seed_envelope())

    expected = hashlib.sha256(accepted.canonical_json.encode()).hexdigest()
    assert accepted.schema_hash == expected == schema_hash(accepted.blueprint)
    assert accepted.idempotency_key == f"idem:wf106:t_001:001:{expected}"
    assert accepted.idempotency_key == idempotency_key("t_001", accepted.blueprint)
    assert accepted.tenant_id == "t_001"
    assert accepted.environment == "prod"
    assert accepted.meta.workflow_run_id == "wr_example_001"
    assert accepted.context.validation_profile == "safe"


def test_canonical_json_has_sorted_keys_and_no_insignificant_white_space() -> None:
    text = canonical_json(validate_payload(payload()))
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert text.startswith('{"description":"Foundation Schema","fence":{"column":"tenant_id"')


def test_names_become_snake_case_everywhere() -> None:
    data = {
        "schema_version": "1",
        "description": "casing",
        "tables": [
            {
                "name": "PatientVisits",
                "columns": [
                    {"name": "visitDate", "type": "DATE"},
                    {"name": "HTTPStatus", "type": "INTEGER"},
                    {"name": "PATIENT_ID", "type": "UUID", "references": "Patients.ID"},
                ],
                "indexes": [{"name": "idxVisitDate", "columns": ["visitDate DESC"]}],
                "unique": [["visitDate", "PATIENT_ID"]],
                "policies": [{"name": "OwnVisits", "using": "true"}],
            },
            {"name": "Patients", "columns": []},
        ],
    }
    bp = validate_payload(data)
    visits = bp.tables[0]
    assert visits.name == "patient_visits"
    assert [c.name for c in visits.columns][-3:] == ["visit_date", "http_status", "patient_id"]
    assert visits.columns[-1].references is not None
    assert visits.columns[-1].references.model_dump() == {
        "table": "patients",
        "column": "id",
        "on_delete": "no action",
    }
    assert visits.indexes[-1].name == "idx_visit_date"
    assert visits.indexes[-1].columns[0].model_dump() == {
        "name": "visit_date",
        "direction": "DESC",
        "nulls": None,
    }
    assert visits.unique == (("visit_date", "patient_id"),)
    assert [p.name for p in visits.policies] == ["patient_visits_tenant_fence", "own_visits"]


def test_auto_columns_come_first_in_order_and_a_declared_one_is_kept_as_declared() -> None:
    data = payload()
    data["tables"][0]["columns"].append(
        {"name": "created_at", "type": "TIMESTAMP", "not_null": True}
    )
    (table,) = validate_payload(data).tables
    names = [c.name for c in table.columns]
    assert names == [
        "id",
        "tenant_id",
        "updated_at",
        "deleted_at",
        "first_name",
        "last_name",
        "phone",
        "created_at",
    ]
    created = table.column("created_at")
    assert created is not None and created.type == "TIMESTAMP"


def test_a_table_with_its_own_primary_key_gets_no_auto_id() -> None:
    data = payload()
    data["tables"][0]["columns"][0]["primary_key"] = True
    (table,) = validate_payload(data).tables
    assert table.column("id") is None
    assert table.primary_key == ("first_name",)


def test_without_auto_columns_a_fenced_table_still_gets_its_fence_column() -> None:
    data = payload(auto_columns=False)
    (table,) = validate_payload(data).tables
    assert [c.name for c in table.columns] == ["tenant_id", "first_name", "last_name", "phone"]
    assert [i.name for i in table.indexes] == ["idx_patients_tenant_id", "idx_patients_phone"]

    data["tables"][0]["rls"] = False
    (table,) = validate_payload(data).tables
    assert [c.name for c in table.columns] == ["first_name", "last_name", "phone"]
    assert table.policies == ()


def test_a_custom_fence_drives_the_column_and_the_policy() -> None:
    data = payload(fence={"column": "orgId", "type": "TEXT"})
    bp = validate_payload(data)
    (table,) = bp.tables
    assert bp.fence.using == "org_id::text = current_setting('app.current_tenant_id', true)"
    assert table.columns[1].model_dump(exclude_defaults=True) == {
        "name": "org_id",
        "type": "TEXT",
        "not_null": True,
    }
    assert table.indexes[0].name == "idx_patients_org_id"
    assert table.policies[0].using == bp.fence.using


def test_declared_policies_replace_the_permissive_default_and_the_fence_stays() -> None:
    data = payload()
    data["tables"][0]["policies"] = [
        {"name": "readers", "command": "select", "roles": ["Authenticated"], "using": "true"}
    ]
    (table,) = validate_payload(data).tables
    fence, policy = table.policies
    assert (fence.name, fence.permissive) == ("patients_tenant_fence", False)
    assert (policy.name, policy.command, policy.roles) == ("readers", "SELECT", ("authenticated",))
    data["fence"] = {"mode": "permissive"}
    (permissive,) = validate_payload(data).tables
    assert [p.name for p in permissive.policies] == ["readers"]


def test_key_order_white_space_and_name_casing_do_not_change_the_hash() -> None:
    original = payload()
    reordered = json.loads(json.dumps(original, sort_keys=True, indent=7))
    recased = copy.deepcopy(original)
    recased["tables"][0]["name"] = "Patients"
    recased["tables"][0]["columns"][0]["name"] = "firstName"
    recased["tables"][0]["columns"][1]["name"] = "LAST_NAME"
    recased["tables"][0]["indexes"][0]["columns"] = ["Phone"]
    respaced = copy.deepcopy(original)
    respaced["tables"][0]["columns"][0]["type"] = "  TEXT \n"

    hashes = {schema_hash(validate_payload(p)) for p in (original, reordered, recased, respaced)}
    assert len(hashes) == 1


def test_a_real_difference_changes_the_hash() -> None:
    base = schema_hash(validate_payload(payload()))
    assert schema_hash(validate_payload(payload(force_apply=True))) != base
    assert schema_hash(validate_payload(payload(schema_version="002"))) != base
    data = payload()
    data["tables"][0]["columns"][2]["type"] = "VARCHAR(20)"
    assert schema_hash(validate_payload(data)) != base


def test_types_are_spelled_in_upper_case_and_white_space_is_collapsed() -> None:
    data = payload()
    data["tables"][0]["columns"][2]["type"] = "character   varying(20)"
    data["tables"][0]["columns"][2]["check"] = "phone  <>   'a  b'"
    (table,) = validate_payload(data).tables
    phone = table.column("phone")
    assert phone is not None
    assert phone.type == "CHARACTER VARYING(20)"
    assert phone.check == "phone <> 'a  b'"  # white space inside a string literal is data


def test_every_valid_example_normalizes_to_a_fixed_point() -> None:
    for data in VALID_PAYLOADS.values():
        once = validate_payload(data)
        twice = validate_payload(as_payload(once))
        assert twice == once
        assert canonical_json(twice) == canonical_json(once)


def test_the_envelope_fills_in_missing_meta_with_defaults() -> None:
    from datetime import UTC, datetime

    accepted = validate_envelope(
        {"subject": {"tenant_id": "t_042"}, "payload": payload()},
        now=datetime(2026, 2, 5, 10, 0, tzinfo=UTC),
        run_id="wr_fixed",
    )
    assert accepted.tenant_id == "t_042"
    assert accepted.environment is None
    assert accepted.meta.model_dump() == {
        "workflow_name": "WF106",
        "workflow_version": "2.0.0",
        "workflow_run_id": "wr_fixed",
        "idempotency_key": None,
        "trigger_source": "api",
        "timestamp_utc": "2026-02-05T10:00:00Z",
        "tenant_id": "t_042",
        "environment": None,
    }
    assert accepted.context.model_dump() == {"actor_id": "system", "validation_profile": "safe"}
