"""Proposals and their approvals: the state of a blueprint's life and its guards.

The life itself (plan, settle, review, queue, apply, record) is ``migrations_ui.workflow``'s:
each transition there checks the guards here, moves the status with ``Proposal.move`` (a
conditional UPDATE, so two racing callers cannot both win), and writes its audit event and
whatever it sets off (a job, webhook deliveries) in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from migrations_ui.models.proposal_rows import ProposalQuerySet
from migrations_ui.models.tenancy import APPROVE_ROLES, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from migrations_ui.models.integrations import ApiToken


class Source(models.TextChoices):
    FORM = "form", "Web form"
    API = "api", "REST API"
    WEBHOOK = "webhook", "Webhook"
    CLI = "cli", "Command line"


class ProposalStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    PLANNED = "planned", "Planned"
    NOOP = "noop", "No changes"
    BLOCKED = "blocked", "Blocked"
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
    APPROVED = "approved", "Approved"
    QUEUED = "queued", "Queued"
    APPLYING = "applying", "Applying"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


S = ProposalStatus
FINAL_STATES = frozenset({S.NOOP, S.BLOCKED, S.REJECTED, S.APPLIED, S.FAILED, S.CANCELLED})
# Applying is not cancellable: the worker is inside the target's transaction; it ends on its own.
CANCELLABLE_STATES = frozenset({S.SUBMITTED, S.PLANNED, S.AWAITING_APPROVAL, S.APPROVED, S.QUEUED})


class InvalidTransition(Exception):
    """The proposal is not in a state that allows this (someone else got there first)."""


class NotAllowedError(Exception):
    """This person may not do this to this proposal; the message says why."""


class StalePlan(Exception):
    """The decision names a plan (its checksum, or hazard ids) that is not the proposal's
    plan any more: what the person read is not what would run. Nothing was recorded."""


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Proposal(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "migrations_ui.Tenant", on_delete=models.PROTECT, related_name="proposals"
    )
    target = models.ForeignKey(
        "migrations_ui.Target", on_delete=models.PROTECT, related_name="proposals"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    status = models.CharField(max_length=20, choices=ProposalStatus.choices, default=S.SUBMITTED)

    # What was asked for.
    envelope = models.JSONField(encoder=DjangoJSONEncoder)
    blueprint = models.JSONField(encoder=DjangoJSONEncoder, help_text="The normalized blueprint.")
    schema_version = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    schema_hash = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=255)
    caller_key = models.BooleanField(
        default=False, help_text="The idempotency key came from the caller (header or meta)."
    )
    force_apply = models.BooleanField(default=False)
    resubmitted_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resubmissions",
        help_text="The blocked proposal this one resubmits with force_apply.",
    )
    run_id = models.CharField(max_length=100, blank=True)
    actor_id = models.CharField(
        max_length=150, blank=True, help_text="context.actor_id, recorded only"
    )

    # The plan, as made at submission (or re-made by the worker when the schema moved).
    plan = models.JSONField(encoder=DjangoJSONEncoder, null=True, blank=True)
    plan_sql = models.TextField(blank=True)
    plan_checksum = models.CharField(max_length=64, blank=True)
    base_snapshot_hash = models.CharField(max_length=64, blank=True)
    is_dangerous = models.BooleanField(default=False)

    # The outcome.
    result = models.JSONField(encoder=DjangoJSONEncoder, null=True, blank=True)
    error = models.TextField(blank=True)
    review_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    timings = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    planned_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A caller's key names one proposal forever (retries), whatever the target.
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"],
                condition=Q(caller_key=True),
                name="proposal_caller_key_unique",
            ),
            # The computed key (tenant, version, blueprint hash) only merges submissions to
            # one target while the first is in flight: once final, the same blueprint may be
            # submitted again (and plans to a noop).
            models.UniqueConstraint(
                fields=["target", "idempotency_key"],
                condition=Q(caller_key=False)
                & Q(
                    status__in=[
                        "submitted",
                        "planned",
                        "awaiting_approval",
                        "approved",
                        "queued",
                        "applying",
                    ]
                ),
                name="proposal_inflight_key_unique",
            ),
            # Lets approvals reference (proposal, submitter) so the database itself can refuse
            # self-approval.
            models.UniqueConstraint(fields=["id", "submitted_by"], name="proposal_id_submitter"),
        ]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="proposal_tenant_time"),
            models.Index(fields=["target", "status"], name="proposal_target_status"),
            models.Index(fields=["status", "-created_at"], name="proposal_status_time"),
        ]

    objects = ProposalQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.tenant.slug} v{self.schema_version} ({self.status})"

    # ---- reading -------------------------------------------------------------------------

    def _json_part(self, part: str, field: str, key: str) -> Any:
        """``field[key]``: from the annotation ``part`` when the row was read with
        ``for_status()`` (the large column stayed in the database), else from the column."""
        if part in self.__dict__ and field not in self.__dict__:
            return self.__dict__[part]
        return (getattr(self, field) or {}).get(key)

    @property
    def progress(self) -> dict[str, Any]:
        """``{"done": n, "total": m}`` while applying (and once applied)."""
        return dict(self._json_part("part_progress", "timings", "progress") or {})

    @property
    def applied_ms(self) -> float | None:
        return self._json_part("part_total_ms", "timings", "total_ms")

    @property
    def migration_log_id(self) -> str | None:
        return self._json_part("part_log_id", "result", "migration_log_id")

    def statement_at(self, index: int) -> dict[str, Any] | None:
        """The plan's statement ``index``; without the plan loaded, only that one is read."""
        if "plan" in self.__dict__:
            statements = self.plan_statements()
            return statements[index] if 0 <= index < len(statements) else None
        found = (
            Proposal.objects.filter(pk=self.pk)
            .values_list(KeyTransform(str(index), KeyTransform("statements", "plan")), flat=True)
            .first()
        )
        return found if isinstance(found, dict) else None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATES

    @property
    def hazards(self) -> list[dict[str, Any]]:
        return list(self._json_part("part_hazards", "plan", "hazards") or [])

    @property
    def dangerous_hazards(self) -> list[dict[str, Any]]:
        return [h for h in self.hazards if h.get("severity") == "danger"]

    @property
    def page_cache_key(self) -> str:
        """What the proposal page may cache its plan sections under: this proposal's plan as
        recorded. Never the checksum alone, which hashes only the SQL: the same SQL planned
        against dev and prod carries different live numbers and hazards."""
        stamp = self.planned_at.timestamp() if self.planned_at else 0
        return f"{self.pk}:{self.plan_checksum}:{stamp:.6f}"

    def plan_statements(self) -> list[dict[str, Any]]:
        return list((self.plan or {}).get("statements", []))

    def hazard_ids(self) -> list[str]:
        """Stable ids an approver acknowledges, one per dangerous hazard."""
        return [str(h.get("id")) for h in self.dangerous_hazards]

    # ---- guards: the workflow (migrations_ui.workflow) calls these ----------------------

    def move(self, *, allowed_from: Iterable[str], to: str, verb: str, **fields: Any) -> None:
        """The status guard: move to ``to`` with a conditional UPDATE, only from one of
        ``allowed_from`` (so two racing callers cannot both win), or ``InvalidTransition``.
        Writes nothing else: ``migrations_ui.workflow.transitions`` wraps it in the transaction
        that also records the audit event and whatever the move sets off."""
        allowed = list(allowed_from)
        now = timezone.now()
        updated = Proposal.objects.filter(pk=self.pk, status__in=allowed).update(
            status=to, updated_at=now, **fields
        )
        if updated != 1:
            current = Proposal.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            raise InvalidTransition(
                f"Cannot {verb} a proposal that is {current}; it must be {' or '.join(allowed)}."
            )
        self.status = to
        self.updated_at = now
        for name, value in fields.items():
            setattr(self, name, value)

    def check_may_decide(
        self, user: AbstractBaseUser, *, verb: str, token: ApiToken | None = None
    ) -> None:
        """Only a second person (never the submitter), an approver or admin of the tenant, in
        person or with a token they made themselves, may approve or reject."""
        if user.pk == self.submitted_by_id:
            if verb == "reject":
                raise NotAllowedError(
                    "You submitted this proposal; cancel it instead of rejecting it."
                )
            raise NotAllowedError("You submitted this proposal; a second person must approve it.")
        _check_own_token(user, token)
        if self.tenant.role_of(user) not in APPROVE_ROLES:
            raise NotAllowedError(f"Only an approver or admin of this tenant can {verb}.")

    def may_cancel(self, user: AbstractBaseUser, role: Role | None = None) -> bool:
        """The submitter or an admin of the tenant (``role``: the user's, when known)."""
        if user.pk == self.submitted_by_id:
            return True
        return (role if role is not None else self.tenant.role_of(user)) == Role.ADMIN

    def check_may_cancel(self, user: AbstractBaseUser) -> None:
        if not self.may_cancel(user):
            raise NotAllowedError("Only the submitter or an admin of this tenant can cancel.")

    def lock_plan(self, checksum: str | None, acknowledged: Iterable[str] = ()) -> None:
        """Lock the row and read its plan as it is now; StalePlan unless the decision names
        this plan. Call inside a transaction (the lock lasts until it ends)."""
        current = (
            Proposal.objects.select_for_update()
            .filter(pk=self.pk)
            .values("status", "plan", "plan_checksum")
            .get()
        )
        self.status, self.plan = current["status"], current["plan"]
        self.plan_checksum = current["plan_checksum"]
        if checksum is not None and checksum != self.plan_checksum:
            raise StalePlan(
                "The plan changed after you read it (its checksum is not the one you approved): "
                "read the new plan, then decide again."
            )
        known = {str(h.get("id")) for h in self.hazards}
        unknown = sorted(set(acknowledged) - known)
        if unknown:
            raise StalePlan(
                f"You acknowledged hazards that are not in this plan ({', '.join(unknown[:5])}): "
                "they belong to an earlier plan. Read the current one, then decide again."
            )

    def approved_checksum(self) -> str | None:
        """The checksum of the plan the standing (not voided) approval was given to."""
        return (
            self.approvals.filter(decision=Decision.APPROVED, voided_at__isnull=True)
            .order_by("-created_at")
            .values_list("plan_checksum", flat=True)
            .first()
        )

    def can_approve(self, user: AbstractBaseUser) -> tuple[bool, str]:
        """(allowed, why not) for showing the approval panel."""
        if self.status != S.AWAITING_APPROVAL:
            return False, f"The proposal is {self.get_status_display().lower()}."
        if user.pk == self.submitted_by_id:
            return False, "You submitted this proposal; a second person must approve it."
        if self.tenant.role_of(user) not in APPROVE_ROLES:
            return False, "Only an approver or admin of this tenant can approve."
        return True, ""


class Approval(models.Model):
    """A second person's decision, bound to the plan they read (its checksum)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="approvals")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A copy of the proposal's submitter, tied to it by a composite foreign key (migration
    # 0003), so that the CHECK below is a real database guarantee.
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    acknowledged_hazards = models.JSONField(default=list, blank=True)
    plan_checksum = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(approver=F("submitter")), name="approval_not_by_submitter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.approver}"


def _check_own_token(user: AbstractBaseUser, token: ApiToken | None) -> None:
    """A decision made with a token counts only when the token is the person's own, made by
    themselves: a token someone else made for them (an admin, the submitter) would let its
    maker act under their name."""
    if token is None:
        return
    if token.user_id != user.pk or token.created_by_id != user.pk or not token.is_active:
        raise NotAllowedError(
            f"The token {token.prefix}… was not made by {user.get_username()} for themselves: "
            "approve in person (log in), or with a token you created on /settings/tokens/."
        )
