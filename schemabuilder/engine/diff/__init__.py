"""The diff: two snapshots in, ordered statements with hazards and per-table changes out.

``live`` is the live state of the plan's scope, ``desired`` the state to reach; a table in
``live`` and not in ``desired`` is dropped (the caller decides the scope, so only managed
tables can be). Renames are replayed on ``live`` first, then everything compares by value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from schemabuilder.engine.catalog.snapshot import ConstraintKind, Snapshot, Table
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.contract.normalize import default_fence_using
from schemabuilder.engine.diff.changes import (
    Action,
    DiffContext,
    MemberChange,
    PathOf,
    TableChange,
    default_path_of,
)
from schemabuilder.engine.diff.columns import diff_columns
from schemabuilder.engine.diff.constraints import create_constraints, diff_constraints
from schemabuilder.engine.diff.generated import regenerated_columns, without_dependents
from schemabuilder.engine.diff.indexes import create_indexes, diff_indexes
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement, in_phase_order
from schemabuilder.engine.diff.policies import create_table_security, diff_policies
from schemabuilder.engine.diff.renames import Renames, apply_renames
from schemabuilder.engine.diff.tables import (
    create_table,
    diff_table_properties,
    drop_table,
)
from schemabuilder.engine.diff.types import TypeState, diff_types, replay_type_renames
from schemabuilder.engine.hazards.facts import LiveFacts
from schemabuilder.engine.hazards.tables import access_exclusive_lock, renames_table, too_many_locks


@dataclass(frozen=True)
class DiffResult:
    """Statements in execution order, the reviewer's changes, and blueprint problems found
    only against the live data (a type that cannot be converted, say)."""

    statements: tuple[Statement, ...]
    changes: tuple[TableChange, ...]
    issues: tuple[Issue, ...]
    locked_relations: int


def diff(
    live: Snapshot,
    desired: Snapshot,
    *,
    schema: str,
    facts: LiveFacts,
    renames: Renames | None = None,
    fence_column: str | None = None,
    fence_using: str | None = None,
    path_of: PathOf = default_path_of,
    max_locked_relations: int | None = None,
    types: TypeState | None = None,
    server_version: int = 0,
    installing: tuple[str, ...] = (),
) -> DiffResult:
    """Everything it takes to turn ``live`` into ``desired`` in ``schema``.

    ``max_locked_relations`` caps how many relations one migration may lock; by default the
    server's lock table (``facts.lock_capacity()``). ``fence_using`` is the fence predicate
    (by default the seed's, on ``fence_column``). ``server_version`` (``server_version_num``)
    decides what can change in place; 0 assumes the oldest server supported. ``installing``
    names the extensions the plan installs (their types cannot be checked on live rows yet).
    """
    renames = renames or Renames()
    if fence_using is None and fence_column:
        fence_using = default_fence_using(fence_column)  # the fence's default predicate
    ctx = DiffContext(
        schema=schema,
        facts=facts,
        renames=renames,
        fence_column=fence_column,
        fence_using=fence_using,
        path_of=path_of,
        server_version=server_version,
        installing=installing,
    )
    for old, new in sorted(renames.tables.items()):
        ctx.emit(
            f"ALTER TABLE {ctx.qualified(old)} RENAME TO {quote_ident(new)}",
            Phase.RENAME_TABLES,
            new,
            f"table {old} is renamed to {new} (renamed_from)",
            hazards=[renames_table(old, new)],
        )
    if types is not None:
        live = replay_type_renames(live, types)
        diff_types(ctx, types, apply_renames(live, renames), desired)
    before = apply_renames(live, renames)
    renamed_to = {new: old for old, new in renames.tables.items()}
    dropped = {t.name for t in before.tables if t.name not in desired.table_map}
    changes: list[TableChange] = []
    for name in sorted(set(before.table_map) | set(desired.table_map)):
        was, will = before.table(name), desired.table(name)
        if was is None and will is not None:
            create_table(ctx, will)
            create_constraints(ctx, will)
            create_indexes(ctx, will)
            create_table_security(ctx, will)
            changes.append(TableChange(name, Action.CREATED, after=will))
        elif will is None and was is not None:
            drop_table(ctx, was, dropped)
            changes.append(TableChange(name, Action.DROPPED, before=was))
        elif was is not None and will is not None:
            members = _diff_table(ctx, was, will)
            if members or name in renamed_to:
                changes.append(
                    TableChange(
                        name, Action.ALTERED, renamed_from=renamed_to.get(name), members=members
                    )
                )
    statements = in_phase_order(ctx.statements)
    statements = _lock_hazards(ctx, statements, dropped)
    locked = _locked_relations(before, desired, statements)
    statements = _lock_table_hazard(facts, statements, locked, max_locked_relations)
    return DiffResult(
        statements=tuple(statements),
        changes=tuple(changes),
        issues=tuple(ctx.issues),
        locked_relations=locked,
    )


def _diff_table(ctx: DiffContext, live: Table, desired: Table) -> tuple[MemberChange, ...]:
    # Column renames are already replayed on ``live``, so a table whose only change is a
    # column rename compares equal: its RENAME COLUMN must still be emitted.
    if live == desired and not ctx.renames.columns.get(desired.name):
        return ()
    regenerated = regenerated_columns(ctx, live, desired)
    if regenerated:
        live = without_dependents(ctx, live, regenerated)
    touched = regenerated | {
        c.name
        for c in live.columns
        if c.name not in desired.column_map
        or desired.column_map[c.name].type != c.type
        or desired.column_map[c.name].collation != c.collation
    }
    members = [
        *diff_table_properties(ctx, live, desired),
        *diff_columns(ctx, live, desired),
        *diff_constraints(ctx, live, desired),
        *diff_indexes(ctx, live, desired),
        *diff_policies(ctx, live, desired, touched),
    ]
    return tuple(members)


def _lock_hazards(
    ctx: DiffContext, statements: list[Statement], dropped: set[str]
) -> list[Statement]:
    """ACCESS_EXCLUSIVE_LOCK once per populated table, on its first such statement.

    The lock is held until COMMIT, so the first statement that takes it is where readers
    and writers of the table start to wait.
    """
    seen: set[str] = set()
    result = []
    for stmt in statements:
        if (
            stmt.lock is LockMode.ACCESS_EXCLUSIVE
            and stmt.table not in seen
            and stmt.table not in dropped
        ):
            seen.add(stmt.table)
            stats = ctx.stats(stmt.table)
            if stats is not None and stats.populated:
                hazard = access_exclusive_lock(stmt.table, stats)
                stmt = dataclasses.replace(stmt, hazards=(*stmt.hazards, hazard))
        result.append(stmt)
    return result


def _locked_relations(before: Snapshot, desired: Snapshot, statements: list[Statement]) -> int:
    """Relations the migration locks: each touched table, its indexes (those backing
    constraints too), a TOAST table, and the tables its foreign keys reference."""
    touched = {s.table for s in statements}
    relations: set[str] = set()
    for name in touched:
        for table in (before.table(name), desired.table(name)):
            if table is None:
                continue
            relations.add(name)
            relations.add(f"{name} (toast)")
            relations.update(f"index {i.name}" for i in table.indexes)
            for con in table.constraints:
                if con.kind in (ConstraintKind.PRIMARY_KEY, ConstraintKind.UNIQUE):
                    relations.add(f"index {con.name}")
                elif con.kind is ConstraintKind.FOREIGN_KEY and con.ref_table:
                    relations.add(con.ref_table)
    return len(relations)


def _lock_table_hazard(
    facts: LiveFacts, statements: list[Statement], locked: int, limit: int | None
) -> list[Statement]:
    if not statements:
        return statements
    capacity = limit if limit is not None else facts.lock_capacity()
    if capacity is None or locked <= capacity:
        return statements
    hazard = too_many_locks(locked, capacity, configured=limit is not None)
    first = statements[0]
    return [dataclasses.replace(first, hazards=(hazard, *first.hazards)), *statements[1:]]
