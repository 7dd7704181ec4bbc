"""POST /wf106/schema-builder: the seed's input contract in, its output contract out, each
status code reached for real."""

from __future__ import annotations

import hashlib
import json

import psycopg

from migrations_ui.models import MigrationRecord, Proposal, ProposalStatus
from tests.api.conftest import seed_request
from tests.api.test_proposals import dangerous_setup
from tests.apply.blueprints import envelope, seed_envelope, table
from tests.apply.conftest import _url_for

HOOK = "/wf106/schema-builder"
S = ProposalStatus


def recompute(data: object) -> str:
    """The seed's hash form, computed here independently of the app's code."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256_" + hashlib.sha256(text.encode()).hexdigest()


def assert_contract(body: dict, request: dict) -> None:
    """Every field of the output contract present, typed, and consistent with the request."""
    assert set(body) == {"meta_out", "result", "audit"}
    meta = body["meta_out"]
    assert set(meta) == {
        "workflow_name",
        "workflow_run_id",
        "latency_ms",
        "success",
        "inputs_hash",
        "outputs_hash",
    }
    assert meta["workflow_name"] == "WF106"
    assert isinstance(meta["latency_ms"], int) and meta["latency_ms"] >= 0
    assert meta["inputs_hash"] == recompute(request)
    assert meta["outputs_hash"] == recompute({"result": body["result"], "audit": body["audit"]})
    result = body["result"]
    assert result["status"] in (
        "applied",
        "noop",
        "blocked",
        "failed",
        "pending_approval",
        "queued",
    )
    assert isinstance(result["summary"], str) and result["summary"]
    outputs = result["primary_outputs"]
    assert set(outputs) == {
        "schema_version",
        "tables_created",
        "indexes_created",
        "migration_log_id",
        "warnings",
        "apply_mode",
        "phase2_steps",
    }
    assert outputs["schema_version"] == request["payload"]["schema_version"]
    assert isinstance(outputs["warnings"], list)
    assert outputs["apply_mode"] in ("online", "atomic")
    for step in outputs["phase2_steps"]:
        assert set(step) == {"index", "sql", "status", "ms"}
        assert step["status"] in ("pending", "done", "failed")
    audit = body["audit"]
    assert audit["phi_touched"] is False
    assert all(set(d) == {"table", "record_id"} for d in audit["data_written"])
    for call in audit["external_calls"]:
        assert set(call) == {"service", "endpoint", "latency_ms"}
        assert call["latency_ms"] >= 0


def test_the_seed_example_is_applied_then_answered_noop(people, t001, api_as, workers):
    workers.start()
    alice = api_as(people.alice)
    request = seed_request()

    first = alice.post(HOOK, request)
    assert first.status_code == 200, first.json()
    body = first.json()
    assert_contract(body, request)
    assert body["result"]["status"] == "applied", body["result"]["summary"] + workers.logs()
    assert body["meta_out"]["success"] is True
    assert body["meta_out"]["workflow_run_id"] == "wr_example_001"
    outputs = body["result"]["primary_outputs"]
    assert outputs["tables_created"] == 1
    assert outputs["indexes_created"] == 3  # tenant_id, created_at and the declared phone index
    record = MigrationRecord.objects.get(
        proposal_id=body["result"]["proposal_id"], status="success"
    )
    assert outputs["migration_log_id"] == record.log_id
    assert {"table": "schema_migrations", "record_id": record.log_id} in body["audit"][
        "data_written"
    ]
    assert [c["endpoint"] for c in body["audit"]["external_calls"]] == ["plan", "apply"]
    with psycopg.connect(t001.url) as conn:
        assert conn.execute("SELECT to_regclass('public.patients')").fetchone() == ("patients",)

    again = alice.post(HOOK, request)
    assert again.status_code == 200
    replay = again.json()
    assert_contract(replay, request)
    assert replay["result"]["status"] == "noop"
    assert replay["result"]["proposal_id"] == body["result"]["proposal_id"]
    assert replay["meta_out"]["inputs_hash"] == body["meta_out"]["inputs_hash"]
    assert Proposal.objects.count() == 1


def test_an_online_change_reports_its_second_stage_step_by_step(
    people, api_as, target_url, workers
):
    workers.start()
    alice = api_as(people.alice)
    v1 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))])
    first = alice.post(HOOK, v1).json()
    assert first["result"]["status"] == "applied", first["result"]["summary"] + workers.logs()
    assert first["result"]["primary_outputs"]["phase2_steps"] == []  # new tables: one stage
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO public.orders (tenant_id, total, code) "
            "SELECT gen_random_uuid(), g, 'c' || g FROM generate_series(1, 100) g"
        )
    v2 = envelope([table("orders", ("total", "INTEGER"), ("code", "TEXT"))], version="002")
    v2["payload"]["tables"][0]["indexes"] = [{"name": "idx_orders_total", "columns": ["total"]}]
    v2["payload"]["tables"][0]["columns"][1]["not_null"] = True

    response = alice.post(HOOK, v2)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert_contract(body, v2)
    assert body["result"]["status"] == "applied", body["result"]["summary"] + workers.logs()
    outputs = body["result"]["primary_outputs"]
    assert outputs["apply_mode"] == "online"
    proposal = Proposal.objects.get(pk=body["result"]["proposal_id"])
    planned = proposal.plan_statements()
    stage_two = [i for i, st in enumerate(planned) if st.get("stage") == 2]
    assert [s["index"] for s in outputs["phase2_steps"]] == stage_two
    assert [s["sql"] for s in outputs["phase2_steps"]] == [planned[i]["sql"] for i in stage_two]
    assert any("CREATE INDEX CONCURRENTLY" in s["sql"] for s in outputs["phase2_steps"])
    assert all(s["status"] == "done" and s["ms"] >= 0 for s in outputs["phase2_steps"])
    # The proposal as the REST API shows it says the same.
    shown = alice.get(f"/api/v1/proposals/{proposal.pk}").json()
    assert shown["apply_mode"] == "online"
    assert shown["phase2_steps"] == outputs["phase2_steps"]


def test_an_invalid_envelope_is_400_with_every_error(people, api_as):
    request = seed_envelope()
    request["payload"]["tables"][0]["columns"][0]["type"] = "TEXT; DROP TABLE x"
    request["payload"]["tables"][0]["columns"][1]["not_nul"] = True
    response = api_as(people.alice).post(HOOK, request)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    paths = [e["path"] for e in body["errors"]]
    assert "payload.tables[0].columns[0].type" in paths
    assert "payload.tables[0].columns[1].not_nul" in paths
    assert body["meta_out"]["success"] is False
    assert body["meta_out"]["inputs_hash"] == recompute(request)
    assert Proposal.objects.count() == 0


def test_a_dangerous_change_is_409_blocked(people, api_as, target_url):
    request = dangerous_setup(target_url)
    response = api_as(people.alice).post(HOOK, request)
    assert response.status_code == 409
    body = response.json()
    assert_contract(body, request)
    assert body["result"]["status"] == "blocked"
    assert any(
        "DROPS_COLUMN" in w or "drop" in w.lower()
        for w in body["result"]["primary_outputs"]["warnings"]
    )
    assert MigrationRecord.objects.get().status == "blocked"


def test_force_apply_is_202_pending_approval(people, api_as):
    request = envelope([table("visits", ("notes", "TEXT"))], force=True)
    response = api_as(people.alice).post(HOOK, request)
    assert response.status_code == 202
    body = response.json()
    assert_contract(body, request)
    assert body["result"]["status"] == "pending_approval"
    assert body["meta_out"]["success"] is True


def test_still_queued_when_the_wait_is_over_is_202(people, api_as):
    request = envelope([table("visits", ("notes", "TEXT"))])
    response = api_as(people.alice).post(HOOK + "?wait=0", request)
    assert response.status_code == 202
    assert response.json()["result"]["status"] == "queued"
    assert Proposal.objects.get().status == S.QUEUED


def test_a_failure_is_500_failed(people, api_as, pg_server_url, monkeypatch):
    # The target's database does not exist: the plan cannot be made and the proposal fails.
    monkeypatch.setenv("TARGET_DEV_URL", _url_for(pg_server_url, "no_such_database"))
    request = envelope([table("visits", ("notes", "TEXT"))])
    response = api_as(people.alice).post(HOOK, request)
    assert response.status_code == 500
    body = response.json()
    assert_contract(body, request)
    assert body["result"]["status"] == "failed"
    assert body["meta_out"]["success"] is False
    # The summary says what went wrong in our words; the database's name stays on the server.
    assert "SQLSTATE 08006 (connection failure" in body["result"]["summary"]
    assert "no_such_database" not in json.dumps(body)


def test_a_reused_key_with_another_blueprint_is_409_conflict(people, api_as):
    alice = api_as(people.alice)
    key = {"Idempotency-Key": "wf-run-7"}
    assert (
        alice.post(HOOK + "?wait=0", envelope([table("a", ("x", "TEXT"))]), headers=key).status_code
        == 202
    )
    response = alice.post(HOOK + "?wait=0", envelope([table("b", ("x", "TEXT"))]), headers=key)
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"


def test_another_tenant_is_404_and_no_token_is_401(people, api_as, outsider):
    response = api_as(outsider).post(HOOK, seed_envelope())
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    from tests.api.conftest import Api

    anonymous = Api(None).post(HOOK, seed_envelope())
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    assert anonymous["WWW-Authenticate"].startswith("Bearer")
    assert Proposal.objects.count() == 0


def test_a_retry_after_a_person_rejected_it_is_409_failed(people, api_as):
    alice, bob = api_as(people.alice), api_as(people.bob)
    request = envelope([table("visits", ("notes", "TEXT"))], force=True)
    key = {"Idempotency-Key": "wf-run-9"}
    pending = alice.post(HOOK, request, headers=key)
    assert pending.status_code == 202
    pid = pending.json()["result"]["proposal_id"]
    assert (
        bob.post(f"/api/v1/proposals/{pid}/reject", {"comment": "not this week"}).status_code == 200
    )
    retry = alice.post(HOOK, request, headers=key)
    assert retry.status_code == 409
    assert_contract(retry.json(), request)
    assert retry.json()["result"]["status"] == "failed"
    assert retry.json()["result"]["proposal_id"] == pid


def test_an_unusable_idempotency_key_is_400(people, api_as):
    response = api_as(people.alice).post(HOOK, seed_envelope(), headers={"Idempotency-Key": "a b"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["errors"][0]["path"].startswith("header.")
