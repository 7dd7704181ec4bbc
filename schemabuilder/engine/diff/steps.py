"""What one statement of an online plan's second stage does, read from its own SQL.

The second stage runs statement by statement outside a transaction, and a worker that takes
over after a crash knows only the SQL the commit marker lists. So the step's kind and the
names it acts on are read back from that SQL with PostgreSQL's own parser (pglast), which the
executor uses to ask the catalog whether the step already happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pglast import ast, parse_sql
from pglast.enums import AlterTableType


class StepKind(StrEnum):
    """The statements a second stage holds."""

    BUILD_INDEX = "build_index"  # CREATE [UNIQUE] INDEX CONCURRENTLY
    DROP_INDEX = "drop_index"  # DROP INDEX CONCURRENTLY
    VALIDATE = "validate"  # ALTER TABLE ... VALIDATE CONSTRAINT
    SET_NOT_NULL = "set_not_null"  # ALTER TABLE ... ALTER COLUMN ... SET NOT NULL
    DROP_CONSTRAINT = "drop_constraint"  # ALTER TABLE ... DROP CONSTRAINT (a helper check)
    ADD_CONSTRAINT = "add_constraint"  # ADD CONSTRAINT [... USING INDEX | ... NOT VALID]
    OTHER = "other"


@dataclass(frozen=True)
class Step:
    """``kind`` acting on ``name`` (an index, a constraint or a column) of ``table``."""

    kind: StepKind
    table: str
    name: str


def step_of(sql: str) -> Step:
    """The kind and names of one second-stage statement (``OTHER`` for anything else)."""
    stmts = parse_sql(sql)
    if len(stmts) != 1:
        return Step(StepKind.OTHER, "", "")
    stmt = stmts[0].stmt
    if isinstance(stmt, ast.IndexStmt) and stmt.relation is not None:
        return Step(StepKind.BUILD_INDEX, str(stmt.relation.relname), str(stmt.idxname))
    if isinstance(stmt, ast.DropStmt) and stmt.objects:
        names = stmt.objects[0]
        last = names[-1] if isinstance(names, tuple) else names
        return Step(StepKind.DROP_INDEX, "", str(getattr(last, "sval", "")))
    if isinstance(stmt, ast.AlterTableStmt) and stmt.cmds and len(stmt.cmds) == 1:
        cmd = stmt.cmds[0]
        assert isinstance(cmd, ast.AlterTableCmd)
        table = str(stmt.relation.relname) if stmt.relation is not None else ""
        if cmd.subtype == AlterTableType.AT_ValidateConstraint:
            return Step(StepKind.VALIDATE, table, str(cmd.name))
        if cmd.subtype == AlterTableType.AT_SetNotNull:
            return Step(StepKind.SET_NOT_NULL, table, str(cmd.name))
        if cmd.subtype == AlterTableType.AT_DropConstraint:
            return Step(StepKind.DROP_CONSTRAINT, table, str(cmd.name))
        if cmd.subtype == AlterTableType.AT_AddConstraint and isinstance(cmd.def_, ast.Constraint):
            return Step(StepKind.ADD_CONSTRAINT, table, str(cmd.def_.conname))
    return Step(StepKind.OTHER, "", "")
