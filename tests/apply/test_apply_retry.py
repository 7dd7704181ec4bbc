"""A lock timeout while applying puts the proposal back in the queue and lets procrastinate
run the job again later (its RetryStrategy): the worker never sleeps inside the job."""

from __future__ import annotations

import threading

import psycopg
import pytest
from procrastinate.jobs import Job

from migrations_ui import workflow
from migrations_ui.models import AuditEvent, ProposalStatus, Source
from migrations_ui.tasks import apply_proposal
from migrations_ui.workflow import apply as apply_service
from tests.apply.blueprints import envelope, table
from tests.apply.conftest import wait_for


def test_the_apply_job_retries_after_1_then_3_seconds_then_gives_up():
    strategy = apply_proposal.retry_strategy
    assert strategy is not None

    # wait + linear_wait * attempts: 1 s after the first run, 3 s after the second.
    assert (strategy.wait, strategy.linear_wait, strategy.exponential_wait) == (1, 2, 0)

    def retried(attempts: int, exc: Exception) -> bool:
        job = Job(id=1, queue="apply", lock=None, queueing_lock=None, task_name="apply_proposal")
        job = job.evolve(attempts=attempts)
        return strategy.get_retry_decision(exception=exc, job=job) is not None

    retry = apply_service.ApplyRetry("lock timeout")
    assert retried(0, retry) and retried(1, retry)
    assert not retried(2, retry)  # the third run is the last
    assert not retried(0, RuntimeError("a bug"))  # only ApplyRetry is retried


def test_a_lock_timeout_queues_the_proposal_again_and_the_last_attempt_fails_it(people, target_url):
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    v2 = envelope([table("orders", ("total", "INTEGER"), ("note", "TEXT"))], version="002")
    proposal = workflow.submit(user=people.alice, envelope=v2, source=Source.API).proposal
    with psycopg.connect(target_url) as holder:
        holder.execute("SELECT count(*) FROM orders")  # ACCESS SHARE, held open
        with pytest.raises(apply_service.ApplyRetry):
            apply_service.run(str(proposal.pk), attempt=0)
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.QUEUED
        retry = AuditEvent.objects.get(proposal=proposal, action="proposal.apply_retry")
        assert retry.data["attempt"] == 1 and "AccessShareLock" in str(retry.data["blockers"])
        apply_service.run(str(proposal.pk), attempt=apply_service.APPLY_RETRIES)
        holder.rollback()
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.FAILED
    assert "Gave up after 3 attempts" in proposal.error


def test_a_lock_let_go_while_a_statement_retries_is_applied_and_the_timeline_says_so(
    people, target_url
):
    """The statement gives way once (or more), the blocker commits, the retry succeeds: the
    proposal is applied in one run of the job, and its timeline names who blocked it."""
    v1 = envelope([table("orders", ("total", "INTEGER"))])
    first = workflow.submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    v2 = envelope([table("orders", ("total", "INTEGER"), ("note", "TEXT"))], version="002")
    proposal = workflow.submit(user=people.alice, envelope=v2, source=Source.API).proposal
    with psycopg.connect(target_url) as holder, psycopg.connect(target_url) as watch:
        holder.execute("SELECT count(*) FROM orders")  # ACCESS SHARE, held open
        pid = holder.info.backend_pid

        def waiting() -> bool:
            row = watch.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'orders'::regclass"
            ).fetchone()
            watch.rollback()
            return bool(row and row[0])

        def let_go_after_the_first_timeout() -> None:
            wait_for(waiting, 30, "the apply to wait for orders")
            wait_for(lambda: not waiting(), 30, "the apply to give way")
            holder.rollback()

        letting_go = threading.Thread(target=let_go_after_the_first_timeout)
        letting_go.start()
        apply_service.run(str(proposal.pk), attempt=0)
        letting_go.join(30)
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    retries = list(AuditEvent.objects.filter(proposal=proposal, action="proposal.lock_retry"))
    assert 1 <= len(retries) < people.target.lock_attempts
    assert retries[0].data["attempt"] == 1 and retries[0].data["sqlstate"] == "55P03"
    assert retries[0].data["reason"].startswith("retried after a lock timeout (waited ")
    assert f"held by pid {pid} (AccessShareLock" in retries[0].data["reason"]
    assert [b["pid"] for b in retries[0].data["blockers"]] == [pid]
    assert not AuditEvent.objects.filter(proposal=proposal, action="proposal.apply_retry")
    assert proposal.timings["lock_retries"] == len(retries)
