"""The tenant page's "Bring in the live schema": a target's existing tables as its baseline
version (the workflow does it; this view reads the button and says what happened)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from migrations_ui import workflow
from migrations_ui.access import get_tenant_for_user
from migrations_ui.models import NotAllowedError, Source
from migrations_ui.workflow.baseline import BaselineRefused, import_baseline
from schemabuilder.engine import BlueprintInvalid


@login_required
@require_POST
def target_import(request: HttpRequest, slug: str, environment: str) -> HttpResponse:
    tenant = get_tenant_for_user(request.user, slug)
    target = get_object_or_404(tenant.targets, environment=environment)
    back = redirect(f"{reverse('ui:tenant', args=[slug])}?target={environment}")
    try:
        done = import_baseline(target, request.user, source=Source.FORM)
    except (BaselineRefused, NotAllowedError, workflow.TargetUnavailable) as exc:
        messages.error(request, f"Not imported: {exc}")
        return back
    except BlueprintInvalid as exc:
        messages.error(
            request, "Not imported: " + "; ".join(f"{i.path}: {i.message}" for i in exc.issues)
        )
        return back
    proposal = done.proposal
    proposal.refresh_from_db()
    if proposal.status == "failed":
        messages.error(request, f"Not imported: {proposal.error}")
    else:
        messages.success(
            request,
            f"Version {proposal.schema_version} is the baseline: {len(done.tables)} table"
            f"{'' if len(done.tables) == 1 else 's'} imported, {len(done.left_out)} left out.",
        )
    return back
