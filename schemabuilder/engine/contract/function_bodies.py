"""What a function's body does, as PostgreSQL's parser sees it (pglast), never by running it.

An SQL body is parsed as the statements it is. A PL/pgSQL body is parsed with
``parse_plpgsql`` on the whole CREATE FUNCTION text the engine renders, and every SQL
statement and expression inside it is parsed again, so that the calls hidden in an ``IF``
or an assignment are found too. The facts feed the hazards: dynamic SQL (``EXECUTE``, or a
call of a function that runs a query given as text), and everything the body calls or runs
that the policy allowlist and the blueprint's own functions do not cover.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast import parser

from schemabuilder.engine.contract import allowlist
from schemabuilder.engine.contract.fragments import _walk
from schemabuilder.engine.contract.functions import NFunction, create_function_sql
from schemabuilder.engine.contract.idents import quote_ident

# Statements a body may hold without being dangerous by kind: reading and writing rows.
_ROW_STATEMENTS = frozenset({"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
# PL/pgSQL statements that run a query given as text.
_DYNAMIC = frozenset({"PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors"})
# Functions that run a query given as text, or reach another database.
_EXEC_LIKE = ("dblink", "exec", "query_to_", "cursor_to_", "table_to_", "schema_to_")
_HARMLESS_GENERATORS = frozenset({"gen_random_uuid", "clock_timestamp", "random"})


@dataclass(frozen=True)
class BodyFacts:
    """What a body was found to do: ``problem`` when it does not parse."""

    problem: str | None = None
    calls: tuple[tuple[str | None, str], ...] = ()  # (schema, name) of every function call
    operators: tuple[tuple[str | None, str], ...] = ()
    statements: tuple[str, ...] = ()  # the kinds of statement it runs (SelectStmt, CopyStmt)
    dynamic: bool = False


def _error(exc: Exception) -> str:
    message = str(exc.args[0]) if getattr(exc, "args", None) else str(exc)
    return message.split(", at index")[0]


def _collect(tree: Any, calls: list[Any], operators: list[Any], kinds: list[str]) -> None:
    for stmt in tree.get("stmts", []):
        kinds.extend(k for k in stmt.get("stmt", {}) if k[:1].isupper())
    for kind, node in _walk(tree):
        if kind == "FuncCall":
            names = [p["String"]["sval"] for p in node["funcname"] if "String" in p]
            calls.append((names[-2] if len(names) > 1 else None, names[-1]))
        elif kind == "A_Expr":
            names = [p["String"]["sval"] for p in node.get("name", []) if "String" in p]
            if names:
                operators.append((names[-2] if len(names) > 1 else None, names[-1]))
        elif kind in ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "CopyStmt"):
            kinds.append(kind)  # inside a WITH, say


def _embedded_sql(query: str, mode: int) -> str | None:
    """The SQL text of one PL/pgSQL expression, as the server would parse it."""
    if mode == 1:
        return None  # a type name
    if mode == 0:
        return query
    if mode in (3, 4, 5):  # an assignment: target := expression
        _, sep, value = query.partition(":=")
        if not sep:
            _, _, value = query.partition("=")
        return f"SELECT {value}"
    return f"SELECT {query}"


@lru_cache(maxsize=1024)
def _facts(f: NFunction) -> BodyFacts:
    calls: list[Any] = []
    operators: list[Any] = []
    kinds: list[str] = []
    dynamic = False
    if f.language == "sql":
        try:
            tree = json.loads(parser.parse_sql_json(f.body))
        except parser.ParseError as exc:
            return BodyFacts(f"is not valid SQL ({_error(exc)}): fix the body")
        if not tree.get("stmts"):
            return BodyFacts("holds no statement: write the function's SQL")
        _collect(tree, calls, operators, kinds)
    else:
        try:
            function = parser.parse_plpgsql_json(create_function_sql(quote_ident(f.name), f))
        except Exception as exc:  # pglast raises its own error types
            return BodyFacts(f"is not valid PL/pgSQL ({_error(exc)}): fix the body")
        for kind, node in _walk(json.loads(function)):
            if kind in _DYNAMIC or (
                kind in ("PLpgSQL_stmt_open", "PLpgSQL_stmt_return_query") and "dynquery" in node
            ):
                dynamic = True
            if kind != "PLpgSQL_expr":
                continue
            text = _embedded_sql(str(node.get("query", "")), int(node.get("parseMode", 0)))
            if text is None:
                continue
            try:
                tree = json.loads(parser.parse_sql_json(text))
            except parser.ParseError as exc:
                return BodyFacts(
                    f"holds SQL that does not parse ({_error(exc)}) in {text[:80]!r}: fix it"
                )
            _collect(tree, calls, operators, kinds)
    dynamic = dynamic or any(name.lower().startswith(_EXEC_LIKE) for _, name in calls)
    return BodyFacts(
        None,
        tuple(dict.fromkeys(calls)),
        tuple(dict.fromkeys(operators)),
        tuple(dict.fromkeys(kinds)),
        dynamic,
    )


def body_facts(f: NFunction) -> BodyFacts:
    """What the body of ``f`` does (parsed once per distinct function)."""
    return _facts(f)


def body_problem(f: NFunction) -> str | None:
    """Why the body of ``f`` is refused (it does not parse), or None."""
    return _facts(f).problem


def outside_calls(f: NFunction, own: set[str], schema: str | None) -> list[str]:
    """What ``f`` calls or runs beyond the policy allowlist and the blueprint's own
    functions (``own``; qualified by ``schema``, the target's, or unqualified)."""
    facts = _facts(f)
    configured = allowlist.configured_policy_functions()
    out: list[str] = []
    for call_schema, name in facts.calls:
        qualified = f"{call_schema}.{name}" if call_schema else name
        if call_schema in (None, "pg_catalog") and (
            name in allowlist.BUILTINS or name in _HARMLESS_GENERATORS
        ):
            continue
        if qualified in configured:
            continue
        if name in own and call_schema in (None, schema):
            continue
        out.append(f"{qualified}()")
    for op_schema, name in facts.operators:
        if op_schema in (None, "pg_catalog") and name.replace(" ", "_") in allowlist.OPERATORS:
            continue
        out.append(f"the operator {name}")
    out += [
        f"a {kind.removesuffix('Stmt').upper()} statement"
        for kind in facts.statements
        if kind not in _ROW_STATEMENTS
    ]
    return list(dict.fromkeys(out))
