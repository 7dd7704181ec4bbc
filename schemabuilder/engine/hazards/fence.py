"""The tenant fence's effective access: which commands and roles it bounds, as PostgreSQL does.

With row level security on, a row is reachable by a command of a role when at least one
permissive policy applying to it allows the row and every restrictive one does; with no
permissive policy nothing is reachable. Reads (SELECT, and the rows UPDATE and DELETE find)
use USING; writes (INSERT, and the new rows of UPDATE) use WITH CHECK, else USING. A policy
``FOR ALL`` applies to every command, one ``TO PUBLIC`` to every role.

A (command, side, role) is *fenced* when every row it can reach matches the fence predicate.
This module is deliberately conservative: an expression implies the fence only when it is
the fence predicate itself or an AND with it among its terms, compared as pglast parse trees
(so quoting, parentheses and the casts ``pg_get_expr`` adds to literals do not matter).
Anything else (``tenant_id IS NOT NULL``, ``tenant_id = tenant_id``, an OR) does not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pglast import parser

from schemabuilder.engine.catalog.snapshot import Policy, Snapshot
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, fence_policy_names

COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
Side = Literal["read", "write"]
# The sides each command checks rows on.
SIDES: dict[str, tuple[Side, ...]] = {
    "SELECT": ("read",),
    "INSERT": ("write",),
    "UPDATE": ("read", "write"),
    "DELETE": ("read",),
}
# Stands for every role no policy names: only PUBLIC policies apply to it.
OTHER_ROLES = "public"


@dataclass(frozen=True, order=True)
class Reach:
    """One command's side for one role (``public``: any role no policy names)."""

    command: str
    side: Side
    role: str

    def text(self) -> str:
        who = "any role" if self.role == OTHER_ROLES else self.role
        what = "reads" if self.side == "read" else "writes"
        return f"{self.command} ({what}) for {who}"


def _strip(node: Any) -> Any:
    """The tree without positions, with casts of literals to text dropped and pg_catalog
    type prefixes removed: the differences between what a person writes and pg_get_expr."""
    if isinstance(node, list):
        return [_strip(n) for n in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"TypeCast"}:
        cast = node["TypeCast"]
        names = [n.get("String", {}).get("sval") for n in cast["typeName"].get("names", [])]
        if "A_Const" in cast["arg"] and names[-1:] == ["text"]:
            return _strip(cast["arg"])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "location":
            continue
        if (
            key == "names"
            and isinstance(value, list)
            and len(value) > 1
            and value[0] == {"String": {"sval": "pg_catalog"}}
        ):
            value = value[1:]
        out[key] = _strip(value)
    return out


@lru_cache(maxsize=4096)
def expression_key(sql: str) -> str | None:
    """A canonical text of expression ``sql`` (None when it does not parse)."""
    try:
        tree = json.loads(parser.parse_sql_json(f"SELECT ({sql})"))
    except Exception:  # pglast raises its own error types; unparsable never implies the fence
        return None
    value = tree["stmts"][0]["stmt"]["SelectStmt"]["targetList"][0]["ResTarget"]["val"]
    return json.dumps(_strip(value), sort_keys=True)


def _conjuncts(key: str) -> list[str]:
    """The AND terms of a canonical expression, flattened."""
    node = json.loads(key)
    out: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        body = item.get("BoolExpr") if isinstance(item, dict) else None
        if body is not None and body.get("boolop") == "AND_EXPR":
            stack.extend(body.get("args", []))
        else:
            out.append(json.dumps(item, sort_keys=True))
    return out


def implies_fence(expression: str | None, fence: str) -> bool:
    """True when ``expression`` is the fence predicate or an AND containing it."""
    if expression is None:
        return False
    key, fence_key = expression_key(expression), expression_key(fence)
    if key is None or fence_key is None:
        return False
    return key == fence_key or fence_key in _conjuncts(key)


def _expression(policy: Policy, side: Side) -> str | None:
    """What ``policy`` checks on ``side`` (None: it takes no part there)."""
    if side == "read":
        return policy.using
    return policy.with_check if policy.with_check is not None else policy.using


def _applies(policy: Policy, command: str, role: str) -> bool:
    return policy.command in ("ALL", command) and ("public" in policy.roles or role in policy.roles)


def roles_of(*policy_sets: Iterable[Policy]) -> list[str]:
    """Every role to look at: the roles policies name, and any other role."""
    named = {r for policies in policy_sets for p in policies for r in p.roles if r != "public"}
    return [OTHER_ROLES, *sorted(named)]


def is_fenced(policies: Sequence[Policy], fence: str, reach: Reach) -> bool:
    """Whether every row ``reach`` can get at matches ``fence`` (RLS assumed on)."""
    applying = [
        (p, expr)
        for p in policies
        if _applies(p, reach.command, reach.role)
        and (expr := _expression(p, reach.side)) is not None
    ]
    permissive = [expr for p, expr in applying if p.permissive]
    if not permissive:
        return True  # no permissive policy: nothing is reachable at all
    if any(implies_fence(expr, fence) for p, expr in applying if not p.permissive):
        return True
    return all(implies_fence(expr, fence) for expr in permissive)


def fenced_reaches(
    policies: Sequence[Policy], fence: str, rls: bool, roles: Sequence[str]
) -> set[Reach]:
    """Every (command, side, role) the fence bounds; none when RLS is off."""
    if not rls:
        return set()
    return {
        reach
        for command in COMMANDS
        for side in SIDES[command]
        for role in roles
        if is_fenced(policies, fence, reach := Reach(command, side, role))
    }


def has_fence_policy(policies: Sequence[Policy], fence: str) -> bool:
    """Whether some policy checks the fence at all (the table is meant to be fenced)."""
    return any(
        implies_fence(p.using, fence) or implies_fence(p.with_check, fence) for p in policies
    )


def weakened(
    live: Sequence[Policy],
    live_rls: bool,
    desired: Sequence[Policy],
    desired_rls: bool,
    fence: str,
) -> list[Reach]:
    """What the fence bounded before and no longer does, sorted (empty: not weakened).

    A table that checks the fence nowhere has no fence to weaken (a table with RLS on and no
    policy at all is closed, not fenced), so nothing it does counts here.
    """
    if not live_rls or not has_fence_policy(live, fence):
        return []
    roles = roles_of(live, desired)
    before = fenced_reaches(live, fence, live_rls, roles)
    after = fenced_reaches(desired, fence, desired_rls, roles)
    return sorted(before - after)


def keep_live_forms(bp: NormalizedBlueprint, live: Snapshot) -> NormalizedBlueprint:
    """``bp`` with the restrictive fence left out where a live table has the older form.

    Tables made before the fence became restrictive have row level security and only the
    permissive ``<table>_tenant_isolation`` (or their declared policies); when the blueprint
    does not state ``fence.mode``, they keep that form, so an applied blueprint planned again
    stays an empty plan. A live table with no RLS and no policy gets the new form.
    """
    if bp.fence.mode is not None:
        return bp
    tables = []
    for table in bp.tables:
        source = live.table(table.name)
        if source is None and table.renamed_from:
            source = live.table(table.renamed_from)
        first = table.policies[0] if table.policies else None
        if (
            source is not None
            and (source.rls or source.policies)  # fenced the older way; else: new form
            and first is not None
            and not first.permissive
            and first.name == fence_policy_names(table.name)[0]
            and not any(
                not p.permissive and p.name.endswith("_tenant_fence") for p in source.policies
            )
        ):
            table = table.model_copy(update={"policies": table.policies[1:]})
        tables.append(table)
    return bp.model_copy(update={"tables": tuple(tables)})
