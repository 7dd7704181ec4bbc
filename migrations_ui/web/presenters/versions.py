"""A target's history: its versions (the migration log), the schema at each, and the change
between any two, computed by the engine's own diff so it reads exactly like a proposal's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

from migrations_ui.models import MigrationRecord, MigrationStatus, Target
from schemabuilder.engine import (
    BlueprintInvalid,
    CastCheck,
    CastOutcome,
    Snapshot,
    TableStats,
    diff,
)

JSON = dict[str, Any]


class _NoLiveData:
    """Two stored snapshots have no live rows behind them: every data question is answered
    "not measured" (None), and every cast is assumed possible, so the diff describes the
    schema change only and never invents a problem with data it cannot see."""

    def table_stats(self, table: str) -> TableStats | None:
        return None

    def null_count(self, table: str, column: str) -> int | None:
        return None

    def non_null_count(self, table: str, column: str) -> int | None:
        return None

    def duplicate_rows(self, table: str, keys: Sequence[str], predicate: str | None) -> None:
        return None

    def fk_violations(self, *args: Any) -> int | None:
        return None

    def check_violations(self, table: str, expression: str) -> int | None:
        return None

    def cast_check(self, old_type: str, new_type: str) -> CastCheck:
        return CastCheck(possible=True, error=None, binary=False, implicit=False)

    def cast_failures(
        self, table: str, column: str, old_type: str, new_type: str
    ) -> CastOutcome | None:
        return None

    def default_rewrites(self, type_: str, default: str) -> bool:
        return False

    def lock_capacity(self) -> int | None:
        return None

    def dependents(self, table: str, column: str | None) -> list[str]:
        return []

    def __getattr__(self, name: str) -> Any:
        # A question the engine learns to ask later: "not measured" as well, so history
        # pages keep working while the engine grows.
        return lambda *args, **kwargs: None


# The columns of a version that grow with the schema: a list of versions never reads them.
LARGE_FIELDS = ("snapshot", "sql_script", "metadata", "managed_tables")


def history(target: Target) -> QuerySet[MigrationRecord]:
    """Every version of a target, newest first (applied, failed, blocked, noop), as a list
    shows them: without the snapshot and SQL (``has_snapshot`` says whether there is one)."""
    return (
        MigrationRecord.objects.filter(target=target)
        .defer(*LARGE_FIELDS)
        .annotate(
            has_snapshot=ExpressionWrapper(Q(snapshot__isnull=False), BooleanField()),
            # A live schema brought in (workflow.baseline): recorded, never applied.
            is_baseline=ExpressionWrapper(Q(metadata__baseline=True), BooleanField()),
        )
    )


def _with_schema(records: QuerySet[MigrationRecord]) -> QuerySet[MigrationRecord]:
    return records.filter(status=MigrationStatus.SUCCESS, snapshot__isnull=False)


def with_schema(target: Target) -> QuerySet[MigrationRecord]:
    """The versions that changed the schema and carry a snapshot of it, as a list shows them
    (without the snapshot: read one with ``get_with_schema``)."""
    return _with_schema(history(target))


def get_with_schema(target: Target, pk: int) -> MigrationRecord:
    """One version that carries a snapshot, snapshot included (DoesNotExist otherwise)."""
    return _with_schema(MigrationRecord.objects.filter(target=target)).get(pk=pk)


def current(target: Target) -> MigrationRecord | None:
    """The version the target is at, with its snapshot."""
    return (
        _with_schema(MigrationRecord.objects.filter(target=target)).order_by("-created_at").first()
    )


@dataclass(frozen=True)
class Comparison:
    changes: list[JSON]
    desired: JSON
    statements: int
    error: str = ""


def compare(before: MigrationRecord | None, after: MigrationRecord) -> Comparison:
    """The change from ``before`` (None: an empty schema) to ``after``, as plan-style JSON."""
    new = Snapshot.from_json(after.snapshot or {})
    old = (
        Snapshot.from_json(before.snapshot or {})
        if before is not None
        else Snapshot(schema=new.schema)
    )
    desired = after.snapshot or {}
    try:
        result = diff(old, new, schema=new.schema or "public", facts=_NoLiveData())
    except BlueprintInvalid as exc:  # not expected from two real snapshots; say so, don't crash
        return Comparison([], desired, 0, error=str(exc))
    return Comparison(
        changes=[c.to_json() for c in result.changes],
        desired=desired,
        statements=sum(1 for s in result.statements if str(s.phase) != "setup"),
    )
