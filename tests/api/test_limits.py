"""Authentication, CSRF and limits: every refusal answers JSON with a stable code."""

from __future__ import annotations

import json

from django.http import HttpRequest
from django.test import Client

from migrations_ui.models import ApiToken, Proposal
from tests.api.conftest import Api
from tests.apply.blueprints import envelope, seed_envelope, table
from tests.conftest import PASSWORD


def test_a_body_over_the_limit_is_413(people, api_as, settings):
    settings.API_MAX_BODY_BYTES = 2_000
    request = envelope([table(f"t{i}", ("a", "TEXT")) for i in range(40)])
    assert len(json.dumps(request)) > 2_000
    for path in ("/api/v1/proposals", "/wf106/schema-builder"):
        response = api_as(people.alice).post(path, request)
        assert response.status_code == 413, path
        assert response.json()["code"] == "payload_too_large"
    assert Proposal.objects.count() == 0


def test_too_many_tables_is_400_at_the_tables_path(people, api_as):
    request = envelope([table(f"t{i}", ("a", "TEXT")) for i in range(10_001)])
    response = api_as(people.alice).post("/api/v1/proposals", request)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"] == [
        {
            "path": "payload.tables",
            "message": "has too many items: at most 10,000; split the blueprint or the table into smaller ones",
        }
    ]


def test_nesting_beyond_reason_is_400(people, api_as):
    alice = api_as(people.alice)
    deep = b'{"meta": {"tenant_id": "t_demo"}, "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = alice.post("/api/v1/proposals", raw=deep)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][0]["path"] == "(body)"
    request = seed_envelope()
    request["payload"]["tables"][0]["comment"] = {"a": {"b": {"c": [[[[1]]]]}}}
    nested = alice.post("/api/v1/proposals", request)
    assert nested.status_code == 400
    assert nested.json()["errors"][0]["path"] == "payload.tables[0].comment"


def test_a_body_that_is_not_json_is_400_invalid_json(people, api_as):
    response = api_as(people.alice).post("/api/v1/proposals", raw=b"{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_a_person_over_their_rate_is_429_with_retry_after(people, api_as, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    # A day-long window: the test cannot straddle two windows.
    settings.API_RATE_LIMIT_WINDOW_SECONDS = 86_400
    alice = api_as(people.alice)
    allowed = 3 * 86_400 // 60
    codes = [alice.get("/api/v1/me").status_code for _ in range(2)]
    from migrations_ui.models import RateWindow

    RateWindow.objects.update(count=allowed - 2)  # skip ahead instead of sending 4,000 requests
    codes += [alice.get("/api/v1/me").status_code for _ in range(3)]
    assert codes == [200, 200, 200, 200, 429]
    response = alice.get("/api/v1/me")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= 86_400
    # The limit is the person's: another token of theirs, and their session, count with it.
    assert api_as(people.alice).get("/api/v1/me").status_code == 429
    browser = Client()
    assert browser.login(request=HttpRequest(), username="alice", password=PASSWORD)
    assert browser.get("/api/v1/me").status_code == 429
    assert api_as(people.bob).get("/api/v1/me").status_code == 200


def test_a_revoked_or_unknown_token_is_401(people, token_for):
    raw = token_for(people.alice)
    assert Api(raw).get("/api/v1/me").status_code == 200
    ApiToken.objects.get().revoke()
    revoked = Api(raw).get("/api/v1/me")
    assert revoked.status_code == 401 and revoked.json()["code"] == "invalid_token"
    unknown = Api("sab_nonsense").post("/api/v1/proposals", seed_envelope())
    assert unknown.status_code == 401 and unknown.json()["code"] == "invalid_token"


def test_an_inactive_users_token_is_401(people, token_for):
    raw = token_for(people.alice)
    people.alice.is_active = False
    people.alice.save()
    assert Api(raw).get("/api/v1/me").status_code == 401


def test_the_token_acts_as_its_user(people, token_for):
    me = Api(token_for(people.bob, "deploy")).get("/api/v1/me").json()
    assert me["username"] == "bob"
    assert me["token"]["name"] == "deploy"
    assert [(t["slug"], t["role"]) for t in me["tenants"]] == [("t_demo", "approver")]


def test_a_browser_session_needs_the_csrf_token_for_writes(people):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(request=HttpRequest(), username="alice", password=PASSWORD)
    assert browser.get("/api/v1/me").status_code == 200  # reads need no CSRF token
    refused = browser.post("/api/v1/proposals", seed_envelope(), content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf_failed"
    browser.get("/api/v1/docs")  # sets the CSRF cookie, as a page of the site does
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/v1/proposals",
        seed_envelope(),
        content_type="application/json",
        headers={"X-CSRFToken": csrf},
    )
    assert accepted.status_code == 202, accepted.json()


def test_a_token_needs_no_csrf_token(people, token_for):
    api = Api(token_for(people.alice), enforce_csrf_checks=True)
    assert api.post("/api/v1/proposals", seed_envelope()).status_code == 202


def test_no_credentials_is_401_and_a_wrong_method_is_405_json(people):
    anonymous = Client()
    response = anonymous.get("/api/v1/proposals")
    assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
    wrong = anonymous.delete("/api/v1/proposals")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"
    assert "GET" in wrong["Allow"]
