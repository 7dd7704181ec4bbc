"""A worker killed (SIGKILL) in an online apply's second stage, at every point between two
steps, on both servers: another process resumes from the target's marker and ends exactly at
the desired state, with no INVALID index and the marker agreeing with the catalog."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemabuilder.engine.apply import ApplyError, resume_apply
from schemabuilder.engine.apply.stage_two import index_state
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.plan import plan
from tests.apply.online_setup import (
    LIVE,
    MANAGED,
    PROPOSAL,
    SCHEMA,
    blueprint,
    invalid_indexes,
    request_for,
    reviewed_plan,
)
from tests.engine.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]


def _steps() -> int:
    """How many second-stage steps the plan has (the test below checks it on the server)."""
    return 9


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    for made in fresh_database(any_target_url, "sbcrash", request):
        with psycopg.connect(made, autocommit=True) as conn:
            conn.execute(LIVE.encode())
        yield made


def _crash_at(url: str, crash: int) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "tests.apply.online_child", url, str(crash)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


def _marker(conn: psycopg.Connection) -> tuple[str, list[str]]:
    row = conn.execute(
        "SELECT status, phase2_steps FROM schemabuilder.schema_migrations WHERE proposal_id = %s",
        [PROPOSAL],
    ).fetchone()
    assert row is not None
    return str(row[0]), [str(s["status"]) for s in row[1]]


def test_the_plan_has_the_steps_the_crash_points_walk(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        p, _ = reviewed_plan(conn, blueprint())
    assert sum(st.stage == 2 for st in p.statements) == _steps()


@pytest.mark.parametrize("crash", range(_steps() + 1))
def test_a_killed_second_stage_resumes_to_the_desired_state(url: str, crash: int) -> None:
    _crash_at(url, crash)
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        status, steps = _marker(conn)
        # The record lags the catalog by at most the step that ran: marked done are the
        # steps before it, in order.
        assert status == "phase1"
        marked = max(crash - 1, 0)
        assert steps == ["done"] * marked + ["pending"] * (_steps() - marked)
        p = plan(conn, bp, schema=SCHEMA, managed=MANAGED, apply_mode="online")
        outcome = resume_apply(conn, request_for(p), bp=bp)
        assert [s.status for s in outcome.phase2_steps] == ["done"] * _steps()
        desired = reviewed_desired(conn)
        assert introspect(conn, SCHEMA, tables=set(desired.table_map)) == desired
        assert invalid_indexes(conn) == []
        assert _marker(conn) == ("success", ["done"] * _steps())
        assert plan(conn, bp, schema=SCHEMA, managed=MANAGED | {"notes"}).is_empty


def reviewed_desired(conn: psycopg.Connection) -> Snapshot:
    """The desired state, as a fresh plan of the blueprint against the target says it."""
    return plan(conn, blueprint(), schema=SCHEMA, managed=MANAGED | {"notes"}).desired


def test_an_invalid_index_left_by_a_killed_build_is_dropped_and_built_again(url: str) -> None:
    # Killed before the first step: nothing of the second stage ran.
    _crash_at(url, 0)
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        # What a build killed half way leaves: an INVALID index of the step's name (made
        # here by a concurrent build that fails on a duplicate, then the duplicate removed).
        conn.execute("INSERT INTO shop.customers VALUES (99, 'c1@example.com')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY customers_email_key ON shop.customers (email)"
            )
        conn.execute("DELETE FROM shop.customers WHERE id = 99")
        assert index_state(conn, SCHEMA, "customers_email_key") is False
        p = plan(conn, bp, schema=SCHEMA, managed=MANAGED, apply_mode="online")
        resume_apply(conn, request_for(p), bp=bp)
        assert index_state(conn, SCHEMA, "customers_email_key") is True
        assert invalid_indexes(conn) == []
        assert _marker(conn)[0] == "success"


def test_a_change_whose_first_stage_never_committed_is_not_resumed(url: str) -> None:
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        p, _ = reviewed_plan(conn, bp)
        with pytest.raises(ApplyError, match="first stage never committed"):
            resume_apply(conn, request_for(p), bp=bp)
