"""The flow of one blueprint: submit, plan and settle, review, queue, apply, record.

Every change of a proposal's status happens here (``transitions``), with its audit event, its
jobs and its webhook deliveries in the same transaction. Views, the API, the admin, the
commands and the background tasks call what this package exports; the models keep the state
and its guards, and import nothing of this package.
"""

from migrations_ui.workflow.baseline import Baseline, BaselineRefused, import_baseline
from migrations_ui.workflow.engine_bridge import TargetUnavailable, creation_counts_from_json
from migrations_ui.workflow.recovery import fail_interrupted_plans, recover_stuck
from migrations_ui.workflow.submission import (
    IdempotencyConflict,
    NotFound,
    Preview,
    Submission,
    preview,
    resolve_target,
    submit,
    wait_until_final,
)
from migrations_ui.workflow.transitions import (
    approve,
    cancel,
    enqueue,
    mark_applied,
    mark_failed,
    record_plan,
    reject,
    return_for_review,
    settle,
    start_applying,
)

__all__ = [
    "Baseline",
    "BaselineRefused",
    "IdempotencyConflict",
    "NotFound",
    "Preview",
    "Submission",
    "TargetUnavailable",
    "approve",
    "cancel",
    "creation_counts_from_json",
    "enqueue",
    "fail_interrupted_plans",
    "import_baseline",
    "mark_applied",
    "mark_failed",
    "preview",
    "record_plan",
    "recover_stuck",
    "reject",
    "resolve_target",
    "return_for_review",
    "settle",
    "start_applying",
    "submit",
    "wait_until_final",
]
