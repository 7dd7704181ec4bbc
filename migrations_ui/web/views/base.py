"""What every HTML view shares: access helpers and the one HTMX partial renderer.

Access answers 404, never 403, for anything in a tenant the user is not a member of: a tenant
must not be discoverable by probing URLs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.cache import patch_vary_headers

from migrations_ui.access import APPROVE_ROLES, tenants_for, tenants_with_role
from migrations_ui.models import Proposal, ProposalStatus


def get_proposal_for_user(
    user: AbstractBaseUser | AnonymousUser, pk: object, *, status_only: bool = False
) -> Proposal:
    """The proposal, or 404 when it does not exist or lives in a tenant the user cannot see.

    ``status_only``: for the status region, which reads none of the large columns."""
    rows = Proposal.objects.select_related("tenant", "target", "submitted_by")
    # The raw envelope and the blueprint are not shown, and large: load them on demand.
    rows = rows.for_status() if status_only else rows.defer("envelope", "blueprint")
    proposal = rows.filter(pk=pk, tenant__in=tenants_for(user)).first()
    if proposal is None:
        raise Http404("No such proposal")
    return proposal


def awaiting_my_approval(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Proposal]:
    """Proposals this user may approve now: awaiting approval, in a tenant where they approve,
    submitted by someone else."""
    if not user.is_authenticated:
        return Proposal.objects.none()
    return Proposal.objects.filter(
        status=ProposalStatus.AWAITING_APPROVAL,
        tenant__in=tenants_with_role(user, APPROVE_ROLES),
    ).exclude(submitted_by=user)


def render_partial(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    oob: tuple[str, ...] = (),
) -> HttpResponse:
    """The whole page, or, for an HTMX request that targets a region, just that region.

    The partial is found by name: the ``hx-target`` id is the ``{% partialdef %}`` name, so a
    request can only ever get a region the page itself defines. ``oob`` names further
    partials of the same template to send along out of band (their root element carries
    ``hx-swap-oob``); the navigation's approval count always goes along with a partial.
    """
    htmx = getattr(request, "htmx", None)
    target = htmx.target if htmx and not htmx.history_restore_request else None
    name = template
    if target:
        try:
            get_template(f"{template}#{target}")
            name = f"{template}#{target}"
        except TemplateDoesNotExist:
            name = template
    if name == template:
        response = render(request, template, context, status=status)
    else:
        extra = {**context, "oob": True}
        parts = [render_to_string(name, context, request)]
        parts += [render_to_string(f"{template}#{p}", extra, request) for p in oob]
        parts.append(render_to_string("base.html#approval-count", extra, request))
        response = HttpResponse("".join(parts), status=status)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
