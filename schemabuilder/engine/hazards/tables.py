"""Hazards of whole tables: dropped, renamed, adopted, rewritten, locked, blocked, too many
locks at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import TYPE_CHECKING

from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, rows_text
from schemabuilder.engine.hazards.facts import LiveFacts, TableStats

if TYPE_CHECKING:  # the plan's types, named here only for the adoption helpers below
    from schemabuilder.engine.catalog.snapshot import Snapshot
    from schemabuilder.engine.contract.normalize import NormalizedBlueprint
    from schemabuilder.engine.diff.phases import Statement
    from schemabuilder.engine.diff.renames import Renames


def drops_table(table: str, stats: TableStats | None) -> Hazard:
    """DROPS_TABLE: a warning for a table known to be empty, else danger."""
    rows = stats.rows if stats else None
    exact = stats.exact if stats else True
    severity = Severity.WARNING if rows == 0 and exact else Severity.DANGER
    return Hazard(
        HazardKind.DROPS_TABLE,
        severity,
        f"drops table {table} and its {rows_text(rows, exact)}",
        table,
        stats.numbers() if stats else {},
    )


def renames_table(old: str, new: str) -> Hazard:
    return Hazard(
        HazardKind.RENAMES_OBJECT,
        Severity.WARNING,
        f"renames table {old} to {new}: queries using {old} break",
        new,
        {"old_name": old, "new_name": new},
    )


def blocked_by_dependents(
    facts: LiveFacts, table: str, column: str | None, action: str
) -> list[Hazard]:
    """BLOCKED_BY_DEPENDENTS when views, foreign keys or policies outside the plan use the
    table (or column) that ``action`` drops or retypes: PostgreSQL would refuse it."""
    users = facts.dependents(table, column)
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


def rewrites_table(table: str, stats: TableStats | None, why: str) -> Hazard:
    numbers = stats.numbers() if stats else {}
    size = f"{rows_text(stats.rows, stats.exact)}, {stats.bytes:,} bytes" if stats else "?"
    return Hazard(
        HazardKind.REWRITES_TABLE,
        Severity.WARNING,
        f"rewrites {table} ({size}) under an ACCESS EXCLUSIVE lock: {why}",
        table,
        numbers,
    )


def access_exclusive_lock(table: str, stats: TableStats) -> Hazard:
    """ACCESS_EXCLUSIVE_LOCK on the first statement that locks a populated table so."""
    return Hazard(
        HazardKind.ACCESS_EXCLUSIVE_LOCK,
        Severity.WARNING,
        f"locks {table} ({rows_text(stats.rows, stats.exact)}) ACCESS "
        "EXCLUSIVE from here until COMMIT: its readers and writers wait",
        table,
        stats.numbers(),
    )


def too_many_locks(locked: int, capacity: int, configured: bool) -> Hazard:
    """TOO_MANY_LOCKS: more relations than ``capacity`` (a configured limit, or the server's
    lock table)."""
    source = (
        "the configured limit"
        if configured
        else (
            "the server's lock table (max_locks_per_transaction x (max_connections + "
            "max_prepared_transactions))"
        )
    )
    return Hazard(
        HazardKind.TOO_MANY_LOCKS,
        Severity.DANGER,
        f"locks about {locked:,} relations in one transaction, more than the {capacity:,} of "
        f"{source}: it would fail with 'out of shared memory'; split the change",
        "",
        {"locked_relations": locked, "lock_capacity": capacity},
    )


def adopts_table(name: str, source: str, stats: TableStats | None) -> Hazard:
    """ADOPTS_TABLE: the first change to a table this tool did not create."""
    return Hazard(
        HazardKind.ADOPTS_TABLE,
        Severity.DANGER,
        f"table {source} exists on the target but this tool did not create it: this is "
        "the first change to it here; check who else uses it before applying",
        name,
        stats.numbers() if stats else {},
    )


def adopted_tables(
    bp: NormalizedBlueprint, live: Snapshot, renames: Renames, managed: Collection[str]
) -> dict[str, str]:
    """Blueprint tables (desired name -> live name) that exist live but are not managed."""
    sources = {new: old for old, new in renames.tables.items()}
    out: dict[str, str] = {}
    for table in bp.tables:
        source = sources.get(table.name, table.name)
        if live.table(source) is not None and source not in managed:
            out[table.name] = source
    return out


def mark_adoptions(
    statements: tuple[Statement, ...], adopted: dict[str, str], facts: LiveFacts
) -> tuple[Statement, ...]:
    """ADOPTS_TABLE on the first statement of each adopted table that changes.

    A table the tool did not create may be used in ways its blueprint does not show (other
    roles, other applications): the first change to it gets a second person's review.
    """
    out = list(statements)
    for name, source in sorted(adopted.items()):
        at = next((i for i, s in enumerate(out) if s.table == name), None)
        if at is None:
            continue  # nothing changes on it: nothing to adopt yet
        stats = facts.table_stats(name)
        hazard = adopts_table(name, source, stats)
        out[at] = dataclasses.replace(out[at], hazards=(hazard, *out[at].hazards))
    return tuple(out)
