"""Diff of indexes: ALTER INDEX RENAME, DROP INDEX and CREATE INDEX (a new table's too).
Their hazards are decided in ``hazards.indexes``."""

from __future__ import annotations

from collections.abc import Mapping

from schemabuilder.engine.catalog.snapshot import Column, Index, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import SCAN_TIMEOUT_MS, DiffContext, MemberChange
from schemabuilder.engine.diff.members import diff_named
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.hazards.facts import TableStats
from schemabuilder.engine.hazards.indexes import builds_index, drops_index


def _same_index(a: Index, b: Index) -> bool:
    return a.definition == b.definition and a.unique == b.unique and a.valid and b.valid


def create_indexes(ctx: DiffContext, table: Table) -> None:
    """The indexes of a new table."""
    for index in table.indexes:
        _create_index(ctx, table.name, index, None)


def diff_indexes(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """ALTER INDEX RENAME, DROP INDEX and CREATE INDEX for one existing table."""
    table = desired.name
    stats = ctx.stats(table)
    added = {c.name: c for c in desired.columns if c.name not in live.column_map}
    return diff_named(
        ctx,
        table,
        "index",
        live.index_map,
        desired.index_map,
        _same_index,
        lambda old, new: f"ALTER INDEX {ctx.qualified(old.name)} RENAME TO {quote_ident(new.name)}",
        lambda index, replaced: _drop_index(ctx, table, index, stats, replaced=replaced),
        lambda index: _create_index(ctx, table, index, stats, added),
    )


def _drop_index(
    ctx: DiffContext, table: str, index: Index, stats: TableStats | None, *, replaced: bool
) -> None:
    ctx.emit(
        f"DROP INDEX {ctx.qualified(index.name)}",
        Phase.DROP_INDEXES,
        table,
        f"index {index.name} "
        + ("changes definition: dropped and built again" if replaced else "is no longer wanted"),
        hazards=[] if replaced else [drops_index(table, index, stats)],
    )


def _create_index(
    ctx: DiffContext,
    table: str,
    index: Index,
    stats: TableStats | None,
    added: Mapping[str, Column] | None = None,
) -> None:
    hazards = builds_index(ctx.facts, table, index, stats, added)
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
