"""New proposals made from earlier ones, by one button: a blocked proposal resubmitted with
force_apply, and an applied version brought back as a revert.

Both go through the one submission service, as the form does; only the envelope is built
here, from the one that was submitted before.
"""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from migrations_ui import workflow
from migrations_ui.access import get_tenant_for_user
from migrations_ui.models import (
    MigrationRecord,
    MigrationStatus,
    NotAllowedError,
    Proposal,
    ProposalStatus,
    Source,
)
from migrations_ui.web.presenters import versions
from migrations_ui.web.views.base import get_proposal_for_user
from migrations_ui.workflow.version_rule import VersionRefused, next_version
from schemabuilder.engine import BlueprintInvalid

REFUSED = (
    BlueprintInvalid,
    VersionRefused,
    NotAllowedError,
    workflow.NotFound,
    workflow.IdempotencyConflict,
)


def _refusal_text(exc: Exception) -> str:
    if isinstance(exc, BlueprintInvalid):
        return "; ".join(f"{i.path}: {i.message}" for i in exc.issues)
    return str(exc)


def _submit(request: HttpRequest, envelope: dict[str, Any], environment: str) -> Proposal | None:
    try:
        submission = workflow.submit(
            user=request.user, envelope=envelope, source=Source.FORM, environment=environment
        )
    except REFUSED as exc:
        messages.error(request, f"Not submitted: {_refusal_text(exc)}")
        return None
    return submission.proposal


def _fresh(envelope: Any) -> dict[str, Any]:
    """A copy of an envelope for a new submission: without the earlier request's key and run
    id, which named that request."""
    fresh: dict[str, Any] = copy.deepcopy(envelope) if isinstance(envelope, dict) else {}
    meta = fresh.setdefault("meta", {})
    for key in ("idempotency_key", "workflow_run_id", "timestamp_utc"):
        meta.pop(key, None)
    meta["trigger_source"] = "form"
    return fresh


@login_required
@require_POST
def proposal_resubmit_forced(request: HttpRequest, pk: str) -> HttpResponse:
    original = get_proposal_for_user(request.user, pk)
    if original.status != ProposalStatus.BLOCKED:
        messages.error(request, "Only a blocked proposal can be resubmitted with force_apply.")
        return redirect("ui:proposal", pk=original.pk)
    envelope = _fresh(original.envelope)
    envelope.setdefault("payload", {})["force_apply"] = True
    copy_ = _submit(request, envelope, original.target.environment)
    if copy_ is None:
        return redirect("ui:proposal", pk=original.pk)
    # Links the two both ways (the original lists its resubmissions).
    Proposal.objects.filter(pk=copy_.pk, resubmitted_from__isnull=True).exclude(
        pk=original.pk
    ).update(resubmitted_from=original)
    messages.success(
        request,
        f"Resubmitted version {copy_.schema_version} with force_apply: a second person must "
        "approve it.",
    )
    return redirect("ui:proposal", pk=copy_.pk)


@login_required
@require_POST
def version_revert(request: HttpRequest, slug: str, environment: str, pk: int) -> HttpResponse:
    """Submit an applied version's blueprint again as the next version, with revert_of."""
    tenant = get_tenant_for_user(request.user, slug)
    target = get_object_or_404(tenant.targets, environment=environment)
    record = get_object_or_404(
        MigrationRecord.objects.select_related("proposal"),
        pk=pk,
        target=target,
        status=MigrationStatus.SUCCESS,
        proposal__isnull=False,
    )
    current = versions.current(target)
    assert record.proposal is not None and current is not None
    envelope = _fresh(record.proposal.envelope)
    payload = envelope.setdefault("payload", {})
    payload.update(
        schema_version=next_version(current.version),
        revert_of=record.version,
        description=f"Revert to v{record.version}",
        force_apply=False,  # a revert is judged like any change: blocked if it is dangerous
    )
    envelope["meta"].update(tenant_id=tenant.slug, environment=target.environment)
    envelope.pop("subject", None)
    proposal = _submit(request, envelope, target.environment)
    if proposal is None:
        return redirect(f"{reverse('ui:tenant', args=[slug])}?target={environment}")
    messages.success(
        request, f"Submitted version {proposal.schema_version}, a revert to v{record.version}."
    )
    return redirect("ui:proposal", pk=proposal.pk)
