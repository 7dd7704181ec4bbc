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
