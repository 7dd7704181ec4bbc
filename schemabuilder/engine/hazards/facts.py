"""Live numbers that decide a hazard's severity: the questions (``LiveFacts``) and the
answers' shapes. ``pg_facts.PgFacts`` answers them from the live database.

Every question is asked in the desired state's names and answered cheaply: sizes from the
catalog, exact counts only for tables under ``SMALL_TABLE_BYTES``, value scans only for tables
under ``SMALL_TABLE_ROWS`` rows. A question that could not be answered gets None ("not
measured"), never an error. The counts that validate a new constraint take ``added``: the
columns the same plan adds, which the live table does not have yet, with the value every
existing row will hold (``NewColumns``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from schemabuilder.engine.hazards import Number

SMALL_TABLE_ROWS = 100_000
SMALL_TABLE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class TableStats:
    """Size of a live table: ``rows`` exact when ``exact``, else the planner's estimate."""

    rows: int | None
    exact: bool
    bytes: int

    @property
    def populated(self) -> bool:
        """True unless the table is known to be empty."""
        return self.rows is None or self.rows > 0

    @property
    def scannable(self) -> bool:
        """Small enough to inspect values while planning."""
        return self.exact and self.rows is not None and self.rows <= SMALL_TABLE_ROWS

    @property
    def not_counted(self) -> str:
        """Why a count over this table's values is missing: its size, or a count that was
        tried and did not finish (an error or the statement timeout)."""
        if not self.scannable:
            return "table too large to scan while planning"
        return "the count did not finish while planning"

    def numbers(self) -> dict[str, Number]:
        return {"rows": self.rows, "rows_exact": self.exact, "table_bytes": self.bytes}


# Columns the plan adds, as the existing rows will hold them: {column: (type, default)}, the
# default as PostgreSQL printed it (None: NULL). Only defaults computed once for the whole
# table belong here; one computed per row has no single value to count with.
NewColumns = Mapping[str, tuple[str, str | None]]


@dataclass(frozen=True)
class CastCheck:
    """What converting a column's values to a new type involves."""

    possible: bool  # a cast exists at all
    error: str | None  # the server's message when it does not
    binary: bool  # binary-coercible: no conversion, no rewrite, cannot fail
    implicit: bool  # an implicit cast: meant to be lossless


@dataclass(frozen=True)
class CastOutcome:
    """Values that would not convert, and values that convert but change (2.5 -> 3)."""

    failing: int
    changed: int


class LiveFacts(Protocol):
    """The questions hazards ask about the live database (desired-state names)."""

    def table_stats(self, table: str) -> TableStats | None: ...
    def null_count(self, table: str, column: str) -> int | None: ...
    def non_null_count(self, table: str, column: str) -> int | None: ...
    def duplicate_rows(
        self,
        table: str,
        keys: Sequence[str],
        predicate: str | None,
        added: NewColumns | None = None,
    ) -> int | None: ...
    def fk_violations(
        self,
        table: str,
        columns: Sequence[str],
        ref_table: str,
        ref_columns: Sequence[str],
        ref_exists: bool,
        added: NewColumns | None = None,
    ) -> int | None: ...
    def check_violations(
        self, table: str, expression: str, added: NewColumns | None = None
    ) -> int | None: ...
    def cast_check(self, old_type: str, new_type: str) -> CastCheck: ...
    def cast_failures(
        self, table: str, column: str, old_type: str, new_type: str
    ) -> CastOutcome | None: ...
    def default_rewrites(self, type_: str, default: str) -> bool: ...
    def lock_capacity(self) -> int | None: ...
    def dependents(self, table: str, column: str | None) -> list[str]: ...
