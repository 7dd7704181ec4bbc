"""The audit trail: append-only events, chained per tenant by hashes."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.utils import timezone

from migrations_ui.context import current_request_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from migrations_ui.models.proposals import Proposal
    from migrations_ui.models.tenancy import Tenant

GENESIS = "0" * 64


class AuditEvent(models.Model):
    """Who did what, when, to which proposal: frozen at the time it happened.

    The actor's name is copied, so renaming or deleting a user never rewrites history. Each
    event carries the hash of its tenant's previous event and its own hash over its canonical
    content: editing any event breaks the chain from there on.
    """

    tenant = models.ForeignKey(
        "migrations_ui.Tenant", on_delete=models.PROTECT, related_name="audit_events"
    )
    proposal = models.ForeignKey(
        "migrations_ui.Proposal",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
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
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_name}"

    def canonical_content(self) -> str:
        """What the hash covers: every field that states a fact, in a fixed form."""
        return json.dumps(
            {
                "tenant": self.tenant_id,
                "proposal": str(self.proposal_id) if self.proposal_id else None,
                "actor": self.actor_name,
                "action": self.action,
                "created_at": self.created_at.isoformat(),
                "request_id": self.request_id,
                "data": self.data,
                "prev": self.prev_hash,
            },
            sort_keys=True,
            separators=(",", ":"),
            cls=DjangoJSONEncoder,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical_content().encode()).hexdigest()

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
        events never claim the same predecessor (the chain never forks).
        """
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x5AB1, tenant.pk])
        last = (
            cls.objects.filter(tenant=tenant).order_by("-id").values_list("hash", flat=True).first()
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
        return event
