"""The online apply on both servers: the plan's two stages, each kind of second-stage step run
to the desired state, a concurrent build that fails on duplicates inserted after the plan,
and the atomic mode that stays one transaction."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from schemabuilder.engine.apply import (
    StageTwoFailed,
    apply_plan,
    read_marker,
    resume_apply,
)
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.diff.steps import StepKind, step_of
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import STAGE_TWO_LINE, plan
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


def _stage_two(p: Any) -> list[str]:
    return [st.sql for st in p.statements if st.stage == 2]


def test_the_online_plan_moves_every_slow_step_to_the_second_stage(
    conn: psycopg.Connection,
) -> None:
    p, _ = reviewed_plan(conn, blueprint())
    assert p.apply_mode == "online"
    stages = [st.stage for st in p.statements]
    assert stages == sorted(stages), "stage 1 first, then stage 2"
    first = [st.sql for st in p.statements if st.stage == 1]
    q = f"{SCHEMA}.orders"
    assert f"ALTER TABLE {q} ADD CONSTRAINT orders_amount_check CHECK (amount > 0) NOT VALID" in (
        first
    )
    helper = "orders_code_not_null_check"
    assert f"ALTER TABLE {q} ADD CONSTRAINT {helper} CHECK (code IS NOT NULL) NOT VALID" in first
    # The new table is created whole in stage 1, its index and foreign key too.
    assert any(s.startswith(f"CREATE TABLE {SCHEMA}.notes") for s in first)
    assert f"CREATE INDEX idx_notes_order ON {SCHEMA}.notes USING btree (order_id)" in first
    assert _stage_two(p) == [
        f"DROP INDEX CONCURRENTLY {SCHEMA}.idx_orders_note",
        f"ALTER TABLE {q} VALIDATE CONSTRAINT orders_code_not_null_check",
        f"ALTER TABLE {q} ALTER COLUMN code SET NOT NULL",
        f"ALTER TABLE {q} DROP CONSTRAINT orders_code_not_null_check",
        f"CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON {SCHEMA}.customers (email)",
        f"ALTER TABLE {SCHEMA}.customers ADD CONSTRAINT customers_email_key UNIQUE USING INDEX "
        "customers_email_key",
        f"ALTER TABLE {q} VALIDATE CONSTRAINT orders_amount_check",
        f"CREATE INDEX CONCURRENTLY idx_orders_amount ON {q} USING btree (amount)",
        f"ALTER TABLE {q} VALIDATE CONSTRAINT orders_customer_id_fkey",
    ]
    assert STAGE_TWO_LINE in p.sql
    assert p.to_json()["statements"][-1]["stage"] == 2


def test_a_concurrent_build_says_writes_continue_and_how_long(conn: psycopg.Connection) -> None:
    online, _ = reviewed_plan(conn, blueprint())
    atomic, _ = reviewed_plan(conn, blueprint(), apply_mode="atomic")
    build = {h.kind: h for h in online.hazards if h.table == "orders"}[HazardKind.BUILDS_INDEX]
    locking = {h.kind: h for h in atomic.hazards if h.table == "orders"}[HazardKind.BUILDS_INDEX]
    assert "writes continue; takes about" in build.message
    assert "500 rows" in build.message
    assert build.numbers["estimated_seconds"] == 1
    assert build.severity is Severity.INFO and locking.severity is Severity.WARNING


def test_the_atomic_mode_is_one_transaction_and_the_payload_decides(
    conn: psycopg.Connection,
) -> None:
    atomic, _ = reviewed_plan(conn, blueprint(), apply_mode="atomic")
    assert atomic.apply_mode == "atomic"
    assert all(st.stage == 1 for st in atomic.statements)
    assert "CONCURRENTLY" not in atomic.sql and "NOT VALID" not in atomic.sql
    assert STAGE_TWO_LINE not in atomic.sql
    said_atomic = plan(
        conn, blueprint(apply_mode="atomic"), schema=SCHEMA, managed=MANAGED, apply_mode="online"
    )
    assert said_atomic.sql == atomic.sql
    said_online = plan(
        conn, blueprint(apply_mode="online"), schema=SCHEMA, managed=MANAGED, apply_mode="atomic"
    )
    assert _stage_two(said_online)


def test_an_atomic_apply_writes_a_plain_success_marker(conn: psycopg.Connection) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp, apply_mode="atomic")
    outcome = apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    assert outcome.phase2_steps == ()
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None
    assert (marker["status"], marker["phase2_steps"]) == ("success", [])
    assert plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"}).is_empty


def test_every_second_stage_step_runs_to_the_desired_state(conn: psycopg.Connection) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    kinds = {step_of(sql).kind for sql in _stage_two(p)}
    assert kinds == {
        StepKind.BUILD_INDEX,
        StepKind.DROP_INDEX,
        StepKind.VALIDATE,
        StepKind.SET_NOT_NULL,
        StepKind.DROP_CONSTRAINT,
        StepKind.ADD_CONSTRAINT,
    }
    outcome = apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    assert [s.sql for s in outcome.phase2_steps] == _stage_two(p)
    assert all(s.status == "done" and s.ms is not None for s in outcome.phase2_steps)
    after = introspect(conn, SCHEMA, tables=set(p.desired.table_map))
    assert after == p.desired
    assert invalid_indexes(conn) == []
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None and marker["status"] == "success"
    assert [s["status"] for s in marker["phase2_steps"]] == ["done"] * len(_stage_two(p))
    assert plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"}).is_empty
    if conn.info.server_version >= 180000:
        # PostgreSQL 18 records NOT NULL as a constraint: it has the name a plain SET NOT NULL
        # gives it, since the helper check is named apart.
        names = conn.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'shop.orders'::regclass "
            "AND contype = 'n'"
        ).fetchall()
        assert ("orders_code_not_null",) in names


def test_a_duplicate_inserted_after_the_plan_fails_the_unique_build(
    conn: psycopg.Connection,
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    dsn = conn.info.dsn

    def insert_duplicate(_: int, __: int, timing: Any) -> None:
        # Right after the second stage's first step (the first stage is committed, its locks
        # gone): another client writes a duplicate before the unique build.
        if timing.sql.startswith("DROP INDEX CONCURRENTLY"):
            with psycopg.connect(dsn, autocommit=True) as other:
                other.execute("INSERT INTO shop.customers VALUES (51, 'c1@example.com')")

    with pytest.raises(StageTwoFailed) as failed:
        apply_plan(conn, bp, request_for(p), reviewed=reviewed, on_progress=insert_duplicate)
    assert "23505" in str(failed.value)
    assert "customers_email_key" in failed.value.statement
    assert invalid_indexes(conn) == []
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None and marker["status"] == "failed"
    assert "customers_email_key" in marker["error_message"]
    statuses = {s["sql"]: s["status"] for s in marker["phase2_steps"]}
    assert statuses[failed.value.statement] == "failed"
    # Stage 1 stays: the new table exists, the check is there NOT VALID.
    live = introspect(conn, SCHEMA, tables={"notes", "orders"})
    assert live.table("notes") is not None
    orders = live.table("orders")
    assert orders is not None
    assert orders.constraint_map["orders_amount_check"].definition.endswith("NOT VALID")
    # The next plan is correct: the unique key again, now refused on the duplicate.
    again = plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"})
    assert any("customers_email_key" in sql for sql in _stage_two(again))
    assert any(h.kind is HazardKind.WILL_FAIL for h in again.hazards)


def test_the_target_stays_locked_for_other_changes_across_both_stages(
    conn: psycopg.Connection,
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    key = request_for(p).lock_key
    dsn = conn.info.dsn
    seen: list[bool] = []

    def try_lock(_: int, __: int, timing: Any) -> None:
        if timing.sql.startswith("CREATE INDEX CONCURRENTLY"):
            # Mid second stage: the session lock is held, and no transaction is open on the
            # applying connection (a concurrent build waits for every older transaction).
            assert conn.info.transaction_status is psycopg.pq.TransactionStatus.IDLE
            with psycopg.connect(dsn, autocommit=True) as other:
                row = other.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
                seen.append(bool(row and row[0]))

    apply_plan(conn, bp, request_for(p), reviewed=reviewed, on_progress=try_lock)
    assert seen == [False]
    with psycopg.connect(dsn, autocommit=True) as other:
        row = other.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        assert row is not None and row[0] is True


def test_resuming_a_finished_change_changes_nothing(conn: psycopg.Connection) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    done = apply_plan(conn, bp, request_for(p), reviewed=reviewed)
    again = resume_apply(conn, request_for(p), bp=bp)
    assert again.marker_id == done.marker_id
    assert [s.to_json() for s in again.phase2_steps] == [s.to_json() for s in done.phase2_steps]
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None and marker["status"] == "success"
