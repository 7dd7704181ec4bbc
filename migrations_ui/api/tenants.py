"""Tenants for automation: who am I, my tenants, a tenant's history and its current schema."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from migrations_ui.access import tenants_for
from migrations_ui.api.auth import audit_token_write, request_token
from migrations_ui.api.errors import ApiError
from migrations_ui.api.proposals import detail, errors, proposal_url
from migrations_ui.api.schemas import (
    HistoryPage,
    ImportIn,
    ImportOut,
    MeOut,
    SchemaSnapshotOut,
    TenantOut,
    text_path,
    text_query,
)
from migrations_ui.models import MigrationRecord, MigrationStatus, Source, Target, Tenant
from migrations_ui.workflow.baseline import import_baseline

router = Router(tags=["tenants"])

TargetParam = Annotated[
    str | None, text_query("The target's environment; default: the tenant's default.")
]
SlugParam = Annotated[str, text_path("The tenant's slug (t_001).")]


def _tenant(user: Any, slug: str) -> Tenant:
    tenant = tenants_for(user).filter(slug=slug).first()
    if tenant is None:
        raise ApiError(404, "not_found", f"No tenant {slug!r} that you are a member of.")
    return tenant


def _target(tenant: Tenant, environment: str | None) -> Target:
    targets = tenant.targets.all()
    target = (
        targets.filter(environment=environment).first()
        if environment
        else targets.filter(is_default=True).first()
    )
    if target is None:
        known = ", ".join(t.environment for t in targets) or "none"
        wanted = f"environment {environment!r}" if environment else "a default target"
        raise ApiError(
            404, "not_found", f"Tenant {tenant.slug} has no {wanted} (targets: {known})."
        )
    return target


def tenant_json(tenant: Tenant, user: Any) -> dict[str, Any]:
    return {
        "slug": tenant.slug,
        "name": tenant.name,
        "role": tenant.role_of(user),
        "targets": [
            {"environment": t.environment, "schema_name": t.schema_name, "is_default": t.is_default}
            for t in tenant.targets.all()
        ],
    }


@router.get(
    "/me",
    response={200: MeOut, **errors(401, 429)},
    operation_id="whoAmI",
    summary="The caller: user, token and tenants",
)
def me(request: HttpRequest) -> dict[str, Any]:
    user = request.auth
    token = request_token(request)
    return {
        "username": user.get_username(),
        "token": (
            {
                "name": token.name,
                "prefix": token.prefix,
                "created_at": token.created_at,
                "last_used_at": token.last_used_at,
            }
            if token
            else None
        ),
        "tenants": [tenant_json(t, user) for t in tenants_for(user).prefetch_related("targets")],
    }


@router.get(
    "/tenants",
    response={200: list[TenantOut], **errors(401, 429)},
    operation_id="listTenants",
    summary="Your tenants, your role in each, and their targets",
)
def list_tenants(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        tenant_json(t, request.auth) for t in tenants_for(request.auth).prefetch_related("targets")
    ]


@router.get(
    "/tenants/{slug}/history",
    response={200: HistoryPage, **errors(400, 401, 404, 429)},
    operation_id="tenantHistory",
    summary="The tenant's migration log, newest first",
)
def history(
    request: HttpRequest,
    slug: SlugParam,
    target: Annotated[
        str | None, text_query("Only this target's environment (default: every target).")
    ] = None,
    status: MigrationStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    tenant = _tenant(request.auth, slug)
    qs = MigrationRecord.objects.filter(tenant=tenant)
    if target is not None:
        qs = qs.filter(target=_target(tenant, target))
    if status is not None:
        qs = qs.filter(status=status)
    page = (
        qs.select_related("target")
        # A list: the snapshots and scripts are read with the current schema, one at a time.
        .defer("snapshot", "sql_script", "metadata", "managed_tables")
        .order_by("-created_at", "-pk")[offset : offset + limit]
    )
    return {
        "tenant": tenant.slug,
        "count": qs.count(),
        "limit": limit,
        "offset": offset,
        "items": [
            {
                "migration_log_id": r.log_id,
                "target": r.target.environment,
                "version": r.version,
                "description": r.description,
                "status": r.status,
                "applied_by": r.applied_by,
                "checksum": r.checksum,
                "schema_hash": r.schema_hash,
                "snapshot_hash": r.snapshot_hash,
                "proposal_id": r.proposal_id,
                "error_message": r.error_message,
                "created_at": r.created_at,
            }
            for r in page
        ],
    }


@router.get(
    "/tenants/{slug}/schema",
    response={200: SchemaSnapshotOut, **errors(400, 401, 404, 429)},
    operation_id="tenantSchema",
    summary="The tenant's current managed schema (the snapshot after its latest change)",
)
def current_schema(
    request: HttpRequest, slug: SlugParam, target: TargetParam = None
) -> dict[str, Any]:
    tenant = _tenant(request.auth, slug)
    where = _target(tenant, target)
    record = (
        MigrationRecord.objects.filter(target=where, status=MigrationStatus.SUCCESS)
        .order_by("-created_at", "-pk")
        .first()
    )
    return {
        "tenant": tenant.slug,
        "target": where.environment,
        "version": record.version if record else None,
        "migration_log_id": record.log_id if record else None,
        "applied_at": record.created_at if record else None,
        "snapshot_hash": record.snapshot_hash if record else None,
        "tables": list(record.managed_tables) if record else [],
        "snapshot": record.snapshot if record else None,
    }


@router.post(
    "/tenants/{slug}/import",
    response={201: ImportOut, **errors(400, 401, 403, 404, 409, 429, 503)},
    operation_id="importBaseline",
    summary="Bring the target's live schema in as its baseline version (tenant admins)",
    description=(
        "Reads the target's schema (READ ONLY), submits it as a blueprint whose plan is empty "
        "and records it as the target's first version (001). left_out lists what the blueprint "
        "cannot say. 409 when the target already has applied versions."
    ),
)
def import_live_schema(
    request: HttpRequest, response: HttpResponse, slug: SlugParam, body: ImportIn
) -> Status[dict[str, Any]]:
    tenant = _tenant(request.auth, slug)
    target = _target(tenant, body.environment)
    done = import_baseline(
        target, request.auth, tables=body.tables, fence=body.fence, source=Source.API
    )
    audit_token_write(request, tenant=tenant, proposal=done.proposal, operation="import")
    response["Location"] = proposal_url(request, done.proposal)
    return Status(201, {**detail(request, done.proposal), "left_out": done.left_out})
