"""Who may see and do what. Views, the API and the admin ask here; nothing else decides access.

The roles of a membership grow: a submitter submits, an approver also approves, an admin also
cancels anyone's proposal and administers the tenant. A superuser acts as an admin in every
tenant where they hold no membership of their own.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from migrations_ui.models import Role, Tenant
from migrations_ui.models.tenancy import APPROVE_ROLES, SUBMIT_ROLES, acts_as_admin_everywhere

__all__ = [
    "APPROVE_ROLES",
    "SUBMIT_ROLES",
    "acts_as_admin_everywhere",
    "get_tenant_for_user",
    "tenants_for",
    "tenants_with_role",
]


def tenants_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants the user is a member of (superusers: all)."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    if acts_as_admin_everywhere(user):
        return Tenant.objects.all()
    return Tenant.objects.filter(memberships__user=user).distinct()


def tenants_with_role(
    user: AbstractBaseUser | AnonymousUser, roles: tuple[Role, ...]
) -> QuerySet[Tenant]:
    """Tenants where the user holds one of ``roles``. A superuser acts as admin wherever they
    hold no membership of their own (the same rule as ``Tenant.role_of``)."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    mine = Q(memberships__user=user, memberships__role__in=roles)
    if acts_as_admin_everywhere(user) and Role.ADMIN in roles:
        mine |= ~Q(memberships__user=user)
    return Tenant.objects.filter(mine).distinct()


def get_tenant_for_user(user: AbstractBaseUser | AnonymousUser, slug: str) -> Tenant:
    """The tenant, or 404 when the user is not a member: tenants cannot be discovered."""
    tenant = tenants_for(user).filter(slug=slug).first()
    if tenant is None:
        raise Http404("No such tenant")
    return tenant
