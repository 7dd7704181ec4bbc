"""The worker's side of a proposal: apply it, record what happened, never leave it stuck.

Safe to run twice for the same proposal: a run that finds the proposal already ``applying``
(its worker died) asks the target's commit marker whether the first run committed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from migrations_ui import bridge, version_rule
from migrations_ui.models import (
    AuditEvent,
    MigrationRecord,
    MigrationStatus,
    Proposal,
    ProposalStatus,
)
from schemabuilder.engine.apply import (
    ApplyOutcome,
    Deadlock,
    LockTimeout,
    PlanChanged,
    StatementFailed,
    VerificationFailed,
    WillFail,
)
from schemabuilder.engine.safe_errors import safe_message

log = logging.getLogger(__name__)

# Lock timeouts and deadlocks are retried a bounded number of times with growing pauses.
RETRY_DELAYS_S = (1.0, 3.0)
UNREACHABLE_RETRY_DELAYS_S = (1.0, 3.0)
PROGRESS_EVERY_S = 0.5


def run(proposal_id: str) -> None:
    proposal = Proposal.objects.select_related("tenant", "target", "submitted_by").get(
        pk=proposal_id
    )
    if proposal.status == ProposalStatus.QUEUED:
        if _not_the_approved_plan(proposal) or version_rule.refused_at_apply(proposal):
            return
        proposal.start_applying()
    elif proposal.status == ProposalStatus.APPLYING:
        if _resume_after_crash(proposal):
            return
    else:
        log.info("proposal %s is %s: nothing to apply", proposal.pk, proposal.status)
        return
    _apply_with_retries(proposal)


def _not_the_approved_plan(proposal: Proposal) -> bool:
    """A force_apply proposal runs only the plan its approver read: when the stored plan is
    not the one the standing approval names (or there is none), fail it with the reason
    instead of applying anything. True when it was refused."""
    if not proposal.force_apply:
        return False  # the rules settled it, no person signed a plan (see Proposal.settle)
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
    proposal.mark_failed(reason)
    return True


def _resume_after_crash(proposal: Proposal) -> bool:
    """A previous run died mid-apply. True when the commit marker shows it committed (and the
    proposal is now recorded as applied); False to apply again."""
    try:
        marker = bridge.read_marker(proposal)
    except bridge.TargetUnavailable as exc:
        proposal.mark_failed(f"Could not check whether the interrupted apply committed: {exc}")
        return True
    AuditEvent.record(
        tenant=proposal.tenant,
        proposal=proposal,
        action="proposal.resumed",
        data={"committed": marker is not None},
    )
    if marker is None:
        return False  # rolled back with the dead worker's connection: apply again
    after = bridge.snapshot_now(proposal)
    _record_success(
        proposal,
        after_json=after.to_json(),
        after_hash=after.hash,
        timings={"statements": [], "resumed": True, "marker_id": marker["id"]},
        marker_id=marker["id"],
    )
    return True


def _apply_with_retries(proposal: Proposal) -> None:
    attempt = 0
    while True:
        try:
            outcome = bridge.apply(proposal, on_progress=_progress_writer(proposal))
        except (LockTimeout, Deadlock) as exc:
            if attempt < len(RETRY_DELAYS_S):
                _note_retry(proposal, exc, attempt)
                time.sleep(RETRY_DELAYS_S[attempt])
                attempt += 1
                continue
            proposal.mark_failed(
                _lock_message(exc, attempt + 1), result={"blockers": getattr(exc, "blockers", [])}
            )
            return
        except bridge.TargetUnavailable as exc:
            if attempt < len(UNREACHABLE_RETRY_DELAYS_S):
                _note_retry(proposal, exc, attempt)
                time.sleep(UNREACHABLE_RETRY_DELAYS_S[attempt])
                attempt += 1
                continue
            proposal.mark_failed(f"The target database is unreachable: {exc}")
            return
        except PlanChanged as exc:
            new = bridge.plan_result(exc.new_plan)
            proposal.return_for_review(
                str(exc),
                plan=new.plan_json,
                sql=new.sql,
                checksum=new.checksum,
                base_hash=new.base_hash,
                dangerous=new.dangerous,
            )
            return
        except VerificationFailed as exc:
            proposal.mark_failed(str(exc), result={"residue": exc.residue})
            return
        except WillFail as exc:  # the rules never queue such a plan: refused again here
            proposal.mark_failed(str(exc))
            return
        except StatementFailed as exc:
            proposal.mark_failed(
                str(exc), result={"statement_index": exc.index, "statement": exc.statement}
            )
            return
        except Exception as exc:  # a bug or an unforeseen server error: never leave it applying
            log.exception("apply of %s failed", proposal.pk)
            proposal.mark_failed(safe_message(exc, where="Unexpected error while applying"))
            return
        _record_outcome(proposal, outcome)
        return


def _note_retry(proposal: Proposal, exc: Exception, attempt: int) -> None:
    AuditEvent.record(
        tenant=proposal.tenant,
        proposal=proposal,
        action="proposal.apply_retry",
        data={
            "attempt": attempt + 1,
            "reason": str(exc)[:500],  # our own texts: ApplyError and TargetUnavailable
            "blockers": getattr(exc, "blockers", []),
        },
    )


def _lock_message(exc: Exception, attempts: int) -> str:
    """Which of our tables were locked, and how; never by whom (see engine.safe_errors)."""
    blockers = getattr(exc, "blockers", [])
    named = (
        "; ".join(f"{b['mode']} on {b['table']}" for b in blockers)
        or "no lock on the change's tables could be seen any more"
    )
    return f"{exc} Gave up after {attempts} attempts. Locks held by other connections: {named}."


def _progress_writer(proposal: Proposal) -> Any:
    """Per-statement progress for the proposal page, written at most twice a second (an
    UPDATE per statement would slow a 1,000-statement change down for nobody)."""
    last = [0.0]

    def write(done: int, total: int, timing: Any) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            Proposal.objects.filter(pk=proposal.pk).update(
                timings={"progress": {"done": done, "total": total}}
            )

    return write


def _record_outcome(proposal: Proposal, outcome: ApplyOutcome) -> None:
    timings = {
        "total_ms": round(outcome.total_ms, 1),
        "statements": [{"index": t.index, "ms": round(t.ms, 2)} for t in outcome.timings],
        "progress": {"done": len(outcome.timings), "total": len(outcome.timings)},
        "marker_id": outcome.marker_id,
    }
    _record_success(
        proposal,
        after_json=outcome.after.to_json(),
        after_hash=outcome.after.hash,
        timings=timings,
        marker_id=outcome.marker_id,
        counts=bridge.creation_counts(outcome.plan) if outcome.plan else None,
        ran=(outcome.sql, outcome.checksum),
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
) -> None:
    """``ran``: the SQL and checksum that actually ran, when the worker planned again."""
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
        result = {"migration_log_id": record.log_id, **counts}
        proposal.mark_applied(result, timings)
