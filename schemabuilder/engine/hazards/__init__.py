"""Hazards: the closed vocabulary of what can go wrong (``HazardKind``, ``Severity``, ``Hazard``).

A hazard belongs to one planned statement and carries the live numbers behind its message
(row counts, NULLs, duplicates, violating rows; old and new names for a rename). Each object
kind has a module that builds its hazards, called by the diff code that writes the statement:

- ``tables``: DROPS_TABLE, RENAMES_OBJECT (tables), REWRITES_TABLE, BLOCKED_BY_DEPENDENTS,
  and three that are attached after the statements are written: ACCESS_EXCLUSIVE_LOCK and
  TOO_MANY_LOCKS (by ``diff``, from each statement's lock mode and table once they are in
  phase order) and ADOPTS_TABLE (by ``plan``, on the first statement of an adopted table);
- ``columns``: DROPS_COLUMN, CHANGES_COLUMN_TYPE, ADDS_NOT_NULL, DROPS_IDENTITY, RENAMES_OBJECT
  (columns), TENANT_FENCE_WEAKENED (the fence column dropped or made nullable), WILL_FAIL (a
  NOT NULL column without a value, SET NOT NULL over NULLs, values that do not convert);
- ``constraints``: DROPS_CONSTRAINT, ADDS_UNIQUE, ADDS_CHECK, ADDS_FOREIGN_KEY, WILL_FAIL
  (duplicates, violating rows, rows without a match);
- ``indexes``: BUILDS_INDEX, DROPS_INDEX, ADDS_UNIQUE and WILL_FAIL (a unique index over
  duplicates);
- ``types``: RENAMES_OBJECT (types and their values), REMOVES_ENUM_VALUE and WILL_FAIL (rows
  holding a value the swap removes), DROPS_TYPE;
- ``policies``: CHANGES_ACCESS and TENANT_FENCE_WEAKENED (using ``fence``, the fence's
  effective access);
- ``extensions``: INSTALLS_EXTENSION (an extension of the deployment's allowlist installed);
- ``grants``: CHANGES_ACCESS (a role granted or revoked privileges on a table, or the
  schema's default privileges changed);
- ``functions``: CHANGES_CODE (a body created or changed, with its diff), CHANGES_ACCESS (a
  function a policy calls changes; EXECUTE granted or revoked), RENAMES_OBJECT and
  BLOCKED_BY_DEPENDENTS (a dropped function something still uses).
- ``triggers``: CHANGES_CODE (a trigger created, changed or dropped, the updated_at
  convenience's function created) and RENAMES_OBJECT (triggers).
- ``online``: the same hazards in an online plan's words: a concurrent build or a
  validation after the commit lets writes through and says how long it takes; a rewrite
  with no online form says how long readers and writers wait.

The numbers come from ``facts`` (the questions) answered by ``pg_facts`` (the live database).
No hazard is found by reading the SQL text of a statement. ``remeasure`` is what an apply
checks of them again: a reviewed plan holding WILL_FAIL is refused before any lock is taken,
and severities that depend on the data are measured again under the apply's locks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

Number = int | str | bool | None


class Severity(StrEnum):
    """How bad: info (worth knowing), warning (review it), danger (needs force_apply)."""

    INFO = "info"
    WARNING = "warning"
    DANGER = "danger"


class HazardKind(StrEnum):
    """Every kind of hazard a plan can carry. DESCRIPTIONS says what each one means."""

    DROPS_TABLE = "DROPS_TABLE"
    DROPS_COLUMN = "DROPS_COLUMN"
    CHANGES_COLUMN_TYPE = "CHANGES_COLUMN_TYPE"
    REWRITES_TABLE = "REWRITES_TABLE"
    ADDS_NOT_NULL = "ADDS_NOT_NULL"
    ADDS_UNIQUE = "ADDS_UNIQUE"
    ADDS_FOREIGN_KEY = "ADDS_FOREIGN_KEY"
    ADDS_CHECK = "ADDS_CHECK"
    BUILDS_INDEX = "BUILDS_INDEX"
    DROPS_INDEX = "DROPS_INDEX"
    DROPS_CONSTRAINT = "DROPS_CONSTRAINT"
    RENAMES_OBJECT = "RENAMES_OBJECT"
    CHANGES_ACCESS = "CHANGES_ACCESS"
    TENANT_FENCE_WEAKENED = "TENANT_FENCE_WEAKENED"
    ADOPTS_TABLE = "ADOPTS_TABLE"
    ACCESS_EXCLUSIVE_LOCK = "ACCESS_EXCLUSIVE_LOCK"
    TOO_MANY_LOCKS = "TOO_MANY_LOCKS"
    BLOCKED_BY_DEPENDENTS = "BLOCKED_BY_DEPENDENTS"
    DROPS_IDENTITY = "DROPS_IDENTITY"
    REMOVES_ENUM_VALUE = "REMOVES_ENUM_VALUE"
    DROPS_TYPE = "DROPS_TYPE"
    CHANGES_CODE = "CHANGES_CODE"
    INSTALLS_EXTENSION = "INSTALLS_EXTENSION"
    WILL_FAIL = "WILL_FAIL"


DESCRIPTIONS: dict[HazardKind, str] = {
    HazardKind.DROPS_TABLE: "A table is dropped with all its rows.",
    HazardKind.DROPS_COLUMN: "A column is dropped with all its values.",
    HazardKind.CHANGES_COLUMN_TYPE: "A column changes type: values are converted, some may fail.",
    HazardKind.REWRITES_TABLE: "The whole table is rewritten while writes and reads wait.",
    HazardKind.ADDS_NOT_NULL: "A column becomes NOT NULL: existing NULLs make it fail.",
    HazardKind.ADDS_UNIQUE: "A uniqueness rule is added: existing duplicates make it fail.",
    HazardKind.ADDS_FOREIGN_KEY: "A foreign key is validated against every existing row.",
    HazardKind.ADDS_CHECK: "A check constraint is validated against every existing row.",
    HazardKind.BUILDS_INDEX: (
        "An index is built on a populated table: writes wait meanwhile, unless it is built "
        "concurrently (online)."
    ),
    HazardKind.DROPS_INDEX: "An index is dropped: queries that used it may get slower.",
    HazardKind.DROPS_CONSTRAINT: "A constraint is dropped: the database stops enforcing it.",
    HazardKind.RENAMES_OBJECT: "A table or column is renamed: clients using the old name break.",
    HazardKind.CHANGES_ACCESS: (
        "Row level security, a policy or a grant changes who can see or write rows."
    ),
    HazardKind.TENANT_FENCE_WEAKENED: "The tenant fence is weakened: tenants may see each other.",
    HazardKind.ADOPTS_TABLE: "A table this tool did not create is changed for the first time.",
    HazardKind.ACCESS_EXCLUSIVE_LOCK: "A populated table is locked against reads and writes.",
    HazardKind.TOO_MANY_LOCKS: "The change locks more relations than the server's lock table.",
    HazardKind.BLOCKED_BY_DEPENDENTS: "Objects outside the plan use what it drops or retypes.",
    HazardKind.DROPS_IDENTITY: "A column stops generating its values: inserts without it fail.",
    HazardKind.REMOVES_ENUM_VALUE: "Values leave an enum type: the type is swapped for a new one.",
    HazardKind.DROPS_TYPE: "An enum type is dropped: SQL that names it breaks.",
    HazardKind.CHANGES_CODE: "Code that runs later with the target's rights is created or changed.",
    HazardKind.INSTALLS_EXTENSION: (
        "An allowlisted extension is installed, for the whole database; it is never dropped."
    ),
    HazardKind.WILL_FAIL: "A statement fails on the live data: fix the data; no approval passes.",
}


@dataclass(frozen=True)
class Hazard:
    """One hazard of one statement: kind, severity, a one-line message, the live numbers."""

    kind: HazardKind
    severity: Severity
    message: str
    table: str
    # Not hashed: a hazard (and the statement holding it) stays usable in sets.
    numbers: Mapping[str, Number] = field(default_factory=dict, hash=False)
    # What the reviewer reads beside the message: a function body's unified diff, say.
    detail: str = field(default="", hash=False)

    def to_json(self) -> dict[str, object]:
        """JSON-ready form (``detail`` only when there is one)."""
        out: dict[str, object] = {
            "kind": str(self.kind),
            "severity": str(self.severity),
            "message": self.message,
            "table": self.table,
            "numbers": dict(self.numbers),
        }
        if self.detail:
            out["detail"] = self.detail
        return out


def rows_text(rows: int | None, exact: bool = True) -> str:
    """'1 row', '12,345 rows', '~2,000,000 rows' (an estimate), 'an unknown number of rows'."""
    if rows is None:
        return "an unknown number of rows"
    mark = "" if exact else "~"
    return f"{mark}{rows:,} row{'' if rows == 1 else 's'}"


def count_text(count: int | None, what: str, why: str) -> str:
    """'3 rows with NULL' style phrases; when the count was not measured, ``why`` not
    (``TableStats.not_counted``: the table's size, or a count that did not finish)."""
    if count is None:
        return f"{what}: not counted ({why})"
    return f"{count:,} {what}"
