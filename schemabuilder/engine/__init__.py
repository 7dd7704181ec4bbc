"""The pure engine: blueprint → normalized desired state → DDL → plan.

Nothing in this package imports Django; a test enforces it. Callers use the names
re-exported here.
"""

from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.snapshot import (
    Column,
    Constraint,
    ConstraintKind,
    Index,
    Policy,
    Snapshot,
    Table,
)
from schemabuilder.engine.contract.envelope import (
    ValidatedEnvelope,
    validate_envelope,
    validate_payload,
)
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.idents import qualified, quote_ident
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
from schemabuilder.engine.plan import Plan, plan
from schemabuilder.engine.render_text import render_text

__all__: list[str] = [
    "PHASES",
    "BlueprintInvalid",
    "CanonicalCache",
    "CanonicalKey",
    "Column",
    "Constraint",
    "ConstraintKind",
    "DiffResult",
    "Hazard",
    "HazardKind",
    "Index",
    "Issue",
    "LockMode",
    "MemberChange",
    "MemoryCanonicalCache",
    "NCheck",
    "NColumn",
    "NFence",
    "NForeignKey",
    "NIndex",
    "NIndexColumn",
    "NPolicy",
    "NReference",
    "NTable",
    "NormalizedBlueprint",
    "Phase",
    "Plan",
    "Policy",
    "Severity",
    "Snapshot",
    "Statement",
    "Table",
    "TableChange",
    "ValidatedEnvelope",
    "canonical_json",
    "canonical_key",
    "diff",
    "idempotency_key",
    "introspect",
    "materialize",
    "plan",
    "qualified",
    "quote_ident",
    "render_ddl",
    "render_text",
    "schema_hash",
    "validate_envelope",
    "validate_payload",
]
