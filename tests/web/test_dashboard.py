from __future__ import annotations

import pytest

from tests.factories import TenantFactory


def test_it_sends_anonymous_people_to_the_login_page(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_alice_sees_her_tenant_and_its_target(client, alice):
    TenantFactory(slug="t_other")
    client.force_login(alice)
    body = client.get("/").content.decode()
    assert "t_demo" in body
    assert "TARGET_DEV_URL" in body
    assert "t_other" not in body


def test_dave_sees_no_tenant(client, dave, tenant):
    client.force_login(dave)
    body = client.get("/").content.decode()
    assert "t_demo" not in body
    assert "not a member of any tenant" in body


def test_the_login_page_renders_with_security_headers(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "X-Request-Id" in response


@pytest.mark.django_db(transaction=True)
def test_healthz_reports_the_database_up_and_no_worker(client):
    response = client.get("/healthz")
    body = response.json()
    assert body["database"] == {"up": True}
    assert body["worker"]["up"] is False
    assert response.status_code == 503


def test_seed_demo_is_idempotent(db, monkeypatch):
    from django.core.management import call_command

    from migrations_ui.models import Membership, Target, Tenant

    monkeypatch.setenv("DEMO_PASSWORD", "demo-pass-123")
    call_command("seed_demo")
    call_command("seed_demo")
    assert Tenant.objects.filter(slug="t_demo").count() == 1
    assert Target.objects.get(tenant__slug="t_demo").environment == "dev"
    roles = dict(Membership.objects.values_list("user__username", "role"))
    assert roles == {"alice": "submitter", "bob": "approver", "carol": "admin"}


def test_the_dashboard_shows_each_targets_version_last_change_and_what_awaits_bob(
    client, bob, dangerous
):
    client.force_login(bob)
    body = client.get("/").content.decode()
    tenant = body[body.index('id="tenant-t_demo"') :]
    assert "<strong>v001</strong>" in tenant  # current version
    assert "success" in tenant  # the last change's outcome
    assert "1 in flight" in tenant
    awaiting = body[body.index('id="awaiting-you"') : body.index('id="tenant-t_demo"')]
    assert f"/proposals/{dangerous.pk}/" in awaiting and "dangerous" in awaiting


def test_alice_is_not_asked_to_approve_her_own_change(client, alice, dangerous):
    client.force_login(alice)
    body = client.get("/").content.decode()
    assert 'id="awaiting-you"' not in body
    assert "Your proposals in flight" in body and f"/proposals/{dangerous.pk}/" in body


def test_the_latest_failures_are_listed(client, alice, applied_v1):
    from migrations_ui.models import Proposal

    Proposal.objects.filter(pk=applied_v1.pk).update(status="failed", error="statement timeout")
    client.force_login(alice)
    body = client.get("/").content.decode()
    failures = body[body.index('id="latest-failures"') :]
    assert "statement timeout" in failures and f"/proposals/{applied_v1.pk}/" in failures


def test_the_navigation_links_the_pages(client, alice):
    client.force_login(alice)
    body = client.get("/").content.decode()
    for href in ("/proposals/", "/proposals/new/", "/settings/tokens/"):
        assert f'href="{href}"' in body
