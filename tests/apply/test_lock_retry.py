"""Lock discipline, on both servers: every statement of an apply (and its up-front table locks)
waits briefly for a lock another connection holds, gives way, and tries again a bounded number
of times, recording who blocked it: pid, lock mode, transaction age, never their query or
application name. After the last attempt the apply fails naming the blocker, with nothing of
the change left on the target."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import (
    ApplyRequest,
    Deadlock,
    LockRetry,
    LockRetryPolicy,
    LockTimeout,
    Reviewed,
    apply_plan,
    fingerprints,
    run_with_lock_retries,
    scope_of,
)
from schemabuilder.engine.apply.lock_watch import sql_mode
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.plan import Plan, plan
from tests.apply.conftest import wait_for

SCHEMA = "lr"
SECRET_QUERY = "SECRET_QUERY_lock_retry"
SECRET_APP = "secret_app_lock_retry"


def _policy(attempts: int, timeout_ms: int = 300) -> LockRetryPolicy:
    # Short sleeps keep the tests quick; a seeded generator keeps them the same every run.
    return LockRetryPolicy(
        lock_timeout_ms=timeout_ms,
        max_attempts=attempts,
        base_backoff_ms=20,
        max_backoff_ms=50,
        rng=random.Random(17),
    )


@pytest.fixture
def conn(any_target_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(any_target_url, autocommit=True) as connection:
        connection.execute(
            f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA};"
            f"CREATE TABLE {SCHEMA}.orders (id integer PRIMARY KEY, total integer);"
            f"CREATE TABLE {SCHEMA}.customers (id integer PRIMARY KEY);"
            "DROP SCHEMA IF EXISTS schemabuilder CASCADE"
        )
        try:
            yield connection
        finally:
            connection.execute(
                f"DROP SCHEMA {SCHEMA} CASCADE; DROP SCHEMA IF EXISTS schemabuilder CASCADE"
            )


@pytest.fixture
def other(any_target_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Another tenant's connection, with a recognisable application name."""
    with psycopg.connect(any_target_url, application_name=SECRET_APP) as connection:
        yield connection


def _blueprint(orders_columns: list[dict[str, Any]]) -> NormalizedBlueprint:
    return validate_payload(
        {
            "schema_version": "002",
            "description": "t",
            "auto_columns": False,
            "tables": [
                {
                    "name": "orders",
                    "rls": False,
                    "columns": [
                        {"name": "id", "type": "INTEGER", "primary_key": True},
                        {"name": "total", "type": "INTEGER"},
                        *orders_columns,
                    ],
                },
                {
                    "name": "customers",
                    "rls": False,
                    "columns": [{"name": "id", "type": "INTEGER", "primary_key": True}],
                },
            ],
        }
    )


NOTE = [{"name": "note", "type": "TEXT"}]
CUSTOMER = [{"name": "customer_id", "type": "INTEGER", "references": "customers.id"}]


def _reviewed(conn: psycopg.Connection[Any], bp: NormalizedBlueprint) -> tuple[Plan, Reviewed]:
    managed = {"orders", "customers"}
    prints = fingerprints(conn, SCHEMA, scope_of(bp, managed))
    p = plan(conn, bp, schema=SCHEMA, managed=managed)
    return p, Reviewed.of(p, prints)


def _request(bp: NormalizedBlueprint, p: Plan, policy: LockRetryPolicy) -> ApplyRequest:
    return ApplyRequest.reviewing(
        p,
        proposal_id="00000000-0000-0000-0000-0000000000b7",
        tenant_id="t_test",
        schema=SCHEMA,
        managed=frozenset({"orders", "customers"}),
        schema_hash="test",
        version=bp.schema_version,
        description="test",
        applied_by="test",
        lock_key=17,
        lock_timeout_ms=policy.lock_timeout_ms,
        statement_timeout_ms=60_000,
        lock_retry=policy,
    )


def _hold_access_share(other: psycopg.Connection[Any]) -> int:
    """ACCESS SHARE on orders in an open transaction (it blocks any ALTER TABLE), last seen
    running a query with a secret in it."""
    other.execute(f"LOCK TABLE {SCHEMA}.orders IN ACCESS SHARE MODE")
    other.execute(f"SELECT count(*) /* {SECRET_QUERY} */ FROM {SCHEMA}.orders")
    return other.info.backend_pid


def _no_marker(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT to_regclass('schemabuilder.schema_migrations')").fetchone() == (
        None,
    ) or conn.execute("SELECT count(*) FROM schemabuilder.schema_migrations").fetchone() == (0,)


def test_a_held_lock_is_retried_then_the_apply_fails_naming_the_blocker(conn, other):
    bp = _blueprint(NOTE)
    p, reviewed = _reviewed(conn, bp)
    before = fingerprints(conn, SCHEMA, {"orders", "customers"})
    pid = _hold_access_share(other)
    heard: list[LockRetry] = []
    with pytest.raises(LockTimeout) as raised:
        apply_plan(
            conn, bp, _request(bp, p, _policy(3)), reviewed=reviewed, on_lock_retry=heard.append
        )
    other.rollback()
    error = raised.value
    message = str(error)
    assert message.startswith("Locking the tables it changes failed: SQLSTATE 55P03 (lock")
    assert f"Waited 300 ms x 3 for ACCESS EXCLUSIVE on {SCHEMA}.orders" in message
    assert f"held by pid {pid} (AccessShareLock, in a transaction for" in message
    for secret in (SECRET_QUERY, SECRET_APP):
        assert secret not in message
        assert secret not in repr(error.blockers) and secret not in repr(error.retries)
    assert [r.attempt for r in error.retries] == [1, 2, 3]
    assert [r.attempt for r in heard] == [1, 2]  # the last attempt was not retried
    assert error.retries[-1].backoff_ms is None
    assert all(r.sqlstate == "55P03" for r in error.retries)
    assert all([b.pid for b in r.blockers] == [pid] for r in error.retries)
    assert error.blockers == [b.to_json() for b in error.retries[-1].blockers]
    # Nothing half done: the target is as it was, and no marker says otherwise.
    assert fingerprints(conn, SCHEMA, {"orders", "customers"}) == before
    assert _no_marker(conn)


def test_a_lock_let_go_after_the_first_timeout_is_applied_on_the_retry(conn, other):
    bp = _blueprint(NOTE)
    p, reviewed = _reviewed(conn, bp)
    pid = _hold_access_share(other)
    heard: list[LockRetry] = []

    def let_go(retry: LockRetry) -> None:
        heard.append(retry)
        other.rollback()  # the blocker commits once the apply has given way once

    outcome = apply_plan(
        conn, bp, _request(bp, p, _policy(4)), reviewed=reviewed, on_lock_retry=let_go
    )
    assert [r.attempt for r in outcome.lock_retries] == [1]
    (retry,) = outcome.lock_retries
    assert retry is heard[0]
    assert retry.wanted == f"ACCESS EXCLUSIVE on {SCHEMA}.orders"
    assert [(b.pid, b.mode, b.granted) for b in retry.blockers] == [(pid, "AccessShareLock", True)]
    assert retry.describe().startswith("retried after a lock timeout (waited ")
    assert f"held by pid {pid} (AccessShareLock" in retry.describe()
    assert SECRET_QUERY not in repr(retry.to_json())
    columns = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
        "AND table_name = 'orders' ORDER BY ordinal_position",
        [SCHEMA],
    ).fetchall()
    assert [c for (c,) in columns] == ["id", "total", "note"]


def test_a_statement_planned_in_the_apply_retries_too(conn, other):
    """Without a reviewed plan nothing is locked up front: the ALTER TABLE itself waits."""
    bp = _blueprint(NOTE)
    p = plan(conn, bp, schema=SCHEMA, managed={"orders", "customers"})
    pid = _hold_access_share(other)

    def let_go(retry: LockRetry) -> None:
        other.rollback()

    outcome = apply_plan(conn, bp, _request(bp, p, _policy(3)), on_lock_retry=let_go)
    (retry,) = outcome.lock_retries
    assert [b.pid for b in retry.blockers] == [pid]
    assert retry.wanted == f"ACCESS EXCLUSIVE on {SCHEMA}.orders"


def test_a_deadlock_is_retried_then_fails_naming_the_other_connection(conn, other):
    """The apply locks orders up front; its foreign key then needs customers, which the other
    connection holds, and which then asks for orders: a deadlock each time the apply tries.
    The other connection's deadlock_timeout is long, so PostgreSQL always aborts the apply's
    statement (its check runs first), never the other's."""
    bp = _blueprint(CUSTOMER)
    p, reviewed = _reviewed(conn, bp)
    before = fingerprints(conn, SCHEMA, {"orders", "customers"})
    other.execute("SET deadlock_timeout = '60s'")
    other.execute(f"LOCK TABLE {SCHEMA}.customers IN ACCESS EXCLUSIVE MODE")
    apply_pid: list[int] = []
    errors: list[BaseException] = []

    def close_the_cycle() -> None:
        wait_for(
            lambda: bool(
                apply_pid
                and conn_watch.execute(
                    "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", apply_pid
                ).fetchone()
            ),
            30,
            "the apply to wait for customers",
        )
        try:
            other.execute(f"LOCK TABLE {SCHEMA}.orders /* {SECRET_QUERY} */")
        except psycopg.Error as exc:  # pragma: no cover - would fail the test below
            errors.append(exc)

    with psycopg.connect(conn.info.dsn, autocommit=True) as conn_watch:
        apply_pid.append(conn.info.backend_pid)
        closing = threading.Thread(target=close_the_cycle)
        closing.start()
        with pytest.raises(Deadlock) as raised:
            apply_plan(conn, bp, _request(bp, p, _policy(2, 10_000)), reviewed=reviewed)
        closing.join(30)
    other.rollback()
    assert not errors
    message = str(raised.value)
    assert message.startswith("Statement ") and "SQLSTATE 40P01 (deadlock" in message
    assert f"Deadlocked 2 times for SHARE ROW EXCLUSIVE on {SCHEMA}.customers" in message
    assert f"held by pid {other.info.backend_pid} (AccessExclusiveLock" in message
    assert SECRET_QUERY not in message and SECRET_APP not in message
    assert [r.sqlstate for r in raised.value.retries] == ["40P01", "40P01"]
    assert fingerprints(conn, SCHEMA, {"orders", "customers"}) == before
    assert _no_marker(conn)


def test_in_autocommit_the_lock_timeout_is_the_statements_alone(conn, other):
    """Outside a transaction (a step that cannot run in one) the statement's lock_timeout is
    set for it and put back afterwards, also when it gives up."""
    conn.execute("SET lock_timeout = '7s'")
    pid = _hold_access_share(other)
    with pytest.raises(LockTimeout) as raised:
        run_with_lock_retries(
            conn,
            f"ALTER TABLE {SCHEMA}.orders ADD COLUMN note text",
            _policy(2, 200),
            in_transaction=False,
            where="Step 1 of 1 failed",
        )
    assert conn.execute("SHOW lock_timeout").fetchone() == ("7s",)
    assert str(raised.value).startswith("Step 1 of 1 failed: SQLSTATE 55P03")
    assert [b.pid for b in raised.value.retries[0].blockers] == [pid]
    other.rollback()
    run_with_lock_retries(
        conn,
        f"ALTER TABLE {SCHEMA}.orders ADD COLUMN note text",
        _policy(2, 200),
        in_transaction=False,
    )
    assert conn.execute("SHOW lock_timeout").fetchone() == ("7s",)


def test_full_jitter_stays_under_the_exponential_step_and_its_cap():
    policy = LockRetryPolicy(base_backoff_ms=100, max_backoff_ms=300)

    class Highest(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    assert [policy.backoff_ms(n, Highest()) for n in (1, 2, 3, 4)] == [100, 200, 300, 300]
    draws = [policy.backoff_ms(3, random.Random(seed)) for seed in range(50)]
    assert all(0 <= d <= 300 for d in draws) and len(set(draws)) > 1
    with pytest.raises(ValueError):
        LockRetryPolicy(max_attempts=0)


def test_lock_modes_are_named_as_lock_table_spells_them():
    assert sql_mode("AccessExclusiveLock") == "ACCESS EXCLUSIVE"
    assert sql_mode("ShareRowExclusiveLock") == "SHARE ROW EXCLUSIVE"
    assert sql_mode("ShareLock") == "SHARE"
