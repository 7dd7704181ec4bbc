"""A tenant's history: per target, its versions, the schema at any version, the change
between any two, and the tables managed now (with their diagram)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from migrations_ui.access import SUBMIT_ROLES, get_tenant_for_user
from migrations_ui.models import MigrationRecord, Proposal, Role, Target, Tenant
from migrations_ui.models.proposals import FINAL_STATES
from migrations_ui.web.presenters import erd, review, sqltools, versions
from migrations_ui.web.presenters.approvers import approvers_of, who_line
from migrations_ui.web.views.base import render_partial
from migrations_ui.workflow import health as target_health

HISTORY_PAGE = 30


def _get_target(request: HttpRequest, tenant: Tenant, environment: str | None) -> Target:
    """The named target of a tenant the user belongs to (default target when unnamed)."""
    targets = tenant.targets.all()
    target = (
        targets.filter(environment=environment).first()
        if environment
        else (targets.filter(is_default=True).first() or targets.first())
    )
    if target is None:
        raise Http404("No such target")
    return target


def _get_record(target: Target, record_id: str | None) -> MigrationRecord | None:
    if not record_id:
        return None
    try:
        return versions.get_with_schema(target, int(record_id))
    except (ValueError, MigrationRecord.DoesNotExist):
        raise Http404("No such version") from None


@login_required
@require_GET
def tenant_detail(request: HttpRequest, slug: str) -> HttpResponse:
    tenant = get_tenant_for_user(request.user, slug)
    target = _get_target(request, tenant, request.GET.get("target"))
    current = versions.current(target)
    page = Paginator(versions.history(target), HISTORY_PAGE).get_page(request.GET.get("page"))
    snapshot = current.snapshot if current else None
    shown = [*page, *([current] if current else [])]
    approvers = approvers_of(r.proposal_id for r in shown)
    for record in shown:
        record.who = who_line(record.applied_by, approvers.get(record.proposal_id, []))
    role = tenant.role_of(request.user)
    context: dict[str, Any] = {
        "can_revert": role in SUBMIT_ROLES,
        # A baseline is a target's first version: offered only before there is one.
        "can_import": role == Role.ADMIN and current is None,
        "baseline": current.metadata if current and current.metadata.get("baseline") else None,
        "tenant": tenant,
        "targets": list(tenant.targets.all()),
        "target": target,
        "role": role,
        "role_warnings": target_health.warnings_for(target),
        "current": current,
        "page": page,
        "schema_versions": list(versions.with_schema(target)[:200]),
        "managed": review.schema_tables(snapshot),
        "in_flight": Proposal.objects.filter(target=target)
        .exclude(status__in=FINAL_STATES)
        .select_related("submitted_by")
        .lean(),
        "erd_svg": erd.render_svg(
            erd.from_snapshot(snapshot), label=f"Tables managed on {tenant.slug}/{target}"
        )
        if snapshot
        else "",
    }
    return render_partial(request, "migrations_ui/tenant_detail.html", context)


@login_required
@require_GET
def version_detail(request: HttpRequest, slug: str, environment: str, pk: int) -> HttpResponse:
    """The schema of a target as it was after one version."""
    tenant = get_tenant_for_user(request.user, slug)
    target = _get_target(request, tenant, environment)
    record = _get_record(target, str(pk))
    assert record is not None
    previous = (
        versions.with_schema(target)
        .filter(created_at__lt=record.created_at)
        .order_by("-created_at")
    ).first()
    context = {
        "tenant": tenant,
        "target": target,
        "record": record,
        "previous": previous,
        "tables": review.schema_tables(record.snapshot),
        "erd_svg": erd.render_svg(
            erd.from_snapshot(record.snapshot), label=f"Tables at version {record.version}"
        ),
        "sql_html": sqltools.highlight(record.sql_script, f"record-{record.checksum}")
        if record.sql_script
        else "",
    }
    return render_partial(request, "migrations_ui/version_detail.html", context)


@login_required
@require_GET
def version_compare(request: HttpRequest, slug: str, environment: str) -> HttpResponse:
    """The change between two versions (``from`` empty: from an empty schema), shown as a
    proposal's changes are."""
    tenant = get_tenant_for_user(request.user, slug)
    target = _get_target(request, tenant, environment)
    choices = list(versions.with_schema(target)[:200])
    newest = str(choices[0].pk) if choices else None
    after = _get_record(target, request.GET.get("to") or newest)
    if after is None:
        raise Http404("This target has no versions yet")
    before = _get_record(target, request.GET.get("from"))
    if "from" not in request.GET:
        earlier = next((r for r in choices if r.created_at < after.created_at), None)
        before = _get_record(target, str(earlier.pk)) if earlier else None
    comparison = versions.compare(before, after)
    desired = review.desired_tables({"desired": comparison.desired})
    context = {
        "tenant": tenant,
        "target": target,
        "choices": choices,
        "before": before,
        "after": after,
        "comparison": comparison,
        "summary": review.summary({"changes": comparison.changes}),
        "tables": review.table_views(comparison.changes, desired),
        "erd_svg": erd.render_svg(
            erd.from_changes(comparison.desired, comparison.changes),
            label=f"Tables at {after.version}, changes since "
            f"{before.version if before else 'an empty schema'}",
        ),
    }
    return render_partial(request, "migrations_ui/version_compare.html", context)
