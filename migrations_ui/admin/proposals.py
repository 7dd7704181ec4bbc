"""Proposals, approvals and migration records in the admin: read-only for everyone."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from migrations_ui.admin.csv_export import CsvExportMixin
from migrations_ui.admin.tools import (
    ReadOnlyAdmin,
    actor_filter,
    as_id_range,
    as_int,
    as_uuid,
    as_version,
    change_link,
    change_link_by_id,
    changelist_link,
    collapsed,
    json_html,
    sql_html,
    target_filter,
    tenant_filter,
)
from migrations_ui.models import Approval, AuditEvent, MigrationRecord, Proposal
from migrations_ui.models.proposal_rows import LARGE_FIELDS


@admin.register(Proposal)
class ProposalAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "short_id",
        "tenant",
        "target_env",
        "schema_version",
        "status",
        "submitted_by",
        "source",
        "events_link",
    ]
    list_display_links = ["created_at", "short_id"]
    list_filter = [
        tenant_filter(),
        target_filter(),
        "status",
        "source",
        "force_apply",
        actor_filter("submitted_by__username"),
    ]
    search_fields = ["schema_version"]
    search_help_text = (
        "A version (or its beginning), words of the description, a submitter, a proposal id."
    )
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["tenant", "target", "submitted_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        # The list shows none of the large columns (a page of 50 plans is tens of megabytes);
        # the change page reads them.
        match = request.resolver_match
        if match is not None and str(match.url_name).endswith("_changelist"):
            return qs.defer(*LARGE_FIELDS)
        return qs

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "tenant",
                    "target",
                    "status",
                    "schema_version",
                    "description",
                    "submitted_by",
                    "source",
                    "force_apply",
                    "is_dangerous",
                    "error",
                    "review_reason",
                ]
            },
        ),
        (
            "Trail",
            {"fields": ["audit_events", "approvals_list", "migration_records"]},
        ),
        ("Plan", {"fields": ["sql_pretty", "hazards_pretty", "plan_checksum", "plan_pretty"]}),
        (
            "Request",
            {
                "fields": [
                    "idempotency_key",
                    "caller_key",
                    "run_id",
                    "actor_id",
                    "schema_hash",
                    "base_snapshot_hash",
                    "envelope_pretty",
                    "blueprint_pretty",
                ]
            },
        ),
        (
            "Outcome",
            {
                "fields": [
                    "result_pretty",
                    "timings_pretty",
                    "attempts",
                    "created_at",
                    "updated_at",
                    "planned_at",
                    "started_at",
                    "finished_at",
                ]
            },
        ),
    ]
    readonly_fields = [
        "audit_events",
        "approvals_list",
        "migration_records",
        "sql_pretty",
        "hazards_pretty",
        "plan_pretty",
        "envelope_pretty",
        "blueprint_pretty",
        "result_pretty",
        "timings_pretty",
    ]
    csv_columns = [
        ("id", lambda p: p.pk),
        ("created_at", lambda p: p.created_at.isoformat()),
        ("tenant", lambda p: p.tenant.slug),
        ("target", lambda p: p.target.environment),
        ("version", lambda p: p.schema_version),
        ("description", lambda p: p.description),
        ("status", lambda p: p.status),
        ("submitted_by", lambda p: p.submitted_by.get_username()),
        ("source", lambda p: p.source),
        ("force_apply", lambda p: p.force_apply),
        ("plan_checksum", lambda p: p.plan_checksum),
        ("finished_at", lambda p: p.finished_at.isoformat() if p.finished_at else ""),
        ("error", lambda p: p.error),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if (pk := as_uuid(term)) is not None:
            return queryset.filter(pk=pk), False
        match = (
            Q(schema_version__startswith=as_version(term))
            | Q(description__icontains=term)
            | Q(submitted_by__username__startswith=term)
            | Q(idempotency_key=term)
        )
        if (ids := as_id_range(term)) is not None:
            match |= Q(pk__range=ids)
        return queryset.filter(match), False

    @admin.display(description="id")
    def short_id(self, proposal: Proposal) -> str:
        return str(proposal.pk)[:8]

    @admin.display(description="target", ordering="target__environment")
    def target_env(self, proposal: Proposal) -> str:
        return proposal.target.environment

    @admin.display(description="events")
    def events_link(self, proposal: Proposal) -> str:
        return changelist_link(AuditEvent, {"proposal__exact": proposal.pk}, "events")

    @admin.display(description="audit events")
    def audit_events(self, proposal: Proposal) -> SafeString:
        events = list(proposal.audit_events.order_by("id").only("pk", "action", "created_at"))
        rows = format_html_join(
            "",
            "<li>{} · {}</li>",
            (
                (change_link(e, f"#{e.pk} {e.action}"), e.created_at.strftime("%Y-%m-%d %H:%M:%S"))
                for e in events
            ),
        )
        return format_html(
            "<ul>{}</ul>{}",
            rows,
            changelist_link(AuditEvent, {"proposal__exact": proposal.pk}, "as a list"),
        )

    @admin.display(description="approvals")
    def approvals_list(self, proposal: Proposal) -> SafeString:
        approvals = proposal.approvals.select_related("approver").order_by("id")
        if not approvals:
            return format_html("{}", "none")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{} by {}{}</li>",
                (
                    (
                        change_link(a, a.get_decision_display()),
                        a.approver.get_username(),
                        f" (voided: {a.void_reason})" if a.voided_at else "",
                    )
                    for a in approvals
                ),
            ),
        )

    @admin.display(description="migration records")
    def migration_records(self, proposal: Proposal) -> SafeString:
        records = proposal.migration_records.order_by("id").only("pk", "status", "version")
        if not records:
            return format_html("{}", "none")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}</li>",
                ((change_link(r, f"{r.log_id} v{r.version} {r.status}"),) for r in records),
            ),
        )

    @admin.display(description="SQL")
    def sql_pretty(self, proposal: Proposal) -> SafeString:
        return sql_html(proposal.plan_sql)

    @admin.display(description="hazards")
    def hazards_pretty(self, proposal: Proposal) -> SafeString:
        return json_html(proposal.hazards)

    @admin.display(description="plan")
    def plan_pretty(self, proposal: Proposal) -> SafeString:
        return collapsed("the whole plan (JSON)", json_html(proposal.plan))

    @admin.display(description="envelope")
    def envelope_pretty(self, proposal: Proposal) -> SafeString:
        return collapsed("the envelope as received", json_html(proposal.envelope))

    @admin.display(description="blueprint")
    def blueprint_pretty(self, proposal: Proposal) -> SafeString:
        return collapsed("the normalized blueprint", json_html(proposal.blueprint))

    @admin.display(description="result")
    def result_pretty(self, proposal: Proposal) -> SafeString:
        return json_html(proposal.result)

    @admin.display(description="timings")
    def timings_pretty(self, proposal: Proposal) -> SafeString:
        return collapsed("timings per statement", json_html(proposal.timings))


@admin.register(Approval)
class ApprovalAdmin(CsvExportMixin, ReadOnlyAdmin):
    tenant_path = "proposal__tenant"
    list_display = [
        "created_at",
        "proposal_link",
        "tenant",
        "approver",
        "decision",
        "voided_at",
    ]
    list_filter = [
        tenant_filter("proposal__tenant"),
        target_filter("proposal__target"),
        "decision",
        actor_filter("approver__username"),
    ]
    search_fields = ["approver__username"]
    search_help_text = "An approver (name or its beginning), a proposal id, words of the comment."
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["approver", "proposal", "proposal__tenant"]
    fields = [
        "proposal_link",
        "tenant",
        "approver",
        "submitter",
        "decision",
        "comment",
        "acknowledged_pretty",
        "plan_checksum",
        "created_at",
        "voided_at",
        "void_reason",
    ]
    readonly_fields = ["proposal_link", "tenant", "acknowledged_pretty"]
    csv_columns = [
        ("created_at", lambda a: a.created_at.isoformat()),
        ("proposal", lambda a: a.proposal_id),
        ("tenant", lambda a: a.proposal.tenant.slug),
        ("approver", lambda a: a.approver.get_username()),
        ("decision", lambda a: a.decision),
        ("comment", lambda a: a.comment),
        ("plan_checksum", lambda a: a.plan_checksum),
        ("voided_at", lambda a: a.voided_at.isoformat() if a.voided_at else ""),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if (pk := as_uuid(term)) is not None:
            return queryset.filter(proposal_id=pk), False
        match = Q(approver__username__startswith=term) | Q(comment__icontains=term)
        return queryset.filter(match), False

    @admin.display(description="proposal", ordering="proposal_id")
    def proposal_link(self, approval: Approval) -> str:
        return change_link(approval.proposal, str(approval.proposal))

    @admin.display(description="tenant")
    def tenant(self, approval: Approval) -> str:
        return approval.proposal.tenant.slug

    @admin.display(description="acknowledged hazards")
    def acknowledged_pretty(self, approval: Approval) -> SafeString:
        return json_html(approval.acknowledged_hazards)


@admin.register(MigrationRecord)
class MigrationRecordAdmin(CsvExportMixin, ReadOnlyAdmin):
    list_display = [
        "created_at",
        "log_id",
        "tenant",
        "target_env",
        "version",
        "status",
        "applied_by",
        "proposal_link",
    ]
    list_display_links = ["created_at", "log_id"]
    list_filter = [
        tenant_filter(),
        target_filter(),
        "status",
        actor_filter("applied_by"),
    ]
    search_fields = ["version"]
    search_help_text = (
        "A version (or its beginning), words of the description, who applied it, "
        "a proposal id, a migration log id (ml_12)."
    )
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["tenant", "target"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "log_id",
                    "tenant",
                    "target",
                    "proposal_link",
                    "version",
                    "description",
                    "status",
                    "applied_by",
                    "created_at",
                    "checksum",
                    "schema_hash",
                    "error_message",
                ]
            },
        ),
        ("What ran", {"fields": ["sql_pretty", "metadata_pretty"]}),
        ("Schema after", {"fields": ["managed_tables", "snapshot_hash", "snapshot_pretty"]}),
    ]
    readonly_fields = [
        "log_id",
        "proposal_link",
        "sql_pretty",
        "metadata_pretty",
        "snapshot_pretty",
    ]
    csv_columns = [
        ("log_id", lambda r: r.log_id),
        ("created_at", lambda r: r.created_at.isoformat()),
        ("tenant", lambda r: r.tenant.slug),
        ("target", lambda r: r.target.environment),
        ("version", lambda r: r.version),
        ("description", lambda r: r.description),
        ("status", lambda r: r.status),
        ("applied_by", lambda r: r.applied_by),
        ("proposal", lambda r: r.proposal_id),
        ("checksum", lambda r: r.checksum),
        ("error", lambda r: r.error_message),
        ("sql", lambda r: r.sql_script),
    ]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if (pk := as_uuid(term)) is not None:
            return queryset.filter(proposal_id=pk), False
        match = (
            Q(version__startswith=as_version(term))
            | Q(description__icontains=term)
            | Q(applied_by__startswith=term)
        )
        if (ids := as_id_range(term)) is not None:
            match |= Q(proposal_id__gte=ids[0], proposal_id__lte=ids[1])
        if (number := as_int(term, "ml_")) is not None:
            match |= Q(pk=number)
        return queryset.filter(match), False

    @admin.display(description="migration log id", ordering="id")
    def log_id(self, record: MigrationRecord) -> str:
        return record.log_id

    @admin.display(description="target", ordering="target__environment")
    def target_env(self, record: MigrationRecord) -> str:
        return record.target.environment

    @admin.display(description="proposal", ordering="proposal_id")
    def proposal_link(self, record: MigrationRecord) -> str:
        if record.proposal_id is None:
            return "—"
        return change_link_by_id(Proposal, record.proposal_id, str(record.proposal_id)[:8])

    @admin.display(description="SQL")
    def sql_pretty(self, record: MigrationRecord) -> SafeString:
        return sql_html(record.sql_script)

    @admin.display(description="metadata")
    def metadata_pretty(self, record: MigrationRecord) -> SafeString:
        return json_html(record.metadata)

    @admin.display(description="snapshot")
    def snapshot_pretty(self, record: MigrationRecord) -> SafeString:
        if record.snapshot is None:
            return json_html(None)
