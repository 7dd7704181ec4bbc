"""The audit trail in the admin: read-only, searchable by indexed columns only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from migrations_ui.admin.csv_export import CsvExportMixin
from migrations_ui.admin.tools import (
    ActionFilter,
    ReadOnlyAdmin,
    actor_filter,
    as_id_range,
    as_int,
    as_uuid,
    change_link,
    change_link_by_id,
    changelist_link,
    json_html,
    json_text,
    short,
    target_filter,
    tenant_filter,
)
from migrations_ui.models import AuditEvent, Proposal
from migrations_ui.models.audit import GENESIS, GLOBAL_CHAIN


@admin.register(AuditEvent)
class AuditEventAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "tenant",
        "action",
        "actor_name",
        "proposal_link",
        "request_link",
    ]
    list_filter = [
        tenant_filter(),
        target_filter("proposal__target"),
        ActionFilter,
        actor_filter("actor_name", system=True),
    ]
    # The search box needs one entry here; the search itself is get_search_results below.
    search_fields = ["actor_name"]
    search_help_text = (
        "An actor (name or its beginning), a proposal id, a request id, or an event number."
    )
    date_hierarchy = "created_at"
    # Newest first by time (the id breaks ties): the created_at indexes then serve the
    # tenant filter, the date drill-down and the unfiltered list alike. Within a tenant,
    # time order is chain order.
    ordering = ["-created_at", "-id"]
    list_select_related = ["tenant"]
    fields = [
        "id",
        "tenant",
        "created_at",
        "action",
        "actor_name",
        "proposal_link",
        "request_link",
        "data_pretty",
        "previous_event",
        "hash",
        "integrity",
    ]
    readonly_fields = fields
    csv_columns = [
        ("id", lambda e: e.pk),
        ("created_at", lambda e: e.created_at.isoformat()),
        ("tenant", lambda e: e.tenant.slug if e.tenant else GLOBAL_CHAIN),
        ("action", lambda e: e.action),
        ("actor", lambda e: e.actor_name),
        ("proposal", lambda e: e.proposal_id),
        ("request_id", lambda e: e.request_id),
        ("data", lambda e: json_text(e.data)),
        ("prev_hash", lambda e: e.prev_hash),
        ("hash", lambda e: e.hash),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # Each alternative is an equality or a prefix on an indexed column, so a search on a
        # million events reads index entries, never the table.
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q(actor_name__startswith=term) | Q(request_id=term)
        if (pk := as_uuid(term)) is not None:
            match |= Q(proposal_id=pk) | Q(request_id=pk.hex)
        if (number := as_int(term)) is not None:
            match |= Q(pk=number)
        if (ids := as_id_range(term)) is not None:
            match |= Q(proposal_id__gte=ids[0], proposal_id__lte=ids[1])
        return queryset.filter(match), False

    @admin.display(description="proposal", ordering="proposal_id")
    def proposal_link(self, event: AuditEvent) -> str:
        if event.proposal_id is None:
            return "—"
        return change_link_by_id(Proposal, event.proposal_id, str(event.proposal_id)[:8])

    @admin.display(description="request")
    def request_link(self, event: AuditEvent) -> str:
        if not event.request_id:
            return "—"
        return changelist_link(
            AuditEvent, {"request_id__exact": event.request_id}, short(event.request_id)
        )

    @admin.display(description="data")
    def data_pretty(self, event: AuditEvent) -> SafeString:
        return json_html(event.data)

    @admin.display(description="previous event")
    def previous_event(self, event: AuditEvent) -> str:
        if event.prev_hash == GENESIS:
            return format_html("{} (the first event of the tenant)", event.prev_hash)
        previous = AuditEvent.objects.filter(hash=event.prev_hash).only("pk", "action").first()
        if previous is None:
            return format_html("{} (removed by retention or missing)", event.prev_hash)
        return format_html(
            "{} ({})", event.prev_hash, change_link(previous, f"#{previous.pk} {previous.action}")
        )

    @admin.display(description="integrity")
    def integrity(self, event: AuditEvent) -> str:
        if event.compute_hash() == event.hash:
            return "The hash matches the content. (manage.py verify_audit checks the links too.)"
        return format_html('<strong class="sb-broken">{}</strong>', "HASH MISMATCH: edited.")
