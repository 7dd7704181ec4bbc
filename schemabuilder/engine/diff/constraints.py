"""Diff of constraints: RENAME, DROP and ADD CONSTRAINT (a new table's foreign keys too).
Their hazards are decided in ``hazards.constraints``."""

from __future__ import annotations

from collections.abc import Mapping

from schemabuilder.engine.catalog.snapshot import Column, Constraint, ConstraintKind, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import SCAN_TIMEOUT_MS, DiffContext, MemberChange
from schemabuilder.engine.diff.members import diff_named
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.hazards import Hazard
from schemabuilder.engine.hazards.constraints import (
    drops_constraint,
    references_outside,
    validation,
)
from schemabuilder.engine.hazards.facts import TableStats


def _same_constraint(a: Constraint, b: Constraint) -> bool:
    return a.kind == b.kind and a.definition == b.definition


def create_constraints(ctx: DiffContext, table: Table) -> None:
    """The foreign keys of a new table (its other constraints are in CREATE TABLE)."""
    for con in table.constraints:
        if con.kind is ConstraintKind.FOREIGN_KEY:
            _add_constraint(ctx, table.name, con, None)


def diff_constraints(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """RENAME, DROP and ADD CONSTRAINT for one existing table."""
    table = desired.name
    stats = ctx.stats(table)
    added = {c.name: c for c in desired.columns if c.name not in live.column_map}
    return diff_named(
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
        lambda con: _add_constraint(ctx, table, con, stats, added),
    )


def _drop_constraint(
    ctx: DiffContext, table: str, con: Constraint, stats: TableStats | None, *, replaced: bool
) -> None:
    fk = con.kind is ConstraintKind.FOREIGN_KEY
    hazards = [] if replaced else [drops_constraint(table, con, stats)]
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} DROP CONSTRAINT {quote_ident(con.name)}",
        Phase.DROP_FOREIGN_KEYS if fk else Phase.DROP_CONSTRAINTS,
        table,
        f"constraint {con.name} "
        + ("changes definition: dropped and added again" if replaced else "is no longer wanted"),
        hazards=hazards,
    )


def _add_constraint(
    ctx: DiffContext,
    table: str,
    con: Constraint,
    stats: TableStats | None,
    added: Mapping[str, Column] | None = None,
) -> None:
    fk = con.kind is ConstraintKind.FOREIGN_KEY
    hazards: list[Hazard] = []
    counted = stats is not None and stats.populated
    if stats is not None and stats.populated:
        hazards = validation(ctx.facts, table, con, stats, added)
    elif fk and con.references_other_schema:
        hazards = [references_outside(table, con)]
    ctx.emit(
        f"ALTER TABLE {ctx.qualified(table)} ADD CONSTRAINT {quote_ident(con.name)} {con.written}",
        Phase.ADD_FOREIGN_KEYS if fk else Phase.ADD_CONSTRAINTS,
        table,
        f"constraint {con.name} is new or changed",
        hazards=hazards,
        lock=LockMode.SHARE_ROW_EXCLUSIVE if fk else LockMode.ACCESS_EXCLUSIVE,
        timeout_ms=SCAN_TIMEOUT_MS if counted and hazards else None,
    )
