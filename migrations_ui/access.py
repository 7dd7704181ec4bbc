"""Who may see and do what. Views and the API ask here; nothing else decides access."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.http import Http404

from migrations_ui.models import Role, Tenant


def tenants_for(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Tenant]:
    """Tenants the user is a member of (superusers: all)."""
    if not user.is_authenticated:
        return Tenant.objects.none()
    if getattr(user, "is_superuser", False):
        return Tenant.objects.all()
    return Tenant.objects.filter(memberships__user=user).distinct()


def role_in(user: AbstractBaseUser | AnonymousUser, tenant: Tenant) -> Role | None:
    return tenant.role_of(user)


def get_tenant_for_user(user: AbstractBaseUser | AnonymousUser, slug: str) -> Tenant:
    """The tenant, or 404 when the user is not a member: tenants cannot be discovered."""
    tenant = tenants_for(user).filter(slug=slug).first()
    if tenant is None:
        raise Http404("No such tenant")
    return tenant
