"""Hazards of constraints: a constraint dropped, and a new one validated against the existing
rows (duplicates under a primary key or unique, rows violating a CHECK, rows without a match
for a foreign key; WILL_FAIL when any). A constraint on a column the same plan adds is counted
with the value the existing rows get (``validation``)."""

from __future__ import annotations

from collections.abc import Mapping

from schemabuilder.engine.catalog.snapshot import Column, Constraint, ConstraintKind
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, count_text, rows_text
from schemabuilder.engine.hazards.facts import LiveFacts, NewColumns, TableStats


def drops_constraint(table: str, con: Constraint, stats: TableStats | None) -> Hazard:
    return Hazard(
        HazardKind.DROPS_CONSTRAINT,
        Severity.WARNING,
        f"drops {con.kind} constraint {con.name} on {table}: {con.definition} is no "
        "longer enforced",
        table,
        stats.numbers() if stats else {},
    )


# How the rows that fail a constraint are named after "3 of 3 rows".
_FAILING = {
    "duplicate rows": "are duplicates",
    "rows violating it": "violate it",
    "rows without a match": "have no match",
}


_OUTSIDE_LOCK = (
    " (SHARE ROW EXCLUSIVE on {ref}, a table outside the blueprint: its writers wait too)"
)


def references_outside(table: str, con: Constraint) -> Hazard:
    """A foreign key of a new or empty table to another schema's table: nothing to check,
    but the statement still locks that table against writes for its moment."""
    ref = con.ref_table or ""
    return Hazard(
        HazardKind.ADDS_FOREIGN_KEY,
        Severity.INFO,
        f"adds foreign key {con.name} on {table} referencing {ref}, outside the blueprint: "
        f"{table} has no rows to check; the statement takes SHARE ROW EXCLUSIVE on {ref} "
        "(its writers wait for that moment), and never changes it",
        table,
        {},
    )


def computed_per_row(facts: LiveFacts, col: Column) -> bool:
    """A new column whose value is not one value for every existing row: an identity, a
    serial, a generated column, a volatile default (``random()``, ``gen_random_uuid()``)."""
    if col.identity or col.serial or col.generated:
        return True
    return col.default is not None and facts.default_rewrites(col.type, col.default)


def validation(
    facts: LiveFacts,
    table: str,
    con: Constraint,
    stats: TableStats,
    added: Mapping[str, Column] | None = None,
) -> list[Hazard]:
    """What validating a new constraint finds in the existing rows of a populated table.

    ``added`` are the columns the same plan adds (by name). A constraint on one of them is
    counted with the value every existing row gets: its default, or NULL."""
    scanned = rows_text(stats.rows, stats.exact)
    numbers: dict[str, int | str | bool | None] = dict(stats.numbers())
    new = [added[c] for c in con.columns if added and c in added]
    per_row = [c.name for c in new if computed_per_row(facts, c)]
    values: NewColumns = {c.name: (c.type, c.default) for c in new}
    extra: dict[str, NewColumns] = {"added": values} if values else {}
    if len(per_row) > 1:
        reason = "the new columns' defaults are computed per row"
    elif per_row:
        reason = "the new column's default is computed per row"
    else:
        reason = stats.not_counted
    bad: int | None
    if con.kind in (ConstraintKind.PRIMARY_KEY, ConstraintKind.UNIQUE):
        keys = [quote_ident(c) for c in con.columns]
        bad = None if per_row else facts.duplicate_rows(table, keys, None, **extra)
        numbers["duplicate_rows"] = bad
        kind, what = HazardKind.ADDS_UNIQUE, "duplicate rows"
        head = f"adds {con.kind} {con.name} on {table}({', '.join(con.columns)})"
    elif con.kind is ConstraintKind.CHECK:
        expression = con.definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
        bad = None if per_row else facts.check_violations(table, expression, **extra)
        numbers["violating_rows"] = bad
        kind, what = HazardKind.ADDS_CHECK, "rows violating it"
        head = f"adds {con.definition} on {table}"
    elif con.kind is ConstraintKind.FOREIGN_KEY:
        ref = con.ref_table or ""
        if any(c.default is None and c.name not in per_row for c in new):
            # MATCH SIMPLE: a key with a NULL is not checked, and the new column is NULL in
            # every existing row.
            bad = 0
        elif per_row:
            bad = None
        elif con.references_other_schema:
            # Planning never reads another table's rows, and this one is not even ours.
            bad, reason = None, f"{ref} is outside the blueprint"
        else:
            ref_live = facts.table_stats(ref) is not None
            bad = facts.fk_violations(table, con.columns, ref, con.ref_columns, ref_live, **extra)
        numbers["violating_rows"] = bad
        kind, what = HazardKind.ADDS_FOREIGN_KEY, "rows without a match"
        head = (
            f"adds foreign key {con.name} on {table}: each of {scanned} is checked against "
            f"{ref} while both tables are locked against writes"
            + (_OUTSIDE_LOCK.format(ref=ref) if con.references_other_schema else "")
        )
    else:
        bad = None
        kind, what = HazardKind.ADDS_CHECK, "rows violating it"
        head = f"adds {con.definition} on {table}"
        reason = "an exclusion constraint is not counted while planning"
    holding = ", ".join(
        f"the new column {name} = {default or 'NULL'}" for name, (_, default) in values.items()
    )
    if bad and values and not per_row:
        kind, severity = HazardKind.WILL_FAIL, Severity.DANGER
        tail = f"will fail: {bad:,} of {scanned} {_FAILING[what]}, with {holding} in every row"
    elif bad:
        kind, severity, tail = HazardKind.WILL_FAIL, Severity.DANGER, f"will fail: {bad:,} {what}"
    elif bad is None:
        severity, tail = Severity.WARNING, count_text(None, what, reason)
    elif values:
        severity, tail = Severity.INFO, f"no {what} in {scanned}, with {holding} in every row"
    else:
        severity, tail = Severity.INFO, f"no {what} in {scanned}"
    return [Hazard(kind, severity, f"{head}; {tail}", table, numbers)]
