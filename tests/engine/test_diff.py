"""The diff on plain snapshots, with the live numbers given by hand (no database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from schemabuilder.engine.catalog.snapshot import (
    Column,
    Constraint,
    ConstraintKind,
    Index,
    Policy,
    Snapshot,
    Table,
)
from schemabuilder.engine.diff import diff
from schemabuilder.engine.diff.phases import PHASE_ORDER, PHASES, Phase
from schemabuilder.engine.diff.renames import Renames, rename_identifiers
from schemabuilder.engine.hazards import DESCRIPTIONS, HazardKind, Severity
from schemabuilder.engine.hazards.columns import typmod_widens
from schemabuilder.engine.hazards.facts import CastCheck, CastOutcome, TableStats

FENCE = "tenant_id::text = current_setting('app.current_tenant_id'::text, true)"


@dataclass
class Facts:
    """Live numbers by hand: every table has ``rows`` rows, every count is ``count``."""

    rows: dict[str, int] = field(default_factory=dict)
    count: int | None = 0
    capacity: int | None = 1000

    def table_stats(self, table: str) -> TableStats | None:
        rows = self.rows.get(table)
        return None if rows is None else TableStats(rows=rows, exact=True, bytes=8192)

    def null_count(self, table: str, column: str) -> int | None:
        return self.count

    def non_null_count(self, table: str, column: str) -> int | None:
        return self.count

    def duplicate_rows(
        self, table: str, keys: Sequence[str], predicate: str | None, added: Any = None
    ) -> int | None:
        return self.count

    def fk_violations(
        self,
        table: str,
        columns: Sequence[str],
        ref_table: str,
        ref_columns: Sequence[str],
        ref_exists: bool,
        added: Any = None,
    ) -> int | None:
        return self.count

    def check_violations(self, table: str, expression: str, added: Any = None) -> int | None:
        return self.count

    def cast_check(self, old_type: str, new_type: str) -> CastCheck:
        return CastCheck(possible=True, error=None, binary=False, implicit=False)

    def cast_failures(
        self, table: str, column: str, old_type: str, new_type: str
    ) -> CastOutcome | None:
        return None if self.count is None else CastOutcome(failing=self.count, changed=0)

    def default_rewrites(self, type_: str, default: str) -> bool:
        return False

    def lock_capacity(self) -> int | None:
        return self.capacity

    def dependents(self, table: str, column: str | None) -> list[str]:
        return []


def fenced(*policies: Policy, rls: bool = True) -> Table:
    return Table(
        name="notes",
        columns=(
            Column("id", "integer", not_null=True, position=1),
            Column("tenant_id", "uuid", not_null=True, position=2),
            Column("body", "text", position=3),
        ),
        constraints=(Constraint("notes_pkey", ConstraintKind.PRIMARY_KEY, "PRIMARY KEY (id)"),),
        policies=policies,
        rls=rls,
    )


FENCE_POLICY = Policy(
    "notes_tenant_isolation", using=FENCE, with_check=FENCE, columns=("tenant_id",)
)


def snap(*tables: Table) -> Snapshot:
    return Snapshot(schema="app", tables=tables)


def kinds(result_statements: Sequence[object]) -> list[tuple[str, str]]:
    return [
        (str(h.kind), str(h.severity))
        for s in result_statements
        for h in s.hazards  # type: ignore[attr-defined]
    ]


def test_every_phase_has_one_place_and_a_reason() -> None:
    assert [p for p, _ in PHASES] == list(Phase)
    assert all(reason for _, reason in PHASES)
    assert PHASE_ORDER[Phase.DROP_POLICIES] < PHASE_ORDER[Phase.DROP_COLUMNS]
    assert PHASE_ORDER[Phase.DROP_FOREIGN_KEYS] < PHASE_ORDER[Phase.DROP_TABLES]
    assert PHASE_ORDER[Phase.CREATE_INDEXES] < PHASE_ORDER[Phase.ADD_FOREIGN_KEYS]
    assert PHASE_ORDER[Phase.CREATE_POLICIES] < PHASE_ORDER[Phase.ROW_LEVEL_SECURITY]
    assert PHASE_ORDER[Phase.DROP_POLICIES] < PHASE_ORDER[Phase.DROP_TRIGGERS]
    assert PHASE_ORDER[Phase.DROP_TRIGGERS] < PHASE_ORDER[Phase.DROP_COLUMNS]
    assert PHASE_ORDER[Phase.CREATE_POLICIES] < PHASE_ORDER[Phase.TRIGGERS]


def test_every_hazard_kind_is_described_in_one_line() -> None:
    assert set(DESCRIPTIONS) == set(HazardKind)
    assert all("\n" not in text and text.endswith(".") for text in DESCRIPTIONS.values())
    assert all(kind.value == kind.name for kind in HazardKind)


def test_equal_snapshots_give_no_statements() -> None:
    table = fenced(FENCE_POLICY)
    result = diff(snap(table), snap(table), schema="app", facts=Facts({"notes": 3}))
    assert result.statements == ()
    assert result.changes == ()


def test_the_order_of_the_input_does_not_matter() -> None:
    one = Table("a", columns=(Column("x", "integer"), Column("y", "text")))
    two = Table("a", columns=(Column("y", "text"), Column("x", "integer")))
    assert one == two
    desired = snap(Table("b", columns=(Column("z", "integer"),)), one)
    first = diff(snap(), desired, schema="app", facts=Facts())
    second = diff(
        snap(),
        snap(two, Table("b", columns=(Column("z", "integer"),))),
        schema="app",
        facts=Facts(),
    )
    assert [s.sql for s in first.statements] == [s.sql for s in second.statements]


def test_a_dropped_populated_column_is_danger_and_an_empty_one_a_warning() -> None:
    live = snap(fenced(FENCE_POLICY))
    desired_table = fenced(FENCE_POLICY)
    desired = snap(
        Table(
            name="notes",
            columns=tuple(c for c in desired_table.columns if c.name != "body"),
            constraints=desired_table.constraints,
            policies=desired_table.policies,
            rls=True,
        )
    )
    populated = diff(live, desired, schema="app", facts=Facts({"notes": 5}, count=2))
    assert [s.sql for s in populated.statements] == ["ALTER TABLE app.notes DROP COLUMN body"]
    assert ("DROPS_COLUMN", "danger") in kinds(populated.statements)
    empty = diff(live, desired, schema="app", facts=Facts({"notes": 0}, count=0))
    assert kinds(empty.statements) == [("DROPS_COLUMN", "warning")]


def test_a_new_permissive_policy_without_the_fence_weakens_it() -> None:
    everyone = Policy("public_read", command="SELECT", using="true")
    result = diff(
        snap(fenced(FENCE_POLICY)),
        snap(fenced(FENCE_POLICY, everyone)),
        schema="app",
        facts=Facts({"notes": 1}),
        fence_column="tenant_id",
    )
    hazards = [h for s in result.statements for h in s.hazards]
    access = next(h for h in hazards if h.kind is HazardKind.CHANGES_ACCESS)
    assert "access widens" in access.message
    assert "PUBLIC" in access.message and "SELECT" in access.message
    fence = next(h for h in hazards if h.kind is HazardKind.TENANT_FENCE_WEAKENED)
    assert fence.severity is Severity.DANGER
    assert "tenant fence (tenant_id)" in fence.message
    assert "SELECT (reads) for any role" in fence.message


def test_a_restrictive_fence_for_everyone_keeps_the_fence_whatever_else_is_added() -> None:
    restrictive = Policy(
        "fence", permissive=False, using=FENCE, with_check=FENCE, columns=("tenant_id",)
    )
    everyone = Policy("public_read", command="SELECT", using="true")
    result = diff(
        snap(fenced(FENCE_POLICY, restrictive)),
        snap(fenced(FENCE_POLICY, restrictive, everyone)),
        schema="app",
        facts=Facts({"notes": 1}),
        fence_column="tenant_id",
    )
    assert ("TENANT_FENCE_WEAKENED", "danger") not in kinds(result.statements)


def test_roles_added_to_a_policy_widen_access_for_those_roles() -> None:
    before = Policy("readers", command="SELECT", roles=("staff",), using="true")
    after = Policy("readers", command="SELECT", roles=("anon", "staff"), using="true")
    result = diff(
        snap(fenced(before)), snap(fenced(after)), schema="app", facts=Facts({"notes": 1})
    )
    assert result.statements[0].sql == "ALTER POLICY readers ON app.notes\n    TO anon, staff"
    message = result.statements[0].hazards[0].message
    assert "access widens for anon" in message


def test_a_restrictive_policy_narrows_access() -> None:
    live_only = Policy("live_only", permissive=False, using="deleted_at IS NULL")
    result = diff(
        snap(fenced(FENCE_POLICY)),
        snap(fenced(FENCE_POLICY, live_only)),
        schema="app",
        facts=Facts({"notes": 1}),
        fence_column="tenant_id",
    )
    assert "access narrows" in result.statements[0].hazards[0].message
    assert "AS RESTRICTIVE" in result.statements[0].sql


def test_policies_of_a_table_without_rls_change_nobody_s_access() -> None:
    everyone = Policy("public_read", command="SELECT", using="true")
    result = diff(
        snap(fenced(rls=False)),
        snap(fenced(everyone, rls=False)),
        schema="app",
        facts=Facts({"notes": 0}),
        fence_column="tenant_id",
    )
    assert kinds(result.statements) == []


def test_more_relations_than_the_lock_table_holds_is_danger() -> None:
    tables = [Table(f"t{n}", columns=(Column("x", "integer"),)) for n in range(5)]
    result = diff(snap(), snap(*tables), schema="app", facts=Facts(capacity=9))
    assert result.locked_relations == 10  # each table and its TOAST table
    assert kinds(result.statements)[0] == ("TOO_MANY_LOCKS", "danger")
    roomy = diff(snap(), snap(*tables), schema="app", facts=Facts(capacity=10))
    assert kinds(roomy.statements) == []


def test_a_renamed_table_keeps_its_members_under_new_names() -> None:
    live = Table(
        "clients",
        columns=(Column("id", "integer", not_null=True), Column("name", "text")),
        constraints=(
            Constraint("clients_pkey", ConstraintKind.PRIMARY_KEY, "PRIMARY KEY (id)", ("id",)),
        ),
        indexes=(Index("idx_clients_name", "USING btree (name)", columns=("name",)),),
    )
    desired = Table(
        "patients",
        columns=(Column("id", "integer", not_null=True), Column("full_name", "text")),
        constraints=(
            Constraint("patients_pkey", ConstraintKind.PRIMARY_KEY, "PRIMARY KEY (id)", ("id",)),
        ),
        indexes=(Index("idx_patients_name", "USING btree (full_name)", columns=("full_name",)),),
    )
    renames = Renames(tables={"clients": "patients"}, columns={"patients": {"name": "full_name"}})
    result = diff(snap(live), snap(desired), schema="app", facts=Facts(), renames=renames)
    assert [s.sql for s in result.statements] == [
        "ALTER TABLE app.clients RENAME TO patients",
        "ALTER TABLE app.patients RENAME COLUMN name TO full_name",
        "ALTER TABLE app.patients RENAME CONSTRAINT clients_pkey TO patients_pkey",
        "ALTER INDEX app.idx_clients_name RENAME TO idx_patients_name",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("length(name) > 0", "length(full_name) > 0"),
        ("name = 'name'::text", "full_name = 'name'::text"),
        ("(name)::character varying", "(full_name)::character varying"),
        (
            "lower(name) ~~ 'a%'::text AND t.name IS NULL",
            "lower(full_name) ~~ 'a%'::text AND t.name IS NULL",
        ),
        ('"Name" <> name', '"Name" <> full_name'),
        ("name(x)", "name(x)"),
        ("x::name", "x::name"),
    ],
)
def test_renames_touch_column_references_only(text: str, expected: str) -> None:
    assert rename_identifiers(text, {"name": "full_name"}) == expected


def test_a_rename_to_a_keyword_is_quoted() -> None:
    assert rename_identifiers("a > 0", {"a": "order"}) == '"order" > 0'


@pytest.mark.parametrize(
    ("old", "new", "widens"),
    [
        ("character varying(10)", "character varying(20)", True),
        ("character varying(20)", "character varying(10)", False),
        ("character varying(10)", "text", True),
        ("numeric(8,2)", "numeric(12,2)", True),
        ("numeric(8,2)", "numeric(12,3)", False),
        ("integer", "bigint", True),
        ("text", "character varying(10)", False),
        ("text[]", "text", False),
    ],
)
def test_type_modifiers_that_accept_every_old_value(old: str, new: str, widens: bool) -> None:
    assert typmod_widens(old, new) is widens
