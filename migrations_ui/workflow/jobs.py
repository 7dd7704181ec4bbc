"""The apply job, deferred on Django's own connection.

procrastinate's Django connector runs ``defer`` through Django's database connection, so the
job row is written inside whatever transaction is open: it commits with the state change that
queued it, or rolls back with it. Deferred by task name (the task lives in ``tasks.py``, the
thin adapter that calls back into the workflow), so the workflow never imports it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob
from procrastinate.exceptions import AlreadyEnqueued

from migrations_ui.models import Proposal

log = logging.getLogger(__name__)

APPLY_QUEUE = "apply"
APPLY_TASK = "apply_proposal"
# A job that is waiting or running: anything else (failed, succeeded, gone) runs no more.
LIVE_JOB_STATES = ("todo", "doing")


def defer_apply(proposal: Proposal) -> None:
    """Queue the apply job, in the caller's transaction. The job lock is per target:
    procrastinate runs one job per lock at a time, on any number of workers; the queueing lock
    keeps one waiting job per proposal."""
    try:
        # A savepoint: a job already waiting must not abort the caller's transaction.
        with transaction.atomic():
            app.configure_task(
                APPLY_TASK,
                queue=APPLY_QUEUE,
                lock=f"target:{proposal.target_id}",
                queueing_lock=f"proposal:{proposal.pk}",
            ).defer(proposal_id=str(proposal.pk))
    except AlreadyEnqueued:
        log.info("apply of %s is already queued", proposal.pk)


def has_live_apply_job(proposal: Proposal) -> bool:
    return ProcrastinateJob.objects.filter(
        task_name=APPLY_TASK, status__in=LIVE_JOB_STATES, args__proposal_id=str(proposal.pk)
    ).exists()
