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

from schemabuilder.engine.catalog.snapshot import Policy, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff.members import pair_renames
from schemabuilder.engine.diff.phases import Phase
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, fence

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
    """Hazard writers for one table's access changes, and the fence's effective access.

    The policy changes are walked one at a time over ``state`` (the live policies as they
    stand after the changes so far); a step that makes the fence stop bounding a command or
    role (``hazards.fence``), which it still does not bound at the end, is TENANT_FENCE_WEAKENED.
    """

    def __init__(self, ctx: DiffContext, live: Table, desired: Table) -> None:
        self.ctx = ctx
        self.table = desired.name
        self.live = live
        self.desired = desired
        self.fence = ctx.fence_column
        self.predicate = ctx.fence_using
        predicate = self.predicate
        self.fenced = bool(
            live.rls and predicate and fence.has_fence_policy(live.policies, predicate)
        )
        self.roles = fence.roles_of(live.policies, desired.policies)
        self.state: dict[str, Policy] = dict(live.policy_map)
        self.lost: set[fence.Reach] = set()
        if self.fenced and predicate:
            self.lost = set(fence.weakened(live.policies, True, desired.policies, True, predicate))

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

    def step(self, before: Policy | None, after: Policy | None) -> list[fence.Reach]:
        """Apply one policy change to ``state``; what it unfences for good (sorted)."""
        old = list(self.state.values())
        if before is not None:
            self.state.pop(before.name, None)
        if after is not None:
            self.state[after.name] = after
        if not self.lost or not self.predicate:
            return []
        was = fence.fenced_reaches(old, self.predicate, True, self.roles)
        now = fence.fenced_reaches(list(self.state.values()), self.predicate, True, self.roles)
        return sorted((was - now) & self.lost)

    def checks_fence(self, policy: Policy) -> bool:
        """A policy of a fenced table that checks the fence predicate."""
        return (
            self.fenced
            and self.predicate is not None
            and fence.has_fence_policy([policy], self.predicate)
        )

    def unfenced(self, lost: list[fence.Reach], what: str) -> list[Hazard]:
        """TENANT_FENCE_WEAKENED for ``lost`` (nothing when empty)."""
        if not lost:
            return []
        shown = "; ".join(r.text() for r in lost[:4])
        more = f" and {len(lost) - 4} more" if len(lost) > 4 else ""
        return [
            self.weakened(
                f"{what} on {self.table}: rows that do not match the tenant fence "
                f"({self.fence}) become reachable for {shown}{more}"
            )
        ]


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
        acc.step(old, new)
    for name in sorted(set(live_policies) | set(desired.policy_map)):
        before, after = live_policies.get(name), desired.policy_map.get(name)
        if before is None and after is not None:
            lost = acc.unfenced(acc.step(None, after), f"new policy {after.name}")
            _create(ctx, acc, after, _create_hazards(acc, after) + lost if live.rls else [])
            changes.append(MemberChange("policy", name, Action.ADDED, None, after))
        elif after is None and before is not None:
            lost = acc.unfenced(acc.step(before, None), f"dropping policy {before.name}")
            if not lost and acc.checks_fence(before):
                # Even when what is left closes the table, a fence policy is not dropped
                # without a second look: the next permissive policy would open it.
                lost = [
                    acc.weakened(
                        f"drops fence policy {before.name} on {table}: its commands are no "
                        f"longer checked against {acc.fence}"
                    )
                ]
            _drop(ctx, acc, before, _drop_hazards(acc, before) + lost if live.rls else [])
            changes.append(MemberChange("policy", name, Action.DROPPED, before, None))
        elif before is not None and after is not None:
            uses_touched = bool(set(before.columns) & touched_columns)
            if before == after and not uses_touched:
                continue
            lost = acc.unfenced(acc.step(before, after), f"policy {name} changes")
            hazards = (
                _alter_hazards(acc, before, after) + lost if before != after and live.rls else []
            )
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
    return [acc.access(message)]


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
    return [acc.access(message)]


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
    if exprs_changed:
        notes.append(
            f"the rows {_who(after.roles)} may {_what(new_cmds)} change (may widen or narrow)"
        )
    hazards.append(acc.access(f"policy {after.name} on {acc.table}: " + "; ".join(notes)))
    return hazards


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
