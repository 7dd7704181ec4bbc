"""What a person (or the rules) reviewed, and what an apply may run instead of it.

``ApplyRequest`` is what the worker knows about the reviewed change; ``Reviewed`` the reviewed
plan as stored with the proposal; ``Work`` what one apply executes and verifies against.
A fresh plan made at apply time runs only if it is the reviewed one, or narrower
(``within_review``); anything else is ``PlanChanged``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemabuilder.engine.apply.lock_retry import LockRetryPolicy
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.diff.phases import Statement
from schemabuilder.engine.hazards.remeasure import hazard_signature
from schemabuilder.engine.lock_budget import LockBudget, forced_budget
from schemabuilder.engine.plan import Plan


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
    # A person approved this very plan: a re-plan at apply time must have the reviewed
    # checksum. Without it, a re-plan that only narrowed (``within_review``) may run; with
    # it, that too is PlanChanged, since the approver signed one plan, not its subsets.
    exact: bool = False
    # Enum types an earlier version declared (see ``plan``'s ``managed_types``).
    managed_types: frozenset[str] = frozenset()
    # Functions an earlier version declared, by name (see ``plan``'s ``managed_functions``).
    managed_functions: frozenset[str] = frozenset()
    # The target's apply mode, for the plans an apply makes again ("online" or "atomic");
    # None: ``plan``'s default. The blueprint's own ``apply_mode`` wins either way.
    apply_mode: str | None = None
    # How each statement waits for its locks and retries (``lock_retry``); None: the default
    # policy with ``lock_timeout_ms`` per statement.
    lock_retry: LockRetryPolicy | None = None
    # The locks one transaction of the change may take, for the plans an apply makes again;
    # None: read from the server (``lock_budget``). Tests force small ones.
    lock_budget: int | None = None

    @property
    def mode(self) -> str:
        """The apply mode a re-plan uses."""
        return self.apply_mode or "online"

    def budget(self) -> LockBudget | None:
        """The lock budget a re-plan uses (None: the server's)."""
        return forced_budget(self.lock_budget) if self.lock_budget is not None else None

    def lock_policy(self) -> LockRetryPolicy:
        return self.lock_retry or LockRetryPolicy(lock_timeout_ms=self.lock_timeout_ms)

    @classmethod
    def reviewing(cls, p: Plan, **fields: Any) -> ApplyRequest:
        """A request to apply ``p`` as it was reviewed: the ``reviewed_*`` fields come from the
        plan, every other field from ``fields``."""
        return cls(
            reviewed_checksum=p.checksum,
            reviewed_base_hash=p.base_snapshot_hash,
            reviewed_statements=tuple(st.sql for st in p.statements),
            reviewed_hazards=plan_signature(p),
            **{"apply_mode": p.apply_mode, **fields},
        )


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
    # The plan's introspection of the tables the statements change, when nobody else can
    # have changed them since (verification then prints only what the statements wrote).
    base: Snapshot | None = None

    @classmethod
    def of(cls, p: Plan) -> Work:
        """A plan made inside the apply's transaction: the tables it changes were not locked
        before it introspected them, so verification introspects them whole."""
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
    base: Snapshot | None = None  # ``Plan.base``: the changed tables as the plan saw them

    @classmethod
    def of(cls, p: Plan, fingerprints: dict[str, str]) -> Reviewed:
        """The plan ``p``, made after taking ``fingerprints``, as reviewed."""
        return cls(
            p.statements,
            p.desired,
            p.desired.hash,
            p.dropped_tables,
            p.checksum,
            p.sql,
            fingerprints,
            p.base,
        )

    def work(self) -> Work:
        return Work(
            self.statements,
            self.desired,
            self.desired_hash,
            self.dropped_tables,
            self.checksum,
            self.sql,
            None,
            self.base,
        )


def within_review(current: Plan, request: ApplyRequest) -> bool:
    """True when every statement of the fresh plan was in the reviewed plan, and every hazard
    kind, severity and table too: the change narrowed (an earlier proposal already made part
    of it), so nothing unreviewed would run. The numbers in hazards move with every insert and
    are not compared. Anything new needs a new review."""
    reviewed_sql = set(request.reviewed_statements)
    if any(st.sql not in reviewed_sql for st in current.statements):
        return False
    return set(plan_signature(current)) <= set(request.reviewed_hazards)


def moved_reason(current: Plan) -> str:
    return (
        "The live schema changed since this plan was reviewed, and the new plan differs "
        f"({len(current.statements)} statements, checksum {current.checksum[:12]}). "
        "Review the new plan."
    )
