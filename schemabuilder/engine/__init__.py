"""The pure engine: blueprint → normalized desired state → DDL → plan.

Nothing in this package imports Django; a test enforces it. Callers use the names
re-exported here.
"""

from schemabuilder.engine.ddl import render_ddl
from schemabuilder.engine.envelope import ValidatedEnvelope, validate_envelope, validate_payload
from schemabuilder.engine.errors import BlueprintInvalid, Issue
from schemabuilder.engine.idents import qualified, quote_ident
from schemabuilder.engine.normalize import (
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

__all__: list[str] = [
    "BlueprintInvalid",
    "Issue",
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
    "ValidatedEnvelope",
    "canonical_json",
    "idempotency_key",
    "qualified",
    "quote_ident",
    "render_ddl",
    "schema_hash",
    "validate_envelope",
    "validate_payload",
]
