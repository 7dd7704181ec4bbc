"""Diff of tables and columns: CREATE/DROP TABLE, ADD/DROP/ALTER COLUMN, comments.

Each function writes its statements with their hazards into the ``DiffContext`` and returns
the member changes for the reviewer.
"""

from __future__ import annotations

import re

from schemabuilder.engine.catalog.snapshot import Column, ConstraintKind, Table
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import quote_ident, quote_literal
from schemabuilder.engine.diff.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.hazards import (
    Hazard,
    HazardKind,
    Severity,
    count_text,
    rows_text,
)
from schemabuilder.engine.hazards.facts import TableStats

# Statements that scan or rewrite a populated table get a generous timeout of their own.
SCAN_TIMEOUT_MS = 15 * 60 * 1000


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


def _comment(text: str | None) -> str:
    return "NULL" if text is None else quote_literal(text)


def create_table(ctx: DiffContext, table: Table) -> None:
    """CREATE TABLE with columns and the constraints that need nothing else (not the foreign
    keys, which wait until every table exists); then its comments. Indexes, foreign keys and
    policies are written by their own diff functions."""
    lines = [f"    {column_definition(c)}" for c in table.ordered_columns]
    lines += [
        f"    CONSTRAINT {quote_ident(c.name)} {c.written}"
        for c in table.constraints
        if c.kind is not ConstraintKind.FOREIGN_KEY
    ]
    body = ",\n".join(lines)
    ctx.emit(
        f"CREATE TABLE {ctx.qualified(table.name)} (\n{body}\n)",
        Phase.CREATE_TABLES,
        table.name,
        f"table {table.name} is new",
    )
    if table.comment is not None:
        ctx.emit(
            f"COMMENT ON TABLE {ctx.qualified(table.name)} IS {_comment(table.comment)}",
            Phase.COMMENTS,
            table.name,
            f"comment on new table {table.name}",
        )
    for col in table.ordered_columns:
        if col.comment is not None:
            _comment_column(ctx, table.name, col.name, col.comment, new=True)


def blocked_by_dependents(
    ctx: DiffContext, table: str, column: str | None, action: str
) -> list[Hazard]:
    """BLOCKED_BY_DEPENDENTS when views, foreign keys or policies outside the plan use the
    table (or column) that ``action`` drops or retypes: PostgreSQL would refuse it."""
    users = ctx.facts.dependents(table, column)
    if not users:
        return []
    what = table if column is None else f"{table}.{column}"
    them = "it" if len(users) == 1 else "them"
    return [
        Hazard(
            HazardKind.BLOCKED_BY_DEPENDENTS,
            Severity.DANGER,
            f"{'; '.join(users)} {'uses' if len(users) == 1 else 'use'} {what}: {action} will "
            f"fail; change or drop {them} first",
            table,
            {"dependents": len(users)},
        )
    ]


def drop_table(ctx: DiffContext, table: Table, dropped: set[str]) -> None:
    """DROP TABLE, after the foreign keys between dropped tables (cycles included)."""
    for con in table.constraints:
        if (
            con.kind is ConstraintKind.FOREIGN_KEY
            and con.ref_table in dropped
            and con.ref_table != table.name
        ):
            ctx.emit(
                f"ALTER TABLE {ctx.qualified(table.name)} DROP CONSTRAINT {quote_ident(con.name)}",
                Phase.DROP_FOREIGN_KEYS,
                table.name,
                f"{table.name} and {con.ref_table} are both dropped: the key between them first",
            )
    stats = ctx.stats(table.name)
    rows = stats.rows if stats else None
    exact = stats.exact if stats else True
    severity = Severity.WARNING if rows == 0 and exact else Severity.DANGER
    hazard = Hazard(
        HazardKind.DROPS_TABLE,
        severity,
        f"drops table {table.name} and its {rows_text(rows, exact)}",
        table.name,
        stats.numbers() if stats else {},
    )
    ctx.emit(
        f"DROP TABLE {ctx.qualified(table.name)}",
        Phase.DROP_TABLES,
        table.name,
        f"{table.name} is managed here and no longer in the blueprint",
        hazards=[hazard, *blocked_by_dependents(ctx, table.name, None, "DROP TABLE")],
    )


def diff_table_properties(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """The table's comment (row level security is in ``diff.policies``)."""
    if live.comment == desired.comment:
        return []
    ctx.emit(
        f"COMMENT ON TABLE {ctx.qualified(desired.name)} IS {_comment(desired.comment)}",
        Phase.COMMENTS,
        desired.name,
        f"comment on {desired.name} changes",
        lock=LockMode.SHARE_UPDATE_EXCLUSIVE,
    )
    return [MemberChange("table", "comment", Action.ALTERED, live.comment, desired.comment)]


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
            hazards=[
                Hazard(
                    HazardKind.RENAMES_OBJECT,
                    Severity.WARNING,
                    f"renames column {name}.{old} to {new}: queries using {old} break",
                    name,
                    {"old_name": old, "new_name": new},
                )
            ],
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
    hazards: list[Hazard] = []
    if stats is not None and stats.populated:
        fills = col.default is not None or col.identity or col.generated or col.serial
        if col.not_null and not fills:
            hazards.append(
                Hazard(
                    HazardKind.WILL_FAIL,
                    Severity.DANGER,
                    f"adds NOT NULL column {table}.{col.name} without a default: will fail, "
                    f"{rows_text(stats.rows, stats.exact)} would hold NULL",
                    table,
                    stats.numbers(),
                )
            )
        rewrite_why = None
        if col.identity or col.serial:
            rewrite_why = "every row gets a number from a new sequence"
        elif col.generated and col.generated.endswith("STORED"):
            rewrite_why = "a stored generated column is computed for every row"
        elif col.default is not None and ctx.facts.default_rewrites(col.type, col.default):
            rewrite_why = f"the default {col.default} is volatile, so every row is written"
        if rewrite_why:
            hazards.append(_rewrite(table, stats, rewrite_why))
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} ADD COLUMN {column_definition(col)}",
        Phase.ADD_COLUMNS,
        table,
        f"column {col.name} is new",
        hazards=hazards,
        timeout_ms=SCAN_TIMEOUT_MS if hazards else None,
    )
    if col.comment is not None:
        _comment_column(ctx, table, col.name, col.comment, new=True)


def _drop_column(ctx: DiffContext, table: str, col: Column, stats: TableStats | None) -> None:
    values = ctx.facts.non_null_count(table, col.name) if stats and stats.populated else 0
    numbers = {**(stats.numbers() if stats else {}), "non_null_values": values}
    if stats is not None and not stats.populated:
        severity, what = Severity.WARNING, "the table is empty"
    elif values == 0:
        severity, what = Severity.WARNING, f"all {rows_text(stats.rows if stats else 0)} are NULL"
    else:
        severity, what = Severity.DANGER, count_text(values, "non-NULL values are lost")
    hazards = [
        Hazard(
            HazardKind.DROPS_COLUMN,
            severity,
            f"drops column {table}.{col.name}: {what}",
            table,
            numbers,
        )
    ]
    hazards += blocked_by_dependents(ctx, table, col.name, "DROP COLUMN")
    if col.name == ctx.fence_column:
        hazards.append(
            Hazard(
                HazardKind.TENANT_FENCE_WEAKENED,
                Severity.DANGER,
                f"drops the tenant fence column {table}.{col.name}: rows no longer belong to "
                "a tenant",
                table,
                numbers,
            )
        )
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} DROP COLUMN {quote_ident(col.name)}",
        Phase.DROP_COLUMNS,
        table,
        f"column {col.name} is no longer in the blueprint",
        hazards=hazards,
    )


def _alter_column(
    ctx: DiffContext, table: str, before: Column, after: Column, stats: TableStats | None
) -> None:
    alter = f"ALTER TABLE {ctx.qualified(table)} ALTER COLUMN {quote_ident(after.name)}"
    if before.generated != after.generated:
        # A generation expression cannot be changed in place on every supported server.
        _drop_column(ctx, table, before, stats)
        _add_column(ctx, table, after, stats)
        return
    name = after.name
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
            hazards=[_drops_generator(table, name, "identity", stats)],
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
            hazards=[_drops_generator(table, name, "serial default", stats)],
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
            hazards=_set_not_null_hazards(ctx, table, name, stats),
            timeout_ms=SCAN_TIMEOUT_MS if stats and stats.populated else None,
        )
    elif before.not_null and not after.not_null:
        hazards = []
        if name == ctx.fence_column:
            hazards.append(
                Hazard(
                    HazardKind.TENANT_FENCE_WEAKENED,
                    Severity.DANGER,
                    f"makes the tenant fence column {table}.{name} nullable: rows without a "
                    "tenant become possible",
                    table,
                    stats.numbers() if stats else {},
                )
            )
        ctx.emit(
            f"{alter} DROP NOT NULL",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} becomes nullable",
            hazards=hazards,
        )
    if after.identity and not before.identity:
        hazards = (
            [_rewrite(table, stats, "an identity column fills every row")]
            if (stats and stats.populated)
            else []
        )
        ctx.emit(
            f"{alter} ADD GENERATED {after.identity} AS IDENTITY",
            Phase.ALTER_COLUMNS,
            table,
            f"{name} becomes an identity column",
            hazards=hazards,
        )
    if before.comment != after.comment:
        _comment_column(ctx, table, name, after.comment, new=False)


def _set_not_null_hazards(
    ctx: DiffContext, table: str, column: str, stats: TableStats | None
) -> list[Hazard]:
    if stats is None or not stats.populated:
        return []
    nulls = ctx.facts.null_count(table, column)
    numbers = {**stats.numbers(), "null_rows": nulls}
    if nulls is None:
        severity = Severity.WARNING
        message = (
            f"sets {table}.{column} NOT NULL: {rows_text(stats.rows, stats.exact)} are scanned "
            "under an ACCESS EXCLUSIVE lock; NULLs were not counted (table too large) and "
            "would make it fail"
        )
    elif nulls > 0:
        return [
            Hazard(
                HazardKind.WILL_FAIL,
                Severity.DANGER,
                f"sets {table}.{column} NOT NULL: will fail, {nulls:,} of "
                f"{rows_text(stats.rows, stats.exact)} are NULL: set them first",
                table,
                numbers,
            )
        ]
    else:
        severity = Severity.INFO
        message = (
            f"sets {table}.{column} NOT NULL: no NULL in {rows_text(stats.rows, stats.exact)}; "
            "the check scans them under an ACCESS EXCLUSIVE lock"
        )
    return [Hazard(HazardKind.ADDS_NOT_NULL, severity, message, table, numbers)]


_TYPMOD = re.compile(r"^(?P<base>[^()\[\]]+?)(?:\((?P<a>\d+)(?:,(?P<b>\d+))?\))?(?P<arr>(\[\])*)$")


def typmod_widens(old: str, new: str) -> bool:
    """True when the type modifiers of ``new`` accept every value of ``old`` unchanged
    (``varchar(10)`` -> ``varchar(20)`` or ``text``, ``numeric(8,2)`` -> ``numeric(12,2)``)."""
    mo, mn = _TYPMOD.match(old), _TYPMOD.match(new)
    if mo is None or mn is None or mo["arr"] != mn["arr"]:
        return False
    if mn["a"] is None:
        return True
    if mo["base"] != mn["base"] or mo["a"] is None:
        return False
    if mo["base"] in ("character varying", "bit varying"):
        return int(mn["a"]) >= int(mo["a"])
    if mo["base"] == "numeric":
        return mo["b"] == mn["b"] and int(mn["a"]) >= int(mo["a"])
    return False


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
    if not cast.possible:
        ctx.issues.append(
            Issue(
                ctx.path_of(table, name, "type"),
                f"cannot change {table}.{name} from {before.type} to {after.type}: "
                f"{cast.error}; add a new column and copy the data instead",
            )
        )
    in_place = cast.binary and typmod_widens(before.type, after.type)
    lossless = in_place or (cast.implicit and typmod_widens(before.type, after.type))
    hazards: list[Hazard] = []
    numbers: dict[str, int | str | bool | None] = {
        **(stats.numbers() if stats else {}),
        "old_type": before.type,
        "new_type": after.type,
        "rewrite": not in_place,
        "cast_can_fail": not lossless,
    }
    change = f"changes {table}.{name} from {before.type} to {after.type}"
    if stats is None or not stats.populated:
        hazards.append(
            Hazard(
                HazardKind.CHANGES_COLUMN_TYPE, Severity.INFO, f"{change} (no rows)", table, numbers
            )
        )
    else:
        kind = HazardKind.CHANGES_COLUMN_TYPE
        if lossless:
            severity, what = Severity.WARNING, "every value converts unchanged"
        else:
            outcome = ctx.facts.cast_failures(table, name, before.type, after.type)
            numbers["failing_values"] = outcome.failing if outcome else None
            numbers["changed_values"] = outcome.changed if outcome else None
            if outcome is None:
                severity = Severity.DANGER
                what = "values may fail to convert or change (not tested: table too large)"
            elif outcome.failing:
                kind, severity = HazardKind.WILL_FAIL, Severity.DANGER
                what = f"will fail: {outcome.failing:,} values do not convert"
            elif outcome.changed:
                severity = Severity.DANGER
                what = (
                    f"{outcome.changed:,} values change in conversion (rounded, truncated or "
                    "reformatted)"
                )
            else:
                severity = Severity.WARNING
                what = f"all values of {rows_text(stats.rows, stats.exact)} convert unchanged"
        hazards.append(Hazard(kind, severity, f"{change}: {what}", table, numbers))
        if not in_place:
            hazards.append(_rewrite(table, stats, f"{name} is converted in every row"))
    hazards += blocked_by_dependents(ctx, table, name, "ALTER COLUMN TYPE")
    ctx.emit(
        f"{alter} TYPE {new_type} USING {quote_ident(name)}::{after.type}",
        Phase.ALTER_COLUMNS,
        table,
        f"{name} changes type from {before.type} to {after.type}",
        hazards=hazards,
        timeout_ms=SCAN_TIMEOUT_MS if stats and stats.populated and not in_place else None,
    )


def _drops_generator(table: str, column: str, what: str, stats: TableStats | None) -> Hazard:
    """An identity or a serial's default removed: every insert that leaves the column out
    (which is how applications use a generated key) fails from then on."""
    populated = stats is None or stats.populated
    rows = f" ({rows_text(stats.rows, stats.exact)})" if stats else ""
    return Hazard(
        HazardKind.DROPS_IDENTITY,
        Severity.DANGER if populated else Severity.WARNING,
        f"drops the {what} of {table}.{column}{rows}: inserts that leave {column} out fail "
        f"from then on; to keep it, declare the column with identity or as SERIAL",
        table,
        stats.numbers() if stats else {},
    )


def _rewrite(table: str, stats: TableStats | None, why: str) -> Hazard:
    numbers = stats.numbers() if stats else {}
    size = f"{rows_text(stats.rows, stats.exact)}, {stats.bytes:,} bytes" if stats else "?"
    return Hazard(
        HazardKind.REWRITES_TABLE,
        Severity.WARNING,
        f"rewrites {table} ({size}) under an ACCESS EXCLUSIVE lock: {why}",
        table,
        numbers,
    )


def _comment_column(
    ctx: DiffContext, table: str, column: str, text: str | None, *, new: bool
) -> None:
    ctx.emit(
        f"COMMENT ON COLUMN {ctx.qualified(table)}.{quote_ident(column)} IS {_comment(text)}",
        Phase.COMMENTS,
        table,
        f"comment on {'new ' if new else ''}column {column}" + ("" if new else " changes"),
        lock=LockMode.SHARE_UPDATE_EXCLUSIVE,
    )
