"""An audit event and its outbound deliveries, written together.

``record`` appends the event to its chain and, in the same transaction, creates one delivery
row and one delivery job per subscribed webhook endpoint (``outbound.announce``): the event,
its deliveries and their jobs commit together or not at all. A crash after the commit cannot
lose an announcement, and no delivery job can start before its row exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from migrations_ui.audit import outbound
from migrations_ui.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from migrations_ui.models import Proposal, Tenant


def record(
    *,
    tenant: Tenant | None,
    action: str,
    actor: AbstractBaseUser | None = None,
    proposal: Proposal | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event and queue its webhook deliveries, in one transaction (the caller's,
    when it has one)."""
    with transaction.atomic():
        event = AuditEvent.record(
            tenant=tenant, action=action, actor=actor, proposal=proposal, data=data
        )
        outbound.announce(event)
    return event
