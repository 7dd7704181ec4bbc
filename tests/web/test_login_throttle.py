"""Login throttling: after 5 wrong passwords for one username from one address, the app's login
and the admin's refuse that pair, the right password too, until the cool-off passes or an admin
resets it; API tokens keep working."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from axes.utils import reset
from django.test import Client

from migrations_ui.models import ApiToken
from tests.factories import UserFactory

PASSWORD = "the-right-password-42"


@pytest.fixture
def erin(db: None) -> Any:
    user = UserFactory(username="erin", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.parametrize("login_url", ["/login/", "/admin/login/"])
def test_the_right_password_is_refused_while_locked_and_works_after_reset(erin, login_url):
    client = Client()
    for _ in range(5):
        wrong = client.post(login_url, {"username": "erin", "password": "guess"})
        assert "_auth_user_id" not in client.session
    assert wrong.status_code == 429 and "Too many failed logins" in wrong.content.decode()
    locked = client.post(login_url, {"username": "erin", "password": PASSWORD})
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert "erin" in locked.content.decode()
    reset(username="erin")
    assert not AccessAttempt.objects.exists()
    ok = client.post(login_url, {"username": "erin", "password": PASSWORD})
    assert ok.status_code == 302 and client.session["_auth_user_id"] == str(erin.pk)


def test_the_lock_ends_after_the_cool_off(erin, settings):
    from datetime import timedelta

    client = Client()
    for _ in range(5):
        client.post("/login/", {"username": "erin", "password": "guess"})
    assert client.post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 429
    # The failures happened longer ago than the cool-off.
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16)
    )
    assert client.post("/login/", {"username": "erin", "password": PASSWORD}).status_code == 302


def test_another_address_is_not_locked_and_tokens_keep_working(erin):
    for _ in range(5):
        Client(REMOTE_ADDR="203.0.113.9").post("/login/", {"username": "erin", "password": "x"})
    assert (
        Client(REMOTE_ADDR="203.0.113.9")
        .post("/login/", {"username": "erin", "password": PASSWORD})
        .status_code
        == 429
    )
    assert (
        Client(REMOTE_ADDR="198.51.100.4")
        .post("/login/", {"username": "erin", "password": PASSWORD})
        .status_code
        == 302
    )
    _, raw = ApiToken.issue(erin, "ci")
    me = Client(REMOTE_ADDR="203.0.113.9").get(
        "/api/v1/me", headers={"Authorization": f"Bearer {raw}"}
    )
    assert me.status_code == 200 and me.json()["username"] == "erin"
