"""The REST API's proposals: submit (and wait), read, list, review, dry-run plan; who may do
what, with tokens."""

from __future__ import annotations

import psycopg
import pytest

from migrations_ui.models import ApiToken, AuditEvent, Proposal, ProposalStatus
from tests.apply.blueprints import envelope, seed_envelope, table

S = ProposalStatus


def dangerous_setup(target_url: str) -> dict:
    """A populated table in the target, and a blueprint that drops its column: dangerous."""
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders VALUES (1, 'x')"
        )
    return {
        "meta": {"tenant_id": "t_demo", "environment": "dev"},
        "payload": {
            "schema_version": "2",
            "description": "drop note",
            "auto_columns": False,
            "tables": [
                {
                    "name": "orders",
                    "rls": False,
                    "columns": [{"name": "id", "type": "int", "primary_key": True}],
                }
            ],
        },
    }


def test_submit_without_waiting_answers_202_with_the_url_to_poll(people, api_as):
    alice = api_as(people.alice)
    response = alice.post("/api/v1/proposals", seed_envelope())
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["contract_status"] == "queued"
    assert response["Location"] == body["url"]
    assert body["url"].endswith(f"/api/v1/proposals/{body['id']}")

    read = alice.get(f"/api/v1/proposals/{body['id']}")
    assert read.status_code == 200
    detail = read.json()
    assert detail["tables_created"] == 1
    assert "CREATE TABLE" in detail["sql"]
    assert [e["action"] for e in detail["audit"]][:3] == [
        "proposal.submitted",
        "proposal.planned",
        "proposal.queued",
    ]
    assert {s["phase"] for s in detail["statements"]} >= {"create_tables", "create_indexes"}


def test_submit_and_wait_answers_201_applied_then_200_for_the_same_key(
    people, api_as, workers, target_url
):
    workers.start()
    alice = api_as(people.alice)
    key = {"Idempotency-Key": "deploy-42"}
    first = alice.post("/api/v1/proposals?wait=60", seed_envelope(), headers=key)
    assert first.status_code == 201, first.json()
    assert first.json()["status"] == "applied", first.json()["error"] + workers.logs()
    again = alice.post("/api/v1/proposals?wait=60", seed_envelope(), headers=key)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Proposal.objects.count() == 1

    history = alice.get("/api/v1/tenants/t_demo/history").json()
    assert [(i["version"], i["status"]) for i in history["items"]] == [("001", "success")]
    schema = alice.get("/api/v1/tenants/t_demo/schema").json()
    assert schema["version"] == "001" and schema["tables"] == ["patients"]
    assert schema["snapshot_hash"] == history["items"][0]["snapshot_hash"]
    assert schema["snapshot"]["tables"][0]["name"] == "patients"


def test_the_same_key_with_a_different_blueprint_is_409(people, api_as):
    alice = api_as(people.alice)
    key = {"Idempotency-Key": "once-only"}
    assert alice.post("/api/v1/proposals", seed_envelope(), headers=key).status_code == 202
    other = envelope([table("visits", ("notes", "TEXT"))])
    response = alice.post("/api/v1/proposals", other, headers=key)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"


def test_the_header_key_wins_over_the_envelope_key(people, api_as):
    alice = api_as(people.alice)
    first = alice.post(
        "/api/v1/proposals", seed_envelope(keep_key=True), headers={"Idempotency-Key": "h-1"}
    )
    second = alice.post(
        "/api/v1/proposals", seed_envelope(keep_key=True), headers={"Idempotency-Key": "h-2"}
    )
    assert first.status_code == 202 and second.status_code == 202
    assert Proposal.objects.get(pk=first.json()["id"]).idempotency_key == "h-1"
    assert second.json()["id"] != first.json()["id"]


def test_a_user_cannot_approve_their_own_proposal(people, api_as):
    alice = api_as(people.alice)
    submitted = alice.post("/api/v1/proposals", envelope([table("t", ("a", "TEXT"))], force=True))
    assert submitted.status_code == 202
    assert submitted.json()["status"] == "awaiting_approval"
    pid = submitted.json()["id"]
    response = alice.post(
        f"/api/v1/proposals/{pid}/approve",
        {"comment": "me", "plan_checksum": submitted.json()["plan_checksum"]},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "not_allowed"
    assert Proposal.objects.get(pk=pid).status == S.AWAITING_APPROVAL
    refused = AuditEvent.objects.filter(
        action="api.write", proposal_id=pid, data__outcome="refused"
    )
    assert refused.count() == 1


def test_a_second_person_approves_with_every_dangerous_hazard_acknowledged(
    people, api_as, target_url
):
    bp = dangerous_setup(target_url)
    bp["payload"]["force_apply"] = True
    alice, bob = api_as(people.alice), api_as(people.bob)
    pid = alice.post("/api/v1/proposals", bp).json()["id"]
    detail = bob.get(f"/api/v1/proposals/{pid}").json()
    assert detail["acknowledge"] and "DROPS_COLUMN" in [h["kind"] for h in detail["hazards"]]

    checksum = detail["plan_checksum"]
    missing = bob.post(
        f"/api/v1/proposals/{pid}/approve", {"comment": "ok", "plan_checksum": checksum}
    )
    assert missing.status_code == 403
    approved = bob.post(
        f"/api/v1/proposals/{pid}/approve",
        {"comment": "ok", "acknowledged_hazards": detail["acknowledge"], "plan_checksum": checksum},
    )
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["status"] == "queued"
    assert body["approvals"][0]["approver"] == "bob"
    assert body["approvals"][0]["acknowledged_hazards"] == sorted(detail["acknowledge"])
    again = bob.post(
        f"/api/v1/proposals/{pid}/approve",
        {"acknowledged_hazards": detail["acknowledge"], "plan_checksum": checksum},
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


def test_an_approval_names_the_plan_it_read_and_stale_ids_are_refused(people, api_as, target_url):
    bp = dangerous_setup(target_url)
    bp["payload"]["force_apply"] = True
    alice, bob = api_as(people.alice), api_as(people.bob)
    pid = alice.post("/api/v1/proposals", bp).json()["id"]
    detail = bob.get(f"/api/v1/proposals/{pid}").json()
    url = f"/api/v1/proposals/{pid}/approve"
    no_checksum = bob.post(url, {"acknowledged_hazards": detail["acknowledge"]})
    assert no_checksum.status_code == 400
    assert no_checksum.json()["errors"][0]["path"] == "body.plan_checksum"
    stale = bob.post(
        url, {"acknowledged_hazards": detail["acknowledge"], "plan_checksum": "0" * 64}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "plan_changed"
    stale_ids = bob.post(
        url,
        {
            "acknowledged_hazards": [*detail["acknowledge"], "h1-000000000000"],
            "plan_checksum": detail["plan_checksum"],
        },
    )
    assert stale_ids.status_code == 409 and stale_ids.json()["code"] == "plan_changed"
    assert Proposal.objects.get(pk=pid).status == S.AWAITING_APPROVAL
    ok = bob.post(
        url,
        {"acknowledged_hazards": detail["acknowledge"], "plan_checksum": detail["plan_checksum"]},
    )
    assert ok.status_code == 200, ok.json()
    event = AuditEvent.objects.get(proposal_id=pid, action="proposal.approved")
    assert event.data["checksum"] == detail["plan_checksum"]
    assert event.data["acknowledged_hazards"] == sorted(detail["acknowledge"])


def test_reject_needs_a_comment_and_cancel_is_for_the_submitter(people, api_as):
    alice, bob = api_as(people.alice), api_as(people.bob)
    pid = alice.post("/api/v1/proposals", envelope([table("t", ("a", "TEXT"))], force=True)).json()[
        "id"
    ]
    no_comment = bob.post(f"/api/v1/proposals/{pid}/reject", {})
    assert no_comment.status_code == 400
    assert no_comment.json()["code"] == "invalid"
    assert no_comment.json()["errors"][0]["path"] == "body.comment"
    assert bob.post(f"/api/v1/proposals/{pid}/cancel").status_code == 403
    rejected = bob.post(f"/api/v1/proposals/{pid}/reject", {"comment": "not now"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"

    other = alice.post(
        "/api/v1/proposals", envelope([table("u", ("a", "TEXT"))], force=True)
    ).json()["id"]
    cancelled = alice.post(f"/api/v1/proposals/{other}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    twice = alice.post(f"/api/v1/proposals/{other}/cancel")
    assert twice.status_code == 409 and twice.json()["code"] == "invalid_transition"


def test_a_token_of_another_tenant_cannot_read_submit_or_approve(people, api_as, outsider):
    alice, erin = api_as(people.alice), api_as(outsider)
    pid = alice.post("/api/v1/proposals", envelope([table("t", ("a", "TEXT"))], force=True)).json()[
        "id"
    ]

    read = erin.get(f"/api/v1/proposals/{pid}")
    assert read.status_code == 404 and read.json()["code"] == "not_found"
    submit = erin.post("/api/v1/proposals", seed_envelope())
    assert submit.status_code == 404 and submit.json()["code"] == "not_found"
    approve = erin.post(
        f"/api/v1/proposals/{pid}/approve", {"comment": "x", "plan_checksum": "0" * 64}
    )
    assert approve.status_code == 404
    assert erin.get("/api/v1/tenants/t_demo/history").status_code == 404
    assert erin.get("/api/v1/tenants/t_demo/schema").status_code == 404
    assert erin.get("/api/v1/proposals").json()["count"] == 0
    assert Proposal.objects.get(pk=pid).status == S.AWAITING_APPROVAL


def test_a_viewer_may_read_but_not_submit(people, api_as, viewer):
    victor = api_as(viewer)
    response = victor.post("/api/v1/proposals", seed_envelope())
    assert response.status_code == 403 and response.json()["code"] == "not_allowed"
    assert victor.get("/api/v1/tenants/t_demo/history").status_code == 200


def test_list_filters_by_tenant_status_and_submitter(people, api_as, target_url):
    alice, bob = api_as(people.alice), api_as(people.bob)
    alice.post("/api/v1/proposals", envelope([table("t", ("a", "TEXT"))], version="1"))
    bob.post("/api/v1/proposals", envelope([table("u", ("a", "TEXT"))], version="2", force=True))
    everything = alice.get("/api/v1/proposals").json()
    assert everything["count"] == 2
    assert [p["schema_version"] for p in everything["items"]] == ["2", "1"]
    waiting = alice.get("/api/v1/proposals", status="awaiting_approval").json()
    assert [p["submitted_by"] for p in waiting["items"]] == ["bob"]
    by_alice = alice.get("/api/v1/proposals", submitted_by="alice", tenant="t_demo").json()
    assert [p["schema_version"] for p in by_alice["items"]] == ["1"]
    page = alice.get("/api/v1/proposals", limit=1, offset=1).json()
    assert page["count"] == 2 and [p["schema_version"] for p in page["items"]] == ["1"]
    bad = alice.get("/api/v1/proposals", status="nonsense")
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "query.status"


def test_the_dry_run_plans_and_stores_nothing(people, api_as, target_url):
    alice = api_as(people.alice)
    response = alice.post("/api/v1/plan", seed_envelope())
    assert response.status_code == 200, response.json()
    plan = response.json()
    assert plan["tables_created"] == 1 and plan["indexes_created"] >= 1
    assert not plan["is_empty"] and not plan["is_dangerous"]
    assert "CREATE TABLE public.patients" in plan["sql"]
    assert Proposal.objects.count() == 0
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT to_regclass('public.patients')").fetchone() == (None,)


def test_writes_with_a_token_are_audited_and_the_token_remembers_its_use(people, token_for):
    from tests.api.conftest import Api

    raw = token_for(people.alice, "ci")
    api = Api(raw)
    pid = api.post("/api/v1/proposals", seed_envelope()).json()["id"]
    event = AuditEvent.objects.get(action="api.write", proposal_id=pid)
    token = ApiToken.objects.get(name="ci")
    assert event.actor_name == "alice"
    assert event.data["token"] == token.prefix and event.data["operation"] == "submit"
    assert token.last_used_at is not None


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/v1/nothing-here", "get"), ("/api/v1/proposals/not-a-uuid", "get")],
)
def test_unknown_urls_under_the_api_answer_json(people, api_as, path, method):
    response = getattr(api_as(people.alice), method)(path)
    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] in ("not_found", "invalid")


def test_the_dry_run_answers_503_when_the_target_is_unreachable(
    people, api_as, pg_server_url, monkeypatch
):
    from tests.apply.conftest import _url_for

    monkeypatch.setenv("TARGET_DEV_URL", _url_for(pg_server_url, "no_such_database"))
    response = api_as(people.alice).post("/api/v1/plan", seed_envelope())
    assert response.status_code == 503
    assert response.json()["code"] == "target_unavailable"
