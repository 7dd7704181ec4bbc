"""Background jobs, run by procrastinate's worker (``manage.py worker``)."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from migrations_ui.context import request_id
from migrations_ui.models import Proposal, WorkerHeartbeat

log = logging.getLogger(__name__)

APPLY_QUEUE = "apply"


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


def defer_apply(proposal: Proposal) -> None:
    """Queue the apply job. The job lock is per target: procrastinate runs one job per lock at
    a time, on any number of workers; the queueing lock keeps one waiting job per proposal."""
    try:
        apply_proposal.configure(
            lock=f"target:{proposal.target_id}",
            queueing_lock=f"proposal:{proposal.pk}",
        ).defer(proposal_id=str(proposal.pk))
    except AlreadyEnqueued:
        log.info("apply of %s is already queued", proposal.pk)


@app.task(queue=APPLY_QUEUE, name="apply_proposal", pass_context=True)
def apply_proposal(context: JobContext, proposal_id: str) -> None:
    from migrations_ui.workflow import apply as apply_service

    job_id = context.job.id if context.job else None
    with request_id(f"job-{job_id}"):
        apply_service.run(proposal_id)


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


@app.periodic(cron="*/5 * * * *", periodic_id="sweep")
@app.task(queue="heartbeat", name="sweep_interrupted_plans", pass_context=False)
def sweep_interrupted_plans(timestamp: int) -> None:
    """A web process that died while planning leaves a proposal submitted or planned: fail it
    with the reason, so no proposal stays in a non-final state."""
    from migrations_ui.models import ProposalStatus

    stale = timezone.now() - timedelta(minutes=10)
    for proposal in Proposal.objects.filter(
        status__in=[ProposalStatus.SUBMITTED, ProposalStatus.PLANNED], updated_at__lt=stale
    ):
        proposal.mark_failed("Planning was interrupted (the server stopped). Submit it again.")


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


from migrations_ui import outbound  # noqa: E402,F401  (registers its tasks)
