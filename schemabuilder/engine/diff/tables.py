"""Diff of whole tables: CREATE and DROP TABLE, table comments. Columns are in
``diff.columns``; the hazards of a dropped table in ``hazards.tables``."""

from __future__ import annotations

from schemabuilder.engine.catalog.snapshot import ConstraintKind, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff.columns import column_definition, comment_column, comment_sql
from schemabuilder.engine.diff.phases import LockMode, Phase
from schemabuilder.engine.hazards.tables import blocked_by_dependents, drops_table


def create_table(ctx: DiffContext, table: Table) -> None:
    """CREATE TABLE with columns and the constraints that need nothing else (not the foreign
    keys, which wait until every table exists); then its comments. Indexes, foreign keys and
    policies are written by their own diff functions."""
    lines = [f"    {column_definition(c)}" for c in table.ordered_columns]
    lines += [
        f"    CONSTRAINT {quote_ident(c.name)} {c.written}"
        for c in table.constraints
        if c.kind is not ConstraintKind.FOREIGN_KEY
    ]
    body = ",\n".join(lines)
    ctx.emit(
        f"CREATE TABLE {ctx.qualified(table.name)} (\n{body}\n)",
        Phase.CREATE_TABLES,
        table.name,
        f"table {table.name} is new",
    )
    if table.comment is not None:
        ctx.emit(
            f"COMMENT ON TABLE {ctx.qualified(table.name)} IS {comment_sql(table.comment)}",
            Phase.COMMENTS,
            table.name,
            f"comment on new table {table.name}",
        )
    for col in table.ordered_columns:
        if col.comment is not None:
            comment_column(ctx, table.name, col.name, col.comment, new=True)


def drop_table(ctx: DiffContext, table: Table, dropped: set[str]) -> None:
    """DROP TABLE, after the foreign keys between dropped tables (cycles included)."""
    for con in table.constraints:
        if (
            con.kind is ConstraintKind.FOREIGN_KEY
            and con.ref_table in dropped
            and con.ref_table != table.name
        ):
            ctx.emit(
                f"ALTER TABLE {ctx.qualified(table.name)} DROP CONSTRAINT {quote_ident(con.name)}",
                Phase.DROP_FOREIGN_KEYS,
                table.name,
                f"{table.name} and {con.ref_table} are both dropped: the key between them first",
            )
    ctx.emit(
        f"DROP TABLE {ctx.qualified(table.name)}",
        Phase.DROP_TABLES,
        table.name,
        f"{table.name} is managed here and no longer in the blueprint",
        hazards=[
            drops_table(table.name, ctx.stats(table.name)),
            *blocked_by_dependents(ctx.facts, table.name, None, "DROP TABLE"),
        ],
    )


def diff_table_properties(ctx: DiffContext, live: Table, desired: Table) -> list[MemberChange]:
    """The table's comment (row level security is in ``diff.policies``)."""
    if live.comment == desired.comment:
        return []
    ctx.emit(
        f"COMMENT ON TABLE {ctx.qualified(desired.name)} IS {comment_sql(desired.comment)}",
        Phase.COMMENTS,
        desired.name,
        f"comment on {desired.name} changes",
        lock=LockMode.SHARE_UPDATE_EXCLUSIVE,
    )
    return [MemberChange("table", "comment", Action.ALTERED, live.comment, desired.comment)]
