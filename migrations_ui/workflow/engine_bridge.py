"""The one module that converts between ORM rows and engine values, and opens target
connections. Views, the API, the worker and the commands go through here to reach the engine.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from migrations_ui.models import (
    AuditCheckpoint,
    CanonicalForm,
    MigrationRecord,
    Proposal,
    Target,
)
from migrations_ui.targets import target_url
from schemabuilder.engine import (
    ApplyOutcome,
    ApplyRequest,
    CanonicalKey,
    Issue,
    LockMode,
    LockRetry,
    LockRetryPolicy,
    NormalizedBlueprint,
    Phase,
    Plan,
    Reviewed,
    Snapshot,
    StageProgress,
    Statement,
    Table,
    apply_plan,
    fingerprints,
    introspect,
    plan,
    plan_signature,
    resume_apply,
    safe_message,
    scope_of,
    table_from_json,
    table_to_json,
)
from schemabuilder.engine import (
    read_marker as engine_read_marker,
)

CONNECT_TIMEOUT_S = 5


class TargetUnavailable(Exception):
    """The target's database cannot be reached (or its alias is not configured)."""


# ---- values ------------------------------------------------------------------------------


def blueprint_to_json(bp: NormalizedBlueprint) -> dict[str, Any]:
    return bp.model_dump(mode="json")


def blueprint_from_json(data: dict[str, Any]) -> NormalizedBlueprint:
    return NormalizedBlueprint.model_validate(data, strict=False)


def issues_json(issues: list[Issue]) -> list[dict[str, str]]:
    return [{"path": i.path, "message": i.message} for i in issues]


@dataclass(frozen=True)
class PlanResult:
    plan_json: dict[str, Any]
    sql: str
    checksum: str
    base_hash: str
    dangerous: bool


def plan_result(p: Plan, *, plan_ms: float | None = None) -> PlanResult:
    data = p.to_json()
    data["hazards"] = [
        {**hazard, "id": hazard_id(p.checksum, p.base_snapshot_hash, n, hazard)}
        for n, hazard in enumerate(data.get("hazards", []))
    ]
    data["hazard_signature"] = list(plan_signature(p))
    if plan_ms is not None:
        data["plan_ms"] = round(plan_ms, 1)
    return PlanResult(data, p.sql, p.checksum, p.base_snapshot_hash, p.is_dangerous)


def hazard_id(checksum: str, base_hash: str, n: int, hazard: Mapping[str, Any]) -> str:
    """The id an approver ticks: the hazard's place and kind, and a digest of the plan it
    belongs to (its SQL's checksum, the schema it was made against, the hazard's text). The
    same kind of hazard in another plan gets another id, so a tick never carries over to a
    plan the approver did not read."""
    digest = hashlib.sha256(
        "|".join(
            (
                checksum,
                base_hash,
                str(n),
                str(hazard.get("kind")),
                str(hazard.get("table")),
                str(hazard.get("message")),
            )
        ).encode()
    ).hexdigest()
    return f"h{n + 1}-{digest[:12]}"


def creation_counts(p: Plan) -> dict[str, int]:
    return creation_counts_from_json(p.to_json())


def creation_counts_from_json(plan_json: dict[str, Any]) -> dict[str, int]:
    """tables_created / indexes_created for the seed's output contract."""
    statements = plan_json.get("statements", [])
    return {
        "tables_created": sum(1 for s in statements if s.get("phase") == "create_tables"),
        "indexes_created": sum(1 for s in statements if s.get("phase") == "create_indexes"),
    }


class DbCanonicalCache:
    """The engine's canonical-form cache, kept in the app database (shared by every web and
    worker process), with a per-instance memo so one plan asks for each key once."""

    def __init__(self) -> None:
        self._memo: dict[CanonicalKey, Table | None] = {}

    def get_many(self, keys: Collection[CanonicalKey]) -> dict[CanonicalKey, Table]:
        """One query per server version (a plan has one) for every key not asked before."""
        wanted = [k for k in keys if k not in self._memo]
        for major in {k.server_major for k in wanted}:
            hashes = [k.definition_hash for k in wanted if k.server_major == major]
            rows = CanonicalForm.objects.filter(
                server_major=major, definition_hash__in=hashes
            ).values_list("definition_hash", "table")
            found = dict(rows)
            for h in hashes:
                self._memo[CanonicalKey(h, major)] = (
                    table_from_json(found[h]) if h in found else None
                )
        return {k: t for k in keys if (t := self._memo.get(k)) is not None}

    def put_many(self, entries: Mapping[CanonicalKey, Table]) -> None:
        """One INSERT for all of them; a key another process stored meanwhile is kept."""
        self._memo.update(entries)
        CanonicalForm.objects.bulk_create(
            [
                CanonicalForm(
                    definition_hash=key.definition_hash,
                    server_major=key.server_major,
                    table=table_to_json(table),
                )
                for key, table in entries.items()
            ],
            ignore_conflicts=True,
        )


# ---- connections ------------------------------------------------------------------------


def connect(target: Target) -> psycopg.Connection[Any]:
    url = target_url(target.connection_alias)
    if not url:
        raise TargetUnavailable(
            f"Target {target} uses connection alias {target.connection_alias!r}, but "
            f"TARGET_{target.connection_alias.upper()}_URL is not set on this server."
        )
    try:
        return psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="schemabuilder",
            autocommit=True,
        )
    except psycopg.OperationalError as exc:
        # libpq's text names the host, port, database and role: none of it is shown.
        raise TargetUnavailable(
            safe_message(exc, where=f"Cannot connect to target {target}")
        ) from exc


def target_lock_key(target: Target) -> int:
    """The advisory lock key of a target database schema (same for every worker)."""
    return zlib.crc32(f"schemabuilder:{target.connection_alias}:{target.schema_name}".encode())


def managed_tables(target: Target) -> set[str]:
    return MigrationRecord.managed_for(target)


def managed_types(target: Target) -> set[str]:
    return MigrationRecord.managed_types_for(target)


def managed_functions(target: Target) -> set[str]:
    return MigrationRecord.managed_functions_for(target)


# ---- engine calls -------------------------------------------------------------------------


def plan_proposal(proposal: Proposal, *, adopt: Collection[str] = ()) -> PlanResult:
    """``adopt``: tables planned as managed though no change recorded them yet (a baseline
    imported from the live schema)."""
    bp = blueprint_from_json(proposal.blueprint)
    started = time.perf_counter()
    managed = managed_tables(proposal.target) | set(adopt)
    types = managed_types(proposal.target)
    functions = managed_functions(proposal.target)
    schema = proposal.target.schema_name
    with connect(proposal.target) as conn:
        # Fingerprints first: a change between them and the plan only makes the worker plan
        # again; taken after, it could hide a change the plan did not see.
        prints = fingerprints(conn, schema, scope_of(bp, managed))
        p = plan(
            conn,
            bp,
            schema=schema,
            managed=managed,
            managed_types=types,
            managed_functions=functions,
            cache=DbCanonicalCache(),
            apply_mode=proposal.target.apply_mode,  # the blueprint's own apply_mode wins
        )
    result = plan_result(p, plan_ms=(time.perf_counter() - started) * 1000)
    result.plan_json["fingerprints"] = prints
    result.plan_json["managed"] = sorted(managed)
    result.plan_json["managed_types"] = sorted(types)
    result.plan_json["managed_functions"] = sorted(functions)
    return result


def reviewed_plan(proposal: Proposal) -> Reviewed | None:
    """The stored plan as the engine runs it, or None if it lacks what that needs (then the
    worker plans again)."""
    data = proposal.plan or {}
    if "fingerprints" not in data or "desired" not in data:
        return None
    if sorted(data.get("managed", [])) != sorted(managed_tables(proposal.target)):
        return None  # another change was applied since: plan again
    if sorted(data.get("managed_types", [])) != sorted(managed_types(proposal.target)):
        return None
    if sorted(data.get("managed_functions", [])) != sorted(managed_functions(proposal.target)):
        return None
    statements = tuple(
        Statement(
            sql=st["sql"],
            phase=Phase(st["phase"]),
            table=st.get("table", ""),
            reason=st.get("reason", ""),
            lock=LockMode(st.get("lock", LockMode.ACCESS_EXCLUSIVE)),
            statement_timeout_ms=st.get("statement_timeout_ms"),
            stage=int(st.get("stage", 1)),
            batch=int(st.get("batch", 0)),
        )
        for st in data.get("statements", [])
    )
    return Reviewed(
        statements=statements,
        desired=Snapshot.from_json(data["desired"]),
        desired_hash=data.get("desired_snapshot_hash") or Snapshot.from_json(data["desired"]).hash,
        dropped_tables=tuple(data.get("dropped_tables", [])),
        checksum=proposal.plan_checksum,
        sql=proposal.plan_sql,
        fingerprints=dict(data["fingerprints"]),
        base=Snapshot.from_json(data["base"]) if data.get("base") else None,
    )


def _apply_request(proposal: Proposal) -> ApplyRequest:
    target = proposal.target
    return ApplyRequest(
        proposal_id=str(proposal.pk),
        tenant_id=proposal.tenant.slug,
        schema=target.schema_name,
        managed=frozenset(managed_tables(target)),
        managed_types=frozenset(managed_types(target)),
        managed_functions=frozenset(managed_functions(target)),
        reviewed_checksum=proposal.plan_checksum,
        reviewed_base_hash=proposal.base_snapshot_hash,
        reviewed_statements=tuple(st["sql"] for st in proposal.plan_statements()),
        reviewed_hazards=tuple((proposal.plan or {}).get("hazard_signature", [])),
        # A person approved exactly this plan: a re-plan must come out the same, not merely
        # narrower (see ApplyRequest.exact).
        exact=proposal.approved_checksum() is not None,
        schema_hash=proposal.schema_hash,
        version=proposal.schema_version,
        description=proposal.description,
        applied_by=proposal.submitted_by.get_username(),
        lock_key=target_lock_key(target),
        lock_timeout_ms=target.lock_timeout_ms,
        statement_timeout_ms=target.statement_timeout_ms,
        # Each statement waits lock_timeout_ms for its locks, then gives way and tries again.
        lock_retry=LockRetryPolicy(
            lock_timeout_ms=target.lock_timeout_ms, max_attempts=target.lock_attempts
        ),
        # The plans the apply makes again use the target's mode, as the reviewed one did.
        apply_mode=target.apply_mode,
        # The audit chain's head travels into the target's own marker table: a copy of it
        # outside the app's database, which a rewind of the audit tail cannot reach.
        metadata={
            "run_id": proposal.run_id,
            "proposal_id": str(proposal.pk),
            "audit_head": AuditCheckpoint.head(proposal.tenant_id),
        },
    )


def apply(
    proposal: Proposal,
    *,
    on_progress: Callable[..., None] | None = None,
    on_lock_retry: Callable[[LockRetry], None] | None = None,
    on_stage: StageProgress | None = None,
) -> ApplyOutcome:
    request = _apply_request(proposal)
    with connect(proposal.target) as conn:
        return apply_plan(
            conn,
            blueprint_from_json(proposal.blueprint),
            request,
            reviewed=reviewed_plan(proposal),
            cache=DbCanonicalCache(),
            on_progress=on_progress,
            on_lock_retry=on_lock_retry,
            on_stage=on_stage,
        )


def resume(
    proposal: Proposal,
    *,
    on_stage: StageProgress | None = None,
    on_lock_retry: Callable[[LockRetry], None] | None = None,
) -> ApplyOutcome:
    """Finish an online change whose second stage a dead worker left (the marker in phase1)."""
    with connect(proposal.target) as conn:
        return resume_apply(
            conn,
            _apply_request(proposal),
            bp=blueprint_from_json(proposal.blueprint),
            cache=DbCanonicalCache(),
            on_stage=on_stage,
            on_lock_retry=on_lock_retry,
        )


def read_marker(proposal: Proposal) -> dict[str, Any] | None:
    with connect(proposal.target) as conn:
        return engine_read_marker(conn, str(proposal.pk))


def snapshot_now(proposal: Proposal) -> Snapshot:
    names = {t["name"] for t in proposal.blueprint.get("tables", [])}
    with connect(proposal.target) as conn:
        return introspect(conn, proposal.target.schema_name, tables=names)


def plan_target(target: Target, bp: NormalizedBlueprint) -> PlanResult:
    """Plan ``bp`` against the target as a submission would, storing nothing (a dry run)."""
    started = time.perf_counter()
    with connect(target) as conn:
        p = plan(
            conn,
            bp,
            schema=target.schema_name,
            managed=managed_tables(target),
            managed_types=managed_types(target),
            managed_functions=managed_functions(target),
            cache=DbCanonicalCache(),
            apply_mode=target.apply_mode,  # the blueprint's own apply_mode wins
        )
    return plan_result(p, plan_ms=(time.perf_counter() - started) * 1000)
