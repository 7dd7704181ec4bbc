"""The second stage's steps wait for their locks as the first stage's statements do: a short
lock timeout, then they give way and try again (each retry recorded, with who blocked it),
and after the last try the step fails naming the blocker, with no INVALID index left.

A concurrent build waits for every transaction older than itself, through its virtual
transaction id, even one that never touched the table: such a transaction is the blocker
here, held open on another connection."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine.apply import StageTwoFailed, apply_plan, read_marker
from schemabuilder.engine.apply.lock_retry import LockRetry, LockRetryPolicy
from schemabuilder.engine.apply.review import ApplyRequest
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.plan import Plan, plan
from tests.apply.online_setup import (
    MANAGED,
    PROPOSAL,
    SCHEMA,
    blueprint,
    invalid_indexes,
    request_for,
    reviewed_plan,
)

BUILD = f"CREATE INDEX CONCURRENTLY idx_orders_amount ON {SCHEMA}.orders USING btree (amount)"
VALIDATE = f"ALTER TABLE {SCHEMA}.orders VALIDATE CONSTRAINT orders_customer_id_fkey"


@pytest.fixture
def conn(online_conn: psycopg.Connection) -> psycopg.Connection:
    return online_conn


@pytest.fixture
def other(conn: psycopg.Connection) -> Iterator[psycopg.Connection]:
    """Another client, outside autocommit: what it does stays open until it commits."""
    with psycopg.connect(conn.info.dsn) as connection:
        yield connection


def _request(p: Plan, attempts: int) -> ApplyRequest:
    # A first try waits long enough for the lock watch to see who blocks it (it looks after
    # a quarter of the timeout).
    policy = LockRetryPolicy(lock_timeout_ms=800, max_attempts=attempts, base_backoff_ms=20)
    return dataclasses.replace(request_for(p, lock_timeout_ms=800), lock_retry=policy)


def _before(step_sql: str, p: Plan) -> str:
    """The second-stage step that runs just before ``step_sql``."""
    steps = [st.sql for st in p.statements if st.stage == 2]
    return steps[steps.index(step_sql) - 1]


def test_a_build_held_up_by_an_older_transaction_succeeds_on_a_later_try(
    conn: psycopg.Connection, other: psycopg.Connection
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    before = _before(BUILD, p)
    retries: list[LockRetry] = []

    def open_a_snapshot(_: int, __: int, timing: Any) -> None:
        if timing.sql == before:  # a transaction older than the build, on no table of ours
            other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            other.execute("SELECT 1")

    def release_on_retry(retry: LockRetry) -> None:
        retries.append(retry)
        if other.info.transaction_status is psycopg.pq.TransactionStatus.INTRANS:
            other.rollback()  # the blocker ends after the first try gave way

    outcome = apply_plan(
        conn,
        bp,
        _request(p, attempts=3),
        reviewed=reviewed,
        on_progress=open_a_snapshot,
        on_lock_retry=release_on_retry,
    )
    (retry,) = retries
    assert retry.attempt == 1 and retry.sqlstate == "55P03"
    assert [b.pid for b in retry.blockers] == [other.info.backend_pid]
    assert retry.wanted is not None and "older transaction" in retry.wanted
    assert outcome.lock_retries == (retry,)
    steps = {s.sql: s for s in outcome.phase2_steps}
    assert steps[BUILD].status == "done"
    assert invalid_indexes(conn) == []  # the first try's INVALID index was dropped
    orders = introspect(conn, SCHEMA, tables={"orders"}).table("orders")
    assert orders is not None and "idx_orders_amount" in orders.index_map
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None and marker["status"] == "success"
    assert plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"}).is_empty


def test_a_validation_waits_for_a_table_lock_and_goes_on_once_it_is_gone(
    conn: psycopg.Connection, other: psycopg.Connection
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    before = _before(VALIDATE, p)
    retries: list[LockRetry] = []

    def lock_orders(_: int, __: int, timing: Any) -> None:
        if timing.sql == before:
            other.execute(f"LOCK TABLE {SCHEMA}.orders IN SHARE ROW EXCLUSIVE MODE")

    def release_on_second_retry(retry: LockRetry) -> None:
        retries.append(retry)
        if retry.attempt == 2:
            other.rollback()

    outcome = apply_plan(
        conn,
        bp,
        _request(p, attempts=4),
        reviewed=reviewed,
        on_progress=lock_orders,
        on_lock_retry=release_on_second_retry,
    )
    assert [r.attempt for r in retries] == [1, 2]
    assert all(r.backoff_ms is not None for r in retries)
    (blocker,) = retries[0].blockers
    assert (blocker.pid, blocker.mode) == (other.info.backend_pid, "ShareRowExclusiveLock")
    assert retries[0].wanted == f"SHARE UPDATE EXCLUSIVE on {SCHEMA}.orders"
    assert all(s.status == "done" for s in outcome.phase2_steps)


def test_a_build_blocked_on_every_try_fails_naming_the_blocker_and_leaves_no_invalid_index(
    conn: psycopg.Connection, other: psycopg.Connection
) -> None:
    bp = blueprint()
    p, reviewed = reviewed_plan(conn, bp)
    before = _before(BUILD, p)
    heard: list[LockRetry] = []

    def open_a_snapshot(_: int, __: int, timing: Any) -> None:
        if timing.sql == before:
            other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
            other.execute("SELECT 1")

    try:
        with pytest.raises(StageTwoFailed) as failed:
            apply_plan(
                conn,
                bp,
                _request(p, attempts=2),
                reviewed=reviewed,
                on_progress=open_a_snapshot,
                on_lock_retry=heard.append,
            )
        assert invalid_indexes(conn) == []  # dropped, the blocker still open
    finally:
        other.rollback()
    error = failed.value
    pid = other.info.backend_pid
    assert error.statement == BUILD
    assert "Stage 2 step" in str(error) and "idx_orders_amount" in str(error)
    assert f"x 2 for SHARE on the end of an older transaction; held by pid {pid}" in str(error)
    assert [b["pid"] for b in error.blockers] == [pid]
    assert [r.attempt for r in error.retries] == [1, 2]
    assert [r.attempt for r in heard] == [1]  # the last try is not retried
    marker = read_marker(conn, PROPOSAL)
    assert marker is not None and marker["status"] == "failed"
    assert f"held by pid {pid}" in marker["error_message"]
    statuses = {s["sql"]: s["status"] for s in marker["phase2_steps"]}
    assert statuses[BUILD] == "failed"
    assert statuses[VALIDATE] == "pending"  # the stage stopped at the build
    # The next plan builds the index again.
    again = plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"})
    assert [st.sql for st in again.statements if st.stage == 2] == [BUILD, VALIDATE]
