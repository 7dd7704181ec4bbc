"""The proposal page: what a reviewer reads, and who may read it."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from migrations_ui import workflow
from migrations_ui.models import Proposal, ProposalStatus
from migrations_ui.web.presenters import sqltools
from tests.web.conftest import hx


def url(p: Proposal, suffix: str = "") -> str:
    return f"/proposals/{p.pk}/{suffix}"


def test_bob_reads_the_header_the_risk_report_the_changes_and_the_sql(client, bob, dangerous):
    client.force_login(bob)
    response = client.get(url(dangerous))
    assert response.status_code == 200
    body = response.content.decode()
    # Header: status, version, tenant, target, submitter, hashes.
    assert "Awaiting approval" in body
    assert "v002" in body and "t_demo" in body and "alice" in body
    assert dangerous.plan_checksum[:12] in body and dangerous.schema_hash[:12] in body
    # Risk report: the dangerous hazard before the warning, with its numbers.
    report = body[body.index('id="risk-report"') : body.index('id="changes"')]
    assert report.index("DROPS_COLUMN") < report.index("ACCESS_EXCLUSIVE_LOCK")
    assert "non-null values" in report and "8.0 kB" in report
    # Changes: patients altered side by side (phone dropped, email added), visits created.
    changes = body[body.index('id="changes"') : body.index('id="erd"')]
    assert 'id="table-patients"' in changes and 'id="table-visits"' in changes
    assert "<th>Before</th><th>After</th>" in changes
    assert 'class="row-dropped"' in changes and 'class="row-added"' in changes
    # SQL highlighted server-side, with the raw text for the copy button.
    assert 'class="highlight"' in body and '<span class="k">DROP</span>' in body
    assert 'data-copy="#sql-source"' in body
    assert "ALTER TABLE public.patients DROP COLUMN phone;" in body


def test_the_diagram_colours_added_altered_and_dropped(client, bob, dangerous):
    client.force_login(bob)
    body = client.get(url(dangerous)).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'class="erd-table erd-altered" data-table="patients"' in svg
    assert 'class="erd-table erd-added" data-table="visits"' in svg
    assert 'class="erd-col erd-col-dropped"><rect' in svg  # phone
    assert "erd-edge" in svg  # visits.patient_id -> patients
    assert "style=" not in svg  # the CSP forbids inline styles


def test_dave_cannot_open_it_or_even_learn_that_it_exists(client, dave, dangerous):
    client.force_login(dave)
    assert client.get(url(dangerous)).status_code == 404
    assert client.get(url(dangerous, "status/"), headers=hx("proposal-status")).status_code == 404
    assert client.post(url(dangerous, "review/"), {"decision": "approve"}).status_code == 404
    assert client.post(url(dangerous, "cancel/")).status_code == 404
    assert client.get("/proposals/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_anonymous_people_are_sent_to_log_in(client, dangerous):
    assert client.get(url(dangerous))["Location"].startswith("/login/")


def test_a_viewer_reads_it_and_is_told_why_she_cannot_approve(client, erin, dangerous):
    client.force_login(erin)
    body = client.get(url(dangerous)).content.decode()
    assert "DROPS_COLUMN" in body
    assert "Only an approver or admin of this tenant can approve." in body
    assert 'name="decision"' not in body


def test_the_timeline_lists_the_audit_events(client, bob, dangerous):
    client.force_login(bob)
    body = client.get(url(dangerous)).content.decode()
    timeline = body[body.index('id="timeline"') :]
    assert (
        timeline.index("submitted")
        < timeline.index("planned")
        < timeline.index("awaiting approval")
    )


def test_the_status_region_polls_while_it_waits(client, bob, dangerous):
    client.force_login(bob)
    body = client.get(url(dangerous)).content.decode()
    assert f'hx-get="/proposals/{dangerous.pk}/status/?seen=awaiting_approval&amp;done=0"' in body
    assert 'hx-trigger="every 5s"' in body


def test_polling_answers_204_while_nothing_changed(client, bob, dangerous):
    client.force_login(bob)
    response = client.get(
        url(dangerous, "status/?seen=awaiting_approval&done=0"), headers=hx("proposal-status")
    )
    assert response.status_code == 204


def test_polling_sends_the_new_status_and_its_neighbours_when_it_moved(client, bob, dangerous):
    client.force_login(bob)
    workflow.approve(
        dangerous, bob, dangerous.plan_checksum, acknowledged=dangerous.hazard_ids()
    )  # -> queued (no worker here)
    response = client.get(
        url(dangerous, "status/?seen=awaiting_approval&done=0"), headers=hx("proposal-status")
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="proposal-status"')
    assert "<html" not in body
    assert 'hx-trigger="every 1s"' in body  # queued polls faster
    assert 'id="review-panel" hx-swap-oob="true"' in body
    assert 'id="timeline" hx-swap-oob="true"' in body
    assert 'id="approval-count"' in body and "hx-swap-oob" in body
    assert "HX-Request" in response["Vary"]


def test_polling_stops_with_286_once_final(client, alice, applied_v1):
    client.force_login(alice)
    response = client.get(
        url(applied_v1, "status/?seen=applying&done=3"), headers=hx("proposal-status")
    )
    assert response.status_code == 286
    body = response.content.decode()
    assert "Applied" in body and "hx-trigger" not in body.split("</div>")[0]


def test_a_status_url_opened_without_htmx_goes_to_the_page(client, alice, applied_v1):
    client.force_login(alice)
    response = client.get(url(applied_v1, "status/"))
    assert response.status_code == 302 and response["Location"] == url(applied_v1)


def test_progress_is_shown_per_statement_while_applying(client, alice, dangerous):
    Proposal.objects.filter(pk=dangerous.pk).update(
        status=ProposalStatus.APPLYING, timings={"progress": {"done": 2, "total": 8}}
    )
    client.force_login(alice)
    response = client.get(
        url(dangerous, "status/?seen=queued&done=0"), headers=hx("proposal-status")
    )
    body = response.content.decode()
    assert '<progress max="8" value="2">' in body
    assert "statement 3 of 8" in body
    assert "create_tables" in body  # the statement being run now
    page = client.get(url(dangerous)).content.decode()
    assert 'class="state-done"' in page and 'class="state-running"' in page


def test_the_sql_region_switches_to_squawk_as_a_partial(client, bob, dangerous):
    cache.clear()
    client.force_login(bob)
    response = client.get(url(dangerous, "?view=squawk"), headers=hx("sql-view"))
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="sql-view">')
    assert "Second opinion: squawk" in body
    assert "ban-drop-column" in body
    assert "statement 2" in body  # the drop of phone, after the setup line


def test_squawk_missing_is_said_not_failed(client, bob, dangerous, monkeypatch):
    cache.clear()
    monkeypatch.setattr(sqltools, "squawk_binary", lambda: None)
    client.force_login(bob)
    response = client.get(url(dangerous, "?view=squawk"))
    assert response.status_code == 200
    assert "squawk is not installed on this server." in response.content.decode()


def test_a_failed_proposal_shows_its_error(client, alice, applied_v1):
    Proposal.objects.filter(pk=applied_v1.pk).update(
        status=ProposalStatus.FAILED, error="lock timeout on patients"
    )
    client.force_login(alice)
    body = client.get(url(applied_v1)).content.decode()
    assert "lock timeout on patients" in body and "Failed" in body


@pytest.mark.parametrize("path", ["", "status/"])
def test_pages_vary_on_the_htmx_headers(client, alice, applied_v1, path):
    client.force_login(alice)
    response = client.get(url(applied_v1, path), headers=hx("proposal-status"))
    assert "HX-Request" in response["Vary"]


def test_two_proposals_with_the_same_sql_show_their_own_live_numbers(client, bob, dangerous):
    # The same blueprint sent to dev and prod plans the same SQL (the same checksum) over
    # different data: each page must show its own risk report, never the other's cached one.
    client.force_login(bob)
    first = client.get(url(dangerous)).content.decode()
    assert "non-null values" in first
    plan = dict(dangerous.plan)
    plan["hazards"] = [
        {**h, "message": "prod: 123456 rows would lose their value"} for h in plan["hazards"]
    ]
    twin = Proposal.objects.get(pk=dangerous.pk)
    twin.pk = uuid.uuid4()
    twin.idempotency_key = "twin-on-prod"
    twin.plan = plan
    twin.save(force_insert=True)
    assert twin.plan_checksum == dangerous.plan_checksum
    body = client.get(url(twin)).content.decode()
    report = body[body.index('id="risk-report"') : body.index('id="changes"')]
    assert "prod: 123456 rows would lose their value" in report
