"""An online plan counts no rows under its first stage's locks when only its second stage
reads them: a constraint added NOT VALID (and a NOT NULL's helper check) looks at no existing
row, and its VALIDATE after the commit fails on the rows that violate it, with the reason.
A plan in one transaction still counts again under its locks."""

from __future__ import annotations

import psycopg
import pytest

from schemabuilder.engine.apply import StageTwoFailed, apply_plan, read_marker
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.hazards import HazardKind
from schemabuilder.engine.hazards.remeasure import DATA_DEPENDENT, data_sensitive
from schemabuilder.engine.plan import plan
from tests.apply.online_setup import (
    MANAGED,
    PROPOSAL,
    SCHEMA,
    blueprint,
    invalid_indexes,
    request_for,
    reviewed_plan,
)


@pytest.fixture
def conn(online_conn: psycopg.Connection) -> psycopg.Connection:
    return online_conn


def test_an_online_plan_whose_data_hazards_are_all_in_stage_two_is_not_counted_again(
    conn: psycopg.Connection,
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    counted = {h.kind for st in p.statements if st.stage == 2 for h in st.hazards} & DATA_DEPENDENT
    assert {HazardKind.ADDS_CHECK, HazardKind.ADDS_FOREIGN_KEY} <= counted
    assert not data_sensitive(p.statements)
    outcome = apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    assert "remeasure" not in outcome.phases_ms
    assert outcome.plan is None  # the reviewed statements ran as they were
    assert plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"}).is_empty


def test_the_same_change_in_one_transaction_is_still_counted_again(
    conn: psycopg.Connection,
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp, apply_mode="atomic")
    assert data_sensitive(p.statements)
    outcome = apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    assert "remeasure" in outcome.phases_ms
    assert outcome.phase2_steps == ()


def test_a_row_that_violates_the_check_after_review_fails_its_validation(
    conn: psycopg.Connection,
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    # After review, before the apply: an order the new CHECK (amount > 0) refuses.
    conn.execute("INSERT INTO shop.orders VALUES (501, 'o501', 'n', 1, 0)")

    with pytest.raises(StageTwoFailed) as failed:
        apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    assert failed.value.statement.endswith("VALIDATE CONSTRAINT orders_amount_check")
    assert "23514" in str(failed.value) and "orders_amount_check" in str(failed.value)
    assert "501" not in str(failed.value)  # no value of the rows
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None and marker["status"] == "failed"
    assert "orders_amount_check" in marker["error_message"]
    assert invalid_indexes(conn) == []
    # Stage 1 stays: the check is enforced for new rows, NOT VALID for the old ones.
    orders = introspect(conn, SCHEMA, tables={"orders"}).table("orders")
    assert orders is not None
    assert orders.constraint_map["orders_amount_check"].definition.endswith("NOT VALID")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO shop.orders VALUES (502, 'o502', 'n', 1, -1)")
    # The next plan validates it again, and says it will fail on the row found now.
    again = plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"})
    steps = [st.sql for st in again.statements if st.stage == 2]
    assert f"ALTER TABLE {SCHEMA}.orders VALIDATE CONSTRAINT orders_amount_check" in steps
    assert any(h.kind is HazardKind.WILL_FAIL and h.table == "orders" for h in again.hazards), (
        again.hazards
    )
    # Once the row is fixed, that plan runs to the desired state.
    conn.execute("UPDATE shop.orders SET amount = 1 WHERE id = 501")
    fixed = plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"})
    assert not fixed.will_fail
