"""The lock budget: the share of the server's lock table one change may take, what a new table
costs, and how tables are ordered and packed into transactions (no server needed)."""

from __future__ import annotations

from schemabuilder.engine import validate_payload
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.groups import links_of, scratch_groups, stand_in
from schemabuilder.engine.lock_budget import (
    RESERVE,
    SHARE,
    budget_from_settings,
    dependency_groups,
    forced_budget,
    group_locks,
    pack,
    table_locks,
)


def _bp(tables: list[dict]) -> NormalizedBlueprint:
    return validate_payload(
        {"schema_version": "1", "description": "t", "auto_columns": False, "tables": tables}
    )


def _table(name: str, *refs: str, index: bool = False) -> dict:
    columns = [{"name": "id", "type": "BIGINT", "primary_key": True}]
    columns += [{"name": f"{r}_id", "type": "BIGINT", "references": f"{r}.id"} for r in refs]
    table: dict = {"name": name, "rls": False, "columns": columns}
    if index:
        table["indexes"] = [{"name": f"idx_{name}", "columns": ["id"]}]
    return table


def test_the_budget_is_a_share_of_the_servers_lock_table_less_a_reserve() -> None:
    default = budget_from_settings(64, 100, 0)
    assert default.capacity == 6_400
    assert default.locks == int(6_400 * SHARE) - RESERVE
    assert budget_from_settings(128, 100, 0).locks > default.locks
    assert budget_from_settings(64, 100, 100).locks > default.locks  # prepared ones count
    # What to raise max_locks_per_transaction to for a transaction of 10,000 locks: one that
    # gives a budget of at least that.
    needed = default.setting_for(10_000)
    assert budget_from_settings(needed, 100, 0).locks >= 10_000
    assert budget_from_settings(needed - 1, 100, 0).locks < 10_000
    assert "max_locks_per_transaction to" in default.raise_hint(10_000)
    assert "lock budget (50)" in forced_budget(50).raise_hint(80)


def test_a_table_costs_itself_its_toast_its_indexes_sequences_and_outside_references() -> None:
    bp = _bp(
        [
            _table("users"),
            _table("posts", "users", index=True),
            {
                "name": "tags",
                "rls": False,
                "columns": [
                    {"name": "id", "type": "BIGINT", "identity": "always", "primary_key": True},
                    {"name": "label", "type": "TEXT", "unique": True},
                ],
            },
        ]
    )
    users, posts, tags = bp.tables
    # The relation, its TOAST table and index, its row type; the primary key.
    assert table_locks(users) == 4 + 1
    # Its index, its foreign key, and the referenced table with its indexes (a table of the
    # same transaction costs nothing more).
    assert table_locks(posts) == 4 + 2 + 1 + 8
    assert table_locks(posts, {"users"}) == 4 + 2 + 1
    assert table_locks(tags) == 4 + 2 + 1  # two keys, the identity's sequence
    assert group_locks([users, posts]) == table_locks(users) + table_locks(posts, {"users"})


def test_tables_come_after_those_they_need_and_a_cycle_stays_together() -> None:
    links = {"b": {"a"}, "c": {"d"}, "d": {"c", "a"}, "e": set()}
    groups = dependency_groups(["b", "c", "d", "a", "e"], links)
    assert groups == [["a"], ["b"], ["c", "d"], ["e"]]
    # Packed in order, a group never split, a new bin when the next does not fit.
    sizes = [(["a"], 4), (["b"], 4), (["c", "d"], 8), (["e"], 3)]
    assert pack(sizes, 10) == [["a", "b"], ["c", "d"], ["e"]]


def test_scratch_groups_carry_stand_ins_of_what_their_tables_reference() -> None:
    bp = _bp([_table("hub"), *(_table(f"t{i}", "hub") for i in range(6))])
    groups = scratch_groups(bp, {t.name for t in bp.tables}, forced_budget(14))
    assert [m for ms, _ in groups for m in ms] == ["hub", *(f"t{i}" for i in range(6))]
    assert len(groups) >= 3
    for members, stand_ins in groups:
        assert stand_ins == ([] if "hub" in members else ["hub"])
    # One group, and no stand-in, when everything fits.
    assert scratch_groups(bp, {"hub", "t0"}, forced_budget(1_000)) == [(["hub", "t0"], [])]
    hub = stand_in(bp.tables[1])
    assert [c.references for c in hub.columns] == [None, None]
    assert links_of(bp)["t0"] == {"hub"}
