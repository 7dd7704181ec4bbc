"""Diff of row level security and policies, with what each change does to access.

PostgreSQL's rules, which the hazard messages follow: with RLS on, a role sees a row when
at least one permissive policy for its command allows it and every restrictive one does;
with no permissive policy, it sees nothing. So a new permissive policy widens access, a new
restrictive one narrows it, and dropping them does the opposite.

The tenant fence is the fence column plus RLS plus the policies that use that column. Any
change that can let one tenant reach another's rows is TENANT_FENCE_WEAKENED, always danger.
"""

from __future__ import annotations

import dataclasses

from schemabuilder.engine.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff_members import pair_renames
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.idents import quote_ident
from schemabuilder.engine.phases import Phase
from schemabuilder.engine.snapshot import Policy, Table

_ALL_COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def _roles_sql(roles: tuple[str, ...]) -> str:
    return ", ".join("PUBLIC" if r == "public" else quote_ident(r) for r in roles)


def _who(roles: tuple[str, ...] | set[str]) -> str:
    return ", ".join(sorted("PUBLIC" if r == "public" else r for r in roles))


def _commands(command: str) -> set[str]:
    return set(_ALL_COMMANDS) if command == "ALL" else {command}


def _what(commands: set[str]) -> str:
    if commands == set(_ALL_COMMANDS):
        return "all commands"
    return ", ".join(c for c in _ALL_COMMANDS if c in commands)


def create_policy_sql(ctx: DiffContext, table: str, policy: Policy) -> str:
    """CREATE POLICY for ``policy`` on ``table``."""
    head = f"CREATE POLICY {quote_ident(policy.name)} ON {ctx.qualified(table)}"
    if not policy.permissive:
        head += " AS RESTRICTIVE"
    parts = [head, f"FOR {policy.command} TO {_roles_sql(policy.roles)}"]
    if policy.using is not None:
        parts.append(f"USING ({policy.written_using})")
    if policy.with_check is not None:
        parts.append(f"WITH CHECK ({policy.written_with_check})")
    return "\n    ".join(parts)


def _drop_policy_sql(ctx: DiffContext, table: str, policy: Policy) -> str:
    return f"DROP POLICY {quote_ident(policy.name)} ON {ctx.qualified(table)}"


def create_table_security(ctx: DiffContext, table: Table) -> None:
    """Policies and RLS of a new table (nobody has access to change yet: no hazards)."""
    for policy in table.policies:
        ctx.emit(
            create_policy_sql(ctx, table.name, policy),
            Phase.CREATE_POLICIES,
            table.name,
            f"policy {policy.name} of new table {table.name}",
        )
    if table.rls:
        ctx.emit(
            f"ALTER TABLE {ctx.qualified(table.name)} ENABLE ROW LEVEL SECURITY",
            Phase.ROW_LEVEL_SECURITY,
            table.name,
            f"new table {table.name} has row level security",
        )
    if table.rls_forced:
        ctx.emit(
            f"ALTER TABLE {ctx.qualified(table.name)} FORCE ROW LEVEL SECURITY",
            Phase.ROW_LEVEL_SECURITY,
            table.name,
            f"new table {table.name} fences its owner too",
        )


class _Access:
    """Hazard writers for one table's access changes."""

    def __init__(self, ctx: DiffContext, live: Table, desired: Table) -> None:
        self.ctx = ctx
        self.table = desired.name
        self.live = live
        self.desired = desired
        fence = ctx.fence_column
        self.fence = fence
        self.fence_policies = {p.name for p in live.policies if fence and fence in p.columns}
        self.fenced = bool(live.rls and self.fence_policies)
        # A restrictive fence policy for every role and command keeps the fence whatever the
        # permissive policies say.
        self.restrictive_fence = (
            any(
                not p.permissive
                and p.command == "ALL"
                and p.roles == ("public",)
                and fence in p.columns
                for p in desired.policies
            )
            if fence
            else False
        )

    def access(self, message: str) -> Hazard:
        stats = self.ctx.stats(self.table)
        return Hazard(
            HazardKind.CHANGES_ACCESS,
            Severity.WARNING,
            message,
            self.table,
            stats.numbers() if stats else {},
        )

    def weakened(self, message: str) -> Hazard:
        stats = self.ctx.stats(self.table)
        return Hazard(
            HazardKind.TENANT_FENCE_WEAKENED,
            Severity.DANGER,
            message,
            self.table,
            {**(stats.numbers() if stats else {}), "fence_column": self.fence},
        )

    def unfenced_grant(self, policy: Policy) -> bool:
        """A permissive policy on a fenced table that does not check the fence column."""
        return (
            self.fenced
            and policy.permissive
            and not self.restrictive_fence
            and self.fence not in policy.columns
        )


def diff_policies(
    ctx: DiffContext, live: Table, desired: Table, touched_columns: set[str]
) -> list[MemberChange]:
    """DROP, CREATE and ALTER POLICY, then RLS switches, for one existing table.

    ``touched_columns`` are columns dropped or changing type: a policy using one must be
    dropped first and created again, since PostgreSQL refuses both while it exists.
    """
    acc = _Access(ctx, live, desired)
    changes: list[MemberChange] = []
    table = desired.name
    live_policies = dict(live.policy_map)
    renamed = pair_renames(
        live.policy_map,
        desired.policy_map,
        lambda a, b: (
            dataclasses.replace(a, name=b.name) == b and not set(a.columns) & touched_columns
        ),
    )
    for old, new in renamed:
        # A renamed table's fence policy (clients_tenant_isolation) keeps its definition.
        ctx.emit(
            f"ALTER POLICY {quote_ident(old.name)} ON {ctx.qualified(table)} RENAME TO "
            f"{quote_ident(new.name)}",
            Phase.RENAME_CONSTRAINTS,
            table,
            f"policy {old.name} has the definition of {new.name}: renamed",
        )
        changes.append(
            MemberChange("policy", new.name, Action.RENAMED, old, new, renamed_from=old.name)
        )
        del live_policies[old.name]
        live_policies[new.name] = new
        if old.name in acc.fence_policies:
            acc.fence_policies.add(new.name)
    for name in sorted(set(live_policies) | set(desired.policy_map)):
        before, after = live_policies.get(name), desired.policy_map.get(name)
        if before is None and after is not None:
            _create(ctx, acc, after, _create_hazards(acc, after) if live.rls else [])
            changes.append(MemberChange("policy", name, Action.ADDED, None, after))
        elif after is None and before is not None:
            _drop(ctx, acc, before, _drop_hazards(acc, before) if live.rls else [])
            changes.append(MemberChange("policy", name, Action.DROPPED, before, None))
        elif before is not None and after is not None:
            uses_touched = bool(set(before.columns) & touched_columns)
            if before == after and not uses_touched:
                continue
            hazards = _alter_hazards(acc, before, after) if before != after and live.rls else []
            if (
                uses_touched
                or before.command != after.command
                or before.permissive != after.permissive
                or (before.using is not None and after.using is None)
                or (before.with_check is not None and after.with_check is None)
            ):
                why = (
                    "uses a column that is dropped or changes type"
                    if uses_touched
                    else "changes in a way ALTER POLICY cannot express"
                )
                _drop(ctx, acc, before, [], why=f"policy {name} {why}: dropped first")
                _create(ctx, acc, after, hazards, why=f"policy {name} {why}: created again")
            else:
                _alter(ctx, table, before, after, hazards)
            if before != after:
                changes.append(MemberChange("policy", name, Action.ALTERED, before, after))
    changes += _diff_rls(ctx, acc)
    return changes


def _create(
    ctx: DiffContext, acc: _Access, policy: Policy, hazards: list[Hazard], why: str = ""
) -> None:
    ctx.emit(
        create_policy_sql(ctx, acc.table, policy),
        Phase.CREATE_POLICIES,
        acc.table,
        why or f"policy {policy.name} is new",
        hazards=hazards,
    )


def _drop(
    ctx: DiffContext, acc: _Access, policy: Policy, hazards: list[Hazard], why: str = ""
) -> None:
    ctx.emit(
        _drop_policy_sql(ctx, acc.table, policy),
        Phase.DROP_POLICIES,
        acc.table,
        why or f"policy {policy.name} is no longer in the blueprint",
        hazards=hazards,
    )


def _alter(
    ctx: DiffContext, table: str, before: Policy, after: Policy, hazards: list[Hazard]
) -> None:
    parts = [f"ALTER POLICY {quote_ident(after.name)} ON {ctx.qualified(table)}"]
    if before.roles != after.roles:
        parts.append(f"TO {_roles_sql(after.roles)}")
    if before.using != after.using and after.using is not None:
        parts.append(f"USING ({after.written_using})")
    if before.with_check != after.with_check and after.with_check is not None:
        parts.append(f"WITH CHECK ({after.written_with_check})")
    ctx.emit(
        "\n    ".join(parts),
        Phase.CREATE_POLICIES,
        table,
        f"policy {after.name} changes",
        hazards=hazards,
    )


def _create_hazards(acc: _Access, policy: Policy) -> list[Hazard]:
    who, what = _who(policy.roles), _what(_commands(policy.command))
    if policy.permissive:
        message = (
            f"access widens on {acc.table}: new permissive policy {policy.name} lets "
            f"{who} {what} the rows it matches"
        )
    else:
        message = (
            f"access narrows on {acc.table}: new restrictive policy {policy.name} "
            f"limits {what} for {who}"
        )
    hazards = [acc.access(message)]
    if acc.unfenced_grant(policy):
        hazards.append(
            acc.weakened(
                f"new policy {policy.name} on {acc.table} grants {what} to {who} without "
                f"checking {acc.fence}: tenants may reach each other's rows"
            )
        )
    return hazards


def _drop_hazards(acc: _Access, policy: Policy) -> list[Hazard]:
    who, what = _who(policy.roles), _what(_commands(policy.command))
    if policy.permissive:
        message = (
            f"access narrows on {acc.table}: dropping permissive policy {policy.name} "
            f"takes {what} on the rows it matched away from {who}"
        )
    else:
        message = (
            f"access widens on {acc.table}: dropping restrictive policy {policy.name} "
            f"lifts a limit on {what} for {who}"
        )
    hazards = [acc.access(message)]
    if policy.name in acc.fence_policies:
        hazards.append(
            acc.weakened(
                f"drops fence policy {policy.name} on {acc.table}: {what} for {who} is no "
                f"longer checked against {acc.fence}"
            )
        )
    return hazards


def _alter_hazards(acc: _Access, before: Policy, after: Policy) -> list[Hazard]:
    hazards: list[Hazard] = []
    notes: list[str] = []
    widen_word, narrow_word = ("widens", "narrows") if after.permissive else ("narrows", "widens")
    old_cmds, new_cmds = _commands(before.command), _commands(after.command)
    if before.permissive != after.permissive:
        kind = "permissive" if after.permissive else "restrictive"
        notes.append(f"becomes {kind} (access {'widens' if after.permissive else 'narrows'})")
    if new_cmds - old_cmds:
        notes.append(f"access {widen_word} for {_what(new_cmds - old_cmds)}")
    if old_cmds - new_cmds:
        notes.append(f"access {narrow_word} for {_what(old_cmds - new_cmds)}")
    added, removed = set(after.roles) - set(before.roles), set(before.roles) - set(after.roles)
    if added:
        notes.append(f"access {widen_word} for {_who(added)}")
    if removed:
        notes.append(f"access {narrow_word} for {_who(removed)}")
    exprs_changed = before.using != after.using or before.with_check != after.with_check
    # What each policy actually checks, per PostgreSQL: USING for rows read, updated or
    # deleted; WITH CHECK (else USING) for rows written.
    using_b, using_a = _effective_using(before), _effective_using(after)
    check_b, check_a = _effective_check(before), _effective_check(after)
    tenant_check_changed = (using_a is not None and using_a != using_b) or (
        check_a is not None and check_a != check_b
    )
    if exprs_changed:
        notes.append(
            f"the rows {_who(after.roles)} may {_what(new_cmds)} change (may widen or narrow)"
        )
    hazards.append(acc.access(f"policy {after.name} on {acc.table}: " + "; ".join(notes)))
    if before.name in acc.fence_policies:
        loosened = (
            tenant_check_changed
            or before.permissive != after.permissive
            or (not before.permissive and (removed or old_cmds - new_cmds))
        )
        if loosened:
            hazards.append(
                acc.weakened(
                    f"fence policy {after.name} on {acc.table} is loosened: its tenant check "
                    "changes and may no longer hold"
                )
            )
    elif acc.unfenced_grant(after) and (added or new_cmds - old_cmds or exprs_changed):
        hazards.append(
            acc.weakened(
                f"policy {after.name} on {acc.table} grants {_what(new_cmds)} to "
                f"{_who(after.roles)} without checking {acc.fence}"
            )
        )
    return hazards


def _effective_using(policy: Policy) -> str | None:
    return None if policy.command == "INSERT" else policy.using


def _effective_check(policy: Policy) -> str | None:
    if policy.command not in ("ALL", "INSERT", "UPDATE"):
        return None
    return policy.with_check if policy.with_check is not None else policy.using


def _diff_rls(ctx: DiffContext, acc: _Access) -> list[MemberChange]:
    live, desired, table = acc.live, acc.desired, acc.table
    changes: list[MemberChange] = []
    target = ctx.qualified(table)
    if live.rls != desired.rls:
        if desired.rls:
            # The policies created along with it take effect only now: say which.
            allowed = ", ".join(p.name for p in desired.policies if p.permissive) or "none"
            hazards = [
                acc.access(
                    f"access narrows on {table}: row level security is enabled; every role but "
                    f"the owner sees only the rows a permissive policy allows ({allowed})"
                )
            ]
        else:
            hazards = [
                acc.access(
                    f"access widens on {table}: row level security is disabled; every role "
                    "with table privileges sees and writes all rows"
                )
            ]
            if acc.fenced:
                hazards.append(
                    acc.weakened(
                        f"disables row level security on fenced table {table}: the tenant "
                        "fence is off for everyone"
                    )
                )
        verb = "ENABLE" if desired.rls else "DISABLE"
        ctx.emit(
            f"ALTER TABLE {target} {verb} ROW LEVEL SECURITY",
            Phase.ROW_LEVEL_SECURITY,
            table,
            f"row level security is {'on' if desired.rls else 'off'} in the blueprint",
            hazards=hazards,
        )
        changes.append(MemberChange("table", "rls", Action.ALTERED, live.rls, desired.rls))
    if live.rls_forced != desired.rls_forced:
        if desired.rls_forced:
            hazards = [
                acc.access(f"access narrows on {table}: the table owner is fenced by policies too")
            ]
        else:
            hazards = [
                acc.access(
                    f"access widens on {table}: the table owner bypasses row level security again"
                )
            ]
            if acc.fenced:
                hazards.append(
                    acc.weakened(
                        f"stops forcing row level security on fenced table {table}: the owner "
                        "role (often the application's) reaches every tenant's rows"
                    )
                )
        verb = "FORCE" if desired.rls_forced else "NO FORCE"
        ctx.emit(
            f"ALTER TABLE {target} {verb} ROW LEVEL SECURITY",
            Phase.ROW_LEVEL_SECURITY,
            table,
            f"row level security is {'' if desired.rls_forced else 'not '}forced in the blueprint",
            hazards=hazards,
        )
        changes.append(
            MemberChange("table", "rls_forced", Action.ALTERED, live.rls_forced, desired.rls_forced)
        )
    return changes
