"""The online form of a plan: what would hold a long lock on an existing table is split into
a quick first stage (in the change's transaction) and a second stage of slow steps that run
one by one after it commits, outside a transaction, while the table stays writable.

On a table that exists on the target (a new table is created whole in stage 1: it has no rows
and nobody writes it yet):

- ``CREATE [UNIQUE] INDEX`` -> stage 2 ``CREATE [UNIQUE] INDEX CONCURRENTLY``;
- ``ADD CONSTRAINT ... CHECK | FOREIGN KEY`` -> stage 1 ``... NOT VALID`` (a brief lock, no
  scan), stage 2 ``VALIDATE CONSTRAINT`` (a scan that lets writes through);
- ``SET NOT NULL`` -> stage 1 a helper ``CHECK (c IS NOT NULL) NOT VALID``, stage 2 its
  ``VALIDATE``, then ``SET NOT NULL`` (PostgreSQL 12+ trusts the validated check and does not
  scan), then the helper dropped;
- ``ADD CONSTRAINT ... UNIQUE | PRIMARY KEY`` -> stage 2 ``CREATE UNIQUE INDEX CONCURRENTLY``
  under the constraint's name, then ``ADD CONSTRAINT ... USING INDEX`` (no scan);
- ``DROP INDEX`` -> stage 2 ``DROP INDEX CONCURRENTLY`` (the plan's indexes never back a
  constraint: those are dropped with their constraint, in stage 1);
- everything else stays in stage 1.

Stage 2 keeps the plan's phase order (NOT NULL, then unique keys, checks, indexes, foreign
keys), so a foreign key validates after the unique index it references is built. A foreign
key whose referenced unique key is itself built in stage 2 cannot even be added before it:
it moves to stage 2 whole, after the build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator

from schemabuilder.engine.catalog.snapshot import Constraint, ConstraintKind, Snapshot
from schemabuilder.engine.contract.idents import qualified, quote_ident
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement
from schemabuilder.engine.diff.steps import StepKind, step_of
from schemabuilder.engine.hazards import Hazard, HazardKind
from schemabuilder.engine.hazards.facts import TableStats
from schemabuilder.engine.hazards.online import (
    builds_concurrently,
    rewrite_still_locks,
    validates_online,
)

StatsOf = Callable[[str], TableStats | None]

# The hazards about the table as a whole stay with the part that runs in the transaction.
_STAGE_ONE_KINDS = frozenset({HazardKind.TOO_MANY_LOCKS, HazardKind.ADOPTS_TABLE})

_MAX_NAME_BYTES = 63


def not_null_helper(table: str, column: str) -> str:
    """The name of the helper check of a coming NOT NULL, cut to PostgreSQL's 63 bytes.

    Not ``<table>_<column>_not_null``: PostgreSQL 18 names the NOT NULL constraint itself so,
    and with the helper still there when SET NOT NULL runs it would pick ``..._not_null1``."""
    name = f"{table}_{column}_not_null_check"
    while len(name.encode()) > _MAX_NAME_BYTES:
        name = name[:-1]
    return name


def online_statements(
    statements: tuple[Statement, ...],
    *,
    schema: str,
    desired: Snapshot,
    new_tables: Collection[str],
    stats_of: StatsOf,
) -> tuple[Statement, ...]:
    """``statements`` (in phase order) in their online form: stage 1 first, then stage 2."""
    first: list[Statement] = []
    second: list[Statement] = []
    deferred_keys: set[tuple[str, frozenset[str]]] = set()
    for st in statements:
        if st.phase is Phase.SETUP:
            first.append(st)
            continue
        con = _constraint_of(st, desired)
        if (
            con is not None
            and con.kind is ConstraintKind.FOREIGN_KEY
            and (con.ref_table or "", frozenset(con.ref_columns)) in deferred_keys
        ):
            new = st.table in new_tables
            second.extend(_late_foreign_key(st, con, new=new, stats=stats_of(st.table)))
            continue
        if st.table in new_tables or not st.table:
            first.append(st)
            continue
        one, two = _split(st, con, schema, stats_of)
        first.extend(one)
        second.extend(two)
        for s in two:
            step = step_of(s.sql)
            if step.kind is StepKind.BUILD_INDEX and s.sql.startswith("CREATE UNIQUE"):
                key = _unique_key(st, con, desired)
                if key is not None:
                    deferred_keys.add(key)
    if not second:
        return tuple(first)
    return (
        *_lock_hazards_moved(first, statements),
        *(dataclasses.replace(s, stage=2) for s in second),
    )


def _lock_hazards_moved(first: list[Statement], original: tuple[Statement, ...]) -> list[Statement]:
    """ACCESS_EXCLUSIVE_LOCK on the first stage 1 statement that takes that lock on its table
    (held until COMMIT, which stage 1 reaches quickly); none when only stage 2 locked it so."""
    hazards = {
        h.table: h
        for st in original
        for h in st.hazards
        if h.kind is HazardKind.ACCESS_EXCLUSIVE_LOCK
    }
    out: list[Statement] = []
    for st in first:
        kept = tuple(h for h in st.hazards if h.kind is not HazardKind.ACCESS_EXCLUSIVE_LOCK)
        if st.lock is LockMode.ACCESS_EXCLUSIVE and st.table in hazards:
            kept = (*kept, hazards.pop(st.table))
        out.append(dataclasses.replace(st, hazards=kept) if kept != st.hazards else st)
    return out


def _constraint_of(st: Statement, desired: Snapshot) -> Constraint | None:
    if st.phase not in (Phase.ADD_CONSTRAINTS, Phase.ADD_FOREIGN_KEYS):
        return None
    step = step_of(st.sql)
    if step.kind is not StepKind.ADD_CONSTRAINT:
        return None
    table = desired.table(st.table)
    return table.constraint_map.get(step.name) if table is not None else None


def _unique_key(
    st: Statement, con: Constraint | None, desired: Snapshot
) -> tuple[str, frozenset[str]] | None:
    """The (table, columns) a unique build gives a foreign key to reference."""
    if con is not None:
        return st.table, frozenset(con.columns)
    table = desired.table(st.table)
    index = table.index_map.get(step_of(st.sql).name) if table is not None else None
    if index is None or index.predicate is not None:
        return None
    return st.table, frozenset(c.strip('"') for c in index.columns)


def _split(
    st: Statement, con: Constraint | None, schema: str, stats_of: StatsOf
) -> tuple[list[Statement], list[Statement]]:
    """(stage 1, stage 2) parts of one statement on an existing table."""
    stats = stats_of(st.table)
    table_wide = tuple(h for h in st.hazards if h.kind in _STAGE_ONE_KINDS)
    own = tuple(
        h
        for h in st.hazards
        if h.kind not in _STAGE_ONE_KINDS and h.kind is not HazardKind.ACCESS_EXCLUSIVE_LOCK
    )
    qual = qualified(schema, st.table)
    if st.phase is Phase.CREATE_INDEXES and st.sql.startswith("CREATE "):
        sql = st.sql.replace(" INDEX ", " INDEX CONCURRENTLY ", 1)
        name = step_of(st.sql).name
        hazards = (*table_wide, *_concurrent(own, st.table, name, stats))
        return [], [_step(st, sql, "built concurrently: writes continue", hazards)]
    if st.phase is Phase.DROP_INDEXES and st.sql.startswith("DROP INDEX "):
        sql = "DROP INDEX CONCURRENTLY " + st.sql.removeprefix("DROP INDEX ")
        why = "dropped concurrently: queries and writes continue"
        return [], [_step(st, sql, why, (*table_wide, *own))]
    if st.phase is Phase.ALTER_COLUMNS and st.sql.endswith(" SET NOT NULL"):
        column = step_of(st.sql).name
        helper = quote_ident(not_null_helper(st.table, column))
        add = (
            f"ALTER TABLE {qual} ADD CONSTRAINT {helper} CHECK ({quote_ident(column)} IS NOT "
            "NULL) NOT VALID"
        )
        return [
            dataclasses.replace(
                st,
                sql=add,
                reason=f"{column} becomes NOT NULL: a check, validated after the commit",
                hazards=table_wide,
                statement_timeout_ms=None,
            )
        ], [
            _step(
                st,
                f"ALTER TABLE {qual} VALIDATE CONSTRAINT {helper}",
                "validates the NOT NULL check while writes continue",
                _online(own, st.table, stats),
                LockMode.SHARE_UPDATE_EXCLUSIVE,
            ),
            _step(st, st.sql, "no scan: the validated check proves it", (), timeout=False),
            _step(
                st,
                f"ALTER TABLE {qual} DROP CONSTRAINT {helper}",
                "the helper check is no longer needed",
                (),
                timeout=False,
            ),
        ]
    if con is None:
        rewrites = tuple(rewrite_still_locks(h, stats) for h in st.hazards)
        return [dataclasses.replace(st, hazards=rewrites) if rewrites != st.hazards else st], []
    name = quote_ident(con.name)
    if con.kind in (ConstraintKind.CHECK, ConstraintKind.FOREIGN_KEY):
        return [
            dataclasses.replace(
                st,
                sql=f"{st.sql} NOT VALID",
                reason=f"constraint {con.name} is new: added NOT VALID, validated after the commit",
                hazards=table_wide,
                statement_timeout_ms=None,
            )
        ], [
            _step(
                st,
                f"ALTER TABLE {qual} VALIDATE CONSTRAINT {name}",
                "validates the constraint while writes continue",
                _online(own, st.table, stats),
                LockMode.SHARE_UPDATE_EXCLUSIVE,
            )
        ]
    columns = ", ".join(quote_ident(c) for c in con.columns)
    if con.kind in (ConstraintKind.UNIQUE, ConstraintKind.PRIMARY_KEY) and (
        con.definition == f"{con.kind} ({columns})"
    ):
        hazards = (*table_wide, *_concurrent(own, st.table, con.name, stats))
        return [], [
            _step(
                st,
                f"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {qual} ({columns})",
                f"the index of {con.name}, built concurrently: writes continue",
                hazards,
                LockMode.SHARE_UPDATE_EXCLUSIVE,
            ),
            _step(
                st,
                f"ALTER TABLE {qual} ADD CONSTRAINT {name} {con.kind} USING INDEX {name}",
                f"{con.name} takes over the index built for it (no scan)",
                (),
                timeout=False,
            ),
        ]
    return [st], []


def _late_foreign_key(
    st: Statement, con: Constraint, *, new: bool, stats: TableStats | None
) -> list[Statement]:
    """A foreign key whose referenced key is built in stage 2, added after it there."""
    if new:  # an empty new table: nothing to validate
        return [dataclasses.replace(st, reason=st.reason + ", after the key it references")]
    head = st.sql.split(" ADD CONSTRAINT ", 1)[0]
    return [
        dataclasses.replace(
            st,
            sql=f"{st.sql} NOT VALID",
            reason=f"constraint {con.name} is new: added NOT VALID after the key it references",
            hazards=(),
            statement_timeout_ms=None,
        ),
        _step(
            st,
            f"{head} VALIDATE CONSTRAINT {quote_ident(con.name)}",
            "validates the constraint while writes continue",
            _online(st.hazards, st.table, stats),
            LockMode.SHARE_UPDATE_EXCLUSIVE,
        ),
    ]


def _step(
    st: Statement,
    sql: str,
    why: str,
    hazards: tuple[Hazard, ...] = (),
    lock: LockMode = LockMode.SHARE_UPDATE_EXCLUSIVE,
    *,
    timeout: bool = True,
) -> Statement:
    return dataclasses.replace(
        st,
        sql=sql,
        reason=f"{st.reason}: {why}",
        hazards=hazards,
        lock=lock,
        statement_timeout_ms=st.statement_timeout_ms if timeout else None,
    )


def _concurrent(
    own: tuple[Hazard, ...], table: str, name: str, stats: TableStats | None
) -> Iterator[Hazard]:
    """The build's hazards online: the locking build's BUILDS_INDEX becomes the concurrent
    one's; what the rows hold (duplicates) is unchanged."""
    for h in own:
        if h.kind is HazardKind.BUILDS_INDEX and stats is not None:
            yield builds_concurrently(table, name, stats)
        else:
            yield h


def _online(own: tuple[Hazard, ...], table: str, stats: TableStats | None) -> tuple[Hazard, ...]:
    return tuple(validates_online(h, stats) for h in own)
