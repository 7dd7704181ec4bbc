"""Hazards of enum types: a type or value renamed, and values removed (a type swap) with the
rows that still hold them counted (WILL_FAIL when any do)."""

from __future__ import annotations

from schemabuilder.engine.contract.types import literal
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.hazards.facts import LiveFacts


def renames_type(old: str, new: str) -> Hazard:
    return Hazard(
        HazardKind.RENAMES_OBJECT,
        Severity.WARNING,
        f"renames type {old} to {new}: SQL naming {old} (casts, functions) breaks",
        "",
        {"old_name": old, "new_name": new},
    )


def renames_value(type_name: str, old: str, new: str) -> Hazard:
    return Hazard(
        HazardKind.RENAMES_OBJECT,
        Severity.WARNING,
        f"renames value {old!r} of {type_name} to {new!r}: every row holding it reads {new!r}; "
        f"clients writing {old!r} fail",
        "",
        {"old_name": old, "new_name": new},
    )


def removes_values(
    facts: LiveFacts,
    type_name: str,
    removed: list[str],
    table: str,
    column: str,
    is_array: bool,
) -> Hazard:
    """REMOVES_ENUM_VALUE (danger) on one column of the swapped type, with the rows holding a
    removed value counted: WILL_FAIL when any do (their conversion fails)."""
    listed = ", ".join(literal(v) for v in removed)
    col = f'"{column}"' if not column.isidentifier() or column.lower() != column else column
    if is_array:
        held = f"{col} IS NULL OR NOT ({col}::text[] && ARRAY[{listed}]::text[])"
    else:
        held = f"{col} IS NULL OR {col}::text NOT IN ({listed})"
    count = facts.check_violations(table, held) if removed else 0
    numbers = {"rows_holding_removed": count, "removed_values": len(removed)}
    what = f"{table}.{column} is converted to {type_name} without {listed}"
    if count:
        return Hazard(
            HazardKind.WILL_FAIL,
            Severity.DANGER,
            f"{what}; will fail: {count:,} rows hold a removed value (update them first)",
            table,
            numbers,
        )
    held_text = "not counted (the table is too large)" if count is None else "no row holds one"
    return Hazard(
        HazardKind.REMOVES_ENUM_VALUE,
        Severity.DANGER,
        f"{what}; {held_text}, but a client writing one fails from now on",
        table,
        numbers,
    )


def drops_type(name: str) -> Hazard:
    return Hazard(
        HazardKind.DROPS_TYPE,
        Severity.WARNING,
        f"drops type {name}, which no column uses any more: SQL naming it (casts, functions) "
        "breaks",
        "",
        {"type": name},
    )
