"""Checking the audit chains, and retention: the one way old audit events leave.

Each tenant's events form a chain: every event carries the hash of the tenant's previous event
(``prev_hash``; the first one carries ``GENESIS``) and its own hash over its canonical content.
``verify_chains`` walks the chains in id order (the order ``AuditEvent.record`` appended them,
under the tenant's advisory lock) and reports, per chain, the first event whose content no
longer matches its hash, or whose link does not match its predecessor.

Retention removes a chain's oldest events, always a whole prefix, in one transaction: it first
appends an ``audit.retention`` event stating what goes (how many, the first and last ids and
hashes), then deletes with ``schemabuilder.retention = 'on'`` set for that transaction only
(the row trigger of migration 0005 refuses every other DELETE). The first remaining event
then links to a hash that no longer exists; ``verify_chains`` accepts that only when a
retention event of the same chain names it as the last one removed.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Max, Min

from migrations_ui.models import AuditEvent, Tenant
from migrations_ui.models.audit import CHAIN_LOCK_CLASS, GENESIS, canonical_content, content_hash

RETENTION_ACTION = "audit.retention"
CHUNK = 5_000


@dataclass(frozen=True)
class Break:
    """The first bad event of one tenant's chain."""

    tenant: str
    event_id: int
    action: str
    created_at: datetime.datetime
    reason: str

    def __str__(self) -> str:
        at = self.created_at.isoformat(timespec="seconds")
        return (
            f"BROKEN: tenant {self.tenant}, event {self.event_id} ({self.action} at {at}): "
            f"{self.reason}"
        )


@dataclass
class ChainHead:
    events: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    after_retention: bool = False


@dataclass
class Verification:
    """What ``verify_chains`` found: counts, the breaks, and each chain's head."""

    events: int = 0
    breaks: list[Break] = field(default_factory=list)
    heads: dict[str, ChainHead] = field(default_factory=dict)

    @property
    def chains(self) -> int:
        return len(self.heads)

    @property
    def ok(self) -> bool:
        return not self.breaks


def _retention_anchors(tenant_id: int | None) -> dict[int, set[str]]:
    """Per tenant, the hashes retention events name as the last event they removed."""
    qs = AuditEvent.objects.filter(action=RETENTION_ACTION)
    if tenant_id is not None:
        qs = qs.filter(tenant_id=tenant_id)
    anchors: dict[int, set[str]] = defaultdict(set)
    for tid, data in qs.values_list("tenant_id", "data"):
        if isinstance(data, dict) and data.get("last_hash"):
            anchors[tid].add(str(data["last_hash"]))
    return anchors


def verify_chains(tenant: Tenant | None = None, *, chunk_size: int = CHUNK) -> Verification:
    """Walk every chain (or one tenant's), recomputing each hash and checking each link.

    Streams the events (a server-side cursor, ``chunk_size`` rows at a time), in the order of
    the (tenant, id) index; memory stays flat whatever the size of the table.
    """
    slugs = dict(Tenant.objects.values_list("pk", "slug"))
    anchors = _retention_anchors(tenant.pk if tenant else None)
    rows = AuditEvent.objects.order_by("tenant_id", "id").values_list(
        "id",
        "tenant_id",
        "proposal_id",
        "actor_name",
        "action",
        "created_at",
        "request_id",
        "data",
        "prev_hash",
        "hash",
    )
    if tenant is not None:
        rows = rows.filter(tenant_id=tenant.pk)

    result = Verification()
    current: int | None = None
    head = ChainHead()
    broken = False
    for (
        event_id,
        tenant_id,
        proposal_id,
        actor_name,
        action,
        created_at,
        request_id,
        data,
        prev_hash,
        stored_hash,
    ) in rows.iterator(chunk_size=chunk_size):
        if tenant_id != current:
            current, broken = tenant_id, False
            head = result.heads.setdefault(slugs.get(tenant_id, str(tenant_id)), ChainHead())
        result.events += 1
        head.events += 1
        if broken:
            continue  # one report per chain: the first break; the rest follows from it
        reason = ""
        recomputed = content_hash(
            canonical_content(
                tenant_id=tenant_id,
                proposal_id=proposal_id,
                actor_name=actor_name,
                action=action,
                created_at=created_at,
                request_id=request_id,
                data=data,
                prev_hash=prev_hash,
            )
        )
        if recomputed != stored_hash:
            reason = "hash mismatch (content was edited)"
        elif head.last_id is None:
            if prev_hash == GENESIS:
                pass
            elif prev_hash in anchors.get(tenant_id, ()):
                head.after_retention = True
            else:
                reason = (
                    f"the chain starts with a link to {prev_hash[:16]}…, which no retention "
                    "event accounts for (earlier events were removed)"
                )
        elif prev_hash != head.last_hash:
            reason = (
                f"broken link: prev_hash {prev_hash[:16]}… is not the hash of the event before "
                f"it (event {head.last_id}): an event was removed, inserted, or edited along "
                "with its hash"
            )
        if reason:
            broken = True
            result.breaks.append(
                Break(slugs.get(tenant_id, str(tenant_id)), event_id, action, created_at, reason)
            )
            continue
        head.last_id, head.last_hash = event_id, stored_hash
    return result


# ---- retention --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Removal:
    """One chain prefix that retention removes (or would remove, in a dry run)."""

    tenant: str
    count: int
    first_id: int
    last_id: int
    first_hash: str
    last_hash: str
    first_at: datetime.datetime
    last_at: datetime.datetime
    retention_event_id: int | None = None

    def as_data(self, before: datetime.datetime) -> dict[str, Any]:
        return {
            "before": before.isoformat(),
            "removed": self.count,
            "first_id": self.first_id,
            "first_hash": self.first_hash,
            "first_at": self.first_at.isoformat(),
            "last_id": self.last_id,
            "last_hash": self.last_hash,
            "last_at": self.last_at.isoformat(),
        }


def purge_before(
    before: datetime.datetime,
    *,
    tenant: Tenant | None = None,
    actor_name: str = "retention",
    dry_run: bool = False,
) -> list[Removal]:
    """Remove each chain's events older than ``before``: whole prefixes, one transaction.

    A chain's prefix ends just before its first event at or after ``before``, so an event
    written out of clock order never leaves a hole. Each removal is recorded first, as an
    ``audit.retention`` event in the same chain.
    """
    removals: list[Removal] = []
    tenants = [tenant] if tenant is not None else list(Tenant.objects.order_by("slug"))
    with transaction.atomic():
        for t in tenants:
            with connection.cursor() as cur:
                # The appenders' lock: no event joins the chain while its prefix is cut.
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [CHAIN_LOCK_CLASS, t.pk])
            chain = AuditEvent.objects.filter(tenant=t)
            first_kept = chain.filter(created_at__gte=before).aggregate(m=Min("id"))["m"]
            doomed = chain if first_kept is None else chain.filter(id__lt=first_kept)
            span = doomed.aggregate(n=Count("id"), lo=Min("id"), hi=Max("id"))
            if not span["n"]:
                continue
            first = chain.values("hash", "created_at").get(pk=span["lo"])
            last = chain.values("hash", "created_at").get(pk=span["hi"])
            removal = Removal(
                tenant=t.slug,
                count=span["n"],
                first_id=span["lo"],
                last_id=span["hi"],
                first_hash=first["hash"],
                last_hash=last["hash"],
                first_at=first["created_at"],
                last_at=last["created_at"],
            )
            if dry_run:
                removals.append(removal)
                continue
            event = AuditEvent.record(
                tenant=t,
                action=RETENTION_ACTION,
                actor_name=actor_name,
                data=removal.as_data(before),
            )
            with connection.cursor() as cur:
                cur.execute("SELECT set_config('schemabuilder.retention', 'on', true)")
                cur.execute(
                    "DELETE FROM migrations_ui_auditevent"
                    " WHERE tenant_id = %s AND id BETWEEN %s AND %s",
                    [t.pk, removal.first_id, removal.last_id],
                )
                deleted = cur.rowcount
                # Off again at once: nothing else in this transaction may delete history.
                cur.execute("SELECT set_config('schemabuilder.retention', 'off', true)")
            if deleted != removal.count:
                raise RuntimeError(
                    f"retention of {t.slug}: expected to delete {removal.count} events, "
                    f"deleted {deleted}; rolled back"
                )
            removals.append(replace(removal, retention_event_id=event.pk))
    return removals
