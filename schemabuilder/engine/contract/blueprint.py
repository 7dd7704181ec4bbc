"""The blueprint contract as pydantic models: the envelope and the payload, as submitted.

Every model forbids unknown keys and is strict about JSON types, so a typo such as
``not_nul`` is an error rather than a silently ignored key. Field validators check what can
be checked locally (names, SQL fragments, closed vocabularies); rules that need the whole
blueprint (duplicates, references between tables) live in ``rules``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from schemabuilder.engine.contract import allowlist, fragments
from schemabuilder.engine.contract.extensions import (
    MAX_EXTENSIONS,
    extension_name,
    unique_extensions,
)
from schemabuilder.engine.contract.functions import MAX_FUNCTIONS, Argument, Function, FunctionGrant
from schemabuilder.engine.contract.idents import (
    SYSTEM_COLUMNS,
    is_plain_name,
    name_problem,
    one_of,
    snake_case,
    written_name_problem,
)
from schemabuilder.engine.contract.privileges import (
    DefaultPrivilege,
    Grant,
    SequenceGrant,
    one_grant_per_role,
)
from schemabuilder.engine.contract.triggers import Triggers
from schemabuilder.engine.contract.types import MAX_TYPES, EnumType

# A change this large runs in as many transactions as the server's lock table needs
# (``engine.batches``).
MAX_TABLES = 10_000
MAX_COLUMNS = 1_600  # PostgreSQL's own limit per table
MAX_INDEXES = 200
MAX_ITEMS = 200  # unique sets, checks, foreign keys, policies, roles per table
MAX_TEXT = 10_000  # comments
MAX_DESCRIPTION = 2_000
MAX_META_TEXT = 200

COMMANDS = ("ALL", "SELECT", "INSERT", "UPDATE", "DELETE")
ON_DELETE_ACTIONS = ("cascade", "restrict", "set null", "set default", "no action")
INDEX_METHODS = ("btree", "hash", "gist", "spgist", "gin", "brin")
DEFAULT_FENCE_COLUMN = "tenant_id"
DEFAULT_FENCE_TYPE = "UUID"
FENCE_SETTING = "app.current_tenant_id"

_INDEX_COLUMN = re.compile(
    r"\s*(?P<name>\S+?)(?:\s+(?P<direction>ASC|DESC))?(?:\s+NULLS\s+(?P<nulls>FIRST|LAST))?\s*",
    re.IGNORECASE,
)
_TENANT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


def _no_control_chars(text: str, *, allow_newlines: bool) -> str:
    for char in text:
        if (ord(char) < 32 or ord(char) == 127) and not (allow_newlines and char in "\t\n\r"):
            raise ValueError(f"contains the control character U+{ord(char):04X}: remove it")
    return text


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _policy_name(value: str) -> str:
    # A plain identifier is a name like any other; anything else is kept as written.
    problem = name_problem(value) if is_plain_name(value) else written_name_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _column_name(value: str) -> str:
    if snake_case(value) in SYSTEM_COLUMNS:
        raise ValueError(
            f"'{value}' is the name of a PostgreSQL system column ("
            f"{', '.join(sorted(SYSTEM_COLUMNS))}), which every table already has: "
            "choose another name"
        )
    return value


def _type(value: str) -> str:
    checked = fragments.check_type(value)
    if checked.problem:
        raise ValueError(f"type {checked.problem}")
    return checked.text


def _expression(value: str, kind: allowlist.Kind) -> str:
    checked = fragments.check_expression(value, allow_subqueries=kind == "policy")
    problem = checked.problem or allowlist.judge(checked, kind)[0]
    if problem:
        raise ValueError(f"expression {problem}")
    return checked.text


def _check_expression(value: str) -> str:
    return _expression(value, "check")


def _default_expression(value: str) -> str:
    return _expression(value, "default")


def _policy_expression(value: str) -> str:
    return _expression(value, "policy")


def _comment(value: str) -> str:
    return _no_control_chars(value, allow_newlines=True)


def _one_line(value: str) -> str:
    return _no_control_chars(value, allow_newlines=False)


_on_delete = one_of(
    ON_DELETE_ACTIONS, what="a foreign key action", spell=lambda v: " ".join(v.lower().split())
)
_command = one_of(COMMANDS, what="a policy command", spell=lambda v: v.strip().upper())
_method = one_of(INDEX_METHODS, what="an index method")


def _rls(value: object) -> object:
    if value is True or value is False or value == "force":
        return value
    raise ValueError(
        'must be true, false or "force" ("force" also fences off the owner of the table)'
    )


def _role(value: str) -> str:
    problem = name_problem(value)
    if problem:
        raise ValueError(f"role {problem}")
    return value


def _index_column(value: str) -> str:
    match = _INDEX_COLUMN.fullmatch(value)
    if not match:
        raise ValueError(
            f"{value[:80]!r} is not an index column: write a column name, optionally followed "
            "by ASC or DESC and NULLS FIRST or NULLS LAST (for example 'created_at DESC')"
        )
    problem = name_problem(match["name"])
    if problem:
        raise ValueError(f"column {problem}")
    return value


def _identity(value: object) -> object:
    spelled = " ".join(value.split()).lower() if isinstance(value, str) else None
    if spelled in ("always", "by default"):
        return spelled
    raise ValueError(
        f'{str(value)[:40]!r} is not an identity: write "by default" (an id may be given on '
        'insert) or "always" (never given), or leave identity out'
    )


# "schema.table(column)" or "table(column)": the form a CREATE TABLE writes.
_CALL_FORM = re.compile(r"\s*(?:([^.()\s]+)\.)?([^.()\s]+)\s*\(\s*([^.()\s]+)\s*\)\s*")


def _references(value: object) -> object:
    if not isinstance(value, str):
        return value
    if match := _CALL_FORM.fullmatch(value):
        schema, table, column = match.groups()
        return {"table": table, "column": column, **({"schema": schema} if schema else {})}
    table, dot, column = value.partition(".")
    if not dot or not table or not column or "." in column:
        raise ValueError(
            f"{value[:80]!r} is not a reference: write 'table.column' (for example "
            "'applications.app_code'), 'schema.table(column)' (for example 'auth.users(id)') "
            'or an object {"schema", "table", "column", "on_delete"}'
        )
    return {"table": table, "column": column}


def _tenant(value: str) -> str:
    if not _TENANT.fullmatch(value):
        raise ValueError(
            f"{value[:80]!r} is not a tenant id: use letters, digits, '_', '.' or '-' "
            "(at most 64 characters), for example 't_001'"
        )
    return value


def _environment(value: str) -> str:
    if not _TENANT.fullmatch(value):
        raise ValueError(
            f"{value[:80]!r} is not an environment name: use letters, digits, '_', '.' or '-' "
            "(at most 64 characters), for example 'prod'"
        )
    return value


def _timestamp(value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value[:40]!r} is not a timestamp: use ISO 8601, for example '2026-02-05T10:00:00Z'"
        ) from None
    return value


Name = Annotated[str, AfterValidator(_name)]
ColumnName = Annotated[str, AfterValidator(_name), AfterValidator(_column_name)]
RoleName = Annotated[str, AfterValidator(_role)]
PolicyName = Annotated[str, AfterValidator(_policy_name)]
TypeName = Annotated[str, AfterValidator(_type)]
# Each kind of expression has its own allowlist of what it may call (``allowlist``).
CheckExpression = Annotated[str, AfterValidator(_check_expression)]
DefaultExpression = Annotated[str, AfterValidator(_default_expression)]
PolicyExpression = Annotated[str, AfterValidator(_policy_expression)]
CommentText = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_comment)]
MetaText = Annotated[str, Field(max_length=MAX_META_TEXT), AfterValidator(_one_line)]
OnDelete = Annotated[str, BeforeValidator(_on_delete)]
Command = Annotated[str, BeforeValidator(_command)]
Method = Annotated[str, BeforeValidator(_method)]
Rls = Annotated[bool | Literal["force"], BeforeValidator(_rls)]
# Spelled in any case and spacing on input ("BY DEFAULT"), so the JSON Schema says string.
Identity = Annotated[
    Literal["always", "by default"], BeforeValidator(_identity, json_schema_input_type=str)
]
IndexColumnText = Annotated[str, AfterValidator(_index_column)]
ExtensionName = Annotated[str, Field(max_length=64), AfterValidator(extension_name)]
TenantId = Annotated[str, AfterValidator(_tenant)]
Timestamp = Annotated[str, Field(max_length=64), AfterValidator(_timestamp)]


# The models a function holds: part of the contract, as its reference and schema describe it.
FUNCTION_PARTS = (Argument, FunctionGrant)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ColumnReference(_Model):
    """A column-level foreign key: ``"table.column"``, ``"schema.table(column)"`` or this
    object. ``schema`` names a table outside the blueprint (Supabase's ``auth.users``)."""

    schema_: Name | None = Field(default=None, alias="schema")
    table: Name
    column: Name
    on_delete: OnDelete | None = None


# What ``references`` accepts as written: "table.column" or the object.
_ReferenceInput = Annotated[str, Field(pattern=r"^[^.]+\.[^.]+$")] | ColumnReference


class Column(_Model):
    name: ColumnName
    type: TypeName
    not_null: bool = False
    primary_key: bool = False
    default: DefaultExpression | None = None
    unique: bool = False
    check: CheckExpression | None = None
    comment: CommentText | None = None
    references: Annotated[
        ColumnReference | None,
        BeforeValidator(_references, json_schema_input_type=_ReferenceInput | None),
    ] = None
    renamed_from: Name | None = None
    # GENERATED ... AS IDENTITY: Supabase's default for keys (bigint by default as identity).
    identity: Identity | None = None
    # GENERATED ALWAYS AS (<expression>) STORED: computed from the row, immutable calls only.
    generated: CheckExpression | None = None


class Index(_Model):
    name: Name
    columns: Annotated[list[IndexColumnText], Field(min_length=1, max_length=32)]
    method: Method | None = None
    unique: bool = False
    where: CheckExpression | None = None


class Check(_Model):
    name: Name | None = None
    expression: CheckExpression


class ForeignKeyTarget(_Model):
    schema_: Name | None = Field(default=None, alias="schema")
    table: Name
    columns: Annotated[list[Name], Field(min_length=1, max_length=32)]


class ForeignKey(_Model):
    columns: Annotated[list[Name], Field(min_length=1, max_length=32)]
    references: ForeignKeyTarget
    on_delete: OnDelete | None = None


class Policy(_Model):
    name: PolicyName
    command: Command = "ALL"
    roles: Annotated[list[RoleName], Field(min_length=1, max_length=MAX_ITEMS)] | None = None
    using: PolicyExpression | None = None
    with_check: PolicyExpression | None = None
    permissive: bool = True


class Table(_Model):
    name: Name
    comment: CommentText | None = None
    renamed_from: Name | None = None
    columns: Annotated[list[Column], Field(max_length=MAX_COLUMNS)]
    # The primary key's columns in the key's order, which may differ from the columns' order
    # (instead of ``primary_key: true`` on each column, never both).
    primary_key: Annotated[list[Name], Field(min_length=1, max_length=32)] | None = None
    indexes: Annotated[list[Index], Field(max_length=MAX_INDEXES)] = []
    unique: Annotated[
        list[Annotated[list[Name], Field(min_length=1, max_length=32)]],
        Field(max_length=MAX_ITEMS),
    ] = []
    checks: Annotated[list[Check], Field(max_length=MAX_ITEMS)] = []
    foreign_keys: Annotated[list[ForeignKey], Field(max_length=MAX_ITEMS)] = []
    rls: Rls = True
    policies: Annotated[list[Policy], Field(max_length=MAX_ITEMS)] = []
    # None: the plan manages no grants on the table; a list (even empty): exactly these.
    grants: (
        Annotated[list[Grant], Field(max_length=MAX_ITEMS), AfterValidator(one_grant_per_role)]
        | None
    ) = None
    # The same for the sequences of the table's serial and identity columns.
    sequence_grants: (
        Annotated[
            list[SequenceGrant], Field(max_length=MAX_ITEMS), AfterValidator(one_grant_per_role)
        ]
        | None
    ) = None
    # None: the table's triggers are left alone; a list (even empty): exactly these.
    triggers: Triggers | None = None


class Fence(_Model):
    """The multi-tenant fence: the column every table carries and the policy expression."""

    column: ColumnName = DEFAULT_FENCE_COLUMN
    type: TypeName = DEFAULT_FENCE_TYPE
    using: PolicyExpression | None = None  # derived from ``column`` when absent
    # restrictive: a RESTRICTIVE fence policy no permissive policy can widen (new tables);
    # absent: restrictive for new tables, the form a live table has for existing ones.
    mode: Literal["restrictive", "permissive"] | None = None


class Payload(_Model):
    schema_version: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION), AfterValidator(_comment)]
    force_apply: bool = False
    # The earlier version whose schema this one brings back: a revert is a new, higher
    # version (versions only go up), and says so. Not part of the schema, so not hashed.
    revert_of: (
        Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)] | None
    ) = None
    fence: Fence | None = None
    auto_columns: bool = True
    # CREATE EXTENSION IF NOT EXISTS, from the deployment's allowlist; never dropped.
    extensions: Annotated[
        list[ExtensionName], Field(max_length=MAX_EXTENSIONS), AfterValidator(unique_extensions)
    ] = []
    # How existing tables change: "online" (slow steps run after the transaction, without
    # blocking writes) or "atomic" (one transaction); None leaves it to the target.
    apply_mode: Literal["online", "atomic"] | None = None
    types: Annotated[list[EnumType], Field(max_length=MAX_TYPES)] = []
    tables: Annotated[list[Table], Field(min_length=1, max_length=MAX_TABLES)]
    functions: Annotated[list[Function], Field(max_length=MAX_FUNCTIONS)] = []
    # None: default privileges are left alone; a list (even empty): exactly these.
    default_privileges: Annotated[list[DefaultPrivilege], Field(max_length=MAX_ITEMS)] | None = None


class Meta(_Model):
    workflow_name: Literal["WF106"] = "WF106"
    workflow_version: MetaText | None = None
    workflow_run_id: MetaText | None = None
    idempotency_key: MetaText | None = None
    trigger_source: Literal["webhook", "form", "api", "cli"] | None = None
    timestamp_utc: Timestamp | None = None
    tenant_id: TenantId | None = None
    environment: Annotated[str, AfterValidator(_environment)] | None = None


class Subject(_Model):
    tenant_id: TenantId | None = None


class Context(_Model):
    actor_id: MetaText | None = None
    validation_profile: Literal["safe", "full"] = "safe"


class Envelope(_Model):
    """The orchestration envelope around a payload (seed ``wf106-design-v2.md``)."""

    meta: Meta = Meta()
    subject: Subject = Subject()
    payload: Payload
    context: Context = Context()


def split_index_column(text: str) -> tuple[str, str | None, str | None]:
    """``"event_timestamp DESC NULLS LAST"`` -> ``("event_timestamp", "DESC", "LAST")``."""
    match = _INDEX_COLUMN.fullmatch(text)
    if not match:
        raise ValueError(f"not an index column: {text!r}")
    direction = match["direction"].upper() if match["direction"] else None
    nulls = match["nulls"].upper() if match["nulls"] else None
    return match["name"], direction, nulls


def known_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys a model accepts, for suggestions on a typo."""
    return tuple(model.model_fields)


def field_model(model: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The model that the value under ``key`` of ``model`` is validated as, if any."""
    field = model.model_fields.get(key)
    return _find_model(field.annotation) if field else None


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _find_model(arg)
        if found:
            return found
    origin = getattr(annotation, "__origin__", None)
    if origin is Annotated:
        return _find_model(annotation.__origin__)
    return None
