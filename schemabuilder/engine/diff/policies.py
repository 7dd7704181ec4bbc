"""Diff of row level security and policies, with what each change does to access.

PostgreSQL's rules, which the hazard messages follow: with RLS on, a role sees a row when
at least one permissive policy for its command allows it and every restrictive one does;
with no permissive policy, it sees nothing. So a new permissive policy widens access, a new
restrictive one narrows it, and dropping them does the opposite.

The hazards of each change (CHANGES_ACCESS, TENANT_FENCE_WEAKENED) are decided in
``hazards.policies``.
"""

from __future__ import annotations

import dataclasses

from schemabuilder.engine.catalog.snapshot import Policy, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.diff.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff.members import pair_renames
from schemabuilder.engine.diff.phases import Phase
from schemabuilder.engine.hazards import Hazard
from schemabuilder.engine.hazards.policies import AccessHazards


def _named(name: str) -> str:
    # A name kept as written ("Users can view their own profile.") reads as one in a sentence.
    return quote_ident(name)


def _roles_sql(roles: tuple[str, ...]) -> str:
    return ", ".join("PUBLIC" if r == "public" else quote_ident(r) for r in roles)


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
            f"policy {_named(policy.name)} of new table {table.name}",
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


def diff_policies(
    ctx: DiffContext, live: Table, desired: Table, touched_columns: set[str]
) -> list[MemberChange]:
    """DROP, CREATE and ALTER POLICY, then RLS switches, for one existing table.

    ``touched_columns`` are columns dropped or changing type: a policy using one must be
    dropped first and created again, since PostgreSQL refuses both while it exists.
    """
    acc = AccessHazards(ctx, live, desired)
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
            f"policy {_named(old.name)} has the definition of {_named(new.name)}: renamed",
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
            lost = acc.unfenced(acc.step(None, after), f"new policy {_named(after.name)}")
            _create(ctx, acc, after, acc.created(after) + lost if live.rls else [])
            changes.append(MemberChange("policy", name, Action.ADDED, None, after))
        elif after is None and before is not None:
            lost = acc.unfenced(acc.step(before, None), f"dropping policy {_named(before.name)}")
            if not lost and acc.checks_fence(before):
                # Even when what is left closes the table, a fence policy is not dropped
                # without a second look: the next permissive policy would open it.
                lost = acc.fence_policy_dropped(before)
            _drop(ctx, acc, before, acc.dropped(before) + lost if live.rls else [])
            changes.append(MemberChange("policy", name, Action.DROPPED, before, None))
        elif before is not None and after is not None:
            uses_touched = bool(set(before.columns) & touched_columns)
            if before == after and not uses_touched:
                continue
            lost = acc.unfenced(acc.step(before, after), f"policy {_named(name)} changes")
            hazards = acc.altered(before, after) + lost if before != after and live.rls else []
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
                _drop(ctx, acc, before, [], why=f"policy {_named(name)} {why}: dropped first")
                _create(ctx, acc, after, hazards, why=f"policy {_named(name)} {why}: created again")
            else:
                _alter(ctx, table, before, after, hazards)
            if before != after:
                changes.append(MemberChange("policy", name, Action.ALTERED, before, after))
    changes += _diff_rls(ctx, acc)
    return changes


def _create(
    ctx: DiffContext, acc: AccessHazards, policy: Policy, hazards: list[Hazard], why: str = ""
) -> None:
    ctx.emit(
        create_policy_sql(ctx, acc.table, policy),
        Phase.CREATE_POLICIES,
        acc.table,
        why or f"policy {_named(policy.name)} is new",
        hazards=hazards,
    )


def _drop(
    ctx: DiffContext, acc: AccessHazards, policy: Policy, hazards: list[Hazard], why: str = ""
) -> None:
    ctx.emit(
        _drop_policy_sql(ctx, acc.table, policy),
        Phase.DROP_POLICIES,
        acc.table,
        why or f"policy {_named(policy.name)} is no longer in the blueprint",
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
        f"policy {_named(after.name)} changes",
        hazards=hazards,
    )


def _diff_rls(ctx: DiffContext, acc: AccessHazards) -> list[MemberChange]:
    live, desired, table = acc.live, acc.desired, acc.table
    changes: list[MemberChange] = []
    target = ctx.qualified(table)
    if live.rls != desired.rls:
        hazards = acc.rls_switched(desired.rls)
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
        hazards = acc.rls_forced(desired.rls_forced)
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
