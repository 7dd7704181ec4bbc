"""The audit admin: read-only lists and pages for carol, nothing for dave, only her tenant for
erin; filters, search, links, highlighted SQL, pretty JSON, CSV export, capped counts."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from migrations_ui.models import Approval, AuditEvent, MigrationRecord, Proposal, Role
from migrations_ui.models.integrations import WebhookDelivery, WebhookEndpoint
from tests.audit.conftest import make_proposal
from tests.factories import MembershipFactory, UserFactory

AUDIT_MODELS = [AuditEvent, MigrationRecord, Proposal, Approval, WebhookDelivery]


def url(model: Any, view: str, *args: Any) -> str:
    return reverse(f"admin:migrations_ui_{model._meta.model_name}_{view}", args=args)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def endpoint(history: Any) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(
        tenant=history.approved.tenant, url="http://127.0.0.1:9/hook"
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_1",
        event_type="proposal.submitted",
        payload={"id": "evt_1", "type": "proposal.submitted"},
        attempts=[{"n": 1, "status_code": 500, "error": "HTTP 500"}],
    )
    return endpoint


def one_of_each(history: Any) -> dict[Any, Any]:
    return {
        AuditEvent: AuditEvent.objects.filter(proposal=history.approved).first(),
        MigrationRecord: history.record,
        Proposal: history.approved,
        Approval: history.approval,
        WebhookDelivery: WebhookDelivery.objects.first(),
    }


def test_every_audit_list_and_page_renders_for_carol(carol, history, endpoint):
    client = client_for(carol)
    for model, obj in one_of_each(history).items():
        listing = client.get(url(model, "changelist"))
        assert listing.status_code == 200, model
        page = client.get(url(model, "change", obj.pk))
        assert page.status_code == 200, model
    assert client.get(url(WebhookEndpoint, "changelist")).status_code == 200
    assert client.get(url(WebhookEndpoint, "change", endpoint.pk)).status_code == 200


def test_no_admin_page_offers_add_change_or_delete_for_audit_models(carol, history, endpoint):
    client = client_for(carol)
    for model, obj in one_of_each(history).items():
        listing = client.get(url(model, "changelist")).content.decode()
        assert url(model, "add") not in listing, model
        assert "delete_selected" not in listing, model
        page = client.get(url(model, "change", obj.pk)).content.decode()
        assert 'name="_save"' not in page and "deletelink" not in page, model
        assert client.get(url(model, "add")).status_code == 403, model
        assert client.post(url(model, "change", obj.pk), {}).status_code == 403, model
        assert client.get(url(model, "delete", obj.pk)).status_code == 403, model
        assert client.post(url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.count() > 0 and MigrationRecord.objects.filter(pk=history.record.pk)


def test_dave_who_is_a_member_of_nothing_sees_nothing(dave, history, endpoint):
    client = client_for(dave)
    index = client.get(reverse("admin:index")).content.decode()
    for model, obj in one_of_each(history).items():
        assert url(model, "changelist") not in index
        assert client.get(url(model, "changelist")).status_code == 403, model
        assert client.get(url(model, "change", obj.pk)).status_code == 403, model
        assert client.get(url(model, "export")).status_code in (403, 404), model
    assert client.get(url(WebhookEndpoint, "changelist")).status_code == 403


def test_a_non_staff_user_is_sent_to_the_admin_login(history):
    client = client_for(UserFactory(username="frank"))
    response = client.get(url(AuditEvent, "changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_tenant_admin_gets_staff_and_sees_only_her_tenants(erin, history, endpoint):
    assert erin.is_staff and not erin.is_superuser
    client = client_for(erin)
    listing = client.get(url(AuditEvent, "changelist")).content.decode()
    theirs = AuditEvent.objects.filter(tenant__slug="t_other")
    ours = AuditEvent.objects.filter(tenant__slug="t_demo")
    assert theirs.exists() and ours.exists()
    for event in theirs:
        assert url(AuditEvent, "change", event.pk) in listing
    for event in ours:
        assert url(AuditEvent, "change", event.pk) not in listing
    # Another tenant's rows are not there at all, whatever the URL.
    assert client.get(url(AuditEvent, "change", ours.first().pk)).status_code == 302
    assert client.get(url(Proposal, "change", history.approved.pk)).status_code == 302
    assert client.get(url(MigrationRecord, "change", history.record.pk)).status_code == 302
    assert client.get(url(Proposal, "change", history.blocked.pk)).status_code == 200
    # The tenant filter offers her tenant only.
    assert "t_other" in listing and "?tenant=" in listing
    assert f"?tenant={history.approved.tenant_id}" not in listing
    exported = client.get(url(AuditEvent, "export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows and {r["tenant"] for r in rows} == {"t_other"}


def test_a_tenant_admin_cannot_see_setup_models_or_edit_history(erin, history):
    client = client_for(erin)
    assert client.get(reverse("admin:migrations_ui_tenant_changelist")).status_code == 403
    assert client.get(reverse("admin:migrations_ui_membership_changelist")).status_code == 403
    event = AuditEvent.objects.filter(tenant__slug="t_other").first()
    assert client.post(url(AuditEvent, "change", event.pk), {}).status_code == 403


def test_an_admin_membership_grants_staff_and_nothing_else(db, other_tenant):
    grace = UserFactory(username="grace")
    assert not grace.is_staff
    membership = MembershipFactory(user=grace, tenant=other_tenant, role=Role.VIEWER)
    grace.refresh_from_db()
    assert not grace.is_staff
    membership.role = Role.ADMIN
    membership.save()
    grace.refresh_from_db()
    assert grace.is_staff and not grace.is_superuser
    assert not grace.user_permissions.exists() and not grace.groups.exists()


def test_links_join_events_proposals_records_and_approvals(carol, history):
    client = client_for(carol)
    proposal_page = client.get(url(Proposal, "change", history.approved.pk)).content.decode()
    assert url(MigrationRecord, "change", history.record.pk) in proposal_page
    assert url(Approval, "change", history.approval.pk) in proposal_page
    for event in AuditEvent.objects.filter(proposal=history.approved):
        assert url(AuditEvent, "change", event.pk) in proposal_page
    record_page = client.get(url(MigrationRecord, "change", history.record.pk)).content.decode()
    assert url(Proposal, "change", history.approved.pk) in record_page
    event = AuditEvent.objects.filter(proposal=history.approved).order_by("-id").first()
    event_page = client.get(url(AuditEvent, "change", event.pk)).content.decode()
    assert url(Proposal, "change", history.approved.pk) in event_page
    previous = AuditEvent.objects.get(hash=event.prev_hash)
    assert url(AuditEvent, "change", previous.pk) in event_page
    assert "The hash matches the content" in event_page


def test_the_sql_is_highlighted_and_the_json_pretty(carol, history):
    client = client_for(carol)
    page = client.get(url(MigrationRecord, "change", history.record.pk)).content.decode()
    assert 'class="sb-code"' in page
    assert '<span class="k">CREATE</span>' in page  # a keyword, highlighted
    assert "migrations_ui/audit_admin.css" in page
    event = AuditEvent.objects.filter(action="proposal.approved").get()
    page = client.get(url(AuditEvent, "change", event.pk)).content.decode()
    assert "looks right" in page and "\n  " in page  # indented JSON


def test_filters_and_search_narrow_the_event_list(carol, history, alice):
    client = client_for(carol)
    changelist = url(AuditEvent, "changelist")

    def ids(params: dict[str, Any]) -> set[int]:
        response = client.get(changelist, params)
        assert response.status_code == 200, params
        return {r.pk for r in response.context["cl"].result_list}

    approved = set(
        AuditEvent.objects.filter(action="proposal.approved").values_list("pk", flat=True)
    )
    assert ids({"action": "proposal.approved"}) == approved
    demo = history.approved.tenant_id
    assert ids({"tenant": demo}) == set(
        AuditEvent.objects.filter(tenant_id=demo).values_list("pk", flat=True)
    )
    assert ids({"target": history.blocked.target_id}) == set(
        AuditEvent.objects.filter(proposal=history.blocked).values_list("pk", flat=True)
    )
    by_alice = set(AuditEvent.objects.filter(actor_name="alice").values_list("pk", flat=True))
    assert by_alice and ids({"actor": "alice"}) == by_alice
    assert ids({"q": "ali"}) == by_alice
    assert ids({"q": str(history.blocked.pk)}) == set(
        AuditEvent.objects.filter(proposal=history.blocked).values_list("pk", flat=True)
    )
    assert ids({"proposal__exact": str(history.approved.pk)}) == set(
        history.approved.audit_events.values_list("pk", flat=True)
    )
    year = AuditEvent.objects.first().created_at.year
    assert ids({"created_at__year": year}) == set(AuditEvent.objects.values_list("pk", flat=True))
    assert ids({"created_at__year": year - 1}) == set()


def test_the_other_lists_filter_and_search_by_their_own_fields(carol, history):
    client = client_for(carol)
    response = client.get(url(Proposal, "changelist"), {"q": "7.1"})
    assert [p.pk for p in response.context["cl"].result_list] == [history.blocked.pk]
    response = client.get(url(Proposal, "changelist"), {"status": "blocked"})
    assert [p.pk for p in response.context["cl"].result_list] == [history.blocked.pk]
    response = client.get(url(MigrationRecord, "changelist"), {"q": history.record.log_id})
    assert [r.pk for r in response.context["cl"].result_list] == [history.record.pk]
    response = client.get(url(MigrationRecord, "changelist"), {"status": "blocked"})
    assert {r.proposal_id for r in response.context["cl"].result_list} == {history.blocked.pk}
    response = client.get(url(Approval, "changelist"), {"actor": "bob"})
    assert [a.pk for a in response.context["cl"].result_list] == [history.approval.pk]


def test_the_lists_find_the_short_id_and_the_v_version_they_print(carol, history):
    """The admin prints a proposal as its first 8 hex digits and a version as v001: searching
    what it prints finds the row."""
    client = client_for(carol)
    short = str(history.blocked.pk)[:8]
    response = client.get(url(Proposal, "changelist"), {"q": short})
    assert [p.pk for p in response.context["cl"].result_list] == [history.blocked.pk]
    response = client.get(url(Proposal, "changelist"), {"q": short.upper()})
    assert [p.pk for p in response.context["cl"].result_list] == [history.blocked.pk]
    response = client.get(url(Proposal, "changelist"), {"q": "v001"})
    assert [p.pk for p in response.context["cl"].result_list] == [history.approved.pk]
    response = client.get(url(MigrationRecord, "changelist"), {"q": "v001"})
    assert [r.pk for r in response.context["cl"].result_list] == [history.record.pk]
    response = client.get(url(MigrationRecord, "changelist"), {"q": str(history.approved.pk)[:8]})
    assert [r.pk for r in response.context["cl"].result_list] == [history.record.pk]
    response = client.get(url(AuditEvent, "changelist"), {"q": short})
    found = {e.proposal_id for e in response.context["cl"].result_list}
    assert found == {history.blocked.pk}


def test_the_csv_export_follows_the_filters(carol, history):
    client = client_for(carol)
    response = client.get(url(AuditEvent, "export"), {"action": "proposal.submitted"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["action"] for r in rows} == {"proposal.submitted"}
    assert len(rows) == AuditEvent.objects.filter(action="proposal.submitted").count() == 2
    listing = client.get(url(AuditEvent, "changelist"), {"action": "proposal.submitted"})
    assert "export.csv?action=proposal.submitted" in listing.content.decode()


def test_a_csv_cell_that_looks_like_a_formula_is_quoted(carol, tenant, alice):
    make_proposal(tenant, alice, version="9", description='=HYPERLINK("http://evil")')
    client = client_for(carol)
    response = client.get(url(Proposal, "export"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["description"].startswith("'=")


def test_lists_never_count_past_the_limit(carol, tenant, alice, settings):
    for n in range(5):
        make_proposal(tenant, alice, version=f"1.{n}")
    settings.AUDIT_ADMIN_COUNT_LIMIT = 3
    client = client_for(carol)
    page = client.get(url(AuditEvent, "changelist")).content.decode()
    assert "more than 3 audit events" in page
    settings.AUDIT_ADMIN_COUNT_LIMIT = 100
    page = client.get(url(AuditEvent, "changelist")).content.decode()
    assert "5 audit events" in page and "more than" not in page


def test_a_tenant_admin_adds_webhooks_only_for_her_tenants(erin, history):
    client = client_for(erin)
    add = url(WebhookEndpoint, "add")
    form = client.get(add).content.decode()
    assert "t_other" in form and "t_demo" not in form
    theirs, ours = history.blocked.tenant_id, history.approved.tenant_id
    data = {"url": "https://hooks.example.com/in", "secret": "s3cret", "is_active": "on"}
    refused = client.post(add, {**data, "tenant": ours})
    assert refused.status_code == 200 and not WebhookEndpoint.objects.exists()
    ftp = client.post(add, {**data, "tenant": theirs, "url": "ftp://hooks.example.com/in"})
    assert ftp.status_code == 200 and not WebhookEndpoint.objects.exists()
    created = client.post(add, {**data, "tenant": theirs, "event_types": ["migration.applied"]})
    assert created.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.tenant_id == theirs and endpoint.event_types == ["migration.applied"]


def test_filter_choices_stay_few_until_a_tenant_is_picked(carol, history, monkeypatch):
    from migrations_ui.admin import tools as admin_tools

    monkeypatch.setattr(admin_tools, "CHOICES_LIMIT", 2)
    client = client_for(carol)
    changelist = url(AuditEvent, "changelist")
    page = client.get(changelist).content.decode()
    assert "actor=alice" not in page and "actor=system" in page
    demo = history.approved.tenant_id
    page = client.get(changelist, {"tenant": demo}).content.decode()
    assert "actor=alice" in page and "actor=olga" not in page
    # A filter in use still applies, and shows, without the tenant.
    response = client.get(changelist, {"actor": "alice"})
    assert {e.actor_name for e in response.context["cl"].result_list} == {"alice"}
    assert "actor=alice" in response.content.decode()


@pytest.mark.parametrize(
    "value", ["=1+1", " =1+1", "\n=cmd|' /C calc'!A0", "\t@SUM(A1)", "  \r\n+1", "\t", "\rx", "-2"]
)
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(value):
    from migrations_ui.admin.csv_export import _cell

    assert _cell(value) == "'" + value


def test_csv_cells_of_plain_text_stay_as_they_are():
    from migrations_ui.admin.csv_export import _cell

    assert [_cell(v) for v in ["alice", " a = b", "1.0", None, 3]] == [
        "alice",
        " a = b",
        "1.0",
        "",
        3,
    ]


def test_an_empty_or_crafted_action_post_is_a_4xx_on_every_changelist(carol, history, endpoint):
    from django.contrib import admin

    client = client_for(carol)
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "migrations_ui":
            continue
        changelist = reverse(f"admin:migrations_ui_{model._meta.model_name}_changelist")
        for action in [*model_admin.actions, "delete_selected", ""]:
            for selected in ([], ["x"], ["1 OR 1=1"]):
                data = {"action": action, "_selected_action": selected, "index": "0"}
                status = client.post(changelist, data).status_code
                assert status < 500, (changelist, data, status)
