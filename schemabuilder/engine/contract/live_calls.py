"""``allowlist`` again while planning, and its second half: what only the live target knows.

``plan()`` judges every expression of the blueprint it is given once more, whoever built
it: a blueprint stored before a list changed, or made in code without ``validate_envelope``
(the worker reads stored blueprints back), gets no further than validation would have let it.

Validation leaves a policy's call of an unknown function open when it may be one of the
target schema's own (``allowlist.judge`` returns it as deferred). Planning then asks the
target's catalog, once per plan and only when such a call exists: the call is allowed when
the target schema has a function of that name and no form of it is volatile, and pg_catalog
has none (an unqualified name finds pg_catalog first, so ``setval`` stays ``setval``).
Without a live target (``lookup`` None) every deferred call is refused, except a call of one
of the blueprint's own functions (``functions``) that is not volatile: the blueprint vouches
for it, the plan creates it before the policies, and its body is reviewed as CHANGES_CODE.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import psycopg

from schemabuilder.engine.contract import allowlist, fragments
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.fragments import Call
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.paths import BlueprintPaths

# (schema, name) -> the volatilities of its forms ("i", "s", "is", "v"...).
Lookup = Mapping[tuple[str, str], str]


# Where an expression sits, as the BlueprintPaths call that names it: the path is worked out
# only for an expression that is refused (computing every path costs more than judging).
_Where = tuple[str, tuple[str, ...]]


def _expressions(
    bp: NormalizedBlueprint,
) -> Iterator[tuple[_Where, str, allowlist.Kind, str | None]]:
    """(where, text, kind, the column's own sequence for a default) of every expression."""
    for t in bp.tables:
        for c in t.columns:
            if c.default:
                own = f"{t.name}_{c.name}_seq"
                yield ("column", (t.name, c.name, "default")), c.default, "default", own
            if c.check:
                yield ("column", (t.name, c.name, "check")), c.check, "check", None
        for index in t.indexes:
            if index.where:
                yield ("index", (t.name, index.name, "where")), index.where, "check", None
        for k, check in enumerate(t.checks):
            yield ("check", (t.name, str(k))), check.expression, "check", None
        for policy in t.policies:
            for key in ("using", "with_check"):
                text = getattr(policy, key)
                if text:
                    yield ("policy", (t.name, policy.name, key)), text, "policy", None


def _path(paths: BlueprintPaths, where: _Where) -> str:
    method, args = where
    if method == "check":
        return f"{paths.table(args[0])}.checks[{args[1]}].expression"
    return str(getattr(paths, method)(*args))


@lru_cache(maxsize=8192)
def _verdict(
    text: str, kind: allowlist.Kind
) -> tuple[str | None, tuple[Call, ...], tuple[str, ...]]:
    """(refusal, calls left to the live target, sequences nextval names) of one text."""
    checked = fragments.check_expression(text, allow_subqueries=kind == "policy")
    problem, calls = allowlist.judge(checked, kind)
    return checked.problem or problem, calls, tuple(allowlist.sequences_named(checked))


def _judged(
    bp: NormalizedBlueprint, paths: BlueprintPaths
) -> tuple[list[Issue], list[tuple[str, Call]]]:
    """The refusals of the pure allowlist, and the calls left to the live target."""
    issues: list[Issue] = []
    deferred: list[tuple[str, Call]] = []
    for where, text, kind, own in _expressions(bp):
        problem, calls, sequences = _verdict(text, kind)
        others = [n for n in sequences if n.strip('"') != own]
        if not problem and own is not None and others:
            problem = f"calls nextval('{others[0][:63]}'), not of '{own}'{allowlist.SEE}"
        if problem:
            issues.append(Issue(_path(paths, where), f"expression {problem}"))
        deferred.extend((_path(paths, where), call) for call in calls)
    return issues, deferred


def lookup(conn: psycopg.Connection[Any], schema: str, calls: list[Call]) -> Lookup:
    """The volatilities of the functions ``calls`` may name, in ``schema`` and pg_catalog."""
    names = sorted({c.name for c in calls})
    rows = conn.execute(
        "SELECT n.nspname, p.proname, string_agg(DISTINCT p.provolatile::text, '') "
        "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname IN (%s, 'pg_catalog') AND p.proname = ANY(%s) GROUP BY 1, 2",
        [schema, names],
    ).fetchall()
    return {(str(nsp), str(name)): str(vol) for nsp, name, vol in rows}


def _own_problem(call: Call, volatility: str, found: Lookup | None) -> str | None:
    """A policy's call of a function the blueprint declares itself."""
    label = f"{call.schema}.{call.name}()" if call.schema else f"{call.name}()"
    if found is not None and call.schema is None and ("pg_catalog", call.name) in found:
        return (
            f"calls {label}, which names a built-in function before the blueprint's own: "
            "name the function otherwise, or call it qualified with the target's schema"
        )
    if volatility == "volatile":
        return (
            f"calls {label}, a volatile function of the blueprint (it may write or read "
            'anything): declare it "volatility": "stable" (or "immutable") if it only reads'
        )
    return None


def _problem(call: Call, schema: str, found: Lookup | None) -> str | None:
    label = f"{call.schema}.{call.name}()" if call.schema else f"{call.name}()"
    allowed = allowlist.allowed_for("policy")
    if found is None:
        return f"calls {label}, which only a live target could vouch for: {allowed}"
    if call.schema is None and ("pg_catalog", call.name) in found:
        return f"calls {label}, a built-in function that is not on the list: {allowed}"
    if call.schema not in (None, schema):
        return f"calls {label}, a function outside the target's schema {schema}: {allowed}"
    volatility = found.get((schema, call.name))
    if volatility is None:
        return f"calls {label}, which the target schema {schema} does not have: {allowed}"
    if "v" in volatility:
        return (
            f"calls {label}, a volatile function of the target (it may write or read "
            f"anything): {allowed}"
        )
    return None


def check_calls(
    bp: NormalizedBlueprint,
    schema: str,
    paths: BlueprintPaths,
    conn: psycopg.Connection[Any] | None,
) -> None:
    """Raise ``BlueprintInvalid`` for every call the allowlists refuse, and every policy call
    the target (``conn``; None: no live target) cannot vouch for."""
    issues, deferred = _judged(bp, paths)
    if deferred:
        found = lookup(conn, schema, [c for _, c in deferred]) if conn is not None else None
        own = {f.name: f.volatility for f in bp.functions}
        issues += [
            Issue(path, f"expression {problem}{allowlist.SEE}")
            for path, call in deferred
            if (
                problem := _own_problem(call, own[call.name], found)
                if call.name in own and call.schema in (None, schema)
                else _problem(call, schema, found)
            )
        ]
    if issues:
        raise BlueprintInvalid(list(dict.fromkeys(issues)))
