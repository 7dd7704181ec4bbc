"""The verified apply: one transaction, re-checked, verified, with its commit marker.

``execute`` runs it (``apply_plan``; that module lists the steps); ``review`` is what was
reviewed and what may run instead; ``scope`` the tables in play and their locks;
``verification`` whether the schema is now the desired one; ``marker`` the target's commit row;
``errors`` why an apply stopped; ``lock_retry`` each statement's short lock timeout and its
bounded retries, ``lock_watch`` who blocked it.
"""

from schemabuilder.engine.apply.errors import (
    ApplyError,
    Deadlock,
    LockTimeout,
    PlanChanged,
    StatementFailed,
    VerificationFailed,
    WillFail,
)
from schemabuilder.engine.apply.execute import ApplyOutcome, StatementTiming, apply_plan
from schemabuilder.engine.apply.lock_retry import LockRetry, LockRetryPolicy, run_with_lock_retries
from schemabuilder.engine.apply.marker import read_marker
from schemabuilder.engine.apply.review import ApplyRequest, Reviewed, plan_signature, within_review
from schemabuilder.engine.apply.scope import lock_tables, scope_of
from schemabuilder.engine.catalog.fingerprints import fingerprints

__all__ = [
    "ApplyError",
    "ApplyOutcome",
    "ApplyRequest",
    "Deadlock",
    "LockRetry",
    "LockRetryPolicy",
    "LockTimeout",
    "PlanChanged",
    "Reviewed",
    "StatementFailed",
    "StatementTiming",
    "VerificationFailed",
    "WillFail",
    "apply_plan",
    "fingerprints",
    "lock_tables",
    "plan_signature",
    "read_marker",
    "run_with_lock_retries",
    "scope_of",
    "within_review",
]
