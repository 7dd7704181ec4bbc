"""An online change through the workflow: a worker that dies in the second stage leaves the
proposal applying with the marker in phase1; the sweeper finishes the second stage from the
marker before it records the proposal applied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection

from migrations_ui import workflow
from migrations_ui.models import MigrationRecord, ProposalStatus, Source
from migrations_ui.workflow import apply as apply_service
from tests.apply.blueprints import envelope, table
from tests.apply.stage_two_hooks import WorkerDied, before_each_step, die, duplicate_totals


def _index_valid(url: str, name: str) -> bool | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        ).fetchone()
    return None if row is None else bool(row[0])


def test_a_second_stage_cut_short_is_finished_by_the_sweeper(
    people: Any, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    first.refresh_from_db()
    assert first.status == ProposalStatus.APPLIED, first.error

    v2 = envelope([table("orders", ("total", "INTEGER"))], version="002")
    v2["payload"]["tables"][0]["indexes"] = [{"name": "idx_orders_total", "columns": ["total"]}]
    second = workflow.submit(user=people.alice, envelope=v2, source=Source.API).proposal
    assert second.status == ProposalStatus.QUEUED, second.error
    assert any(st.get("stage") == 2 for st in second.plan_statements())

    restore = before_each_step(monkeypatch, die)
    with pytest.raises(WorkerDied):
        apply_service.run(str(second.pk))
    restore()
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPLYING
    assert _index_valid(target_url, "idx_orders_total") is None

    with connection.cursor() as cur:  # the job ended with the worker, as the queue leaves it
        cur.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'proposal_id' = %s",
            [str(second.pk)],
        )
    workflow.recover_stuck(older_than=timedelta(0))
    second.refresh_from_db()
    assert second.status == ProposalStatus.APPLIED, second.error
    assert _index_valid(target_url, "idx_orders_total") is True
    assert MigrationRecord.objects.filter(proposal=second, status="success").count() == 1
    with psycopg.connect(target_url) as conn:
        row = conn.execute(
            "SELECT status FROM schemabuilder.schema_migrations WHERE proposal_id = %s",
            [str(second.pk)],
        ).fetchone()
    assert row == ("success",)


def test_a_unique_build_that_meets_duplicates_after_the_plan_fails_the_proposal(
    people: Any, target_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    first.refresh_from_db()
    assert first.status == ProposalStatus.APPLIED, first.error

    v2 = envelope([table("orders", ("total", "INTEGER"))], version="002")
    v2["payload"]["tables"][0]["indexes"] = [
        {"name": "idx_orders_total", "columns": ["total"], "unique": True}
    ]
    second = workflow.submit(user=people.alice, envelope=v2, source=Source.API).proposal
    assert second.status == ProposalStatus.QUEUED, second.error

    before_each_step(monkeypatch, duplicate_totals(target_url))
    apply_service.run(str(second.pk))
    second.refresh_from_db()
    assert second.status == ProposalStatus.FAILED
    assert "Stage 2 step 1 of 1" in second.error
    assert "first stage stays committed" in second.error
    assert "(7)" not in second.error  # no value of another session's rows
    assert _index_valid(target_url, "idx_orders_total") is None  # no INVALID index left
    with psycopg.connect(target_url) as conn:
        row = conn.execute(
            "SELECT status FROM schemabuilder.schema_migrations WHERE proposal_id = %s",
            [str(second.pk)],
        ).fetchone()
    assert row == ("failed",)  # the marker and the proposal agree
