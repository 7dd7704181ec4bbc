"""The scratch materialization of many tables, in groups that each fit the lock budget.

A table is *linked* to every other blueprint table it names: the targets of its foreign keys,
the tables its policies' sub-queries read, and the tables whose row types (or names) appear
in the blueprint functions its policies call (``links_of``). Those must exist in the scratch
schema when it is created, and print as they will on the target: unqualified, from the
scratch schema first on the search_path.

Tables linked through a hub (every table referencing ``users``) form one connected set as
large as the blueprint, so groups are not cut along links. Each group is materialized with a
*stand-in* for every linked table outside it: a table of the same name with its columns
(names and types only) and its keys (primary, unique, unique indexes), which is all a foreign
key, a policy's sub-query or a function's row type needs of it, and nothing that links
further. Only the group's own tables are read back, so a stand-in never reaches the desired
state. Every group is its own transaction, rolled back: planning still writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any

import psycopg

from schemabuilder.engine.catalog.snapshot import Snapshot, Table
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.normalize import NColumn, NormalizedBlueprint, NTable
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.desired.cache import referenced_tables
from schemabuilder.engine.desired.functions import called_functions
from schemabuilder.engine.desired.materialize import materialize, tables_named_in_policies
from schemabuilder.engine.lock_budget import LockBudget, group_locks, table_locks

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def links_of(bp: NormalizedBlueprint) -> dict[str, set[str]]:
    """Each blueprint table's links to the other blueprint tables (see the module doc)."""
    names = {t.name for t in bp.tables}
    function_tables = {
        f.name: names & words_of(f.returns, f.body, *(a.type for a in f.arguments))
        for f in bp.functions
    }
    links: dict[str, set[str]] = {}
    for table in bp.tables:
        linked = set(referenced_tables(table)) | tables_named_in_policies(table)
        if bp.functions and table.policies:
            for name in called_functions(bp, {table.name}):
                linked |= function_tables.get(name, set())
        links[table.name] = (linked & names) - {table.name}
    return links


def words_of(*texts: str) -> set[str]:
    """Every identifier-like word of ``texts``, in lower case (what may name a table)."""
    return {w.lower() for text in texts for w in _WORD.findall(text)}


def stand_in(table: NTable) -> NTable:
    """``table`` as a linked table outside a group is created: columns and keys only."""
    columns = tuple(
        NColumn(name=c.name, type=c.type, primary_key=c.primary_key, unique=c.unique)
        for c in table.columns
    )
    keys = tuple(i for i in table.indexes if i.unique and i.where is None)
    return NTable(name=table.name, columns=columns, unique=table.unique, indexes=keys, rls=False)


def scratch_groups(
    bp: NormalizedBlueprint,
    tables: Collection[str],
    budget: LockBudget,
    *,
    paths: BlueprintPaths | None = None,
) -> list[tuple[list[str], list[str]]]:
    """``tables`` in groups that each fit ``budget``, in blueprint order, each with the
    linked tables it needs stand-ins of; one group without any when they all fit."""
    by_name = {t.name: t for t in bp.tables if t.name in tables}
    order = [t.name for t in bp.tables if t.name in by_name]
    if group_locks(by_name.values()) <= budget.locks:
        return [(order, [])]
    links = links_of(bp)

    def cost(name: str, present: set[str]) -> tuple[int, set[str]]:
        # The table (its references to tables materialized too are stand-ins or members)
        # and the stand-ins it adds to the group.
        wanted = {n for n in links.get(name, ()) if n in by_name} - present
        locks = table_locks(by_name[name], by_name)
        return locks + sum(table_locks(stand_in(by_name[n])) for n in wanted), wanted

    groups: list[tuple[list[str], list[str]]] = []
    members: list[str] = []
    present: set[str] = set()  # members and stand-ins
    used = 0
    for name in order:
        locks, wanted = cost(name, present)
        if members and used + locks > budget.locks:
            groups.append((members, sorted(present - set(members))))
            members, present, used = [], set(), 0
            locks, wanted = cost(name, present)
        if locks > budget.locks:
            raise BlueprintInvalid([too_big([name], locks, budget, paths)])
        members.append(name)
        present |= wanted | {name}
        used += locks
    groups.append((members, sorted(present - set(members))))
    return groups


def too_big(part: list[str], locks: int, budget: LockBudget, paths: BlueprintPaths | None) -> Issue:
    """The refusal of tables that must be created in one transaction and do not fit one."""
    shown = ", ".join(part[:5]) + (f" and {len(part) - 5:,} more" if len(part) > 5 else "")
    what = (
        f"{len(part):,} tables that reference each other ({shown}) must be created"
        if len(part) > 1
        else f"table {part[0]} must be created with the tables it references"
    )
    return Issue(
        paths.table(part[0]) if paths is not None else "payload.tables",
        f"{what} in one transaction, which takes about {locks:,} locks: more than the "
        f"{budget.locks:,} this server's lock table allows one change; "
        f"{budget.raise_hint(locks)}, or break the references between them",
    )


def materialize_in_groups(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    live_schema: str,
    tables: Collection[str],
    budget: LockBudget,
    *,
    paths: BlueprintPaths | None = None,
) -> Snapshot:
    """``materialize`` of ``tables``, a group at a time (``scratch_groups``), each group in a
    transaction of its own that is rolled back: one transaction, as before, when they fit."""
    if not tables:
        return Snapshot(schema=live_schema)
    groups = scratch_groups(bp, tables, budget, paths=paths)
    if len(groups) == 1:
        return materialize(conn, bp, live_schema, tables, paths=paths)
    by_name = {t.name: t for t in bp.tables}
    made: list[Table] = []
    for members, stand_ins in groups:
        own = set(members)
        group_bp = bp.model_copy(
            update={"tables": _with_stand_ins(bp.tables, set(stand_ins), by_name)}
        )
        printed = materialize(conn, group_bp, live_schema, [*members, *stand_ins], paths=paths)
        made += [t for t in printed.tables if t.name in own]
    return Snapshot(schema=live_schema, tables=tuple(made))


def _with_stand_ins(
    tables: Iterable[NTable], stand_ins: set[str], by_name: dict[str, NTable]
) -> tuple[NTable, ...]:
    """The blueprint's tables with those of ``stand_ins`` replaced by their stand-ins (the
    others are left as they are: references to them resolve to the live schema)."""
    return tuple(stand_in(by_name[t.name]) if t.name in stand_ins else t for t in tables)
