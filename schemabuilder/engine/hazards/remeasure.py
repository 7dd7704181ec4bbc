"""What an apply checks of a reviewed plan's risks before it runs it.

A plan's severities were decided on the live data when it was made: the rows of a dropped
table, the NULLs under a new NOT NULL, duplicates under a new unique. By the time the worker
applies it, rows may have arrived. ``apply`` refuses outright a plan that says it will fail
(``certain_failures``), and while it holds its locks it plans again when a severity could have
risen (``data_sensitive``); a hazard not in the review (``raised_hazards``) sends the plan back.

Only the first stage's statements count for that recount. An online plan's second stage reads
the rows itself, after the commit, with writes going on: a ``VALIDATE CONSTRAINT`` or a
concurrent unique build fails on the rows that violate it, and the proposal fails with the
reason. Its first stage adds the constraint ``NOT VALID`` (and a NOT NULL's helper check),
which looks at no existing row: counting them again there would only hold the first stage's
ACCESS EXCLUSIVE or SHARE ROW EXCLUSIVE locks for the length of a full plan (most of the
writers' wait, measured on an online ADD FOREIGN KEY, CHECK or NOT NULL).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from schemabuilder.engine.diff.phases import Statement
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity

# Hazards whose severity was decided on the live data at plan time and can rise by apply
# time (a dropped table now has rows, a cast now fails, duplicates appeared). A reviewed plan
# holding one below danger is measured again under the apply's locks.
DATA_DEPENDENT = frozenset(
    {
        HazardKind.DROPS_TABLE,
        HazardKind.DROPS_COLUMN,
        HazardKind.CHANGES_COLUMN_TYPE,
        HazardKind.ADDS_NOT_NULL,
        HazardKind.ADDS_UNIQUE,
        HazardKind.ADDS_CHECK,
        HazardKind.ADDS_FOREIGN_KEY,
        HazardKind.DROPS_IDENTITY,
    }
)


def hazard_signature(hazard: Any) -> str:
    """What must stay the same for a re-plan to count as "the same risks" (not the numbers,
    which move with every insert)."""
    return f"{hazard.kind}|{hazard.severity}|{hazard.table}"


def certain_failures(statements: Collection[Statement]) -> list[str]:
    """The messages of the ``WILL_FAIL`` hazards: no approval passes them."""
    return [h.message for st in statements for h in st.hazards if h.kind is HazardKind.WILL_FAIL]


def data_sensitive(statements: Collection[Statement]) -> bool:
    """True when a first-stage statement's hazard could rise with the data (see
    ``DATA_DEPENDENT``): a second-stage step checks the rows as it runs (see the module doc)."""
    return any(
        h.kind in DATA_DEPENDENT and h.severity is not Severity.DANGER
        for st in statements
        if st.stage == 1
        for h in st.hazards
    )


def raised_hazards(current: Iterable[Hazard], reviewed: Collection[str]) -> list[Hazard]:
    """The hazards of a fresh plan not in the review (by kind, severity and table)."""
    known = set(reviewed)
    return [h for h in current if hazard_signature(h) not in known]


def data_reason(raised: list[Hazard]) -> str:
    return (
        "The live data changed since this plan was reviewed: "
        + "; ".join(f"{h.severity} {h.kind}: {h.message}" for h in raised[:5])
        + ". Review the plan with the new numbers."
    )
