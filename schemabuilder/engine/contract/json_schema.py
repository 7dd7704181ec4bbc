"""The blueprint contract as JSON Schema (draft 2020-12), generated from the pydantic models.

Editors validate a blueprint against it as people type; the engine's own validation stays
the authority (names, SQL fragments, allowlists and the rules between tables are checked
only there). So the schema may accept what the engine refuses, never the reverse: every
accepted example and case blueprint is validated against it in the tests.

The descriptions live here, keyed by model and by the key a blueprint writes (a field's alias
when it has one), rather than on the models' fields, so that the models stay as they are; a
test fails for a field without one.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel

from schemabuilder.engine.contract import blueprint as bp
from schemabuilder.engine.contract import functions, privileges, triggers, types

DIALECT = "https://json-schema.org/draft/2020-12/schema"

DESCRIPTIONS: dict[type[BaseModel], dict[str, str]] = {
    bp.Envelope: {
        "meta": "Who sent the blueprint and for which tenant and target; null is the defaults.",
        "subject": "The tenant, as the seed's envelope names it; null is the defaults.",
        "payload": "The blueprint itself.",
        "context": "The actor (recorded, never trusted for access) and the validation profile.",
    },
    bp.Meta: {
        "workflow_name": 'Always "WF106".',
        "workflow_version": 'The caller\'s workflow version; default "2.0.0".',
        "workflow_run_id": "The caller's run id; default wr_<random hex>.",
        "idempotency_key": "A retry with the same key returns the same proposal.",
        "trigger_source": 'Where the request came from; default "api".',
        "timestamp_utc": "ISO 8601; default the time of receipt.",
        "tenant_id": "The tenant (or subject.tenant_id; when both are given they must agree).",
        "environment": "The target to plan against; default the tenant's default target.",
    },
    bp.Subject: {"tenant_id": "The tenant; must agree with meta.tenant_id when both are given."},
    bp.Context: {
        "actor_id": 'Recorded as the actor\'s own id; default "system".',
        "validation_profile": 'Default "safe".',
    },
    bp.Payload: {
        "extensions": "CREATE EXTENSION IF NOT EXISTS in the target schema for each name not "
        "installed yet, from the deployment's allowlist (SB_EXTENSIONS; default btree_gin "
        "btree_gist citext hstore ltree pg_trgm pgcrypto unaccent uuid-ossp); never dropped.",
        "types": "Enum types (CREATE TYPE ... AS ENUM), created before the tables that use "
        "them; absent or []: the blueprint manages no types.",
        "default_privileges": "ALTER DEFAULT PRIVILEGES IN SCHEMA: what new tables, "
        "sequences or functions grant from the start; absent: left alone.",
        "schema_version": "Required. Versions only go up per target, compared naturally "
        "(2 < 10, 001 = 1, 1.9 < 1.10).",
        "description": "Required. Shown in the history.",
        "force_apply": "Dangerous changes need this and a second person's approval.",
        "revert_of": "The earlier applied version whose schema this higher version brings back.",
        "fence": "The multi-tenant fence every table with rls carries.",
        "apply_mode": '"online": on existing tables, indexes are built concurrently and '
        "constraints validated after a quick first transaction, without blocking writes; "
        '"atomic": the whole change in one transaction; absent: the target\'s setting '
        "(online by default).",
        "auto_columns": "Add id, the fence column, created_at, updated_at, deleted_at and the "
        "indexes idx_<table>_<fence column> and idx_<table>_created_at.",
        "tables": "The desired tables (at least one); a managed table left out is dropped.",
        "functions": "SQL and PL/pgSQL functions in the target schema, created before the "
        "policies that call them; absent or []: the blueprint manages none (one the last "
        "applied version declared is dropped).",
    },
    bp.Fence: {
        "column": "The column every fenced table carries.",
        "type": "The fence column's type.",
        "using": "The fence predicate; default <column>::text = "
        "current_setting('app.current_tenant_id', true).",
        "mode": '"restrictive": a RESTRICTIVE fence policy no permissive policy can widen; '
        '"permissive": the older form; absent: restrictive for new tables, the form a live '
        "table has for existing ones.",
    },
    bp.Table: {
        "grants": "Privileges per role (PUBLIC: every role); absent: grants left alone; "
        "a list, even []: exactly these, every other privilege revoked.",
        "sequence_grants": "Privileges per role on the sequences of the table's serial and "
        "identity columns (USAGE SELECT UPDATE or ALL); absent: left alone.",
        "name": "The table name (normalized to snake_case).",
        "comment": "COMMENT ON TABLE.",
        "renamed_from": "The table's old name: ALTER TABLE ... RENAME TO instead of drop and "
        "create.",
        "columns": "The declared columns, in order (after the auto columns).",
        "primary_key": "The primary key's columns in the key's order, in place of the "
        "columns' primary_key: true (never both).",
        "indexes": "CREATE INDEX, after the default indexes.",
        "unique": "Table-level UNIQUE sets of columns.",
        "checks": "Table-level CHECK constraints.",
        "foreign_keys": "Table-level (multi-column) FOREIGN KEY constraints.",
        "rls": 'ENABLE ROW LEVEL SECURITY and the fence; "force" also FORCE (the owner is '
        "fenced too); false: neither.",
        "policies": "CREATE POLICY; they replace the default permissive policy, the "
        "restrictive fence stays.",
        "triggers": 'CREATE TRIGGER: trigger objects, or the word "updated_at" (BEFORE UPDATE '
        "FOR EACH ROW, setting updated_at to now()); absent: triggers left alone; a list, "
        "even []: exactly these.",
    },
    triggers.Trigger: {
        "name": "The trigger name (normalized to snake_case).",
        "timing": "before | after (any case); instead of is for views, refused on a table.",
        "events": 'insert, update, delete, truncate, or {"update": ["column", ...]} for '
        "UPDATE OF those columns.",
        "level": "row (FOR EACH ROW) | statement (FOR EACH STATEMENT); default row.",
        "when": "WHEN (<expression>) on OLD.column and NEW.column, immutable built-ins only; "
        "row level only.",
        "function": '"name" (the target schema\'s, or the blueprint\'s own) or "schema.name": '
        "a function without arguments returning trigger, checked on the target.",
        "arguments": "String literals passed to the function (TG_ARGV).",
        "renamed_from": "The trigger's old name: ALTER TRIGGER ... RENAME TO.",
    },
    triggers.UpdateOf: {"update": "UPDATE OF these columns."},
    bp.Column: {
        "name": "The column name (normalized to snake_case); not a system column.",
        "type": "Exactly one PostgreSQL type name, with modifiers and array brackets.",
        "not_null": "NOT NULL.",
        "primary_key": "PRIMARY KEY; two or more make one composite key, in column order.",
        "default": "DEFAULT <expression> (see allowlist.py for what it may call).",
        "unique": "UNIQUE.",
        "check": "CHECK (<expression>), immutable built-ins only.",
        "comment": "COMMENT ON COLUMN.",
        "references": 'FOREIGN KEY: "table.column" or {"table", "column", "on_delete"}.',
        "renamed_from": "The column's old name: RENAME COLUMN instead of drop and add.",
        "identity": 'GENERATED "always" | "by default" AS IDENTITY (any case).',
        "generated": "GENERATED ALWAYS AS (<expression>) STORED: computed from the row, "
        "immutable built-ins only; not with default, identity or a serial type.",
    },
    bp.ColumnReference: {
        "schema": "The referenced table's schema when it is not the target's (auth for "
        "auth.users): checked on the target, never changed, its rows never counted.",
        "table": "The referenced table.",
        "column": "The referenced column.",
        "on_delete": "cascade | restrict | set null | set default | no action (any case); "
        "default no action.",
    },
    bp.Index: {
        "name": "The index name.",
        "columns": "Column names, each optionally with ASC | DESC and NULLS FIRST | LAST "
        '("created_at DESC").',
        "method": "btree | hash | gist | spgist | gin | brin (any case); default btree.",
        "unique": "CREATE UNIQUE INDEX.",
        "where": "A partial index's predicate, immutable built-ins only.",
    },
    bp.Check: {
        "name": "The constraint name; default the one PostgreSQL would choose.",
        "expression": "CHECK (<expression>), immutable built-ins only.",
    },
    bp.ForeignKey: {
        "columns": "The referencing columns.",
        "references": "The referenced table and columns.",
        "on_delete": "cascade | restrict | set null | set default | no action (any case); "
        "default no action.",
    },
    bp.ForeignKeyTarget: {
        "schema": "The referenced table's schema when it is not the target's: checked on the "
        "target, never changed, its rows never counted.",
        "table": "The referenced table.",
        "columns": "The referenced columns, as many as the referencing ones.",
    },
    privileges.Grant: {
        "role": "The role, or PUBLIC; it must exist on the target.",
        "privileges": "SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES TRIGGER, MAINTAIN "
        "(PostgreSQL 17+), or ALL (any case).",
    },
    privileges.SequenceGrant: {
        "role": "The role, or PUBLIC; it must exist on the target.",
        "privileges": "USAGE SELECT UPDATE, or ALL (any case).",
    },
    privileges.DefaultPrivilege: {
        "role": "The role the new objects grant to; it must exist on the target.",
        "on": "tables | sequences | functions.",
        "privileges": "The kind's privileges (tables: as for grants; sequences: USAGE SELECT "
        "UPDATE; functions: EXECUTE), or ALL.",
    },
    types.EnumType: {
        "name": "The type's name, in snake_case, as columns name it.",
        "enum": "Its values in order; a new one is added in its place, a removed or "
        "reordered one swaps the type (danger, rows counted).",
        "comment": "COMMENT ON TYPE.",
        "renamed_from": "The type's old name: ALTER TYPE ... RENAME TO.",
        "renamed_values": "Old value -> new value: ALTER TYPE ... RENAME VALUE.",
    },
    functions.Function: {
        "name": "The function's name, in snake_case; unique in the blueprint (no overloading).",
        "arguments": "Its input arguments, in order: CREATE FUNCTION name(arg type "
        "[DEFAULT expr], ...).",
        "returns": "RETURNS: a type, trigger, void, 'setof <type>' or "
        "'table(<column> <type>, ...)'.",
        "language": "LANGUAGE sql | plpgsql (any case).",
        "body": "The body, between dollar quotes whose tag it does not contain; parsed with "
        "PostgreSQL's parser, never run while planning.",
        "volatility": "volatile | stable | immutable; default volatile, as PostgreSQL. A "
        "policy may call only a stable or immutable one.",
        "security_definer": "SECURITY DEFINER: runs with its owner's rights (needs "
        "search_path; creating or changing one is danger).",
        "search_path": 'SET search_path = ...: "" for none (qualify every name in the '
        'body), or schema names such as "public, pg_temp".',
        "comment": "COMMENT ON FUNCTION.",
        "renamed_from": "The function's old name: ALTER FUNCTION ... RENAME TO.",
        "grants": "EXECUTE per role (PUBLIC: every role); absent: left alone; a list, even "
        "[]: exactly these, PostgreSQL's EXECUTE to PUBLIC revoked unless listed.",
    },
    functions.Argument: {
        "name": "The argument's name (snake_case), as the body names it.",
        "type": "Exactly one PostgreSQL type name, as for a column.",
        "default": "DEFAULT <expression>, under the allowlist of column defaults; only "
        "arguments at the end may have one.",
    },
    functions.FunctionGrant: {
        "role": "The role, or PUBLIC; it must exist on the target.",
        "privileges": "EXECUTE (ALL means the same).",
    },
    bp.Policy: {
        "name": "The policy name: a plain identifier is snake_cased, any other name (1-63 "
        "bytes) is kept as written and quoted.",
        "command": "ALL | SELECT | INSERT | UPDATE | DELETE (any case); default ALL.",
        "roles": "The roles it applies to; default PUBLIC.",
        "using": "USING (<expression>): which existing rows are visible.",
        "with_check": "WITH CHECK (<expression>): which new rows may be written.",
        "permissive": "false: AS RESTRICTIVE (ANDed with the others).",
    },
}

# The envelope's parts are optional objects the engine also accepts as null.
_NULLABLE_ENVELOPE_PARTS = ("meta", "subject", "context")


def _describe(schema: dict[str, Any]) -> None:
    by_title = {model.__name__: fields for model, fields in DESCRIPTIONS.items()}
    nodes = [schema, *schema.get("$defs", {}).values()]
    for node in nodes:
        fields = by_title.get(node.get("title", ""), {})
        for key, prop in node.get("properties", {}).items():
            if key in fields:
                prop["description"] = fields[key]


def _schema(model: type[BaseModel], title: str) -> dict[str, Any]:
    schema = model.model_json_schema()
    _describe(schema)
    return {"$schema": DIALECT, **schema, "title": title}


def payload_json_schema() -> dict[str, Any]:
    """The JSON Schema of a payload (the blueprint without its envelope)."""
    return copy.deepcopy(_payload())


def envelope_json_schema() -> dict[str, Any]:
    """The JSON Schema of an envelope around a payload."""
    return copy.deepcopy(_envelope())


@functools.cache
def _payload() -> dict[str, Any]:
    return _schema(bp.Payload, "Schema Auto-Builder blueprint")


@functools.cache
def _envelope() -> dict[str, Any]:
    schema = _schema(bp.Envelope, "Schema Auto-Builder envelope")
    for part in _NULLABLE_ENVELOPE_PARTS:
        prop = schema["properties"][part]
        ref = {k: prop.pop(k) for k in ("$ref",) if k in prop}
        prop["anyOf"] = [ref, {"type": "null"}]
    return schema
