"""A first stage too large for the lock budget runs in batches (a small budget forced so the
tests stay fast): each batch its own transaction, verified, marked done in that transaction;
a crash between or inside batches resumes to the desired state with nothing run twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.many_tables_bench import PG15_BIN, own_server
from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.apply import (
    ApplyError,
    ApplyRequest,
    BatchFailed,
    Reviewed,
    apply_plan,
    fingerprints,
    read_marker,
    resume_apply,
    scope_of,
)
from schemabuilder.engine.apply import batches as runner
from schemabuilder.engine.batches import batch_count
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.hazards import HazardKind
from schemabuilder.engine.lock_budget import forced_budget, read_budget
from schemabuilder.engine.plan import plan
from tests.apply.batch_setup import (
    BUDGET,
    LIVE,
    MANAGED,
    SCHEMA,
    blueprint,
    marker,
    request_for,
    reviewed_plan,
)
from tests.engine.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(target_db_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    for made in fresh_database(target_db_url, "sbbatch", request):
        with psycopg.connect(made, autocommit=True) as conn:
            conn.execute(LIVE.encode())
        yield made


@pytest.fixture
def any_url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    for made in fresh_database(any_target_url, "sbbatch", request):
        with psycopg.connect(made, autocommit=True) as conn:
            conn.execute(LIVE.encode())
        yield made


def _everything_made(conn: psycopg.Connection) -> None:
    """The schema is the blueprint's: a fresh plan has nothing to do, and every table is
    the desired one."""
    bp = blueprint()
    again = plan(conn, bp, schema=SCHEMA, managed=MANAGED | {t.name for t in bp.tables})
    assert again.is_empty, again.sql
    live = introspect(conn, SCHEMA, tables=set(again.desired.table_map))
    assert live == again.desired


def test_a_small_budget_splits_the_plan_and_linked_tables_keep_their_order(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        split, _ = reviewed_plan(conn, blueprint())
        whole, _ = reviewed_plan(conn, blueprint(), budget=None)
    assert batch_count(split.statements) >= 3
    assert batch_count(whole.statements) == 1
    assert all(st.batch == 0 for st in whole.statements)
    assert "batch" not in whole.to_json()["statements"][0]
    # The same desired state, though materialized in several rolled-back transactions.
    assert split.desired == whole.desired
    assert split.materialized_tables == whole.materialized_tables
    # The same statements, in batches: the existing table's and the table its new key
    # references in the first, every table after those it references or reads.
    assert sorted(st.sql for st in split.statements) == sorted(st.sql for st in whole.statements)
    batch_of: dict[str, int] = {}
    for st in split.statements:
        if st.stage == 1 and st.table:
            batch_of.setdefault(st.table, st.batch)
            assert batch_of[st.table] == st.batch, st.sql
    assert batch_of["accounts"] == batch_of["regions"] == 1
    for k in range(6):
        assert batch_of[f"g{k}_parent"] <= batch_of[f"g{k}_child"]
        assert batch_of[f"g{k}_parent"] <= batch_of[f"g{k}_reader"]
    assert [st.batch for st in split.statements if st.stage == 1] == sorted(
        st.batch for st in split.statements if st.stage == 1
    )
    assert f"-- batch {batch_count(split.statements)} of " in split.sql
    assert {s.get("batch") for s in split.to_json()["statements"] if s["stage"] == 1} == set(
        range(1, batch_count(split.statements) + 1)
    )


def test_a_plan_in_batches_applies_and_plans_again_empty(any_url: str) -> None:
    with psycopg.connect(any_url, autocommit=True) as conn:
        p, reviewed = reviewed_plan(conn, blueprint())
        outcome = apply_plan(conn, blueprint(), request_for(p), reviewed=reviewed)
        assert outcome.transactions == batch_count(p.statements) >= 3
        assert [s.status for s in outcome.phase2_steps] == ["done", "done"]
        status, batches = marker(conn)
        assert status == "success"
        assert batches == ["done"] * (outcome.transactions - 1)
        _everything_made(conn)


def test_an_error_after_a_batch_commits_resumes_without_running_it_again(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runner._run
    ran: list[int] = []

    def fail_in_third(conn, request, batch, retries):  # type: ignore[no-untyped-def]
        if batch.batch == 3 and not ran.count(3):
            ran.append(3)
            raise RuntimeError("the worker went away")
        ran.append(batch.batch)
        real(conn, request, batch, retries)

    monkeypatch.setattr(runner, "_run", fail_in_third)
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        p, reviewed = reviewed_plan(conn, bp)
        total = batch_count(p.statements)
        with pytest.raises(RuntimeError):
            apply_plan(conn, bp, request_for(p), reviewed=reviewed)
        assert marker(conn) == ("phase1", ["done"] + ["pending"] * (total - 2))
        made = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s", [SCHEMA]
        ).fetchone()
        outcome = resume_apply(conn, request_for(p), bp=bp)
        assert ran == [2, 3, *range(3, total + 1)]  # batch 2 not again
        assert outcome.transactions == total
        assert marker(conn) == ("success", ["done"] * (total - 1))
        after = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s", [SCHEMA]
        ).fetchone()
        assert made is not None and after is not None and after[0] > made[0]
        _everything_made(conn)


def test_a_batch_that_fails_rolls_back_alone_and_the_marker_says_so(url: str) -> None:
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        p, reviewed = reviewed_plan(conn, bp)
        total = batch_count(p.statements)
        index = next(
            st for st in p.statements if st.batch == total and st.sql.startswith("CREATE INDEX")
        )
        name = index.sql.split()[2]
        # A table nobody manages takes the index's name: the last batch's build fails.
        conn.execute(f"CREATE TABLE crm.other (a int); CREATE INDEX {name} ON crm.other (a)")
        with pytest.raises(BatchFailed, match=f"Batch {total}, statement") as failed:
            apply_plan(conn, bp, request_for(p), reviewed=reviewed)
        assert failed.value.statement == index.sql
        status, batches = marker(conn)
        assert status == "failed"
        assert batches == ["done"] * (total - 2) + ["failed"]
        last = {st.table for st in p.statements if st.batch == total}
        made = {
            str(r[0])
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'crm'")
        }
        assert not last & made  # the failed batch left nothing
        assert {st.table for st in p.statements if st.batch == total - 1} <= made
        with pytest.raises(ApplyError, match="failed"):
            resume_apply(conn, request_for(p), bp=bp)


@pytest.mark.parametrize(("batch", "when"), [(2, "before"), (3, "verified"), (2, "verified")])
def test_a_killed_apply_resumes_from_the_marker(url: str, batch: int, when: str) -> None:
    child = subprocess.run(
        [sys.executable, "-m", "tests.apply.batch_child", url, str(batch), when],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    bp = blueprint()
    with psycopg.connect(url, autocommit=True) as conn:
        status, batches = marker(conn)
        # The killed batch rolled back with its mark: done are exactly the ones before it.
        assert status == "phase1"
        assert batches == ["done"] * (batch - 2) + ["pending"] * (len(batches) - batch + 2)
        p, _ = reviewed_plan(conn, bp)
        outcome = resume_apply(conn, request_for(p), bp=bp)
        assert marker(conn) == ("success", ["done"] * len(batches))
        assert [s.status for s in outcome.phase2_steps] == ["done", "done"]
        _everything_made(conn)


def test_an_atomic_plan_over_the_budget_says_what_to_raise(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        p, _ = reviewed_plan(conn, blueprint(apply_mode="atomic"))
    assert batch_count(p.statements) == 1
    hazard = next(h for h in p.hazards if h.kind is HazardKind.TOO_MANY_LOCKS)
    assert p.is_dangerous
    assert f"more than the {BUDGET:,}" in hazard.message
    assert "raise the lock budget" in hazard.message and "or apply online" in hazard.message


def test_a_cycle_larger_than_the_budget_is_refused(url: str) -> None:
    # a -> b -> c -> a: each table fits a transaction of 12 locks with a stand-in of the one
    # it references (so they materialize), but the three must be created together (18).
    names = ["cyc_a", "cyc_b", "cyc_c"]
    tables = [
        {
            "name": name,
            "rls": False,
            "columns": [
                {"name": "id", "type": "BIGINT", "primary_key": True},
                {"name": "next_id", "type": "BIGINT", "references": f"{names[(i + 1) % 3]}.id"},
            ],
        }
        for i, name in enumerate(names)
    ]
    bp = validate_payload(
        {"schema_version": "1", "description": "cycle", "auto_columns": False, "tables": tables}
    )
    with (
        psycopg.connect(url, autocommit=True) as conn,
        pytest.raises(BlueprintInvalid, match="3 tables that reference each other") as refused,
    ):
        plan(conn, bp, schema=SCHEMA, managed=(), lock_budget=forced_budget(12))
    assert "raise the lock budget (12) to" in str(refused.value)


def test_more_tables_than_a_default_lock_table_holds_apply_on_the_servers_own_budget() -> None:
    """~2,500 small tables take more locks than the whole lock table of a PostgreSQL 15 with
    initdb's defaults (one of this test's own: the test servers have larger ones, and filling
    a shared one makes its other clients fail): with the budget read from the server, the
    plan and the apply split themselves and succeed."""
    if not (PG15_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL 15 in {PG15_BIN}")
    tables = [
        {
            "name": f"t{i:04d}",
            "rls": False,
            "columns": [
                {"name": "id", "type": "BIGINT", "primary_key": True},
                {"name": "note", "type": "TEXT"},
            ],
        }
        for i in range(2_500)
    ]
    bp = validate_payload(
        {"schema_version": "1", "description": "many", "auto_columns": False, "tables": tables}
    )
    with own_server() as made, psycopg.connect(made, autocommit=True) as conn:
        budget = read_budget(conn)
        assert budget.capacity < 2_500 * 4  # one transaction could not hold them
        prints = fingerprints(conn, "many", scope_of(bp, ()))
        p = plan(conn, bp, schema="many", managed=())
        assert batch_count(p.statements) >= 2
        assert not p.hazards  # no TOO_MANY_LOCKS: each batch fits
        req = ApplyRequest.reviewing(
            p,
            proposal_id="00000000-0000-0000-0000-0000000025a0",
            tenant_id="t_many",
            schema="many",
            managed=frozenset(),
            schema_hash="many",
            version="1",
            description="many",
            applied_by="alice",
            lock_key=2500,
            lock_timeout_ms=10_000,
            statement_timeout_ms=600_000,
        )
        outcome = apply_plan(conn, bp, req, reviewed=Reviewed.of(p, prints))
        assert outcome.transactions == batch_count(p.statements)
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'many'").fetchone()
        assert row is not None and row[0] == 2_500
        assert read_marker(conn, req.proposal_id)["status"] == "success"  # type: ignore[index]
