"""Four eyes: the approval panel, bound to the plan's checksum; reject, cancel."""

from __future__ import annotations

from migrations_ui.models import Approval, Proposal, ProposalStatus
from tests.web.conftest import hx

S = ProposalStatus


def review(client, p: Proposal, *, headers=None, **data):  # type: ignore[no-untyped-def]
    data.setdefault("checksum", p.plan_checksum)
    return client.post(f"/proposals/{p.pk}/review/", data, headers=headers or {})


def status(p: Proposal) -> str:
    p.refresh_from_db()
    return p.status


def test_alice_sees_why_she_cannot_approve_her_own_change(client, alice, dangerous):
    client.force_login(alice)
    body = client.get(f"/proposals/{dangerous.pk}/").content.decode()
    assert "You submitted this proposal; a second person must approve it." in body
    assert 'value="approve"' not in body


def test_alice_cannot_approve_her_own_change_by_posting_either(client, alice, dangerous):
    client.force_login(alice)
    response = review(client, dangerous, decision="approve", ack=dangerous.hazard_ids())
    assert response.status_code == 422
    assert "a second person must approve it" in response.content.decode()
    assert status(dangerous) == S.AWAITING_APPROVAL
    assert not Approval.objects.exists()


def test_bob_gets_one_checkbox_per_dangerous_hazard(client, bob, dangerous):
    client.force_login(bob)
    body = client.get(f"/proposals/{dangerous.pk}/").content.decode()
    ids = dangerous.hazard_ids()
    assert len(ids) == 1
    assert body.count('name="ack"') == 1
    assert f'name="ack" value="{ids[0]}"' in body


def test_bob_cannot_approve_before_ticking_every_hazard(client, bob, dangerous):
    client.force_login(bob)
    response = review(client, dangerous, decision="approve", comment="looks fine")
    assert response.status_code == 422
    assert "Acknowledge every dangerous change before approving (1 not ticked)" in (
        response.content.decode()
    )
    assert status(dangerous) == S.AWAITING_APPROVAL


def test_bob_approves_with_every_hazard_ticked_and_it_is_queued(client, bob, dangerous):
    client.force_login(bob)
    response = review(client, dangerous, decision="approve", ack=dangerous.hazard_ids())
    assert response.status_code == 302
    assert status(dangerous) == S.QUEUED
    approval = Approval.objects.get(proposal=dangerous)
    assert approval.approver == bob and approval.decision == "approved"
    assert approval.plan_checksum == dangerous.plan_checksum
    assert approval.acknowledged_hazards == dangerous.hazard_ids()


def test_with_htmx_the_panel_is_swapped_and_the_status_follows_out_of_band(client, bob, dangerous):
    client.force_login(bob)
    response = review(
        client,
        dangerous,
        decision="approve",
        ack=dangerous.hazard_ids(),
        headers=hx("review-panel"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card review" id="review-panel">')
    assert '<div id="proposal-status"' in body and 'hx-swap-oob="true"' in body
    assert "Queued" in body
    # bob's badge in the navigation drops to zero with it
    assert (
        '<a id="approval-count" class="nav-count"' in body
        and '<span class="count">0</span>' in body
    )


def test_a_decision_on_a_plan_that_changed_is_refused(client, bob, dangerous):
    client.force_login(bob)
    response = review(
        client, dangerous, decision="approve", ack=dangerous.hazard_ids(), checksum="0" * 64
    )
    assert response.status_code == 409
    assert "The plan changed after you opened it" in response.content.decode()
    assert status(dangerous) == S.AWAITING_APPROVAL
    assert not Approval.objects.exists()


def test_with_htmx_a_changed_plan_reloads_the_page(client, bob, dangerous):
    client.force_login(bob)
    response = review(
        client,
        dangerous,
        decision="approve",
        ack=dangerous.hazard_ids(),
        checksum="0" * 64,
        headers=hx("review-panel"),
    )
    assert response["HX-Refresh"] == "true"
    assert status(dangerous) == S.AWAITING_APPROVAL


def test_rejecting_needs_a_comment(client, bob, dangerous):
    client.force_login(bob)
    response = review(client, dangerous, decision="reject", comment="  ")
    assert response.status_code == 422
    assert "a comment is required" in response.content.decode()
    assert status(dangerous) == S.AWAITING_APPROVAL
    response = review(client, dangerous, decision="reject", comment="phone is still read")
    assert response.status_code == 302
    assert status(dangerous) == S.REJECTED
    body = client.get(f"/proposals/{dangerous.pk}/").content.decode()
    assert "phone is still read" in body and "rejected" in body


def test_a_viewer_cannot_approve(client, erin, dangerous):
    client.force_login(erin)
    response = review(client, dangerous, decision="approve", ack=dangerous.hazard_ids())
    assert response.status_code == 422
    assert status(dangerous) == S.AWAITING_APPROVAL


def test_alice_cancels_her_own_proposal(client, alice, dangerous):
    client.force_login(alice)
    body = client.get(f"/proposals/{dangerous.pk}/").content.decode()
    assert "Cancel this proposal" in body
    response = client.post(f"/proposals/{dangerous.pk}/cancel/")
    assert response.status_code == 302
    assert status(dangerous) == S.CANCELLED


def test_bob_cannot_cancel_what_he_did_not_submit(client, bob, dangerous):
    client.force_login(bob)
    assert "Cancel this proposal" not in client.get(f"/proposals/{dangerous.pk}/").content.decode()
    response = client.post(f"/proposals/{dangerous.pk}/cancel/")
    assert response.status_code == 422
    assert status(dangerous) == S.AWAITING_APPROVAL


def test_carol_the_admin_cancels_with_htmx(client, carol, dangerous):
    client.force_login(carol)
    response = client.post(f"/proposals/{dangerous.pk}/cancel/", headers=hx("review-panel"))
    assert response.status_code == 200
    assert 'id="review-panel"' in response.content.decode()
    assert status(dangerous) == S.CANCELLED


def test_the_navigation_counts_what_awaits_bob_not_alice(client, alice, bob, dangerous):
    client.force_login(bob)
    assert '<span class="count">1</span>' in client.get("/").content.decode()
    client.force_login(alice)
    assert '<span class="count">0</span>' in client.get("/").content.decode()
