"""Checking the audit chains, and retention: the one way old audit events leave.

Each tenant's events form a chain (events without a tenant form the global chain): every event
carries the hash of the chain's previous event (``prev_hash``; the first one carries
``GENESIS``), its own hash over its canonical content, and its number in the chain (``seq``).
``verify_chains`` walks the chains in id order (the order ``AuditEvent.record`` appended them,
under the chain's advisory lock) and reports, per chain, the first event whose content no
longer matches its hash, whose number does not follow its predecessor's, or whose link does not
match its predecessor; then it compares each chain's last event with the chain's checkpoint,
which sees what no chain can show by itself: events cut from the end.

Retention removes a chain's oldest events, always a whole prefix, in one transaction: it first
appends an ``audit.retention`` event stating what goes (how many, the first and last ids and
hashes), then deletes with ``schemabuilder.retention = 'on'`` and ``schemabuilder.retention_before``
set for that transaction only (the row trigger of migration 0010 refuses every other DELETE,
and any event younger than ``MIN_RETENTION_DAYS``). The first remaining event
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
from django.utils import timezone

from migrations_ui.models import AuditCheckpoint, AuditEvent, Tenant
from migrations_ui.models.audit import (
    CHAIN_LOCK_CLASS,
    GENESIS,
    GLOBAL_CHAIN,
    canonical_content,
    chain_key,
    chain_lock_key,
    content_hash,
)

RETENTION_ACTION = "audit.retention"
CHUNK = 5_000
# The trigger of migration 0010 holds the same number: retention never removes younger events.
MIN_RETENTION_DAYS = 30


class RetentionTooRecent(ValueError):
    """A cutoff younger than the minimum retention (the trigger would refuse it anyway)."""


@dataclass(frozen=True)
class Break:
    """The first bad event of one tenant's chain."""

    tenant: str
    event_id: int | None
    action: str
    created_at: datetime.datetime | None
    reason: str

    def __str__(self) -> str:
        if self.event_id is None or self.created_at is None:  # a chain with no event left
            return f"BROKEN: tenant {self.tenant}: {self.reason}"
        at = self.created_at.isoformat(timespec="seconds")
        return (
            f"BROKEN: tenant {self.tenant}, event {self.event_id} ({self.action} at {at}): "
            f"{self.reason}"
        )


@dataclass
class ChainHead:
    events: int = 0
    last_id: int | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    last_action: str = ""
    last_at: datetime.datetime | None = None
    after_retention: bool = False
    broken: bool = False


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


def _retention_anchors(tenant: Tenant | None) -> dict[int | None, dict[str, int | None]]:
    """Per chain, the hashes retention events name as the last event they removed, each with
    that event's seq (None for retentions from before seq existed)."""
    qs = AuditEvent.objects.filter(action=RETENTION_ACTION)
    if tenant is not None:
        qs = qs.filter(tenant_id=tenant.pk)
    anchors: dict[int | None, dict[str, int | None]] = defaultdict(dict)
    for tid, data in qs.values_list("tenant_id", "data"):
        if isinstance(data, dict) and data.get("last_hash"):
            last_seq = data.get("last_seq")
            anchors[tid][str(data["last_hash"])] = int(last_seq) if last_seq else None
    return anchors


def _label(slugs: dict[int, str], tenant_id: int | None) -> str:
    return GLOBAL_CHAIN if tenant_id is None else slugs.get(tenant_id, str(tenant_id))


def verify_chains(tenant: Tenant | None = None, *, chunk_size: int = CHUNK) -> Verification:
    """Walk every chain (or one tenant's), recomputing each hash and checking each link.

    Streams the events (a server-side cursor, ``chunk_size`` rows at a time), in the order of
    the (tenant, id) index; memory stays flat whatever the size of the table.
    """
    slugs = dict(Tenant.objects.values_list("pk", "slug"))
    anchors = _retention_anchors(tenant)
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
        "seq",
    )
    if tenant is not None:
        rows = rows.filter(tenant_id=tenant.pk)

    result = Verification()
    current: object = _NO_CHAIN
    head = ChainHead()
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
        seq,
    ) in rows.iterator(chunk_size=chunk_size):
        if tenant_id != current:
            current = tenant_id
            head = result.heads.setdefault(_label(slugs, tenant_id), ChainHead())
        result.events += 1
        head.events += 1
        if head.broken:
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
            chain_anchors = anchors.get(tenant_id, {})
            if prev_hash == GENESIS:
                if seq != 1:
                    reason = f"the chain starts at seq {seq}, not 1 (earlier events were removed)"
            elif prev_hash in chain_anchors:
                head.after_retention = True
                removed_up_to = chain_anchors[prev_hash]
                if removed_up_to is not None and seq != removed_up_to + 1:
                    reason = (
                        f"gap in seq: the chain starts at seq {seq}, but retention removed "
                        f"up to seq {removed_up_to}"
                    )
            else:
                reason = (
                    f"the chain starts with a link to {prev_hash[:16]}…, which no retention "
                    "event accounts for (earlier events were removed)"
                )
        elif seq != head.last_seq + 1:
            reason = (
                f"gap in seq: seq {seq} follows seq {head.last_seq} (event {head.last_id}): "
                "events were removed or inserted"
            )
        elif prev_hash != head.last_hash:
            reason = (
                f"broken link: prev_hash {prev_hash[:16]}… is not the hash of the event before "
                f"it (event {head.last_id}): an event was removed, inserted, or edited along "
                "with its hash"
            )
        if reason:
            head.broken = True
            result.breaks.append(
                Break(_label(slugs, tenant_id), event_id, action, created_at, reason)
            )
            continue
        head.last_id, head.last_seq, head.last_hash = event_id, seq, stored_hash
        head.last_action, head.last_at = action, created_at
    _check_checkpoints(result, slugs, tenant)
    return result


_NO_CHAIN = object()  # before the first row: no chain yet (None is the global chain)


def _check_checkpoints(result: Verification, slugs: dict[int, str], tenant: Tenant | None) -> None:
    """Each chain's last event must be where its checkpoint says the chain ends: a checkpoint
    ahead of the chain means events were cut from the end (the checkpoint cannot move back)."""
    checkpoints = AuditCheckpoint.objects.values_list("tenant_id", "seq", "hash")
    if tenant is not None:
        checkpoints = checkpoints.filter(chain=chain_key(tenant.pk))
    seen: set[str] = set()
    for tenant_id, seq, digest in checkpoints:
        label = _label(slugs, tenant_id)
        seen.add(label)
        head = result.heads.get(label)
        if head is None:
            result.heads[label] = ChainHead(broken=True)
            result.breaks.append(
                Break(
                    label,
                    None,
                    "",
                    None,
                    f"tail cut: the checkpoint is at seq {seq} ({digest[:16]}…) but the chain "
                    "has no events left",
                )
            )
            continue
        if head.broken:
            continue  # already reported
        if seq == head.last_seq and digest == head.last_hash:
            continue
        if seq > head.last_seq:
            reason = (
                f"tail cut: the chain ends at seq {head.last_seq} but its checkpoint is at "
                f"seq {seq} ({digest[:16]}…): the newest events were removed"
            )
        elif seq < head.last_seq:
            reason = (
                f"the checkpoint is at seq {seq}, behind the chain's seq {head.last_seq}: "
                "events were appended without the checkpoint"
            )
        else:
            reason = (
                f"the checkpoint's hash at seq {seq} ({digest[:16]}…) is not the last event's: "
                "the end of the chain was replaced"
            )
        head.broken = True
        result.breaks.append(_break_at_head(label, head, reason))
    for label, head in result.heads.items():
        if label not in seen and not head.broken:
            head.broken = True
            result.breaks.append(
                _break_at_head(label, head, "the chain has no checkpoint (it was removed)")
            )


def _break_at_head(label: str, head: ChainHead, reason: str) -> Break:
    return Break(label, head.last_id, head.last_action, head.last_at, reason)


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
    first_seq: int
    last_seq: int
    retention_event_id: int | None = None

    def as_data(self, before: datetime.datetime) -> dict[str, Any]:
        return {
            "before": before.isoformat(),
            "removed": self.count,
            "first_id": self.first_id,
            "first_seq": self.first_seq,
            "first_hash": self.first_hash,
            "first_at": self.first_at.isoformat(),
            "last_id": self.last_id,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "last_at": self.last_at.isoformat(),
        }


def earliest_cutoff_allowed(now: datetime.datetime | None = None) -> datetime.datetime:
    """The newest cutoff retention accepts: the minimum retention ago."""
    return (now or timezone.now()) - datetime.timedelta(days=MIN_RETENTION_DAYS)


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
    ``audit.retention`` event in the same chain. Without a tenant, every tenant's chain and
    the global one. A cutoff younger than ``MIN_RETENTION_DAYS`` raises ``RetentionTooRecent``.
    """
    if before > earliest_cutoff_allowed():
        raise RetentionTooRecent(
            f"retention keeps at least {MIN_RETENTION_DAYS} days: the cutoff must be on or "
            f"before {earliest_cutoff_allowed():%Y-%m-%d %H:%M} UTC"
        )
    removals: list[Removal] = []
    chains: list[Tenant | None] = (
        [tenant] if tenant is not None else [*Tenant.objects.order_by("slug"), None]
    )
    with transaction.atomic():
        for t in chains:
            tenant_id = t.pk if t is not None else None
            with connection.cursor() as cur:
                # The appenders' lock: no event joins the chain while its prefix is cut.
                cur.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [CHAIN_LOCK_CLASS, chain_lock_key(tenant_id)],
                )
            chain = AuditEvent.objects.filter(tenant_id=tenant_id)
            first_kept = chain.filter(created_at__gte=before).aggregate(m=Min("id"))["m"]
            doomed = chain if first_kept is None else chain.filter(id__lt=first_kept)
            span = doomed.aggregate(n=Count("id"), lo=Min("id"), hi=Max("id"))
            if not span["n"]:
                continue
            first = chain.values("hash", "created_at", "seq").get(pk=span["lo"])
            last = chain.values("hash", "created_at", "seq").get(pk=span["hi"])
            removal = Removal(
                tenant=t.slug if t is not None else GLOBAL_CHAIN,
                count=span["n"],
                first_id=span["lo"],
                last_id=span["hi"],
                first_hash=first["hash"],
                last_hash=last["hash"],
                first_at=first["created_at"],
                last_at=last["created_at"],
                first_seq=first["seq"],
                last_seq=last["seq"],
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
                # The trigger checks the cutoff too: it deletes nothing younger, whatever asks.
                cur.execute(
                    "SELECT set_config('schemabuilder.retention', 'on', true),"
                    " set_config('schemabuilder.retention_before', %s, true)",
                    [before.isoformat()],
                )
                cur.execute(
                    "DELETE FROM migrations_ui_auditevent"
                    " WHERE tenant_id IS NOT DISTINCT FROM %s AND id BETWEEN %s AND %s",
                    [tenant_id, removal.first_id, removal.last_id],
                )
                deleted = cur.rowcount
                # Off again at once: nothing else in this transaction may delete history.
                cur.execute(
                    "SELECT set_config('schemabuilder.retention', 'off', true),"
                    " set_config('schemabuilder.retention_before', '', true)"
                )
            if deleted != removal.count:
                raise RuntimeError(
                    f"retention of {removal.tenant}: expected to delete {removal.count} events, "
                    f"deleted {deleted}; rolled back"
                )
            removals.append(replace(removal, retention_event_id=event.pk))
    return removals
