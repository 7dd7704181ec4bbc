"""The submission service: every entry point (form, API, webhook, CLI) submits through here.

validate → Proposal(submitted) → plan (synchronously, against the live target) → planned →
noop | blocked | awaiting_approval | queued. The same idempotency key for the same tenant gives
back the existing proposal, also when fifty identical requests race.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from migrations_ui.access import SUBMIT_ROLES, tenants_for
from migrations_ui.models import (
    InvalidTransition,
    NotAllowedError,
    Proposal,
    ProposalStatus,
    Source,
    Target,
)
from migrations_ui.models.proposals import FINAL_STATES
from migrations_ui.workflow import engine_bridge as bridge
from migrations_ui.workflow import events, transitions, version_rule
from migrations_ui.workflow.environment_rule import chosen_environment
from schemabuilder.engine import (
    BlueprintInvalid,
    Issue,
    ValidatedEnvelope,
    safe_message,
    validate_envelope,
)

log = logging.getLogger(__name__)


class NotFound(Exception):
    """The tenant or target does not exist for this user (deliberately the same answer)."""


class IdempotencyConflict(Exception):
    """The same idempotency key was used before with a different blueprint or target."""

    def __init__(self, existing: Proposal) -> None:
        super().__init__(
            f"The idempotency key {existing.idempotency_key!r} was already used for a different "
            f"request (proposal {existing.pk}). Use a new key for a new blueprint."
        )
        self.existing = existing


@dataclass(frozen=True)
class Submission:
    proposal: Proposal
    created: bool  # False: an earlier proposal with the same idempotency key was returned
    latency_ms: int


def resolve_target(user: AbstractBaseUser, tenant_slug: str, environment: str | None) -> Target:
    """The tenant's target (its default when no environment is named), or NotFound."""
    tenant = tenants_for(user).filter(slug=tenant_slug).first()
    if tenant is None:
        raise NotFound(f"No tenant {tenant_slug!r} that you are a member of.")
    targets = tenant.targets.all()
    target = (
        targets.filter(environment=environment).first()
        if environment
        else targets.filter(is_default=True).first()
    )
    if target is None:
        known = ", ".join(t.environment for t in targets) or "none"
        wanted = f"environment {environment!r}" if environment else "a default target"
        raise NotFound(f"Tenant {tenant_slug} has no {wanted} (targets: {known}).")
    return target


def submit(
    *,
    user: AbstractBaseUser,
    envelope: Any,
    source: str,
    environment: str | None = None,
    idempotency_key: str | None = None,
    baseline: dict[str, Any] | None = None,
) -> Submission:
    """Validate, store, plan and settle one envelope. Raises BlueprintInvalid (with every issue),
    NotFound, NotAllowedError or IdempotencyConflict; anything else is a bug.

    ``baseline`` (only from ``baseline.import_baseline``): the blueprint was imported from
    the target itself; its ``tables`` are planned as managed, and its empty plan is recorded
    as the target's baseline version (see ``transitions.settle``)."""
    started = time.monotonic()
    validated = validate_envelope(envelope)
    target = resolve_target(
        user, validated.tenant_id, chosen_environment(validated.environment, environment)
    )
    tenant = target.tenant
    if tenant.role_of(user) not in SUBMIT_ROLES:
        raise NotAllowedError("Viewers cannot submit: ask a tenant admin for the submitter role.")

    caller_key = idempotency_key or validated.meta.idempotency_key or None
    key = caller_key or validated.idempotency_key
    if _existing(target, key, bool(caller_key)) is None:  # a retry gets its proposal back
        version_rule.check(target, validated)
    proposal, created = _create_or_find(
        user, validated, envelope, target, source, key, bool(caller_key)
    )
    if created:
        _plan_and_settle(proposal, baseline)
    return Submission(proposal, created, int((time.monotonic() - started) * 1000))


def _create_or_find(
    user: AbstractBaseUser,
    validated: ValidatedEnvelope,
    envelope: Any,
    target: Target,
    source: str,
    key: str,
    caller_key: bool,
) -> tuple[Proposal, bool]:
    bp = validated.blueprint
    for _ in range(3):
        existing = _existing(target, key, caller_key)
        if existing is not None:
            if existing.schema_hash != validated.schema_hash or existing.target_id != target.pk:
                raise IdempotencyConflict(existing)
            return existing, False
        try:
            with transaction.atomic():
                proposal = Proposal.objects.create(
                    tenant=target.tenant,
                    target=target,
                    submitted_by=user,
                    source=Source(source),
                    envelope=envelope,
                    blueprint=bridge.blueprint_to_json(bp),
                    schema_version=bp.schema_version,
                    description=bp.description,
                    schema_hash=validated.schema_hash,
                    idempotency_key=key,
                    caller_key=caller_key,
                    force_apply=bp.force_apply,
                    run_id=validated.meta.workflow_run_id or "",
                    actor_id=(validated.context.actor_id or "")[:150],
                )
                events.record(
                    tenant=target.tenant,
                    proposal=proposal,
                    action="proposal.submitted",
                    actor=user,
                    data={
                        "source": source,
                        "version": bp.schema_version,
                        "target": target.environment,
                        "schema_hash": validated.schema_hash,
                        "force_apply": bp.force_apply,
                    },
                )
            return proposal, True
        except IntegrityError:
            # Someone else inserted the same key between our look and our insert: theirs wins.
            continue
    raise RuntimeError(f"could not create or find the proposal for key {key!r}")


def _existing(target: Target, key: str, caller_key: bool) -> Proposal | None:
    # A caller's key is forever (for the tenant); a computed key only while its proposal to
    # the same target is in flight.
    qs = Proposal.objects.filter(tenant=target.tenant, idempotency_key=key, caller_key=caller_key)
    if not caller_key:
        qs = qs.filter(target=target).exclude(status__in=FINAL_STATES)
    return qs.order_by("-created_at").first()


def _plan_and_settle(proposal: Proposal, baseline: dict[str, Any] | None = None) -> None:
    """Plan against the live target and settle by the rules, the plan and its verdict in one
    transaction (a crash between them cannot leave it planned). Whatever goes wrong on the way
    (the blueprint refused by the target, the target unreachable, a lock or statement timeout
    in either database, a job that cannot be queued) fails the proposal with the reason, so it
    never stays submitted."""
    try:
        result = bridge.plan_proposal(proposal, adopt=(baseline or {}).get("tables", ()))
        with transaction.atomic():
            transitions.record_plan(
                proposal,
                result.plan_json,
                sql=result.sql,
                checksum=result.checksum,
                base_hash=result.base_hash,
                dangerous=result.dangerous,
            )
            transitions.settle(proposal, baseline=baseline)
    except BlueprintInvalid as exc:
        _fail(proposal, _issues_text(exc.issues), result={"issues": bridge.issues_json(exc.issues)})
        raise
    except bridge.TargetUnavailable as exc:
        _fail(proposal, str(exc))
    except Exception as exc:
        # Database errors are reduced to our own words (safe_message): a lock's DETAIL can
        # name another connection's query and user. Anything else says only its type.
        log.exception("planning %s failed", proposal.pk)
        _fail(proposal, safe_message(exc, where="Planning failed"))


def _fail(proposal: Proposal, error: str, *, result: dict[str, Any] | None = None) -> None:
    # What a rolled-back transaction wrote to the instance is not in the database: read it
    # again, so the failure records the proposal as it is.
    proposal.refresh_from_db()
    try:
        transitions.mark_failed(proposal, error, result=result)
    except InvalidTransition:
        log.info("proposal %s is %s: not failed", proposal.pk, proposal.status)


def _issues_text(issues: list[Issue]) -> str:
    return "The target database rejected the blueprint:\n" + "\n".join(
        f"{i.path}: {i.message}" for i in issues
    )


def wait_until_final(proposal: Proposal, seconds: float) -> Proposal:
    """Poll (cheaply: its status only) until the proposal is final or the time is up; returns
    it refreshed once, at the end."""
    deadline = time.monotonic() + max(0.0, seconds)
    delay = 0.05
    status = Proposal.objects.filter(pk=proposal.pk).values_list("status", flat=True)
    while True:
        now = status.first()
        if now in FINAL_STATES or now == ProposalStatus.AWAITING_APPROVAL:
            break
        if time.monotonic() >= deadline:
            break
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)
    proposal.refresh_from_db()
    return proposal


@dataclass(frozen=True)
class Preview:
    validated: ValidatedEnvelope
    target: Target
    plan: bridge.PlanResult


def preview(*, user: AbstractBaseUser, envelope: Any, environment: str | None = None) -> Preview:
    """A dry run: validate and plan against the live target as ``submit`` would, storing no
    proposal. Same access rules as submitting (planning works on the target database)."""
    validated = validate_envelope(envelope)
    target = resolve_target(
        user, validated.tenant_id, chosen_environment(validated.environment, environment)
    )
    if target.tenant.role_of(user) not in SUBMIT_ROLES:
        raise NotAllowedError("Viewers cannot plan: ask a tenant admin for the submitter role.")
    return Preview(validated, target, bridge.plan_target(target, validated.blueprint))
