"""The API's request and response shapes. The envelope is the engine's own model; hazard kinds,
severities, phases and lock modes are the engine's enums, so the document cannot drift from
what the engine produces."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Header, Path, Query, Schema

from migrations_ui.models import ProposalStatus, Role, Source
from schemabuilder.engine import HazardKind, LockMode, Phase, Severity

# A name or filter value in a URL: a short line of text. (Declared at the top level of the
# parameter's Annotated, where django-ninja reads constraints.) PostgreSQL text cannot hold
# NUL, and no name or filter needs a control character.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def text_query(description: str | None = None) -> Any:
    """A query parameter's constraints: at most 200 characters, no control characters."""
    return Query(max_length=200, pattern=TEXT_PATTERN, description=description)


def idempotency_header() -> Any:
    return Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description=(
            "Names this request: a retry with the same key returns the same proposal; the same "
            "key with a different blueprint is 409. Takes precedence over meta.idempotency_key."
        ),
    )


def text_path(description: str | None = None) -> Any:
    return Path(max_length=200, pattern=TEXT_PATTERN, description=description)


ContractStatus = Literal["applied", "noop", "blocked", "failed", "pending_approval", "queued"]


# ---- errors --------------------------------------------------------------------------------


class ErrorItem(Schema):
    path: str = Field(..., examples=["payload.tables[0].columns[1].type"])
    message: str


class ErrorOut(Schema):
    """Every error: a stable code, a message, and for validation every problem with its path."""

    code: str = Field(..., examples=["invalid"])
    message: str
    errors: list[ErrorItem] | None = Field(
        None, description="Only for validation errors (code 'invalid')."
    )


# ---- the seed's output contract ------------------------------------------------------------


class ContractMetaOut(Schema):
    workflow_name: Literal["WF106"]
    workflow_run_id: str
    latency_ms: int
    success: bool
    inputs_hash: str = Field(..., description="sha256_ + hex of the request body's canonical JSON")
    outputs_hash: str = Field(
        ..., description="sha256_ + hex of the canonical JSON of {result, audit}"
    )


class Phase2Step(Schema):
    """One step of an online change's second stage, run on its own after the first stage
    committed (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT, SET NOT NULL, ...)."""

    index: int = Field(..., description="The statement's place in the plan (from 0).")
    sql: str
    status: Literal["pending", "done", "failed"]
    ms: float | None = Field(..., description="How long it ran; null unless done.")


class PrimaryOutputs(Schema):
    schema_version: str
    tables_created: int
    indexes_created: int
    migration_log_id: str | None
    warnings: list[str]
    apply_mode: Literal["online", "atomic"] = Field(
        ...,
        description="online: slow steps on existing tables after the first stage commits; "
        "atomic: everything in one transaction.",
    )
    phase2_steps: list[Phase2Step] = Field(
        ...,
        description="The second stage, step by step, as it ended ([] for a change in one "
        "transaction, or one not applied yet).",
    )


class ContractResult(Schema):
    status: ContractStatus
    summary: str
    primary_outputs: PrimaryOutputs
    proposal_id: str


class DataWritten(Schema):
    table: str
    record_id: str


class ExternalCall(Schema):
    service: str
    endpoint: str
    latency_ms: int | float


class ContractAudit(Schema):
    phi_touched: bool
    data_written: list[DataWritten]
    external_calls: list[ExternalCall]


class ContractOut(Schema):
    """The seed's output contract (wf106-design-v2.md)."""

    meta_out: ContractMetaOut
    result: ContractResult
    audit: ContractAudit


class WebhookInvalidOut(ErrorOut):
    """A refused envelope: the error, and meta_out so the caller can match it to its run."""

    meta_out: ContractMetaOut | None = None


# ---- proposals -----------------------------------------------------------------------------


class EngineHazard(Schema):
    kind: HazardKind
    severity: Severity
    message: str
    table: str
    numbers: dict[str, Any] = {}
    detail: str = Field(
        "",
        description="What the reviewer reads beside the message: a "
        "function body's unified diff, old against new.",
    )


class HazardOut(EngineHazard):
    id: str = Field(..., description="Acknowledge dangerous hazards by this id when approving.")


class StatementOut(Schema):
    sql: str
    phase: Phase
    table: str
    reason: str
    lock: LockMode
    hazards: list[EngineHazard]
    statement_timeout_ms: int | None = None
    stage: int = Field(
        1, description="1: in the change's transaction; 2: after it commits, on its own (online)."
    )


class ApprovalOut(Schema):
    approver: str
    decision: Literal["approved", "rejected"]
    comment: str
    acknowledged_hazards: list[str]
    plan_checksum: str
    created_at: datetime
    voided_at: datetime | None
    void_reason: str


class AuditEventOut(Schema):
    at: datetime
    action: str
    actor: str
    request_id: str
    data: dict[str, Any]


class ProposalSummary(Schema):
    id: UUID
    url: str
    tenant: str
    target: str
    status: ProposalStatus
    contract_status: ContractStatus
    source: Source
    schema_version: str
    description: str
    submitted_by: str
    force_apply: bool
    is_dangerous: bool
    created_at: datetime
    finished_at: datetime | None


class ProposalOut(ProposalSummary):
    """One proposal: its plan, hazards, SQL, status, approvals and audit trail."""

    schema_hash: str
    idempotency_key: str
    run_id: str
    error: str
    review_reason: str
    plan_checksum: str
    base_snapshot_hash: str
    tables_created: int
    indexes_created: int
    hazards: list[HazardOut]
    acknowledge: list[str] = Field(
        ..., description="The hazard ids an approver must acknowledge (the dangerous ones)."
    )
    statements: list[StatementOut]
    changes: list[dict[str, Any]]
    sql: str
    migration_log_id: str | None
    apply_mode: Literal["online", "atomic"]
    phase2_steps: list[Phase2Step] = Field(
        ..., description="An online change's second stage as it ended ([] until then)."
    )
    approvals: list[ApprovalOut]
    audit: list[AuditEventOut]
    updated_at: datetime
    planned_at: datetime | None


# ---- importing the live schema -------------------------------------------------------------

NAME_PATTERN = r"^[^\x00-\x1f\x7f]+$"
TableName = Annotated[str, Field(min_length=1, max_length=63, pattern=NAME_PATTERN)]


class ImportIn(Schema):
    environment: str | None = Field(
        None,
        max_length=200,
        pattern=TEXT_PATTERN,
        description="The target's environment; default: the tenant's default target.",
    )
    tables: list[TableName] | None = Field(
        None,
        max_length=1000,
        description="Only these tables (default: every table of the target's schema).",
    )
    fence: str | None = Field(
        None,
        max_length=63,
        pattern=NAME_PATTERN,
        description="The tenant fence column, or 'none'; default: tenant_id when every table "
        "with row level security has it.",
    )


class LeftOutOut(Schema):
    kind: str
    name: str
    table: str | None
    why: str | None


class ImportOut(ProposalOut):
    """The baseline proposal, and what its blueprint could not say."""

    left_out: list[LeftOutOut]


class ProposalPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[ProposalSummary]


CHECKSUM_HELP = (
    "The plan_checksum of the proposal as you read it (GET /proposals/{id}). A decision is "
    "bound to that plan: when the proposal's plan is another one now, the answer is 409 "
    "plan_changed and nothing is recorded; read it again."
)


class ApproveIn(Schema):
    plan_checksum: str = Field(..., min_length=1, max_length=64, description=CHECKSUM_HELP)
    comment: str = Field("", max_length=5000)
    acknowledged_hazards: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description=(
            "Every dangerous hazard's id, as listed in the proposal's 'acknowledge'. Ids carry a "
            "digest of their plan: an id of an earlier plan is 409 plan_changed."
        ),
    )


class RejectIn(Schema):
    comment: str = Field(..., min_length=1, max_length=5000)
    plan_checksum: str | None = Field(None, max_length=64, description="Optional: " + CHECKSUM_HELP)


# ---- dry-run plan --------------------------------------------------------------------------


class PlanOut(Schema):
    """What a submission would plan now; nothing is stored."""

    tenant: str
    target: str
    schema_version: str
    schema_hash: str
    force_apply: bool
    is_empty: bool
    is_dangerous: bool
    checksum: str
    base_snapshot_hash: str
    tables_created: int
    indexes_created: int
    hazards: list[HazardOut]
    statements: list[StatementOut]
    changes: list[dict[str, Any]]
    unmanaged_tables: list[str]
    dropped_tables: list[str]
    sql: str
    plan_ms: float


# ---- tenants -------------------------------------------------------------------------------


class TargetOut(Schema):
    environment: str
    schema_name: str
    is_default: bool


class TenantOut(Schema):
    slug: str
    name: str
    role: Role
    targets: list[TargetOut]


class TokenInfo(Schema):
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class MeOut(Schema):
    username: str
    token: TokenInfo | None
    tenants: list[TenantOut]


class HistoryItem(Schema):
    migration_log_id: str
    target: str
    version: str
    description: str
    status: Literal["success", "failed", "blocked", "noop", "partial"]
    applied_by: str
    checksum: str
    schema_hash: str
    snapshot_hash: str
    proposal_id: UUID | None
    error_message: str
    created_at: datetime


class HistoryPage(Schema):
    tenant: str
    count: int
    limit: int
    offset: int
    items: list[HistoryItem]


class SchemaSnapshotOut(Schema):
    """The tenant's managed schema as of its latest successful change (null before any)."""

    tenant: str
    target: str
    version: str | None
    migration_log_id: str | None
    applied_at: datetime | None
    snapshot_hash: str | None
    tables: list[str]
    snapshot: dict[str, Any] | None
