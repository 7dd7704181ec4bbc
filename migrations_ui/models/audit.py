"""The audit trail: append-only events, chained per tenant by hashes."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from migrations_ui.context import current_request_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from migrations_ui.models.proposals import Proposal
    from migrations_ui.models.tenancy import Tenant

GENESIS = "0" * 64
# The pair of keys of the per-tenant advisory lock that serializes appends to a chain (the
# second key is the tenant's id). Retention takes the same lock.
CHAIN_LOCK_CLASS = 0x5AB1


def _canonical_numbers(value: Any) -> Any:
    """jsonb prints a float with a large exponent as an integer (1.5e16 comes back as
    15000000000000000, an int once decoded): write such floats as integers on both sides, so
    the hash of an event is the same before and after its data went through the database."""
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e16:
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical_numbers(v) for v in value]
    return value


def canonical_content(
    *,
    tenant_id: int,
    proposal_id: Any,
    actor_name: str,
    action: str,
    created_at: Any,
    request_id: str,
    data: Any,
    prev_hash: str,
) -> str:
    """What an event's hash covers: every field that states a fact, in one fixed form.

    A plain function of the column values, so ``verify_audit`` can stream rows as tuples and
    the bench loader can build a chain without model instances; both hash the same text.
    """
    return json.dumps(
        {
            "tenant": tenant_id,
            "proposal": str(proposal_id) if proposal_id else None,
            "actor": actor_name,
            "action": action,
            "created_at": created_at.isoformat(),
            "request_id": request_id,
            "data": _canonical_numbers(data),
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        cls=DjangoJSONEncoder,
    )


def content_hash(content: str) -> str:
    """SHA-256 of the canonical content, hex."""
    return hashlib.sha256(content.encode()).hexdigest()


class AuditEvent(models.Model):
    """Who did what, when, to which proposal: frozen at the time it happened.

    The actor's name is copied, so renaming or deleting a user never rewrites history. Each
    event carries the hash of its tenant's previous event and its own hash over its canonical
    content: editing any event breaks the chain from there on.
    """

    # No single-column indexes on the foreign keys: the composite indexes below lead with
    # them and serve the same lookups (fewer indexes to write on every event).
    tenant = models.ForeignKey(
        "migrations_ui.Tenant",
        on_delete=models.PROTECT,
        related_name="audit_events",
        db_index=False,
    )
    proposal = models.ForeignKey(
        "migrations_ui.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="audit_tenant_time"),
            models.Index(fields=["proposal", "created_at"], name="audit_proposal_time"),
            models.Index(fields=["action", "-created_at"], name="audit_action_time"),
            # A chain in order (verify_audit and AuditEvent.record's look at the last event).
            models.Index(fields=["tenant", "id"], name="audit_tenant_id"),
            # The auditor's usual question: this tenant's applied (failed, approved...) changes.
            models.Index(fields=["tenant", "action", "-created_at"], name="audit_tenant_action"),
            # The admin's date hierarchy: first and last event, and a day's or month's events.
            models.Index(fields=["created_at"], name="audit_time"),
            # The admin's search: an actor by name prefix (LIKE 'x%' needs the pattern
            # operator class whatever the collation), every event of one request.
            models.Index(
                fields=["actor_name"], name="audit_actor_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["request_id"],
                name="audit_request",
                condition=~models.Q(request_id=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name}"

    def canonical_content(self) -> str:
        """What the hash covers: every field that states a fact, in a fixed form."""
        return canonical_content(
            tenant_id=self.tenant_id,
            proposal_id=self.proposal_id,
            actor_name=self.actor_name,
            action=self.action,
            created_at=self.created_at,
            request_id=self.request_id,
            data=self.data,
            prev_hash=self.prev_hash,
        )

    def compute_hash(self) -> str:
        """The hash this event must carry, recomputed from its content."""
        return content_hash(self.canonical_content())

    @classmethod
    def record(
        cls,
        *,
        tenant: Tenant,
        action: str,
        actor: AbstractBaseUser | None = None,
        actor_name: str | None = None,
        proposal: Proposal | None = None,
        data: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event to the tenant's chain. Call inside the transaction of the change.

        A transaction-scoped advisory lock per tenant serializes writers, so two concurrent
        events never claim the same predecessor (the chain never forks). The lock is held until
        the surrounding transaction ends; the id is drawn while it is held, so id order is chain
        order. Once the transaction commits, the event goes out to the tenant's webhooks (see
        ``migrations_ui.outbound``); a rolled-back change sends nothing.
        """
        # atomic(): in autocommit mode the lock would end with its own SELECT, before the
        # INSERT, and two writers could both link to the same predecessor.
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK_CLASS, tenant.pk])
            last = (
                cls.objects.filter(tenant=tenant)
                .order_by("-id")
                .values_list("hash", flat=True)
                .first()
            )
            name = actor_name or (actor.get_username() if actor is not None else "system")
            event = cls(
                tenant=tenant,
                proposal=proposal,
                actor=actor,
                actor_name=name,
                action=action,
                request_id=current_request_id(),
                data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
                prev_hash=last or GENESIS,
                created_at=timezone.now(),
            )
            event.hash = event.compute_hash()
            event.save(force_insert=True)
            _announce_on_commit(event)
        return event


def _announce_on_commit(event: AuditEvent) -> None:
    """Queue the outbound webhook deliveries of this event once the change is committed.

    Only inserts rows and jobs (no network): a slow or dead endpoint never slows the caller.
    ``robust``: a failure to queue is logged, never raised into a change that already
    committed.
    """
    from migrations_ui import outbound

    if outbound.event_type_for(event.action) is None:
        return
    event_pk = event.pk
    transaction.on_commit(lambda: outbound.announce(event_pk), robust=True)
