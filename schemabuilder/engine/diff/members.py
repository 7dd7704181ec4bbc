"""Diff of constraints and indexes: matched by name; an unmatched pair with the same
definition (a renamed table's ``clients_pkey`` and ``patients_pkey``) is a rename, not a
drop and a rebuild."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from schemabuilder.engine.catalog.snapshot import Constraint, ConstraintKind, Index, Policy, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.diff.tables import SCAN_TIMEOUT_MS
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, count_text, rows_text
from schemabuilder.engine.hazards.facts import TableStats

_DIRECTIONS = (" DESC NULLS LAST", " NULLS FIRST", " DESC")


def pair_renames[T: (Constraint, Index, Policy)](
    live: Mapping[str, T], desired: Mapping[str, T], same: Callable[[T, T], bool]
) -> list[tuple[T, T]]:
    """(live, desired) pairs with different names and the same definition, first by name."""
    live_only = sorted(n for n in live if n not in desired)
    pairs = []
    for name in sorted(n for n in desired if n not in live):
        match = next((n for n in live_only if same(live[n], desired[name])), None)
        if match is not None:
            live_only.remove(match)
            pairs.append((live[match], desired[name]))
    return pairs


def _same_constraint(a: Constraint, b: Constraint) -> bool:
    return a.kind == b.kind and a.definition == b.definition


def _same_index(a: Index, b: Index) -> bool:
    return a.definition == b.definition and a.unique == b.unique and a.valid and b.valid


def create_constraints(ctx: DiffContext, table: Table) -> None:
    """The foreign keys of a new table (its other constraints are in CREATE TABLE)."""
    for con in table.constraints:
        if con.kind is ConstraintKind.FOREIGN_KEY:
            _add_constraint(ctx, table.name, con, None)


def _diff_named[T: (Constraint, Index)](
    ctx: DiffContext,
    table: str,
    kind: str,
    live: Mapping[str, T],
    desired: Mapping[str, T],
    same: Callable[[T, T], bool],
    rename_sql: Callable[[T, T], str],
    drop: Callable[[T, bool], None],
    add: Callable[[T], None],
) -> list[MemberChange]:
    """Renames, then drops, then additions of one kind of named member of one table.

    A member whose definition changes under the same name is dropped and added again
    (``drop`` is told it is replaced: its hazards are the new one's to report)."""
    changes: list[MemberChange] = []
    renamed = pair_renames(live, desired, same)
    for old, new in renamed:
        ctx.emit(
            rename_sql(old, new),
            Phase.RENAME_CONSTRAINTS,
            table,
            f"{kind} {old.name} has the definition of {new.name}: renamed, not rebuilt",
        )
        changes.append(MemberChange(kind, new.name, Action.RENAMED, old, new, old.name))
    renamed_live = {a.name for a, _ in renamed}
    renamed_desired = {b.name for _, b in renamed}
    for name in sorted(set(live) - renamed_live):
        wanted = desired.get(name)
        if wanted != live[name]:
            drop(live[name], wanted is not None)
            if wanted is None:
                changes.append(MemberChange(kind, name, Action.DROPPED, live[name], None))
    for name in sorted(set(desired) - renamed_desired):
        before = live.get(name)
        if before != desired[name]:
            add(desired[name])
            action = Action.ADDED if before is None else Action.ALTERED
            changes.append(MemberChange(kind, name, action, before, desired[name]))
    return changes


def diff_constraints(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """RENAME, DROP and ADD CONSTRAINT for one existing table."""
    table = desired.name
    stats = ctx.stats(table)
    return _diff_named(
        ctx,
        table,
        "constraint",
        live.constraint_map,
        desired.constraint_map,
        _same_constraint,
        lambda old, new: (
            f"ALTER TABLE {ctx.qualified(table)} RENAME CONSTRAINT {quote_ident(old.name)} "
            f"TO {quote_ident(new.name)}"
        ),
        lambda con, replaced: _drop_constraint(ctx, table, con, stats, replaced=replaced),
        lambda con: _add_constraint(ctx, table, con, stats),
    )


def _drop_constraint(
    ctx: DiffContext, table: str, con: Constraint, stats: TableStats | None, *, replaced: bool
) -> None:
    fk = con.kind is ConstraintKind.FOREIGN_KEY
    hazards = []
    if not replaced:
        hazards.append(
            Hazard(
                HazardKind.DROPS_CONSTRAINT,
                Severity.WARNING,
                f"drops {con.kind} constraint {con.name} on {table}: {con.definition} is no "
                "longer enforced",
                table,
                stats.numbers() if stats else {},
            )
        )
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} DROP CONSTRAINT {quote_ident(con.name)}",
        Phase.DROP_FOREIGN_KEYS if fk else Phase.DROP_CONSTRAINTS,
        table,
        f"constraint {con.name} "
        + ("changes definition: dropped and added again" if replaced else "is no longer wanted"),
        hazards=hazards,
    )


def _add_constraint(
    ctx: DiffContext, table: str, con: Constraint, stats: TableStats | None
) -> None:
    fk = con.kind is ConstraintKind.FOREIGN_KEY
    hazards: list[Hazard] = []
    if stats is not None and stats.populated:
        hazards = _validation_hazards(ctx, table, con, stats)
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} ADD CONSTRAINT {quote_ident(con.name)} {con.written}",
        Phase.ADD_FOREIGN_KEYS if fk else Phase.ADD_CONSTRAINTS,
        table,
        f"constraint {con.name} is new or changed",
        hazards=hazards,
        lock=LockMode.SHARE_ROW_EXCLUSIVE if fk else LockMode.ACCESS_EXCLUSIVE,
        timeout_ms=SCAN_TIMEOUT_MS if hazards else None,
    )


def _validation_hazards(
    ctx: DiffContext, table: str, con: Constraint, stats: TableStats
) -> list[Hazard]:
    scanned = rows_text(stats.rows, stats.exact)
    numbers: dict[str, int | str | bool | None] = dict(stats.numbers())
    if con.kind in (ConstraintKind.PRIMARY_KEY, ConstraintKind.UNIQUE):
        keys = [quote_ident(c) for c in con.columns]
        bad = ctx.facts.duplicate_rows(table, keys, None)
        numbers["duplicate_rows"] = bad
        kind, what = HazardKind.ADDS_UNIQUE, "duplicate rows"
        head = f"adds {con.kind} {con.name} on {table}({', '.join(con.columns)})"
    elif con.kind is ConstraintKind.CHECK:
        expression = con.definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
        bad = ctx.facts.check_violations(table, expression)
        numbers["violating_rows"] = bad
        kind, what = HazardKind.ADDS_CHECK, "rows violating it"
        head = f"adds {con.definition} on {table}"
    elif con.kind is ConstraintKind.FOREIGN_KEY:
        ref = con.ref_table or ""
        ref_live = ctx.facts.table_stats(ref) is not None
        bad = ctx.facts.fk_violations(table, con.columns, ref, con.ref_columns, ref_live)
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


def create_indexes(ctx: DiffContext, table: Table) -> None:
    """The indexes of a new table."""
    for index in table.indexes:
        _create_index(ctx, table.name, index, None)


def diff_indexes(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """ALTER INDEX RENAME, DROP INDEX and CREATE INDEX for one existing table."""
    table = desired.name
    stats = ctx.stats(table)
    return _diff_named(
        ctx,
        table,
        "index",
        live.index_map,
        desired.index_map,
        _same_index,
        lambda old, new: f"ALTER INDEX {ctx.qualified(old.name)} RENAME TO {quote_ident(new.name)}",
        lambda index, replaced: _drop_index(ctx, table, index, stats, replaced=replaced),
        lambda index: _create_index(ctx, table, index, stats),
    )


def _drop_index(
    ctx: DiffContext, table: str, index: Index, stats: TableStats | None, *, replaced: bool
) -> None:
    hazards = []
    if not replaced:
        populated = stats is not None and stats.populated
        hazards.append(
            Hazard(
                HazardKind.DROPS_INDEX,
                Severity.WARNING if populated else Severity.INFO,
                f"drops index {index.name} on {table} ({index.definition}): queries that "
                "used it may get slower",
                table,
                stats.numbers() if stats else {},
            )
        )
    ctx.emit(
        f"DROP INDEX {ctx.qualified(index.name)}",
        Phase.DROP_INDEXES,
        table,
        f"index {index.name} "
        + ("changes definition: dropped and built again" if replaced else "is no longer wanted"),
        hazards=hazards,
    )


def _create_index(ctx: DiffContext, table: str, index: Index, stats: TableStats | None) -> None:
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
            bad = ctx.facts.duplicate_rows(table, keys, index.predicate)
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
    unique = "UNIQUE " if index.unique else ""
    ctx.emit(
        f"CREATE {unique}INDEX {quote_ident(index.name)} ON {ctx.qualified(table)} {index.written}",
        Phase.CREATE_INDEXES,
        table,
        f"index {index.name} is new or changed",
        hazards=hazards,
        lock=LockMode.SHARE,
        timeout_ms=SCAN_TIMEOUT_MS if hazards else None,
    )


def _strip_direction(key: str) -> str:
    for suffix in _DIRECTIONS:
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key
