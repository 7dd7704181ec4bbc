"""A plan too large for the server's lock table in one transaction, split into batches.

``lock_budget`` says how many locks one transaction of ours may take and what a new table
costs. A plan whose first stage fits (every plan but those creating many hundreds of tables)
is left exactly as it is. An online plan that does not fit is cut into batches, each a
transaction of its own, in order:

- **batch 1** holds everything on existing objects (extensions, types, functions, the
  changes to existing tables), with the new tables any of those name (a foreign key of an
  existing table to a new one, a function whose body reads one), and as many further new
  tables as fit. It writes the marker, as the one transaction of a small plan does;
- **each further batch** creates new tables only, whole (with their indexes, policies,
  comments, grants, triggers), each after the new tables it names (``desired.groups``'
  links: a foreign key's target, a table a policy reads), and tables that name each other
  (a cycle of foreign keys) always in the same batch: a batch needs only what it and the
  earlier ones make. Such a cycle larger than a batch is refused, with the setting to raise.

Default privileges (``ALTER DEFAULT PRIVILEGES``) apply to the objects created after them,
and the plan puts them after its tables: they go to the last batch. A stage 2 statement
keeps ``batch`` 0: it runs after all of them.

An ``atomic`` plan cannot be split: when it does not fit, a TOO_MANY_LOCKS hazard (danger)
says so, with the setting that would let it run, or to apply it online.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from schemabuilder.engine.contract.errors import BlueprintInvalid
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NTable
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.desired.groups import links_of, too_big, words_of
from schemabuilder.engine.diff.phases import Phase, Statement
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.lock_budget import (
    LockBudget,
    dependency_groups,
    group_locks,
    pack,
    table_locks,
)

# In the plan's script, before the first statement of every batch after the first.
BATCH_LINE = "-- batch {n} of {total}: a transaction of its own, after batch {before} commits\n"

# Run after every new table is made (see the module doc).
_LAST = frozenset({Phase.DEFAULT_PRIVILEGES})


def in_batches(
    statements: Sequence[Statement],
    bp: NormalizedBlueprint,
    *,
    new_tables: Collection[str],
    budget: LockBudget,
    mode: str,
    paths: BlueprintPaths | None = None,
) -> tuple[Statement, ...]:
    """``statements`` (stage 1 then stage 2) with each stage 1 statement's ``batch``, in batch
    order; as they are when the first stage fits ``budget`` (see the module doc). Raises
    ``BlueprintInvalid`` for linked new tables that fit no batch."""
    first = [st for st in statements if st.stage == 1]
    by_name = {t.name: t for t in bp.tables}
    new = [t.name for t in bp.tables if t.name in set(new_tables)]
    fixed = _existing_locks(first, by_name, set(new))
    total = fixed + group_locks(by_name[n] for n in new)
    if total <= budget.locks or not first:
        return tuple(statements)
    if mode != "online":
        return _flagged(statements, total, budget, online=True)
    new_set = set(new)
    links = links_of(bp)
    pulled = set()
    for st in first:
        if st.phase is Phase.SETUP or st.phase in _LAST or st.table in new_set:
            continue
        pulled |= words_of(st.sql) & new_set
    pulled = _needed_by(pulled, links, new_set)
    parts = dependency_groups(new, links)
    early = [p for p in parts if pulled & set(p)]
    later = [p for p in parts if not pulled & set(p)]
    fixed += group_locks(by_name[n] for p in early for n in p)
    if fixed > budget.locks:
        return _flagged(statements, fixed, budget, online=False)
    sized = [([], fixed), *((p, group_locks(by_name[n] for n in p)) for p in later)]
    refused = [too_big(p, locks, budget, paths) for p, locks in sized[1:] if locks > budget.locks]
    if refused:  # a cycle too large for any batch
        raise BlueprintInvalid(refused)
    bins = pack(sized, budget.locks)
    if len(bins) == 1:
        return tuple(statements)
    batch_of = {n: 1 for p in early for n in p}
    batch_of.update({n: k for k, names in enumerate(bins, start=1) for n in names})
    last = len(bins)
    placed = [
        dataclasses.replace(
            st,
            batch=last if st.phase in _LAST else batch_of.get(st.table, 1),
            hazards=tuple(h for h in st.hazards if h.kind is not HazardKind.TOO_MANY_LOCKS),
        )
        for st in first
    ]
    placed.sort(key=lambda st: st.batch)  # stable: the plan's order within a batch
    return (*placed, *(st for st in statements if st.stage != 1))


def _needed_by(tables: set[str], links: Mapping[str, Collection[str]], new: set[str]) -> set[str]:
    """``tables`` and every new table they need, directly or not."""
    out = set(tables)
    queue = list(tables)
    while queue:
        for target in links.get(queue.pop(), ()):
            if target in new and target not in out:
                out.add(target)
                queue.append(target)
    return out


def batch_count(statements: Sequence[Statement]) -> int:
    """How many transactions the first stage of ``statements`` runs in (1 when not split)."""
    return max((st.batch for st in statements), default=0) or 1


def script_lines(statements: Sequence[Statement]) -> dict[int, str]:
    """The line to print before each statement (by position) that starts a batch after the
    first."""
    total = batch_count(statements)
    if total == 1:
        return {}
    lines: dict[int, str] = {}
    seen = 1
    for i, st in enumerate(statements):
        if st.batch > seen:
            lines[i] = BATCH_LINE.format(n=st.batch, total=total, before=st.batch - 1)
            seen = st.batch
    return lines


def _existing_locks(
    first: Sequence[Statement], by_name: Mapping[str, NTable], new: set[str]
) -> int:
    """The locks of the statements on existing tables: each table as if it were made anew
    (its indexes, sequences and the tables its keys reference), a plain three otherwise."""
    touched = {st.table for st in first if st.table and st.table not in new}
    locks = 0
    for name in touched:
        table = by_name.get(name)
        locks += table_locks(table) if table is not None else 3
    return locks


def _flagged(
    statements: Sequence[Statement], locks: int, budget: LockBudget, *, online: bool
) -> tuple[Statement, ...]:
    """``statements`` with a TOO_MANY_LOCKS hazard on the first, in place of the diff's."""
    what = "in one transaction" if online else "in the transaction of its existing tables"
    hint = budget.raise_hint(locks) + (" or apply online" if online else "")
    hazard = Hazard(
        HazardKind.TOO_MANY_LOCKS,
        Severity.DANGER,
        f"takes about {locks:,} locks {what}, more than the {budget.locks:,} this server's "
        f"lock table allows one change (max_locks_per_transaction "
        f"{budget.max_locks_per_transaction} x {budget.backends} connections, shared with "
        f"its other clients): it would fail with 'out of shared memory'; {hint}",
        "",
        {"locks": locks, "lock_budget": budget.locks},
    )
    head, *rest = statements
    kept = tuple(h for h in head.hazards if h.kind is not HazardKind.TOO_MANY_LOCKS)
    return (dataclasses.replace(head, hazards=(hazard, *kept)), *rest)
