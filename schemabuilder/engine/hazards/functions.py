"""Hazards of functions: code that runs later, with the target's rights.

Every new or changed body is CHANGES_CODE with the body's unified diff as its detail, so the
reviewer reads the code itself. It is danger (force_apply and a second person) when the body
runs dynamic SQL, runs as its owner (SECURITY DEFINER), or calls or runs anything beyond the
policy allowlist and the blueprint's own functions: the target's other functions are not
enough, since nobody reviewed them here. A changed function that a policy calls changes who
sees which rows (CHANGES_ACCESS). A dropped function that something still uses is
BLOCKED_BY_DEPENDENTS (danger); EXECUTE granted to a role every client may act as is
CHANGES_ACCESS as for tables.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

from schemabuilder.engine.contract.function_bodies import body_facts, outside_calls
from schemabuilder.engine.contract.functions import NFunction
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.hazards.grants import CLIENT_ROLES, who

MAX_DETAIL = 20_000  # characters of diff shown; a longer one is cut, and says so


def body_diff(name: str, old: str | None, new: str) -> str:
    """The unified diff of a body, old against new (an empty old for a new function)."""
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True) if old is not None else [],
        new.splitlines(keepends=True),
        fromfile=f"{name} (live)" if old is not None else "/dev/null",
        tofile=f"{name} (blueprint)",
    )
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if len(text) > MAX_DETAIL:
        text = text[:MAX_DETAIL] + f"\n... cut at {MAX_DETAIL:,} characters\n"
    return text


def danger_reasons(f: NFunction, own: set[str], schema: str) -> list[str]:
    """Why the code of ``f`` needs a second person, in words (empty: it does not)."""
    reasons = []
    facts = body_facts(f)
    if facts.dynamic:
        reasons.append("runs dynamic SQL (EXECUTE, or a function that runs a query given as text)")
    if f.security_definer:
        reasons.append("is SECURITY DEFINER: it runs with its owner's rights, not the caller's")
    outside = outside_calls(f, own, schema)
    if outside:
        shown = ", ".join(outside[:6]) + (
            f" and {len(outside) - 6} more" if len(outside) > 6 else ""
        )
        reasons.append(
            f"calls or runs {shown}, beyond the policy allowlist and the blueprint's own functions"
        )
    return reasons


def changes_code(
    f: NFunction, old_body: str | None, own: set[str], schema: str, *, what: str
) -> Hazard:
    """CHANGES_CODE for the body of ``f`` (``old_body`` None: a new function)."""
    reasons = danger_reasons(f, own, schema)
    severity = Severity.DANGER if reasons else Severity.WARNING
    message = f"function {f.name} {what}; it runs later with the target's rights"
    if reasons:
        message += ": it " + "; it ".join(reasons)
    return Hazard(
        HazardKind.CHANGES_CODE,
        severity,
        message,
        "",
        {
            "function": f.name,
            "language": f.language,
            "security_definer": f.security_definer,
            "dynamic_sql": body_facts(f).dynamic,
        },
        detail=body_diff(f.name, old_body, f.body),
    )


def policy_function_changed(name: str, policies: Collection[str]) -> Hazard:
    """A function that policies call changes: the rows they let through may change."""
    shown = ", ".join(sorted(policies)[:6])
    return Hazard(
        HazardKind.CHANGES_ACCESS,
        Severity.WARNING,
        f"function {name} changes and policies call it ({shown}): which rows they let "
        "through changes with it",
        "",
        {"function": name, "policies": len(policies)},
    )


def renames_function(old: str, new: str) -> Hazard:
    return Hazard(
        HazardKind.RENAMES_OBJECT,
        Severity.WARNING,
        f"renames function {old} to {new}: SQL and clients calling {old} break",
        "",
        {"old_name": old, "new_name": new},
    )


def drops_function(name: str, identity: str, users: list[str]) -> Hazard:
    """A function is dropped: danger when something on the target still uses it."""
    if users:
        shown = "; ".join(users[:6]) + (f" and {len(users) - 6} more" if len(users) > 6 else "")
        return Hazard(
            HazardKind.BLOCKED_BY_DEPENDENTS,
            Severity.DANGER,
            f"drops function {name}({identity}), which is still used by {shown}: the drop "
            "fails unless they go first",
            "",
            {"function": name, "dependents": len(users)},
        )
    return Hazard(
        HazardKind.CHANGES_CODE,
        Severity.WARNING,
        f"drops function {name}({identity}): SQL and clients calling it fail",
        "",
        {"function": name, "dependents": 0},
    )


def execute_changed(name: str, role: str, *, granted: bool, definer: bool) -> Hazard:
    """``role`` gains or loses EXECUTE on function ``name``."""
    if granted:
        severity = Severity.WARNING if role in CLIENT_ROLES else Severity.INFO
        if definer and role in CLIENT_ROLES:
            severity = Severity.DANGER
        message = f"{who(role)} may execute function {name}"
        if definer:
            message += ", which runs with its owner's rights"
    else:
        severity = Severity.WARNING
        message = (
            f"{who(role)} may no longer execute function {name}: its queries (and policies "
            "it is called from) fail with permission denied"
        )
    return Hazard(
        HazardKind.CHANGES_ACCESS,
        severity,
        message,
        "",
        {"function": name, "role": role, "privileges": "EXECUTE"},
    )
