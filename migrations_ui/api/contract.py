"""The seed's output contract (meta_out, result, audit), for the webhook, the API and the CLI.

``result.primary_outputs`` adds to the seed's keys how the change was applied: ``apply_mode``
(the plan's: ``online`` or ``atomic``) and ``phase2_steps``, an online change's second stage
step by step (``{index, sql, status, ms}``: the plan's statement index, our own planned SQL,
``done`` | ``failed`` | ``pending``, milliseconds); ``[]`` for a change in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from migrations_ui.models import MigrationRecord, Proposal, ProposalStatus

S = ProposalStatus

# Proposal status → the contract's result.status.
CONTRACT_STATUS = {
    S.APPLIED: "applied",
    S.NOOP: "noop",
    S.BLOCKED: "blocked",
    S.FAILED: "failed",
    S.REJECTED: "failed",
    S.CANCELLED: "failed",
    S.AWAITING_APPROVAL: "pending_approval",
    S.SUBMITTED: "queued",
    S.PLANNED: "queued",
    S.APPROVED: "queued",
    S.QUEUED: "queued",
    S.APPLYING: "queued",
}


def canonical(data: Any) -> str:
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder, ensure_ascii=False
    )


def sha256_tagged(data: Any) -> str:
    """The seed's hash form: ``sha256_<hex>`` of the canonical JSON."""
    return "sha256_" + hashlib.sha256(canonical(data).encode()).hexdigest()


def contract_status(proposal: Proposal, *, replay: bool = False) -> str:
    status = CONTRACT_STATUS[ProposalStatus(proposal.status)]
    # A retried request for a change that is already applied did nothing this time: the seed
    # answers an already-applied schema with noop.
    return "noop" if replay and status == "applied" else status


def _summary(proposal: Proposal, status: str, counts: dict[str, int]) -> str:
    v = proposal.schema_version
    tables = counts.get("tables_created", 0)
    match status:
        case "applied":
            return (
                f"Applied schema v{v}: {tables} table{'s' if tables != 1 else ''} created, "
                f"{len(proposal.plan_statements())} statements"
            )
        case "noop":
            return f"Schema v{v} is already in place: nothing to do"
        case "blocked":
            n = len(proposal.dangerous_hazards)
            plural = "s" if n != 1 else ""
            return f"Blocked schema v{v}: {n} dangerous change{plural}; resubmit with force_apply"
        case "pending_approval":
            return f"Schema v{v} awaits a second person's approval"
        case "queued":
            return f"Schema v{v} is {proposal.get_status_display().lower()}"
        case _:
            first = (proposal.error or proposal.get_status_display()).strip().splitlines()[0]
            return f"Schema v{v} {proposal.get_status_display().lower()}: {first}"


def output_contract(
    proposal: Proposal,
    *,
    request_body: Any,
    latency_ms: int,
    replay: bool = False,
    external_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The seed's answer for ``proposal``; ``inputs_hash`` and ``outputs_hash`` can be
    recomputed by the caller from the request body and from ``result`` + ``audit``."""
    from migrations_ui.workflow.engine_bridge import creation_counts_from_json

    status = contract_status(proposal, replay=replay)
    counts = creation_counts_from_json(proposal.plan or {})
    record = MigrationRecord.objects.filter(proposal=proposal).order_by("-created_at").first()
    warnings = [
        f"{h.get('severity')}: {h.get('message')}"
        for h in proposal.hazards
        if h.get("severity") in ("warning", "danger")
    ]
    if status == "failed" and proposal.error:
        warnings.append(proposal.error)
    result = {
        "status": status,
        "summary": _summary(proposal, status, counts),
        "primary_outputs": {
            "schema_version": proposal.schema_version,
            "tables_created": counts.get("tables_created", 0) if status == "applied" else 0,
            "indexes_created": counts.get("indexes_created", 0) if status == "applied" else 0,
            "migration_log_id": record.log_id if record else None,
            "warnings": warnings,
            "apply_mode": apply_mode(proposal),
            "phase2_steps": phase2_steps(proposal),
        },
        "proposal_id": str(proposal.pk),
    }
    data_written = [{"table": "proposals", "record_id": str(proposal.pk)}]
    if record is not None:
        data_written.append({"table": "schema_migrations", "record_id": record.log_id})
    audit = {
        "phi_touched": False,  # the change is to the schema; no row of data is read or written
        "data_written": data_written,
        "external_calls": external_calls or _external_calls(proposal),
    }
    return {
        "meta_out": {
            "workflow_name": "WF106",
            "workflow_run_id": proposal.run_id,
            "latency_ms": latency_ms,
            "success": status in ("applied", "noop", "queued", "pending_approval"),
            "inputs_hash": sha256_tagged(request_body),
            "outputs_hash": sha256_tagged({"result": result, "audit": audit}),
        },
        "result": result,
        "audit": audit,
    }


def apply_mode(proposal: Proposal) -> str:
    """The plan's: ``online`` (slow steps after the first stage commits) or ``atomic``."""
    return str((proposal.plan or {}).get("apply_mode") or "atomic")


def phase2_steps(proposal: Proposal) -> list[dict[str, Any]]:
    """The second stage as it ended: from the result once applied, from the timings when a
    step failed (the result then names the step); [] for a change in one transaction."""
    steps = (proposal.result or {}).get("phase2_steps") or proposal.timings.get("phase2_steps")
    return [
        {"index": s["index"], "sql": s["sql"], "status": s["status"], "ms": s.get("ms")}
        for s in steps or []
    ]


def _external_calls(proposal: Proposal) -> list[dict[str, Any]]:
    calls = []
    plan = proposal.plan or {}
    if "plan_ms" in plan:
        calls.append({"service": "postgresql", "endpoint": "plan", "latency_ms": plan["plan_ms"]})
    if proposal.timings.get("total_ms") is not None:
        calls.append(
            {
                "service": "postgresql",
                "endpoint": "apply",
                "latency_ms": proposal.timings["total_ms"],
            }
        )
    return calls
