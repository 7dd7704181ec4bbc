"""Apply a plan to its target: one transaction, re-checked, verified, with its commit marker.

Inside one transaction on the target:

1. ``lock_timeout`` and ``statement_timeout`` for the whole change;
2. a transaction-scoped advisory lock for the target (one change at a time per database);
3. the locks the reviewed statements need, on the tables they change, taken up front: from
   here on nobody else changes those tables;
4. the statements, timed one by one, while a second connection compares the scope's
   fingerprints with those the plan was made against; when a table moved, the statements
   are undone (a savepoint) and a fresh plan is made against the live schema: if it holds a
   statement or a hazard that was not reviewed, stop (``PlanChanged``) so a person reviews
   the new plan, else it runs;
5. verification (``verification.verify``): every table the statements, or anything they set
   off, changed must equal the desired state (``VerificationFailed`` lists the residue and
   the transaction rolls back);
6. the target's own ``schemabuilder.schema_migrations`` row, so that after a crash the row (or
   its absence) says whether the change committed.

After the commit, given a cache, the tables verified in step 5 are remembered under the
fingerprints they have now (``live_forms``): the next plan need not introspect them.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.types.json import Jsonb

from schemabuilder.engine.apply.verification import fingerprints, verify
from schemabuilder.engine.catalog.live_forms import live_keys, remember
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.cache import CanonicalCache
from schemabuilder.engine.diff.phases import LockMode, Statement
from schemabuilder.engine.hazards.remeasure import (
    certain_failures,
    data_reason,
    data_sensitive,
    hazard_signature,
    raised_hazards,
)
from schemabuilder.engine.plan import Plan, plan
from schemabuilder.engine.safe_errors import safe_message

__all__ = ["ApplyRequest", "Reviewed", "apply_plan", "fingerprints", "read_marker", "scope_of"]

log = logging.getLogger(__name__)

MARKER_SCHEMA = "schemabuilder"
MARKER_TABLE = "schema_migrations"

# The seed's schema_migrations columns, plus the proposal and the blueprint's hash.
MARKER_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {MARKER_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {MARKER_SCHEMA}.{MARKER_TABLE} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        tenant_id text NOT NULL,
        target_schema text NOT NULL,
        version text NOT NULL,
        description text NOT NULL DEFAULT '',
        applied_by text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        checksum text NOT NULL,
        status text NOT NULL DEFAULT 'success',
        error_message text,
        sql_script text NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
        proposal_id uuid NOT NULL UNIQUE,
        schema_hash text NOT NULL
    )""",
)


class ApplyError(Exception):
    """The change was not applied; nothing of it remains on the target."""


class PlanChanged(ApplyError):
    """The live schema moved since the plan was reviewed, and the plan is now different."""

    def __init__(self, new_plan: Plan, reason: str) -> None:
        super().__init__(reason)
        self.new_plan = new_plan


class VerificationFailed(ApplyError):
    """After the statements, the schema is not the desired one (the residue is listed)."""

    def __init__(self, residue: list[str]) -> None:
        super().__init__(
            "Verification failed, the change was rolled back. Left over: " + "; ".join(residue)
        )
        self.residue = residue


class LockTimeout(ApplyError):
    """A statement waited longer than lock_timeout for a lock another session holds."""

    def __init__(self, message: str, blockers: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.blockers = blockers


class Deadlock(ApplyError):
    """PostgreSQL broke a deadlock by aborting this transaction (safe to retry)."""


class WillFail(ApplyError):
    """The plan says a statement fails on the live data (``WILL_FAIL``): never run."""


class StatementFailed(ApplyError):
    """A statement failed for a reason no retry will fix (the server's message is kept)."""

    def __init__(self, message: str, index: int, statement: str) -> None:
        super().__init__(message)
        self.index = index
        self.statement = statement


@dataclass(frozen=True)
class ApplyRequest:
    """What the worker knows about the reviewed change."""

    proposal_id: str
    tenant_id: str
    schema: str
    managed: frozenset[str]
    reviewed_checksum: str
    reviewed_base_hash: str
    reviewed_statements: tuple[str, ...]
    reviewed_hazards: tuple[str, ...]  # hazard signatures, see ``hazard_signature``
    schema_hash: str
    version: str
    description: str
    applied_by: str
    lock_key: int
    lock_timeout_ms: int
    statement_timeout_ms: int
    metadata: dict[str, Any] = field(default_factory=dict)
    # A person approved this very plan: a re-plan at apply time must have the reviewed
    # checksum. Without it, a re-plan that only narrowed (``within_review``) may run; with
    # it, that too is PlanChanged, since the approver signed one plan, not its subsets.
    exact: bool = False

    @classmethod
    def reviewing(cls, p: Plan, **fields: Any) -> ApplyRequest:
        """A request to apply ``p`` as it was reviewed: the ``reviewed_*`` fields come from the
        plan, every other field from ``fields``."""
        return cls(
            reviewed_checksum=p.checksum,
            reviewed_base_hash=p.base_snapshot_hash,
            reviewed_statements=tuple(st.sql for st in p.statements),
            reviewed_hazards=plan_signature(p),
            **fields,
        )


@dataclass(frozen=True)
class StatementTiming:
    index: int
    sql: str
    ms: float


@dataclass(frozen=True)
class ApplyOutcome:
    plan: Plan | None  # None: the reviewed plan ran as it was
    sql: str  # what ran
    checksum: str
    after: Snapshot
    timings: tuple[StatementTiming, ...]
    total_ms: float
    marker_id: int
    replanned_schema_moved: bool
    phases_ms: dict[str, float] = field(default_factory=dict)  # where the time went


Progress = Callable[[int, int, StatementTiming], None]


def plan_signature(p: Plan) -> tuple[str, ...]:
    return tuple(sorted(hazard_signature(h) for h in p.hazards))


@dataclass(frozen=True)
class Work:
    """What one apply executes and verifies against: a fresh plan, or the reviewed one when
    the scope's fingerprints show nothing moved since review."""

    statements: tuple[Statement, ...]
    desired: Snapshot
    desired_hash: str
    dropped_tables: tuple[str, ...]
    checksum: str
    sql: str
    plan: Plan | None  # None: the reviewed plan was used as it was
    # The plan's introspection of the tables the statements change, when nobody else can
    # have changed them since (verification then prints only what the statements wrote).
    base: Snapshot | None = None

    @classmethod
    def of(cls, p: Plan) -> Work:
        """A plan made inside the apply's transaction: the tables it changes were not locked
        before it introspected them, so verification introspects them whole."""
        return cls(p.statements, p.desired, p.desired.hash, p.dropped_tables, p.checksum, p.sql, p)


@dataclass(frozen=True)
class Reviewed:
    """The plan a person (or the rules) accepted, as stored with the proposal."""

    statements: tuple[Statement, ...]
    desired: Snapshot
    desired_hash: str  # as computed at plan time (hashing 1,000 tables again costs ~0.4 s)
    dropped_tables: tuple[str, ...]
    checksum: str
    sql: str
    fingerprints: dict[str, str]  # per table in scope, taken before planning
    base: Snapshot | None = None  # ``Plan.base``: the changed tables as the plan saw them

    @classmethod
    def of(cls, p: Plan, fingerprints: dict[str, str]) -> Reviewed:
        """The plan ``p``, made after taking ``fingerprints``, as reviewed."""
        return cls(
            p.statements,
            p.desired,
            p.desired.hash,
            p.dropped_tables,
            p.checksum,
            p.sql,
            fingerprints,
            p.base,
        )

    def work(self) -> Work:
        return Work(
            self.statements,
            self.desired,
            self.desired_hash,
            self.dropped_tables,
            self.checksum,
            self.sql,
            None,
            self.base,
        )


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


def apply_plan(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    request: ApplyRequest,
    *,
    reviewed: Reviewed | None = None,
    cache: CanonicalCache | None = None,
    on_progress: Progress | None = None,
    before_commit: Callable[[psycopg.Connection[Any]], None] | None = None,
) -> ApplyOutcome:
    """Apply ``bp`` to ``request.schema`` in one verified transaction (see the module doc).

    When ``reviewed`` is given and no table in scope moved since it was planned (same
    fingerprints), its statements run as they were reviewed, without planning again.
    Raises PlanChanged, VerificationFailed, LockTimeout, Deadlock or StatementFailed; in every
    case the transaction is rolled back and the target is as it was.
    ``before_commit`` runs last inside the transaction (tests use it to hold it open).
    """
    refused = certain_failures(reviewed.statements) if reviewed is not None else []
    if refused:
        # No approval passes a certain failure: the worker would only take the locks to fail.
        raise WillFail("Not applied: " + "; ".join(refused) + ". Fix the data and plan again.")
    started = time.perf_counter()
    clock = _Laps()
    conn.autocommit = True  # transactions are explicit below
    scope = scope_of(bp, request.managed)
    try:
        with _no_gc_pauses(), conn.transaction():
            conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}").format(
                    sql.Literal(f"{request.lock_timeout_ms}ms"),
                    sql.Literal(f"{request.statement_timeout_ms}ms"),
                )
            )
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [request.lock_key])
            locked = reviewed is not None and lock_tables(
                conn, request.schema, reviewed.statements, renamed_from=_renamed_from(bp)
            )
            clock.lap("lock")
            if reviewed is not None and locked and data_sensitive(reviewed.statements):
                # Nobody can write the locked tables any more: count again what the review's
                # severities were decided on (rows of a dropped table, NULLs, duplicates...).
                recounted = plan(
                    conn, bp, schema=request.schema, managed=set(request.managed), cache=cache
                )
                clock.lap("remeasure")
                raised = raised_hazards(recounted.hazards, request.reviewed_hazards)
                if raised:
                    raise PlanChanged(recounted, data_reason(raised))
            ran = (
                _run_reviewed(conn, reviewed, request, scope, on_progress)
                if reviewed is not None and locked
                else None
            )
            if ran is not None:
                work, before, timings = ran
                moved = False
                clock.lap("execute")
            else:
                before = fingerprints(conn, request.schema, scope)
                clock.lap("fingerprint")
                moved = reviewed is None or before != reviewed.fingerprints
                if reviewed is not None and not moved:
                    work = reviewed.work()
                    if not locked:
                        work = dataclasses.replace(work, base=None)
                else:
                    current = plan(
                        conn, bp, schema=request.schema, managed=set(request.managed), cache=cache
                    )
                    if current.checksum != request.reviewed_checksum and (
                        request.exact or not within_review(current, request)
                    ):
                        raise PlanChanged(current, _moved_reason(current))
                    work = Work.of(current)
                clock.lap("plan")
                timings = _execute(conn, work, request, on_progress)
                clock.lap("execute")
            residue, checked = verify(
                conn,
                request.schema,
                desired=work.desired,
                statements=work.statements,
                dropped=work.dropped_tables,
                scope=scope,
                before=before,
                base=work.base,
            )
            clock.lap("verify")
            if residue:
                raise VerificationFailed(residue)
            marker_id = _write_marker(conn, request, work)
            clock.lap("marker")
            # The verified tables are what the next plan would introspect: keyed now, inside
            # the transaction (see live_forms), stored once it has committed.
            verified_keys = (
                live_keys(conn, request.schema, checked.table_map) if cache is not None else {}
            )
            if cache is not None:
                clock.lap("keys")
            if before_commit is not None:
                before_commit(conn)
    except errors.LockNotAvailable as exc:
        raise LockTimeout(
            safe_message(exc, where=f"Waited {request.lock_timeout_ms} ms for a lock"),
            blockers(conn, request.schema, scope),
        ) from exc
    except errors.DeadlockDetected as exc:
        raise Deadlock(safe_message(exc)) from exc
    if cache is not None and verified_keys:
        try:
            remember(cache, verified_keys, checked)
        except Exception:  # the change is committed: a cache that cannot store only slows plans
            log.warning("could not remember the verified tables", exc_info=True)
    return ApplyOutcome(
        plan=work.plan,
        sql=work.sql,
        checksum=work.checksum,
        after=work.desired,
        timings=tuple(timings),
        total_ms=(time.perf_counter() - started) * 1000,
        marker_id=marker_id,
        replanned_schema_moved=moved,
        phases_ms=clock.laps,
    )


def _renamed_from(bp: NormalizedBlueprint) -> dict[str, str]:
    """{new name: live name} of the tables the blueprint renames."""
    return {t.name: t.renamed_from for t in bp.tables if t.renamed_from}


def lock_tables(
    conn: psycopg.Connection[Any],
    schema: str,
    statements: Collection[Statement],
    *,
    renamed_from: Mapping[str, str] | None = None,
) -> bool:
    """Lock every existing table the statements change, each in the strongest mode its
    statements take (so no table is locked harder than the statements would lock it), in
    name order. Taken before the fingerprints are compared, these locks keep anyone else
    from changing those tables until the commit, which lets verification trust what the plan
    introspected for every member the statements did not write. A renamed table's statements
    name it by its new name, so it is locked by the name it has now (``renamed_from``).
    False when a table vanished meanwhile (nothing is locked then: the fingerprints will show
    the schema moved)."""
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
                conn.execute(sql.SQL("LOCK TABLE {} IN {} MODE").format(names, sql.SQL(mode)))
    except errors.UndefinedTable:
        return False
    return True


def _run_reviewed(
    conn: psycopg.Connection[Any],
    reviewed: Reviewed,
    request: ApplyRequest,
    scope: set[str],
    on_progress: Progress | None,
) -> tuple[Work, dict[str, str], list[StatementTiming]] | None:
    """Run the reviewed statements while a second connection checks that the scope has not
    moved since review; None, with the statements undone, when it has (or the check could
    not be made), and the caller checks again in this transaction and plans again.

    The check can run beside the statements because it reads only committed catalog rows,
    which this transaction has not changed before its first statement (its locks write no
    row), and because the tables the statements change are locked already: what the second
    connection reads is what this one would read before the statements. That takes the
    fingerprints of the whole scope (~100 ms for 1,000 tables) off the apply's critical path.
    """
    work = reviewed.work()
    check = _ScopeCheck(conn, request.schema, scope, request.statement_timeout_ms)
    if not check.connected:
        # Checked in this transaction instead, before the statements: running them here
        # first would mean running every one of them twice under the locks.
        return None
    try:
        with conn.transaction():  # a savepoint: rolled back when the scope moved
            try:
                timings = _execute(conn, work, request, on_progress)
            except StatementFailed:
                if check.result() == reviewed.fingerprints:
                    raise
                raise _ScopeMoved from None  # the failure may be the move's: plan again
            if check.result() != reviewed.fingerprints:
                raise _ScopeMoved
    except _ScopeMoved:
        return None
    finally:
        check.result()  # the thread ends with the statements, whatever they raised
    before = check.result()
    assert before is not None
    return work, before, timings


class _ScopeMoved(Exception):
    """The scope's fingerprints differ from those of the reviewed plan."""


class _ScopeCheck:
    """The fingerprints of ``tables``, read on a connection of its own, in a thread."""

    def __init__(
        self, conn: psycopg.Connection[Any], schema: str, tables: set[str], timeout_ms: int
    ) -> None:
        self._prints: dict[str, str] | None = None
        self._thread: threading.Thread | None = None
        # Connected here, before any statement runs, so that a refused connection is known
        # while the caller can still check in its own transaction instead.
        side = self._connect(conn.info.dsn, conn.info.password, timeout_ms)
        self.connected = side is not None
        if side is not None:
            self._thread = threading.Thread(
                target=self._read,
                args=(side, schema, tables),
                name="schemabuilder-scope-check",
                daemon=True,
            )
            self._thread.start()

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


_frozen_lock = threading.Lock()
_frozen_users = 0


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Python's cycle collector leaves alone what exists while the transaction holds its
    locks: with a reviewed plan of 1,000 tables in memory, one full collection in the middle
    of the apply took ~60 ms of the time the changed tables are locked. ``gc.freeze()`` moves
    every object alive now out of the collector's sight, while collection goes on for what is
    made afterwards, in this apply and in any other thread of the process (``gc.disable()``
    would have switched it off for all of them). The last apply to leave unfreezes."""
    global _frozen_users
    with _frozen_lock:
        if _frozen_users == 0:
            gc.freeze()
        _frozen_users += 1
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_users -= 1
            if _frozen_users == 0:
                gc.unfreeze()


class _Laps:
    """Milliseconds per step of one apply."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 1)
        self._last = now


def within_review(current: Plan, request: ApplyRequest) -> bool:
    """True when every statement of the fresh plan was in the reviewed plan, and every hazard
    kind, severity and table too: the change narrowed (an earlier proposal already made part
    of it), so nothing unreviewed would run. The numbers in hazards move with every insert and
    are not compared. Anything new needs a new review."""
    reviewed_sql = set(request.reviewed_statements)
    if any(st.sql not in reviewed_sql for st in current.statements):
        return False
    return set(plan_signature(current)) <= set(request.reviewed_hazards)


def _moved_reason(current: Plan) -> str:
    return (
        "The live schema changed since this plan was reviewed, and the new plan differs "
        f"({len(current.statements)} statements, checksum {current.checksum[:12]}). "
        "Review the new plan."
    )


def _execute(
    conn: psycopg.Connection[Any],
    current: Work,
    request: ApplyRequest,
    on_progress: Progress | None,
) -> list[StatementTiming]:
    timings: list[StatementTiming] = []
    total = len(current.statements)
    for index, statement in enumerate(current.statements):
        if statement.statement_timeout_ms:
            conn.execute(
                sql.SQL("SET LOCAL statement_timeout = {}").format(
                    sql.Literal(
                        f"{max(statement.statement_timeout_ms, request.statement_timeout_ms)}ms"
                    )
                )
            )
        began = time.perf_counter()
        try:
            conn.execute(statement.sql.encode())
        except (errors.LockNotAvailable, errors.DeadlockDetected):
            raise
        except psycopg.Error as exc:
            raise StatementFailed(
                safe_message(exc, where=f"Statement {index + 1} of {total} failed"),
                index,
                statement.sql,
            ) from exc
        if statement.statement_timeout_ms:
            # The longer timeout was this statement's alone: the next one gets the change's.
            conn.execute(
                sql.SQL("SET LOCAL statement_timeout = {}").format(
                    sql.Literal(f"{request.statement_timeout_ms}ms")
                )
            )
        timing = StatementTiming(index, statement.sql, (time.perf_counter() - began) * 1000)
        timings.append(timing)
        if on_progress is not None:
            on_progress(index + 1, total, timing)
    return timings


def _write_marker(conn: psycopg.Connection[Any], request: ApplyRequest, current: Work) -> int:
    if not _marker_exists(conn):  # the first apply on this target creates it
        for ddl in MARKER_DDL:
            conn.execute(ddl.encode())
    row = conn.execute(
        f"""INSERT INTO {MARKER_SCHEMA}.{MARKER_TABLE}
            (tenant_id, target_schema, version, description, applied_by, checksum, sql_script,
             metadata, proposal_id, schema_hash)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        [
            request.tenant_id,
            request.schema,
            request.version,
            request.description,
            request.applied_by,
            current.checksum,
            current.sql,
            Jsonb({**request.metadata, "snapshot_hash": current.desired_hash}),
            request.proposal_id,
            request.schema_hash,
        ],
    ).fetchone()
    assert row is not None
    return int(row[0])


def _marker_exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", [f"{MARKER_SCHEMA}.{MARKER_TABLE}"]
    ).fetchone()
    return bool(row and row[0])


def read_marker(conn: psycopg.Connection[Any], proposal_id: str) -> dict[str, Any] | None:
    """The target's commit marker for a proposal, or None (never applied, or rolled back)."""
    if not _marker_exists(conn):
        return None
    cur = conn.execute(
        f"SELECT id, version, checksum, applied_at, metadata FROM {MARKER_SCHEMA}.{MARKER_TABLE}"
        " WHERE proposal_id = %s",
        [proposal_id],
    )
    row = cur.fetchone()
    if row is None:
        return None
    return {
        "id": row[0],
        "version": row[1],
        "checksum": row[2],
        "applied_at": row[3],
        "metadata": row[4],
    }


def blockers(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> list[dict[str, Any]]:
    """Which of the change's tables other connections hold locks on, and in which mode (asked on
    a fresh connection, since this one is in an aborted transaction).

    Only our own tables and the lock modes: never who holds them, their pid, application or
    query, which belong to other connections (perhaps other tenants' on a shared database)."""
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
