"""How many locks one of our transactions may take, and what each new table costs.

PostgreSQL keeps every lock of every transaction in one shared table of
``max_locks_per_transaction`` x (``max_connections`` + ``max_prepared_transactions``) slots
(it can borrow a little spare shared memory past that, never much). A transaction that
creates a table holds, until it ends, a lock on the table, on its TOAST table and that
table's index, on its row type, on every index, sequence and constraint it creates, and on
the live tables its foreign keys reference with all their indexes (PostgreSQL opens them all
to find the key); a few thousand new tables fill the whole table, and every other client of
the server fails with "out of shared memory" while it lasts. (Measured on batches of about
210 tables of ``bench.schemas``: 2,740 to 2,930 distinct locks, some 2,300 of them relations
and 500 objects, against estimates of 2,760 to 2,944 by ``group_locks``.)

So a large change is cut into transactions that each stay within a *budget*: a share of the
shared table (``SHARE``: the other clients of the server use it too), less a fixed reserve for
the catalog reads of introspection and verification and the marker. The estimate of a table
is deliberately high (a TOAST table is counted whether or not the table gets one).

Everything here is arithmetic on numbers and normalized tables, except ``read_budget``, which
asks the server for its three settings.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.contract.normalize import NTable

# The share of the server's lock table one change may fill: the rest is for everyone else.
SHARE = 0.5

# Locks a transaction takes besides those of its tables: the catalog tables and indexes read
# by introspection and verification (past the 16 of a backend's fast path), the schema, the
# marker table.
RESERVE = 200

# The relation, its TOAST table and the TOAST table's index, its row type.
_PER_TABLE = 4

# A referenced table outside the transaction: itself and its indexes (a typical table's).
_PER_REFERENCE = 8

_SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial", "serial4", "serial8", "serial2"})


@dataclass(frozen=True)
class LockBudget:
    """What one transaction of a change may lock (``locks``), and where that comes from."""

    locks: int
    max_locks_per_transaction: int = 64
    backends: int = 100  # max_connections + max_prepared_transactions
    forced: bool = False  # given by the caller (tests), not read from the server

    @property
    def capacity(self) -> int:
        """The server's whole lock table."""
        return self.max_locks_per_transaction * self.backends

    def setting_for(self, locks: int) -> int:
        """The ``max_locks_per_transaction`` at which one transaction of ``locks`` locks
        stays within the budget."""
        return max(
            self.max_locks_per_transaction, math.ceil((locks + RESERVE) / SHARE / self.backends)
        )

    def raise_hint(self, locks: int) -> str:
        """What to do about a transaction of ``locks`` locks that cannot be split."""
        if self.forced:
            return f"raise the lock budget ({self.locks:,}) to {locks + RESERVE:,}"
        return f"raise max_locks_per_transaction to {self.setting_for(locks):,}"


def budget_from_settings(
    max_locks_per_transaction: int, max_connections: int, max_prepared_transactions: int
) -> LockBudget:
    """The budget on a server with these settings."""
    backends = max_connections + max_prepared_transactions
    locks = int(max_locks_per_transaction * backends * SHARE) - RESERVE
    return LockBudget(max(locks, 1), max_locks_per_transaction, backends)


def forced_budget(locks: int) -> LockBudget:
    """A budget given by the caller instead of the server's (small ones make tests fast)."""
    return LockBudget(locks, forced=True)


def read_budget(conn: psycopg.Connection[Any]) -> LockBudget:
    """The budget of the server ``conn`` is connected to."""
    rows = conn.execute(
        "SELECT name, setting::bigint FROM pg_catalog.pg_settings WHERE name IN "
        "('max_locks_per_transaction', 'max_connections', 'max_prepared_transactions')"
    ).fetchall()
    settings = {str(name): int(value) for name, value in rows}
    return budget_from_settings(
        settings.get("max_locks_per_transaction", 64),
        settings.get("max_connections", 100),
        settings.get("max_prepared_transactions", 0),
    )


def table_locks(table: NTable, together: Collection[str] = ()) -> int:
    """The locks creating ``table`` takes, when the tables in ``together`` are created in the
    same transaction (a foreign key to one of them costs nothing more; to any other table it
    locks that table and its indexes)."""
    indexes = len(table.indexes) + len(table.unique)
    indexes += sum(1 for c in table.columns if c.primary_key or c.unique)
    sequences = sum(
        1 for c in table.columns if c.identity is not None or c.type.lower() in _SERIAL_TYPES
    )
    targets = _foreign_targets(table)
    constraints = len(table.checks) + sum(1 for c in table.columns if c.check is not None)
    constraints += len(table.foreign_keys) + sum(1 for c in table.columns if c.references)
    outside = {t for t in targets if t not in together and t != table.name}
    return _PER_TABLE + indexes + sequences + constraints + _PER_REFERENCE * len(outside)


def group_locks(tables: Iterable[NTable]) -> int:
    """The locks of creating ``tables`` in one transaction."""
    group = list(tables)
    names = {t.name for t in group}
    return sum(table_locks(t, names) for t in group)


def _foreign_targets(table: NTable) -> set[str]:
    targets = {fk.target for fk in table.foreign_keys}
    return targets | {c.references.target for c in table.columns if c.references is not None}


def dependency_groups(
    names: Iterable[str], links: Mapping[str, Collection[str]]
) -> list[list[str]]:
    """``names`` in the groups that must be created in one transaction (the strongly connected
    sets of ``links``, a table to the tables it needs: a cycle of foreign keys), each group
    after the groups it needs, and otherwise in the order of ``names``."""
    order = list(names)
    known = set(order)
    position = {n: i for i, n in enumerate(order)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in order:
        if start in index:
            continue
        # Tarjan's algorithm without recursion: a group is complete once every table it
        # needs has been seen, so the groups come out needed-first.
        work = [(start, iter(sorted(n for n in links.get(start, ()) if n in known)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            step = next(targets, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(sorted(n for n in links.get(step, ()) if n in known))))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(sorted(group, key=position.__getitem__))
    return groups


def pack(sizes: Iterable[tuple[list[str], int]], budget: int) -> list[list[str]]:
    """Groups (names and their locks) packed in order into as few bins of ``budget`` locks as
    that order allows; a group larger than the budget gets a bin of its own (the caller
    refuses it)."""
    bins: list[list[str]] = []
    used = budget + 1
    for names, locks in sizes:
        if used + locks > budget:
            bins.append([])
            used = 0
        bins[-1].extend(names)
        used += locks
    return bins
