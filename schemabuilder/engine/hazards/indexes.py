"""Hazards of indexes: an index dropped, an index built on a populated table, and a unique
index over duplicates (WILL_FAIL)."""

from __future__ import annotations

from schemabuilder.engine.catalog.snapshot import Index
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, count_text, rows_text
from schemabuilder.engine.hazards.facts import LiveFacts, TableStats

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
    facts: LiveFacts, table: str, index: Index, stats: TableStats | None
) -> list[Hazard]:
    """BUILDS_INDEX on a populated table; for a unique index, the duplicates counted."""
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
            bad = facts.duplicate_rows(table, keys, index.predicate)
            numbers = {**stats.numbers(), "duplicate_rows": bad}
            head = f"adds unique index {index.name} on {table}"
            kind = HazardKind.ADDS_UNIQUE
            if bad:
                kind, severity = HazardKind.WILL_FAIL, Severity.DANGER
                tail = f"will fail: {bad:,} duplicate rows"
            elif bad is None:
                severity, tail = Severity.WARNING, count_text(None, "duplicate rows")
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
