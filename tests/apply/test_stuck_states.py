"""No proposal stays in a state it cannot leave: any error while planning fails it with the
reason, its apply job is created in the transaction that queues it, and the sweeper settles a
proposal left queued or applying by asking the target's commit marker first."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from procrastinate.exceptions import ConnectorException

from migrations_ui import workflow
from migrations_ui.models import (
    Approval,
    AuditEvent,
    MigrationRecord,
    Proposal,
    ProposalStatus,
    Source,
)
from migrations_ui.workflow import apply as apply_service
from tests.apply.blueprints import envelope, table
from tests.apply.conftest import app_database_url

SECRET_APP = "other_tenant_app_h3"
SECRET_QUERY = "SECRET_QUERY_h3"


@contextmanager
def app_table_locked(table_name: str, mode: str = "ACCESS EXCLUSIVE") -> Iterator[None]:
    """Another connection of the app database holds ``mode`` on ``table_name``, and this
    process's connection gives up waiting for a lock after 300 ms."""
    with psycopg.connect(app_database_url(), application_name=SECRET_APP) as holder:
        holder.execute(f"LOCK TABLE {table_name} IN {mode} MODE /* {SECRET_QUERY} */")
        with connection.cursor() as cur:
            cur.execute("SET lock_timeout = '300ms'")
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("RESET lock_timeout")
            holder.rollback()


def apply_jobs(proposal: Proposal) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT status FROM procrastinate_jobs WHERE task_name = 'apply_proposal'"
            " AND args->>'proposal_id' = %s",
            [str(proposal.pk)],
        )
        return [row[0] for row in cur.fetchall()]


def test_an_app_database_lock_timeout_while_planning_fails_the_proposal(people):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    # Planning reads the canonical forms of the app database: that read times out.
    with app_table_locked("migrations_ui_canonicalform"):
        first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    first.refresh_from_db()
    assert first.status == ProposalStatus.FAILED
    assert "SQLSTATE 55P03 (lock timeout" in first.error
    for secret in (SECRET_APP, SECRET_QUERY):
        assert secret not in first.error
    # The same blueprint again is planned afresh, not handed back unplanned.
    again = workflow.submit(user=people.alice, envelope=v1, source=Source.API)
    assert again.created and again.proposal.pk != first.pk
    assert again.proposal.status == ProposalStatus.QUEUED


def test_a_job_that_cannot_be_queued_never_leaves_the_proposal_queued(people):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    with app_table_locked("procrastinate_jobs"):
        proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.FAILED, proposal.status
    assert "SQLSTATE 55P03" in proposal.error
    assert apply_jobs(proposal) == []


def test_the_apply_job_commits_and_rolls_back_with_the_queueing(people):
    v1 = envelope([table("orders", ("total", "INTEGER"))], force=True)
    proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    assert proposal.status == ProposalStatus.AWAITING_APPROVAL
    with pytest.raises(RuntimeError), transaction.atomic():
        workflow.approve(proposal, people.bob, proposal.plan_checksum, comment="ok")
        # Inside the transaction that queued it, the job is there already...
        assert apply_jobs(proposal) == ["todo"]
        raise RuntimeError("the approval's transaction fails after the job was deferred")
    # ...and it went with the rollback: no job for a proposal that is not queued.
    assert apply_jobs(proposal) == []
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.AWAITING_APPROVAL
    assert not Approval.objects.filter(proposal=proposal).exists()
    workflow.approve(proposal, people.bob, proposal.plan_checksum, comment="ok")
    assert apply_jobs(proposal) == ["todo"]


def test_an_approval_whose_job_cannot_be_queued_is_not_recorded(people):
    v1 = envelope([table("orders", ("total", "INTEGER"))], force=True)
    proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    with app_table_locked("procrastinate_jobs"), pytest.raises(ConnectorException) as caught:
        workflow.approve(proposal, people.bob, proposal.plan_checksum, comment="ok")
    assert "lock timeout" in str(caught.value.__cause__)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.AWAITING_APPROVAL
    assert not Approval.objects.filter(proposal=proposal).exists()


def test_an_app_database_error_after_the_target_committed_is_settled_by_the_marker(
    people, target_url
):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    assert proposal.status == ProposalStatus.QUEUED
    # The target commits; recording the migration in the app database then times out (SHARE
    # lets the apply read the migration log, and refuses its INSERT).
    with app_table_locked("migrations_ui_migrationrecord", "SHARE"), pytest.raises(DatabaseError):
        apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLYING
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('public.orders')").fetchone()[0] is not None
    # The job ended failed, as the worker leaves it: the sweeper asks the marker.
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'proposal_id' = %s",
            [str(proposal.pk)],
        )
    workflow.recover_stuck(older_than=timedelta(0))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    assert MigrationRecord.objects.filter(proposal=proposal, status="success").count() == 1
    resumed = AuditEvent.objects.get(proposal=proposal, action="proposal.resumed")
    assert resumed.data["committed"] is True


def test_the_sweeper_queues_again_a_queued_proposal_without_a_job(people):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    assert apply_jobs(proposal) == ["todo"]
    with connection.cursor() as cur:  # the job is lost (as a crash between the two once did)
        cur.execute(
            "DELETE FROM procrastinate_jobs WHERE args->>'proposal_id' = %s", [str(proposal.pk)]
        )
    workflow.recover_stuck(older_than=timedelta(0))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.QUEUED
    assert apply_jobs(proposal) == ["todo"]
    workflow.recover_stuck(older_than=timedelta(0))  # a live job is left alone
    assert apply_jobs(proposal) == ["todo"]


def test_an_applying_proposal_whose_target_did_not_commit_is_applied_again(people, target_url):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    workflow.start_applying(proposal)  # the worker died right after it started
    with connection.cursor() as cur:
        cur.execute(
            "DELETE FROM procrastinate_jobs WHERE args->>'proposal_id' = %s", [str(proposal.pk)]
        )
    workflow.recover_stuck(older_than=timedelta(0))
    proposal.refresh_from_db()
    # Not committed: never failed on a guess; queued for another run, which applies it.
    assert proposal.status == ProposalStatus.APPLYING
    assert apply_jobs(proposal) == ["todo"]
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error


def test_a_marker_that_cannot_be_read_gives_no_verdict(people, target_url, monkeypatch):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    proposal = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    workflow.start_applying(proposal)  # the worker died mid-apply
    monkeypatch.delenv("TARGET_DEV_URL")  # and the target cannot be reached now
    with pytest.raises(apply_service.MarkerUnknown):
        apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    # It may have committed: not failed on a guess, left for the sweeper.
    assert proposal.status == ProposalStatus.APPLYING
    workflow.recover_stuck(older_than=timedelta(0))  # the job is live: nothing done
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE procrastinate_jobs SET status = 'failed' WHERE args->>'proposal_id' = %s",
            [str(proposal.pk)],
        )
    workflow.recover_stuck(older_than=timedelta(0))  # still unreachable: asked again later
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLYING
    monkeypatch.setenv("TARGET_DEV_URL", target_url)
    workflow.recover_stuck(older_than=timedelta(0))
    assert sorted(apply_jobs(proposal)) == ["failed", "todo"]
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
