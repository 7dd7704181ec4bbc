"""Canonical forms per member: a table assembled from forms PostgreSQL printed before.

The table-level cache (``cache.py``) vouches for a whole table definition. Most changes,
though, touch one member of a table (a column added, a type widened, an index added) and
leave the rest as it was, and the few spellings a schema uses (``TIMESTAMPTZ DEFAULT NOW()
NOT NULL``, ``PRIMARY KEY (id)``, the fence policy) repeat from table to table. So each
member (a column, a constraint, an index, a policy, and the table's own RLS flags and
comment) also gets a key of its own: everything that decides how PostgreSQL prints it,
without its name (no member's printed form depends on its own name) and without the table's
name, plus the declared types of the columns its expressions mention (``status IN ('a')``
prints differently on text and on varchar). A table whose every member has a known form is
assembled from them and not materialized; any unknown member and the whole table is
materialized as before, and its members are stored for next time.

A member whose form may depend on more than its key is never assembled: a policy with a
sub-query (its form depends on the other table's columns). Forms are stored only when
reassembling them reproduces the materialized table exactly, so an assembled table is what
materializing it would have printed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from schemabuilder.engine.catalog.snapshot import Column, Constraint, Index, Policy, Table
from schemabuilder.engine.contract import fragments
from schemabuilder.engine.contract.names import ConstraintNames, constraint_names
from schemabuilder.engine.contract.normalize import NCheck, NColumn, NormalizedBlueprint, NTable
from schemabuilder.engine.desired.cache import CANONICAL_FORM_VERSION, CanonicalKey

# Bump when a member's key material or the way forms are stored changes.
MEMBER_FORM_VERSION = 2  # 2: a column's identity and generation expression

_Member = Column | Constraint | Index | Policy


@dataclass(frozen=True)
class _Slot:
    """One member of a blueprint table: its key, and how its form is found in or put into a
    table (``pick`` reads it from a materialized table; ``kind`` says where it goes)."""

    key: CanonicalKey
    kind: str  # "columns" | "constraints" | "indexes" | "policies" | "table"
    name: str  # the member's name in this table ("" for the table slot)
    # The columns the member's printed form depends on (their types), and whether it can be
    # printed on a reduced copy of the table holding just those columns (see reduced_table).
    mentions: frozenset[str] = frozenset()
    reducible: bool = True
    check: str | None = None  # a CHECK constraint's expression


@dataclass(frozen=True)
class TableMembers:
    """The member slots of one blueprint table, in blueprint order."""

    table: str
    slots: tuple[_Slot, ...]

    @property
    def keys(self) -> set[CanonicalKey]:
        return {s.key for s in self.slots}


def _key(material: dict[str, Any], server_major: int, context: str) -> CanonicalKey:
    text = json.dumps(
        {
            "member_form": MEMBER_FORM_VERSION,
            "form": CANONICAL_FORM_VERSION,
            "context": context,
            **material,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return CanonicalKey(hashlib.sha256(text.encode()).hexdigest(), server_major)


def _mentioned(expression: str) -> frozenset[str] | None:
    """Column names an expression mentions; None when it has a sub-query (its form may then
    depend on other tables) or does not parse (it is then materialized, and fails there)."""
    checked = fragments.check_expression(expression, allow_subqueries=False)
    return None if checked.problem else checked.column_refs


def table_members(
    table: NTable, bp: NormalizedBlueprint, server_version: int, context: str = ""
) -> TableMembers | None:
    """The member slots of ``table``, or None when it cannot be assembled from members.
    ``context`` is the target's (``live_forms.form_context``), as in ``canonical_key``."""
    major = server_version // 10000
    types = {c.name: c.type for c in table.columns}
    tables = {t.name: t for t in bp.tables}
    names = constraint_names(table)
    slots: list[_Slot] = []

    def add(
        kind: str,
        name: str,
        material: dict[str, Any],
        mentions: Iterable[str] = (),
        reducible: bool = True,
        check: str | None = None,
    ) -> None:
        key = _key({"kind": kind, **material}, major, context)
        slots.append(_Slot(key, kind, name, frozenset(mentions), reducible, check))

    def types_of(columns: Iterable[str]) -> dict[str, str | None]:
        return {c: types.get(c) for c in sorted(set(columns))}

    def ref_types(ref_table: str, ref_columns: Iterable[str]) -> dict[str, str | None] | None:
        target = tables.get(ref_table)
        if target is None:
            return None  # a live table outside the blueprint: checked when first materialized
        return {c: (col.type if (col := target.column(c)) else None) for c in ref_columns}

    add("table", "", {"rls": table.rls, "comment": table.comment})
    for c in table.columns:
        # A generated column prints its expression, whose form depends on the types of the
        # columns it reads: they are part of its key, and of its reduced table.
        reads = _mentioned(c.generated) if c.generated is not None else frozenset()
        if reads is None:
            return None
        add(
            "columns",
            c.name,
            {
                "type": c.type,
                "default": c.default,
                "not_null": c.not_null,
                "primary_key": c.primary_key,
                "comment": c.comment,
                # Only when set, so that the keys of other columns stay what they were.
                **({"identity": c.identity} if c.identity is not None else {}),
                **(
                    {"generated": c.generated, "types": types_of(reads)}
                    if c.generated is not None
                    else {}
                ),
            },
            mentions=(c.name, *reads),
        )
    constraints = _constraint_material(table, names, types_of, ref_types)
    if constraints is None:
        return None
    for name, material in constraints:
        is_check = material["constraint"] == "check"
        add(
            "constraints",
            name,
            material,
            mentions=material.get("types", ()),
            reducible=is_check,
            check=material["expr"] if is_check else None,
        )
    for index in table.indexes:
        mentioned = {c.name for c in index.columns}
        if index.where is not None:
            refs = _mentioned(index.where)
            if refs is None:
                return None
            mentioned |= refs
        add(
            "indexes",
            index.name,
            {
                "unique": index.unique,
                "method": index.method,
                "columns": [[c.name, c.direction, c.nulls] for c in index.columns],
                "where": index.where,
                "types": types_of(mentioned),
            },
            mentions=mentioned,
        )
    for policy in table.policies:
        mentioned = set()
        for expression in (policy.using, policy.with_check):
            if expression is not None:
                refs = _mentioned(expression)
                if refs is None:
                    return None
                mentioned |= refs
        add(
            "policies",
            policy.name,
            {
                "command": policy.command,
                "roles": list(policy.roles),
                "permissive": policy.permissive,
                "using": policy.using,
                "with_check": policy.with_check,
                "types": types_of(mentioned),
            },
            mentions=mentioned,
        )
    return TableMembers(table.name, tuple(slots))


def _constraint_material(
    table: NTable,
    names: ConstraintNames,
    types_of: Callable[[Iterable[str]], dict[str, str | None]],
    ref_types: Callable[[str, Iterable[str]], dict[str, str | None] | None],
) -> list[tuple[str, dict[str, Any]]] | None:
    out: list[tuple[str, dict[str, Any]]] = []
    if names.primary_key:
        out.append((names.primary_key, {"constraint": "pk", "columns": list(table.primary_key)}))
    for column in table.columns:
        if column.unique:
            material = {"constraint": "unique", "columns": [column.name]}
            out.append((names.column_unique[column.name], material))
    for name, cols in zip(names.unique, table.unique, strict=True):
        out.append((name, {"constraint": "unique", "columns": list(cols)}))
    checks = [(names.column_check[c.name], c.check) for c in table.columns if c.check]
    checks += [(n, c.expression) for n, c in zip(names.checks, table.checks, strict=True)]
    for name, expression in checks:
        refs = _mentioned(expression)
        if refs is None:
            return None
        out.append((name, {"constraint": "check", "expr": expression, "types": types_of(refs)}))
    fks: list[tuple[str, tuple[str, ...], str, tuple[str, ...], str]] = [
        (names.column_fkey[c.name], (c.name,), r.target, (r.column,), r.on_delete)
        for c in table.columns
        if (r := c.references) is not None
    ]
    fks += [
        (n, fk.columns, fk.target, fk.ref_columns, fk.on_delete)
        for n, fk in zip(names.foreign_keys, table.foreign_keys, strict=True)
    ]
    for name, cols, ref_table, ref_cols, on_delete in fks:
        out.append(
            (
                name,
                {
                    "constraint": "fk",
                    "columns": list(cols),
                    "ref_table": ref_table,
                    "ref_columns": list(ref_cols),
                    "on_delete": on_delete,
                    "types": types_of(cols),
                    "ref_types": ref_types(ref_table, ref_cols),
                },
            )
        )
    return out


def reduced_table(
    table: NTable, members: TableMembers, missing: set[CanonicalKey]
) -> NTable | None:
    """A copy of ``table`` that holds only what prints the ``missing`` members: the columns
    they mention and those members, under the same names (a few columns and an index cost a
    fraction of the whole table with its primary key, indexes and policies). None when a
    missing member needs the whole table (a primary key, unique or foreign key constraint)
    or when most of the table is missing anyway."""
    wanted = [s for s in members.slots if s.key in missing]
    if not wanted or any(not s.reducible for s in wanted) or 2 * len(wanted) > len(members.slots):
        return None
    needed = set().union(*(s.mentions for s in wanted))
    names = {s.name for s in wanted}
    head = any(s.kind == "table" for s in wanted)
    return NTable(
        name=table.name,
        comment=table.comment if head else None,
        columns=tuple(
            NColumn(
                name=c.name,
                type=c.type,
                not_null=c.not_null or c.primary_key,
                default=c.default,
                comment=c.comment,
                identity=c.identity,
                generated=c.generated,
            )
            for c in table.columns
            if c.name in needed
        ),
        indexes=tuple(i for i in table.indexes if i.name in names),
        checks=tuple(
            NCheck(name=s.name, expression=s.check)
            for s in wanted
            if s.kind == "constraints" and s.check is not None
        ),
        rls=table.rls if head else False,
        policies=tuple(p for p in table.policies if p.name in names),
    )


def learn_reduced(
    members: TableMembers, missing: set[CanonicalKey], reduced: Table
) -> dict[CanonicalKey, Table]:
    """The forms of the ``missing`` members, read off the materialized reduced table."""
    maps: dict[str, Mapping[str, _Member]] = {
        "columns": reduced.column_map,
        "constraints": reduced.constraint_map,
        "indexes": reduced.index_map,
        "policies": reduced.policy_map,
    }
    forms: dict[CanonicalKey, Table] = {}
    for slot in members.slots:
        if slot.key not in missing or slot.key in forms:
            continue
        if slot.kind == "table":
            forms[slot.key] = Table(
                name="", rls=reduced.rls, rls_forced=reduced.rls_forced, comment=reduced.comment
            )
            continue
        member = maps[slot.kind].get(slot.name)
        if member is not None:
            forms[slot.key] = _one_member_table(_nameless(member))
    return forms


def _nameless(member: _Member) -> _Member:
    nameless = dataclasses.replace(member, name="")
    if isinstance(nameless, Column):
        nameless = dataclasses.replace(nameless, position=0)
    return nameless


def assemble(members: TableMembers, forms: Mapping[CanonicalKey, Table]) -> Table | None:
    """The table built from its members' stored forms; None when any form is missing."""
    columns: list[Column] = []
    constraints: list[Constraint] = []
    indexes: list[Index] = []
    policies: list[Policy] = []
    head: Table | None = None
    for slot in members.slots:
        form = forms.get(slot.key)
        if form is None:
            return None
        if slot.kind == "table":
            head = form
            continue
        member = _only_member(form, slot.kind)
        if member is None:
            return None
        if slot.kind == "columns":
            assert isinstance(member, Column)
            columns.append(dataclasses.replace(member, name=slot.name, position=len(columns) + 1))
        elif slot.kind == "constraints":
            assert isinstance(member, Constraint)
            constraints.append(dataclasses.replace(member, name=slot.name))
        elif slot.kind == "indexes":
            assert isinstance(member, Index)
            indexes.append(dataclasses.replace(member, name=slot.name))
        else:
            assert isinstance(member, Policy)
            policies.append(dataclasses.replace(member, name=slot.name))
    if head is None:
        return None
    return Table(
        name=members.table,
        columns=tuple(columns),
        constraints=tuple(constraints),
        indexes=tuple(indexes),
        policies=tuple(policies),
        rls=head.rls,
        rls_forced=head.rls_forced,
        comment=head.comment,
    )


def split(members: TableMembers, table: Table) -> dict[CanonicalKey, Table] | None:
    """The stored forms of a materialized table's members (each a one-member table, without
    names), or None when they would not reassemble into exactly ``table``."""
    maps: dict[str, Mapping[str, _Member]] = {
        "columns": table.column_map,
        "constraints": table.constraint_map,
        "indexes": table.index_map,
        "policies": table.policy_map,
    }
    forms: dict[CanonicalKey, Table] = {}
    for slot in members.slots:
        if slot.kind == "table":
            form = Table(name="", rls=table.rls, rls_forced=table.rls_forced, comment=table.comment)
        else:
            member = maps[slot.kind].get(slot.name)
            if member is None:
                return None
            form = _one_member_table(_nameless(member))
        if forms.setdefault(slot.key, form) != form:
            return None  # two members with one key printed differently: keep neither
    if assemble(members, forms) != table:
        return None  # a member PostgreSQL added, or one the slots do not account for
    return forms


def _only_member(form: Table, kind: str) -> _Member | None:
    members: tuple[_Member, ...] = getattr(form, kind)
    return members[0] if len(members) == 1 else None


def _one_member_table(member: _Member) -> Table:
    """How a member's form is stored: a nameless table holding that member alone."""
    if isinstance(member, Column):
        return Table(name="", columns=(member,))
    if isinstance(member, Constraint):
        return Table(name="", constraints=(member,))
    if isinstance(member, Index):
        return Table(name="", indexes=(member,))
    return Table(name="", policies=(member,))
