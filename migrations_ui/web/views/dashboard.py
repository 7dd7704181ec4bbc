"""HTML views (thin: access checks here, rules in the workflow and the models' guards)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from migrations_ui.access import tenants_for
from migrations_ui.models import (
    MigrationRecord,
    Proposal,
    ProposalStatus,
    Target,
    Tenant,
    WorkerHeartbeat,
)
from migrations_ui.models.proposals import FINAL_STATES
from migrations_ui.web.views.base import awaiting_my_approval
from migrations_ui.workflow import health as target_health
from schemabuilder.engine import safe_message

LATEST_FAILURES = 5


# What the dashboard shows of a version: never its snapshot, SQL or metadata.
RECORD_FIELDS = ("pk", "version", "status", "applied_by", "created_at", "proposal_id")


def _target_rows(tenants: list[Tenant]) -> dict[int, list[dict[str, object]]]:
    """Per tenant, what the dashboard says about each target: where it is (its current
    version), what happened last, how many proposals move. Two queries, whatever the
    number of tenants and targets."""
    records = MigrationRecord.objects.filter(target=OuterRef("pk")).order_by("-created_at")
    targets = list(
        Target.objects.filter(tenant__in=tenants).annotate(
            current_id=Subquery(records.filter(status="success").values("pk")[:1]),
            last_id=Subquery(records.values("pk")[:1]),
            in_flight=Count("proposals", filter=~Q(proposals__status__in=FINAL_STATES)),
        )
    )
    wanted = {t.current_id for t in targets} | {t.last_id for t in targets}
    shown = MigrationRecord.objects.filter(pk__in=wanted - {None}).only(*RECORD_FIELDS)
    by_id = {r.pk: r for r in shown}
    rows: dict[int, list[dict[str, object]]] = {}
    for t in targets:
        rows.setdefault(t.tenant_id, []).append(
            {
                "target": t,
                "current": by_id.get(t.current_id),
                "last": by_id.get(t.last_id),
                "in_flight": t.in_flight,
            }
        )
    return rows


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    tenants = list(tenants_for(request.user))
    targets = _target_rows(tenants)
    rows = [{"tenant": tenant, "targets": targets.get(tenant.pk, [])} for tenant in tenants]
    visible = (
        Proposal.objects.filter(tenant__in=tenants)
        .select_related("tenant", "target", "submitted_by")
        .lean()
    )
    context = {
        "rows": rows,
        "awaiting": awaiting_my_approval(request.user)
        .select_related("tenant", "target", "submitted_by")
        .lean()
        .order_by("created_at")[:10],
        "failures": visible.filter(status=ProposalStatus.FAILED).order_by("-finished_at")[
            :LATEST_FAILURES
        ],
        "mine": visible.filter(submitted_by=request.user)
        .exclude(status__in=FINAL_STATES)
        .order_by("-created_at")[:10],
    }
    return render(request, "migrations_ui/dashboard.html", context)


def _worker_state() -> dict[str, object]:
    """Up when a worker process heartbeated recently (procrastinate's own table)."""
    stale = timezone.now() - timedelta(seconds=settings.WORKER_STALE_SECONDS)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), max(last_heartbeat) FROM procrastinate_workers"
            " WHERE last_heartbeat >= %s",
            [stale],
        )
        alive, last = cur.fetchone()
    last_job = (
        WorkerHeartbeat.objects.order_by("-beat_at").values_list("beat_at", flat=True).first()
    )
    return {
        "up": alive > 0,
        "processes": alive,
        "last_heartbeat": last.isoformat() if last else None,
        "last_job_heartbeat": last_job.isoformat() if last_job else None,
    }


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON for load balancers and for `make run` to know when it is ready."""
    body: dict[str, object] = {}
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
        body["database"] = {"up": True}
        body["worker"] = _worker_state()
        # Warnings only: a target role with too many rights does not make the app "down".
        body["target_warnings"] = target_health.all_warnings()
    except Exception as exc:  # any database failure means "down", with the reason
        # Public: the reason in our words, never the server's (it names host, port, role).
        body["database"] = {"up": False, "error": safe_message(exc)}
        body["worker"] = {"up": False, "error": "unknown: database down"}
    ok = bool(body["database"]["up"]) and bool(body["worker"]["up"])  # type: ignore[index]
    body["status"] = "ok" if ok else "degraded"
    return JsonResponse(body, status=200 if ok else 503)
