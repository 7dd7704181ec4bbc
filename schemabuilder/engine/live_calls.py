"""The second half of ``allowlist`` for policies: functions only the live target can vouch for.

Validation leaves a policy's call of an unknown function open when it may be one of the
target schema's own (``allowlist.judge`` returns it as deferred). Planning then asks the
target's catalog, once per plan and only when such a call exists: the call is allowed when
the target schema has a function of that name and no form of it is volatile, and pg_catalog
has none (an unqualified name finds pg_catalog first, so ``setval`` stays ``setval``).
Without a live target (``lookup`` None) every deferred call is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import psycopg

from schemabuilder.engine import allowlist, fragments
from schemabuilder.engine.errors import BlueprintInvalid, Issue
from schemabuilder.engine.fragments import Call
from schemabuilder.engine.normalize import NormalizedBlueprint
from schemabuilder.engine.paths import BlueprintPaths

# (schema, name) -> the volatilities of its forms ("i", "s", "is", "v"...).
Lookup = Mapping[tuple[str, str], str]


def _deferred(bp: NormalizedBlueprint, paths: BlueprintPaths) -> Iterator[tuple[str, Call]]:
    for table in bp.tables:
        for policy in table.policies:
            for key in ("using", "with_check"):
                text = getattr(policy, key)
                if not text:
                    continue
                checked = fragments.check_expression(text, allow_subqueries=True)
                for call in allowlist.judge(checked, "policy")[1]:
                    yield paths.policy(table.name, policy.name, key), call


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


def check_policy_calls(
    bp: NormalizedBlueprint,
    schema: str,
    paths: BlueprintPaths,
    conn: psycopg.Connection[Any] | None,
) -> None:
    """Raise ``BlueprintInvalid`` for every policy call the target cannot vouch for."""
    deferred = list(_deferred(bp, paths))
    if not deferred:
        return
    found = lookup(conn, schema, [c for _, c in deferred]) if conn is not None else None
    issues = [
        Issue(path, f"expression {problem}{allowlist.SEE}")
        for path, call in deferred
        if (problem := _problem(call, schema, found))
    ]
    if issues:
        raise BlueprintInvalid(list(dict.fromkeys(issues)))
