"""Validation of grants and default privileges: closed vocabularies, errors at their paths."""

from __future__ import annotations

from typing import Any

from schemabuilder.engine import validate_payload
from schemabuilder.engine.contract.as_payload import as_payload
from schemabuilder.engine.contract.normalize import schema_hash
from tests.engine.test_blueprint import col, messages_at, payload, table


def granted(*grants: dict[str, Any], **top: Any) -> dict[str, Any]:
    return payload(table("profiles", col("name"), grants=list(grants)), **top)


def test_grants_normalize_to_upper_case_privileges_in_postgresql_order() -> None:
    bp = validate_payload(
        granted(
            {"role": "Authenticated", "privileges": ["delete", "select"]},
            {"role": "public", "privileges": ["all privileges"]},
        )
    )
    grants = bp.tables[0].grants
    assert grants is not None
    assert [(g.role, g.privileges) for g in grants] == [
        ("authenticated", ("SELECT", "DELETE")),
        ("public", ("ALL",)),
    ]
    assert validate_payload(as_payload(bp)) == bp


def test_a_blueprint_without_grants_keeps_its_hash_and_manages_none() -> None:
    data = payload(table("profiles", col("name")))
    bp = validate_payload(data)
    assert bp.tables[0].grants is None and bp.default_privileges is None
    assert "grants" not in as_payload(bp)["tables"][0]
    with_empty = validate_payload(granted())
    assert with_empty.tables[0].grants == ()
    assert schema_hash(with_empty) != schema_hash(bp)


def test_an_unknown_privilege_is_refused_with_the_list_and_a_suggestion() -> None:
    data = granted({"role": "anon", "privileges": ["SELECT", "selct"]})
    (message,) = messages_at(data, "payload.tables[0].grants[0].privileges")
    assert "'selct' is not a privilege on tables" in message
    assert "did you mean 'SELECT'" in message


def test_a_privilege_listed_twice_and_a_role_granted_twice_are_refused() -> None:
    twice = granted({"role": "anon", "privileges": ["SELECT", "select"]})
    assert "listed twice" in messages_at(twice, "payload.tables[0].grants[0].privileges")[0]
    roles = granted(
        {"role": "anon", "privileges": ["SELECT"]}, {"role": "ANON", "privileges": ["INSERT"]}
    )
    assert "two grants" in messages_at(roles, "payload.tables[0].grants")[0]


def test_a_role_name_is_checked_like_any_identifier() -> None:
    data = granted({"role": 'anon"; DROP TABLE x; --', "privileges": ["SELECT"]})
    assert messages_at(data, "payload.tables[0].grants[0].role")


def test_default_privileges_check_the_privileges_of_their_kind() -> None:
    data = payload(
        table("profiles", col("name")),
        default_privileges=[
            {"role": "anon", "on": "functions", "privileges": ["SELECT"]},
            {"role": "anon", "on": "views", "privileges": ["SELECT"]},
        ],
    )
    first = messages_at(data, "payload.default_privileges[0].privileges")[0]
    assert "not a privilege on functions" in first and "EXECUTE" in first
    assert messages_at(data, "payload.default_privileges[1].on")
    ok = validate_payload(
        payload(
            table("profiles", col("name")),
            default_privileges=[{"role": "anon", "on": "sequences", "privileges": ["usage"]}],
        )
    )
    assert ok.default_privileges is not None
    assert ok.default_privileges[0].privileges == ("USAGE",)


def test_sequence_grants_take_the_privileges_of_sequences() -> None:
    data = payload(
        table(
            "orders",
            col("id", "SERIAL"),
            sequence_grants=[{"role": "authenticated", "privileges": ["usage", "INSERT"]}],
        )
    )
    (message,) = messages_at(data, "payload.tables[0].sequence_grants[0].privileges")
    assert "'INSERT' is not a privilege on sequences" in message
    bp = validate_payload(
        payload(
            table(
                "orders",
                col("id", "SERIAL"),
                sequence_grants=[{"role": "authenticated", "privileges": ["select", "usage"]}],
            )
        )
    )
    grants = bp.tables[0].sequence_grants
    assert grants is not None and grants[0].privileges == ("USAGE", "SELECT")
    assert bp.tables[0].grants is None
