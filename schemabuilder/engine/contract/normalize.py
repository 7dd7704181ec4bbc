"""Normalization: a validated blueprint becomes the canonical desired state.

Names become snake_case, the auto columns and default indexes are added, every table gets
its fence policy unless it declares its own, and the result is frozen. The canonical JSON
of that result (sorted keys, no insignificant white space) is what ``schema_hash`` hashes,
so two blueprints that differ only in key order, white space or name casing hash the same.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemabuilder.engine.contract.blueprint import (
    DEFAULT_FENCE_COLUMN,
    DEFAULT_FENCE_TYPE,
    FENCE_SETTING,
    Column,
    Fence,
    Payload,
    Policy,
    Table,
    split_index_column,
)
from schemabuilder.engine.contract.functions import NFunction, normalize_function
from schemabuilder.engine.contract.grants import (
    NDefaultPrivilege,
    NGrant,
    normalize_default_privilege,
    normalize_grants,
)
from schemabuilder.engine.contract.idents import (
    fit_identifier,
    policy_name,
    quote_ident,
    snake_case,
)
from schemabuilder.engine.contract.triggers import NTrigger, normalize_triggers
from schemabuilder.engine.contract.types import NType, normalize_type

Direction = Literal["ASC", "DESC"]
Nulls = Literal["FIRST", "LAST"]
RlsMode = bool | Literal["force"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def reference_target(schema: str | None, table: str) -> str:
    """How a foreign key's referenced table is named: ``auth.users`` in another schema (as
    PostgreSQL prints it from the target's search_path), ``users`` in the target's own."""
    return f"{schema}.{table}" if schema else table


class NReference(_Frozen):
    """A column-level foreign key to ``table(column)``, in ``ref_schema`` when the table is
    outside the blueprint in another schema (None: the target's own schema)."""

    table: str
    column: str
    on_delete: str = "no action"
    # Left out of the canonical JSON when unset: every blueprint written before references
    # to other schemas existed keeps its schema_hash.
    ref_schema: str | None = Field(default=None, exclude_if=lambda v: v is None)

    @property
    def target(self) -> str:
        """``schema.table`` for a table in another schema, else the table's name."""
        return reference_target(self.ref_schema, self.table)


class NColumn(_Frozen):
    name: str
    type: str
    not_null: bool = False
    primary_key: bool = False
    default: str | None = None
    unique: bool = False
    check: str | None = None
    comment: str | None = None
    references: NReference | None = None
    renamed_from: str | None = None
    # "ALWAYS" | "BY DEFAULT". Left out of the canonical JSON when unset, so that every
    # blueprint written before identity existed keeps its schema_hash.
    identity: str | None = Field(default=None, exclude_if=lambda v: v is None)
    # The expression of a stored generated column; left out when unset, likewise.
    generated: str | None = Field(default=None, exclude_if=lambda v: v is None)


class NIndexColumn(_Frozen):
    name: str
    direction: Direction | None = None
    nulls: Nulls | None = None


class NIndex(_Frozen):
    name: str
    columns: tuple[NIndexColumn, ...]
    method: str | None = None
    unique: bool = False
    where: str | None = None


class NCheck(_Frozen):
    name: str | None
    expression: str


class NForeignKey(_Frozen):
    """A table-level foreign key: ``columns`` reference ``ref_table(ref_columns)``."""

    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "no action"
    ref_schema: str | None = Field(default=None, exclude_if=lambda v: v is None)

    @property
    def target(self) -> str:
        """``schema.table`` for a table in another schema, else the table's name."""
        return reference_target(self.ref_schema, self.ref_table)


class NPolicy(_Frozen):
    name: str
    command: str
    roles: tuple[str, ...]
    using: str | None
    with_check: str | None
    permissive: bool = True


class NFence(_Frozen):
    column: str
    type: str
    using: str
    # None: not stated (restrictive for new tables; plan keeps a live table's form).
    mode: Literal["restrictive", "permissive"] | None = None


class NTable(_Frozen):
    name: str
    comment: str | None = None
    renamed_from: str | None = None
    columns: tuple[NColumn, ...]
    indexes: tuple[NIndex, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    checks: tuple[NCheck, ...] = ()
    foreign_keys: tuple[NForeignKey, ...] = ()
    rls: RlsMode = True
    policies: tuple[NPolicy, ...] = ()
    # None: grants on the table are not managed. Left out of the canonical JSON when unset,
    # so every blueprint written before grants existed keeps its schema_hash.
    grants: tuple[NGrant, ...] | None = Field(default=None, exclude_if=lambda v: v is None)
    sequence_grants: tuple[NGrant, ...] | None = Field(default=None, exclude_if=lambda v: v is None)
    # None: the table's triggers are left alone (and out of the canonical JSON).
    triggers: tuple[NTrigger, ...] | None = Field(default=None, exclude_if=lambda v: v is None)
    # The table-level primary key, in its order (its columns are marked primary_key too);
    # None for a key said on the columns. Left out of the canonical JSON when unset.
    key_order: tuple[str, ...] | None = Field(default=None, exclude_if=lambda v: v is None)

    def column(self, name: str) -> NColumn | None:
        """The column called ``name``, if the table has one."""
        return next((c for c in self.columns if c.name == name), None)

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The primary key's columns, in the key's order (empty when the table has none)."""
        if self.key_order is not None:
            return self.key_order
        return tuple(c.name for c in self.columns if c.primary_key)


class NormalizedBlueprint(_Frozen):
    schema_version: str
    description: str
    force_apply: bool
    fence: NFence
    tables: tuple[NTable, ...]
    default_privileges: tuple[NDefaultPrivilege, ...] | None = Field(
        default=None, exclude_if=lambda v: v is None
    )
    types: tuple[NType, ...] = ()
    functions: tuple[NFunction, ...] = ()
    # In the order written; left out of the canonical JSON when empty (``canonical_json``).
    extensions: tuple[str, ...] = ()
    # None: the caller's (the target's) mode; hashed only when given, so a blueprint without
    # it keeps the hash it had.
    apply_mode: Literal["online", "atomic"] | None = Field(
        default=None, exclude_if=lambda v: v is None
    )

    def table(self, name: str) -> NTable | None:
        """The table called ``name``, if the blueprint has one."""
        return next((t for t in self.tables if t.name == name), None)


@dataclass
class Origin:
    """Where each normalized item came from in the input, for error paths.

    The lists run parallel to the normalized tuples; None marks an item that normalization
    added (an auto column, a default index, the fence policy).
    """

    table: Table
    columns: list[int | None] = field(default_factory=list)
    indexes: list[int | None] = field(default_factory=list)


def default_fence_using(column: str) -> str:
    """The seed's fence expression for a fence column."""
    return f"{quote_ident(column)}::text = current_setting('{FENCE_SETTING}', true)"


def normalize_fence(fence: Fence | None) -> NFence:
    """The fence with its defaults filled in and its column name normalized."""
    if fence is None:
        column, type_ = DEFAULT_FENCE_COLUMN, DEFAULT_FENCE_TYPE
        return NFence(column=column, type=type_, using=default_fence_using(column))
    column = snake_case(fence.column)
    return NFence(
        column=column,
        type=fence.type,
        using=fence.using or default_fence_using(column),
        mode=fence.mode,
    )


def fence_policy_names(table: str) -> tuple[str, str]:
    """The restrictive fence's name and the default permissive policy's, for ``table``."""
    return fit_identifier(f"{table}_tenant_fence"), fit_identifier(f"{table}_tenant_isolation")


def fence_policies(table: str, fence: NFence) -> tuple[NPolicy, NPolicy]:
    """The restrictive fence and the default permissive policy of ``table``.

    A restrictive policy alone grants nothing (PostgreSQL needs one permissive policy to let
    a row through), so the permissive one is there when the table declares no policy.
    """
    fence_name, isolation_name = fence_policy_names(table)
    restrictive = NPolicy(
        name=fence_name,
        command="ALL",
        roles=("public",),
        using=fence.using,
        with_check=fence.using,
        permissive=False,
    )
    permissive = NPolicy(
        name=isolation_name,
        command="ALL",
        roles=("public",),
        using=fence.using,
        with_check=fence.using,
    )
    return restrictive, permissive


def auto_columns(fence: NFence) -> tuple[NColumn, ...]:
    """The columns ``auto_columns`` adds, in the order the seed's normalized table has them."""
    return (
        NColumn(name="id", type="UUID", primary_key=True, default="gen_random_uuid()"),
        NColumn(name=fence.column, type=fence.type, not_null=True),
        NColumn(name="created_at", type="TIMESTAMPTZ", not_null=True, default="NOW()"),
        NColumn(name="updated_at", type="TIMESTAMPTZ", not_null=True, default="NOW()"),
        NColumn(name="deleted_at", type="TIMESTAMPTZ"),
    )


def _column(column: Column) -> NColumn:
    reference = None
    if column.references is not None:
        reference = NReference(
            table=snake_case(column.references.table),
            column=snake_case(column.references.column),
            on_delete=column.references.on_delete or "no action",
            ref_schema=snake_case(r) if (r := column.references.schema_) else None,
        )
    return NColumn(
        name=snake_case(column.name),
        type=column.type,
        not_null=column.not_null,
        primary_key=column.primary_key,
        default=column.default,
        unique=column.unique,
        check=column.check,
        comment=column.comment,
        identity=column.identity.upper() if column.identity else None,
        generated=column.generated,
        references=reference,
        renamed_from=snake_case(column.renamed_from) if column.renamed_from else None,
    )


def _policy(policy: Policy) -> NPolicy:
    roles = tuple(r.lower() for r in policy.roles) if policy.roles else ("public",)
    return NPolicy(
        name=policy_name(policy.name),
        command=policy.command,
        roles=roles,
        using=policy.using,
        with_check=policy.with_check,
        permissive=policy.permissive,
    )


def normalize_table(table: Table, fence: NFence, *, auto: bool) -> tuple[NTable, Origin]:
    """One table, normalized, with the origin of each item for error paths."""
    name = snake_case(table.name)
    origin = Origin(table)
    # "policies": [] written out is a table nobody but its owner reaches (deny-all): no
    # default policy, no fence policy. Absent, the table gets the defaults as before.
    deny_all = "policies" in table.model_fields_set and not table.policies
    declared = [_column(c) for c in table.columns]
    declared_names = {c.name for c in declared}
    key_order = tuple(snake_case(c) for c in table.primary_key) if table.primary_key else None
    declares_pk = any(c.primary_key for c in declared) or key_order is not None
    added: list[NColumn] = []
    if auto:
        for column in auto_columns(fence):
            # A table with its own primary key keeps it; a second one would be invalid. A
            # table-level key may name the auto id ("tenant_id", "id"): it is then added.
            if column.name == "id" and declares_pk and "id" not in (key_order or ()):
                continue
            if column.name not in declared_names:
                added.append(column)
    elif (
        table.rls is not False
        and not table.policies
        and not deny_all
        and fence.column not in declared_names
    ):
        # The fence policy needs the fence column even without the other auto columns. A
        # table with policies of its own gets no column it did not ask for: an added column
        # would silently re-bind an unqualified name in another table's policy sub-query.
        added.append(auto_columns(fence)[1])
    origin.columns = [None] * len(added) + list(range(len(declared)))
    columns: tuple[NColumn, ...] = (*added, *declared)
    if key_order is not None:
        # The key's columns are marked as a per-column key marks them (NOT NULL and all);
        # ``key_order`` keeps the order. Names that are not columns are reported by rules.
        columns = tuple(c.model_copy(update={"primary_key": c.name in key_order}) for c in columns)

    indexes: list[NIndex] = []
    declared_index_names = {snake_case(i.name) for i in table.indexes}
    present = {c.name for c in columns}
    defaults = [fence.column, "created_at"] if auto else [fence.column] if added else []
    for column_name in defaults:
        index_name = fit_identifier(f"idx_{name}_{column_name}")
        if column_name in present and index_name not in declared_index_names:
            indexes.append(NIndex(name=index_name, columns=(NIndexColumn(name=column_name),)))
    origin.indexes = [None] * len(indexes) + list(range(len(table.indexes)))
    for index in table.indexes:
        index_columns = []
        for text in index.columns:
            column_name, direction, nulls = split_index_column(text)
            index_columns.append(
                NIndexColumn(
                    name=snake_case(column_name),
                    direction=direction,  # type: ignore[arg-type]
                    nulls=nulls,  # type: ignore[arg-type]
                )
            )
        indexes.append(
            NIndex(
                name=snake_case(index.name),
                columns=tuple(index_columns),
                method=index.method,
                unique=index.unique,
                where=index.where,
            )
        )

    policies: tuple[NPolicy, ...] = ()
    if table.rls is not False and not deny_all:
        restrictive, permissive = fence_policies(name, fence)
        declared_policies = tuple(_policy(p) for p in table.policies)
        policies = declared_policies or (permissive,)
        # Declared policies replace the permissive default; the restrictive fence stays
        # (unless the blueprint declares it itself, as as_payload writes it back). A table
        # without the fence column (its own policies, auto_columns off) is not fenced.
        if (
            fence.mode != "permissive"
            and fence.column in present
            and all(p.name != restrictive.name for p in policies)
        ):
            policies = (restrictive, *policies)
    normalized = NTable(
        name=name,
        comment=table.comment,
        renamed_from=snake_case(table.renamed_from) if table.renamed_from else None,
        columns=columns,
        indexes=tuple(indexes),
        unique=tuple(tuple(snake_case(c) for c in cols) for cols in table.unique),
        checks=tuple(
            NCheck(name=snake_case(c.name) if c.name else None, expression=c.expression)
            for c in table.checks
        ),
        foreign_keys=tuple(
            NForeignKey(
                columns=tuple(snake_case(c) for c in fk.columns),
                ref_table=snake_case(fk.references.table),
                ref_columns=tuple(snake_case(c) for c in fk.references.columns),
                on_delete=fk.on_delete or "no action",
                ref_schema=snake_case(r) if (r := fk.references.schema_) else None,
            )
            for fk in table.foreign_keys
        ),
        rls=table.rls,
        policies=policies,
        grants=normalize_grants(table.grants),
        sequence_grants=normalize_grants(table.sequence_grants),
        triggers=normalize_triggers(table.triggers),
        key_order=key_order,
    )
    return normalized, origin


def normalize_payload(payload: Payload) -> tuple[NormalizedBlueprint, list[Origin]]:
    """The normalized blueprint of a structurally valid payload, with per-table origins.

    This does not check cross-references; ``rules.check`` does, on this very result.
    """
    fence = normalize_fence(payload.fence)
    pairs = [normalize_table(t, fence, auto=payload.auto_columns) for t in payload.tables]
    blueprint = NormalizedBlueprint(
        schema_version=payload.schema_version,
        description=payload.description,
        force_apply=payload.force_apply,
        fence=fence,
        tables=tuple(table for table, _ in pairs),
        default_privileges=(
            tuple(normalize_default_privilege(d) for d in payload.default_privileges)
            if payload.default_privileges is not None
            else None
        ),
        types=tuple(normalize_type(t) for t in payload.types),
        functions=tuple(normalize_function(f) for f in payload.functions),
        extensions=tuple(payload.extensions),
        apply_mode=payload.apply_mode,
    )
    return blueprint, [origin for _, origin in pairs]


def canonical_json(bp: NormalizedBlueprint) -> str:
    """The blueprint as canonical JSON: sorted keys, no insignificant white space."""
    # A blueprint without types, functions or extensions hashes as it did before they existed.
    exclude = {name for name in ("types", "functions", "extensions") if not getattr(bp, name)}
    return json.dumps(
        bp.model_dump(mode="json", exclude=exclude or None),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def schema_hash(bp: NormalizedBlueprint) -> str:
    """SHA-256 (hex) of the canonical JSON."""
    return hashlib.sha256(canonical_json(bp).encode()).hexdigest()


def idempotency_key(tenant_id: str, bp: NormalizedBlueprint) -> str:
    """``idem:wf106:{tenant_id}:{schema_version}:{schema_hash}`` (seed design, node 5)."""
    return f"idem:wf106:{tenant_id}:{bp.schema_version}:{schema_hash(bp)}"
