"""Hazards of columns: added, dropped, renamed, retyped, made NOT NULL or nullable, losing or
gaining a generator (identity, serial), a generation expression changed."""

from __future__ import annotations

import re

from schemabuilder.engine.catalog.snapshot import Column
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, count_text, rows_text
from schemabuilder.engine.hazards.facts import CastCheck, LiveFacts, TableStats
from schemabuilder.engine.hazards.tables import blocked_by_dependents, rewrites_table


def renames_column(table: str, old: str, new: str) -> Hazard:
    return Hazard(
        HazardKind.RENAMES_OBJECT,
        Severity.WARNING,
        f"renames column {table}.{old} to {new}: queries using {old} break",
        table,
        {"old_name": old, "new_name": new},
    )


def add_column(facts: LiveFacts, table: str, col: Column, stats: TableStats | None) -> list[Hazard]:
    """A NOT NULL column without a value for the existing rows (WILL_FAIL); a column whose
    values are written into every row (REWRITES_TABLE)."""
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
        elif col.default is not None and facts.default_rewrites(col.type, col.default):
            rewrite_why = f"the default {col.default} is volatile, so every row is written"
        if rewrite_why:
            hazards.append(rewrites_table(table, stats, rewrite_why))
    return hazards


def drop_column(
    facts: LiveFacts,
    table: str,
    col: Column,
    stats: TableStats | None,
    fence_column: str | None,
) -> list[Hazard]:
    """DROPS_COLUMN (a warning when nothing but NULLs is lost), what outside the plan uses the
    column, and the tenant fence column lost."""
    values = facts.non_null_count(table, col.name) if stats and stats.populated else 0
    numbers = {**(stats.numbers() if stats else {}), "non_null_values": values}
    if stats is not None and not stats.populated:
        severity, what = Severity.WARNING, "the table is empty"
    elif values == 0:
        severity, what = Severity.WARNING, f"all {rows_text(stats.rows if stats else 0)} are NULL"
    else:
        severity, what = (
            Severity.DANGER,
            count_text(values, "non-NULL values are lost", stats.not_counted if stats else ""),
        )
    hazards = [
        Hazard(
            HazardKind.DROPS_COLUMN,
            severity,
            f"drops column {table}.{col.name}: {what}",
            table,
            numbers,
        )
    ]
    hazards += blocked_by_dependents(facts, table, col.name, "DROP COLUMN")
    if col.name == fence_column:
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
    return hazards


def set_not_null(
    facts: LiveFacts, table: str, column: str, stats: TableStats | None
) -> list[Hazard]:
    """ADDS_NOT_NULL with the NULLs counted; WILL_FAIL when there are any."""
    if stats is None or not stats.populated:
        return []
    nulls = facts.null_count(table, column)
    numbers = {**stats.numbers(), "null_rows": nulls}
    if nulls is None:
        severity = Severity.WARNING
        message = (
            f"sets {table}.{column} NOT NULL: {rows_text(stats.rows, stats.exact)} are scanned "
            f"under an ACCESS EXCLUSIVE lock; NULLs were not counted ({stats.not_counted}) "
            "and would make it fail"
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


def drop_not_null(
    table: str, column: str, stats: TableStats | None, fence_column: str | None
) -> list[Hazard]:
    """Only the tenant fence column made nullable is a hazard."""
    if column != fence_column:
        return []
    return [
        Hazard(
            HazardKind.TENANT_FENCE_WEAKENED,
            Severity.DANGER,
            f"makes the tenant fence column {table}.{column} nullable: rows without a "
            "tenant become possible",
            table,
            stats.numbers() if stats else {},
        )
    ]


def add_identity(table: str, stats: TableStats | None) -> list[Hazard]:
    if stats and stats.populated:
        return [rewrites_table(table, stats, "an identity column fills every row")]
    return []


def drops_generator(table: str, column: str, what: str, stats: TableStats | None) -> Hazard:
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


def set_expression(table: str, column: str, stats: TableStats | None) -> list[Hazard]:
    """SET EXPRESSION computes the column again in every row (and rebuilds its indexes)."""
    if stats and stats.populated:
        return [rewrites_table(table, stats, f"{column} is computed again for every row")]
    return []


def regenerate_column(facts: LiveFacts, table: str, column: str) -> list[Hazard]:
    """A generated column dropped to be added again (before PostgreSQL 17): its values come
    back, computed, so no DROPS_COLUMN; what outside the plan uses it stops the DROP."""
    return blocked_by_dependents(facts, table, column, "DROP COLUMN")


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


def rewritten_in_place(cast: CastCheck, before: Column, after: Column) -> bool:
    """The type change needs no conversion and no rewrite (binary cast, wider modifiers)."""
    return cast.binary and typmod_widens(before.type, after.type)


def change_type(
    facts: LiveFacts,
    table: str,
    before: Column,
    after: Column,
    stats: TableStats | None,
    cast: CastCheck,
) -> list[Hazard]:
    """CHANGES_COLUMN_TYPE with the values that fail or change counted (WILL_FAIL when any
    fails), the rewrite, and what outside the plan uses the column."""
    name = after.name
    in_place = rewritten_in_place(cast, before, after)
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
            outcome = facts.cast_failures(table, name, before.type, after.type)
            numbers["failing_values"] = outcome.failing if outcome else None
            numbers["changed_values"] = outcome.changed if outcome else None
            if outcome is None:
                severity = Severity.DANGER
                what = f"values may fail to convert or change (not tested: {stats.not_counted})"
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
            hazards.append(rewrites_table(table, stats, f"{name} is converted in every row"))
    hazards += blocked_by_dependents(facts, table, name, "ALTER COLUMN TYPE")
    return hazards
