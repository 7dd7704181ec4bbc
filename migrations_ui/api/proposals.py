"""Proposals for automation: submit (optionally waiting for the result), list, read, approve,
reject, cancel, and a dry-run plan that stores nothing. Rules live in the workflow and the
models' guards; this module reads requests and writes answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router, Status

from migrations_ui import workflow
from migrations_ui.access import tenants_for
from migrations_ui.api.auth import audit_token_write, request_token
from migrations_ui.api.contract import apply_mode, contract_status, phase2_steps
from migrations_ui.api.errors import ApiError, invalid
from migrations_ui.api.inputs import max_wait, read_json_body
from migrations_ui.api.schemas import (
    ApproveIn,
    ErrorOut,
    PlanOut,
    ProposalOut,
    ProposalPage,
    RejectIn,
    idempotency_header,
    text_query,
)
from migrations_ui.models import (
    AuditEvent,
    MigrationRecord,
    NotAllowedError,
    Proposal,
    ProposalStatus,
    Source,
    StalePlan,
)

router = Router(tags=["proposals"])

ENVELOPE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The orchestration envelope (see the blueprint contract).",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/BlueprintEnvelope"}}
        },
    }
}
WAIT_HELP = (
    "Seconds to wait (at most 60) for the proposal to be final; when the time is up the answer "
    "is 202 with the proposal's URL to poll."
)

EnvironmentParam = Annotated[
    str | None,
    text_query("The target's environment; default: meta.environment, then the default."),
]


def errors(*codes: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the error statuses an operation can answer."""
    return dict.fromkeys(codes, ErrorOut)


# ---- reading -------------------------------------------------------------------------------


def visible_proposals(user: Any) -> QuerySet[Proposal]:
    return Proposal.objects.filter(tenant__in=tenants_for(user))


def get_proposal(user: Any, proposal_id: UUID) -> Proposal:
    """The proposal, or 404 when it does not exist or its tenant is not the user's."""
    proposal = (
        visible_proposals(user)
        .select_related("tenant", "target", "submitted_by")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None:
        raise ApiError(404, "not_found", f"No proposal {proposal_id} in a tenant of yours.")
    return proposal


def proposal_url(request: HttpRequest, proposal: Proposal) -> str:
    return request.build_absolute_uri(reverse("api:proposal-detail", args=[proposal.pk]))


def summary(request: HttpRequest, p: Proposal) -> dict[str, Any]:
    return {
        "id": p.pk,
        "url": proposal_url(request, p),
        "tenant": p.tenant.slug,
        "target": p.target.environment,
        "status": p.status,
        "contract_status": contract_status(p),
        "source": p.source,
        "schema_version": p.schema_version,
        "description": p.description,
        "submitted_by": p.submitted_by.get_username(),
        "force_apply": p.force_apply,
        "is_dangerous": p.is_dangerous,
        "created_at": p.created_at,
        "finished_at": p.finished_at,
    }


def detail(request: HttpRequest, p: Proposal) -> dict[str, Any]:
    plan = p.plan or {}
    counts = workflow.creation_counts_from_json(plan)
    record = MigrationRecord.objects.filter(proposal=p).order_by("-created_at").first()
    events = AuditEvent.objects.filter(proposal=p).order_by("id")
    return {
        **summary(request, p),
        "schema_hash": p.schema_hash,
        "idempotency_key": p.idempotency_key,
        "run_id": p.run_id,
        "error": p.error,
        "review_reason": p.review_reason,
        "plan_checksum": p.plan_checksum,
        "base_snapshot_hash": p.base_snapshot_hash,
        **counts,
        "hazards": p.hazards,
        "acknowledge": p.hazard_ids(),
        "statements": p.plan_statements(),
        "changes": list(plan.get("changes", [])),
        "sql": p.plan_sql,
        "migration_log_id": record.log_id if record else None,
        "apply_mode": apply_mode(p),
        "phase2_steps": phase2_steps(p),
        "approvals": [
            {
                "approver": a.approver.get_username(),
                "decision": a.decision,
                "comment": a.comment,
                "acknowledged_hazards": a.acknowledged_hazards,
                "plan_checksum": a.plan_checksum,
                "created_at": a.created_at,
                "voided_at": a.voided_at,
                "void_reason": a.void_reason,
            }
            for a in p.approvals.select_related("approver").order_by("created_at")
        ],
        "audit": [
            {
                "at": e.created_at,
                "action": e.action,
                "actor": e.actor_name,
                "request_id": e.request_id,
                "data": e.data,
            }
            for e in events
        ],
        "updated_at": p.updated_at,
        "planned_at": p.planned_at,
    }


def _utc(value: datetime | None, name: str) -> datetime | None:
    """The time in UTC (naive means UTC); 400 when it has no UTC equivalent PostgreSQL takes."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise invalid([{"path": f"query.{name}", "message": "is out of range"}]) from None


@router.get(
    "/proposals",
    response={200: ProposalPage, **errors(400, 401, 429)},
    operation_id="listProposals",
    summary="List proposals of your tenants, newest first",
)
def list_proposals(
    request: HttpRequest,
    tenant: Annotated[str | None, text_query("A tenant's slug.")] = None,
    status: ProposalStatus | None = None,
    target: Annotated[str | None, text_query("The target's environment (dev, prod).")] = None,
    source: Source | None = None,
    schema_version: Annotated[str | None, text_query()] = None,
    submitted_by: Annotated[str | None, text_query("A username.")] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    qs = visible_proposals(request.auth)
    created_after = _utc(created_after, "created_after")
    created_before = _utc(created_before, "created_before")
    filters = {
        "tenant__slug": tenant,
        "status": status,
        "target__environment": target,
        "source": source,
        "schema_version": schema_version,
        "submitted_by__username": submitted_by,
        "created_at__gte": created_after,
        "created_at__lt": created_before,
    }
    qs = qs.filter(**{k: v for k, v in filters.items() if v is not None})
    page = (
        qs.select_related("tenant", "target", "submitted_by").lean().order_by("-created_at", "-pk")
    )
    return {
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [summary(request, p) for p in page[offset : offset + limit]],
    }


@router.get(
    "/proposals/{proposal_id}",
    response={200: ProposalOut, **errors(400, 401, 404, 429)},
    url_name="proposal-detail",
    operation_id="getProposal",
    summary="One proposal: plan, hazards, SQL, status, approvals and audit trail",
)
def get_proposal_detail(request: HttpRequest, proposal_id: UUID) -> dict[str, Any]:
    return detail(request, get_proposal(request.auth, proposal_id))


# ---- submitting ----------------------------------------------------------------------------


@router.post(
    "/proposals",
    response={
        200: ProposalOut,
        201: ProposalOut,
        202: ProposalOut,
        **errors(400, 401, 403, 404, 409, 413, 429),
    },
    openapi_extra=ENVELOPE_BODY,
    operation_id="submitProposal",
    summary="Submit an envelope; optionally wait for the result",
    description=(
        "201: a new proposal, final within the wait; 200: the same request again (same "
        "Idempotency-Key or meta.idempotency_key), its proposal; 202: not final yet (queued or "
        "awaiting approval): poll the URL in Location. The same key with a different blueprint "
        "is 409."
    ),
)
def submit_proposal(
    request: HttpRequest,
    response: HttpResponse,
    wait: Annotated[int, Query(ge=0, le=60, description=WAIT_HELP)] = 0,
    environment: EnvironmentParam = None,
    idempotency_key: Annotated[str | None, idempotency_header()] = None,
) -> Status[dict[str, Any]]:
    envelope = read_json_body(request)
    submission = workflow.submit(
        user=request.auth,
        envelope=envelope,
        source=Source.API,
        environment=environment,
        idempotency_key=idempotency_key,
    )
    proposal = submission.proposal
    audit_token_write(
        request,
        tenant=proposal.tenant,
        proposal=proposal,
        operation="submit",
        replay=not submission.created,
    )
    if wait:
        proposal = workflow.wait_until_final(proposal, min(wait, max_wait()))
    url = proposal_url(request, proposal)
    response["Location"] = url
    if not proposal.is_final:
        return Status(202, detail(request, proposal))
    return Status(201 if submission.created else 200, detail(request, proposal))


@router.post(
    "/plan",
    response={200: PlanOut, **errors(400, 401, 403, 404, 413, 429, 503)},
    openapi_extra=ENVELOPE_BODY,
    operation_id="planDryRun",
    summary="Plan an envelope against its target without storing anything",
)
def plan_dry_run(
    request: HttpRequest,
    environment: EnvironmentParam = None,
) -> dict[str, Any]:
    envelope = read_json_body(request)
    result = workflow.preview(user=request.auth, envelope=envelope, environment=environment)
    plan = result.plan.plan_json
    return {
        "tenant": result.target.tenant.slug,
        "target": result.target.environment,
        "schema_version": result.validated.blueprint.schema_version,
        "schema_hash": result.validated.schema_hash,
        "force_apply": result.validated.blueprint.force_apply,
        "is_empty": plan["is_empty"],
        "is_dangerous": result.plan.dangerous,
        "checksum": result.plan.checksum,
        "base_snapshot_hash": result.plan.base_hash,
        **workflow.creation_counts_from_json(plan),
        "hazards": plan.get("hazards", []),
        "statements": plan.get("statements", []),
        "changes": plan.get("changes", []),
        "unmanaged_tables": plan.get("unmanaged_tables", []),
        "dropped_tables": plan.get("dropped_tables", []),
        "sql": result.plan.sql,
        "plan_ms": plan.get("plan_ms", 0.0),
    }


# ---- review --------------------------------------------------------------------------------


def _review(request: HttpRequest, proposal: Proposal, operation: str, act: Any) -> None:
    """Run one review action; a refusal is audited too (someone tried, with a token)."""
    try:
        act()
    except (NotAllowedError, StalePlan) as exc:
        audit_token_write(
            request,
            tenant=proposal.tenant,
            proposal=proposal,
            operation=operation,
            outcome="refused",
            reason=str(exc),
        )
        raise
    audit_token_write(request, tenant=proposal.tenant, proposal=proposal, operation=operation)
    proposal.refresh_from_db()


REVIEW_ERRORS = errors(400, 401, 403, 404, 409, 429)


@router.post(
    "/proposals/{proposal_id}/approve",
    response={200: ProposalOut, **REVIEW_ERRORS},
    operation_id="approveProposal",
    summary="Approve (a second person, with every dangerous hazard acknowledged)",
    description=(
        "Approves the plan named by plan_checksum, and only that one: 409 plan_changed when the "
        "proposal's plan is another one now or an acknowledged id belongs to an earlier plan. "
        "With a token, only one you created yourself counts."
    ),
)
def approve_proposal(request: HttpRequest, proposal_id: UUID, body: ApproveIn) -> dict[str, Any]:
    proposal = get_proposal(request.auth, proposal_id)
    _review(
        request,
        proposal,
        "approve",
        lambda: workflow.approve(
            proposal,
            request.auth,
            body.plan_checksum,
            comment=body.comment,
            acknowledged=body.acknowledged_hazards,
            token=request_token(request),
        ),
    )
    return detail(request, proposal)


@router.post(
    "/proposals/{proposal_id}/reject",
    response={200: ProposalOut, **REVIEW_ERRORS},
    operation_id="rejectProposal",
    summary="Reject, saying why",
)
def reject_proposal(request: HttpRequest, proposal_id: UUID, body: RejectIn) -> dict[str, Any]:
    proposal = get_proposal(request.auth, proposal_id)
    _review(
        request,
        proposal,
        "reject",
        lambda: workflow.reject(
            proposal, request.auth, comment=body.comment, checksum=body.plan_checksum
        ),
    )
    return detail(request, proposal)


@router.post(
    "/proposals/{proposal_id}/cancel",
    response={200: ProposalOut, **REVIEW_ERRORS},
    operation_id="cancelProposal",
    summary="Cancel (the submitter or a tenant admin), while it is not applying or final",
)
def cancel_proposal(request: HttpRequest, proposal_id: UUID) -> dict[str, Any]:
    proposal = get_proposal(request.auth, proposal_id)
    _review(request, proposal, "cancel", lambda: workflow.cancel(proposal, request.auth))
    return detail(request, proposal)
