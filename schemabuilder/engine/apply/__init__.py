"""The verified apply: one transaction, re-checked, verified, with its commit marker.

``execute`` runs it (``apply_plan``; that module lists the steps); ``review`` is what was
reviewed and what may run instead; ``scope`` the tables in play and their locks;
``verification`` whether the schema is now the desired one; ``marker`` the target's commit row;
``errors`` why an apply stopped; ``runner`` the one place a statement reaches the server;
``lock_retry`` each statement's short lock timeout and its bounded retries, ``lock_watch`` who
blocked it.

An online plan (``diff.online``) is applied in two stages: ``stage_one`` is what its
transaction must leave, ``stage_two`` runs the slow steps after the commit, ``finish`` verifies
the end, and ``resume`` continues a second stage a crash interrupted (``resume_apply``);
``progress`` is what the caller hears of the two stages as they go. A first stage too large
for the server's lock table runs in batches (``engine.batches``): the first as above, the
others after it (``batches``), each its own verified, marked transaction.
"""

from schemabuilder.engine.apply.errors import (
    ApplyError,
    BatchFailed,
    Deadlock,
    LockTimeout,
    PlanChanged,
    StageTwoFailed,
    StatementFailed,
    VerificationFailed,
    WillFail,
)
from schemabuilder.engine.apply.execute import ApplyOutcome, StatementTiming, apply_plan
from schemabuilder.engine.apply.lock_retry import LockRetry, LockRetryPolicy, run_with_lock_retries
from schemabuilder.engine.apply.marker import read_marker
from schemabuilder.engine.apply.progress import StageProgress
from schemabuilder.engine.apply.resume import resume_apply
from schemabuilder.engine.apply.review import ApplyRequest, Reviewed, plan_signature, within_review
from schemabuilder.engine.apply.scope import lock_tables, scope_of
from schemabuilder.engine.apply.stage_two import StageTwoStep
from schemabuilder.engine.catalog.fingerprints import fingerprints

__all__ = [
    "ApplyError",
    "ApplyOutcome",
    "ApplyRequest",
    "BatchFailed",
    "Deadlock",
    "LockRetry",
    "LockRetryPolicy",
    "LockTimeout",
    "PlanChanged",
    "Reviewed",
    "StageProgress",
    "StageTwoFailed",
    "StageTwoStep",
    "StatementFailed",
    "StatementTiming",
    "VerificationFailed",
    "WillFail",
    "apply_plan",
    "fingerprints",
    "lock_tables",
    "plan_signature",
    "read_marker",
    "resume_apply",
    "run_with_lock_retries",
    "scope_of",
    "within_review",
]
