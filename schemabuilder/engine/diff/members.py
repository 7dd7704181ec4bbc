"""Named members of a table (constraints, indexes, policies): matched by name; an unmatched
pair with the same definition (a renamed table's ``clients_pkey`` and ``patients_pkey``) is a
rename, not a drop and a rebuild."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from schemabuilder.engine.catalog.snapshot import Constraint, Index, Policy
from schemabuilder.engine.diff.changes import Action, DiffContext, MemberChange
from schemabuilder.engine.diff.phases import Phase


def pair_renames[T: (Constraint, Index, Policy)](
    live: Mapping[str, T], desired: Mapping[str, T], same: Callable[[T, T], bool]
) -> list[tuple[T, T]]:
    """(live, desired) pairs with different names and the same definition, first by name."""
    live_only = sorted(n for n in live if n not in desired)
    pairs = []
    for name in sorted(n for n in desired if n not in live):
        match = next((n for n in live_only if same(live[n], desired[name])), None)
        if match is not None:
            live_only.remove(match)
            pairs.append((live[match], desired[name]))
    return pairs


def diff_named[T: (Constraint, Index)](
    ctx: DiffContext,
    table: str,
    kind: str,
    live: Mapping[str, T],
    desired: Mapping[str, T],
    same: Callable[[T, T], bool],
    rename_sql: Callable[[T, T], str],
    drop: Callable[[T, bool], None],
    add: Callable[[T], None],
) -> list[MemberChange]:
    """Renames, then drops, then additions of one kind of named member of one table.

    A member whose definition changes under the same name is dropped and added again
    (``drop`` is told it is replaced: its hazards are the new one's to report)."""
    changes: list[MemberChange] = []
    renamed = pair_renames(live, desired, same)
    for old, new in renamed:
        ctx.emit(
            rename_sql(old, new),
            Phase.RENAME_CONSTRAINTS,
            table,
            f"{kind} {old.name} has the definition of {new.name}: renamed, not rebuilt",
        )
        changes.append(MemberChange(kind, new.name, Action.RENAMED, old, new, old.name))
    renamed_live = {a.name for a, _ in renamed}
    renamed_desired = {b.name for _, b in renamed}
    for name in sorted(set(live) - renamed_live):
        wanted = desired.get(name)
        if wanted != live[name]:
            drop(live[name], wanted is not None)
            if wanted is None:
                changes.append(MemberChange(kind, name, Action.DROPPED, live[name], None))
    for name in sorted(set(desired) - renamed_desired):
        before = live.get(name)
        if before != desired[name]:
            add(desired[name])
            action = Action.ADDED if before is None else Action.ALTERED
            changes.append(MemberChange(kind, name, action, before, desired[name]))
    return changes
