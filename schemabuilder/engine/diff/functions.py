"""Functions: the blueprint's against the target schema's, compared as the catalog prints them.

A blueprint function is matched by its name (or ``renamed_from``): the live form with the
same argument types is the same function. Then:

- the same shape: nothing (grants aside);
- only the comment changed: ``COMMENT ON FUNCTION``;
- the body, volatility, SECURITY DEFINER or search_path changed: ``CREATE OR REPLACE``;
- the return type or the arguments' names or defaults changed, or no live form has its
  argument types: every live form of the name is dropped and the function created anew
  (refused while a policy, trigger or other object on the target still uses it: it would
  have to go too);
- a live function of a name the last applied version declared (``managed``) and this one
  does not: dropped, late (DROP_FUNCTIONS). Every other live function is left alone.

When ``grants`` is set, EXECUTE is exactly what it lists: PostgreSQL grants EXECUTE to
PUBLIC on every new function, so "exactly these" revokes that too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemabuilder.engine.catalog.functions import LiveFunction
from schemabuilder.engine.catalog.grants import Privileges
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.functions import NFunction, create_function_sql
from schemabuilder.engine.contract.idents import quote_ident, quote_literal
from schemabuilder.engine.desired.functions import argument_types
from schemabuilder.engine.diff.grants import _role_statements
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement
from schemabuilder.engine.hazards import Hazard
from schemabuilder.engine.hazards.functions import (
    changes_code,
    drops_function,
    execute_changed,
    policy_function_changed,
    renames_function,
)


@dataclass(frozen=True)
class FunctionState:
    """What the functions' diff needs: the blueprint's functions (and as printed), the
    live ones with their grants and dependents, and which policies call which function."""

    schema: str
    prefix: str
    desired: tuple[NFunction, ...]
    printed: dict[str, LiveFunction]
    live: tuple[LiveFunction, ...]
    managed: frozenset[str] = frozenset()
    grants: dict[int, Privileges] = field(default_factory=dict)
    fresh: Privileges = field(default_factory=dict)
    # What still uses a live function when the plan drops it late (DROP_FUNCTIONS), and
    # when it drops it early, to give way to a new signature (FUNCTIONS).
    dependents: dict[int, list[str]] = field(default_factory=dict)
    blocking: dict[int, list[str]] = field(default_factory=dict)
    policy_calls: dict[str, list[str]] = field(default_factory=dict)
    server_version: int = 0


@dataclass(frozen=True)
class FunctionChange:
    """One function's change, for the reviewer's list."""

    name: str
    action: str  # created | replaced | recreated | renamed | dropped | comment | grants
    renamed_from: str | None = None
    signature: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "action": self.action,
            "renamed_from": self.renamed_from,
            "signature": self.signature,
        }


@dataclass
class FunctionDiff:
    statements: list[Statement] = field(default_factory=list)
    changes: list[FunctionChange] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def emit(self, sql: str, phase: Phase, reason: str, hazards: tuple[Hazard, ...] = ()) -> None:
        self.statements.append(
            Statement(
                sql=sql, phase=phase, table="", reason=reason, lock=LockMode.NONE, hazards=hazards
            )
        )


def _qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def diff_functions(state: FunctionState) -> FunctionDiff:
    """The statements that make the target's functions what the blueprint declares."""
    out = FunctionDiff()
    own = {f.name for f in state.desired}
    by_name: dict[str, list[LiveFunction]] = {}
    for live in state.live:
        by_name.setdefault(live.name, []).append(live)
    claimed: set[str] = set()
    for i, f in enumerate(state.desired):
        path = f"{state.prefix}.functions[{i}]"
        printed = state.printed[f.name]
        source = f.name
        if f.renamed_from and f.name not in by_name and f.renamed_from in by_name:
            source = f.renamed_from
        claimed.add(source)
        forms = by_name.get(source, [])
        same = next((lf for lf in forms if lf.identity == printed.identity), None)
        if source != f.name and same is not None:
            out.emit(
                f"ALTER FUNCTION {_qualified(state.schema, source)}({same.identity}) "
                f"RENAME TO {quote_ident(f.name)}",
                Phase.FUNCTIONS,
                f"function {source} is renamed to {f.name} (renamed_from)",
                (renames_function(source, f.name),),
            )
            out.changes.append(FunctionChange(f.name, "renamed", source, printed.identity))
        have = _one(state, out, f, path, printed, same, forms, own)
        if f.grants is not None:
            _grants(state, out, f, have)
    for live in state.live:
        if live.name in state.managed and live.name not in own and live.name not in claimed:
            users = state.dependents.get(live.oid, [])
            out.emit(
                f"DROP FUNCTION {_qualified(state.schema, live.name)}({live.identity})",
                Phase.DROP_FUNCTIONS,
                f"function {live.name} was declared by the last applied version and no longer is",
                (drops_function(live.name, live.identity, users),),
            )
            out.changes.append(FunctionChange(live.name, "dropped", signature=live.identity))
    return out


def _one(
    state: FunctionState,
    out: FunctionDiff,
    f: NFunction,
    path: str,
    printed: LiveFunction,
    same: LiveFunction | None,
    forms: list[LiveFunction],
    own: set[str],
) -> Privileges:
    """The statements of one blueprint function; returns the grants it will start from."""
    qualified = _qualified(state.schema, f.name)
    # The blueprint's policies that call it, else the target's (policies outside the plan).
    callers = state.policy_calls.get(f.name) or [
        u for lf in forms for u in state.dependents.get(lf.oid, []) if u.startswith("policy ")
    ]
    if same is not None and same.shape == printed.shape:
        return state.grants.get(same.oid, {})
    if same is not None and (same.arguments, same.result) == (printed.arguments, printed.result):
        body_changed = same.shape[2:7] != printed.shape[2:7]
        if body_changed:
            what = f"changes ({', '.join(_what_changed(same, printed))})"
            hazards = [changes_code(f, same.body, own, state.schema, what=what)]
            if callers:
                hazards.append(policy_function_changed(f.name, callers))
            out.emit(
                create_function_sql(qualified, f, replace=True),
                Phase.FUNCTIONS,
                f"function {f.name} changes (body, volatility, security or search_path)",
                tuple(hazards),
            )
            out.changes.append(FunctionChange(f.name, "replaced", signature=printed.identity))
        if same.comment != printed.comment:
            _comment(out, qualified, f)
            if not body_changed:
                out.changes.append(FunctionChange(f.name, "comment", signature=printed.identity))
        return state.grants.get(same.oid, {})
    # A new function, or one whose signature changes: the old forms go first.
    users = [u for lf in forms for u in state.blocking.get(lf.oid, [])]
    if users:
        out.issues.append(
            Issue(
                f"{path}.{'returns' if same is not None else 'arguments'}",
                f"the signature of function {f.name} changes, so it must be dropped and "
                f"created again, yet {'; '.join(users[:6])} still use it: change them to "
                "another function first, or give the new signature a new name",
            )
        )
        return {}
    for lf in forms:
        out.emit(
            f"DROP FUNCTION {_qualified(state.schema, lf.name)}({lf.identity})",
            Phase.FUNCTIONS,
            f"function {f.name}({lf.identity}) gives way to its new signature",
        )
    old = same.body if same is not None else (forms[0].body if forms else None)
    hazards = [
        changes_code(f, old, own, state.schema, what="changes signature" if forms else "is new")
    ]
    if callers and forms:
        hazards.append(policy_function_changed(f.name, callers))
    out.emit(
        create_function_sql(qualified, f),
        Phase.FUNCTIONS,
        f"function {f.name} is new" if not forms else f"function {f.name} has a new signature",
        tuple(hazards),
    )
    if f.comment is not None:
        _comment(out, qualified, f)
    out.changes.append(
        FunctionChange(f.name, "recreated" if forms else "created", signature=printed.identity)
    )
    return state.fresh


def _what_changed(was: LiveFunction, will: LiveFunction) -> list[str]:
    """The parts of a function that CREATE OR REPLACE changes, in words."""
    parts = []
    if was.language != will.language:
        parts.append(f"language {was.language} -> {will.language}")
    if was.body != will.body:
        parts.append("body")
    if was.volatility != will.volatility:
        parts.append(f"{was.volatility} -> {will.volatility}")
    if was.security_definer != will.security_definer:
        parts.append("SECURITY DEFINER " + ("on" if will.security_definer else "off"))
    if was.config != will.config:
        parts.append(f"search_path {was.search_path!r} -> {will.search_path!r}")
    return parts


def _comment(out: FunctionDiff, qualified: str, f: NFunction) -> None:
    text = quote_literal(f.comment) if f.comment is not None else "NULL"
    out.emit(
        f"COMMENT ON FUNCTION {qualified}{argument_types(f)} IS {text}",
        Phase.FUNCTIONS,
        f"the comment of function {f.name}",
    )


def _grants(state: FunctionState, out: FunctionDiff, f: NFunction, have: Privileges) -> None:
    qualified = f"{_qualified(state.schema, f.name)}{argument_types(f)}"
    want: Privileges = {g.role: frozenset({"EXECUTE"}) for g in f.grants or ()}
    statements = _role_statements(
        want,
        have,
        on="functions",
        server_version=state.server_version,
        # EXECUTE is a function's only privilege: written out, it reads as what it is.
        revoke_sql=lambda _what, who: f"REVOKE EXECUTE ON FUNCTION {qualified} FROM {who}",
        grant_sql=lambda _what, who: f"GRANT EXECUTE ON FUNCTION {qualified} TO {who}",
        phase=Phase.GRANTS,
        table="",
        hazard_of=lambda role, what, granted: execute_changed(
            f.name, role, granted=granted, definer=f.security_definer
        ),
    )
    out.statements.extend(statements)
    if statements:
        out.changes.append(FunctionChange(f.name, "grants", signature=argument_types(f)[1:-1]))
