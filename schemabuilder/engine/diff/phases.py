"""The order of a migration: an explicit list of phases, each with the reason for its place.

Statements are sorted by phase only (a stable sort); within a phase they keep the order the
diff wrote them in, which is itself deterministic (tables and objects by name).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from schemabuilder.engine.hazards import Hazard, Severity


class Phase(StrEnum):
    """One step of a migration; ``PHASES`` gives their order and reasons."""

    SETUP = "setup"
    EXTENSIONS = "extensions"
    RENAME_TABLES = "rename_tables"
    RENAME_COLUMNS = "rename_columns"
    RENAME_CONSTRAINTS = "rename_constraints"
    DROP_POLICIES = "drop_policies"
    DROP_TRIGGERS = "drop_triggers"
    DROP_FOREIGN_KEYS = "drop_foreign_keys"
    DROP_INDEXES = "drop_indexes"
    DROP_CONSTRAINTS = "drop_constraints"
    DROP_COLUMNS = "drop_columns"
    DROP_TABLES = "drop_tables"
    TYPES = "types"
    CREATE_TABLES = "create_tables"
    ADD_COLUMNS = "add_columns"
    ALTER_COLUMNS = "alter_columns"
    ADD_CONSTRAINTS = "add_constraints"
    CREATE_INDEXES = "create_indexes"
    ADD_FOREIGN_KEYS = "add_foreign_keys"
    COMMENTS = "comments"
    FUNCTIONS = "functions"
    CREATE_POLICIES = "create_policies"
    TRIGGERS = "triggers"
    ROW_LEVEL_SECURITY = "row_level_security"
    GRANTS = "grants"
    DEFAULT_PRIVILEGES = "default_privileges"
    DROP_FUNCTIONS = "drop_functions"
    DROP_TYPES = "drop_types"


PHASES: tuple[tuple[Phase, str], ...] = (
    (
        Phase.SETUP,
        "names in the types, expressions and foreign key targets below resolve relative to the "
        "target schema, as when the blueprint was checked: resolve them the same way",
    ),
    (
        Phase.EXTENSIONS,
        "extensions are installed before anything that may use their types or functions",
    ),
    (Phase.RENAME_TABLES, "renames first, so every later statement uses the new names"),
    (Phase.RENAME_COLUMNS, "column renames next, on the tables' new names"),
    (
        Phase.RENAME_CONSTRAINTS,
        "constraints and indexes that only changed name (a renamed table) keep their data",
    ),
    (
        Phase.DROP_POLICIES,
        "policies go before the columns they use are dropped or change type",
    ),
    (
        Phase.DROP_TRIGGERS,
        "triggers go before the columns they use are dropped or change type",
    ),
    (
        Phase.DROP_FOREIGN_KEYS,
        "foreign keys go before the keys, indexes, columns and tables they depend on",
    ),
    (Phase.DROP_INDEXES, "indexes go before the columns they cover"),
    (Phase.DROP_CONSTRAINTS, "primary keys, unique and check constraints go before columns"),
    (Phase.DROP_COLUMNS, "columns go once nothing depends on them"),
    (Phase.DROP_TABLES, "tables go last among drops, when no foreign key points at them"),
    (
        Phase.TYPES,
        "enum types are created, renamed and given values before the tables that use them, "
        "once the columns and policies going away are gone",
    ),
    (Phase.CREATE_TABLES, "new tables, with their columns, primary keys, unique and checks"),
    (Phase.ADD_COLUMNS, "new columns on existing tables"),
    (
        Phase.ALTER_COLUMNS,
        "types, defaults and NOT NULL change before constraints and indexes are built on them",
    ),
    (Phase.ADD_CONSTRAINTS, "primary keys, unique and checks before the foreign keys needing them"),
    (Phase.CREATE_INDEXES, "indexes, including unique ones a foreign key may reference"),
    (Phase.ADD_FOREIGN_KEYS, "foreign keys once every table and referenced key exists"),
    (Phase.COMMENTS, "comments once their objects exist"),
    (
        Phase.FUNCTIONS,
        "functions are created, renamed and replaced once the tables and columns their bodies "
        "may name exist, before the policies that call them",
    ),
    (Phase.CREATE_POLICIES, "policies once the columns and functions they use exist"),
    (
        Phase.TRIGGERS,
        "triggers are created, renamed and replaced once their columns and functions exist",
    ),
    (
        Phase.ROW_LEVEL_SECURITY,
        "row level security is switched on, when the policies it enforces are in place",
    ),
    (
        Phase.GRANTS,
        "privileges on tables once each table exists and its row level security is in place",
    ),
    (
        Phase.DEFAULT_PRIVILEGES,
        "default privileges: they apply to objects created later, not in this migration",
    ),
    (
        Phase.DROP_FUNCTIONS,
        "functions the blueprint no longer declares go once no policy of this plan calls them",
    ),
    (Phase.DROP_TYPES, "enum types go once no column, default or check uses them"),
)

PHASE_ORDER: dict[Phase, int] = {phase: n for n, (phase, _) in enumerate(PHASES)}
PHASE_REASONS: dict[Phase, str] = dict(PHASES)


class LockMode(StrEnum):
    """The table lock a statement takes (the strongest one, on its own table)."""

    ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
    SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
    SHARE = "SHARE"
    SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
    NONE = "none"


@dataclass(frozen=True)
class Statement:
    """One statement of a migration, with why it is there and what it risks.

    ``statement_timeout_ms`` is set on statements that scan or rewrite a populated table
    (the executor applies it with ``SET LOCAL``); None leaves the executor's default.
    ``stage`` is 1 for the change's transaction, 2 for the steps an online apply runs one by
    one after it commits, outside a transaction (``diff.online``). ``batch`` numbers the
    transaction a stage 1 statement runs in when the plan is too large for the server's lock
    table in one (``engine.batches``): 1 is the first; 0 for a plan that is not split.
    """

    sql: str
    phase: Phase
    table: str
    reason: str
    lock: LockMode = LockMode.ACCESS_EXCLUSIVE
    hazards: tuple[Hazard, ...] = ()
    statement_timeout_ms: int | None = None
    stage: int = 1
    batch: int = 0

    @property
    def is_dangerous(self) -> bool:
        return any(h.severity is Severity.DANGER for h in self.hazards)

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        data: dict[str, object] = {
            "sql": self.sql,
            "phase": str(self.phase),
            "table": self.table,
            "reason": self.reason,
            "lock": str(self.lock),
            "hazards": [h.to_json() for h in self.hazards],
            "statement_timeout_ms": self.statement_timeout_ms,
            "stage": self.stage,
        }
        if self.batch:  # only a split plan says it: the others' form is as it always was
            data["batch"] = self.batch
        return data


def in_phase_order(statements: list[Statement]) -> list[Statement]:
    """``statements`` sorted by phase, keeping the diff's order within a phase."""
    return sorted(statements, key=lambda s: PHASE_ORDER[s.phase])
