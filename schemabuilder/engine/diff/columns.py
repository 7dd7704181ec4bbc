"""Diff of columns: ADD, DROP, RENAME and ALTER COLUMN (type, default, NOT NULL, identity,
serial, generation expression), and column comments. Their hazards are decided in
``hazards.columns``."""

from __future__ import annotations

import dataclasses

from schemabuilder.engine.catalog.snapshot import Column, Table
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import quote_ident, quote_literal
from schemabuilder.engine.diff.changes import SCAN_TIMEOUT_MS, Action, DiffContext, MemberChange
from schemabuilder.engine.diff.generated import (
    expression_changes,
    expression_of,
    sets_expression_in_place,
)
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.hazards import columns as hazards
from schemabuilder.engine.hazards.facts import TableStats

_SERIAL_TYPES = {"smallint": "smallserial", "integer": "serial", "bigint": "bigserial"}


def column_definition(col: Column) -> str:
    """The column as it appears in CREATE TABLE or ADD COLUMN."""
    type_ = _SERIAL_TYPES.get(col.type, col.type) if col.serial else col.type
    parts = [quote_ident(col.name), type_]
    if col.collation:
        parts += ["COLLATE", col.collation]
    if col.generated:
        parts.append(col.generated)
    if col.identity:
        parts.append(f"GENERATED {col.identity} AS IDENTITY")
    if col.default is not None:
        parts += ["DEFAULT", col.default]
    if col.not_null:
        parts.append("NOT NULL")
    return " ".join(parts)


def comment_sql(text: str | None) -> str:
    return "NULL" if text is None else quote_literal(text)


def diff_columns(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """ADD, DROP and ALTER COLUMN for one existing table (live already renamed)."""
    changes: list[MemberChange] = []
    name = desired.name
    col_renames = ctx.renames.columns.get(name, {})
    for old, new in sorted(col_renames.items()):
        ctx.emit(
            f"ALTER TABLE {ctx.qualified(name)} RENAME COLUMN {quote_ident(old)} TO "
            f"{quote_ident(new)}",
            Phase.RENAME_COLUMNS,
            name,
            f"column {old} is renamed to {new} (renamed_from)",
            hazards=[hazards.renames_column(name, old, new)],
        )
        changes.append(MemberChange("column", new, Action.RENAMED, old, new, renamed_from=old))
    stats = ctx.stats(name)
    for col in desired.ordered_columns:
        if col.name not in live.column_map:
            _add_column(ctx, name, col, stats)
            changes.append(MemberChange("column", col.name, Action.ADDED, None, col))
    for col in live.ordered_columns:
        if col.name not in desired.column_map:
            _drop_column(ctx, name, col, stats)
            changes.append(MemberChange("column", col.name, Action.DROPPED, col, None))
    for col in desired.columns:
        before = live.column_map.get(col.name)
        if before is not None and before != col:
            _alter_column(ctx, name, before, col, stats)
            changes.append(MemberChange("column", col.name, Action.ALTERED, before, col))
    return changes


def _add_column(ctx: DiffContext, table: str, col: Column, stats: TableStats | None) -> None:
    found = hazards.add_column(ctx.facts, table, col, stats)
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} ADD COLUMN {column_definition(col)}",
        Phase.ADD_COLUMNS,
        table,
        f"column {col.name} is new",
        hazards=found,
        timeout_ms=SCAN_TIMEOUT_MS if found else None,
    )
    if col.comment is not None:
        comment_column(ctx, table, col.name, col.comment, new=True)


def _drop_column(ctx: DiffContext, table: str, col: Column, stats: TableStats | None) -> None:
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} DROP COLUMN {quote_ident(col.name)}",
        Phase.DROP_COLUMNS,
        table,
        f"column {col.name} is no longer in the blueprint",
        hazards=hazards.drop_column(ctx.facts, table, col, stats, ctx.fence_column),
    )


def _alter_column(
    ctx: DiffContext, table: str, before: Column, after: Column, stats: TableStats | None
) -> None:
    alter = f"ALTER TABLE {ctx.qualified(table)} ALTER COLUMN {quote_ident(after.name)}"
    name = after.name
    if before.generated != after.generated:
        if after.generated and expression_changes(before, after):
            if not sets_expression_in_place(ctx.server_version):
                _regenerate_column(ctx, table, before, after, stats)
                return
            ctx.emit(
                f"{alter} SET EXPRESSION AS ({expression_of(after.generated)})",
                Phase.ALTER_COLUMNS,
                table,
                f"the expression of generated column {name} changes",
                hazards=hazards.set_expression(table, name, stats),
                timeout_ms=SCAN_TIMEOUT_MS if stats and stats.populated else None,
            )
        elif before.generated and not after.generated:
            ctx.emit(
                f"{alter} DROP EXPRESSION",
                Phase.ALTER_COLUMNS,
                table,
                f"{name} stops being generated: it keeps its values, and writes set it from now on",
            )
        else:
            # A column cannot become generated in place: its values would be replaced anyway.
            _drop_column(ctx, table, before, stats)
            _add_column(ctx, table, after, stats)
            return
        before = dataclasses.replace(before, generated=after.generated)
    if after.serial and not before.serial:
        ctx.issues.append(
            Issue(
                ctx.path_of(table, name, "type"),
                f"{table}.{name} exists and cannot become serial in place: add a new serial "
                "column instead",
            )
        )
    retyped = before.type != after.type or before.collation != after.collation
    if before.identity and after.identity is None:
        ctx.emit(
            f"{alter} DROP IDENTITY",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} stops being identity",
            hazards=[hazards.drops_generator(table, name, "identity", stats)],
        )
    elif before.identity and after.identity and before.identity != after.identity:
        ctx.emit(
            f"{alter} SET GENERATED {after.identity}",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} becomes GENERATED {after.identity}",
        )
    if before.serial and not after.serial:
        ctx.emit(
            f"{alter} DROP DEFAULT",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} stops being serial",
            hazards=[hazards.drops_generator(table, name, "serial default", stats)],
        )
    elif before.default is not None and (retyped or after.default is None):
        why = "the old default may not convert to the new type" if retyped else "no default"
        ctx.emit(f"{alter} DROP DEFAULT", Phase.ALTER_COLUMNS, table, f"{name}: {why}")
    if retyped:
        _retype_column(ctx, table, alter, before, after, stats)
    if after.default is not None and (retyped or after.default != before.default):
        ctx.emit(
            f"{alter} SET DEFAULT {after.default}",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} gets the default {after.default}",
        )
    if after.not_null and not before.not_null:
        ctx.emit(
            f"{alter} SET NOT NULL",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} becomes NOT NULL",
            hazards=hazards.set_not_null(ctx.facts, table, name, stats),
            timeout_ms=SCAN_TIMEOUT_MS if stats and stats.populated else None,
        )
    elif before.not_null and not after.not_null:
        ctx.emit(
            f"{alter} DROP NOT NULL",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} becomes nullable",
            hazards=hazards.drop_not_null(table, name, stats, ctx.fence_column),
        )
    if after.identity and not before.identity:
        ctx.emit(
            f"{alter} ADD GENERATED {after.identity} AS IDENTITY",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} becomes an identity column",
            hazards=hazards.add_identity(table, stats),
        )
    if before.comment != after.comment:
        comment_column(ctx, table, name, after.comment, new=False)


def _regenerate_column(
    ctx: DiffContext, table: str, before: Column, after: Column, stats: TableStats | None
) -> None:
    """Before PostgreSQL 17: the column dropped and added again with its new expression
    (``diff.generated`` has set its indexes, constraints and policies aside)."""
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} DROP COLUMN {quote_ident(before.name)}",
        Phase.DROP_COLUMNS,
        table,
        f"the expression of generated column {before.name} changes, which PostgreSQL before "
        "17 cannot do in place: the column is dropped and added again, its values computed "
        "again from the new expression",
        hazards=hazards.regenerate_column(ctx.facts, table, before.name),
    )
    _add_column(ctx, table, after, stats)


def _retype_column(
    ctx: DiffContext,
    table: str,
    alter: str,
    before: Column,
    after: Column,
    stats: TableStats | None,
) -> None:
    name = after.name
    new_type = after.type + (f" COLLATE {after.collation}" if after.collation else "")
    cast = ctx.facts.cast_check(before.type, after.type)
    if not cast.possible and ctx.installing and "does not exist" in (cast.error or ""):
        ctx.issues.append(
            Issue(
                ctx.path_of(table, name, "type"),
                f"cannot change {table}.{name} from {before.type} to {after.type} in the plan "
                f"that installs the extension {', '.join(ctx.installing)}: the conversion of "
                "the live values cannot be checked before the type exists; apply a version "
                "that lists the extension first, then change the type",
            )
        )
    elif not cast.possible:
        ctx.issues.append(
            Issue(
                ctx.path_of(table, name, "type"),
                f"cannot change {table}.{name} from {before.type} to {after.type}: "
                f"{cast.error}; add a new column and copy the data instead",
            )
        )
    in_place = hazards.rewritten_in_place(cast, before, after)
    ctx.emit(
        f"{alter} TYPE {new_type} USING {quote_ident(name)}::{after.type}",
        Phase.ALTER_COLUMNS,
        table,
        f"{name} changes type from {before.type} to {after.type}",
        hazards=hazards.change_type(ctx.facts, table, before, after, stats, cast),
        timeout_ms=SCAN_TIMEOUT_MS if stats and stats.populated and not in_place else None,
    )


def comment_column(
    ctx: DiffContext, table: str, column: str, text: str | None, *, new: bool
) -> None:
    ctx.emit(
        f"COMMENT ON COLUMN {ctx.qualified(table)}.{quote_ident(column)} IS {comment_sql(text)}",
        Phase.COMMENTS,
        table,
        f"comment on {'new ' if new else ''}column {column}" + ("" if new else " changes"),
        lock=LockMode.SHARE_UPDATE_EXCLUSIVE,
    )
