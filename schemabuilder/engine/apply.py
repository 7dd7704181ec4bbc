"""Apply a plan to its target: one transaction, re-checked, verified, with its commit marker.

Inside one transaction on the target:

1. ``lock_timeout`` and ``statement_timeout`` for the whole change;
2. a transaction-scoped advisory lock for the target (one change at a time per database);
3. a fresh plan against the live schema: if it holds a statement or a hazard that was not
   reviewed, stop (``PlanChanged``) so a person reviews the new plan;
4. the statements, timed one by one;
5. verification: the managed tables are introspected again and must equal the desired state
   (``VerificationFailed`` lists the residue and the transaction rolls back);
6. the target's own ``schemabuilder.schema_migrations`` row, so that after a crash the row (or
   its absence) says whether the change committed.

After the commit, given a cache, the tables verified in step 5 are remembered under the
fingerprints they have now (``live_forms``): the next plan need not introspect them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg.types.json import Jsonb

from schemabuilder.engine.cache import CanonicalCache
from schemabuilder.engine.catalog import catalog_query, introspect
from schemabuilder.engine.live_forms import live_keys, remember
from schemabuilder.engine.normalize import NormalizedBlueprint
from schemabuilder.engine.phases import Statement
from schemabuilder.engine.plan import Plan, plan
from schemabuilder.engine.snapshot import Snapshot, table_to_json

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


def hazard_signature(hazard: Any) -> str:
    """What must stay the same for a re-plan to count as "the same risks" (not the numbers,
    which move with every insert)."""
    return f"{hazard.kind}|{hazard.severity}|{hazard.table}"


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

    @classmethod
    def of(cls, p: Plan) -> Work:
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

    def work(self) -> Work:
        return Work(
            self.statements,
            self.desired,
            self.desired_hash,
            self.dropped_tables,
            self.checksum,
            self.sql,
            None,
        )


def fingerprints(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str]
) -> dict[str, str]:
    """One md5 per existing table among ``tables``: equal fingerprints, unchanged table (see
    sql/fingerprint.sql)."""
    rows = conn.execute(
        catalog_query("fingerprint"), {"schema": schema, "tables": sorted(tables)}
    ).fetchall()
    return {str(name): str(fp) for name, fp in rows}


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
    started = time.perf_counter()
    clock = _Laps()
    conn.autocommit = True  # transactions are explicit below
    scope = scope_of(bp, request.managed)
    try:
        with conn.transaction():
            conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}").format(
                    sql.Literal(f"{request.lock_timeout_ms}ms"),
                    sql.Literal(f"{request.statement_timeout_ms}ms"),
                )
            )
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [request.lock_key])
            clock.lap("lock")
            before = fingerprints(conn, request.schema, scope)
            clock.lap("fingerprint")
            moved = reviewed is None or before != reviewed.fingerprints
            if reviewed is not None and not moved:
                work = reviewed.work()
            else:
                current = plan(
                    conn, bp, schema=request.schema, managed=set(request.managed), cache=cache
                )
                if current.checksum != request.reviewed_checksum and not within_review(
                    current, request
                ):
                    raise PlanChanged(current, _moved_reason(current))
                work = Work.of(current)
            clock.lap("plan")
            timings = _execute(conn, work, request, on_progress)
            clock.lap("execute")
            residue, checked = verify(conn, request.schema, work, scope, before)
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
            if before_commit is not None:
                before_commit(conn)
    except errors.LockNotAvailable as exc:
        raise LockTimeout(
            f"Timed out after {request.lock_timeout_ms} ms waiting for a lock: {_first_line(exc)}",
            blockers(conn, request.schema, scope),
        ) from exc
    except errors.DeadlockDetected as exc:
        raise Deadlock(_first_line(exc)) from exc
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


class _Laps:
    """Milliseconds per step of one apply."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self._last) * 1000, 1)
        self._last = now


def verify(
    conn: psycopg.Connection[Any],
    schema: str,
    work: Work,
    scope: set[str],
    before: dict[str, str],
) -> tuple[list[str], Snapshot]:
    """The residue after the statements, and the tables introspected to find it: every
    table they touched (and any table whose fingerprint moved anyway) is introspected and
    compared with the desired state; dropped tables must be gone. Untouched tables with
    unchanged fingerprints already matched."""
    desired_names = set(work.desired.table_map)
    after = fingerprints(conn, schema, scope | desired_names)
    moved = {t for t in after if after.get(t) != before.get(t)}
    touched = {st.table for st in work.statements if st.table}
    check = (touched | moved | (desired_names - set(before))) & desired_names
    residue: list[str] = []
    actual = Snapshot(schema=schema)
    if check:
        actual = introspect(conn, schema, tables=check, list_all=False)
        residue += residue_of(actual, work.desired.restricted(check), work.dropped_tables)
    for name in sorted(set(work.dropped_tables) & set(after)):
        if name not in desired_names:
            residue.append(f"table {name} should have been dropped")
    for name in sorted((moved - desired_names) - set(work.dropped_tables)):
        if name in after:
            residue.append(f"table {name} changed, but the plan did not change it")
    return residue, actual


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
                f"Statement {index + 1} of {total} failed: {_first_line(exc)}", index, statement.sql
            ) from exc
        timing = StatementTiming(index, statement.sql, (time.perf_counter() - began) * 1000)
        timings.append(timing)
        if on_progress is not None:
            on_progress(index + 1, total, timing)
    return timings


def residue_of(after: Snapshot, desired_snapshot: Snapshot, dropped: Collection[str]) -> list[str]:
    """What differs between the schema after the statements and the desired state, named
    down to the column, constraint, index or policy."""
    residue: list[str] = []
    desired = desired_snapshot.table_map
    actual = after.table_map
    for name in sorted(desired):
        if name not in actual:
            residue.append(f"table {name} is missing")
            continue
        if actual[name] == desired[name]:
            continue  # the common case, and far cheaper than the member-by-member walk below
        want = table_to_json(desired[name], comparable_only=True)
        got = table_to_json(actual[name], comparable_only=True)
        assert isinstance(want, dict) and isinstance(got, dict)
        for key in sorted(set(want) | set(got)):
            w, g = want.get(key), got.get(key)
            if w == g:
                continue
            if isinstance(w, list) and isinstance(g, list):
                residue.extend(_member_residue(name, key, w, g))
            else:
                residue.append(f"table {name}: {key} is {g!r}, expected {w!r}")
    for name in sorted(set(dropped) & set(after.table_map)):
        residue.append(f"table {name} should have been dropped")
    return residue


def _member_residue(table: str, kind: str, want: list[Any], got: list[Any]) -> list[str]:
    """Columns, constraints, indexes or policies compared by name."""
    noun = kind.rstrip("s") if kind != "indexes" else "index"
    w = {str(m.get("name")): m for m in want if isinstance(m, dict)}
    g = {str(m.get("name")): m for m in got if isinstance(m, dict)}
    out = [f"{noun} {table}.{n} is unexpected" for n in sorted(set(g) - set(w))]
    out += [f"{noun} {table}.{n} is missing" for n in sorted(set(w) - set(g))]
    for n in sorted(set(w) & set(g)):
        if w[n] != g[n]:
            fields = sorted(f for f in set(w[n]) | set(g[n]) if w[n].get(f) != g[n].get(f))
            detail = ", ".join(f"{f} {g[n].get(f)!r} (expected {w[n].get(f)!r})" for f in fields)
            out.append(f"{noun} {table}.{n} differs: {_clip(detail)}")
    return out


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
    """Sessions that hold locks on the change's tables (asked on a fresh connection, since
    this one is in an aborted transaction)."""
    try:
        with psycopg.connect(
            conn.info.dsn, password=conn.info.password or None, connect_timeout=5, autocommit=True
        ) as probe:
            rows = probe.execute(
                """SELECT DISTINCT a.pid, a.usename, a.application_name, a.state,
                          left(a.query, 200), c.relname, l.mode,
                          extract(epoch FROM now() - a.xact_start)::int
                   FROM pg_locks l
                   JOIN pg_class c ON c.oid = l.relation
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_stat_activity a ON a.pid = l.pid
                   WHERE l.granted AND n.nspname = %s AND c.relname = ANY(%s)
                     AND a.pid <> pg_backend_pid()
                   ORDER BY 1""",
                [schema, sorted(tables)],
            ).fetchall()
    except psycopg.Error:
        return []
    return [
        {
            "pid": r[0],
            "user": r[1],
            "application": r[2],
            "state": r[3],
            "query": r[4],
            "table": r[5],
            "mode": r[6],
            "transaction_seconds": r[7],
        }
        for r in rows
    ]


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    return primary or str(exc).strip().splitlines()[0]
