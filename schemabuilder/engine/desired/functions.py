"""The blueprint's functions as PostgreSQL prints them: created in a scratch schema with
``check_function_bodies`` off (nothing in a body is run, or even resolved), read back from
the catalog, and rolled back.

A rejection (a type that does not exist, a default that does not fit) becomes
``BlueprintInvalid`` at the function's path.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from typing import Any

import psycopg
from psycopg import sql

from schemabuilder.engine.catalog.functions import LiveFunction, live_functions
from schemabuilder.engine.contract import fragments
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.functions import NFunction, create_function_sql
from schemabuilder.engine.contract.idents import quote_ident, quote_literal
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.types import create_enum_sql
from schemabuilder.engine.safe_errors import safe_message

SCRATCH_PREFIX = "sb_scratch_"
# "type no_such_type does not exist", "type "Odd" does not exist".
_MISSING = re.compile(r'type "?([^"\s]+)"? does not exist')


def function_statements(qualified_name: str, f: NFunction) -> list[str]:
    """CREATE FUNCTION and its COMMENT (the latter only when there is one)."""
    out = [create_function_sql(qualified_name, f)]
    if f.comment is not None:
        out.append(
            f"COMMENT ON FUNCTION {qualified_name}{argument_types(f)} IS {quote_literal(f.comment)}"
        )
    return out


def called_functions(bp: NormalizedBlueprint, tables: Collection[str]) -> set[str]:
    """The blueprint's functions that the policies of ``tables`` call."""
    own = {f.name for f in bp.functions}
    out: set[str] = set()
    for table in bp.tables:
        if table.name not in tables:
            continue
        for policy in table.policies:
            for text in (policy.using, policy.with_check):
                if text and own:
                    calls = fragments.check_expression(text, allow_subqueries=True).calls
                    out |= {c.name for c in calls if c.kind == "function" and c.name in own}
    return out


def _stand_ins(
    cur: psycopg.Cursor[Any], bp: NormalizedBlueprint, scratch: str, live_schema: str
) -> None:
    """An empty table in ``scratch`` for each blueprint table a function's arguments or
    result name and the live schema lacks yet: its row type is all the function needs (a
    new table's ``setof notes``), and it prints under the same name."""
    texts = " ".join(f.returns + " " + " ".join(a.type for a in f.arguments) for f in bp.functions)
    named = [t.name for t in bp.tables if re.search(rf"\b{re.escape(t.name)}\b", texts, re.I)]
    if not named:
        return
    rows = cur.execute(
        "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = ANY(%s)",
        [live_schema, named],
    ).fetchall()
    present = {r[0] for r in rows}
    for name in named:
        if name not in present:
            cur.execute(
                sql.SQL("CREATE TABLE {}.{} ()").format(
                    sql.Identifier(scratch), sql.Identifier(name)
                )
            )


def argument_types(f: NFunction) -> str:
    """``(uuid, integer)``: the argument types, what names a function with its overloads."""
    return f"({', '.join(a.type for a in f.arguments)})"


def create_in(cur: psycopg.Cursor[Any], bp: NormalizedBlueprint, schema: str, prefix: str) -> None:
    """Create every function of ``bp`` in ``schema`` with bodies left unchecked (the caller's
    transaction rolls it back); a rejection is raised at the function's path."""
    if not bp.functions:
        return
    cur.execute("SET LOCAL check_function_bodies = off")
    for i, f in enumerate(bp.functions):
        for statement in function_statements(f"{quote_ident(schema)}.{quote_ident(f.name)}", f):
            try:
                with cur.connection.transaction():
                    cur.execute(statement.encode())
            except psycopg.errors.LockNotAvailable:
                raise
            except psycopg.Error as exc:
                message = exc.diag.message_primary or safe_message(exc)
                message = message.replace(schema, "the target schema")
                where = f"{prefix}.functions[{i}]{_blamed(f, message)}"
                raise BlueprintInvalid(
                    [Issue(where, f"PostgreSQL rejected it: {message}")]
                ) from None


def _blamed(f: NFunction, message: str) -> str:
    """The key of ``f`` a server's rejection is about: the argument or the return type that
    names the missing type, else the function itself."""
    match = _MISSING.search(message)
    missing = match[1].lower() if match else ""
    if missing:
        for j, a in enumerate(f.arguments):
            if missing in a.type.lower():
                return f".arguments[{j}].type"
            if a.default is not None and missing in a.default.lower():
                return f".arguments[{j}].default"
        if missing in f.returns.lower():
            return ".returns"
    return ""


def desired_functions(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, live_schema: str, prefix: str
) -> dict[str, LiveFunction]:
    """Name -> the blueprint's function as the catalog prints it, named as on the target."""
    if not bp.functions:
        return {}
    scratch = SCRATCH_PREFIX + secrets.token_hex(6)
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(scratch)))
        path = sql.SQL("{}, {}").format(sql.Identifier(scratch), sql.Identifier(live_schema))
        cur.execute(
            sql.SQL("SELECT set_config('search_path', {}, true)").format(
                sql.Literal(path.as_string(conn))
            )
        )
        for t in bp.types:
            cur.execute(
                create_enum_sql(f"{quote_ident(scratch)}.{quote_ident(t.name)}", t).encode()
            )
        _stand_ins(cur, bp, scratch, live_schema)
        create_in(cur, bp, scratch, prefix)
        return {f.name: f for f in live_functions(conn, scratch, [live_schema])}
