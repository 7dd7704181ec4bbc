"""The plan's functions: the live ones read, the blueprint's printed in a scratch schema, the
statements written and merged into the migration in phase order."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import psycopg

from schemabuilder.engine.catalog import functions as catalog
from schemabuilder.engine.contract import fragments
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.functions import desired_functions
from schemabuilder.engine.diff.functions import FunctionDiff, FunctionState, diff_functions
from schemabuilder.engine.diff.phases import PHASE_ORDER, Statement


def policy_calls(bp: NormalizedBlueprint) -> dict[str, list[str]]:
    """Blueprint function name -> the policies (``table.policy``) that call it."""
    own = {f.name for f in bp.functions}
    out: dict[str, list[str]] = {}
    if not own:
        return out
    for table in bp.tables:
        for policy in table.policies:
            for text in (policy.using, policy.with_check):
                if not text:
                    continue
                checked = fragments.check_expression(text, allow_subqueries=True)
                for call in checked.calls:
                    if call.kind == "function" and call.name in own:
                        where = f"{table.name}.{policy.name}"
                        if where not in out.setdefault(call.name, []):
                            out[call.name].append(where)
    return out


def plan_functions(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    prefix: str,
    managed: Collection[str],
) -> FunctionDiff:
    """The functions' part of the plan (nothing for a blueprint without functions and with
    none managed: the live functions are then none of this plan's business)."""
    if not bp.functions and not managed:
        return FunctionDiff()
    printed = desired_functions(conn, bp, schema, prefix)
    live = catalog.live_functions(conn, schema)
    named = {f.name for f in bp.functions} | {
        f.renamed_from for f in bp.functions if f.renamed_from
    }
    relevant = [lf.oid for lf in live if lf.name in named or lf.name in managed]
    grants = (
        catalog.function_grants(conn, relevant)
        if any(f.grants is not None for f in bp.functions)
        else {}
    )
    fresh = (
        catalog.new_function_grants(conn, schema)
        if grants or any(f.grants is not None for f in bp.functions)
        else {}
    )
    state = FunctionState(
        schema=schema,
        prefix=prefix,
        desired=bp.functions,
        printed=printed,
        live=live,
        managed=frozenset(managed),
        grants=grants,
        fresh=fresh,
        dependents=catalog.dependents(conn, relevant),
        policy_calls=policy_calls(bp),
        server_version=conn.info.server_version,
    )
    return diff_functions(state)


def merge_by_phase(
    statements: Iterable[Statement], extra: Iterable[Statement]
) -> tuple[Statement, ...]:
    """``statements`` with each of ``extra`` placed before the first statement of a later
    phase: the order of ``statements`` is kept as it is."""
    out = list(statements)
    for st in extra:
        rank = PHASE_ORDER[st.phase]
        at = next((i for i, s in enumerate(out) if PHASE_ORDER[s.phase] > rank), len(out))
        out.insert(at, st)
    return tuple(out)
