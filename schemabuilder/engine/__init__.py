"""The pure engine: blueprint → normalized desired state → DDL → plan → verified apply.

Nothing in this package imports Django; a test enforces it. Code outside the engine uses the
names re-exported here, never its sub-packages (an import-linter contract says so):

- ``contract``: what a blueprint may say (models, envelope, validation, rules, expressions
  and their allowlists, normalization, names, blueprint paths, errors, strict JSON);
- ``catalog``: what the server says (introspection and its ``sql/``, snapshots, fingerprints,
  live tables remembered by fingerprint);
- ``desired``: the state to reach (DDL, materialization in a scratch schema, the blueprint's
  own expression texts, the canonical-form caches);
- ``diff``: the statements that turn one into the other (tables, columns, constraints,
  indexes, policies, renames, phases, the reviewer's changes);
- ``hazards``: what can go wrong, one module per object kind, with the live numbers;
- ``importer``: an existing schema written as a blueprint, and what it could not say;
- ``apply``: the verified apply (review, scope and locks, execution, verification of the
  tables and of grants and enum types, marker);
- ``plan`` (with ``grants`` and ``extensions``, its statements beside the diff's),
  ``render_text`` and ``safe_errors`` on top.
"""

from schemabuilder.engine.apply import (
    ApplyError,
    ApplyOutcome,
    ApplyRequest,
    BatchFailed,
    Deadlock,
    LockRetry,
    LockRetryPolicy,
    LockTimeout,
    PlanChanged,
    Reviewed,
    StageProgress,
    StageTwoFailed,
    StageTwoStep,
    StatementFailed,
    StatementTiming,
    VerificationFailed,
    WillFail,
    apply_plan,
    plan_signature,
    read_marker,
    resume_apply,
    scope_of,
)
from schemabuilder.engine.catalog.fingerprints import fingerprints
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.snapshot import (
    Column,
    Constraint,
    ConstraintKind,
    Index,
    Policy,
    Snapshot,
    Table,
    table_from_json,
    table_to_json,
)
from schemabuilder.engine.contract import fragments, json_text
from schemabuilder.engine.contract.blueprint import MAX_TABLES, Envelope
from schemabuilder.engine.contract.envelope import (
    MAX_PAYLOAD_BYTES,
    ValidatedEnvelope,
    validate_envelope,
    validate_payload,
)
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.fragments import check_expression, check_type
from schemabuilder.engine.contract.functions import NFunction, blueprint_function_names
from schemabuilder.engine.contract.idents import qualified, quote_ident
from schemabuilder.engine.contract.json_schema import envelope_json_schema, payload_json_schema
from schemabuilder.engine.contract.live_calls import check_calls
from schemabuilder.engine.contract.normalize import (
    NCheck,
    NColumn,
    NFence,
    NForeignKey,
    NIndex,
    NIndexColumn,
    NormalizedBlueprint,
    NPolicy,
    NReference,
    NTable,
    canonical_json,
    idempotency_key,
    schema_hash,
)
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.desired.cache import (
    CanonicalCache,
    CanonicalKey,
    MemoryCanonicalCache,
    canonical_key,
)
from schemabuilder.engine.desired.ddl import render_ddl
from schemabuilder.engine.desired.materialize import materialize
from schemabuilder.engine.diff import DiffResult, diff
from schemabuilder.engine.diff.changes import MemberChange, TableChange
from schemabuilder.engine.diff.phases import PHASES, LockMode, Phase, Statement
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.hazards.facts import CastCheck, CastOutcome, TableStats
from schemabuilder.engine.importer.build import (
    ImportResult,
    import_schema,
    import_snapshot,
    read_outside,
)
from schemabuilder.engine.importer.left_out import LeftOut
from schemabuilder.engine.plan import Plan, plan
from schemabuilder.engine.render_text import render_text
from schemabuilder.engine.safe_errors import safe_message

__all__: list[str] = [
    "MAX_PAYLOAD_BYTES",
    "MAX_TABLES",
    "PHASES",
    "ApplyError",
    "ApplyOutcome",
    "ApplyRequest",
    "BatchFailed",
    "BlueprintInvalid",
    "BlueprintPaths",
    "CanonicalCache",
    "CanonicalKey",
    "CastCheck",
    "CastOutcome",
    "Column",
    "Constraint",
    "ConstraintKind",
    "Deadlock",
    "DiffResult",
    "Envelope",
    "Hazard",
    "HazardKind",
    "ImportResult",
    "Index",
    "Issue",
    "LeftOut",
    "LockMode",
    "LockRetry",
    "LockRetryPolicy",
    "LockTimeout",
    "MemberChange",
    "MemoryCanonicalCache",
    "NCheck",
    "NColumn",
    "NFence",
    "NForeignKey",
    "NFunction",
    "NIndex",
    "NIndexColumn",
    "NPolicy",
    "NReference",
    "NTable",
    "NormalizedBlueprint",
    "Phase",
    "Plan",
    "PlanChanged",
    "Policy",
    "Reviewed",
    "Severity",
    "Snapshot",
    "StageProgress",
    "StageTwoFailed",
    "StageTwoStep",
    "Statement",
    "StatementFailed",
    "StatementTiming",
    "Table",
    "TableChange",
    "TableStats",
    "ValidatedEnvelope",
    "VerificationFailed",
    "WillFail",
    "apply_plan",
    "blueprint_function_names",
    "canonical_json",
    "canonical_key",
    "check_calls",
    "check_expression",
    "check_type",
    "diff",
    "envelope_json_schema",
    "fingerprints",
    "fragments",
    "idempotency_key",
    "import_schema",
    "import_snapshot",
    "introspect",
    "json_text",
    "materialize",
    "payload_json_schema",
    "plan",
    "plan_signature",
    "qualified",
    "quote_ident",
    "read_marker",
    "read_outside",
    "render_ddl",
    "render_text",
    "resume_apply",
    "safe_message",
    "schema_hash",
    "scope_of",
    "table_from_json",
    "table_to_json",
    "validate_envelope",
    "validate_payload",
]
