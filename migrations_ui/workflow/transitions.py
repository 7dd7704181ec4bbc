"""Every change of a proposal's status, each with its side effects in one transaction.

A transition checks the model's guards, moves the status (``Proposal.move``, a conditional
UPDATE), appends its audit event, and creates what it sets off: the webhook deliveries and
their jobs (``events.record``), the apply job (``jobs.defer_apply``), the migration record.
All of it commits together or not at all, so no proposal is left in a state whose follow-up
was lost, and nothing runs before the row it works on exists.

Nothing else changes a proposal's status: views, the API, the admin, the commands and the
background tasks call these.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from migrations_ui.models import (
    Approval,
    Decision,
    MigrationRecord,
    MigrationStatus,
    NotAllowedError,
    Proposal,
    Target,
)
from migrations_ui.models import ProposalStatus as S
from migrations_ui.models.proposals import CANCELLABLE_STATES
from migrations_ui.workflow import events, jobs

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from migrations_ui.models import ApiToken


def _move(
    proposal: Proposal,
    *,
    allowed_from: Iterable[str],
    to: str,
    action: str,
    actor: AbstractBaseUser | None = None,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> None:
    with transaction.atomic():
        proposal.move(allowed_from=allowed_from, to=to, verb=action.split(".")[-1], **fields)
        events.record(
            tenant=proposal.tenant,
            proposal=proposal,
            action=action,
            actor=actor,
            data={"to": to, **(data or {})},
        )


# ---- planning and the rules ------------------------------------------------------------------


def _plan_fields(
    plan: dict[str, Any], *, sql: str, checksum: str, base_hash: str, dangerous: bool
) -> dict[str, Any]:
    """The columns a new plan writes, whether it is the first or a re-plan at apply."""
    return {
        "plan": plan,
        "plan_sql": sql,
        "plan_checksum": checksum,
        "base_snapshot_hash": base_hash,
        "is_dangerous": dangerous,
        "planned_at": timezone.now(),
    }


def record_plan(
    proposal: Proposal,
    plan: dict[str, Any],
    *,
    sql: str,
    checksum: str,
    base_hash: str,
    dangerous: bool,
) -> None:
    """submitted → planned, with the plan the reviewer will read."""
    _move(
        proposal,
        allowed_from=[S.SUBMITTED],
        to=S.PLANNED,
        action="proposal.planned",
        data={
            "checksum": checksum,
            "statements": len(plan.get("statements", [])),
            "dangerous": dangerous,
        },
        **_plan_fields(plan, sql=sql, checksum=checksum, base_hash=base_hash, dangerous=dangerous),
    )


def settle(proposal: Proposal, *, baseline: dict[str, Any] | None = None) -> str:
    """planned → noop | blocked | awaiting_approval | queued, by the rules of the product.

    Any force_apply waits for a second person, whatever the plan holds. A ``baseline`` (a
    blueprint imported from the target) is never applied: its empty plan is noop and recorded
    as the target's version; a plan that is not empty fails it.
    """
    plan = proposal.plan or {}
    if baseline is not None:
        return _settle_baseline(proposal, plan, baseline)
    if not plan.get("statements"):
        with transaction.atomic():
            MigrationRecord.for_proposal(proposal, MigrationStatus.NOOP)
            _move(
                proposal,
                allowed_from=[S.PLANNED],
                to=S.NOOP,
                action="proposal.noop",
                finished_at=timezone.now(),
            )
        return S.NOOP
    failing = [h for h in proposal.hazards if h.get("kind") == "WILL_FAIL"]
    if failing:
        # Certain to fail on the live data: no force_apply or approval can pass it.
        return _block(
            proposal,
            "Blocked: the plan cannot succeed on the live data: "
            + "; ".join(str(h.get("message", "")) for h in failing)
            + ". Fix the data (or the blueprint) and submit again.",
            failing,
        )
    if proposal.force_apply:
        _move(
            proposal,
            allowed_from=[S.PLANNED],
            to=S.AWAITING_APPROVAL,
            action="proposal.awaiting_approval",
        )
        return S.AWAITING_APPROVAL
    if proposal.is_dangerous:
        return _block(
            proposal,
            "Blocked: the plan has dangerous changes. Review the risk report; to go ahead, "
            "resubmit with force_apply and have a second person approve it.",
            proposal.dangerous_hazards,
        )
    enqueue(proposal, from_states=[S.PLANNED])
    return S.QUEUED


def _settle_baseline(proposal: Proposal, plan: dict[str, Any], baseline: dict[str, Any]) -> str:
    statements = plan.get("statements") or []
    if statements:
        mark_failed(
            proposal,
            f"The imported blueprint plans {len(statements)} statement(s) against the schema it "
            "was read from, so it is not a baseline; nothing was applied. First: "
            + str(statements[0].get("sql", ""))[:500],
        )
        return S.FAILED
    tables = sorted(baseline["tables"])
    with transaction.atomic():
        # Two imports at once: the target's row decides which is recorded; the other finds a
        # version that was not there when it read the schema, and fails.
        Target.objects.select_for_update().filter(pk=proposal.target_id).first()
        now = (
            MigrationRecord.objects.filter(
                target_id=proposal.target_id, status=MigrationStatus.SUCCESS
            )
            .order_by("-created_at", "-pk")
            .values_list("version", flat=True)
            .first()
        )
        if now != baseline.get("after"):
            mark_failed(
                proposal,
                f"Version {now} was recorded on {proposal.target.environment} while the schema "
                "was being imported: this import is not its baseline. Nothing was changed.",
            )
            return S.FAILED
        # SUCCESS: later versions go up from it and plan with its tables managed, as after
        # any applied change (nothing ran: its script is empty).
        record = MigrationRecord.for_proposal(
            proposal,
            MigrationStatus.SUCCESS,
            snapshot=plan.get("desired"),
            snapshot_hash=plan.get("desired_snapshot_hash", ""),
            managed_tables=tables,
            metadata={"baseline": True, "left_out": baseline.get("left_out", [])},
        )
        _move(
            proposal,
            allowed_from=[S.PLANNED],
            to=S.NOOP,
            action="proposal.noop",
            result={
                "baseline": True,
                "migration_log_id": record.log_id,
                "tables": tables,
                "left_out": baseline.get("left_out", []),
                "notes": baseline.get("notes", []),
            },
            finished_at=timezone.now(),
        )
        events.record(
            tenant=proposal.tenant,
            proposal=proposal,
            action="proposal.imported",
            actor=proposal.submitted_by,
            data={
                "version": proposal.schema_version,
                "target": proposal.target.environment,
                "tables": len(tables),
                "left_out": len(baseline.get("left_out", [])),
                "migration_log_id": record.log_id,
            },
        )
    return S.NOOP


def _block(proposal: Proposal, message: str, hazards: list[dict[str, Any]]) -> str:
    with transaction.atomic():
        MigrationRecord.for_proposal(proposal, MigrationStatus.BLOCKED, error=message)
        _move(
            proposal,
            allowed_from=[S.PLANNED],
            to=S.BLOCKED,
            action="proposal.blocked",
            data={"hazards": [h.get("kind") for h in hazards]},
            error=message,
            finished_at=timezone.now(),
        )
    return S.BLOCKED


def enqueue(
    proposal: Proposal, *, from_states: Iterable[str], actor: AbstractBaseUser | None = None
) -> None:
    """→ queued, and the apply job with it (one transaction: neither exists without the
    other)."""
    with transaction.atomic():
        _move(
            proposal, allowed_from=from_states, to=S.QUEUED, action="proposal.queued", actor=actor
        )
        jobs.defer_apply(proposal)


# ---- review ------------------------------------------------------------------------------------


def approve(
    proposal: Proposal,
    user: AbstractBaseUser,
    checksum: str,
    *,
    comment: str = "",
    acknowledged: Iterable[str] = (),
    token: ApiToken | None = None,
) -> Approval:
    """A second person approves the plan they read (``checksum``): never the submitter,
    only an approver or admin of the tenant, with every dangerous hazard of this plan
    acknowledged, and in person (their session) or with a token they made themselves.
    Then the proposal is queued.

    Under a row lock, ``checksum`` must be the proposal's and every acknowledged id one of
    its hazards (ids carry a digest of the plan), or ``StalePlan``: an approval never
    carries over to a plan that replaced the one read.
    """
    acked = sorted(set(acknowledged))
    proposal.check_may_decide(user, verb="approve", token=token)
    with transaction.atomic():
        proposal.lock_plan(checksum, acked)
        missing = sorted(set(proposal.hazard_ids()) - set(acked))
        if missing:
            raise NotAllowedError(
                f"Acknowledge every dangerous change before approving ({len(missing)} not ticked)."
            )
        _move(
            proposal,
            allowed_from=[S.AWAITING_APPROVAL],
            to=S.APPROVED,
            action="proposal.approved",
            actor=user,
            data={
                "comment": comment,
                "checksum": proposal.plan_checksum,
                "acknowledged_hazards": acked,
                "credential": f"token {token.prefix}" if token is not None else "login",
            },
        )
        approval = Approval.objects.create(
            proposal=proposal,
            approver=user,
            submitter_id=proposal.submitted_by_id,
            decision=Decision.APPROVED,
            comment=comment,
            acknowledged_hazards=acked,
            plan_checksum=proposal.plan_checksum,
        )
        enqueue(proposal, from_states=[S.APPROVED], actor=user)
    return approval


def reject(
    proposal: Proposal, user: AbstractBaseUser, *, comment: str, checksum: str | None = None
) -> Approval:
    """Reject, saying why; with ``checksum``, only the plan that was read (StalePlan)."""
    if not comment.strip():
        raise NotAllowedError("Say why you reject it: a comment is required.")
    proposal.check_may_decide(user, verb="reject")
    with transaction.atomic():
        proposal.lock_plan(checksum)
        _move(
            proposal,
            allowed_from=[S.AWAITING_APPROVAL],
            to=S.REJECTED,
            action="proposal.rejected",
            actor=user,
            data={"comment": comment, "checksum": proposal.plan_checksum},
            finished_at=timezone.now(),
        )
        return Approval.objects.create(
            proposal=proposal,
            approver=user,
            submitter_id=proposal.submitted_by_id,
            decision=Decision.REJECTED,
            comment=comment,
            plan_checksum=proposal.plan_checksum,
        )


def cancel(proposal: Proposal, user: AbstractBaseUser) -> None:
    proposal.check_may_cancel(user)
    _move(
        proposal,
        allowed_from=CANCELLABLE_STATES,
        to=S.CANCELLED,
        action="proposal.cancelled",
        actor=user,
        finished_at=timezone.now(),
    )


# ---- the worker's transitions ------------------------------------------------------------------


def start_applying(proposal: Proposal) -> None:
    _move(
        proposal,
        allowed_from=[S.QUEUED],
        to=S.APPLYING,
        action="proposal.applying",
        started_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    proposal.refresh_from_db(fields=["attempts"])


def retry_later(proposal: Proposal, *, attempt: int, reason: str, blockers: list[Any]) -> None:
    """applying → queued: the apply rolled back for a reason that may pass (a lock, the
    target unreachable); the job runs again later (procrastinate's retry)."""
    _move(
        proposal,
        allowed_from=[S.APPLYING],
        to=S.QUEUED,
        action="proposal.apply_retry",
        data={"attempt": attempt, "reason": reason[:500], "blockers": blockers},
    )


def mark_applied(proposal: Proposal, result: dict[str, Any], timings: dict[str, Any]) -> None:
    _move(
        proposal,
        allowed_from=[S.APPLYING],
        to=S.APPLIED,
        action="proposal.applied",
        data={"statements": len(timings.get("statements", []))},
        result=result,
        timings=timings,
        finished_at=timezone.now(),
    )


def mark_failed(
    proposal: Proposal,
    error: str,
    *,
    result: dict[str, Any] | None = None,
    timings: dict[str, Any] | None = None,
    partial: dict[str, Any] | None = None,
) -> None:
    """``partial``: an online change's first stage committed before it failed; the record is
    ``partial``, with these fields (the live snapshot, the managed tables), not ``failed``."""
    with transaction.atomic():
        # The record first: the migration.failed event's delivery carries it.
        if partial is None:
            MigrationRecord.for_proposal(proposal, MigrationStatus.FAILED, error=error)
        else:
            MigrationRecord.for_proposal(proposal, MigrationStatus.PARTIAL, error=error, **partial)
        _move(
            proposal,
            allowed_from=[S.SUBMITTED, S.PLANNED, S.QUEUED, S.APPLYING],
            to=S.FAILED,
            action="proposal.failed",
            data={"error": error[:2000]},
            error=error,
            result=result,
            timings=timings or {},
            finished_at=timezone.now(),
        )


def return_for_review(
    proposal: Proposal,
    reason: str,
    *,
    plan: dict[str, Any],
    sql: str,
    checksum: str,
    base_hash: str,
    dangerous: bool,
) -> None:
    """The live schema moved since the plan: show the new plan to a person, void approvals."""
    with transaction.atomic():
        voided = Approval.objects.filter(proposal=proposal, voided_at__isnull=True).update(
            voided_at=timezone.now(), void_reason=reason
        )
        _move(
            proposal,
            allowed_from=[S.APPLYING, S.QUEUED],
            to=S.AWAITING_APPROVAL,
            action="proposal.returned_for_review",
            data={
                "reason": reason,
                "approvals_voided": voided,
                "old_checksum": proposal.plan_checksum,
                "new_checksum": checksum,
            },
            review_reason=reason,
            force_apply=True,
            **_plan_fields(
                plan, sql=sql, checksum=checksum, base_hash=base_hash, dangerous=dangerous
            ),
        )
