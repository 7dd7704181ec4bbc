"""What the worker records of an online change, stage by stage: the first stage's commit and
each second-stage step as events, both stages in ``timings``, the steps in the result; also
for a change a failed step stopped, and for one a resumed run finished."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection

from migrations_ui import workflow
from migrations_ui.api import contract
from migrations_ui.models import AuditEvent, Proposal, ProposalStatus, Source
from migrations_ui.workflow import apply as apply_service
from schemabuilder.engine.apply import runner
from tests.apply.blueprints import envelope, table
from tests.apply.stage_two_hooks import WorkerDied, before_each_step, die


def _applied_v1(people: Any, target_url: str) -> Proposal:
    v1 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))])
    first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    first.refresh_from_db()
    assert first.status == ProposalStatus.APPLIED, first.error
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.orders (tenant_id, total, code) "
            "SELECT gen_random_uuid(), g, 'c' || g FROM generate_series(1, 200) g"
        )
    return first


def _online_v2(people: Any, *, unique: bool = False) -> Proposal:
    """An index on the existing table and a NOT NULL on its filled column: both online."""
    v2 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))], version="002")
    orders = v2["payload"]["tables"][0]
    orders["indexes"] = [{"name": "idx_orders_total", "columns": ["total"], "unique": unique}]
    orders["columns"][1]["not_null"] = True
    second = workflow.submit(user=people.alice, envelope=v2, source=Source.API).proposal
    assert second.status == ProposalStatus.QUEUED, second.error
    return second


def _events(proposal: Proposal, action: str) -> list[dict[str, Any]]:
    return [
        e.data for e in AuditEvent.objects.filter(proposal=proposal, action=action).order_by("id")
    ]


def test_each_stage_and_step_is_recorded_as_it_happens(people: Any, target_url: str) -> None:
    _applied_v1(people, target_url)
    second = _online_v2(people)
    planned = second.plan_statements()
    stage_two = [i for i, st in enumerate(planned) if st.get("stage") == 2]
    stage_one = [i for i, st in enumerate(planned) if st.get("stage", 1) == 1]
    assert len(stage_two) >= 2, [st["sql"] for st in planned]

    apply_service.run(str(second.pk))
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPLIED, second.error

    [committed] = _events(second, "proposal.stage1_committed")
    assert committed["statements"] == len(stage_one)
    assert committed["steps"] == len(stage_two)
    assert committed["ms"] > 0
    steps = _events(second, "proposal.stage2_step")
    assert [(s["step"], s["of"]) for s in steps] == [
        (n, len(stage_two)) for n in range(1, len(stage_two) + 1)
    ]
    assert all(s["status"] == "done" and s["ms"] is not None for s in steps)
    assert any("CONCURRENTLY" in s["sql"] for s in steps)
    # In order: the commit, each step, then applied.
    actions = list(
        AuditEvent.objects.filter(proposal=second).order_by("id").values_list("action", flat=True)
    )
    at = actions.index("proposal.stage1_committed")
    assert actions[at + 1 : at + 1 + len(stage_two)] == ["proposal.stage2_step"] * len(stage_two)
    assert actions[-1] == "proposal.applied"

    timings = second.timings
    assert timings["apply_mode"] == "online"
    assert timings["stage1"]["done"] == timings["stage1"]["total"] == len(stage_one)
    assert timings["stage1"]["ms"] > 0
    assert [s["index"] for s in timings["phase2_steps"]] == stage_two
    assert timings["progress"]["stage"] == 2
    assert timings["progress"]["done"] == timings["progress"]["total"] == len(planned)
    result_steps = second.result["phase2_steps"]
    assert [set(s) for s in result_steps] == [{"index", "sql", "status", "ms"}] * len(stage_two)
    assert [s["sql"] for s in result_steps] == [planned[i]["sql"] for i in stage_two]
    assert all(s["status"] == "done" and s["ms"] >= 0 for s in result_steps)


def test_an_atomic_change_records_no_stage(people: Any, target_url: str) -> None:
    first = _applied_v1(people, target_url)
    assert _events(first, "proposal.stage1_committed") == []
    assert first.result["phase2_steps"] == []
    assert "stage" not in first.timings["progress"]
    n = len(first.plan_statements())
    assert first.timings["progress"] == {"done": n, "total": n}


def test_a_failed_step_is_recorded_failed_with_its_reason(
    people: Any, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _applied_v1(people, target_url)
    second = _online_v2(people, unique=True)
    real = runner.run_statement

    def duplicates_arrive(conn: psycopg.Connection[Any], statement: str) -> None:
        if "CREATE UNIQUE INDEX CONCURRENTLY" in statement:
            with psycopg.connect(target_url, autocommit=True) as other:
                other.execute(
                    "INSERT INTO public.orders (tenant_id, total, code) "
                    "SELECT gen_random_uuid(), 7, 'x' FROM generate_series(1, 2)"
                )
        real(conn, statement)

    monkeypatch.setattr(runner, "run_statement", duplicates_arrive)
    apply_service.run(str(second.pk))
    second.refresh_from_db()
    assert second.status == ProposalStatus.FAILED

    failed = [s for s in _events(second, "proposal.stage2_step") if s["status"] == "failed"]
    assert len(failed) == 1
    assert "idx_orders_total" in failed[0]["sql"]
    assert "Stage 2 step" in failed[0]["error"]
    assert "(7)" not in failed[0]["error"]  # no value of another connection's rows
    assert len(_events(second, "proposal.stage1_committed")) == 1
    statuses = [s["status"] for s in second.timings["phase2_steps"]]
    assert "failed" in statuses
    # The output contract names the failed step too.
    reported = contract.phase2_steps(second)
    assert [s["status"] for s in reported] == statuses
    assert [s["index"] for s in reported] == [s["index"] for s in second.timings["phase2_steps"]]
    assert second.timings["stage1"]["ms"] > 0


def test_a_resumed_change_reports_both_stages(
    people: Any, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _applied_v1(people, target_url)
    second = _online_v2(people)
    restore = before_each_step(monkeypatch, die)
    with pytest.raises(WorkerDied):
        apply_service.run(str(second.pk))
    restore()
    second.refresh_from_db()
    assert second.timings["progress"]["stage"] == 2  # the page showed the second stage begun

    with connection.cursor() as cur:  # the job ended with the worker, as the queue leaves it
        cur.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'proposal_id' = %s",
            [str(second.pk)],
        )
    workflow.recover_stuck(older_than=timedelta(0))
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPLIED, second.error
    steps = second.result["phase2_steps"]
    assert steps and all(s["status"] == "done" for s in steps)
    assert second.timings["phase2_steps"] == steps
    assert second.timings["stage1"]["ms"] > 0  # kept from the run that died
    resumed = _events(second, "proposal.stage2_step")
    assert [(s["step"], s["of"]) for s in resumed] == [
        (n, len(steps)) for n in range(1, 1 + len(steps))
    ]


def test_a_change_whose_recording_died_is_recorded_from_the_marker_with_its_steps(
    people: Any, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _applied_v1(people, target_url)
    second = _online_v2(people)

    def recording_dies(*_: Any) -> None:
        raise WorkerDied

    real = apply_service._record_outcome
    monkeypatch.setattr(apply_service, "_record_outcome", recording_dies)
    with pytest.raises(WorkerDied):
        apply_service.run(str(second.pk))
    monkeypatch.setattr(apply_service, "_record_outcome", real)
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'proposal_id' = %s",
            [str(second.pk)],
        )
    workflow.recover_stuck(older_than=timedelta(0))
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPLIED, second.error
    steps = second.result["phase2_steps"]
    planned = second.plan_statements()
    assert [s["index"] for s in steps] == [
        i for i, st in enumerate(planned) if st.get("stage") == 2
    ]
    assert all(s["status"] == "done" and s["ms"] is not None for s in steps)
    assert second.timings["phase2_steps"] == steps
    assert second.timings["progress"]["stage"] == 2  # the page still draws both stages
    assert second.timings["stage1"]["ms"] > 0
