"""The review flow in Chromium, with real worker processes applying to a real target."""

from __future__ import annotations

import json

import psycopg
import pytest
from playwright.sync_api import expect

from migrations_ui.models import Proposal, ProposalStatus, Source
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope, table
from tests.apply.conftest import wait_for
from tests.conftest import PASSWORD
from tests.e2e.conftest import login
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Generous: a cold worker process starts, then plans and applies in one transaction.
APPLY_WAIT_MS = 90_000

V1 = {
    "schema_version": "001",
    "description": "Patients",
    "tables": [
        {
            "name": "patients",
            "columns": [
                {"name": "first_name", "type": "TEXT", "not_null": True},
                {"name": "phone", "type": "TEXT"},
            ],
        }
    ],
}
V2 = {
    "schema_version": "002",
    "description": "Email instead of phone; visits",
    "tables": [
        {
            "name": "patients",
            "columns": [
                {"name": "first_name", "type": "TEXT", "not_null": True},
                {"name": "email", "type": "TEXT"},
            ],
        },
        {
            "name": "visits",
            "columns": [
                {
                    "name": "patient_id",
                    "type": "UUID",
                    "not_null": True,
                    "references": "patients.id",
                },
                {"name": "starts_at", "type": "TIMESTAMPTZ", "not_null": True},
            ],
        },
    ],
}


def test_alice_fixes_an_error_submits_a_safe_change_and_watches_it_apply(
    page, live_server, people, workers, artifacts_dir
):
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/new/")
    broken = json.loads(json.dumps(V1))
    broken["tables"][0]["columns"][1]["type"] = "TEXT; DROP TABLE patients"
    page.fill("#id_blueprint", json.dumps(broken, indent=2))

    issue = page.locator("#blueprint-issues .issue")
    expect(issue).to_have_count(1)
    expect(issue.locator(".path")).to_have_text("tables[0].columns[1].type")
    expect(issue.locator(".line")).to_have_text("line 15")  # the "type" line of the second column
    expect(issue.locator(".message")).to_contain_text("would end the statement")
    page.screenshot(path=str(artifacts_dir / "submit-with-an-error.png"), full_page=True)

    page.fill("#id_blueprint", json.dumps(V1, indent=2))
    expect(page.locator("#blueprint-issues")).to_contain_text("Valid.")
    page.click("button[value=submit]")
    page.wait_for_url("**/proposals/*/")
    expect(page.locator("#proposal-status")).to_contain_text("Queued")

    # From here on the page must not reload: a marker on the window would be lost.
    page.evaluate("window.stillTheSamePage = true")
    workers.start()
    expect(page.locator("#proposal-status")).to_contain_text("Applied", timeout=APPLY_WAIT_MS)
    assert page.evaluate("window.stillTheSamePage") is True
    expect(page.locator("#proposal-status .live")).to_have_count(0)  # polling stopped
    expect(page.locator("#timeline")).to_contain_text("applied")  # came along out of band
    assert Proposal.objects.get().status == ProposalStatus.APPLIED


def _apply_v1(people, target_url: str) -> None:  # type: ignore[no-untyped-def]
    v1 = envelope([table("patients", ("first_name", "TEXT"), ("phone", "TEXT"))], version="001")
    proposal = submit(user=people.alice, envelope=v1, source=Source.API).proposal

    def applied() -> bool:
        proposal.refresh_from_db()
        return proposal.status == ProposalStatus.APPLIED

    wait_for(applied, 90, "v1 to be applied")
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO patients (tenant_id, first_name, phone)"
            " VALUES (gen_random_uuid(), 'Ada', '555-0100')"
        )


def test_a_dangerous_change_needs_bob_who_ticks_every_hazard_and_dave_sees_nothing(
    browser, page, live_server, people, workers, target_url, artifacts_dir
):
    workers.start()
    _apply_v1(people, target_url)

    # Alice submits v2 (it drops the populated column phone) with force_apply.
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/new/")
    page.fill("#id_blueprint", json.dumps(V2, indent=2))
    page.check("#id_force_apply")
    expect(page.locator("#blueprint-issues")).to_contain_text("on: a second person approves")
    page.click("button[value=submit]")
    page.wait_for_url("**/proposals/*/")
    url = page.url
    expect(page.locator("#proposal-status")).to_contain_text("Awaiting approval")
    expect(page.locator("#why-not")).to_have_text(
        "You submitted this proposal; a second person must approve it."
    )
    expect(page.locator("#review-panel button[value=approve]")).to_have_count(0)

    # Bob opens it in his own browser session.
    bob_context = browser.new_context(viewport={"width": 1280, "height": 900})
    bob = bob_context.new_page()
    login(bob, live_server, "bob", PASSWORD)
    bob.goto(url)
    expect(bob.locator("#risk-report .hazard").first).to_contain_text("DROPS_COLUMN")
    bob.screenshot(path=str(artifacts_dir / "proposal-page.png"), full_page=True)
    bob.locator("#risk-report").screenshot(path=str(artifacts_dir / "risk-report.png"))

    # Approving before ticking every hazard is refused, and nothing moves.
    bob.fill("#review-panel textarea[name=comment]", "phone moved to the CRM last week")
    bob.click("#review-panel button[value=approve]")
    expect(bob.locator("#review-panel .alert")).to_contain_text(
        "Acknowledge every dangerous change before approving"
    )
    assert Proposal.objects.get(schema_version="002").status == ProposalStatus.AWAITING_APPROVAL

    boxes = bob.locator("#review-panel input[name=ack]")
    assert boxes.count() >= 1
    for n in range(boxes.count()):
        boxes.nth(n).check()
    bob.click("#review-panel button[value=approve]")
    expect(bob.locator("#proposal-status")).to_contain_text("Applied", timeout=APPLY_WAIT_MS)
    expect(bob.locator("#review-panel")).to_contain_text("approved by bob")
    bob.screenshot(path=str(artifacts_dir / "proposal-applied.png"), full_page=True)

    # Alice's page learned of it without a reload.
    expect(page.locator("#proposal-status")).to_contain_text("Applied", timeout=APPLY_WAIT_MS)

    bob.goto(f"{live_server.url}/tenants/t_demo/")
    expect(bob.locator("#history .version")).to_have_count(2)
    bob.screenshot(path=str(artifacts_dir / "tenant-history.png"), full_page=True)
    bob_context.close()

    # Dave, a member of nothing, cannot open it: not found, as if it did not exist.
    UserFactory(username="dave")
    dave_context = browser.new_context()
    dave = dave_context.new_page()
    login(dave, live_server, "dave", PASSWORD)
    response = dave.goto(url)
    assert response is not None and response.status == 404
    assert "Email instead of phone" not in dave.content()
    dave_context.close()
