"""The proposal list and the proposal page: read the change, approve or reject it, follow it.

Thin views: access through ``get_proposal_for_user`` (404 outside one's tenants), every rule
in ``Proposal``'s methods, the page's regions as ``{% partialdef %}`` partials.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from migrations_ui import workflow
from migrations_ui.access import SUBMIT_ROLES, tenants_for
from migrations_ui.models import (
    Approval,
    Decision,
    InvalidTransition,
    NotAllowedError,
    Proposal,
    ProposalStatus,
    StalePlan,
)
from migrations_ui.models.proposals import CANCELLABLE_STATES
from migrations_ui.web.forms import FilterForm, ReviewForm
from migrations_ui.web.presenters import erd, review, sqltools
from migrations_ui.web.presenters.approvers import who_line
from migrations_ui.web.presenters.stages import stages_view, status_line
from migrations_ui.web.views.base import (
    awaiting_my_approval,
    get_proposal_for_user,
    render_partial,
)

S = ProposalStatus
PLAN_CHANGED = (
    "The plan changed after you opened it, so your decision was not recorded: "
    "read the new plan below, then decide again."
)
PAGE_SIZE = 25
LIST = "migrations_ui/proposal_list.html"
PAGE = "migrations_ui/proposal_detail.html"
# Seconds between polls of the status region, by status; final states do not poll.
POLL_SECONDS = {
    S.SUBMITTED: 1,
    S.PLANNED: 1,
    S.APPROVED: 1,
    S.QUEUED: 1,
    S.APPLYING: 1,
    # Someone else decides: the submitter's page learns of it without a reload.
    S.AWAITING_APPROVAL: 5,
}


# ---- the list --------------------------------------------------------------------------------


@login_required
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    tenants = tenants_for(request.user)
    form = FilterForm(request.GET or None, tenants=tenants)
    qs = form.filter(
        Proposal.objects.filter(tenant__in=tenants)
        .select_related("tenant", "target", "submitted_by")
        .lean()
    )
    awaiting_me = request.GET.get("awaiting") == "me"
    if awaiting_me:  # the navigation's "Awaiting you N": exactly the proposals it counts
        qs = qs.filter(pk__in=awaiting_my_approval(request.user).values("pk"))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    context = {"form": form, "page": page, "query": urlencode(query), "awaiting_me": awaiting_me}
    return render_partial(request, LIST, context)


# ---- the proposal page ----------------------------------------------------------------------


def _progress_key(progress: dict[str, Any]) -> str:
    """What the poll compares to tell that the apply moved on: statements and steps done,
    and the stage (the first stage's commit changes no count)."""
    return f"{progress.get('stage', '')}{int(progress.get('done', 0))}"


def _status_context(proposal: Proposal) -> dict[str, Any]:
    progress = proposal.progress
    done = int(progress.get("done", 0))
    applying = proposal.status == S.APPLYING
    at = progress.get("at", done)  # an online change's: the plan index running now
    current = proposal.statement_at(at) if applying and at is not None else None
    stages = stages_view(progress, applying=applying)
    return {
        "poll_seconds": POLL_SECONDS.get(proposal.status),  # type: ignore[call-overload]
        "progress": progress,
        "progress_done": done,
        "progress_key": _progress_key(progress),
        "progress_line": status_line(stages, done, int(progress.get("total", 0))),
        "stages": stages,
        "current_statement": current,
    }


def _panel_context(
    request: HttpRequest, proposal: Proposal, form: ReviewForm | None = None, error: str = ""
) -> dict[str, Any]:
    can_approve, why_not = proposal.can_approve(request.user)
    role = proposal.tenant.role_of(request.user)
    approvals = list(proposal.approvals.select_related("approver"))
    return {
        "who_applied": _who_applied(proposal, approvals),
        "role": role,
        "can_resubmit_forced": proposal.status == S.BLOCKED and role in SUBMIT_ROLES,
        "can_approve": can_approve,
        "why_not": why_not,
        "can_cancel": proposal.status in CANCELLABLE_STATES
        and proposal.may_cancel(request.user, role),
        "review_form": form or ReviewForm(proposal=proposal),
        "review_error": error,
        "acked": form.data.getlist("ack") if form is not None and form.is_bound else [],
        "approvals": approvals,
    }


def _who_applied(proposal: Proposal, approvals: list[Approval]) -> str:
    """The line "Applied by alice, approved by bob", from the approvals the panel shows."""
    if proposal.status != S.APPLIED:
        return ""
    names = [
        a.approver.get_username()
        for a in approvals
        if a.decision == Decision.APPROVED and a.voided_at is None
    ]
    return who_line(proposal.submitted_by.get_username(), list(dict.fromkeys(names)))


def _timeline_context(proposal: Proposal) -> dict[str, Any]:
    return {"events": list(proposal.audit_events.order_by("id"))}


def _erd_svg(proposal: Proposal, plan: dict[str, Any]) -> str:
    """The diagram of the schema the proposal leads to; cached per plan (its checksum)."""
    if not plan.get("desired"):
        return ""
    key = f"erd:v1:proposal:{proposal.plan_checksum}:{plan.get('desired_snapshot_hash')}"
    svg = cache.get(key)
    if svg is None:
        diagram = erd.from_changes(plan.get("desired"), plan.get("changes", []))
        svg = erd.render_svg(diagram, label=f"Tables after proposal {proposal.schema_version}")
        cache.set(key, svg, sqltools.CACHE_SECONDS)
    return str(svg)


def _sql_view(request: HttpRequest) -> str:
    return "squawk" if request.GET.get("view") == "squawk" else "sql"


def _page_context(
    request: HttpRequest, proposal: Proposal, form: ReviewForm | None = None, error: str = ""
) -> dict[str, Any]:
    plan = proposal.plan or {}
    view = _sql_view(request)
    applying = proposal.status == S.APPLYING
    stage_two = sum(1 for st in plan.get("statements", []) if st.get("stage", 1) == 2)
    context: dict[str, Any] = {
        "proposal": proposal,
        "plan": plan,
        # An online plan with slow steps: the page says which stage each statement runs in.
        "has_stage_two": stage_two > 0,
        "stage_two_count": stage_two,
        "summary": review.summary(plan),
        # Callables: the template calls them only when its cached fragment is missing.
        "tables": lambda: review.table_views(
            plan.get("changes", []), review.desired_tables(plan), plan.get("hazards", [])
        ),
        "risks": lambda: review.risk_report(plan),
        "statements": lambda: review.statement_rows(
            plan, proposal.timings or {}, applying=applying
        ),
        "erd_svg": _erd_svg(proposal, plan),
        "sql_view": view,
        **_status_context(proposal),
        **_panel_context(request, proposal, form, error),
        **_timeline_context(proposal),
    }
    if view == "squawk":
        pg = plan.get("server_version")
        context["squawk"] = sqltools.squawk_report(
            proposal.plan_sql,
            proposal.plan_checksum,
            statements=[s["sql"] for s in proposal.plan_statements()],
            pg_major=int(pg) // 10000 if pg else None,
        )
    elif proposal.plan_sql:
        context["sql_html"] = sqltools.highlight(proposal.plan_sql, proposal.plan_checksum)
    return context


@login_required
@require_GET
def proposal_detail(request: HttpRequest, pk: str) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, pk)
    return render_partial(request, PAGE, _page_context(request, proposal))


@login_required
@require_GET
def proposal_status(request: HttpRequest, pk: str) -> HttpResponse:
    """The status region, polled while the proposal moves. 204 while nothing changed (the
    page keeps what it shows), the region and its neighbours when it did, 286 once final so
    htmx stops polling."""
    proposal = get_proposal_for_user(request.user, pk, status_only=True)
    if not getattr(request, "htmx", None):
        return redirect("ui:proposal", pk=proposal.pk)
    done = _progress_key(proposal.progress)
    seen, seen_done = request.GET.get("seen"), request.GET.get("done")
    if seen == proposal.status and seen_done == done and not proposal.is_final:
        return HttpResponse(status=204)
    context = {
        "proposal": proposal,
        **_status_context(proposal),
        **_panel_context(request, proposal),
        **_timeline_context(proposal),
    }
    response = render_partial(
        request, PAGE, context, oob=("review-panel", "timeline", "proposal-alerts", "apply-stages")
    )
    if proposal.is_final:
        response.status_code = 286
    return response


@login_required
@require_POST
def proposal_review(request: HttpRequest, pk: str) -> HttpResponse:
    """Approve or reject. The form carries the checksum of the plan the person read; the
    model refuses the decision (StalePlan) when it is not the proposal's plan any more."""
    proposal = get_proposal_for_user(request.user, pk)
    form = ReviewForm(request.POST, proposal=proposal)
    error = ""
    if not form.is_valid():
        error = "Choose approve or reject."
    else:
        data = form.cleaned_data
        try:
            if data["decision"] == "approve":
                workflow.approve(
                    proposal,
                    request.user,
                    data["checksum"],
                    comment=data["comment"],
                    acknowledged=data["ack"],
                )
            else:
                workflow.reject(
                    proposal, request.user, comment=data["comment"], checksum=data["checksum"]
                )
        except StalePlan:
            # What the person read is not what would be applied: show them the new plan.
            if getattr(request, "htmx", None):
                messages.warning(request, PLAN_CHANGED)
                return HttpResponseClientRefresh()
            proposal.refresh_from_db()
            return render_partial(
                request, PAGE, _page_context(request, proposal, error=PLAN_CHANGED), status=409
            )
        except (NotAllowedError, InvalidTransition) as exc:
            error = str(exc)
    if error:
        proposal.refresh_from_db()
        context = _page_context(request, proposal, form, error)
        return render_partial(request, PAGE, context, status=422)
    done = "approved" if form.cleaned_data["decision"] == "approve" else "rejected"
    if not getattr(request, "htmx", None):
        messages.success(request, f"You {done} version {proposal.schema_version}.")
        return redirect("ui:proposal", pk=proposal.pk)
    proposal.refresh_from_db()
    return render_partial(
        request,
        PAGE,
        _page_context(request, proposal),
        oob=("proposal-status", "timeline"),
    )


@login_required
@require_POST
def proposal_cancel(request: HttpRequest, pk: str) -> HttpResponse:
    proposal = get_proposal_for_user(request.user, pk)
    try:
        workflow.cancel(proposal, request.user)
    except (NotAllowedError, InvalidTransition) as exc:
        proposal.refresh_from_db()
        context = _page_context(request, proposal, error=str(exc))
        return render_partial(request, PAGE, context, status=422)
    if not getattr(request, "htmx", None):
        messages.success(request, "The proposal is cancelled.")
        return redirect("ui:proposal", pk=proposal.pk)
    return render_partial(
        request, PAGE, _page_context(request, proposal), oob=("proposal-status", "timeline")
    )
