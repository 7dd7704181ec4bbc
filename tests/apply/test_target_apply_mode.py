"""A target's ``apply_mode``: an atomic target plans (and applies) a blueprint that says no
mode of its own in one transaction; a blueprint's own ``apply_mode`` wins."""

from __future__ import annotations

from typing import Any

import psycopg

from migrations_ui import workflow
from migrations_ui.models import ApplyMode, ProposalStatus, Source, Target
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow import engine_bridge as bridge
from schemabuilder.engine.apply import read_marker
from tests.apply.blueprints import envelope, table


def _with_index(version: str) -> dict[str, Any]:
    env = envelope([table("orders", ("total", "INTEGER"))], version=version)
    env["payload"]["tables"][0]["indexes"] = [{"name": "idx_orders_total", "columns": ["total"]}]
    return env


def _first(people: Any) -> None:
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    first.refresh_from_db()
    assert first.status == ProposalStatus.APPLIED, first.error


def test_targets_are_online_by_default(people: Any) -> None:
    assert Target._meta.get_field("apply_mode").default == ApplyMode.ONLINE
    assert people.target.apply_mode == "online"
    _first(people)
    second = workflow.submit(user=people.alice, envelope=_with_index("002"), source=Source.API)
    assert any(st["stage"] == 2 for st in second.proposal.plan_statements())


def test_an_atomic_target_plans_and_applies_one_transaction(people: Any, target_url: str) -> None:
    _first(people)
    people.target.apply_mode = ApplyMode.ATOMIC
    people.target.save(update_fields=["apply_mode"])

    proposal = workflow.submit(
        user=people.alice, envelope=_with_index("002"), source=Source.API
    ).proposal
    assert proposal.status == ProposalStatus.QUEUED, proposal.error
    assert proposal.plan["apply_mode"] == "atomic"
    dry = bridge.plan_target(people.target, bridge.blueprint_from_json(proposal.blueprint))
    assert (dry.plan_json["apply_mode"], dry.sql) == ("atomic", proposal.plan_sql)
    statements = proposal.plan_statements()
    assert all(st["stage"] == 1 for st in statements)
    assert "CREATE INDEX idx_orders_total ON public.orders USING btree (total)" in proposal.plan_sql
    assert "CONCURRENTLY" not in proposal.plan_sql

    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    with psycopg.connect(target_url) as conn:
        marker = read_marker(conn, str(proposal.pk))
    assert marker is not None
    assert (marker["status"], marker["phase2_steps"]) == ("success", [])


def test_the_blueprints_own_mode_wins_over_the_targets(people: Any) -> None:
    _first(people)
    people.target.apply_mode = ApplyMode.ATOMIC
    people.target.save(update_fields=["apply_mode"])
    env = _with_index("002")
    env["payload"]["apply_mode"] = "online"
    proposal = workflow.submit(user=people.alice, envelope=env, source=Source.API).proposal
    assert proposal.plan["apply_mode"] == "online"
    assert any(st["stage"] == 2 for st in proposal.plan_statements())
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
