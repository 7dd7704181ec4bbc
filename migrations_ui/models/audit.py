"""The audit trail: append-only events, chained per tenant by hashes and numbered per chain.

Each chain also has a checkpoint row (``AuditCheckpoint``): its last sequence number and hash,
moved in the same transaction as every append. A hash chain cannot see events cut from its
end; the checkpoint, which a trigger lets only move forward, can.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from migrations_ui.audit.context import current_request_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from migrations_ui.models.proposals import Proposal
    from migrations_ui.models.tenancy import Tenant

GENESIS = "0" * 64
# The pair of keys of the per-chain advisory lock that serializes appends to a chain (the
# second key is the tenant's id, 0 for the global chain). Retention takes the same lock.
CHAIN_LOCK_CLASS = 0x5AB1
# The chain of events that belong to no tenant (e.g. API token events).
GLOBAL_CHAIN = "global"


def chain_key(tenant_id: int | None) -> str:
    """The name of a chain: the tenant's id, or ``global`` for events without a tenant."""
    return GLOBAL_CHAIN if tenant_id is None else str(tenant_id)


def chain_lock_key(tenant_id: int | None) -> int:
    """The second key of the chain's advisory lock (tenant ids start at 1)."""
    return 0 if tenant_id is None else tenant_id


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
    tenant_id: int | None,
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
    # Null: the global chain, events that belong to no tenant (API tokens made and revoked).
    tenant = models.ForeignKey(
        "migrations_ui.Tenant",
        null=True,
        blank=True,
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
    # 1, 2, 3... per chain: a missing number is a removed event. Not part of the hash (older
    # events were hashed before it existed); the checkpoint and the links guard it instead.
    seq = models.BigIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            # NULLS NOT DISTINCT: the global chain (no tenant) is numbered like any other.
            models.UniqueConstraint(
                fields=["tenant", "seq"], name="audit_chain_seq", nulls_distinct=False
            ),
        ]
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
        tenant: Tenant | None,
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
        order. A proposal's events go out to the tenant's webhooks through
        ``migrations_ui.workflow.events.record``, which queues the deliveries in the same
        transaction.
        """
        # atomic(): in autocommit mode the lock would end with its own SELECT, before the
        # INSERT, and two writers could both link to the same predecessor.
        tenant_id = tenant.pk if tenant is not None else None
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [CHAIN_LOCK_CLASS, chain_lock_key(tenant_id)],
                )
            last_seq, last_hash = _chain_head(tenant_id)
            name = actor_name or (actor.get_username() if actor is not None else "system")
            event = cls(
                tenant=tenant,
                proposal=proposal,
                actor=actor,
                actor_name=name,
                action=action,
                request_id=current_request_id(),
                data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
                prev_hash=last_hash,
                seq=last_seq + 1,
                created_at=timezone.now(),
            )
            event.hash = event.compute_hash()
            event.save(force_insert=True)
            AuditCheckpoint.advance(tenant_id, event.seq, event.hash)
        return event


class AuditCheckpoint(models.Model):
    """The head of one chain (its last seq and hash), kept beside the events.

    Moved in the same transaction as each append. A trigger (migration 0010) lets it only move
    forward and never be deleted, so a connection that manages to remove the newest events
    cannot rewind the checkpoint with them: ``verify_audit`` sees the chain end before it.
    """

    chain = models.CharField(max_length=40, primary_key=True)
    tenant = models.ForeignKey(
        "migrations_ui.Tenant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"chain {self.chain} at seq {self.seq}"

    @classmethod
    def advance(cls, tenant_id: int | None, seq: int, digest: str) -> None:
        """Move (or create) the chain's checkpoint; call under the chain's lock."""
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO migrations_ui_auditcheckpoint"
                " (chain, tenant_id, seq, hash, updated_at) VALUES (%s, %s, %s, %s, now())"
                " ON CONFLICT (chain) DO UPDATE"
                " SET seq = EXCLUDED.seq, hash = EXCLUDED.hash, updated_at = EXCLUDED.updated_at",
                [chain_key(tenant_id), tenant_id, seq, digest],
            )

    @classmethod
    def head(cls, tenant_id: int | None) -> dict[str, Any] | None:
        """``{"seq", "hash"}`` of the chain's checkpoint, or None before its first event: the
        copy that webhook bodies and migration records carry out of the database."""
        row = cls.objects.filter(chain=chain_key(tenant_id)).values("seq", "hash").first()
        return dict(row) if row else None


def _chain_head(tenant_id: int | None) -> tuple[int, str]:
    """The seq and hash the next event follows: the checkpoint's (one primary-key read), or,
    for a chain written before checkpoints, its last event's."""
    head = AuditCheckpoint.objects.filter(chain=chain_key(tenant_id)).values_list("seq", "hash")
    found = head.first()
    if found is None:
        found = (
            AuditEvent.objects.filter(tenant_id=tenant_id)
            .order_by("-id")
            .values_list("seq", "hash")
            .first()
        )
    return (int(found[0]), str(found[1])) if found else (0, GENESIS)
