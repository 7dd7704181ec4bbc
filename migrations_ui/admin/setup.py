"""The setup models in the admin (tenants, targets, memberships, worker heartbeats): for
superusers, through Django's own permissions (memberships grant none of these)."""

from __future__ import annotations

from django.contrib import admin

from migrations_ui.admin.tools import SafeActionsMixin
from migrations_ui.models import Membership, Target, Tenant, WorkerHeartbeat


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [TargetInline, MembershipInline]


@admin.register(Target)
class TargetAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = [
        "tenant",
        "environment",
        "connection_alias",
        "schema_name",
        "apply_mode",
        "is_default",
    ]
    list_filter = ["environment", "apply_mode", "is_default"]
    search_fields = ["tenant__slug", "environment", "connection_alias"]


@admin.register(Membership)
class MembershipAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = ["user", "tenant", "role"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "tenant__slug"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(SafeActionsMixin, admin.ModelAdmin):
    list_display = ["worker", "beat_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


# ---- search helpers ---------------------------------------------------------------------------
