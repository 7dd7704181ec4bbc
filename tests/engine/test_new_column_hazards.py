"""A CHECK or a foreign key on a column the same plan adds: the existing rows hold the new
column's default (or NULL), so they are counted with it, and the reason given when they are
not counted is the true one."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.hazards import facts as facts_module
from schemabuilder.engine.plan import plan
from tests.engine.test_plan import payload
from tests.engine.test_plan import url as url

LIVE = (
    "CREATE TABLE apps (code text PRIMARY KEY);"
    "INSERT INTO apps VALUES ('web'), ('cli');"
    "CREATE TABLE items (id integer PRIMARY KEY, name text);"
    "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')"
)


def _hazards(url: str, new_column: dict[str, Any]) -> list[Hazard]:
    """The hazards of adding ``new_column`` to the 3-row ``items``."""
    bp = validate_payload(
        payload(
            {
                "name": "apps",
                "rls": False,
                "columns": [{"name": "code", "type": "TEXT", "primary_key": True}],
            },
            {
                "name": "items",
                "rls": False,
                "columns": [
                    {"name": "id", "type": "INTEGER", "primary_key": True},
                    {"name": "name", "type": "TEXT"},
                    new_column,
                ],
            },
            auto_columns=False,
        )
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(LIVE.encode())
        result = plan(conn, bp, schema="public", managed={"apps", "items"})
    return [h for h in result.hazards if h.table == "items"]


def _one(hazards: list[Hazard], *kinds: HazardKind) -> Hazard:
    found = [h for h in hazards if h.kind in kinds]
    assert len(found) == 1, hazards
    return found[0]


def test_a_check_on_a_new_column_counts_its_default(url: str) -> None:
    new = {"name": "qty", "type": "INTEGER", "default": "1", "check": "qty > 0"}
    check = _one(_hazards(url, new), HazardKind.ADDS_CHECK, HazardKind.WILL_FAIL)
    assert check.kind is HazardKind.ADDS_CHECK
    assert check.severity is Severity.INFO
    assert check.numbers["violating_rows"] == 0
    assert "no rows violating it in 3 rows" in check.message
    assert "too large" not in check.message


def test_a_check_on_a_new_nullable_column_passes_on_null(url: str) -> None:
    new = {"name": "qty", "type": "INTEGER", "check": "qty > 0"}
    check = _one(_hazards(url, new), HazardKind.ADDS_CHECK, HazardKind.WILL_FAIL)
    assert check.severity is Severity.INFO
    assert check.numbers["violating_rows"] == 0
    assert "too large" not in check.message


def test_a_default_that_violates_the_check_will_fail(url: str) -> None:
    new = {"name": "qty", "type": "INTEGER", "default": "0", "check": "qty > 0"}
    check = _one(_hazards(url, new), HazardKind.ADDS_CHECK, HazardKind.WILL_FAIL)
    assert check.kind is HazardKind.WILL_FAIL
    assert check.severity is Severity.DANGER
    assert check.numbers["violating_rows"] == 3
    assert "will fail: 3 of 3 rows violate it" in check.message
    assert "qty = 0" in check.message


def test_a_foreign_key_on_a_new_null_column_has_no_orphans(url: str) -> None:
    new = {"name": "app", "type": "TEXT", "references": "apps.code"}
    fk = _one(_hazards(url, new), HazardKind.ADDS_FOREIGN_KEY, HazardKind.WILL_FAIL)
    assert fk.kind is HazardKind.ADDS_FOREIGN_KEY
    assert fk.severity is Severity.INFO
    assert fk.numbers["violating_rows"] == 0
    assert "no rows without a match in 3 rows" in fk.message
    assert "too large" not in fk.message


def test_a_foreign_key_on_a_new_column_whose_default_has_no_match_will_fail(url: str) -> None:
    new = {"name": "app", "type": "TEXT", "default": "'desktop'", "references": "apps.code"}
    fk = _one(_hazards(url, new), HazardKind.ADDS_FOREIGN_KEY, HazardKind.WILL_FAIL)
    assert fk.kind is HazardKind.WILL_FAIL
    assert fk.numbers["violating_rows"] == 3
    assert "will fail: 3 of 3 rows have no match" in fk.message


def test_a_foreign_key_on_a_new_column_whose_default_matches_is_info(url: str) -> None:
    new = {"name": "app", "type": "TEXT", "default": "'web'", "references": "apps.code"}
    fk = _one(_hazards(url, new), HazardKind.ADDS_FOREIGN_KEY, HazardKind.WILL_FAIL)
    assert fk.severity is Severity.INFO
    assert fk.numbers["violating_rows"] == 0


def test_a_default_computed_per_row_is_not_counted_and_says_why(url: str) -> None:
    new = {"name": "score", "type": "DOUBLE PRECISION", "default": "random()", "check": "score < 2"}
    check = _one(_hazards(url, new), HazardKind.ADDS_CHECK, HazardKind.WILL_FAIL)
    assert check.severity is Severity.WARNING
    assert check.numbers["violating_rows"] is None
    assert "not counted (the new column's default is computed per row)" in check.message
    assert "too large" not in check.message


def test_a_large_table_still_says_it_is_too_large(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts_module, "SMALL_TABLE_ROWS", 1)
    new = {"name": "qty", "type": "INTEGER", "default": "0", "check": "qty > 0"}
    check = _one(_hazards(url, new), HazardKind.ADDS_CHECK, HazardKind.WILL_FAIL)
    assert check.severity is Severity.WARNING
    assert "not counted (table too large to scan while planning)" in check.message


def test_a_unique_new_column_with_one_default_for_all_rows_will_fail(url: str) -> None:
    new = {"name": "slug", "type": "TEXT", "default": "'x'", "unique": True}
    unique = _one(_hazards(url, new), HazardKind.ADDS_UNIQUE, HazardKind.WILL_FAIL)
    assert unique.kind is HazardKind.WILL_FAIL
    assert unique.numbers["duplicate_rows"] == 2
    assert "will fail: 2 of 3 rows are duplicates" in unique.message


def test_a_unique_new_nullable_column_has_no_duplicates(url: str) -> None:
    new = {"name": "slug", "type": "TEXT", "unique": True}
    unique = _one(_hazards(url, new), HazardKind.ADDS_UNIQUE, HazardKind.WILL_FAIL)
    assert unique.severity is Severity.INFO
    assert unique.numbers["duplicate_rows"] == 0
