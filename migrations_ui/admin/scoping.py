"""Who sees what in the Django admin.

Superusers see everything. A tenant admin (membership role ``admin``) who is not a superuser
sees the audit trail, proposals, approvals, migration records and webhooks of the tenants they
administer, and nothing else: the admin classes ask ``admin_tenant_ids`` instead of Django's
permission tables, so access follows memberships the moment they change.

To reach the admin at all Django requires ``is_staff``. A membership with role admin grants it
(the signal below, and migration 0007 for existing memberships). It is never taken back here:
on its own, ``is_staff`` shows nothing (no model permissions are granted), so a former tenant
admin who keeps it sees an empty admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from migrations_ui.access import acts_as_admin_everywhere
from migrations_ui.models import Membership, Role

_CACHE_ATTR = "_sb_admin_tenant_ids"


def admin_tenant_ids(request: HttpRequest) -> frozenset[int] | None:
    """The ids of the tenants the request's user administers; None means all (superuser).

    Cached on the request: a changelist asks several times (queryset, filters, permissions).
    """
    if hasattr(request, _CACHE_ATTR):
        cached: frozenset[int] | None = getattr(request, _CACHE_ATTR)
        return cached
    user = request.user
    ids: frozenset[int] | None
    if not user.is_active or not user.is_authenticated:
        ids = frozenset()
    elif acts_as_admin_everywhere(user):
        ids = None
    else:
        ids = frozenset(
            Membership.objects.filter(user_id=user.pk, role=Role.ADMIN).values_list(
                "tenant_id", flat=True
            )
        )
    setattr(request, _CACHE_ATTR, ids)
    return ids


def sees_any(request: HttpRequest) -> bool:
    """Whether the user administers at least one tenant (or is a superuser)."""
    ids = admin_tenant_ids(request)
    return ids is None or bool(ids)


def sees_tenant(request: HttpRequest, tenant_id: int | None) -> bool:
    """Whether the user administers this tenant (or is a superuser)."""
    ids = admin_tenant_ids(request)
    return ids is None or tenant_id in ids


@receiver(post_save, sender=Membership, dispatch_uid="membership_admin_grants_staff")
def _admin_membership_grants_staff(sender: Any, instance: Membership, **kwargs: Any) -> None:
    if instance.role == Role.ADMIN:
        get_user_model().objects.filter(pk=instance.user_id, is_staff=False).update(is_staff=True)
