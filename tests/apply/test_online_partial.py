"""An online change whose second stage fails leaves its first stage committed: the migration
log says ``partial``, with the live snapshot and what is managed now, so the next proposal
plans the tables (and types) that stage created as the tool's own, and only what is missing.
A second-stage step that gives way to a lock retries, recorded in the timeline, and after
its last try fails the proposal naming the blocker."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.test import Client

from migrations_ui import workflow
from migrations_ui.models import (
    ApiToken,
    AuditEvent,
    MigrationRecord,
    MigrationStatus,
    ProposalStatus,
    Source,
)
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow import transitions
from tests.apply.blueprints import envelope, table
from tests.apply.stage_two_hooks import WorkerDied, before_each_step, duplicate_totals


def _applied(people: Any, env: dict[str, Any]) -> Any:
    proposal = workflow.submit(user=people.alice, envelope=env, source=Source.API).proposal
    assert proposal.status == ProposalStatus.QUEUED, proposal.error
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    return proposal


def _v2(version: str) -> dict[str, Any]:
    """orders gets a unique index (built in stage 2); a new table and an enum type (stage 1)."""
    env = envelope(
        [table("orders", ("total", "INTEGER")), table("notes", ("body", "TEXT"))],
        version=version,
    )
    env["payload"]["tables"][0]["indexes"] = [
        {"name": "idx_orders_total", "columns": ["total"], "unique": True}
    ]
    env["payload"]["types"] = [{"name": "note_kind", "enum": ["plain", "urgent"]}]
    return env


@pytest.fixture
def first(people: Any) -> Any:
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    proposal = _applied(people, v1)
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    return proposal


def _exists(url: str, regclass: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [regclass]).fetchone()
    return bool(row and row[0])


def test_after_a_second_stage_failure_the_next_plan_manages_what_the_first_stage_made(
    people: Any, target_url: str, first: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    restore = before_each_step(monkeypatch, duplicate_totals(target_url))
    second = _applied(people, _v2("002"))
    restore()
    assert second.status == ProposalStatus.FAILED
    assert "first stage stays committed" in second.error
    assert _exists(target_url, "public.notes")

    (record,) = MigrationRecord.objects.filter(proposal=second)
    assert record.status == MigrationStatus.PARTIAL
    assert record.error_message == second.error
    assert sorted(record.managed_tables) == ["notes", "orders"]
    assert {t["name"] for t in record.snapshot["tables"]} == {"notes", "orders"}
    orders = next(t for t in record.snapshot["tables"] if t["name"] == "orders")
    assert "idx_orders_total" not in {i["name"] for i in orders.get("indexes", [])}
    assert MigrationRecord.managed_for(people.target) == {"notes", "orders"}
    assert MigrationRecord.managed_types_for(people.target) == {"note_kind"}
    token = ApiToken.issue(people.alice, "history")[1]
    history = Client().get(
        "/api/v1/tenants/t_demo/history", headers={"Authorization": f"Bearer {token}"}
    )
    assert history.status_code == 200, history.content
    assert [(i["version"], i["status"]) for i in history.json()["items"]] == [
        ("002", "partial"),
        ("001", "success"),
    ]

    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("DELETE FROM public.orders WHERE total = 7")
    third = workflow.submit(user=people.alice, envelope=_v2("003"), source=Source.API).proposal
    assert third.status == ProposalStatus.QUEUED, third.error
    assert third.plan["managed"] == ["notes", "orders"]
    assert third.plan["managed_types"] == ["note_kind"]
    statements = [st for st in third.plan_statements() if st["phase"] != "setup"]
    assert [(st["stage"], st["sql"]) for st in statements] == [
        (
            2,
            "CREATE UNIQUE INDEX CONCURRENTLY idx_orders_total ON public.orders USING btree "
            "(total)",
        )
    ], statements
    apply_service.run(str(third.pk))
    third.refresh_from_db()
    assert third.status == ProposalStatus.APPLIED, third.error
    assert MigrationRecord.objects.get(proposal=third).status == MigrationStatus.SUCCESS


@pytest.fixture
def blocker(target_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(target_url) as conn:
        yield conn


def test_a_second_stage_step_locked_out_on_every_try_fails_the_proposal_naming_the_blocker(
    people: Any,
    target_url: str,
    first: Any,
    blocker: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    people.target.lock_attempts = 2
    people.target.save(update_fields=["lock_attempts"])

    def an_old_transaction_elsewhere(conn: psycopg.Connection[Any]) -> None:
        if blocker.info.transaction_status is psycopg.pq.TransactionStatus.IDLE:
            blocker.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            blocker.execute("SELECT 1")  # a snapshot the concurrent build waits for

    restore = before_each_step(monkeypatch, an_old_transaction_elsewhere)
    try:
        second = _applied(people, _v2("002"))
    finally:
        restore()
        blocker.rollback()
    pid = blocker.info.backend_pid
    assert second.status == ProposalStatus.FAILED
    assert "Stage 2 step 1 of 1" in second.error
    assert f"held by pid {pid}" in second.error
    assert [b["pid"] for b in second.result["blockers"]] == [pid]
    assert len(second.result["lock_retries"]) == 2
    retries = AuditEvent.objects.filter(proposal=second, action="proposal.lock_retry")
    assert [e.data["attempt"] for e in retries] == [1]
    assert "older transaction" in retries[0].data["reason"]
    with psycopg.connect(target_url) as conn:
        row = conn.execute(
            "SELECT status, error_message FROM schemabuilder.schema_migrations "
            "WHERE proposal_id = %s",
            [str(second.pk)],
        ).fetchone()
        invalid = conn.execute("SELECT count(*) FROM pg_index WHERE NOT indisvalid").fetchone()
    assert row is not None and row[0] == "failed" and "idx_orders_total" in row[1]
    assert invalid == (0,)
    assert MigrationRecord.objects.get(proposal=second).status == MigrationStatus.PARTIAL


def test_a_failed_marker_found_after_a_crash_is_recorded_partial(
    people: Any, target_url: str, first: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def dies(*args: Any, **kwargs: Any) -> None:
        raise WorkerDied  # the marker says failed; the app never heard

    second = workflow.submit(user=people.alice, envelope=_v2("002"), source=Source.API).proposal
    mark_failed = transitions.mark_failed
    restore = before_each_step(monkeypatch, duplicate_totals(target_url))
    monkeypatch.setattr(transitions, "mark_failed", dies)
    with pytest.raises(WorkerDied):
        apply_service.run(str(second.pk))
    restore()
    monkeypatch.setattr(transitions, "mark_failed", mark_failed)
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPLYING
    assert not MigrationRecord.objects.filter(proposal=second).exists()

    with connection.cursor() as cur:  # the job ended with the worker, as the queue leaves it
        cur.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'proposal_id' = %s",
            [str(second.pk)],
        )
    workflow.recover_stuck(older_than=timedelta(0))
    second.refresh_from_db()
    assert second.status == ProposalStatus.FAILED
    assert "idx_orders_total" in second.error
    record = MigrationRecord.objects.get(proposal=second)
    assert record.status == MigrationStatus.PARTIAL
    assert record.snapshot is not None
    assert MigrationRecord.managed_for(people.target) == {"notes", "orders"}
