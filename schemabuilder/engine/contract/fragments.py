"""SQL fragments in a blueprint, checked with PostgreSQL's own parser (pglast).

A fragment is pasted into generated DDL, so each one must be exactly one type name or exactly
one expression. The checks are structural: the scanner rejects the tricks that could escape
the surrounding statement (separators, comments, dollar quoting, unbalanced brackets), then
the parser must produce exactly the one tree expected around the fragment, nothing more.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pglast import parser

MAX_FRAGMENT_CHARS = 10_000

_OPENERS = {"ASCII_40": "ASCII_41", "ASCII_91": "ASCII_93"}  # ( ) and [ ]
_CLOSERS = frozenset(_OPENERS.values())
_SEMICOLON = "ASCII_59"
_COMMA = "ASCII_44"
_QUERY_START = re.compile(r"\s*(SELECT|VALUES|TABLE|WITH)\b", re.IGNORECASE)
_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})
_EXPR_EXAMPLE = "for example status IN ('DRAFT', 'ACTIVE')"
_TYPE_EXAMPLE = "for example TEXT, VARCHAR(255), NUMERIC(12,2) or TEXT[]"


@dataclass(frozen=True)
class Call:
    """Something an expression calls, as the parser saw it (``allowlist`` judges it).

    ``kind`` is "function" (``FuncCall``: also the SQL syntax forms such as EXTRACT or
    TRIM, which the parser turns into pg_catalog calls), "operator" (``A_Expr``, including
    OPERATOR(schema.op)), "value" (``SQLValueFunction``: CURRENT_TIMESTAMP, CURRENT_USER)
    or "node" (a construct that is refused whatever it calls, such as XMLTABLE).
    ``text_arg`` is the first argument when it is a string literal, possibly cast to
    regclass (what ``nextval('seq')`` names).
    """

    kind: str
    schema: str | None
    name: str
    text_arg: str | None = None


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one fragment: its tidy text, or why it was refused."""

    text: str
    problem: str | None = None
    column_refs: frozenset[str] = frozenset()
    simple: bool = False  # a constant, a cast or a function call: safe after DEFAULT bare
    calls: tuple[Call, ...] = ()
    # A two-part column reference or a field selection, ``t.f`` or ``(x).f``: PostgreSQL
    # reads those as a call of function f when no column f exists (functional notation).
    qualified_refs: bool = False


def _walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (node kind, node body) in a pglast JSON tree, without recursion limits."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key[:1].isupper():
                    yield key, value
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def _parse_error(exc: parser.ParseError) -> str:
    message = str(exc.args[0]) if exc.args else str(exc)
    return message.split(", at index")[0]


def _lex(text: str, what: str, example: str) -> tuple[str | None, str]:
    """Scanner-level checks; returns (problem, whitespace-normalized text)."""
    if not text.strip():
        return f"must not be empty: write {what}, {example}", text
    if len(text) > MAX_FRAGMENT_CHARS:
        return (
            f"is {len(text):,} characters long; the limit is {MAX_FRAGMENT_CHARS:,}: "
            f"write {what} that is shorter"
        ), text
    for char in text:
        # NUL would silently cut the text short in the C parser; other control
        # characters have no business in SQL and usually mean a pasting accident.
        if (ord(char) < 32 and char not in "\t\n\r") or ord(char) == 127:
            return (
                f"contains the control character U+{ord(char):04X}: remove it "
                f"and write {what} on plain text"
            ), text
    try:
        tokens = parser.scan(text)
    except parser.ParseError as exc:
        return f"is not valid SQL ({_parse_error(exc)}): check quotes and brackets", text
    depth: list[str] = []
    pieces: list[str] = []
    previous_end = -1
    for token in tokens:
        if token.name in _COMMENTS:
            return (
                "contains an SQL comment ('--' or '/* */'), which is not allowed in a "
                "blueprint: remove it"
            ), text
        if token.name == _SEMICOLON:
            return (
                f"contains ';', which would end the statement: write {what} and nothing else"
            ), text
        if token.name == "SCONST" and text[token.start] == "$":
            return (
                "uses dollar quoting ($$...$$), which is not allowed in a blueprint: "
                "write the string in single quotes, doubling any quote inside ('it''s')"
            ), text
        if token.name == _COMMA and not depth:
            return (
                f"contains ',' outside brackets, which makes it more than one value: "
                f"write {what} and nothing else"
            ), text
        if token.name in _OPENERS:
            depth.append(_OPENERS[token.name])
        elif token.name in _CLOSERS and (not depth or depth.pop() != token.name):
            return "has unbalanced brackets: every '(' or '[' needs its closing match", text
        if previous_end >= 0 and token.start > previous_end + 1:
            pieces.append(" ")
        pieces.append(text[token.start : token.end + 1])
        previous_end = token.end
    if depth:
        return "has unbalanced brackets: every '(' or '[' needs its closing match", text
    return None, "".join(pieces)


@lru_cache(maxsize=8192)
def check_expression(text: str, *, allow_subqueries: bool) -> Checked:
    """Check that ``text`` is exactly one SQL expression.

    ``allow_subqueries`` is True for policy expressions, which often need EXISTS (SELECT ...);
    defaults, checks and index predicates may not contain a sub-query (PostgreSQL refuses
    most of them, and a blueprint has no business reading other tables there).
    """
    problem, tidy = _lex(text, "one SQL expression", _EXPR_EXAMPLE)
    if problem:
        return Checked(text, problem)
    if _QUERY_START.match(tidy):
        # Inside the wrapper's parentheses a bare query would pass as a sub-query, yet
        # PostgreSQL refuses it where the fragment really goes (CHECK (...), USING (...)).
        return Checked(
            text,
            "is a query, not an expression: write an expression; a sub-query needs its own "
            "parentheses, as in EXISTS (SELECT 1 FROM ...)",
        )
    try:
        tree = json.loads(parser.parse_sql_json(f"SELECT ({tidy}\n)"))
    except parser.ParseError as exc:
        return Checked(
            text,
            f"is not a valid SQL expression ({_parse_error(exc)}): write one expression, "
            f"{_EXPR_EXAMPLE}",
        )
    stmts = tree.get("stmts", [])
    select = stmts[0]["stmt"].get("SelectStmt") if len(stmts) == 1 else None
    targets = select.get("targetList", []) if select else []
    if (
        select is None
        or len(targets) != 1
        or set(select) - {"targetList", "limitOption", "op"}
        or select.get("op") != "SETOP_NONE"
        or "name" in targets[0]["ResTarget"]
    ):
        return Checked(
            text,
            f"must be exactly one SQL expression, with nothing before or after it: {_EXPR_EXAMPLE}",
        )
    value = targets[0]["ResTarget"]["val"]
    refs: set[str] = set()
    calls: list[Call] = []
    qualified_refs = False
    for kind, body in _walk(value):
        if kind == "SubLink" and not allow_subqueries:
            return Checked(
                text,
                "contains a sub-query (SELECT ...), which is not allowed in a default, a "
                "check or an index predicate: use an expression on this row's columns",
            )
        if kind == "ParamRef":
            return Checked(
                text, "contains a parameter ($1), which has no value here: write the value"
            )
        if kind == "ColumnRef":
            fields = body.get("fields", [])
            if fields and "String" in fields[-1]:
                refs.add(fields[-1]["String"]["sval"])
            qualified_refs = qualified_refs or len(fields) > 1
        elif kind == "A_Indirection":
            qualified_refs = qualified_refs or any("String" in i for i in body["indirection"])
        elif kind in ("FuncCall", "A_Expr", "SQLValueFunction") or kind in _REFUSED_NODES:
            calls.append(_call(kind, body))
    simple = any(key in value for key in ("A_Const", "FuncCall", "TypeCast", "SQLValueFunction"))
    return Checked(tidy, None, frozenset(refs), simple, tuple(calls), qualified_refs)


# Constructs that run something no allowlist entry describes: XML parsing and XMLTABLE,
# TABLESAMPLE methods, row locks and data-changing statements inside a sub-query, the
# SQL/JSON constructors (a newer parser than the server's). Refused wherever they appear.
_REFUSED_NODES = frozenset(
    {
        "XmlExpr",
        "XmlSerialize",
        "RangeTableFunc",
        "RangeTableSample",
        "LockingClause",
        "IntoClause",
        "InsertStmt",
        "UpdateStmt",
        "DeleteStmt",
        "MergeStmt",
        "JsonFuncExpr",
        "JsonObjectConstructor",
        "JsonArrayConstructor",
        "JsonArrayQueryConstructor",
        "JsonObjectAgg",
        "JsonArrayAgg",
        "JsonParseExpr",
        "JsonScalarExpr",
        "JsonSerializeExpr",
        "JsonTable",
        "JsonIsPredicate",
    }
)


def _names(parts: list[Any]) -> tuple[str | None, str]:
    names = [p["String"]["sval"] for p in parts if "String" in p]
    if not names:
        return None, ""
    return (names[-2] if len(names) > 1 else None), names[-1]


def _text_arg(args: list[Any]) -> str | None:
    if not args:
        return None
    arg = args[0]
    if "TypeCast" in arg:
        cast = arg["TypeCast"]
        if [p.get("String", {}).get("sval") for p in cast["typeName"]["names"]][-1:] != [
            "regclass"
        ]:
            return None
        arg = cast["arg"]
    const = arg.get("A_Const", {})
    return const["sval"]["sval"] if "sval" in const else None


def _call(kind: str, body: dict[str, Any]) -> Call:
    if kind == "FuncCall":
        schema, name = _names(body["funcname"])
        return Call("function", schema, name, _text_arg(body.get("args", [])))
    if kind == "A_Expr":
        schema, name = _names(body.get("name", []))
        return Call("operator", schema, name)
    if kind == "SQLValueFunction":
        return Call("value", None, str(body.get("op", "")))
    return Call("node", None, kind)


@lru_cache(maxsize=4096)
def check_type(text: str) -> Checked:
    """Check that ``text`` is exactly one PostgreSQL type name (modifiers and arrays allowed).

    The text comes back with white space collapsed and, unless it holds a quoted name,
    in upper case: unquoted type names are case-insensitive, and a stable spelling keeps
    the schema hash stable.
    """
    problem, tidy = _lex(text, "one type name", _TYPE_EXAMPLE)
    if problem:
        return Checked(text, problem)
    refusal = Checked(
        text,
        f"must be exactly one type name, with no constraint, default or collation after it: "
        f"{_TYPE_EXAMPLE} (use the column's not_null, default, unique and check keys)",
    )
    try:
        tree = json.loads(parser.parse_sql_json(f"CREATE TABLE t (c {tidy}\n)"))
    except parser.ParseError as exc:
        return Checked(
            text, f"is not a valid type name ({_parse_error(exc)}): write {_TYPE_EXAMPLE}"
        )
    stmts = tree.get("stmts", [])
    create = stmts[0]["stmt"].get("CreateStmt") if len(stmts) == 1 else None
    elts = create.get("tableElts", []) if create else []
    if create is None or len(elts) != 1 or "ColumnDef" not in elts[0]:
        return refusal
    column = elts[0]["ColumnDef"]
    if set(column) - {"colname", "typeName", "is_local", "location"}:
        return refusal
    type_name = column["typeName"]
    if type_name.get("setof") or type_name.get("pct_type"):
        return refusal
    names = [part["String"]["sval"] for part in type_name.get("names", [])]
    if len(names) > 1 and names[0] != "pg_catalog":
        return Checked(
            text,
            "names a type in another schema; a blueprint may only use built-in types and "
            "types of its own schema: drop the schema prefix",
        )
    for modifier in type_name.get("typmods", []):
        if "A_Const" in modifier:
            continue
        if "ColumnRef" in modifier and len(modifier["ColumnRef"].get("fields", [])) == 1:
            continue  # PostGIS-style modifiers such as geometry(Point, 4326)
        return Checked(text, "has a type modifier that is not a constant: write VARCHAR(255)")
    return Checked(tidy if '"' in tidy else tidy.upper())
