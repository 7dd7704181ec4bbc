"""Stored generated columns whose expression changes.

PostgreSQL 17 and later change the expression in place (``ALTER COLUMN ... SET EXPRESSION
AS``, which computes every row again). Before 17 the only way is to drop the column and add
it again with the new expression: its values are computed again, so nothing is lost, but
the indexes and constraints on it go with the DROP COLUMN, and the policies using it stop
it. So for such a column the diff drops its indexes and policies first and builds them
again afterwards, with its constraints, as if they were new; what uses it from outside the
plan (a view, another table's foreign key) is BLOCKED_BY_DEPENDENTS, danger.
"""

from __future__ import annotations

import dataclasses
import re

from schemabuilder.engine.catalog.snapshot import Column, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import DiffContext
from schemabuilder.engine.diff.phases import Phase

SET_EXPRESSION_SINCE = 170000  # ALTER COLUMN ... SET EXPRESSION AS
_PRINTED = re.compile(r"GENERATED ALWAYS AS \((?P<expr>.*)\) STORED", re.DOTALL)


def expression_of(generated: str) -> str:
    """``GENERATED ALWAYS AS (a + b) STORED`` (as the catalog prints it) -> ``a + b``."""
    match = _PRINTED.fullmatch(generated)
    if match is None:  # a virtual column (PostgreSQL 18): never in a desired state
        raise ValueError(f"not a stored generated column: {generated}")
    return match["expr"]


def sets_expression_in_place(server_version: int) -> bool:
    """True on a server with ``ALTER COLUMN ... SET EXPRESSION AS`` (PostgreSQL 17+)."""
    return server_version >= SET_EXPRESSION_SINCE


def expression_changes(before: Column, after: Column) -> bool:
    """Both generated, with different expressions."""
    return bool(before.generated and after.generated and before.generated != after.generated)


def regenerated_columns(ctx: DiffContext, live: Table, desired: Table) -> set[str]:
    """The columns this diff drops and adds again for a new expression (before 17)."""
    if sets_expression_in_place(ctx.server_version):
        return set()
    return {
        c.name
        for c in desired.columns
        if (b := live.column_map.get(c.name)) is not None and expression_changes(b, c)
    }


def _mentions(text: str, column: str) -> bool:
    name = re.escape(quote_ident(column))
    return re.search(rf'(?<![\w"$]){name}(?![\w"$])', text) is not None


def without_dependents(ctx: DiffContext, live: Table, columns: set[str]) -> Table:
    """``live`` as the DROP COLUMN of ``columns`` leaves it: without the constraints on them
    and the indexes that name them, which the diff then builds again. Those indexes are
    dropped here first, explicitly (an index that only names the column in a literal would
    not go with it, and its CREATE INDEX would then fail)."""
    gone = [i for i in live.indexes if any(_mentions(i.definition, c) for c in columns)]
    for index in gone:
        ctx.emit(
            f"DROP INDEX {ctx.qualified(index.name)}",
            Phase.DROP_INDEXES,
            live.name,
            f"index {index.name} is built again once its generated column is added again",
        )
    return dataclasses.replace(
        live,
        constraints=tuple(c for c in live.constraints if not set(c.columns) & columns),
        indexes=tuple(i for i in live.indexes if i not in gone),
    )
