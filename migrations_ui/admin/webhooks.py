"""The Django admin for outbound webhooks: endpoints (editable, tenant-scoped) and their
delivery log (read-only). Registered by importing this module from ``migrations_ui.admin``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from migrations_ui.admin.csv_export import CsvExportMixin
from migrations_ui.admin.scoping import admin_tenant_ids, sees_any, sees_tenant
from migrations_ui.admin.tools import (
    ReadOnlyAdmin,
    TenantScopedAdmin,
    change_link,
    changelist_link,
    json_html,
    tenant_filter,
)
from migrations_ui.audit.outbound import PING
from migrations_ui.models import (
    Tenant,
)
from migrations_ui.models.integrations import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)

# ---- outbound webhooks ------------------------------------------------------------------------


class EventTypeFilter(admin.SimpleListFilter):
    """Event types from the vocabulary: no SELECT DISTINCT over the delivery log."""

    title = "event type"
    parameter_name = "event_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*EventType.choices, (PING, "Test event (ping)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(event_type=self.value()) if self.value() else queryset


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["tenant", "url", "secret", "event_types", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(TenantScopedAdmin):
    """Tenant admins manage their own tenants' endpoints; superusers everyone's."""

    form = WebhookEndpointForm
    list_display = ["url", "tenant", "subscribed", "is_active", "created_at", "deliveries_link"]
    list_filter = [tenant_filter(), "is_active"]
    search_fields = ["url"]
    list_select_related = ["tenant"]
    ordering = ["tenant__slug", "url"]
    actions = ["send_test_event"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return sees_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_any(request) if obj is None else sees_tenant(request, obj.tenant_id)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "tenant":
            ids = admin_tenant_ids(request)
            if ids is not None:
                kwargs["queryset"] = Tenant.objects.filter(pk__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="events")
    def subscribed(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types) if endpoint.event_types else "all"

    @admin.display(description="deliveries")
    def deliveries_link(self, endpoint: WebhookEndpoint) -> str:
        return changelist_link(WebhookDelivery, {"endpoint__exact": endpoint.pk}, "log")

    @admin.action(description="Send a test event (ping)")
    def send_test_event(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from migrations_ui.audit.outbound import send_test_event

        sent = sum(1 for endpoint in queryset if send_test_event(endpoint) is not None)
        self.message_user(request, f"Queued a test event to {sent} endpoint(s).", messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(CsvExportMixin, ReadOnlyAdmin):
    """The delivery log: every event sent to every endpoint, with each attempt."""

    tenant_path = "endpoint__tenant"
    list_display = [
        "created_at",
        "event_type",
        "event_id",
        "endpoint_link",
        "status",
        "attempt_count",
        "last_answer",
        "delivered_at",
    ]
    list_filter = [
        tenant_filter("endpoint__tenant"),
        "status",
        EventTypeFilter,
    ]
    search_fields = ["event_id"]
    search_help_text = "An event id (evt_123)."
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["endpoint", "endpoint__tenant"]
    fields = [
        "endpoint_link",
        "event_type",
        "event_id",
        "status",
        "created_at",
        "delivered_at",
        "job_id",
        "attempts_pretty",
        "payload_pretty",
    ]
    readonly_fields = ["endpoint_link", "attempts_pretty", "payload_pretty"]
    actions = ["send_again"]
    csv_columns = [
        ("created_at", lambda d: d.created_at.isoformat()),
        ("tenant", lambda d: d.endpoint.tenant.slug),
        ("endpoint", lambda d: d.endpoint.url),
        ("event_type", lambda d: d.event_type),
        ("event_id", lambda d: d.event_id),
        ("status", lambda d: d.status),
        ("attempts", lambda d: d.attempt_count),
        ("delivered_at", lambda d: d.delivered_at.isoformat() if d.delivered_at else ""),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        return (queryset.filter(event_id=term), False) if term else (queryset, False)

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return sees_any(request)

    @admin.display(description="endpoint")
    def endpoint_link(self, delivery: WebhookDelivery) -> str:
        return change_link(delivery.endpoint, str(delivery.endpoint))

    @admin.display(description="attempts")
    def attempt_count(self, delivery: WebhookDelivery) -> int:
        return delivery.attempt_count

    @admin.display(description="last answer")
    def last_answer(self, delivery: WebhookDelivery) -> str:
        if not delivery.attempts:
            return "—"
        last = delivery.attempts[-1]
        return str(last.get("status_code") or last.get("error") or "—")[:80]

    @admin.display(description="attempts")
    def attempts_pretty(self, delivery: WebhookDelivery) -> SafeString:
        return json_html(delivery.attempts)

    @admin.display(description="payload")
    def payload_pretty(self, delivery: WebhookDelivery) -> SafeString:
        return json_html(delivery.payload)

    @admin.action(description="Send again", permissions=["redeliver"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        from migrations_ui.audit.outbound import defer_delivery

        count = 0
        for delivery in queryset.exclude(status=DeliveryStatus.SUCCEEDED):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.PENDING)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                job_id=defer_delivery(delivery.pk)
            )
            count += 1
        self.message_user(request, f"Queued {count} delivery(ies) again.", messages.SUCCESS)
