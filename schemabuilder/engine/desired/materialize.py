"""The canonical desired state: the blueprint's DDL run in a scratch schema, introspected,
and rolled back.

PostgreSQL canonicalizes (``NOW()`` prints as ``now()``, ``VARCHAR(255)`` as
``character varying(255)``) and rejects what it would reject at apply time. A rejection
becomes ``BlueprintInvalid`` with the server's message at the blueprint path that caused it.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from typing import Any

import psycopg
from pglast import ast, parse_sql
from pglast.enums import ConstrType
from pglast.stream import RawStream
from pglast.visitors import Visitor
from psycopg import sql

from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.extensions import create_extension_sql
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NTable
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.contract.types import create_enum_sql
from schemabuilder.engine.desired.ddl import render_ddl
from schemabuilder.engine.desired.functions import called_functions, function_statements
from schemabuilder.engine.safe_errors import safe_message

SCRATCH_PREFIX = "sb_scratch_"
# Foreign keys to live tables lock them (SHARE ROW EXCLUSIVE) while the scratch table is
# built: never wait long for that, and never hold it long (the transaction is short).
MATERIALIZE_LOCK_TIMEOUT = "5s"


def materialize(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    live_schema: str,
    tables: Collection[str],
    *,
    paths: BlueprintPaths | None = None,
) -> Snapshot:
    """The desired snapshot of the blueprint tables named in ``tables``, as PostgreSQL prints
    it: created in a scratch schema inside a transaction that is always rolled back.

    References to tables outside ``tables`` resolve to ``live_schema``; the snapshot is named
    after ``live_schema`` and compares equal to a live table in the same state.
    Raises ``BlueprintInvalid`` when the server rejects the blueprint.
    """
    if not tables:
        return Snapshot(schema=live_schema)
    scratch = SCRATCH_PREFIX + secrets.token_hex(6)
    statements = render_ddl(
        unqualified(bp, live_schema, only=tables),
        scratch,
        tables=sorted(tables),
        external_schema=live_schema,
    )
    # The blueprint's enum types as it wants them, in the scratch schema: first on the
    # search_path, they stand for the live ones (which may lack a value, or not exist yet).
    statements[:0] = [
        create_enum_sql(f"{quote_ident(scratch)}.{quote_ident(t.name)}", t) for t in bp.types
    ]
    # The blueprint's functions too, which policies may call; their bodies are neither run
    # nor checked (check_function_bodies off): the plan never runs a submitter's code.
    # Only those the policies of these tables call: another may name the row type of a table
    # that exists in neither schema yet (``setof notes``).
    called = called_functions(bp, tables)
    if called:
        statements[len(bp.types) : len(bp.types)] = [
            "SET LOCAL check_function_bodies = off",
            *(
                s
                for f in bp.functions
                if f.name in called
                for s in function_statements(f"{quote_ident(scratch)}.{quote_ident(f.name)}", f)
            ),
        ]
    # The blueprint's extensions, before all: one not installed yet lands in the scratch
    # schema (rolled back with it), so its types and functions exist for the tables below
    # and print unqualified, as they will once installed in the target schema.
    statements[:0] = [create_extension_sql(name, scratch) for name in bp.extensions]
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(
            sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(MATERIALIZE_LOCK_TIMEOUT))
        )
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        path = sql.SQL("{}, {}").format(sql.Identifier(scratch), sql.Identifier(live_schema))
        cur.execute(
            sql.SQL("SELECT set_config('search_path', {}, true)").format(
                sql.Literal(path.as_string(conn))
            )
        )
        try:
            # One round trip for the whole script (thousands of statements for a large
            # blueprint); only when it fails are the statements replayed one by one to find
            # the one to blame.
            with conn.transaction():
                cur.execute(";\n".join(statements).encode())
        except psycopg.errors.LockNotAvailable:
            raise
        except psycopg.Error:
            _blame(cur, statements, paths or BlueprintPaths(bp), scratch, live_schema)
            raise
        return introspect(conn, scratch, search_path=[live_schema], as_schema=live_schema)


def unqualified(
    bp: NormalizedBlueprint, live_schema: str, *, only: Collection[str] | None = None
) -> NormalizedBlueprint:
    """``bp`` with ``live_schema.<blueprint table>`` in policy expressions made unqualified.

    A policy may name another table of the blueprint with the target's schema (Supabase's
    ``public.memberships``). In the scratch schema that name must mean the scratch copy, as
    it will mean the new table once applied: unqualified, it resolves through the search_path
    (scratch first, then the live schema) exactly as the qualified name will on the target.
    Qualified, it would read the live table, or fail on a fresh schema where it does not exist.
    The same holds for a call of one of the blueprint's functions (``public.is_member_of``).
    With ``only``, the other tables are left as they are (a group of a large blueprint is
    materialized at a time: parsing every policy of it for each group cost minutes).
    """
    names = {t.name for t in bp.tables}
    functions = {f.name for f in bp.functions}
    wanted = set(only) if only is not None else None
    tables = []
    for table in bp.tables:
        if wanted is not None and table.name not in wanted:
            tables.append(table)
            continue
        policies = tuple(
            p.model_copy(
                update={
                    "using": _unqualify(p.using, live_schema, names, functions),
                    "with_check": _unqualify(p.with_check, live_schema, names, functions),
                }
            )
            for p in table.policies
        )
        tables.append(
            table if policies == table.policies else table.model_copy(update={"policies": policies})
        )
    return bp.model_copy(update={"tables": tuple(tables)})


def tables_named_in_policies(table: NTable) -> set[str]:
    """Every relation name (schema left aside) that ``table``'s policies read."""
    names: set[str] = set()
    for policy in table.policies:
        for expression in (policy.using, policy.with_check):
            if expression is None or "select" not in expression.lower():
                continue
            visitor = _RangeVars()
            select = parse_sql(f"SELECT {expression}")[0].stmt
            assert select is not None  # validated already
            visitor(select)
            names.update(visitor.names)
    return names


class _RangeVars(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.relname:
            self.names.add(node.relname)


class _Unqualify(Visitor):
    def __init__(self, schema: str, names: set[str], functions: set[str]) -> None:
        super().__init__()
        self.schema, self.names, self.functions, self.changed = schema, names, functions, False

    def visit_FuncCall(self, ancestors: object, node: ast.FuncCall) -> None:
        parts = [getattr(p, "sval", None) for p in node.funcname or ()]
        if len(parts) == 2 and parts[0] == self.schema and parts[1] in self.functions:
            node.funcname = (node.funcname or ())[1:]
            self.changed = True

    def visit_RangeVar(self, ancestors: object, node: ast.RangeVar) -> None:
        if node.schemaname == self.schema and node.relname in self.names and not node.catalogname:
            node.schemaname = None
            self.changed = True


def _unqualify(
    expression: str | None, schema: str, names: set[str], functions: Collection[str] = ()
) -> str | None:
    if expression is None or schema not in expression:
        return expression
    select = parse_sql(f"SELECT {expression}")[0].stmt
    assert isinstance(select, ast.SelectStmt) and select.targetList  # validated already
    node = select.targetList[0].val
    visitor = _Unqualify(schema, names, set(functions))
    visitor(node)
    return RawStream()(node) if visitor.changed else expression


def _blame(
    cur: psycopg.Cursor[Any],
    statements: list[str],
    paths: BlueprintPaths,
    scratch: str,
    live_schema: str,
) -> None:
    """Run ``statements`` one at a time; raise ``BlueprintInvalid`` for the first that fails."""
    for statement in statements:
        try:
            cur.execute(statement.encode())
        except psycopg.errors.LockNotAvailable:
            raise
        except psycopg.Error as exc:
            issue = issue_for(paths, statement, exc)
            # The scratch schema is an implementation detail: name the live one.
            issue = Issue(issue.path, issue.message.replace(scratch, live_schema))
            raise BlueprintInvalid([issue]) from None


def issue_for(paths: BlueprintPaths, statement: str, exc: psycopg.Error) -> Issue:
    """The server's rejection of one rendered statement, at the blueprint path it came from.

    The statement is parsed with PostgreSQL's own parser; the error position (when the
    server gives one) picks the element; otherwise the object the statement creates.
    """
    diag = exc.diag
    message = diag.message_primary or safe_message(exc)
    if diag.message_hint:
        message = f"{message} ({diag.message_hint})"
    position = int(diag.statement_position) - 1 if diag.statement_position else None
    try:
        node = parse_sql(statement)[0].stmt
    except Exception:  # pglast raises its own error types; any failure means "no detail"
        return Issue(paths.prefix, message)
    path = _path_of(paths, node, statement, position, message)
    return Issue(path, f"PostgreSQL rejected it: {message}")


def _name(value: object) -> str:
    """A name from the parse tree ('' when absent): relname of a RangeVar, or a string."""
    if isinstance(value, ast.RangeVar):
        return value.relname or ""
    return value if isinstance(value, str) else ""


def _path_of(
    paths: BlueprintPaths, node: Any, statement: str, position: int | None, message: str
) -> str:
    if isinstance(node, ast.CreateStmt):
        return _in_create_table(paths, _name(node.relation), node, position, message)
    if isinstance(node, ast.AlterTableStmt):
        table = _name(node.relation)
        for cmd in node.cmds or ():
            con = getattr(cmd, "def_", None)
            if isinstance(con, ast.Constraint) and con.conname:
                return paths.constraint(table, con.conname)
        return paths.table(table)
    if isinstance(node, ast.IndexStmt):
        where = statement.rfind(" WHERE (")
        key = "where" if position is not None and where >= 0 and position > where else "columns"
        return paths.index(_name(node.relation), _name(node.idxname), key)
    if isinstance(node, ast.CreatePolicyStmt):
        check = statement.rfind("WITH CHECK (")
        key = "with_check" if position is not None and 0 <= check < position else "using"
        if "role" in message and "does not exist" in message:
            key = "roles"
        return paths.policy(_name(node.table), _name(node.policy_name), key)
    table = _name(getattr(node, "relation", None))
    return paths.table(table) if table else paths.prefix


def _in_create_table(
    paths: BlueprintPaths, table: str, node: ast.CreateStmt, position: int | None, message: str
) -> str:
    elements = sorted(node.tableElts or (), key=lambda e: int(e.location or 0))
    chosen = None
    if position is not None:
        for element in elements:
            if int(element.location or 0) <= position:
                chosen = element
    if chosen is None or position is None:
        # No position (a missing referenced table, say): the first foreign key whose target
        # the message names, else the table.
        for element in elements:
            if isinstance(element, ast.Constraint) and element.pktable is not None:
                target = _name(element.pktable)
                if target and target in message:
                    return paths.constraint(table, _name(element.conname))
        return paths.table(table)
    if isinstance(chosen, ast.ColumnDef):
        key = "type"
        for con in chosen.constraints or ():
            if int(con.location or 0) <= position and con.contype == ConstrType.CONSTR_DEFAULT:
                key = "default"
            elif int(con.location or 0) <= position and con.contype == ConstrType.CONSTR_GENERATED:
                key = "generated"
        return paths.column(table, _name(chosen.colname), key)
    if isinstance(chosen, ast.Constraint) and chosen.conname:
        return paths.constraint(table, chosen.conname)
    return paths.table(table)
