"""Small template helpers for the review pages: badges, numbers, the approval count."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from migrations_ui.access import SUBMIT_ROLES, tenants_with_role
from migrations_ui.web.views.base import awaiting_my_approval

register = template.Library()

STATUS_TONE = {
    "applied": "ok",
    "noop": "muted",
    "cancelled": "muted",
    "failed": "danger",
    "rejected": "danger",
    "blocked": "warn",
    "awaiting_approval": "attention",
    "approved": "progress",
    "queued": "progress",
    "applying": "progress",
    "submitted": "progress",
    "planned": "progress",
    # Migration log statuses.
    "success": "ok",
    "partial": "danger",  # failed, with its first stage committed
}


@register.filter
def tone(status: str) -> str:
    """The badge colour of a status: ok, danger, warn, attention, progress or muted."""
    return STATUS_TONE.get(str(status), "muted")


@register.filter
def number(value: Any, key: str = "") -> str:
    """Live numbers as people read them: 12,345 rows; 8.0 kB; yes/no; "not measured"."""
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        if key.endswith("bytes"):
            size = float(value)
            for unit in ("B", "kB", "MB", "GB", "TB"):
                if size < 1024 or unit == "TB":
                    return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
                size /= 1024
        return f"{value:,}"
    return str(value)


@register.filter
def label(key: str) -> str:
    """``non_null_values`` -> ``non-null values``."""
    return str(key).replace("_", " ").replace("non null", "non-null")


@register.filter
def short(value: str, length: int = 12) -> str:
    return str(value or "")[: int(length)]


@register.simple_tag(takes_context=True)
def approval_count(context: template.Context) -> int:
    """How many proposals wait for this user's approval (the navigation's badge)."""
    request: HttpRequest | None = context.get("request")
    if request is None or not request.user.is_authenticated:
        return 0
    cached = getattr(request, "_approval_count", None)
    if cached is None:
        cached = awaiting_my_approval(request.user).count()
        request._approval_count = cached  # type: ignore[attr-defined]
    return int(cached)


@register.simple_tag(takes_context=True)
def can_submit(context: template.Context) -> bool:
    request: HttpRequest | None = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return tenants_with_role(request.user, SUBMIT_ROLES).exists()
