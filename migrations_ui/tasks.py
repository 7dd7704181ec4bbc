"""Background jobs, run by procrastinate's worker (``manage.py worker``): thin adapters that
call the workflow (``migrations_ui.workflow``), which owns every change of a proposal."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext, RetryStrategy
from procrastinate.contrib.django import app

from migrations_ui import workflow
from migrations_ui.audit.context import request_id
from migrations_ui.models import WorkerHeartbeat
from migrations_ui.workflow import apply, jobs

log = logging.getLogger(__name__)


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# Every 10 seconds (sixth cron column). The row proves the worker executes jobs, not merely
# that its process is alive; /healthz reads both.
@app.periodic(cron="* * * * * */10", periodic_id="heartbeat")
@app.task(queue="heartbeat", name="heartbeat", pass_context=False)
def heartbeat(timestamp: int) -> None:
    WorkerHeartbeat.objects.update_or_create(
        worker=worker_identity(), defaults={"beat_at": timezone.now()}
    )


# Lock timeouts, deadlocks and an unreachable target: the apply rolled back, the proposal is
# queued again and the job raises ApplyRetry; procrastinate runs it again after 1 s, then 3 s.
@app.task(
    queue=jobs.APPLY_QUEUE,
    name=jobs.APPLY_TASK,
    pass_context=True,
    retry=RetryStrategy(
        max_attempts=apply.APPLY_RETRIES,
        wait=apply.RETRY_WAIT_S,
        linear_wait=apply.RETRY_LINEAR_WAIT_S,
        retry_exceptions=[apply.ApplyRetry],
    ),
)
def apply_proposal(context: JobContext, proposal_id: str) -> None:
    job = context.job
    with request_id(f"job-{job.id if job else None}"):
        apply.run(proposal_id, attempt=job.attempts if job else 0)


# A worker killed mid-job leaves its job "doing" forever; once the worker's heartbeat is
# stale, hand the job to another worker. The apply job is safe to run again: the target's
# own commit marker says whether the first run committed.
@app.periodic(cron="* * * * * */5", periodic_id="recover")
@app.task(
    queue="heartbeat", name="recover_stalled", queueing_lock="recover_stalled", pass_context=False
)
async def recover_stalled(timestamp: int) -> None:
    stalled_after = settings.WORKER_STALLED_AFTER_S
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=stalled_after):
        log.warning("retrying stalled job %s (%s)", job.id, job.task_name)
        await app.job_manager.retry_job(job)


@app.periodic(cron="* * * * *", periodic_id="sweep")
@app.task(queue="heartbeat", name="sweep_stuck_proposals", pass_context=False)
def sweep_stuck_proposals(timestamp: int) -> None:
    """No proposal stays in a non-final state that nothing will move on (see
    ``workflow.recovery``): plans a dead web process left, queued or applying ones without a
    live job (decided by the target's commit marker)."""
    workflow.fail_interrupted_plans(older_than=timedelta(minutes=10))
    workflow.recover_stuck(older_than=timedelta(minutes=1))


@app.periodic(cron="17 3 * * *", periodic_id="purge-canonical-forms")
@app.task(queue="heartbeat", name="purge_canonical_forms", pass_context=False)
def purge_canonical_forms(timestamp: int) -> None:
    """Forms are keyed by the engine's sources and the target's catalog state, so a release or
    a schema change leaves rows no key will ask for again: drop what is older than the
    retention (a form still in use is learned again by its next plan, which is only slower)."""
    from migrations_ui.models import CanonicalForm

    cutoff = timezone.now() - timedelta(days=settings.CANONICAL_FORM_RETENTION_DAYS)
    deleted, _ = CanonicalForm.objects.filter(created_at__lt=cutoff).delete()
    if deleted:
        log.info("purged %d canonical forms older than %s", deleted, cutoff.date())


from migrations_ui.audit import outbound  # noqa: E402,F401  (registers its tasks)
