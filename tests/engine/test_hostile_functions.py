"""Expressions are data: the allowlists match the server, every hostile call is refused at its
path before anything runs, the canaries stay as they were, and live facts run READ ONLY."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from schemabuilder.engine import BlueprintInvalid, plan, validate_envelope
from schemabuilder.engine.contract.allowlist import BUILTINS, GENERATORS, OPERATORS
from schemabuilder.engine.diff.renames import Renames
from schemabuilder.engine.hazards.pg_facts import FACT_TIMEOUT_MS, PgFacts
from tests.engine.conftest import database_url
from tests.engine.hostile_corpus import base_envelope
from tests.engine.hostile_functions import (
    allowed_envelope,
    assert_untouched,
    attacks,
    canary_state,
    cases,
    install_canaries,
)

NAMES = [name for name, _, _ in attacks()]


@pytest.fixture(scope="module")
def canary_url(any_target_url: str) -> Iterator[str]:
    """One target database with the canaries, for the whole module (on each server)."""
    name = f"sbhostile_{os.getpid()}"
    admin = database_url(any_target_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(any_target_url, name)
    install_canaries(url)
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def victim(canary_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Another backend on the target, which the attacks try to kill."""
    with psycopg.connect(canary_url, autocommit=True) as conn:
        yield conn


def test_the_corpus_has_at_least_forty_attacks_with_distinct_names() -> None:
    assert len(NAMES) >= 40
    assert len(set(NAMES)) == len(NAMES)


def test_every_listed_builtin_has_the_volatility_the_list_says(any_target_url: str) -> None:
    with psycopg.connect(any_target_url) as conn:
        rows = conn.execute(
            "SELECT proname, string_agg(DISTINCT provolatile::text, '' ORDER BY provolatile::text)"
            " FROM pg_proc WHERE pronamespace = 'pg_catalog'::regnamespace"
            " AND proname = ANY(%s) GROUP BY proname",
            [list({*BUILTINS, *GENERATORS})],
        ).fetchall()
        operators = conn.execute(
            "SELECT o.oprname, bool_or(p.provolatile = 'v') FROM pg_operator o"
            " JOIN pg_proc p ON p.oid = o.oprcode"
            " WHERE o.oprnamespace = 'pg_catalog'::regnamespace GROUP BY o.oprname"
        ).fetchall()
    server = {str(name): str(vol) for name, vol in rows}
    assert {n: server.get(n) for n in BUILTINS} == BUILTINS
    # The generators are volatile, as a default may be; uuid-ossp's lives in its extension.
    assert {n: server.get(n) for n in GENERATORS if n != "uuid_generate_v4"} == {
        n: "v" for n in GENERATORS if n != "uuid_generate_v4"
    }
    volatile = {str(name): bool(v) for name, v in operators}
    symbols = {s for s in OPERATORS if not s.isalpha() and "_" not in s and s != "!="}
    assert symbols <= set(volatile), symbols - set(volatile)
    assert not [s for s in symbols if volatile[s]]


@pytest.mark.parametrize("name", NAMES)
def test_each_hostile_call_is_refused_at_its_path_and_nothing_runs(
    name: str, canary_url: str, victim: psycopg.Connection[Any]
) -> None:
    [case] = [c for c in cases(victim.info.backend_pid) if c.name == name]
    try:
        validated = validate_envelope(case.envelope)
    except BlueprintInvalid as invalid:
        issues = invalid.issues
    else:
        # Left open by validation: a policy's call of a function only the target can vouch for.
        assert "policies" in case.expected_path_prefix or "fence" in case.expected_path_prefix
        with (
            psycopg.connect(canary_url, autocommit=True) as conn,
            pytest.raises(BlueprintInvalid) as raised,
        ):
            plan(conn, validated.blueprint, schema="public", managed=set())
        issues = raised.value.issues
    paths = [i.path for i in issues]
    assert case.expected_path_prefix in paths, str(issues)
    refusal = next(i for i in issues if i.path == case.expected_path_prefix)
    assert "What an expression may call" in refusal.message or "sub-query" in refusal.message
    assert_untouched(canary_url, victim)


def test_allowed_expressions_plan_and_touch_nothing(
    canary_url: str, victim: psycopg.Connection[Any]
) -> None:
    """The base (checks, an index predicate, defaults, policies) and a policy calling the
    target's own stable function plan; the check counts ran on the live rows."""
    for envelope in (base_envelope(), allowed_envelope()):
        bp = validate_envelope(envelope).blueprint
        with psycopg.connect(canary_url, autocommit=True) as conn:
            result = plan(conn, bp, schema="public", managed=set())
        assert result.statements
        assert_untouched(canary_url, victim)


def test_a_policy_may_not_call_the_targets_functions_without_a_live_target() -> None:
    from schemabuilder.engine.contract.live_calls import check_calls
    from schemabuilder.engine.contract.paths import BlueprintPaths

    bp = validate_envelope(allowed_envelope()).blueprint
    with pytest.raises(BlueprintInvalid) as raised:
        check_calls(bp, "public", BlueprintPaths(bp), None)
    [issue] = raised.value.issues
    assert issue.path == "payload.tables[0].policies[0].using"
    assert "is_member()" in issue.message and "live target" in issue.message


def test_facts_run_read_only_under_a_short_timeout(
    canary_url: str, victim: psycopg.Connection[Any]
) -> None:
    """Even an expression that got past validation could not write while planning counts."""
    with (
        psycopg.connect(canary_url, autocommit=True) as conn,
        conn.transaction(force_rollback=True),
    ):
        facts = PgFacts(conn, "public", Renames(), {"patients"})
        assert facts._scalar(sql.SQL("SHOW transaction_read_only")) == "on"
        timeout = facts._scalar(sql.SQL("SELECT current_setting('statement_timeout')"))
        assert timeout == f"{FACT_TIMEOUT_MS // 1000}s"
        # A count whose expression writes fails (not measured) instead of writing.
        assert facts.check_violations("patients", "evil_volatile(first_name)") is None
        assert facts.check_violations("patients", "first_name <> last_name") == 0
        # Outside the plan's own tables nothing is counted at all.
        assert facts.check_violations("visits", "true") is None
        assert conn.execute("SHOW transaction_read_only").fetchone() == ("off",)
    assert canary_state(canary_url)[0] == 1000
    assert_untouched(canary_url, victim)


def test_the_setting_extends_what_a_policy_may_call(monkeypatch: pytest.MonkeyPatch) -> None:
    from schemabuilder.engine.contract import allowlist, fragments

    checked = fragments.check_expression("app.is_member(tenant_id)", allow_subqueries=True)
    monkeypatch.delenv(allowlist.POLICY_SETTING, raising=False)
    assert allowlist.judge(checked, "policy") == (None, checked.calls)  # left to the target
    monkeypatch.setenv(allowlist.POLICY_SETTING, "app.is_member, other.fn")
    assert allowlist.judge(checked, "policy") == (None, ())
    assert "app.is_member" in allowlist.allowed_for("policy")
    # The setting widens policies only: a check still refuses the function.
    problem, _ = allowlist.judge(checked, "check")
    assert problem and "app.is_member()" in problem


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("check", "length(btrim(name)) BETWEEN 1 AND 80 AND name ~* '^[a-z]'"),
        ("check", "date_part('year', born_on) > 1900 AND coalesce(qty, 0) >= 0"),
        ("check", "tags && ARRAY['a', 'b'] AND doc ? 'k' AND doc ->> 'k' <> ''"),
        ("check", "status IN ('a', 'b') AND NOT (x IS DISTINCT FROM y) AND z LIKE 'p%'"),
        ("default", "gen_random_uuid()"),
        ("default", "now() + interval '1 day'"),
        ("default", "CURRENT_USER"),
        ("default", "to_jsonb(ARRAY[1, 2])"),
        ("policy", "tenant_id::text = current_setting('app.current_tenant_id', true)"),
        ("policy", "app_code = auth.jwt() ->> 'app_code' OR auth.role() = 'admin'"),
        ("policy", "EXISTS (SELECT 1 FROM members m WHERE m.user_id = auth.uid())"),
        ("policy", "owner = CURRENT_USER"),
    ],
)
def test_ordinary_expressions_are_allowed(kind: Any, text: str) -> None:
    from schemabuilder.engine.contract import allowlist, fragments

    checked = fragments.check_expression(text, allow_subqueries=kind == "policy")
    assert checked.problem is None
    assert allowlist.judge(checked, kind) == (None, ())


def test_plan_judges_a_blueprint_that_never_went_through_validation(
    canary_url: str, victim: psycopg.Connection[Any]
) -> None:
    """The worker reads stored blueprints back without validating them: plan() itself
    refuses what validation would have, at the same paths."""
    from schemabuilder.engine import NCheck, NormalizedBlueprint

    bp = validate_envelope(base_envelope()).blueprint
    data = bp.model_dump(mode="json")
    data["tables"][0]["checks"][0]["expression"] = "setval('other_tenant.canary_seq', 1) > 0"
    data["tables"][0]["columns"][-1]["default"] = "nextval('other_tenant.canary_seq')::text"
    stored = NormalizedBlueprint.model_validate(data, strict=False)
    assert isinstance(stored.tables[0].checks[0], NCheck)
    with (
        psycopg.connect(canary_url, autocommit=True) as conn,
        pytest.raises(BlueprintInvalid) as raised,
    ):
        plan(conn, stored, schema="public", managed=set())
    paths = {i.path for i in raised.value.issues}
    assert "payload.tables[0].checks[0].expression" in paths
    assert "payload.tables[0].columns[3].default" in paths, paths
    assert_untouched(canary_url, victim)
