"""The diff of enum types: create, rename, rename values, add values in their place, and the
swap that removing or reordering values takes.

A value added by ``ALTER TYPE ... ADD VALUE`` cannot be used in the transaction that adds it
("unsafe use of new value"), and before PostgreSQL 12 it cannot be added in a transaction at
all. The apply is one transaction: a plan that adds a value and also uses it (a default, a
check, a policy or an index naming it) is refused, with the way out in the message.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from schemabuilder.engine.catalog.enums import EnumUse, LiveEnum
from schemabuilder.engine.catalog.snapshot import Column, ConstraintKind, Snapshot, Table
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.contract.types import NType, create_enum_sql, literal
from schemabuilder.engine.diff.changes import DiffContext
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.diff.policies import create_policy_sql
from schemabuilder.engine.hazards.types import (
    drops_type,
    removes_values,
    renames_type,
    renames_value,
)

SWAP_SUFFIX = "__new"


@dataclass(frozen=True)
class TypeState:
    """What the diff of types needs: the blueprint's types, the live ones, the columns using
    them (live names), the server version, and the payload prefix for error paths."""

    desired: tuple[NType, ...]
    live: Mapping[str, LiveEnum]
    uses: Sequence[EnumUse]
    server_version: int
    prefix: str = "payload"
    # Types an earlier version of the blueprint declared: one the blueprint no longer has is
    # dropped (the others of the schema are never touched).
    managed: frozenset[str] = frozenset()


def source_of(t: NType, live: Mapping[str, LiveEnum]) -> LiveEnum | None:
    """The live type ``t`` continues: its own name, else the one it is renamed from."""
    if t.name in live:
        return live[t.name]
    return live.get(t.renamed_from) if t.renamed_from else None


def diff_types(ctx: DiffContext, state: TypeState, live: Snapshot, desired: Snapshot) -> None:
    """The statements that turn the live types into the blueprint's. ``live`` has this
    plan's renames (tables, columns, types, values) replayed: it prints as the tables will
    once those ran."""
    _drop_types(ctx, state, desired)
    for i, t in enumerate(state.desired):
        path = f"{state.prefix}.types[{i}]"
        source = source_of(t, state.live)
        name = quote_ident(t.name)
        qualified = f"{quote_ident(ctx.schema)}.{name}"
        if source is None:
            ctx.emit(
                create_enum_sql(qualified, t),
                Phase.TYPES,
                "",
                f"type {t.name} is new",
                lock=LockMode.NONE,
            )
            if t.comment is not None:
                _comment(ctx, qualified, t)
            continue
        if source.name != t.name:
            ctx.emit(
                f"ALTER TYPE {quote_ident(ctx.schema)}.{quote_ident(source.name)} RENAME TO {name}",
                Phase.TYPES,
                "",
                f"type {source.name} is renamed to {t.name} (renamed_from)",
                hazards=[renames_type(source.name, t.name)],
                lock=LockMode.NONE,
            )
        values = list(source.values)
        for old, new in t.renamed_values:
            if old in values and new not in values:
                ctx.emit(
                    f"ALTER TYPE {qualified} RENAME VALUE {literal(old)} TO {literal(new)}",
                    Phase.TYPES,
                    "",
                    f"value {old!r} of {t.name} is renamed to {new!r} (renamed_values)",
                    hazards=[renames_value(t.name, old, new)],
                    lock=LockMode.NONE,
                )
                values[values.index(old)] = new
        kept = [v for v in values if v in t.values]
        if len(kept) < len(values) or kept != [v for v in t.values if v in values]:
            _swap(ctx, state, t, source.name, values, live, desired, path)
            if t.comment is not None:  # the new type has none yet
                _comment(ctx, qualified, t)
            continue
        _add_values(ctx, state, t, values, desired, path)
        if t.comment != source.comment:
            _comment(ctx, qualified, t)


def _comment(ctx: DiffContext, qualified: str, t: NType) -> None:
    text = "NULL" if t.comment is None else literal(t.comment)
    ctx.emit(
        f"COMMENT ON TYPE {qualified} IS {text}",
        Phase.TYPES,
        "",
        f"the comment of type {t.name}",
        lock=LockMode.NONE,
    )


def _add_values(
    ctx: DiffContext,
    state: TypeState,
    t: NType,
    values: list[str],
    desired: Snapshot,
    path: str,
) -> None:
    """``ADD VALUE`` each new value, BEFORE the next value it precedes (or AFTER the last)."""
    current = list(values)
    qualified = f"{quote_ident(ctx.schema)}.{quote_ident(t.name)}"
    for j, value in enumerate(t.values):
        if value in current:
            continue
        where = f"{path}.enum[{j}]"
        if state.server_version < 120000:
            ctx.issues.append(
                Issue(
                    where,
                    f"adds {value!r} to {t.name}, which PostgreSQL before 12 cannot do inside "
                    "a transaction, and every apply is one: add the value by hand, or upgrade",
                )
            )
            return
        users = _users_of(desired, t.name, value)
        if users:
            ctx.issues.append(
                Issue(
                    where,
                    f"adds {value!r} to {t.name} and uses it in the same plan ({users[0]}): "
                    "PostgreSQL refuses a value in the transaction that adds it. Apply the new "
                    "value first, in its own version, then use it",
                )
            )
        following = next((v for v in t.values[j + 1 :] if v in current), None)
        if following is not None:
            position = f"BEFORE {literal(following)}"
            current.insert(current.index(following), value)
        else:
            position = f"AFTER {literal(current[-1])}"
            current.append(value)
        ctx.emit(
            f"ALTER TYPE {qualified} ADD VALUE {literal(value)} {position}",
            Phase.TYPES,
            "",
            f"value {value!r} is added to {t.name}",
            lock=LockMode.NONE,
        )


def names_value(text: str | None, type_name: str, value: str) -> bool:
    """Whether ``text`` (as PostgreSQL prints it) casts ``value`` to the type: ``'v'::t``, or
    an array literal holding it, ``'{v,w}'::t[]``."""
    if not text:
        return False
    cast = re.compile(r"'((?:[^']|'')*)'::" + re.escape(type_name) + r"(\[\])?(?![\w$])")
    for match in cast.finditer(text):
        literal_text = match[1].replace("''", "'")
        if match[2] is None:
            if literal_text == value:
                return True
            continue
        items = literal_text.strip("{}").split(",")
        if value in (item.strip().strip('"') for item in items):
            return True
    return False


def _users_of(desired: Snapshot, type_name: str, value: str) -> list[str]:
    """Where the desired tables name ``value`` of ``type_name``."""
    found = []
    for table in desired.tables:
        for column in table.columns:
            if names_value(column.default, type_name, value):
                found.append(f"the default of {table.name}.{column.name}")
        for con in table.constraints:
            if names_value(con.definition, type_name, value):
                found.append(f"constraint {con.name} of {table.name}")
        for index in table.indexes:
            if names_value(index.definition, type_name, value):
                found.append(f"index {index.name} of {table.name}")
        for policy in table.policies:
            if any(names_value(e, type_name, value) for e in (policy.using, policy.with_check)):
                found.append(f"policy {policy.name} of {table.name}")
    return found


def _swap(
    ctx: DiffContext,
    state: TypeState,
    t: NType,
    live_name: str,
    values: list[str],
    live: Snapshot,
    desired: Snapshot,
    path: str,
) -> None:
    """Values removed or reordered: a new type, every column converted to it through text,
    the old type dropped and the new one renamed to the old name."""
    schema = quote_ident(ctx.schema)
    new_name = t.name + SWAP_SUFFIX
    staged = f"{schema}.{quote_ident(new_name)}"
    removed = [v for v in values if v not in t.values]
    ctx.emit(
        create_enum_sql(staged, t),
        Phase.TYPES,
        "",
        f"values of {t.name} are removed or reordered: a new type takes its place",
        lock=LockMode.NONE,
    )
    restore: list[tuple[str, str, str]] = []
    converted: list[tuple[EnumUse, str, str, Column]] = []
    for use in state.uses:
        if use.type_name != live_name:
            continue
        if (
            use.schema != ctx.schema
            or live.table(ctx.renames.tables.get(use.table, use.table)) is None
        ):
            ctx.issues.append(
                Issue(
                    path,
                    f"removing or reordering values of {t.name} converts every column using it, "
                    f"and {use.schema}.{use.table}.{use.column} is not managed here: keep the "
                    "values, or bring that table into the blueprint",
                )
            )
            continue
        table = ctx.renames.tables.get(use.table, use.table)
        column = ctx.renames.columns.get(table, {}).get(use.column, use.column)
        after = desired.table(table)
        col = after.column_map.get(column) if after is not None else None
        if col is not None:  # else dropped by this plan before the types change
            converted.append((use, table, column, col))
    rebuilt: list[tuple[str, str, str]] = []
    for before in live.tables:
        after = desired.table(before.name)
        if after is not None:
            columns = {c for _, table, c, _ in converted if table == before.name}
            rebuilt += _set_aside(ctx, before, after, columns, t.name)
    for use, table, column, col in converted:
        target = ctx.qualified(table)
        if use.default is not None:
            ctx.emit(
                f"ALTER TABLE {target} ALTER COLUMN {quote_ident(column)} DROP DEFAULT",
                Phase.TYPES,
                table,
                f"the default of {column} names the old type; it is set again after the swap",
            )
            if col.default is not None:
                restore.append((table, column, col.default))
        array = "[]" if use.is_array else ""
        ctx.emit(
            f"ALTER TABLE {target} ALTER COLUMN {quote_ident(column)} TYPE {staged}{array} "
            f"USING {quote_ident(column)}::text{array}::{staged}{array}",
            Phase.TYPES,
            table,
            f"{column} moves to the new {t.name}",
            hazards=[removes_values(ctx.facts, t.name, removed, table, column, use.is_array)],
        )
    ctx.emit(
        f"DROP TYPE {schema}.{quote_ident(t.name)}",
        Phase.TYPES,
        "",
        f"the old {t.name} is no longer used",
        lock=LockMode.NONE,
    )
    ctx.emit(
        f"ALTER TYPE {staged} RENAME TO {quote_ident(t.name)}",
        Phase.TYPES,
        "",
        f"the new type takes the name {t.name}",
        lock=LockMode.NONE,
    )
    for table, column, default in restore:
        ctx.emit(
            f"ALTER TABLE {ctx.qualified(table)} ALTER COLUMN {quote_ident(column)} "
            f"SET DEFAULT {default}",
            Phase.TYPES,
            table,
            f"the default of {column}, on the new type",
        )
    for sql, table, reason in dict.fromkeys(rebuilt):
        ctx.emit(sql, Phase.TYPES, table, reason)


def _set_aside(
    ctx: DiffContext, live: Table, desired: Table, columns: set[str], type_name: str
) -> list[tuple[str, str, str]]:
    """Drop what would stop ``columns`` from changing type, or the old type from going, and
    is not changed by this plan anyway (the table's own diff drops and rebuilds what
    changes): checks and indexes naming the type's values, which PostgreSQL would rebuild
    against the old type, and policies on the columns or naming the type, which PostgreSQL
    refuses to keep. Returns the statements that put them back."""
    cast = re.compile(r"::" + re.escape(type_name) + r"\b")
    table = desired.name
    again: list[tuple[str, str, str]] = []
    for con in live.constraints:
        same = desired.constraint_map.get(con.name)
        if same == con and con.kind is ConstraintKind.CHECK and cast.search(con.definition):
            ctx.emit(
                f"ALTER TABLE {ctx.qualified(table)} DROP CONSTRAINT {quote_ident(con.name)}",
                Phase.TYPES,
                table,
                f"check {con.name} names values of {type_name}: it is added again on the new type",
            )
            again.append(
                (
                    f"ALTER TABLE {ctx.qualified(table)} ADD CONSTRAINT {quote_ident(con.name)} "
                    f"{same.written}",
                    table,
                    f"check {con.name}, on the new type",
                )
            )
    for index in live.indexes:
        same_index = desired.index_map.get(index.name)
        if same_index == index and cast.search(index.definition):
            ctx.emit(
                f"DROP INDEX {ctx.qualified(index.name)}",
                Phase.TYPES,
                table,
                f"index {index.name} names values of {type_name}: it is built again",
            )
            unique = "UNIQUE " if index.unique else ""
            again.append(
                (
                    f"CREATE {unique}INDEX {quote_ident(index.name)} ON {ctx.qualified(table)} "
                    f"{same_index.written}",
                    table,
                    f"index {index.name}, on the new type",
                )
            )
    for policy in live.policies:
        same_policy = desired.policy_map.get(policy.name)
        named = any(e and cast.search(e) for e in (policy.using, policy.with_check))
        if same_policy == policy and (named or columns & set(policy.columns)):
            ctx.emit(
                f"DROP POLICY {quote_ident(policy.name)} ON {ctx.qualified(table)}",
                Phase.TYPES,
                table,
                f"policy {policy.name} uses {type_name}, which is swapped: it is created again",
            )
            again.append(
                (
                    create_policy_sql(ctx, table, same_policy),
                    table,
                    f"policy {policy.name}, unchanged, on the new type",
                )
            )
    return again


def replay_type_renames(live: Snapshot, state: TypeState) -> Snapshot:
    """``live`` as it prints once this plan's type and value renames ran: a column of the
    renamed type, or a default naming a renamed value, is not a change of the table."""
    rewrites: list[tuple[re.Pattern[str], str]] = []
    for t in state.desired:
        source = source_of(t, state.live)
        if source is None:
            continue
        for old, new in t.renamed_values:
            if old in source.values:
                pattern = re.escape(literal(old)) + "::" + re.escape(source.name) + r"\b"
                rewrites.append((re.compile(pattern), f"{literal(new)}::{source.name}"))
        if source.name != t.name:
            rewrites.append((re.compile(r"(?<![\w$\"])" + re.escape(source.name) + r"\b"), t.name))
    if not rewrites:
        return live

    def text(value: str | None) -> str | None:
        if value is None:
            return None
        for pattern, replacement in rewrites:
            value = pattern.sub(replacement, value)
        return value

    def typed(value: str) -> str:
        out = text(value)
        assert out is not None
        return out

    tables = []
    for table in live.tables:
        tables.append(
            dataclasses.replace(
                table,
                columns=tuple(
                    dataclasses.replace(c, type=typed(c.type), default=text(c.default))
                    for c in table.columns
                ),
                constraints=tuple(
                    dataclasses.replace(c, definition=typed(c.definition))
                    for c in table.constraints
                ),
                indexes=tuple(
                    dataclasses.replace(i, definition=typed(i.definition)) for i in table.indexes
                ),
                policies=tuple(
                    dataclasses.replace(p, using=text(p.using), with_check=text(p.with_check))
                    for p in table.policies
                ),
            )
        )
    return dataclasses.replace(live, tables=tuple(tables))


def dropped_types(state: TypeState) -> list[str]:
    """The live types of ``state.managed`` that the blueprint no longer declares."""
    kept = {t.name for t in state.desired} | {t.renamed_from for t in state.desired}
    return sorted(name for name in state.managed if name in state.live and name not in kept)


def _drop_types(ctx: DiffContext, state: TypeState, desired: Snapshot) -> None:
    for name in dropped_types(state):
        users = [
            f"{u.schema}.{u.table}.{u.column}"
            for u in state.uses
            if u.type_name == name and not _goes(ctx, u, name, desired)
        ]
        if users:
            ctx.issues.append(
                Issue(
                    f"{state.prefix}.types",
                    f"type {name} is no longer in the blueprint, so this plan drops it, yet "
                    f"{users[0]} still uses it: declare the type again or change the column",
                )
            )
            continue
        ctx.emit(
            f"DROP TYPE {quote_ident(ctx.schema)}.{quote_ident(name)}",
            Phase.DROP_TYPES,
            "",
            f"type {name} was declared by an earlier version and is no longer",
            hazards=[drops_type(name)],
            lock=LockMode.NONE,
        )


def _goes(ctx: DiffContext, use: EnumUse, name: str, desired: Snapshot) -> bool:
    """Whether this plan drops the column ``use`` names or changes it to another type."""
    if use.schema != ctx.schema:
        return False
    table = ctx.renames.tables.get(use.table, use.table)
    after = desired.table(table)
    if after is None:
        return True
    column = after.column_map.get(ctx.renames.columns.get(table, {}).get(use.column, use.column))
    return column is None or column.type not in (name, f"{name}[]")
