"""Hazards of indexes: an index dropped, an index built on a populated table, and a unique
index over duplicates (WILL_FAIL)."""

from __future__ import annotations

from collections.abc import Mapping

from schemabuilder.engine.catalog.snapshot import Column, Index
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, count_text, rows_text
from schemabuilder.engine.hazards.constraints import computed_per_row
from schemabuilder.engine.hazards.facts import LiveFacts, NewColumns, TableStats

_DIRECTIONS = (" DESC NULLS LAST", " NULLS FIRST", " DESC")


def drops_index(table: str, index: Index, stats: TableStats | None) -> Hazard:
    populated = stats is not None and stats.populated
    return Hazard(
        HazardKind.DROPS_INDEX,
        Severity.WARNING if populated else Severity.INFO,
        f"drops index {index.name} on {table} ({index.definition}): queries that "
        "used it may get slower",
        table,
        stats.numbers() if stats else {},
    )


def builds_index(
    facts: LiveFacts,
    table: str,
    index: Index,
    stats: TableStats | None,
    added: Mapping[str, Column] | None = None,
) -> list[Hazard]:
    """BUILDS_INDEX on a populated table; for a unique index, the duplicates counted (with
    the value the existing rows get in the columns the same plan adds, ``added``)."""
    hazards: list[Hazard] = []
    if stats is not None and stats.populated:
        hazards.append(
            Hazard(
                HazardKind.BUILDS_INDEX,
                Severity.WARNING,
                f"builds index {index.name} on {table} ({rows_text(stats.rows, stats.exact)}, "
                f"{stats.bytes:,} bytes) under a SHARE lock: writes wait until it is built",
                table,
                stats.numbers(),
            )
        )
        if index.unique:
            keys = [_strip_direction(k) for k in index.columns]
            new = dict(added or {})
            per_row = {n for n, c in new.items() if computed_per_row(facts, c)}
            values: NewColumns = {
                n: (c.type, c.default) for n, c in new.items() if n not in per_row
            }
            uses_per_row = any(k in per_row or k.strip('"') in per_row for k in keys)
            extra: dict[str, NewColumns] = {"added": values} if values else {}
            bad = (
                None
                if uses_per_row
                else facts.duplicate_rows(table, keys, index.predicate, **extra)
            )
            why = (
                "the new column's default is computed per row"
                if uses_per_row
                else stats.not_counted
            )
            numbers = {**stats.numbers(), "duplicate_rows": bad}
            head = f"adds unique index {index.name} on {table}"
            kind = HazardKind.ADDS_UNIQUE
            if bad:
                kind, severity = HazardKind.WILL_FAIL, Severity.DANGER
                tail = f"will fail: {bad:,} duplicate rows"
            elif bad is None:
                severity, tail = Severity.WARNING, count_text(None, "duplicate rows", why)
            else:
                severity = Severity.INFO
                tail = f"no duplicate rows in {rows_text(stats.rows, stats.exact)}"
            hazards.append(Hazard(kind, severity, f"{head}; {tail}", table, numbers))
    return hazards


def _strip_direction(key: str) -> str:
    for suffix in _DIRECTIONS:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key
