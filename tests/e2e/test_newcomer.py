"""What a newcomer trips over, in Chromium: resubmitting a blocked change with force_apply,
a failure shown while watching, searching what the pages print, who approved, the approval
badge, a phone-sized window, and times with their zone.

The worker's own code runs in the test's process (``workflow.apply.run``) where a test needs a
change applied: what is under test here is what the pages show.
"""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import expect

from migrations_ui import workflow
from migrations_ui.models import Proposal, ProposalStatus, Source
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope, table
from tests.conftest import PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

V1 = [table("patients", ("first_name", "TEXT"), ("phone", "TEXT"))]
V2_DROPS_PHONE = [table("patients", ("first_name", "TEXT"), ("email", "TEXT"))]
V3 = [table("patients", ("first_name", "TEXT"), ("phone", "TEXT"), ("email", "TEXT"))]


def _apply(proposal: Proposal) -> Proposal:
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    return proposal


def _v1_with_a_phone(people, target_url: str) -> Proposal:  # type: ignore[no-untyped-def]
    v1 = submit(user=people.alice, envelope=envelope(V1, version="001"), source=Source.API)
    assert _apply(v1.proposal).status == ProposalStatus.APPLIED, v1.proposal.error
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO patients (tenant_id, first_name, phone)"
            " VALUES (gen_random_uuid(), 'Ada', '555-0100')"
        )
    return v1.proposal


def _forced_and_approved(people) -> Proposal:  # type: ignore[no-untyped-def]
    forced = submit(
        user=people.alice,
        envelope=envelope(V2_DROPS_PHONE, version="002", force=True),
        source=Source.API,
    ).proposal
    assert forced.status == ProposalStatus.AWAITING_APPROVAL
    workflow.approve(
        forced,
        people.bob,
        forced.plan_checksum,
        acknowledged=[h["id"] for h in forced.dangerous_hazards],
    )
    assert _apply(forced).status == ProposalStatus.APPLIED, forced.error
    return forced


def test_a_blocked_proposal_is_resubmitted_with_force_and_the_two_link_both_ways(
    page, live_server, people, target_url
):
    _v1_with_a_phone(people, target_url)
    blocked = submit(
        user=people.alice, envelope=envelope(V2_DROPS_PHONE, version="002"), source=Source.API
    ).proposal
    assert blocked.status == ProposalStatus.BLOCKED

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/{blocked.pk}/")
    page.click("#resubmit-forced")
    page.wait_for_url("**/proposals/*/")
    copy = Proposal.objects.exclude(pk=blocked.pk).get(schema_version="002")
    assert page.url.endswith(f"/proposals/{copy.pk}/")
    assert copy.force_apply and copy.status == ProposalStatus.AWAITING_APPROVAL
    assert copy.resubmitted_from_id == blocked.pk
    expect(page.locator("#proposal-status")).to_contain_text("Awaiting approval")
    back = page.locator("#resubmitted-from a")
    expect(back).to_contain_text(str(blocked.pk)[:8])

    back.click()
    page.wait_for_url(f"**/proposals/{blocked.pk}/")
    forward = page.locator("#resubmissions a")
    expect(forward).to_have_text(str(copy.pk)[:8])
    forward.click()
    page.wait_for_url(f"**/proposals/{copy.pk}/")


def test_a_proposal_that_fails_while_you_watch_shows_its_banner_without_a_reload(
    page, live_server, people, target_url
):
    v1 = submit(user=people.alice, envelope=envelope(V1, version="001"), source=Source.API)
    _apply(v1.proposal)
    three = submit(user=people.alice, envelope=envelope(V3, version="003"), source=Source.API)
    four = submit(
        user=people.alice, envelope=envelope(V2_DROPS_PHONE, version="004"), source=Source.API
    )
    assert three.proposal.status == ProposalStatus.QUEUED

    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/{three.proposal.pk}/")
    expect(page.locator("#proposal-status")).to_contain_text("Queued")
    expect(page.locator("#failure-banner")).to_have_count(0)
    page.evaluate("window.stillTheSamePage = true")

    # v004 is applied first; v003 would now take the target backwards, so the worker fails it.
    _apply(four.proposal)
    assert _apply(three.proposal).status == ProposalStatus.FAILED

    expect(page.locator("#proposal-status")).to_contain_text("Failed", timeout=15_000)
    banner = page.locator("#failure-banner")
    expect(banner).to_contain_text("Failed.")
    expect(banner).to_contain_text("lower than dev's current version 004")
    assert page.evaluate("window.stillTheSamePage") is True


def test_the_list_finds_a_proposal_by_its_short_id_and_by_v_version(
    page, live_server, people, target_url
):
    one = submit(user=people.alice, envelope=envelope(V1, version="001"), source=Source.API)
    two = submit(user=people.alice, envelope=envelope(V3, version="002"), source=Source.API)
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/")
    rows = page.locator("#proposal-table tbody tr")
    expect(rows).to_have_count(2)

    page.fill("input[name=q]", str(two.proposal.pk)[:8])
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("v002")
    expect(rows.first).to_contain_text(str(two.proposal.pk)[:8])  # the short id is shown

    page.fill("input[name=q]", "v001")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(str(one.proposal.pk)[:8])


def test_pages_say_who_approved_and_times_carry_their_zone(page, live_server, people, target_url):
    _v1_with_a_phone(people, target_url)
    forced = _forced_and_approved(people)
    login(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/proposals/{forced.pk}/")
    expect(page.locator("#who-applied")).to_have_text("Applied by alice, approved by bob")
    expect(page.locator("#proposal-head .facts")).to_contain_text("UTC")

    page.goto(f"{live_server.url}/tenants/t_demo/")
    expect(page.locator("#current-who")).to_have_text("Applied by alice, approved by bob")
    newest = page.locator("#history .version").first
    expect(newest.locator(".who")).to_have_text("Applied by alice, approved by bob")
    expect(newest).to_contain_text("UTC")
    expect(page.locator("#history .version").nth(1).locator(".who")).to_have_text(
        "Applied by alice, no approval needed"
    )


def test_the_badge_counts_what_its_list_shows(browser, live_server, people, target_url):
    theirs = submit(
        user=people.alice, envelope=envelope(V1, version="001", force=True), source=Source.API
    ).proposal
    own = submit(
        user=people.bob, envelope=envelope(V3, version="002", force=True), source=Source.API
    ).proposal
    assert theirs.status == own.status == ProposalStatus.AWAITING_APPROVAL

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    bob = context.new_page()
    login(bob, live_server, "bob", PASSWORD)
    expect(bob.locator("#approval-count .count")).to_have_text("1")
    bob.click("#approval-count")
    bob.wait_for_url("**/proposals/?awaiting=me")
    rows = bob.locator("#proposal-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("v001")
    expect(bob.locator("#awaiting-note")).to_contain_text("not your own")
    context.close()


def test_the_app_fits_a_390_px_phone(browser, live_server, people, target_url, artifacts_dir):
    _v1_with_a_phone(people, target_url)
    forced = _forced_and_approved(people)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    login(phone, live_server, "alice", PASSWORD)
    pages = {
        "proposal": f"/proposals/{forced.pk}/",
        "dashboard": "/",
        "proposals": "/proposals/",
        "history": "/tenants/t_demo/",
        "new": "/proposals/new/",
    }
    for name, path in pages.items():
        phone.goto(f"{live_server.url}{path}")
        phone.wait_for_load_state("networkidle")
        width = phone.evaluate("document.documentElement.scrollWidth")
        if name == "proposal":
            phone.screenshot(path=str(artifacts_dir / "proposal-page-390px.png"), full_page=True)
        assert width <= 390, f"{name} is {width} px wide"
        nav = phone.locator(".topbar .nav").bounding_box()
        assert nav is not None and nav["x"] >= 0 and nav["x"] + nav["width"] <= 390, name
    context.close()
