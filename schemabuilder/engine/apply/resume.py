"""Continue an online change whose further first-stage batches or second stage a crash (or a
killed worker) interrupted.

The target's marker is the record: a row in ``phase1`` lists the batches and the steps, done
or pending. The pending batches run first, each in its own transaction (``batches``: one the
crash interrupted was rolled back whole, so it runs whole), then the steps. Under
the target's session advisory lock (so two workers never resume the same change, nor run
beside another apply), the pending steps run as ``stage_two`` runs them (a step the catalog
shows done is only marked; an INVALID index left by a killed build is dropped and built
again), then the full re-plan must be empty before the marker says ``success``.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import errors, sql

from schemabuilder.engine.apply.batches import Batch
from schemabuilder.engine.apply.errors import ApplyError, LockTimeout
from schemabuilder.engine.apply.execute import ApplyOutcome
from schemabuilder.engine.apply.finish import finish_online, replan
from schemabuilder.engine.apply.lock_retry import OnRetry
from schemabuilder.engine.apply.marker import PHASE1, SUCCESS, read_marker
from schemabuilder.engine.apply.progress import StageProgress
from schemabuilder.engine.apply.review import ApplyRequest
from schemabuilder.engine.apply.stage_two import StageTwoStep
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.cache import CanonicalCache
from schemabuilder.engine.safe_errors import safe_message


def resume_apply(
    conn: psycopg.Connection[Any],
    request: ApplyRequest,
    *,
    bp: NormalizedBlueprint,
    cache: CanonicalCache | None = None,
    on_stage: StageProgress | None = None,
    on_lock_retry: OnRetry | None = None,
) -> ApplyOutcome:
    """Run the rest of the second stage of ``request``'s change, then verify it (``bp`` is
    the change's blueprint, for the re-plan that must come out empty).

    A change whose marker already says ``success`` is returned as it is. Raises ApplyError
    when there is no marker (the first stage never committed: apply it again) or it says
    ``failed``; LockTimeout when another apply holds the target; StageTwoFailed or
    VerificationFailed as ``apply_plan`` does. ``on_stage`` hears of each step that ends
    (``progress``; the first stage committed in the run that died); ``on_lock_retry`` of each
    time a step gave way to another connection's lock and tried again.
    """
    started = time.perf_counter()
    conn.autocommit = True
    try:
        conn.execute(
            sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{request.lock_timeout_ms}ms"))
        )
        conn.execute("SELECT pg_advisory_lock(%s)", [request.lock_key])
    except errors.LockNotAvailable as exc:
        raise LockTimeout(safe_message(exc, where="Another change holds this target"), []) from exc
    finally:
        conn.execute("RESET lock_timeout")
    try:
        marker = read_marker(conn, request.proposal_id)
        if marker is None:
            raise ApplyError(
                "No commit marker for this change: its first stage never committed. Apply it again."
            )
        steps = [StageTwoStep.from_json(s) for s in marker["phase2_steps"]]
        batches = [Batch.from_json(b) for b in marker["phase1_batches"]]
        if marker["status"] not in (PHASE1, SUCCESS):
            raise ApplyError(
                f"The change's marker says {marker['status']}: "
                f"{marker['error_message'] or 'nothing to resume'}. Plan again."
            )
        if marker["status"] == PHASE1:
            steps, after = finish_online(
                conn,
                bp,
                request,
                marker_id=int(marker["id"]),
                steps=steps,
                desired=None,
                cache=cache,
                on_stage=on_stage,
                on_lock_retry=on_lock_retry,
                batches=batches,
            )
        else:
            after = replan(conn, bp, request, None, cache)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", [request.lock_key])
    return ApplyOutcome(
        plan=None,
        sql=str(marker["sql_script"]),
        checksum=str(marker["checksum"]),
        after=after.desired,
        timings=(),
        total_ms=(time.perf_counter() - started) * 1000,
        marker_id=int(marker["id"]),
        replanned_schema_moved=False,
        phase2_steps=tuple(steps),
        transactions=1 + len(batches),  # all done by now
    )
