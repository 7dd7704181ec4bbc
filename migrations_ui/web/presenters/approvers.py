"""Who approved a change, for the pages that say who applied it ("Applied by alice, approved
by bob"): the standing (not voided) approvals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from migrations_ui.models import Approval, Decision


def approvers_of(proposal_ids: Iterable[Any]) -> dict[Any, list[str]]:
    """Proposal id → the usernames that approved it, in one query."""
    ids = [pk for pk in proposal_ids if pk is not None]
    found: dict[Any, list[str]] = defaultdict(list)
    if not ids:
        return found
    rows = (
        Approval.objects.filter(
            proposal_id__in=ids, decision=Decision.APPROVED, voided_at__isnull=True
        )
        .order_by("created_at")
        .values_list("proposal_id", "approver__username")
    )
    for proposal_id, username in rows:
        if username not in found[proposal_id]:
            found[proposal_id].append(username)
    return found


def who_line(applied_by: str, approvers: list[str]) -> str:
    """``Applied by alice, approved by bob`` (or ``…, no approval needed``)."""
    if approvers:
        return f"Applied by {applied_by}, approved by {', '.join(approvers)}"
    return f"Applied by {applied_by}, no approval needed"
