"""The tables an apply may touch, the locks it takes on them up front, and the side check
that they did not move since review.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Mapping
from typing import Any

import psycopg
from psycopg import errors, sql

from schemabuilder.engine.apply.lock_retry import LockRetries
from schemabuilder.engine.catalog.fingerprints import fingerprints
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.diff.phases import LockMode, Statement

log = logging.getLogger(__name__)

# How strong each table lock is, for taking the strongest a table's statements need.
_LOCK_STRENGTH = {
    LockMode.SHARE_UPDATE_EXCLUSIVE: 1,
    LockMode.SHARE: 2,
    LockMode.SHARE_ROW_EXCLUSIVE: 3,
    LockMode.ACCESS_EXCLUSIVE: 4,
}


def scope_of(bp: NormalizedBlueprint, managed: Collection[str]) -> set[str]:
    """Every table a change to ``bp`` may touch: its own, their former names, the managed."""
    names = {t.name for t in bp.tables} | set(managed)
    names |= {t.renamed_from for t in bp.tables if t.renamed_from}
    return names


def renamed_from(bp: NormalizedBlueprint) -> dict[str, str]:
    """{new name: live name} of the tables the blueprint renames."""
    return {t.name: t.renamed_from for t in bp.tables if t.renamed_from}


def lock_tables(
    conn: psycopg.Connection[Any],
    schema: str,
    statements: Collection[Statement],
    *,
    renamed_from: Mapping[str, str] | None = None,
    retries: LockRetries | None = None,
) -> bool:
    """Lock every existing table the statements change, each in the strongest mode its
    statements take (so no table is locked harder than the statements would lock it), in
    name order. Taken before the fingerprints are compared, these locks keep anyone else
    from changing those tables until the commit, which lets verification trust what the plan
    introspected for every member the statements did not write. A renamed table's statements
    name it by its new name, so it is locked by the name it has now (``renamed_from``).
    False when a table vanished meanwhile (nothing is locked then: the fingerprints will show
    the schema moved). ``retries`` runs each LOCK TABLE (the apply's lock retries, see
    ``lock_retry``) and remembers what is held; without it each runs once, under the
    transaction's lock timeout."""
    modes: dict[str, LockMode] = {}
    for st in statements:
        if st.table and st.lock in _LOCK_STRENGTH:
            for name in (st.table, (renamed_from or {}).get(st.table)):
                if name is None:
                    continue
                held = modes.get(name)
                if held is None or _LOCK_STRENGTH[st.lock] > _LOCK_STRENGTH[held]:
                    modes[name] = st.lock
    if not modes:
        return True
    rows = conn.execute(
        """SELECT c.relname FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND c.relname = ANY(%s)""",
        [schema, sorted(modes)],
    ).fetchall()
    by_mode: dict[LockMode, list[str]] = {}
    for (name,) in rows:
        by_mode.setdefault(modes[name], []).append(name)
    try:
        with conn.transaction():
            for mode in sorted(by_mode, key=_LOCK_STRENGTH.__getitem__, reverse=True):
                names = sql.SQL(", ").join(sql.Identifier(schema, n) for n in sorted(by_mode[mode]))
                statement = sql.SQL("LOCK TABLE {} IN {} MODE").format(names, sql.SQL(mode))
                if retries is None:
                    conn.execute(statement)
                else:
                    retries.lock(statement.as_string(conn), by_mode[mode], mode)
    except errors.UndefinedTable:
        return False
    return True


class ScopeMoved(Exception):
    """The scope's fingerprints differ from those of the reviewed plan."""


class ScopeCheck:
    """The fingerprints of ``tables``, read on a connection of its own, in a thread.

    Connected when made, read once ``start`` is called: the apply connects before it takes
    any lock (a connection costs a few milliseconds the locked tables need not wait for) and
    starts the read once its tables are locked. ``close`` frees a connection never started.
    """

    def __init__(
        self, conn: psycopg.Connection[Any], schema: str, tables: set[str], timeout_ms: int
    ) -> None:
        self._prints: dict[str, str] | None = None
        self._thread: threading.Thread | None = None
        self._schema = schema
        self._tables = tables
        # Connected here, before any statement runs, so that a refused connection is known
        # while the caller can still check in its own transaction instead.
        self._side = self._connect(conn.info.dsn, conn.info.password, timeout_ms)
        self.connected = self._side is not None

    def start(self) -> None:
        """Read the fingerprints now, beside the caller (once; nothing without a connection)."""
        side, self._side = self._side, None
        if side is not None:
            self._thread = threading.Thread(
                target=self._read,
                args=(side, self._schema, self._tables),
                name="schemabuilder-scope-check",
                daemon=True,
            )
            self._thread.start()

    def close(self) -> None:
        """Free the connection of a check never started (a started one closes itself)."""
        side, self._side = self._side, None
        if side is not None:
            side.close()

    @staticmethod
    def _connect(dsn: str, password: str | None, timeout_ms: int) -> psycopg.Connection[Any] | None:
        try:
            return psycopg.connect(
                dsn,
                password=password or None,
                connect_timeout=5,
                autocommit=True,
                options=f"-c statement_timeout={int(timeout_ms)}",
            )
        except psycopg.Error:
            log.warning("the scope check could not connect beside the apply", exc_info=True)
            return None

    def _read(self, side: psycopg.Connection[Any], schema: str, tables: set[str]) -> None:
        try:
            with side:
                self._prints = fingerprints(side, schema, tables)
        except psycopg.Error:
            log.warning("the scope check could not run beside the apply", exc_info=True)

    def result(self) -> dict[str, str] | None:
        """The fingerprints (waiting for them), or None when they could not be read."""
        if self._thread is not None:
            self._thread.join()
        return self._prints


def blockers(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> list[dict[str, Any]]:
    """Which of the change's tables other connections hold locks on, and in which mode (asked on
    a fresh connection, since this one is in an aborted transaction).

    Only our own tables and the lock modes: never who holds them, their application or query,
    which belong to other connections (perhaps other tenants' on a shared database). This is
    for a lock met outside the statements and their up-front locks, read after the wait: the
    connections seen then are not known to be the ones waited for, so no pid is named either
    (``lock_retry`` names the blockers it saw while a statement waited)."""
    try:
        with psycopg.connect(
            conn.info.dsn, password=conn.info.password or None, connect_timeout=5, autocommit=True
        ) as probe:
            rows = probe.execute(
                """SELECT DISTINCT c.relname, l.mode
                   FROM pg_locks l
                   JOIN pg_class c ON c.oid = l.relation
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE l.granted AND n.nspname = %s AND c.relname = ANY(%s)
                     AND l.pid <> pg_backend_pid()
                   ORDER BY 1, 2""",
                [schema, sorted(tables)],
            ).fetchall()
    except psycopg.Error:
        return []
    return [{"table": r[0], "mode": r[1]} for r in rows]
