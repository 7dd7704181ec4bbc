"""Bring a target's live schema in as its baseline version.

The target's tables are imported (``import_schema``, in one READ ONLY transaction on the
target), wrapped in an envelope and submitted like any blueprint: validated, stored, planned
and audited. Planned with its own tables managed, the import is an empty plan, so the proposal
ends ``noop``, and its record is the target's first version: later blueprints plan against it
and their versions go up from it. What the blueprint cannot say is kept with the proposal's
result and the record (``left_out``), never dropped.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg
from django.contrib.auth.models import AbstractBaseUser

from migrations_ui.models import MigrationRecord, MigrationStatus, NotAllowedError, Proposal, Target
from migrations_ui.models.tenancy import Role
from migrations_ui.workflow import engine_bridge as bridge
from migrations_ui.workflow import submission, version_rule
from schemabuilder.engine import ImportResult, import_schema, safe_message

FIRST_VERSION = "001"


class BaselineRefused(Exception):
    """The target cannot take a baseline now (it has versions, or nothing to import)."""


@dataclass(frozen=True)
class Baseline:
    proposal: Proposal
    tables: list[str]
    left_out: list[dict[str, Any]]


def current_version(target: Target) -> str | None:
    return (
        MigrationRecord.objects.filter(target=target, status=MigrationStatus.SUCCESS)
        .order_by("-created_at", "-pk")
        .values_list("version", flat=True)
        .first()
    )


def import_baseline(
    target: Target,
    user: AbstractBaseUser,
    *,
    tables: Collection[str] | None = None,
    fence: str | None = None,
    version: str | None = None,
    over_history: bool = False,
    source: str = "form",
) -> Baseline:
    """Import ``target``'s live schema and record it as its baseline version.

    ``fence``: a column, ``"none"``, or None for the importer's choice. ``version``: default
    ``001``, or the version after the current one when ``over_history``. A target that already
    has applied versions is refused unless ``over_history`` (its managed tables are then
    whatever the import holds). Only a tenant admin may do it."""
    if target.tenant.role_of(user) != Role.ADMIN:
        raise NotAllowedError("Only a tenant admin can bring in the live schema.")
    current = current_version(target)
    if current is not None and not over_history:
        raise BaselineRefused(
            f"{target.environment} already has applied versions (current: {current}): a "
            "baseline is the first version of a target. Submit a blueprint as the next version."
        )
    chosen = version or (version_rule.next_version(current) if current else FIRST_VERSION)
    result = _read(target, tables, fence)
    names = [t["name"] for t in result.payload["tables"]]
    if not names:
        raise BaselineRefused(
            f"Nothing to import: schema {target.schema_name} has no table a blueprint can say."
        )
    left_out = [item.to_json() for item in result.left_out]
    payload = {
        **result.payload,
        "schema_version": chosen,
        "description": f"baseline: imported {len(names)} table{'' if len(names) == 1 else 's'}",
    }
    slug = target.tenant.slug
    envelope = {
        "meta": {"workflow_name": "WF106", "trigger_source": source, "tenant_id": slug},
        "subject": {"tenant_id": slug},
        "payload": payload,
    }
    done = submission.submit(
        user=user,
        envelope=envelope,
        source=source,
        environment=target.environment,
        # "after": the version the import was made over; settling checks it still is.
        baseline={
            "tables": names,
            "left_out": left_out,
            "notes": list(result.notes),
            "after": current,
        },
    )
    return Baseline(done.proposal, names, left_out)


def _read(target: Target, tables: Collection[str] | None, fence: str | None) -> ImportResult:
    chosen: str | None = "auto" if fence is None else None if fence == "none" else fence
    try:
        with bridge.connect(target) as conn, conn.transaction():
            conn.execute("SET TRANSACTION READ ONLY")
            return import_schema(
                conn, target.schema_name, tables=list(tables) if tables else None, fence=chosen
            )
    except psycopg.Error as exc:
        raise bridge.TargetUnavailable(
            safe_message(exc, where=f"Cannot import from target {target}")
        ) from exc
