"""Triggers in the blueprint: the shapes accepted, what they normalize to, and every refusal
at its path with what to do."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.contract.as_payload import as_payload
from schemabuilder.engine.contract.normalize import schema_hash

BASE: dict[str, Any] = {
    "schema_version": "1",
    "description": "d",
    "tables": [{"name": "orders", "columns": [{"name": "status", "type": "TEXT"}]}],
}


def _with(triggers: Any, **table: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["tables"][0].update(table, triggers=triggers)
    return data


def _issues(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(data)
    return [(i.path, i.message) for i in raised.value.issues]


def test_a_blueprint_without_triggers_hashes_as_before_and_leaves_them_alone() -> None:
    bp = validate_payload(BASE)
    assert bp.tables[0].triggers is None
    assert "triggers" not in bp.model_dump(mode="json", exclude_none=False)["tables"][0]
    assert schema_hash(bp) == schema_hash(validate_payload(copy.deepcopy(BASE)))
    assert schema_hash(validate_payload(_with([]))) != schema_hash(bp)


def test_a_trigger_normalizes_to_postgresql_s_order_and_names() -> None:
    bp = validate_payload(
        _with(
            [
                {
                    "name": "auditOrders",
                    "timing": "AFTER",
                    "events": [{"update": ["status", "updatedAt"]}, "DELETE", "insert"],
                    "function": "Audit.logChange",
                    "arguments": ["orders"],
                    "when": "OLD.* IS DISTINCT FROM NEW.*",
                }
            ]
        )
    )
    (t,) = bp.tables[0].triggers or ()
    assert (t.name, t.timing, t.level) == ("audit_orders", "AFTER", "ROW")
    assert t.events == ("INSERT", "DELETE", "UPDATE")
    assert t.columns == ("status", "updated_at")
    assert (t.function_schema, t.function, t.arguments) == ("audit", "log_change", ("orders",))


def test_the_updated_at_word_expands_to_the_before_update_row_trigger() -> None:
    (t,) = validate_payload(_with(["updated_at"])).tables[0].triggers or ()
    assert (t.name, t.timing, t.events, t.level) == ("set_updated_at", "BEFORE", ("UPDATE",), "ROW")
    assert (t.function_schema, t.function, t.convenience) == (None, "set_updated_at", True)


@pytest.mark.parametrize(
    ("trigger", "table", "path", "fragment"),
    [
        (
            {"name": "t", "timing": "during", "events": ["insert"], "function": "f"},
            {},
            "triggers[0].timing",
            "use one of before, after, instead of",
        ),
        (
            {"name": "t", "timing": "after", "events": ["upsert"], "function": "f"},
            {},
            "triggers[0].events[0]",
            "is not a trigger event",
        ),
        (
            {"name": "t", "timing": "after", "events": [{"updte": ["a"]}], "function": "f"},
            {},
            "triggers[0].events[0]",
            '{"update": ["column", ...]}',
        ),
        (
            {"name": "t", "timing": "after", "events": [{"update": ["nope"]}], "function": "f"},
            {},
            "triggers[0].events",
            "'nope', which is not a column",
        ),
        (
            {"name": "t", "timing": "after", "events": ["insert"], "function": "a.b.c"},
            {},
            "triggers[0].function",
            "'schema.name'",
        ),
        (
            {
                "name": "t",
                "timing": "after",
                "events": ["insert"],
                "function": "f",
                "when": "status = 'x'",
            },
            {},
            "triggers[0].when",
            "NEW.column",
        ),
        (
            {
                "name": "t",
                "timing": "after",
                "events": ["insert"],
                "function": "f",
                "when": "NEW.status = current_setting('x')",
            },
            {},
            "triggers[0].when",
            "current_setting",
        ),
        (
            {
                "name": "t",
                "timing": "after",
                "events": ["insert"],
                "function": "f",
                "when": "NEW.status = 'x'",
                "level": "statement",
            },
            {},
            "triggers[0].when",
            "statement-level",
        ),
        (
            {"name": "t", "timing": "after", "events": ["truncate"], "function": "f"},
            {},
            "triggers[0].level",
            "once per statement",
        ),
        (
            {"name": "t", "timing": "instead of", "events": ["insert"], "function": "f"},
            {},
            "triggers[0].timing",
            "for views",
        ),
        (
            {"nme": "t", "timing": "after", "events": ["insert"], "function": "f"},
            {},
            "triggers[0].nme",
            "did you mean 'name'?",
        ),
        ("updatedAt", {}, "triggers[0]", "the one word 'updated_at'"),
        (
            "updated_at",
            {"columns": [{"name": "updated_at", "type": "DATE"}]},
            "triggers[0]",
            "make it a timestamptz",
        ),
    ],
)
def test_a_wrong_trigger_is_refused_at_its_path(
    trigger: Any, table: dict[str, Any], path: str, fragment: str
) -> None:
    data = _with([trigger], **table)
    if table:
        data["auto_columns"] = False
    found = dict(_issues(data))
    assert f"payload.tables[0].{path}" in found, found
    assert fragment in found[f"payload.tables[0].{path}"]


def test_the_updated_at_word_needs_the_column() -> None:
    data = _with(["updated_at"])
    data["auto_columns"] = False
    ((path, message),) = _issues(data)
    assert path == "payload.tables[0].triggers[0]"
    assert "has no such column" in message


def test_two_triggers_of_one_name_are_refused() -> None:
    same = {"name": "t", "timing": "after", "events": ["insert"], "function": "f"}
    issues = _issues(_with([same, same]))
    assert [p for p, _ in issues] == ["payload.tables[0].triggers[1].name"]


def test_a_normalized_blueprint_written_back_normalizes_to_itself() -> None:
    once = validate_payload(
        _with(
            [
                "updated_at",
                {
                    "name": "audit",
                    "timing": "after",
                    "events": ["delete", {"update": ["status"]}],
                    "level": "row",
                    "when": "OLD.status <> NEW.status",
                    "function": "audit.log",
                    "arguments": ["a", "b"],
                    "renamed_from": "old_audit",
                },
            ]
        )
    )
    assert validate_payload(as_payload(once)) == once


@pytest.mark.parametrize(
    "when",
    [
        "NEW.status = (SELECT max(status) FROM orders)",
        "pg_sleep(1) IS NOT NULL",
        "set_config('role', 'postgres', false) IS NOT NULL",
        "true) EXECUTE FUNCTION pg_catalog.pg_sleep(1); SELECT (true",
        "NEW.status = 'x'; DROP TABLE orders",
        "(NEW).status = 'x'",
        "public.orders.status = 'x'",
    ],
)
def test_a_hostile_condition_never_reaches_the_database(when: str) -> None:
    trigger = {"name": "t", "timing": "before", "events": ["update"], "function": "f", "when": when}
    issues = _issues(_with([trigger]))
    assert [p for p, _ in issues] == ["payload.tables[0].triggers[0].when"], issues
