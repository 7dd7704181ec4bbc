"""Submitting a blueprint from the browser: pickers, live validation, the service."""

from __future__ import annotations

import json

from django.core.files.uploadedfile import SimpleUploadedFile

from migrations_ui.models import Membership, Proposal, ProposalStatus, Role, Source
from tests.factories import TargetFactory, TenantFactory
from tests.web.conftest import V1, hx

GOOD = json.dumps({"schema_version": "001", "description": "Patients", "tables": V1}, indent=2)
BROKEN = """{
  "schema_version": "001",
  "description": "Patients",
  "tables": [
    {
      "name": "patients",
      "columns": [
        {"name": "first_name", "type": "TEXT"},
        {"name": "phone", "type": "TEXT; DROP TABLE x"}
      ]
    }
  ]
}"""


def form(text: str = GOOD, **extra: object) -> dict[str, object]:
    return {"tenant": "t_demo", "target": "dev", "blueprint": text, **extra}


def test_alice_picks_only_among_tenants_she_may_submit_to(client, alice, erin):
    other = TenantFactory(slug="t_viewonly")
    TargetFactory(tenant=other)
    Membership.objects.create(user=alice, tenant=other, role=Role.VIEWER)
    client.force_login(alice)
    body = client.get("/proposals/new/").content.decode()
    assert '<option value="t_demo"' in body
    assert "t_viewonly" not in body
    assert '<option value="dev" selected>dev (default)</option>' in body


def test_a_viewer_and_an_outsider_cannot_submit(client, erin, dave):
    for person in (erin, dave):
        client.force_login(person)
        response = client.get("/proposals/new/")
        assert response.status_code == 403
        assert "You cannot submit blueprints" in response.content.decode()


def test_an_example_fills_the_editor(client, alice):
    client.force_login(alice)
    body = client.get("/proposals/new/?example=clinic").content.decode()
    assert (
        "&quot;visits&quot;" in body and "&quot;references&quot;: &quot;patients.id&quot;" in body
    )


def test_choosing_a_tenant_refreshes_only_the_target_picker(client, carol):
    second = TenantFactory(slug="t_second")
    TargetFactory(tenant=second, environment="prod", connection_alias="prod")
    client.force_login(carol)
    response = client.get("/proposals/new/?tenant=t_second", headers=hx("target-picker"))
    body = response.content.decode()
    assert body.lstrip().startswith('<label id="target-picker">')
    assert '<option value="prod"' in body and '"dev"' not in body


def test_the_live_check_shows_every_error_at_its_path_and_line(client, alice):
    client.force_login(alice)
    response = client.post(
        "/proposals/new/validate/",
        form(BROKEN.replace('"Patients"', "1")),
        headers=hx("blueprint-issues"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="blueprint-issues"')
    assert "2 problems" in body
    # Paths are those of the text as typed (a bare payload: no "payload." in front).
    assert '<code class="path">description</code> <span class="line">line 3</span>' in body
    assert (
        '<code class="path">tables[0].columns[1].type</code> <span class="line">line 9</span>'
        in body
    )
    assert "must be a string" in body and "which would end the statement" in body
    assert not Proposal.objects.exists()


def test_the_live_check_says_when_the_json_itself_is_broken(client, alice):
    client.force_login(alice)
    body = client.post(
        "/proposals/new/validate/",
        form('{"schema_version": "001",\n  "tables": [}'),
        headers=hx("blueprint-issues"),
    ).content.decode()
    assert '<code class="path">(json)</code> <span class="line">line 2</span>' in body
    assert "is not valid JSON" in body


def test_the_live_check_confirms_a_valid_blueprint(client, alice):
    client.force_login(alice)
    body = client.post(
        "/proposals/new/validate/", form(GOOD), headers=hx("blueprint-issues")
    ).content.decode()
    assert "Valid." in body and "patients" in body and "off: only safe changes apply" in body


def test_an_envelope_for_another_tenant_is_pointed_out(client, alice):
    client.force_login(alice)
    envelope = {"meta": {"tenant_id": "t_other"}, "payload": json.loads(GOOD)}
    body = client.post(
        "/proposals/new/validate/", form(json.dumps(envelope)), headers=hx("blueprint-issues")
    ).content.decode()
    assert '<code class="path">meta.tenant_id</code>' in body
    assert "this envelope is for &#x27;t_other&#x27;" in body


def test_submitting_a_broken_blueprint_is_refused_with_the_same_errors(client, alice):
    client.force_login(alice)
    response = client.post("/proposals/new/", form(BROKEN))
    assert response.status_code == 422
    body = response.content.decode()
    assert '<code class="path">tables[0].columns[1].type</code>' in body
    assert BROKEN.splitlines()[8].strip().replace('"', "&quot;") in body  # the text is kept
    assert not Proposal.objects.exists()


def test_alice_submits_and_lands_on_her_proposal(client, alice, target_url):
    client.force_login(alice)
    response = client.post("/proposals/new/", form(GOOD))
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/proposals/{proposal.pk}/"
    assert proposal.submitted_by == alice and proposal.source == Source.FORM
    assert proposal.status == ProposalStatus.QUEUED
    assert "Submitted version 001." in client.get(response["Location"]).content.decode()


def test_the_force_apply_box_sends_it_for_approval(client, alice, target_url):
    client.force_login(alice)
    client.post("/proposals/new/", form(GOOD, force_apply="on"))
    proposal = Proposal.objects.get()
    assert proposal.force_apply and proposal.status == ProposalStatus.AWAITING_APPROVAL


def test_an_uploaded_file_is_what_gets_submitted(client, alice, target_url):
    client.force_login(alice)
    upload = SimpleUploadedFile("v1.json", GOOD.encode(), content_type="application/json")
    response = client.post("/proposals/new/", form("", upload=upload))
    assert response.status_code == 302
    assert Proposal.objects.get().schema_version == "001"


def test_check_only_validates_without_submitting(client, alice):
    client.force_login(alice)
    response = client.post("/proposals/new/", form(GOOD, action="check"))
    assert response.status_code == 200
    assert "Valid." in response.content.decode()
    assert not Proposal.objects.exists()


def test_the_same_blueprint_twice_lands_on_the_first_proposal(client, alice, target_url):
    client.force_login(alice)
    first = client.post("/proposals/new/", form(GOOD, force_apply="on"))["Location"]
    second = client.post("/proposals/new/", form(GOOD, force_apply="on"))
    assert second["Location"] == first
    assert Proposal.objects.count() == 1


def test_a_target_that_is_not_configured_fails_the_proposal_with_the_reason(
    client, alice, monkeypatch
):
    monkeypatch.delenv("TARGET_DEV_URL", raising=False)
    from django.conf import settings

    monkeypatch.setattr(settings, "TARGET_URLS", {})
    client.force_login(alice)
    response = client.post("/proposals/new/", form(GOOD))
    proposal = Proposal.objects.get()
    assert response["Location"] == f"/proposals/{proposal.pk}/"
    assert proposal.status == ProposalStatus.FAILED
    assert "TARGET_DEV_URL is not set" in client.get(response["Location"]).content.decode()
