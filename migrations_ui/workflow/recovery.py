"""The sweeper: no proposal stays in a non-final state that nothing will move it out of.

- ``submitted`` or ``planned`` for long: the web process died while planning; failed, with
  the reason (planning runs in the request, so nobody is still at it).
- ``queued`` with no live apply job: the job was lost; deferred again.
- ``applying`` with no live apply job: the worker died, or recording the outcome in the app
  database failed after the target committed. The target's commit marker decides before any
  verdict: committed → recorded as applied; not committed → deferred again (the job applies
  it); the marker cannot be read → left as it is, asked again at the next sweep.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from migrations_ui.models import Proposal, ProposalStatus
from migrations_ui.workflow import apply, jobs, transitions

log = logging.getLogger(__name__)

S = ProposalStatus


def fail_interrupted_plans(*, older_than: timedelta) -> int:
    stale = timezone.now() - older_than
    count = 0
    for proposal in Proposal.objects.filter(
        status__in=[S.SUBMITTED, S.PLANNED], updated_at__lt=stale
    ).select_related("tenant", "target", "submitted_by"):
        transitions.mark_failed(
            proposal, "Planning was interrupted (the server stopped). Submit it again."
        )
        count += 1
    return count


def recover_stuck(*, older_than: timedelta) -> int:
    """Settle the queued and applying proposals (unchanged for ``older_than``) that have no
    live apply job. Returns how many were seen to."""
    stale = timezone.now() - older_than
    count = 0
    for proposal in Proposal.objects.filter(
        status__in=[S.QUEUED, S.APPLYING], updated_at__lt=stale
    ).select_related("tenant", "target", "submitted_by"):
        if jobs.has_live_apply_job(proposal):
            continue
        count += 1
        if proposal.status == S.QUEUED:
            log.warning("proposal %s was queued without a job: deferred again", proposal.pk)
            with transaction.atomic():
                jobs.defer_apply(proposal)
            continue
        try:
            apply.settle_interrupted(proposal)
        except apply.MarkerUnknown as exc:
            log.warning("proposal %s left applying: %s", proposal.pk, exc)
    return count
