"""What a plan changes, per table, with before and after: the reviewer's structured view.

Also the small shared context that the per-kind diff modules write into.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from schemabuilder.engine.catalog.snapshot import object_to_json
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import qualified
from schemabuilder.engine.diff.phases import LockMode, Phase, Statement
from schemabuilder.engine.diff.renames import Renames
from schemabuilder.engine.hazards import Hazard
from schemabuilder.engine.hazards.facts import LiveFacts, TableStats

JSON = dict[str, Any]

# Statements that scan or rewrite a populated table get a generous timeout of their own.
SCAN_TIMEOUT_MS = 15 * 60 * 1000


class Action(StrEnum):
    """What happens to a table or to one of its members."""

    CREATED = "created"
    ALTERED = "altered"
    DROPPED = "dropped"
    ADDED = "added"
    RENAMED = "renamed"


@dataclass(frozen=True)
class MemberChange:
    """A column, constraint, index, policy or table property that changes."""

    kind: str  # column | constraint | index | policy | table
    name: str
    action: Action
    before: Any = None
    after: Any = None
    renamed_from: str | None = None

    def to_json(self) -> JSON:
        """JSON-ready form."""
        return {
            "kind": self.kind,
            "name": self.name,
            "action": str(self.action),
            "before": _json(self.before),
            "after": _json(self.after),
            "renamed_from": self.renamed_from,
        }


@dataclass(frozen=True)
class TableChange:
    """One table's change. Created and dropped tables carry the whole table in
    ``after``/``before``; altered ones list their ``members``."""

    table: str
    action: Action
    renamed_from: str | None = None
    members: tuple[MemberChange, ...] = ()
    before: Any = None
    after: Any = None

    def to_json(self) -> JSON:
        """JSON-ready form."""
        return {
            "table": self.table,
            "action": str(self.action),
            "renamed_from": self.renamed_from,
            "members": [m.to_json() for m in self.members],
            "before": _json(self.before),
            "after": _json(self.after),
        }


def _json(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    return object_to_json(value)


PathOf = Callable[[str, str | None, str | None], str]


def default_path_of(table: str, column: str | None, key: str | None) -> str:
    """A readable location when no blueprint path is known (diffs of plain snapshots)."""
    where = table if column is None else f"{table}.{column}"
    return where if key is None else f"{where}.{key}"


@dataclass
class DiffContext:
    """What the per-kind diff functions share: where they write and what they may ask.

    ``path_of(table, column, key)`` gives the blueprint path of an item for error messages.
    ``fence_column`` is the tenant fence's column (None when there is no fence to guard),
    ``fence_using`` its predicate (what a policy must imply to keep the fence).
    """

    schema: str
    facts: LiveFacts
    renames: Renames
    fence_column: str | None = None
    fence_using: str | None = None
    path_of: PathOf = default_path_of
    # The target's server_version_num: what ALTER can do in place (0: assume the oldest).
    server_version: int = 0
    # The extensions this plan installs: their types do not exist yet for the live checks.
    installing: tuple[str, ...] = ()
    statements: list[Statement] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def qualified(self, table: str) -> str:
        """``schema.table``, quoted as needed."""
        return qualified(self.schema, table)

    def stats(self, table: str) -> TableStats | None:
        """Live size of ``table`` (desired name); None for a table that does not exist yet."""
        return self.facts.table_stats(table)

    def emit(
        self,
        sql: str,
        phase: Phase,
        table: str,
        reason: str,
        *,
        hazards: list[Hazard] | tuple[Hazard, ...] = (),
        lock: LockMode = LockMode.ACCESS_EXCLUSIVE,
        timeout_ms: int | None = None,
    ) -> None:
        """Add one statement to the migration."""
        self.statements.append(
            Statement(
                sql=sql,
                phase=phase,
                table=table,
                reason=reason,
                lock=lock,
                hazards=tuple(hazards),
                statement_timeout_ms=timeout_ms,
            )
        )
