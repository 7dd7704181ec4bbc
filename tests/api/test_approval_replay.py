"""An approval covers exactly the plan its approver read: replayed on another plan, with
another plan's checksum or hazard ids, it is refused, and the worker never runs a plan other
than the approved one."""

from __future__ import annotations

import psycopg
import pytest

from migrations_ui import workflow
from migrations_ui.models import Proposal, ProposalStatus
from migrations_ui.models.proposals import StalePlan
from migrations_ui.workflow import apply as apply_service

S = ProposalStatus


def _drop(column: str, keep: str) -> dict:
    return {
        "meta": {"tenant_id": "t_demo", "environment": "dev"},
        "payload": {
            "schema_version": "2",
            "description": f"drop {column}",
            "force_apply": True,
            "auto_columns": False,
            "tables": [
                {
                    "name": "staff",
                    "rls": False,
                    "columns": [
                        {"name": "id", "type": "int", "primary_key": True},
                        {"name": keep, "type": "text"},
                    ],
                }
            ],
        },
    }


@pytest.fixture
def staff(target_url: str) -> str:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE staff (id int PRIMARY KEY, notes text, payroll text);"
            "INSERT INTO staff VALUES (1, 'n', 'p')"
        )
    return target_url


def _columns(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'staff'::regclass AND attnum > 0"
            " AND NOT attisdropped"
        ).fetchall()
    return {r[0] for r in rows}


def test_an_approval_of_plan_a_replayed_on_plan_b_is_refused(people, api_as, staff):
    alice, bob = api_as(people.alice), api_as(people.bob)
    a = alice.post("/api/v1/proposals", _drop("notes", keep="payroll")).json()["id"]
    b = alice.post("/api/v1/proposals", _drop("payroll", keep="notes")).json()["id"]
    read_a = bob.get(f"/api/v1/proposals/{a}").json()
    read_b = bob.get(f"/api/v1/proposals/{b}").json()
    # The same kind of hazard on the same table, yet ids differ: they carry the plan's digest.
    kinds = [h["kind"] for h in read_a["hazards"]]
    assert kinds == [h["kind"] for h in read_b["hazards"]] and "DROPS_COLUMN" in kinds
    assert set(read_a["acknowledge"]).isdisjoint(read_b["acknowledge"])

    replay = {
        "acknowledged_hazards": read_a["acknowledge"],
        "plan_checksum": read_a["plan_checksum"],
    }
    refused = bob.post(f"/api/v1/proposals/{b}/approve", replay)
    assert refused.status_code == 409 and refused.json()["code"] == "plan_changed"
    mixed = {
        "acknowledged_hazards": read_a["acknowledge"],
        "plan_checksum": read_b["plan_checksum"],
    }
    refused = bob.post(f"/api/v1/proposals/{b}/approve", mixed)
    assert refused.status_code == 409 and refused.json()["code"] == "plan_changed"
    assert Proposal.objects.get(pk=b).status == S.AWAITING_APPROVAL
    assert {"notes", "payroll"} <= _columns(staff)


def test_the_model_refuses_another_checksum_whatever_the_view_does(people, api_as, staff):
    pid = (
        api_as(people.alice).post("/api/v1/proposals", _drop("notes", keep="payroll")).json()["id"]
    )
    proposal = Proposal.objects.get(pk=pid)
    with pytest.raises(StalePlan):
        workflow.approve(proposal, people.bob, "0" * 64, acknowledged=proposal.hazard_ids())
    proposal.refresh_from_db()
    assert proposal.status == S.AWAITING_APPROVAL


def test_the_worker_refuses_a_plan_that_is_not_the_approved_one(people, api_as, staff):
    pid = (
        api_as(people.alice).post("/api/v1/proposals", _drop("notes", keep="payroll")).json()["id"]
    )
    proposal = Proposal.objects.get(pk=pid)
    workflow.approve(
        proposal, people.bob, proposal.plan_checksum, acknowledged=proposal.hazard_ids()
    )
    proposal.refresh_from_db()
    assert proposal.status == S.QUEUED
    # The stored plan changes after the approval (as a bug or a hand in the database would).
    Proposal.objects.filter(pk=pid).update(plan_checksum="f" * 64)

    apply_service.run(str(pid))
    proposal.refresh_from_db()
    assert proposal.status == S.FAILED
    assert "not the plan that was approved" in proposal.error
    assert {"notes", "payroll"} <= _columns(staff)
