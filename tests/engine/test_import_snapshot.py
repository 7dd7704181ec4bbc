"""``import_snapshot`` on snapshots built by hand: the fence it chooses and says it chose."""

from __future__ import annotations

from schemabuilder.engine import (
    Column,
    Constraint,
    ConstraintKind,
    Policy,
    Snapshot,
    Table,
    import_snapshot,
)

FENCE = "tenant_id = current_setting('app.current_tenant_id'::text, true)::uuid"


def _table(name: str, *, tenant: bool = True, fence_policy: bool = True) -> Table:
    columns = [Column("id", "uuid", not_null=True, position=1)]
    if tenant:
        columns.append(Column("tenant_id", "uuid", not_null=True, position=2))
    policies = [Policy(f"{name}_read", "SELECT", using="true")]
    if fence_policy:
        policies.append(Policy(f"{name}_tenant_fence", permissive=False, using=FENCE))
    return Table(
        name=name,
        columns=tuple(columns),
        constraints=(
            Constraint(f"{name}_pkey", ConstraintKind.PRIMARY_KEY, "PRIMARY KEY (id)", ("id",)),
        ),
        policies=tuple(policies),
        rls=True,
    )


def test_tenant_id_is_the_fence_when_every_rls_table_has_it_with_its_predicate() -> None:
    result = import_snapshot(Snapshot("public", (_table("a"), _table("b"))))
    assert result.payload["fence"] == {
        "column": "tenant_id",
        "type": "uuid",
        "using": FENCE,
        "mode": "restrictive",
    }
    assert result.notes[0].startswith("fence: tenant_id uuid (every table with row level")
    assert result.notes[0].endswith("its form, restrictive, is the one every fenced table has")
    assert result.complete


def test_the_fence_s_form_is_said_only_when_every_fenced_table_has_it() -> None:
    # Said, a table built again from the import gets the form it has; with tables of both
    # forms, the plan keeps each existing table's own.
    mixed = Snapshot("public", (_table("a"), _table("b", fence_policy=False)))
    assert "mode" not in import_snapshot(mixed).payload["fence"]


def test_no_fence_when_one_rls_table_lacks_tenant_id_and_it_says_which() -> None:
    result = import_snapshot(Snapshot("public", (_table("a"), _table("b", tenant=False))))
    assert "fence" not in result.payload
    assert "1 of the 2 tables with row level security have no tenant_id (b)" in result.notes[0]


def test_fence_none_and_a_named_column() -> None:
    snapshot = Snapshot("public", (_table("a", fence_policy=False),))
    assert "fence" not in import_snapshot(snapshot, fence=None).payload
    named = import_snapshot(snapshot, fence="tenant_id").payload["fence"]
    assert named == {"column": "tenant_id", "type": "uuid", "mode": "permissive"}


def test_a_named_fence_says_which_rls_tables_lack_it() -> None:
    snapshot = Snapshot("public", (_table("a"), _table("b", tenant=False)))
    result = import_snapshot(snapshot, fence="tenant_id")
    assert result.notes[0].startswith("fence: tenant_id (as asked; not on b, which are not fenced)")


def test_a_serial_column_that_takes_null_leaves_its_table_out() -> None:
    table = Table(name="t", columns=(Column("n", "integer", serial=True),), rls=False)
    result = import_snapshot(Snapshot("public", (table,)))
    assert result.payload["tables"] == []
    assert result.left_out[0].why == "column n is serial yet takes NULL"
