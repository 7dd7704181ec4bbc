"""Hazards of policies and row level security: what each change does to who can see or write
rows (CHANGES_ACCESS), and whether it lets one tenant reach another's (TENANT_FENCE_WEAKENED).

PostgreSQL's rules, which the messages follow: with RLS on, a role sees a row when at least
one permissive policy for its command allows it and every restrictive one does; with no
permissive policy, it sees nothing. So a new permissive policy widens access, a new
restrictive one narrows it, and dropping them does the opposite. The tenant fence is the
fence column plus RLS plus the policies that use that column; any change that can let one
tenant reach another's rows is TENANT_FENCE_WEAKENED, always danger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemabuilder.engine.catalog.snapshot import Policy, Table
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, fence

if TYPE_CHECKING:
    from schemabuilder.engine.diff.changes import DiffContext

_ALL_COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


def _named(policy: Policy) -> str:
    # A name kept as written ("Users can view their own profile.") reads as one in a sentence.
    return quote_ident(policy.name)


def _who(roles: tuple[str, ...] | set[str]) -> str:
    return ", ".join(sorted("PUBLIC" if r == "public" else r for r in roles))


def _commands(command: str) -> set[str]:
    return set(_ALL_COMMANDS) if command == "ALL" else {command}


def _what(commands: set[str]) -> str:
    if commands == set(_ALL_COMMANDS):
        return "all commands"
    return ", ".join(c for c in _ALL_COMMANDS if c in commands)


class AccessHazards:
    """Hazard writers for one table's access changes, and the fence's effective access.

    The policy changes are walked one at a time over ``state`` (the live policies as they
    stand after the changes so far); a step that makes the fence stop bounding a command or
    role (``fence``), which it still does not bound at the end, is TENANT_FENCE_WEAKENED.
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

    def created(self, policy: Policy) -> list[Hazard]:
        who, what = _who(policy.roles), _what(_commands(policy.command))
        if policy.permissive:
            message = (
                f"access widens on {self.table}: new permissive policy {_named(policy)} lets "
                f"{who} {what} the rows it matches"
            )
        else:
            message = (
                f"access narrows on {self.table}: new restrictive policy {_named(policy)} "
                f"limits {what} for {who}"
            )
        return [self.access(message)]

    def dropped(self, policy: Policy) -> list[Hazard]:
        who, what = _who(policy.roles), _what(_commands(policy.command))
        if policy.permissive:
            message = (
                f"access narrows on {self.table}: dropping permissive policy {_named(policy)} "
                f"takes {what} on the rows it matched away from {who}"
            )
        else:
            message = (
                f"access widens on {self.table}: dropping restrictive policy {_named(policy)} "
                f"lifts a limit on {what} for {who}"
            )
        return [self.access(message)]

    def altered(self, before: Policy, after: Policy) -> list[Hazard]:
        hazards: list[Hazard] = []
        notes: list[str] = []
        widen_word, narrow_word = (
            ("widens", "narrows") if after.permissive else ("narrows", "widens")
        )
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
        hazards.append(self.access(f"policy {_named(after)} on {self.table}: " + "; ".join(notes)))
        return hazards

    def fence_policy_dropped(self, policy: Policy) -> list[Hazard]:
        """Even when what is left closes the table, a fence policy is not dropped without a
        second look: the next permissive policy would open it."""
        return [
            self.weakened(
                f"drops fence policy {_named(policy)} on {self.table}: its commands are no "
                f"longer checked against {self.fence}"
            )
        ]

    def rls_switched(self, enabled: bool) -> list[Hazard]:
        """Row level security enabled or disabled on the table."""
        table = self.table
        if enabled:
            # The policies created along with it take effect only now: say which.
            allowed = ", ".join(p.name for p in self.desired.policies if p.permissive) or "none"
            return [
                self.access(
                    f"access narrows on {table}: row level security is enabled; every role but "
                    f"the owner sees only the rows a permissive policy allows ({allowed})"
                )
            ]
        hazards = [
            self.access(
                f"access widens on {table}: row level security is disabled; every role "
                "with table privileges sees and writes all rows"
            )
        ]
        if self.fenced:
            hazards.append(
                self.weakened(
                    f"disables row level security on fenced table {table}: the tenant "
                    "fence is off for everyone"
                )
            )
        return hazards

    def rls_forced(self, forced: bool) -> list[Hazard]:
        """Row level security forced on the table's owner, or no longer."""
        table = self.table
        if forced:
            return [
                self.access(f"access narrows on {table}: the table owner is fenced by policies too")
            ]
        hazards = [
            self.access(
                f"access widens on {table}: the table owner bypasses row level security again"
            )
        ]
        if self.fenced:
            hazards.append(
                self.weakened(
                    f"stops forcing row level security on fenced table {table}: the owner "
                    "role (often the application's) reaches every tenant's rows"
                )
            )
        return hazards
