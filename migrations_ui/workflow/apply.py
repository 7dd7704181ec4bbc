"""The worker's side of a proposal: apply it, record what happened, never leave it stuck.

Safe to run twice for the same proposal: a run that finds the proposal already ``applying``
(its worker died) asks the target's commit marker whether the first run committed. No
verdict is given while that is unknown: when the marker cannot be read, the job fails and the
sweeper (``workflow.recovery``) asks again later.

Each statement waits briefly for its locks and tries again a few times (the engine's lock
retries, recorded in the timeline as they happen). A lock timeout or a deadlock on its last
try, or an unreachable target, rolls the apply back and puts the proposal back in the queue;
the job raises ``ApplyRetry`` and procrastinate's retry strategy (see
``tasks.apply_proposal``) runs it again after ``RETRY_WAIT_S``; the worker never sleeps
inside a job (between a statement's own tries it does, for at most a few seconds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from migrations_ui.models import (
    MigrationRecord,
    MigrationStatus,
    Proposal,
    ProposalStatus,
)
from migrations_ui.workflow import engine_bridge as bridge
from migrations_ui.workflow import events, jobs, transitions, version_rule
from migrations_ui.workflow.apply_progress import ApplyProgress, step_json
from schemabuilder.engine import (
    ApplyError,
    ApplyOutcome,
    Deadlock,
    LockRetry,
    LockTimeout,
    PlanChanged,
    StageTwoFailed,
    StageTwoStep,
    StatementFailed,
    VerificationFailed,
    WillFail,
    safe_message,
)

log = logging.getLogger(__name__)

# Lock timeouts, deadlocks and an unreachable target are retried this many times, the n-th
# retry (0, 1, ...) after RETRY_WAIT_S + n * RETRY_LINEAR_WAIT_S seconds: 1 s, then 3 s.
APPLY_RETRIES = 2
RETRY_WAIT_S = 1
RETRY_LINEAR_WAIT_S = 2


class ApplyRetry(Exception):
    """The apply rolled back for a reason that may pass; the job is to run again later."""


class MarkerUnknown(Exception):
    """Whether the target committed cannot be told now (it cannot be reached): no verdict."""


def run(proposal_id: str, *, attempt: int = 0) -> None:
    """Apply the proposal; ``attempt`` counts the job's earlier runs (0 the first time)."""
    proposal = Proposal.objects.select_related("tenant", "target", "submitted_by").get(
        pk=proposal_id
    )
    if proposal.status == ProposalStatus.QUEUED:
        if _not_the_approved_plan(proposal) or version_rule.refused_at_apply(proposal):
            return
        transitions.start_applying(proposal)
    elif proposal.status == ProposalStatus.APPLYING:
        if resume_after_crash(proposal):
            return
    else:
        log.info("proposal %s is %s: nothing to apply", proposal.pk, proposal.status)
        return
    _apply_once(proposal, attempt)


def _not_the_approved_plan(proposal: Proposal) -> bool:
    """A force_apply proposal runs only the plan its approver read: when the stored plan is
    not the one the standing approval names (or there is none), fail it with the reason
    instead of applying anything. True when it was refused."""
    if not proposal.force_apply:
        return False  # the rules settled it, no person signed a plan (see transitions.settle)
    approved = proposal.approved_checksum()
    if approved == proposal.plan_checksum:
        return False
    reason = (
        "Refused: the plan to apply (checksum "
        f"{proposal.plan_checksum[:12]}) is not the plan that was approved "
        f"({approved[:12] if approved else 'no standing approval'}). Nothing was changed; "
        "submit it again and have the new plan approved."
    )
    log.warning("proposal %s: %s", proposal.pk, reason)
    transitions.mark_failed(proposal, reason)
    return True


def _read_marker(proposal: Proposal) -> dict[str, Any] | None:
    try:
        return bridge.read_marker(proposal)
    except bridge.TargetUnavailable as exc:
        raise MarkerUnknown(
            f"Could not check whether the apply of {proposal.pk} committed: {exc}"
        ) from exc


def resume_after_crash(proposal: Proposal) -> bool:
    """A previous run died mid-apply. True when the commit marker shows it committed (and the
    proposal is now recorded as applied); False to apply again. ``MarkerUnknown`` when the
    marker cannot be read: nothing is decided."""
    marker = _read_marker(proposal)
    events.record(
        tenant=proposal.tenant,
        proposal=proposal,
        action="proposal.resumed",
        data={"committed": marker is not None},
    )
    if marker is None:
        return False  # rolled back with the dead worker's connection: apply again
    if marker.get("status") == "phase1":
        # An online change whose worker died in its second stage: finish it from the marker
        # before recording it (the first stage alone is not the reviewed schema).
        progress = ApplyProgress(proposal).resumed()
        try:
            outcome = bridge.resume(
                proposal, on_stage=progress, on_lock_retry=_lock_retry_recorder(proposal)
            )
        except ApplyError as exc:  # the marker exists: the first stage committed
            _stopped_after_stage_one(proposal, exc, progress)
            return True
        _record_outcome(proposal, outcome, progress)
        return True
    if marker.get("status") == "failed":
        # Written by the first stage's transaction: that stage committed, the second failed.
        _mark_partial(proposal, str(marker.get("error_message") or "failed"))
        return True
    _record_committed(proposal, marker)
    return True


def _record_committed(proposal: Proposal, marker: dict[str, Any]) -> None:
    after = bridge.snapshot_now(proposal)
    steps = [StageTwoStep.from_json(s) for s in marker.get("phase2_steps") or []]
    # An online change: the stages as the dead run recorded them, ended as the marker says.
    stages = ApplyProgress(proposal).resumed().final_timings(steps=steps) if steps else {}
    _record_success(
        proposal,
        after_json=after.to_json(),
        after_hash=after.hash,
        timings={"statements": [], "resumed": True, "marker_id": marker["id"], **stages},
        marker_id=marker["id"],
        phase2_steps=[step_json(s) for s in steps],
    )


def settle_interrupted(proposal: Proposal) -> None:
    """The sweeper's verdict on a proposal left applying with no live job: the marker says
    committed → applied; not committed → queued for another run (which applies it)."""
    if not resume_after_crash(proposal):
        with transaction.atomic():
            jobs.defer_apply(proposal)


def _apply_once(proposal: Proposal, attempt: int) -> None:
    progress = ApplyProgress(proposal)
    try:
        outcome = bridge.apply(
            proposal,
            on_progress=progress,
            on_lock_retry=_lock_retry_recorder(proposal),
            on_stage=progress,
        )
    except (LockTimeout, Deadlock) as exc:
        if attempt < APPLY_RETRIES:
            raise _retry_later(proposal, exc, attempt) from exc
        transitions.mark_failed(
            proposal,
            _lock_message(exc, attempt + 1),
            result={
                "blockers": getattr(exc, "blockers", []),
                "lock_retries": [r.to_json() for r in getattr(exc, "retries", ())],
            },
        )
        return
    except bridge.TargetUnavailable as exc:
        if attempt < APPLY_RETRIES:
            raise _retry_later(proposal, exc, attempt) from exc
        transitions.mark_failed(proposal, f"The target database is unreachable: {exc}")
        return
    except PlanChanged as exc:
        new = bridge.plan_result(exc.new_plan)
        transitions.return_for_review(
            proposal,
            str(exc),
            plan=new.plan_json,
            sql=new.sql,
            checksum=new.checksum,
            base_hash=new.base_hash,
            dangerous=new.dangerous,
        )
        return
    except VerificationFailed as exc:
        if exc.rolled_back:
            transitions.mark_failed(proposal, str(exc), result={"residue": exc.residue})
        else:  # after an online change's second stage: its first stays committed
            _stopped_after_stage_one(proposal, exc, progress)
        return
    except WillFail as exc:  # the rules never queue such a plan: refused again here
        transitions.mark_failed(proposal, str(exc))
        return
    except StageTwoFailed as exc:
        _stopped_after_stage_one(proposal, exc, progress)
        return
    except StatementFailed as exc:
        transitions.mark_failed(
            proposal, str(exc), result={"statement_index": exc.index, "statement": exc.statement}
        )
        return
    except Exception as exc:  # a bug or an unforeseen server error: it may have committed
        log.exception("apply of %s failed", proposal.pk)
        marker = _read_marker(proposal)
        if marker is not None and marker.get("status") == "failed":
            _mark_partial(proposal, str(marker.get("error_message") or "failed"))
            return
        if marker is not None and marker.get("status") == "phase1":
            # The first stage committed and the second stopped: the sweeper finds the
            # proposal applying with no job and finishes it from the marker.
            return
        if marker is not None:
            _record_committed(proposal, marker)
            return
        transitions.mark_failed(
            proposal, safe_message(exc, where="Unexpected error while applying")
        )
        return
    # The target committed. Should recording it fail (the app database), the job fails with
    # the proposal applying, and the sweeper records it from the marker.
    _record_outcome(proposal, outcome, progress)


def _stopped_after_stage_one(proposal: Proposal, exc: ApplyError, progress: ApplyProgress) -> None:
    """An online change stopped after its first stage committed (a second-stage step, a
    further batch, the final verification, or a resumed run that could not go on): recorded
    ``partial``, with the reason, what the error names, and the stages as far as they went."""
    result: dict[str, Any] | None = None
    message = str(exc)
    if isinstance(exc, StageTwoFailed):
        message, result = _stage_two_message(exc), _stage_two_result(exc)
    elif isinstance(exc, VerificationFailed):
        result = {"residue": exc.residue}
    _mark_partial(proposal, message, result=result, timings=progress.final_timings())


def _stage_two_message(exc: StageTwoFailed) -> str:
    return (
        f"{exc}. The first stage stays committed and the target's marker names the step; "
        "plan again: the next plan makes what is missing."
    )


def _stage_two_result(exc: StageTwoFailed) -> dict[str, Any]:
    result: dict[str, Any] = {
        "stage": 2,
        "statement_index": exc.index,
        "statement": exc.statement,
    }
    if exc.retries:  # it gave way to a lock on every try: who held it
        result["blockers"] = exc.blockers
        result["lock_retries"] = [r.to_json() for r in exc.retries]
    return result


def _mark_partial(
    proposal: Proposal,
    error: str,
    *,
    result: dict[str, Any] | None = None,
    timings: dict[str, Any] | None = None,
) -> None:
    """Failed after the first stage of an online change committed: the migration log says
    ``partial``, with the live snapshot of the blueprint's tables and the blueprint's tables
    managed, so that the next plan knows what that stage created is the tool's (its tables,
    types and functions: ``MigrationRecord.managed_for`` and the others) and makes only what
    is missing. Without the target, the record has no snapshot; it still says what is
    managed."""
    partial: dict[str, Any] = {
        "managed_tables": sorted(t["name"] for t in proposal.blueprint.get("tables", [])),
        "metadata": {"stage_one_committed": True},
    }
    try:
        after = bridge.snapshot_now(proposal)
    except bridge.TargetUnavailable:
        log.warning("proposal %s: no snapshot for its partial record", proposal.pk)
    else:
        partial.update(snapshot=after.to_json(), snapshot_hash=after.hash)
    transitions.mark_failed(proposal, error, result=result, timings=timings, partial=partial)


def _retry_later(proposal: Proposal, exc: Exception, attempt: int) -> ApplyRetry:
    """Back in the queue, with the reason in the audit trail; the job raises what this
    returns."""
    transitions.retry_later(
        proposal,
        attempt=attempt + 1,
        reason=str(exc),  # our own texts: ApplyError and TargetUnavailable
        blockers=getattr(exc, "blockers", []),
    )
    return ApplyRetry(f"apply of {proposal.pk}, attempt {attempt + 1}: {exc}")


def _lock_retry_recorder(proposal: Proposal) -> Callable[[LockRetry], None]:
    """Each time a statement gives way to another connection's lock and tries again, the
    proposal's timeline says so, and who blocked it (pid, lock mode, the age of its
    transaction: never its query), while the apply goes on."""

    def record(retry: LockRetry) -> None:
        events.record(
            tenant=proposal.tenant,
            proposal=proposal,
            action="proposal.lock_retry",
            data={"reason": retry.describe()[:500], **retry.to_json()},
        )

    return record


def _lock_message(exc: Exception, attempts: int) -> str:
    """The engine's message, which names who blocked a statement when it saw them (see
    engine.apply.lock_retry); for a lock met elsewhere, which of our tables were locked and
    how, never by whom (see engine.safe_errors)."""
    if getattr(exc, "retries", ()):
        return f"{exc} Gave up after {attempts} attempts of the apply."
    blockers = getattr(exc, "blockers", [])
    named = (
        "; ".join(f"{b['mode']} on {b['table']}" for b in blockers)
        or "no lock on the change's tables could be seen any more"
    )
    return f"{exc} Gave up after {attempts} attempts. Locks held by other connections: {named}."


def _record_outcome(proposal: Proposal, outcome: ApplyOutcome, progress: ApplyProgress) -> None:
    """Both stages of an online change go into ``timings`` (``ApplyProgress.final_timings``)
    and its second stage's steps into the result, also for one finished by a resumed run."""
    timings = {
        "total_ms": round(outcome.total_ms, 1),
        "statements": [{"index": t.index, "ms": round(t.ms, 2)} for t in outcome.timings],
        "progress": {"done": len(outcome.timings), "total": len(outcome.timings)},
        "marker_id": outcome.marker_id,
        "lock_retries": len(outcome.lock_retries),
        "phases_ms": outcome.phases_ms,
        **progress.final_timings(outcome),
    }
    _record_success(
        proposal,
        after_json=outcome.after.to_json(),
        after_hash=outcome.after.hash,
        timings=timings,
        marker_id=outcome.marker_id,
        counts=bridge.creation_counts(outcome.plan) if outcome.plan else None,
        ran=(outcome.sql, outcome.checksum),
        phase2_steps=[step_json(s) for s in outcome.phase2_steps],
    )


def _record_success(
    proposal: Proposal,
    *,
    after_json: Any,
    after_hash: str,
    timings: dict[str, Any],
    marker_id: int,
    counts: dict[str, int] | None = None,
    ran: tuple[str, str] | None = None,
    phase2_steps: list[dict[str, Any]] | None = None,
) -> None:
    """``ran``: the SQL and checksum that actually ran, when the worker planned again;
    ``phase2_steps``: an online change's second stage, step by step."""
    counts = counts or bridge.creation_counts_from_json(proposal.plan or {})
    ran_fields = {"sql_script": ran[0], "checksum": ran[1]} if ran else {}
    managed = sorted(t["name"] for t in proposal.blueprint.get("tables", []))
    with transaction.atomic():
        record = MigrationRecord.for_proposal(
            proposal,
            MigrationStatus.SUCCESS,
            snapshot=after_json,
            snapshot_hash=after_hash,
            managed_tables=managed,
            **ran_fields,
            metadata={
                **counts,
                "latency_ms": timings.get("total_ms"),
                "marker_id": marker_id,
                "applied_at": timezone.now().isoformat(),
            },
        )
        result = {
            "migration_log_id": record.log_id,
            **counts,
            "phase2_steps": phase2_steps or [],
        }
        transitions.mark_applied(proposal, result, timings)
