from django.contrib import admin

from migrations_ui.models import (
    Approval,
    AuditEvent,
    Membership,
    MigrationRecord,
    Proposal,
    Target,
    Tenant,
    WorkerHeartbeat,
)


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [TargetInline, MembershipInline]


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ["tenant", "environment", "connection_alias", "schema_name", "is_default"]
    list_filter = ["environment", "is_default"]
    search_fields = ["tenant__slug", "environment", "connection_alias"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "tenant", "role"]
    list_filter = ["role", "tenant"]
    search_fields = ["user__username", "tenant__slug"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["worker", "beat_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


# ---- the audit trail: read-only ------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """History is never edited from the admin: no add, change or delete."""

    show_full_result_count = False  # no full COUNT(*) on large tables

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "action", "actor_name", "proposal", "request_id"]
    list_filter = ["action", "tenant"]
    search_fields = ["actor_name", "action", "=request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "tenant",
        "target",
        "schema_version",
        "status",
        "submitted_by",
        "source",
    ]
    list_filter = ["status", "source", "tenant"]
    search_fields = ["schema_version", "description", "submitted_by__username", "idempotency_key"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant", "target", "target__tenant", "submitted_by"]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "proposal", "approver", "decision", "voided_at"]
    list_filter = ["decision"]
    list_select_related = ["approver", "proposal", "proposal__tenant"]


@admin.register(MigrationRecord)
class MigrationRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "tenant", "target", "version", "status", "applied_by"]
    list_filter = ["status", "tenant"]
    search_fields = ["version", "description", "applied_by"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant", "target", "target__tenant"]
