"""Personal API tokens: created on the settings page, in the admin and by create_token; shown
once, stored hashed, revocable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.test import Client

from migrations_ui.audit.chain import verify_chains
from migrations_ui.models import ApiToken, AuditEvent
from migrations_ui.models.integrations import TokenRefused, hash_token
from tests.api.conftest import Api
from tests.conftest import PASSWORD


def logged_in(username: str) -> Client:
    client = Client()
    # The login throttle judges a request: the test client logs in with an empty one.
    assert client.login(request=HttpRequest(), username=username, password=PASSWORD)
    return client


def test_create_token_prints_a_working_token_once(people):
    out, err = StringIO(), StringIO()
    call_command("create_token", "alice", "--name", "ci", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    assert raw.startswith("sab_") and "\n" not in raw
    token = ApiToken.objects.get(name="ci")
    assert token.user == people.alice
    assert token.token_hash == hash_token(raw) and raw not in token.token_hash
    assert "shown this once" in err.getvalue()
    assert Api(raw).get("/api/v1/me").json()["username"] == "alice"


def test_create_token_refuses_an_unknown_user(people):
    with pytest.raises(CommandError, match="No user 'zed'"):
        call_command("create_token", "zed", stdout=StringIO(), stderr=StringIO())


def test_the_settings_page_creates_shows_once_and_revokes(people):
    browser = logged_in("alice")
    assert browser.get("/settings/tokens/").status_code == 200
    created = browser.post("/settings/tokens/", {"name": "n8n"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    token = ApiToken.objects.get(user=people.alice, name="n8n")
    raw = created.context["new_token"]["raw"]
    assert raw.encode() in created.content and hash_token(raw) == token.token_hash
    listed = browser.get("/settings/tokens/")
    assert raw.encode() not in listed.content  # shown once
    assert token.prefix.encode() in listed.content

    Api(raw).get("/api/v1/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert b"never" not in browser.get("/settings/tokens/").content

    revoked = browser.post(f"/settings/tokens/{token.pk}/revoke/")
    assert revoked.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Api(raw).get("/api/v1/me").status_code == 401


def test_a_name_is_required(people):
    response = logged_in("alice").post("/settings/tokens/", {"name": "  "})
    assert response.status_code == 400
    assert b"Give the token a name" in response.content
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_persons_token(people):
    token, _ = ApiToken.issue(people.bob, "bob's")
    response = logged_in("alice").post(f"/settings/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_active


def test_an_admin_cannot_create_a_token_for_someone_else_but_revokes_it(people):
    admin = logged_in("carol")
    response = admin.post(
        "/admin/migrations_ui/apitoken/add/", {"user": people.bob.pk, "name": "bob via admin"}
    )
    assert response.status_code == 403
    assert not ApiToken.objects.filter(user=people.bob).exists()
    token, _ = ApiToken.issue(people.bob, "bob's own", by=people.bob)
    page = admin.get(f"/admin/migrations_ui/apitoken/{token.pk}/change/")
    assert page.status_code == 200
    admin.post(
        "/admin/migrations_ui/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [token.pk]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    events = AuditEvent.objects.filter(tenant=None).order_by("id")
    assert [(e.action, e.actor_name, e.data["user"]) for e in events] == [
        ("token.created", "bob", "bob"),
        ("token.revoked", "carol", "bob"),
    ]
    result = verify_chains()
    assert result.ok and result.heads["global"].events == 2


def test_nobody_makes_a_token_for_someone_else_and_such_a_token_cannot_approve(people):
    with pytest.raises(TokenRefused):
        ApiToken.issue(people.bob, "for bob", by=people.carol)
    # One made for bob by someone else (as the admin once could) is refused by the API.
    token, raw = ApiToken.issue(people.bob, "legacy")
    ApiToken.objects.filter(pk=token.pk).update(created_by=people.carol)
    assert Api(raw).get("/api/v1/me").status_code == 401
