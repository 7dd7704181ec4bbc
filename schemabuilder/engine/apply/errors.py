"""Why an apply stopped: every one of these means nothing of the change remains on the target,
except ``StageTwoFailed`` and a ``VerificationFailed`` after an online change's second stage,
where its committed first stage stays (the marker says so)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemabuilder.engine.apply.lock_retry import LockRetry
    from schemabuilder.engine.plan import Plan


class ApplyError(Exception):
    """The change was not applied; nothing of it remains on the target."""


class PlanChanged(ApplyError):
    """The live schema moved since the plan was reviewed, and the plan is now different."""

    def __init__(self, new_plan: Plan, reason: str) -> None:
        super().__init__(reason)
        self.new_plan = new_plan


class VerificationFailed(ApplyError):
    """After the statements, the schema is not the desired one (the residue is listed)."""

    def __init__(self, residue: list[str], *, rolled_back: bool = True) -> None:
        what = (
            "the change was rolled back"
            if rolled_back
            else "after the second stage (the first stage stays committed)"
        )
        super().__init__(f"Verification failed, {what}. Left over: " + "; ".join(residue))
        self.residue = residue
        self.rolled_back = rolled_back


class LockTimeout(ApplyError):
    """A statement waited longer than lock_timeout for a lock another session holds.

    ``blockers``: who held it (``lock_watch.Blocker.to_json``), or, when the lock was met
    outside the statements, which of our tables were locked and how; ``retries``: every
    attempt of the statement that gave way (``lock_retry.LockRetry``), the last one included.
    """

    def __init__(
        self,
        message: str,
        blockers: list[dict[str, Any]],
        *,
        retries: Sequence[LockRetry] = (),
    ) -> None:
        super().__init__(message)
        self.blockers = blockers
        self.retries = tuple(retries)


class Deadlock(ApplyError):
    """PostgreSQL broke a deadlock by aborting this transaction (safe to retry)."""

    def __init__(
        self,
        message: str,
        *,
        blockers: list[dict[str, Any]] | None = None,
        retries: Sequence[LockRetry] = (),
    ) -> None:
        super().__init__(message)
        self.blockers = blockers or []
        self.retries = tuple(retries)


class WillFail(ApplyError):
    """The plan says a statement fails on the live data (``WILL_FAIL``): never run."""


class StatementFailed(ApplyError):
    """A statement failed for a reason no retry will fix (the server's message is kept)."""

    def __init__(self, message: str, index: int, statement: str) -> None:
        super().__init__(message)
        self.index = index
        self.statement = statement


class StageTwoFailed(StatementFailed):
    """A step of an online change's second stage failed: the first stage stays committed, a
    concurrent build's INVALID index is dropped, and the marker says ``failed`` with the step.
    The next plan against the target makes what is missing.

    A step that gave way to another connection's lock on every try has the ``blockers`` of
    its last wait (``lock_watch.Blocker.to_json``) and its ``retries``, the last included."""

    def __init__(
        self,
        message: str,
        index: int,
        statement: str,
        *,
        blockers: list[dict[str, Any]] | None = None,
        retries: Sequence[LockRetry] = (),
    ) -> None:
        super().__init__(message, index, statement)
        self.blockers = blockers or []
        self.retries = tuple(retries)


class BatchFailed(StageTwoFailed):
    """A further batch of a first stage split in batches failed (a statement, or a lock not
    granted after its retries): it is rolled back whole, the batches before it stay
    committed, and the marker says ``failed`` with the batch. As after a failed second-stage
    step, the next plan against the target makes what is missing."""
