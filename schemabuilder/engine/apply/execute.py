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
   off, changed must equal the desired state, and the grants and enum types must be the
   blueprint's (``schema_objects``); when the statements change triggers, the tables'
   triggers must be the blueprint's too (``triggers.trigger_residue``). ``VerificationFailed``
   lists the residue and the transaction rolls back;
6. the target's own ``schemabuilder.schema_migrations`` row (``marker``), so that after a
   crash the row (or its absence) says whether the change committed.

After the commit, given a cache, the tables verified in step 5 are remembered under the
fingerprints they have now (``live_forms``): the next plan need not introspect them.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql

from schemabuilder.engine.apply.batches import batches_of, later_tables, verified_blueprint
from schemabuilder.engine.apply.errors import (
    Deadlock,
    LockTimeout,
    PlanChanged,
    StatementFailed,
    VerificationFailed,
    WillFail,
)
from schemabuilder.engine.apply.finish import finish_online
from schemabuilder.engine.apply.lock_retry import LockRetries, LockRetry, OnRetry
from schemabuilder.engine.apply.marker import write_marker
from schemabuilder.engine.apply.pauses import Laps, no_gc_pauses
from schemabuilder.engine.apply.progress import StageProgress
from schemabuilder.engine.apply.review import (
    ApplyRequest,
    Reviewed,
    Work,
    moved_reason,
    within_review,
)
from schemabuilder.engine.apply.schema_objects import grants_residue, types_residue
from schemabuilder.engine.apply.scope import (
    ScopeCheck,
    ScopeMoved,
    blockers,
    lock_tables,
    renamed_from,
    scope_of,
)
from schemabuilder.engine.apply.session_lock import SessionLock
from schemabuilder.engine.apply.stage_one import Settle, stage_one_desired
from schemabuilder.engine.apply.stage_two import StageTwoStep, steps_of
from schemabuilder.engine.apply.verification import verify
from schemabuilder.engine.catalog.fingerprints import fingerprints
from schemabuilder.engine.catalog.live_forms import live_keys, remember
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.cache import CanonicalCache
from schemabuilder.engine.hazards.remeasure import (
    certain_failures,
    data_reason,
    data_sensitive,
    raised_hazards,
)
from schemabuilder.engine.plan import Plan, plan
from schemabuilder.engine.safe_errors import safe_message
from schemabuilder.engine.triggers import TRIGGER_PHASES, trigger_residue

log = logging.getLogger(__name__)


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
    # An online change's second stage, step by step (sql, status, ms); () for one transaction.
    phase2_steps: tuple[StageTwoStep, ...] = ()
    lock_retries: tuple[LockRetry, ...] = ()  # statements that gave way to a lock, and retried
    transactions: int = 1  # of the first stage: more than one for a plan in batches


Progress = Callable[[int, int, StatementTiming], None]


def apply_plan(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    request: ApplyRequest,
    *,
    reviewed: Reviewed | None = None,
    cache: CanonicalCache | None = None,
    on_progress: Progress | None = None,
    before_commit: Callable[[psycopg.Connection[Any]], None] | None = None,
    on_lock_retry: OnRetry | None = None,
    on_stage: StageProgress | None = None,
) -> ApplyOutcome:
    """Apply ``bp`` to ``request.schema`` in one verified transaction (see the module doc).

    When ``reviewed`` is given and no table in scope moved since it was planned (same
    fingerprints), its statements run as they were reviewed, without planning again.
    Raises PlanChanged, VerificationFailed, LockTimeout, Deadlock or StatementFailed; in every
    case the transaction is rolled back and the target is as it was.
    ``before_commit`` runs last inside the transaction (tests use it to hold it open).

    A plan with second-stage statements (online) runs its first stage so, verified against
    what that stage must leave, with the marker in ``phase1`` listing the steps to do; then,
    under a session advisory lock for the target taken in that transaction and held to the
    end, the second stage step by step (``stage_two``), and the full re-plan, which must be
    empty (``finish``): only then does the marker say ``success``. A failure there raises
    StageTwoFailed or VerificationFailed with the first stage committed; ``resume_apply``
    continues a second stage a crash interrupted.

    Every lock the first stage takes is waited for briefly and retried (``lock_retry``, with
    ``request.lock_policy()``); ``on_lock_retry`` hears of each retry as it happens.
    ``on_stage`` hears of an online change's stages: the first committed, each step of the
    second (``progress``).
    """
    session = SessionLock(conn, request.lock_key)
    try:
        return _apply(
            conn,
            bp,
            request,
            reviewed,
            cache,
            on_progress,
            before_commit,
            session,
            on_lock_retry,
            on_stage,
        )
    finally:
        session.release()  # it outlives the transaction that took it: freed on every way out


def _apply(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    request: ApplyRequest,
    reviewed: Reviewed | None,
    cache: CanonicalCache | None,
    on_progress: Progress | None,
    before_commit: Callable[[psycopg.Connection[Any]], None] | None,
    session: SessionLock,
    on_lock_retry: OnRetry | None,
    on_stage: StageProgress | None = None,
) -> ApplyOutcome:
    refused = certain_failures(reviewed.statements) if reviewed is not None else []
    if refused:
        # No approval passes a certain failure: the worker would only take the locks to fail.
        raise WillFail("Not applied: " + "; ".join(refused) + ". Fix the data and plan again.")
    started = time.perf_counter()
    clock = Laps()
    conn.autocommit = True  # transactions are explicit below
    scope = scope_of(bp, request.managed)
    stage_two: list[StageTwoStep] = []
    # Connected before any lock is taken; read once the tables are locked (``_run_reviewed``).
    check = (
        ScopeCheck(conn, request.schema, scope, request.statement_timeout_ms)
        if reviewed is not None
        else None
    )
    try:
        with (
            no_gc_pauses(),
            LockRetries(conn, request.lock_policy(), on_lock_retry) as retries,
            conn.transaction(),
        ):
            conn.execute(
                sql.SQL("SET LOCAL lock_timeout = {}; SET LOCAL statement_timeout = {}").format(
                    sql.Literal(f"{request.lock_timeout_ms}ms"),
                    sql.Literal(f"{request.statement_timeout_ms}ms"),
                )
            )
            conn.execute("SELECT pg_advisory_xact_lock(%s)", [request.lock_key])
            locked = reviewed is not None and lock_tables(
                conn,
                request.schema,
                [st for st in reviewed.statements if st.stage == 1 and st.batch <= 1],
                renamed_from=renamed_from(bp),
                retries=retries,
            )
            clock.lap("lock")
            if reviewed is not None and locked and data_sensitive(reviewed.statements):
                # Nobody can write the locked tables any more: count again what the review's
                # severities were decided on (rows of a dropped table, NULLs, duplicates...).
                # Only for the first stage's statements: a second stage's VALIDATE or
                # concurrent build reads the rows itself, after the commit.
                recounted = plan(
                    conn,
                    bp,
                    schema=request.schema,
                    managed=set(request.managed),
                    managed_types=request.managed_types,
                    managed_functions=request.managed_functions,
                    cache=cache,
                    apply_mode=request.mode,
                    lock_budget=request.budget(),
                )
                clock.lap("remeasure")
                raised = raised_hazards(recounted.hazards, request.reviewed_hazards)
                if raised:
                    raise PlanChanged(recounted, data_reason(raised))
            ran = (
                _run_reviewed(conn, reviewed, request, check, on_progress, retries)
                if reviewed is not None and check is not None and locked
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
                        conn,
                        bp,
                        schema=request.schema,
                        managed=set(request.managed),
                        managed_types=request.managed_types,
                        managed_functions=request.managed_functions,
                        cache=cache,
                        apply_mode=request.mode,
                        lock_budget=request.budget(),
                    )
                    if current.checksum != request.reviewed_checksum and (
                        request.exact or not within_review(current, request)
                    ):
                        raise PlanChanged(current, moved_reason(current))
                    work = Work.of(current)
                clock.lap("plan")
                timings = _execute(conn, work, request, on_progress, retries)
                clock.lap("execute")
            stage_two = steps_of(work.statements)
            # A plan in batches: this transaction is the first; it is verified for its own
            # tables, the others are made after it commits (``apply.batches``).
            batches = batches_of(work.statements)
            desired, settle = stage_one_desired(work.desired, work.statements, work.base)
            own = bp
            if batches:
                first = set(desired.table_map) - later_tables(batches)
                desired = desired.restricted(first)
                settle = _restricted(settle, first)
                own = verified_blueprint(bp, first, last=False)
            residue, checked = verify(
                conn,
                request.schema,
                desired=desired,
                statements=[st for st in work.statements if st.batch <= 1],
                dropped=work.dropped_tables,
                scope=scope,
                before=before,
                base=work.base,
                settle=settle,
            )
            if not residue and any(st.phase in TRIGGER_PHASES for st in work.statements):
                residue = trigger_residue(conn, own, request.schema, desired)
            # The desired snapshot holds tables only: grants and enum types are verified
            # against the blueprint, as they were planned.
            residue += grants_residue(conn, own, request.schema, desired)
            residue += types_residue(conn, bp, request.schema, request.managed_types)
            clock.lap("verify")
            if residue:
                raise VerificationFailed(residue)
            if stage_two or batches:
                session.take()  # immediate: this transaction holds the same key
            marker_id = write_marker(
                conn,
                request,
                work,
                [s.to_json() for s in stage_two],
                [b.to_json() for b in batches],
            )
            clock.lap("marker")
            # The verified tables are what the next plan would introspect: keyed now, inside
            # the transaction (see live_forms), stored once it has committed.
            # (Not after a first stage: the second changes those tables again.)
            verified_keys = (
                live_keys(conn, request.schema, checked.table_map)
                if cache is not None and not stage_two and not batches
                else {}
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
    finally:
        if check is not None:
            check.close()  # never started: the tables were not locked, or a recount stopped
    if cache is not None and verified_keys:
        try:
            remember(cache, verified_keys, checked)
        except Exception:  # the change is committed: a cache that cannot store only slows plans
            log.warning("could not remember the verified tables", exc_info=True)
    if stage_two and on_stage is not None:
        ms = (time.perf_counter() - started) * 1000
        on_stage.stage_one_committed(len(timings), ms, stage_two)
    if stage_two or batches:
        stage_two, _ = finish_online(
            conn,
            bp,
            request,
            marker_id=marker_id,
            steps=stage_two,
            desired=work.desired,
            cache=cache,
            on_step=_step_progress(on_progress, len(work.statements)),
            on_stage=on_stage,
            batches=batches,
            on_lock_retry=_heard(retries.recorded, on_lock_retry),
        )
        clock.lap("stage2" if not batches else "batches")
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
        phase2_steps=tuple(stage_two),
        lock_retries=tuple(retries.recorded),
        transactions=1 + len(batches),
    )


def _restricted(settle: Settle | None, tables: set[str]) -> Settle | None:
    """``settle`` for the first of a plan's batches: what it completes, kept to the tables
    that batch makes or changes (the others are made after it commits)."""
    if settle is None:
        return None
    return lambda seen: settle(seen).restricted(tables)


def _run_reviewed(
    conn: psycopg.Connection[Any],
    reviewed: Reviewed,
    request: ApplyRequest,
    check: ScopeCheck,
    on_progress: Progress | None,
    retries: LockRetries,
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
    if not check.connected:
        # Checked in this transaction instead, before the statements: running them here
        # first would mean running every one of them twice under the locks.
        return None
    check.start()
    try:
        with conn.transaction():  # a savepoint: rolled back when the scope moved
            try:
                timings = _execute(conn, work, request, on_progress, retries)
            except StatementFailed:
                if check.result() == reviewed.fingerprints:
                    raise
                raise ScopeMoved from None  # the failure may be the move's: plan again
            if check.result() != reviewed.fingerprints:
                raise ScopeMoved
    except ScopeMoved:
        return None
    finally:
        check.result()  # the thread ends with the statements, whatever they raised
    before = check.result()
    assert before is not None
    return work, before, timings


def _step_progress(on_progress: Progress | None, total: int) -> Callable[[StageTwoStep], None]:
    def report(step: StageTwoStep) -> None:
        if on_progress is not None:
            on_progress(step.index + 1, total, StatementTiming(step.index, step.sql, step.ms or 0))

    return report


def _heard(recorded: list[LockRetry], on_lock_retry: OnRetry | None) -> OnRetry:
    """A second-stage retry: kept with the first stage's (``ApplyOutcome.lock_retries``)."""

    def hear(retry: LockRetry) -> None:
        recorded.append(retry)
        if on_lock_retry is not None:
            on_lock_retry(retry)

    return hear


def _execute(
    conn: psycopg.Connection[Any],
    current: Work,
    request: ApplyRequest,
    on_progress: Progress | None,
    retries: LockRetries,
) -> list[StatementTiming]:
    timings: list[StatementTiming] = []
    total = len(current.statements)
    for index, statement in enumerate(current.statements):
        if statement.stage != 1 or statement.batch > 1:
            continue  # after the commit (``stage_two``, ``batches``)
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
            retries.statement(statement, where=f"Statement {index + 1} of {total} failed")
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
