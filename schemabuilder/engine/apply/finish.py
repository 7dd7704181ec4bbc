"""The end of an online change: the further batches of its first stage (``batches``), its
second stage, then the full re-plan, which must be empty before the marker says ``success``.
Shared by ``apply_plan`` (right after the first stage commits) and ``resume_apply`` (a worker
taking over after a crash)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import psycopg

from schemabuilder.engine.apply.batches import Batch, BatchProgress, run_batches
from schemabuilder.engine.apply.errors import StageTwoFailed, VerificationFailed
from schemabuilder.engine.apply.lock_retry import OnRetry
from schemabuilder.engine.apply.marker import DONE, FAILED, SUCCESS, update_steps
from schemabuilder.engine.apply.progress import StageProgress, report_failed, step_reporter
from schemabuilder.engine.apply.review import ApplyRequest
from schemabuilder.engine.apply.stage_two import StageTwoStep, run_stage_two
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.cache import CanonicalCache
from schemabuilder.engine.diff.phases import Phase
from schemabuilder.engine.plan import Plan, plan


def finish_online(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    request: ApplyRequest,
    *,
    marker_id: int,
    steps: Sequence[StageTwoStep],
    desired: Snapshot | None,
    cache: CanonicalCache | None,
    on_step: Callable[[StageTwoStep], None] | None = None,
    on_stage: StageProgress | None = None,
    batches: Sequence[Batch] = (),
    on_batch: BatchProgress | None = None,
    on_lock_retry: OnRetry | None = None,
) -> tuple[list[StageTwoStep], Plan]:
    """Run the pending ``batches``, what is left of the second stage, verify, mark
    ``success``; the steps as they ended, and the (empty) re-plan. Each step waits for its
    locks as the first stage's statements do (``request.lock_policy()``); ``on_lock_retry``
    hears of each retry. Raises StageTwoFailed or VerificationFailed (the marker says
    ``failed``), or what ``run_batches`` raises. ``desired`` is the change's desired state
    (None after a crash: a batch still to run is then verified against a fresh plan's).
    ``on_step`` hears of each step done; ``on_stage`` of each step done or failed, with its
    place in the stage (``progress``)."""
    if any(b.status != DONE for b in batches):
        if desired is None:
            desired = replan(conn, bp, request, None, cache).desired
        run_batches(
            conn,
            bp,
            request,
            marker_id=marker_id,
            batches=batches,
            desired=desired,
            on_batch=on_batch,
            on_lock_retry=on_lock_retry,
        )
    numbered = step_reporter(steps, on_stage)

    def each(step: StageTwoStep) -> None:
        if on_step is not None:
            on_step(step)
        if numbered is not None:
            numbered(step)

    try:
        done = run_stage_two(
            conn,
            schema=request.schema,
            marker_id=marker_id,
            steps=steps,
            lock_policy=request.lock_policy(),
            statement_timeout_ms=request.statement_timeout_ms,
            on_step=each,
            on_lock_retry=on_lock_retry,
        )
    except StageTwoFailed as exc:
        report_failed(steps, on_stage, index=exc.index, statement=exc.statement, error=str(exc))
        raise
    after = replan(conn, bp, request, desired, cache)
    marks = [s.to_json() for s in done]
    if not after.is_empty:
        residue = [st.sql for st in after.statements if st.phase is not Phase.SETUP]
        failed = VerificationFailed(residue, rolled_back=False)
        update_steps(conn, marker_id, marks, status=FAILED, error=str(failed))
        raise failed
    update_steps(conn, marker_id, marks, status=SUCCESS)
    return done, after


def replan(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    request: ApplyRequest,
    desired: Snapshot | None,
    cache: CanonicalCache | None,
) -> Plan:
    """A fresh plan of ``bp`` with the change's tables managed: empty when it is all done."""
    managed = set(request.managed) | {t.name for t in bp.tables}
    if desired is not None:
        managed |= set(desired.table_map)
    return plan(
        conn,
        bp,
        schema=request.schema,
        managed=managed,
        managed_types=request.managed_types | {t.name for t in bp.types},
        cache=cache,
        apply_mode=request.mode,
        lock_budget=request.budget(),
    )
