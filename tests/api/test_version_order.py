"""A target's versions only go up in apply order; going back is an explicit revert."""

from __future__ import annotations

from migrations_ui.models import MigrationRecord, Proposal, ProposalStatus, Source
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope, table

PATIENTS = [table("patients", ("first_name", "TEXT"))]
WITH_EMAIL = [table("patients", ("first_name", "TEXT"), ("email", "TEXT"))]
WITH_PHONE = [table("patients", ("first_name", "TEXT"), ("email", "TEXT"), ("phone", "TEXT"))]


def _applied(people, tables, version: str, **payload) -> Proposal:  # type: ignore[no-untyped-def]
    env = envelope(tables, version=version)
    env["payload"].update(payload)
    proposal = submit(user=people.alice, envelope=env, source=Source.API).proposal
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.APPLIED, proposal.error
    return proposal


def test_a_used_version_with_another_schema_is_409_at_its_path(people, api_as, target_url):
    _applied(people, PATIENTS, "001")
    _applied(people, WITH_EMAIL, "002")
    response = api_as(people.alice).post("/api/v1/proposals", envelope(WITH_PHONE, version="002"))
    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "version_conflict"
    assert body["errors"][0]["path"] == "payload.schema_version"
    assert "already applied to dev with a different schema" in body["message"]
    assert "003" in body["message"]
    assert Proposal.objects.count() == 2


def test_a_lower_version_is_409_and_names_the_revert(people, api_as, target_url):
    _applied(people, PATIENTS, "001")
    _applied(people, WITH_EMAIL, "004")
    response = api_as(people.alice).post("/api/v1/proposals", envelope(PATIENTS, version="001"))
    assert response.status_code == 409, response.json()
    message = response.json()["message"]
    assert "lower than dev's current version 004" in message
    assert 'version 005 with payload.revert_of: "001"' in message
    assert list(
        MigrationRecord.objects.filter(target=people.target).values_list("version", flat=True)
    ) == ["004", "001"]


def test_a_revert_is_the_next_version_and_brings_back_the_old_schema(people, target_url):
    _applied(people, PATIENTS, "001")
    _applied(people, WITH_EMAIL, "002")
    revert = _applied(people, PATIENTS, "003", revert_of="001")
    assert revert.envelope["payload"]["revert_of"] == "001"
    current = MigrationRecord.objects.filter(target=people.target).first()
    assert current is not None and current.version == "003"


def test_revert_of_must_name_an_applied_version(people, api_as, target_url):
    _applied(people, PATIENTS, "001")
    env = envelope(WITH_EMAIL, version="002")
    env["payload"]["revert_of"] = "000"
    response = api_as(people.alice).post("/api/v1/proposals", env)
    assert response.status_code == 409
    assert response.json()["errors"][0]["path"] == "payload.revert_of"
    assert "never applied to dev (applied: 001)" in response.json()["message"]


def test_the_order_is_checked_again_when_two_queued_proposals_apply_the_other_way(
    people, target_url
):
    _applied(people, PATIENTS, "001")
    three = submit(
        user=people.alice, envelope=envelope(WITH_EMAIL, version="003"), source=Source.API
    ).proposal
    four = submit(
        user=people.alice, envelope=envelope(WITH_PHONE, version="004"), source=Source.API
    ).proposal
    assert three.status == four.status == ProposalStatus.QUEUED
    apply_service.run(str(four.pk))
    apply_service.run(str(three.pk))
    three.refresh_from_db()
    assert three.status == ProposalStatus.FAILED
    assert "lower than dev's current version 004" in three.error
    assert "Nothing was changed" in three.error
    applied = MigrationRecord.objects.filter(target=people.target, status="success")
    assert [r.version for r in applied] == ["004", "001"]
