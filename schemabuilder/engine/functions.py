"""The plan's functions: the live ones read, the blueprint's printed in a scratch schema, the
statements written and merged into the migration in phase order."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import psycopg

from schemabuilder.engine.catalog import functions as catalog
from schemabuilder.engine.catalog.functions import LiveFunction
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract import fragments
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.contract.paths import BlueprintPaths
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


def _still_calling(desired: Snapshot) -> set[tuple[str, str, str]]:
    """(table, policy, function) for every call of a function in the desired policies."""
    out: set[tuple[str, str, str]] = set()
    for table in desired.tables:
        for policy in table.policies:
            for text in (policy.using, policy.with_check):
                if text:
                    checked = fragments.check_expression(text, allow_subqueries=True)
                    out |= {
                        (table.name, policy.name, c.name)
                        for c in checked.calls
                        if c.kind == "function"
                    }
    return out


def plan_functions(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    managed: Collection[str],
    printed: dict[str, LiveFunction],
    desired: Snapshot,
) -> FunctionDiff:
    """The functions' part of the plan (nothing for a blueprint without functions and with
    none managed: the live functions are then none of this plan's business). ``printed``:
    the blueprint's functions as the catalog prints them (``desired_functions``)."""
    if not bp.functions and not managed:
        return FunctionDiff()
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
    found = catalog.dependents(conn, relevant)
    state = FunctionState(
        schema=schema,
        prefix=BlueprintPaths(bp).prefix,
        desired=bp.functions,
        printed=printed,
        live=live,
        managed=frozenset(managed),
        grants=grants,
        fresh=fresh,
        dependents=_remaining(found, live, desired, late=True),
        blocking=_remaining(found, live, desired, late=False),
        policy_calls=policy_calls(bp),
        server_version=conn.info.server_version,
    )
    return diff_functions(state)


def _remaining(
    found: dict[int, list[catalog.Dependent]],
    live: tuple[LiveFunction, ...],
    desired: Snapshot,
    *,
    late: bool,
) -> dict[int, list[str]]:
    """What uses each function when the plan drops it. A policy the plan drops goes before
    any function does; one it rewrites without the call has let go only by the late drops
    (DROP_FUNCTIONS), since policies are rewritten after FUNCTIONS."""
    calling = _still_calling(desired)
    kept = {(t.name, p.name) for t in desired.tables for p in t.policies}
    names = {f.oid: f.name for f in live}

    def uses(oid: int, d: catalog.Dependent) -> bool:
        if d.policy is None:
            return True
        return (*d.policy, names.get(oid, "")) in calling if late else d.policy in kept

    return {oid: [d.what for d in users if uses(oid, d)] for oid, users in found.items()}


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
