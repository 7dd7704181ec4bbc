"""The generator and the v2 mutator: deterministic, realistic, and accepted by the engine."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest

from bench import schemas
from schemabuilder.engine import validate_payload

TYPES = {
    "TEXT",
    "VARCHAR",
    "INTEGER",
    "BIGINT",
    "NUMERIC",
    "BOOLEAN",
    "DATE",
    "TIMESTAMPTZ",
    "JSONB",
    "TEXT[]",
    "UUID",
}


def _base(type_: str) -> str:
    return type_.split("(")[0]


def test_the_same_size_and_seed_give_the_same_bytes() -> None:
    first = json.dumps(schemas.blueprint(100))
    assert json.dumps(schemas.blueprint(100)) == first
    assert json.dumps(schemas.blueprint(100, seed=7)) != first


def test_every_table_has_8_to_15_columns_of_mixed_types() -> None:
    payload = schemas.blueprint(300)
    for table in payload["tables"]:
        kinds = {_base(c["type"]) for c in table["columns"]}
        assert 8 <= len(table["columns"]) <= 15
        assert len(kinds) >= 6, table["name"]
    used = {_base(c["type"]) for t in payload["tables"] for c in t["columns"]}
    assert used == TYPES


def test_table_and_column_names_are_unique() -> None:
    payload = schemas.blueprint(1000)
    names = [t["name"] for t in payload["tables"]]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 48 for n in names)  # room for idx_<table>_created_at in 63 bytes
    for table in payload["tables"]:
        columns = [c["name"] for c in table["columns"]]
        assert len(set(columns)) == len(columns)


def test_about_a_third_of_tables_reference_an_earlier_table() -> None:
    payload = schemas.blueprint(1000)
    seen: set[str] = set()
    with_fk = 0
    for table in payload["tables"]:
        refs = [c["references"] for c in table["columns"] if "references" in c]
        for ref in refs:
            parent, column = ref.split(".")
            assert parent in seen and column == "id"
        with_fk += bool(refs)
        seen.add(table["name"])
    assert 0.28 < with_fk / 1000 < 0.39


def test_every_table_has_2_to_4_indexes_with_a_composite_and_a_descending_one() -> None:
    payload = schemas.blueprint(300)
    for table in payload["tables"]:
        indexes = table["indexes"]
        assert 2 <= len(indexes) <= 4
        assert any(len(ix["columns"]) > 1 for ix in indexes)
        assert any(col.endswith(" DESC") for ix in indexes for col in ix["columns"])
    checked = [
        t for t in payload["tables"] if "checks" in t or any("check" in c for c in t["columns"])
    ]
    assert 0.2 < len(checked) / 300 < 0.8


@pytest.mark.parametrize("n", [10, 100])
def test_the_engine_accepts_v1_and_v2(n: int) -> None:
    v1 = schemas.blueprint(n)
    validate_payload(v1)
    validate_payload(schemas.v2(v1))


def test_v2_changes_the_promised_share_of_tables_once_each() -> None:
    v1 = schemas.blueprint(1000)
    _, changes = schemas.mutate(v1)
    counts = Counter(c.kind for c in changes)
    assert counts == {"add_column": 100, "widen_type": 50, "drop_column": 50, "add_index": 50}
    assert len({c.table for c in changes}) == len(changes)


def test_v2_leaves_its_input_alone_and_is_deterministic() -> None:
    v1 = schemas.blueprint(100)
    before = copy.deepcopy(v1)
    assert schemas.v2(v1) == schemas.v2(v1)
    assert v1 == before
    assert schemas.v2(v1)["schema_version"] == "002"


def test_v2_widens_safely_and_drops_only_unreferenced_columns() -> None:
    v1 = schemas.blueprint(1000)
    v2, changes = schemas.mutate(v1)
    tables = {t["name"]: t for t in v2["tables"]}
    for change in changes:
        table = tables[change.table]
        if change.kind == "widen_type":
            name, old, _, new = change.detail.split()
            assert {c["name"]: c["type"] for c in table["columns"]}[name] == new
            assert (old, new) == ("INTEGER", "BIGINT") or (
                old.startswith("VARCHAR") and new == "TEXT"
            )
        if change.kind == "drop_column":
            text = json.dumps([table["indexes"], table.get("checks", []), table.get("unique", [])])
            assert change.detail not in text.replace('"', " ").split()


def test_small_blueprints_still_get_every_kind_of_change() -> None:
    _, changes = schemas.mutate(schemas.blueprint(10))
    assert {c.kind for c in changes} == {"add_column", "widen_type", "drop_column", "add_index"}


def test_v2_sql_is_the_engines_ddl_of_v2() -> None:
    v1 = schemas.blueprint(10)
    script = schemas.v2_sql(v1, schema="tenant_x")
    assert script.startswith('CREATE SCHEMA IF NOT EXISTS "tenant_x";')
    assert script.count("CREATE TABLE tenant_x.") == 10
    assert "ENABLE ROW LEVEL SECURITY" in script and " DESC)" in script
