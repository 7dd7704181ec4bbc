"""A plan as plain text, for the CLI and for logs: summary, changes, hazards, SQL."""

from __future__ import annotations

from typing import Any

from schemabuilder.engine.catalog.snapshot import Column, Constraint, Index, Policy
from schemabuilder.engine.diff.changes import Action, MemberChange, TableChange
from schemabuilder.engine.diff.phases import PHASE_REASONS, Phase
from schemabuilder.engine.hazards import Severity
from schemabuilder.engine.plan import Plan

_MARK = {
    Action.CREATED: "+",
    Action.ADDED: "+",
    Action.DROPPED: "-",
    Action.ALTERED: "~",
    Action.RENAMED: ">",
}

_FUNCTION_MARK = {"created": "+", "dropped": "-", "renamed": ">"}


def render_text(plan: Plan) -> str:
    """The plan for a terminal: what changes, what it risks, and the SQL with its phases."""
    lines: list[str] = []
    counts = {s: sum(1 for h in plan.hazards if h.severity is s) for s in Severity}
    if plan.is_empty:
        verdict = "NOTHING TO DO: the schema already matches the blueprint"
    elif plan.is_dangerous:
        verdict = "DANGEROUS: needs force_apply and a second person's approval"
    else:
        verdict = "safe to queue"
    statements = [s for s in plan.statements if s.phase is not Phase.SETUP]
    lines.append(f"Plan for schema {plan.schema}: {len(statements)} statements, {verdict}")
    lines.append(
        "Hazards: "
        + ", ".join(f"{counts[s]} {s}" for s in (Severity.DANGER, Severity.WARNING, Severity.INFO))
    )
    lines.append(f"Base snapshot {plan.base_snapshot_hash[:16]}, checksum {plan.checksum[:16]}")
    lines.append(
        f"Materialized {len(plan.materialized_tables)} of {len(plan.desired.tables)} tables"
        + (f": {', '.join(plan.materialized_tables)}" if plan.materialized_tables else "")
    )
    if plan.unmanaged_tables:
        lines.append(f"Unmanaged, left alone: {', '.join(plan.unmanaged_tables)}")
    installed = [
        str(h.numbers.get("extension"))
        for s in plan.statements
        if s.phase is Phase.EXTENSIONS
        for h in s.hazards
    ]
    if installed:
        lines.append(f"Extensions installed: {', '.join(installed)}")
    if plan.changes:
        lines += ["", "Changes"]
        for change in plan.changes:
            lines += _table_change(change)
    if plan.functions:
        lines += ["", "Functions"]
        for f in plan.functions:
            renamed = f", renamed from {f.renamed_from}" if f.renamed_from else ""
            mark = _FUNCTION_MARK.get(f.action, "~")
            lines.append(f"  {mark} function {f.name}({f.signature}) ({f.action}{renamed})")
    if plan.hazards:
        lines += ["", "Hazards"]
        for hazard in sorted(
            plan.hazards, key=lambda h: list(Severity).index(h.severity), reverse=True
        ):
            numbers = ", ".join(f"{k}={v}" for k, v in hazard.numbers.items() if v is not None)
            lines.append(f"  {hazard.severity.upper():7} {hazard.kind}: {hazard.message}")
            if numbers:
                lines.append(f"          [{numbers}]")
            # A body's diff: the reviewer reads the code that will run.
            lines += [f"          | {line}" for line in hazard.detail.splitlines()]
    if statements:
        staged = any(st.stage == 2 for st in plan.statements)
        lines += ["", "SQL (stage 1: one transaction)" if staged else "SQL (one transaction)"]
        phase = None
        stage = 1
        for statement in plan.statements:
            if statement.stage != stage:
                stage = statement.stage
                phase = None
                lines += ["", "SQL (stage 2: after the commit, each statement on its own)"]
            if statement.phase != phase:
                phase = statement.phase
                lines.append(f"-- {phase}: {PHASE_REASONS[phase]}")
            for hazard in statement.hazards:
                lines.append(f"-- {hazard.severity.upper()} {hazard.kind}")
            lines.append(f"{statement.sql};")
    return "\n".join(lines) + "\n"


def _table_change(change: TableChange) -> list[str]:
    head = f"  {_MARK[change.action]} table {change.table} ({change.action}"
    if change.renamed_from:
        head += f", renamed from {change.renamed_from}"
    lines = [head + ")"]
    if change.action is Action.CREATED and change.after is not None:
        for col in change.after.ordered_columns:
            lines.append(f"      + column {_describe(col)}")
    for member in change.members:
        lines.append(f"      {_MARK[member.action]} {_member(member)}")
    return lines


def _member(member: MemberChange) -> str:
    if member.action is Action.RENAMED:
        return f"{member.kind} {member.renamed_from} -> {member.name}"
    if member.action is Action.ALTERED:
        return (
            f"{member.kind} {member.name}: {_describe(member.before)} -> {_describe(member.after)}"
        )
    value = member.after if member.action is Action.ADDED else member.before
    if isinstance(value, str):  # a grant: the role's privileges
        return f"{member.kind} {member.name} {value}"
    return f"{member.kind} {_describe(value) if value is not None else member.name}"


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Column):
        parts = [value.name, value.type]
        if value.not_null:
            parts.append("NOT NULL")
        if value.default is not None:
            parts.append(f"DEFAULT {value.default}")
        if value.identity:
            parts.append(f"GENERATED {value.identity} AS IDENTITY")
        if value.generated:
            parts.append(value.generated)
        return " ".join(parts)
    if isinstance(value, Constraint):
        return f"{value.name} {value.definition}"
    if isinstance(value, Index):
        return f"{'UNIQUE ' if value.unique else ''}{value.name} {value.definition}"
    if isinstance(value, Policy):
        kind = "" if value.permissive else "RESTRICTIVE "
        text = f"{value.name} {kind}FOR {value.command} TO {', '.join(value.roles)}"
        if value.using is not None:
            text += f" USING ({value.using})"
        if value.with_check is not None:
            text += f" WITH CHECK ({value.with_check})"
        return text
    return repr(value)
