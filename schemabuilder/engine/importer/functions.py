"""A schema's functions as blueprint functions, and the ones a blueprint cannot say.

SQL and PL/pgSQL functions with plain input arguments are imported as the catalog prints
them, so planning the import against the same schema finds nothing to do. Left out, with
why: procedures, aggregates and window functions, other languages (C, internal...),
OUT/INOUT/VARIADIC arguments, SQL-standard bodies (BEGIN ATOMIC), SET options other than
search_path, overloaded names (a blueprint knows a function by its name), and whatever
validation refuses. Extensions' functions are theirs and are not read at all.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import psycopg
from pydantic import ValidationError

from schemabuilder.engine.catalog.functions import LiveFunction, function_grants, live_functions
from schemabuilder.engine.contract.functions import (
    Function,
    check_functions,
    function_payload,
    normalize_function,
)

_KINDS = {"p": "procedure", "a": "aggregate", "w": "window function"}


def _why_not(f: LiveFunction, overloaded: bool) -> str | None:
    if f.kind != "f":
        return f"a {_KINDS.get(f.kind, 'routine')}, which a blueprint does not declare"
    if overloaded:
        return "its name is overloaded, and a blueprint knows a function by its name"
    if f.language not in ("sql", "plpgsql"):
        return f"written in {f.language}; a blueprint declares sql and plpgsql functions"
    if any(m not in ("i", "t") for m in f.modes):
        return "has OUT, INOUT or VARIADIC arguments"
    inputs = [i for i, m in enumerate(f.modes or ("i",) * len(f.arg_types)) if m == "i"]
    if any(i >= len(f.arg_names) or not f.arg_names[i] for i in inputs):
        return "has an argument without a name; a blueprint names every argument"
    if not f.body.strip():
        return "an SQL-standard body (BEGIN ATOMIC), which a blueprint does not declare"
    if any(not c.startswith("search_path=") for c in f.config):
        return "sets options other than search_path"
    return None


def _returns(result: str) -> str:
    if result.startswith("SETOF "):
        return "setof " + result[len("SETOF ") :]
    if result.startswith("TABLE("):
        return "table(" + result[len("TABLE(") :]
    return result


def _raw(f: LiveFunction, grants: dict[str, frozenset[str]] | None) -> dict[str, Any]:
    # Names and modes cover every argument (TABLE columns too); types and defaults only the
    # input ones, in the same order.
    inputs = [i for i, m in enumerate(f.modes or ("i",) * len(f.arg_types)) if m == "i"]
    arguments = []
    for j, i in enumerate(inputs):
        name = f.arg_names[i] if i < len(f.arg_names) else ""
        argument: dict[str, Any] = {"name": name, "type": f.arg_types[j]}
        default = f.arg_defaults[j] if j < len(f.arg_defaults) else None
        if default is not None:
            argument["default"] = default
        arguments.append(argument)
    raw: dict[str, Any] = {
        "name": f.name,
        "arguments": arguments,
        "returns": _returns(f.result),
        "language": f.language,
        "body": f.body,
        "volatility": f.volatility,
        "security_definer": f.security_definer,
    }
    if f.search_path is not None:
        raw["search_path"] = f.search_path
    if f.comment is not None:
        raw["comment"] = f.comment
    # PostgreSQL's default (EXECUTE to PUBLIC) is left unmanaged; anything else is said.
    if grants is not None and grants != {"public": frozenset({"EXECUTE"})}:
        raw["grants"] = [{"role": r, "privileges": ["EXECUTE"]} for r in sorted(grants)]
    return raw


def import_functions(
    conn: psycopg.Connection[Any], schema: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """The payload's ``functions``, and (kind, name(arguments), why) of those left out."""
    live = live_functions(conn, schema)
    counts = Counter(f.name for f in live)
    acl = function_grants(conn, [f.oid for f in live])
    out: list[dict[str, Any]] = []
    left: list[tuple[str, str, str]] = []
    for f in live:
        label = f"{f.name}({f.identity})"
        kind = _KINDS.get(f.kind, "function")
        why = _why_not(f, counts[f.name] > 1)
        if why is None:
            try:
                spec = Function.model_validate(_raw(f, acl.get(f.oid, {})))
            except ValidationError as exc:
                first = exc.errors(include_url=False, include_input=False)[0]
                where = ".".join(str(p) for p in first["loc"])
                why = f"{where}: {str(first['msg']).removeprefix('Value error, ')}"
            else:
                normalized = normalize_function(spec)
                issues = check_functions((normalized,), "function")
                if issues:
                    why = "; ".join(f"{i.path}: {i.message}" for i in issues)
                else:
                    out.append(function_payload(normalized))
        if why is not None:
            left.append((kind, label, why))
    return out, left
