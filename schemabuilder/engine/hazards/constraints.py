"""Hazards of constraints: a constraint dropped, and a new one validated against the existing
rows (duplicates under a primary key or unique, rows violating a CHECK, rows without a match
for a foreign key; WILL_FAIL when any)."""

from __future__ import annotations

from schemabuilder.engine.catalog.snapshot import Constraint, ConstraintKind
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, count_text, rows_text
from schemabuilder.engine.hazards.facts import LiveFacts, TableStats


def drops_constraint(table: str, con: Constraint, stats: TableStats | None) -> Hazard:
    return Hazard(
        HazardKind.DROPS_CONSTRAINT,
        Severity.WARNING,
        f"drops {con.kind} constraint {con.name} on {table}: {con.definition} is no "
        "longer enforced",
        table,
        stats.numbers() if stats else {},
    )


def validation(facts: LiveFacts, table: str, con: Constraint, stats: TableStats) -> list[Hazard]:
    """What validating a new constraint finds in the existing rows of a populated table."""
    scanned = rows_text(stats.rows, stats.exact)
    numbers: dict[str, int | str | bool | None] = dict(stats.numbers())
    if con.kind in (ConstraintKind.PRIMARY_KEY, ConstraintKind.UNIQUE):
        keys = [quote_ident(c) for c in con.columns]
        bad = facts.duplicate_rows(table, keys, None)
        numbers["duplicate_rows"] = bad
        kind, what = HazardKind.ADDS_UNIQUE, "duplicate rows"
        head = f"adds {con.kind} {con.name} on {table}({', '.join(con.columns)})"
    elif con.kind is ConstraintKind.CHECK:
        expression = con.definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
        bad = facts.check_violations(table, expression)
        numbers["violating_rows"] = bad
        kind, what = HazardKind.ADDS_CHECK, "rows violating it"
        head = f"adds {con.definition} on {table}"
    elif con.kind is ConstraintKind.FOREIGN_KEY:
        ref = con.ref_table or ""
        ref_live = facts.table_stats(ref) is not None
        bad = facts.fk_violations(table, con.columns, ref, con.ref_columns, ref_live)
        numbers["violating_rows"] = bad
        kind, what = HazardKind.ADDS_FOREIGN_KEY, "rows without a match"
        head = (
            f"adds foreign key {con.name} on {table}: each of {scanned} is checked against "
            f"{ref} while both tables are locked against writes"
        )
    else:
        bad = None
        kind, what = HazardKind.ADDS_CHECK, "rows violating it"
        head = f"adds {con.definition} on {table}"
    if bad:
        kind, severity, tail = HazardKind.WILL_FAIL, Severity.DANGER, f"will fail: {bad:,} {what}"
    elif bad is None:
        severity, tail = Severity.WARNING, count_text(None, what)
    else:
        severity, tail = Severity.INFO, f"no {what} in {scanned}"
    return [Hazard(kind, severity, f"{head}; {tail}", table, numbers)]
