"""An online change in Chromium: alice adds an index and a NOT NULL to a table with rows; real
workers apply it in two stages, and the page (never reloaded) shows both, each second-stage
step with its duration, in the bar, the stage lines, the statements and the timeline. Then a
step held mid-build is seen running, and seen failing when duplicates arrive before it."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

import psycopg
import pytest
from django.db import connection
from playwright.sync_api import expect

from migrations_ui.models import AuditEvent, Proposal, ProposalStatus, Source
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow.submission import submit
from schemabuilder.engine.apply import runner
from tests.apply.blueprints import envelope, table
from tests.apply.conftest import wait_for
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

APPLY_WAIT_MS = 90_000  # a cold worker process starts, plans, and applies both stages
ROWS = 5_000

V2 = {
    "schema_version": "002",
    "description": "Orders by total; every order has a code",
    "tables": [
        {
            "name": "orders",
            "columns": [
                {"name": "total", "type": "INTEGER"},
                {"name": "code", "type": "TEXT", "not_null": True},
            ],
            "indexes": [{"name": "idx_orders_total", "columns": ["total"]}],
        }
    ],
}


def _orders_with_rows(people, target_url: str) -> None:  # type: ignore[no-untyped-def]
    v1 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))])
    proposal = submit(user=people.alice, envelope=v1, source=Source.API).proposal

    def applied() -> bool:
        proposal.refresh_from_db()
        return proposal.status == ProposalStatus.APPLIED

    wait_for(applied, 90, "v1 to be applied")
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO orders (tenant_id, total, code) "
            "SELECT gen_random_uuid(), g %% 97, 'o' || g FROM generate_series(1, %s) g",
            [ROWS],
        )


def test_an_online_change_shows_both_stages_and_each_step_with_its_duration(
    page, live_server, people, workers, target_url, artifacts_dir
):
    workers.start()
    _orders_with_rows(people, target_url)

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/new/")
    page.fill("#id_blueprint", json.dumps(V2, indent=2))
    expect(page.locator("#blueprint-issues")).to_contain_text("Valid.")
    page.click("button[value=submit]")
    page.wait_for_url("**/proposals/*/")
    page.evaluate("window.stillTheSamePage = true")

    expect(page.locator("#proposal-status")).to_contain_text("Applied", timeout=APPLY_WAIT_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    proposal = Proposal.objects.get(schema_version="002")
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    planned = proposal.plan_statements()
    stage_two = [st for st in planned if st.get("stage") == 2]
    stage_one = [st for st in planned if st.get("stage", 1) == 1]
    assert len(stage_two) >= 2, [st["sql"] for st in planned]

    # The bar: stage 1, then one segment per step, all done.
    stages = page.locator("#apply-stages")
    expect(stages.locator(".stage-bar .seg-stage1.st-done")).to_have_count(1)
    expect(stages.locator(".stage-bar .seg-step.st-done")).to_have_count(len(stage_two))
    # The lines: stage 1 committed with its time, stage 2 done, each step with its own.
    expect(stages.locator("#stage-1")).to_contain_text("one transaction")
    expect(stages.locator("#stage-1")).to_contain_text(
        re.compile(rf"{len(stage_one)} of {len(stage_one)} statements · committed in [\d.]+ ms")
    )
    expect(stages.locator("#stage-2")).to_contain_text("online, one by one")
    expect(stages.locator("#stage-2")).to_contain_text(
        f"{len(stage_two)} of {len(stage_two)} steps · done in"
    )
    steps = stages.locator(".step")
    expect(steps).to_have_count(len(stage_two))
    for n, st in enumerate(stage_two):
        step = steps.nth(n)
        expect(step).to_have_class(re.compile(r"\bst-done\b"))
        expect(step.locator(".step-ms")).to_have_text(re.compile(r"^[\d.]+ ms$"))
        expect(step.locator(".step-sql")).to_contain_text(" ".join(st["sql"].split())[:40])
    expect(stages.locator("#stage-2")).to_contain_text("CREATE INDEX CONCURRENTLY")

    # The timeline: the commit, then each step with its duration; it came along out of band.
    timeline = page.locator("#timeline")
    expect(timeline.locator(".ev-stage1_committed")).to_have_count(1)
    expect(timeline.locator(".ev-stage1_committed")).to_contain_text(
        f"{len(stage_one)} statements in one transaction"
    )
    for n in range(1, len(stage_two) + 1):
        event = timeline.locator(".ev-stage2_step").nth(n - 1)
        expect(event).to_contain_text(f"Stage 2 · step {n} of {len(stage_two)}")
        expect(event.locator(".badge")).to_have_text("done")
        expect(event.locator(".step-time")).to_have_text(re.compile(r"^[\d.]+ ms$"))
    assert AuditEvent.objects.filter(
        proposal=proposal, action="proposal.stage2_step"
    ).count() == len(stage_two)

    # The statements say which stage each runs in.
    page.locator("details.statements > summary").click()
    rows = page.locator("details.statements tbody tr")
    expect(rows).to_have_count(len(planned))
    expect(page.locator("details.statements tbody .stage-tag.s2")).to_have_count(len(stage_two))
    expect(page.locator("#sql .sql-tools")).to_contain_text(
        f"stage 1 runs in one transaction, then {len(stage_two)} steps online"
    )

    # Opened again once applied, the statements carry their times, the second stage's too.
    page.reload()
    page.locator("details.statements > summary").click()
    times = page.locator("details.statements tbody tr td.nowrap:last-child")
    for n, st in enumerate(planned):
        if st.get("stage") == 2:
            expect(times.nth(n)).to_have_text(re.compile(r"^[\d.]+ ms$"))

    page.screenshot(path=str(artifacts_dir / "online-apply.png"), full_page=True)
    page.locator("#proposal-head").screenshot(path=str(artifacts_dir / "online-apply-stages.png"))
    page.locator("#timeline").screenshot(path=str(artifacts_dir / "online-apply-timeline.png"))


def test_a_step_is_seen_running_then_failed_with_its_reason(
    page, live_server, people, target_url, artifacts_dir, monkeypatch
):
    # The worker runs here, in a thread, so that a step can be held while the page looks on.
    v1 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))])
    first = submit(user=people.alice, envelope=v1, source=Source.API).proposal
    apply_service.run(str(first.pk))
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO orders (tenant_id, total, code) "
            "SELECT gen_random_uuid(), g, 'o' || g FROM generate_series(1, 1000) g"
        )
    v2 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))], version="002")
    v2["payload"]["tables"][0]["indexes"] = [
        {"name": "idx_orders_code", "columns": ["code"], "unique": True}
    ]
    second = submit(user=people.alice, envelope=v2, source=Source.API).proposal
    assert second.status == ProposalStatus.QUEUED, second.error

    reached, release = threading.Event(), threading.Event()
    real = runner.run_statement

    def held_build(conn: psycopg.Connection[Any], statement: str) -> None:
        if "CREATE UNIQUE INDEX CONCURRENTLY" in statement:
            reached.set()
            release.wait(60)
            # Meanwhile, another client wrote two equal codes: the unique build fails.
            with psycopg.connect(target_url, autocommit=True) as other:
                other.execute(
                    "INSERT INTO orders (tenant_id, total, code) "
                    "SELECT gen_random_uuid(), 1, 'twice' FROM generate_series(1, 2)"
                )
        real(conn, statement)

    monkeypatch.setattr(runner, "run_statement", held_build)

    def worker() -> None:
        try:
            apply_service.run(str(second.pk))
        finally:
            connection.close()

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/{second.pk}/")
    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    try:
        assert reached.wait(60), "the build was never reached"
        stages = page.locator("#apply-stages")
        expect(page.locator("#proposal-status")).to_contain_text("Applying", timeout=10_000)
        expect(page.locator("#proposal-status")).to_contain_text("stage 2 of 2 · step 1 of 1")
        expect(stages.locator(".seg-stage1.st-done")).to_have_count(1)
        expect(stages.locator(".seg-step.st-running")).to_have_count(1)
        expect(stages.locator(".step.st-running .step-ms")).to_have_text("running…")
        expect(stages.locator(".step.st-running")).to_contain_text("idx_orders_code")
        expect(page.locator("#timeline .ev-stage1_committed")).to_have_count(1)
        page.locator("#proposal-head").screenshot(
            path=str(artifacts_dir / "online-apply-running.png")
        )
    finally:
        release.set()
        thread.join(60)

    expect(page.locator("#proposal-status")).to_contain_text("Failed", timeout=30_000)
    expect(stages.locator(".seg-step.st-failed")).to_have_count(1)
    expect(stages.locator(".step.st-failed")).to_contain_text("idx_orders_code")
    expect(stages.locator(".step-failed")).to_contain_text("Stage 1 stays committed")
    expect(page.locator("#failure-banner")).to_contain_text("Stage 2 step 1 of 1")
    failed = page.locator("#timeline .ev-stage2_step.ev-step-failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".badge")).to_have_text("failed")
    expect(failed.locator(".error")).to_contain_text("Stage 2 step 1 of 1")
    expect(failed).not_to_contain_text("twice")  # no value of another connection's rows
    page.screenshot(path=str(artifacts_dir / "online-apply-failed.png"), full_page=True)
