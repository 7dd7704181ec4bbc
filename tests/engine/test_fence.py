"""The fence's effective access, computed the way PostgreSQL combines policies (pure)."""

from __future__ import annotations

import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.catalog.snapshot import Policy, Snapshot, Table
from schemabuilder.engine.contract.errors import BlueprintInvalid
from schemabuilder.engine.hazards.fence import (
    Reach,
    fenced_reaches,
    implies_fence,
    is_fenced,
    keep_live_forms,
    roles_of,
    weakened,
)

FENCE = "\"tenant_id\"::text = current_setting('app.current_tenant_id', true)"
# What pg_get_expr gives back for FENCE.
LIVE_FENCE = "((tenant_id)::text = current_setting('app.current_tenant_id'::text, true))"
WIDENING = [
    "tenant_id IS NOT NULL",
    "tenant_id = tenant_id",
    "tenant_id::text <> current_setting('app.current_tenant_id', true)",
]


def fence_policy(name: str = "t_tenant_isolation", *, permissive: bool = True) -> Policy:
    return Policy(name, "ALL", permissive, ("public",), LIVE_FENCE, LIVE_FENCE)


def test_the_fence_implies_itself_whatever_the_quoting_casts_and_parentheses() -> None:
    assert implies_fence(LIVE_FENCE, FENCE)
    assert implies_fence(FENCE, LIVE_FENCE)
    assert implies_fence(f"{LIVE_FENCE} AND (app_code = 'crm')", FENCE)
    assert implies_fence(f"(a > 1) AND ((b < 2) AND {LIVE_FENCE})", FENCE)


@pytest.mark.parametrize("expression", [*WIDENING, f"{LIVE_FENCE} OR true", "true", None])
def test_anything_else_does_not_imply_the_fence(expression: str | None) -> None:
    assert not implies_fence(expression, FENCE)


def test_an_unparsable_expression_never_implies_the_fence() -> None:
    assert not implies_fence("tenant_id = (", FENCE)


@pytest.mark.parametrize("widening", WIDENING)
def test_a_permissive_select_policy_beside_a_permissive_fence_unfences_select(
    widening: str,
) -> None:
    live = [fence_policy()]
    desired = [*live, Policy("peek", "SELECT", True, ("public",), widening)]
    lost = weakened(live, True, desired, True, FENCE)
    assert lost == [Reach("SELECT", "read", "public")]


@pytest.mark.parametrize("widening", WIDENING)
def test_a_restrictive_fence_is_not_widened_by_any_permissive_policy(widening: str) -> None:
    live = [fence_policy("t_tenant_fence", permissive=False), fence_policy()]
    desired = [*live, Policy("peek", "ALL", True, ("public",), widening, widening)]
    assert weakened(live, True, desired, True, FENCE) == []


def test_a_restrictive_fence_for_one_role_leaves_the_others_open() -> None:
    restrictive = Policy("f", "ALL", False, ("app",), LIVE_FENCE, LIVE_FENCE)
    peek = Policy("peek", "SELECT", True, ("public",), "true")
    policies = [restrictive, fence_policy(), peek]
    roles = roles_of(policies)
    assert roles == ["public", "app"]
    assert is_fenced(policies, FENCE, Reach("SELECT", "read", "app"))
    assert not is_fenced(policies, FENCE, Reach("SELECT", "read", "public"))


def test_a_permissive_policy_for_one_role_unfences_that_role_only() -> None:
    live = [fence_policy()]
    desired = [*live, Policy("peek", "DELETE", True, ("auditor",), "true")]
    assert weakened(live, True, desired, True, FENCE) == [Reach("DELETE", "read", "auditor")]


def test_writes_use_with_check_else_using() -> None:
    # USING alone on an INSERT-capable policy checks new rows too.
    wide_write = Policy("w", "INSERT", True, ("public",), None, "true")
    live = [fence_policy()]
    assert weakened(live, True, [*live, wide_write], True, FENCE) == [
        Reach("INSERT", "write", "public")
    ]
    # UPDATE reads old rows with USING and checks new rows with WITH CHECK.
    update = Policy("u", "UPDATE", True, ("public",), LIVE_FENCE, "true")
    assert weakened(live, True, [*live, update], True, FENCE) == [
        Reach("UPDATE", "write", "public")
    ]


def test_with_no_permissive_policy_nothing_is_reachable() -> None:
    only_restrictive = [Policy("r", "ALL", False, ("public",), "true", "true")]
    reaches = fenced_reaches(only_restrictive, FENCE, True, ["public"])
    assert len(reaches) == 5  # SELECT, INSERT, UPDATE (read and write), DELETE


def test_rls_off_fences_nothing_and_disabling_it_loses_everything() -> None:
    live = [fence_policy()]
    assert fenced_reaches(live, FENCE, False, ["public"]) == set()
    assert len(weakened(live, True, live, False, FENCE)) == 5


def test_a_table_that_never_checked_the_fence_has_none_to_weaken() -> None:
    live = [Policy("own", "ALL", True, ("public",), "owner = current_user")]
    desired = [*live, Policy("peek", "SELECT", True, ("public",), "true")]
    assert weakened(live, True, desired, True, FENCE) == []


def _payload(**fence: str) -> dict[str, object]:
    return {
        "schema_version": "1",
        "description": "x",
        **({"fence": fence} if fence else {}),
        "tables": [{"name": "items", "columns": [{"name": "note", "type": "TEXT"}]}],
    }


def test_new_tables_get_the_restrictive_fence_and_a_permissive_policy_by_default() -> None:
    policies = validate_payload(_payload()).tables[0].policies
    assert [(p.name, p.permissive) for p in policies] == [
        ("items_tenant_fence", False),
        ("items_tenant_isolation", True),
    ]
    permissive = validate_payload(_payload(mode="permissive")).tables[0].policies
    assert [(p.name, p.permissive) for p in permissive] == [("items_tenant_isolation", True)]


def test_fence_mode_is_validated_at_its_path() -> None:
    with pytest.raises(BlueprintInvalid) as raised:
        validate_payload(_payload(mode="open"))
    assert [i.path for i in raised.value.issues] == ["payload.fence.mode"]
    assert "restrictive" in raised.value.issues[0].message


def test_a_live_table_with_the_older_permissive_fence_keeps_it_unless_mode_is_stated() -> None:
    old = Table("items", policies=(fence_policy("items_tenant_isolation"),), rls=True)
    live = Snapshot(schema="public", tables=(old,))
    kept = keep_live_forms(validate_payload(_payload()), live)
    assert [p.name for p in kept.tables[0].policies] == ["items_tenant_isolation"]
    stated = keep_live_forms(validate_payload(_payload(mode="restrictive")), live)
    assert [p.name for p in stated.tables[0].policies] == [
        "items_tenant_fence",
        "items_tenant_isolation",
    ]
    unfenced = Snapshot(schema="public", tables=(Table("items"),))
    new_form = keep_live_forms(validate_payload(_payload()), unfenced)
    assert new_form.tables[0].policies[0].name == "items_tenant_fence"
