"""Hazards of the second stage of an online apply: the lock is weak, the time is long.

A concurrent build or a validation lets writes through (SHARE UPDATE EXCLUSIVE), so what a
reviewer needs is how long it runs, estimated from the table's size at a stated rate: the
numbers carry the rate, so a reader can redo the sum.
"""

from __future__ import annotations

import dataclasses
import math

from schemabuilder.engine.hazards import Hazard, HazardKind, Severity, rows_text
from schemabuilder.engine.hazards.facts import TableStats

# A concurrent build reads the table twice and sorts; on ordinary hardware that is about
# 200,000 rows or 20 MB of table a second, whichever takes longer.
BUILD_ROWS_PER_S = 200_000
BUILD_BYTES_PER_S = 20_000_000
# A rewrite copies every row and rebuilds every index of the table.
REWRITE_ROWS_PER_S = 100_000
REWRITE_BYTES_PER_S = 20_000_000
# A validation is one sequential scan with no sort.
SCAN_ROWS_PER_S = 1_000_000
SCAN_BYTES_PER_S = 100_000_000


def estimated_seconds(stats: TableStats, rows_per_s: int, bytes_per_s: int) -> int:
    """Whole seconds (at least 1) to read ``stats``'s table at the given rates."""
    by_rows = (stats.rows or 0) / rows_per_s
    by_bytes = stats.bytes / bytes_per_s
    return max(1, math.ceil(max(by_rows, by_bytes)))


def builds_concurrently(table: str, index: str, stats: TableStats) -> Hazard:
    """BUILDS_INDEX, online: writes continue while the index is built."""
    seconds = estimated_seconds(stats, BUILD_ROWS_PER_S, BUILD_BYTES_PER_S)
    return Hazard(
        HazardKind.BUILDS_INDEX,
        Severity.INFO,
        f"builds index {index} on {table} concurrently, after the commit: writes continue; "
        f"takes about {seconds:,} s for {rows_text(stats.rows, stats.exact)} "
        f"({stats.bytes:,} bytes, at {BUILD_ROWS_PER_S:,} rows/s)",
        table,
        {**stats.numbers(), "estimated_seconds": seconds, "rows_per_second": BUILD_ROWS_PER_S},
    )


# What the locking form's messages say about the wait, which the online form does not have.
_LOCKING_WORDS = (
    " while both tables are locked against writes",
    "; the check scans them under an ACCESS EXCLUSIVE lock",
    " under an ACCESS EXCLUSIVE lock",
)


def validates_online(hazard: Hazard, stats: TableStats | None) -> Hazard:
    """A constraint's hazard once it is validated after the commit: what the rows hold is
    unchanged (a certain failure stays one), the wait for writers is gone."""
    if stats is None or hazard.kind is HazardKind.WILL_FAIL:
        return hazard
    seconds = estimated_seconds(stats, SCAN_ROWS_PER_S, SCAN_BYTES_PER_S)
    message = hazard.message
    for locking in _LOCKING_WORDS:
        message = message.replace(locking, "")
    return dataclasses.replace(
        hazard,
        message=f"{message}; validated after the commit: writes continue, takes about "
        f"{seconds:,} s for {rows_text(stats.rows, stats.exact)}",
        numbers={**hazard.numbers, "estimated_seconds": seconds},
    )


def rewrite_still_locks(hazard: Hazard, stats: TableStats | None) -> Hazard:
    """REWRITES_TABLE in an online plan: the rewrite has no online form, so it stays in the
    first stage's transaction under its ACCESS EXCLUSIVE lock, as serious as it was, now with
    how long readers and writers wait."""
    if stats is None or hazard.kind is not HazardKind.REWRITES_TABLE:
        return hazard
    seconds = estimated_seconds(stats, REWRITE_ROWS_PER_S, REWRITE_BYTES_PER_S)
    return dataclasses.replace(
        hazard,
        message=f"{hazard.message}; no online form: readers and writers wait about "
        f"{seconds:,} s (at {REWRITE_ROWS_PER_S:,} rows/s)",
        numbers={**hazard.numbers, "estimated_seconds": seconds},
    )
