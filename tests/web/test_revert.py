"""The history page's "Revert to this version": the old schema again, as the next version."""

from __future__ import annotations

from migrations_ui.models import MigrationRecord, Proposal, ProposalStatus, Source
from migrations_ui.workflow import apply as apply_service
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import envelope, table

WITH_EMAIL = [table("patients", ("first_name", "TEXT"), ("phone", "TEXT"), ("email", "TEXT"))]


def test_reverting_submits_the_old_blueprint_as_the_next_version(client, alice, applied_v1):
    two = submit(user=alice, envelope=envelope(WITH_EMAIL, version="002"), source=Source.FORM)
    apply_service.run(str(two.proposal.pk))
    first = MigrationRecord.objects.get(version="001", status="success")
    client.force_login(alice)
    body = client.get("/tenants/t_demo/").content.decode()
    revert_url = f"/tenants/t_demo/dev/versions/{first.pk}/revert/"
    assert body.count("Revert to this version") == 1 and revert_url in body  # not the current

    response = client.post(revert_url)
    revert = Proposal.objects.get(schema_version="003")
    assert response.status_code == 302 and response["Location"] == f"/proposals/{revert.pk}/"
    assert revert.envelope["payload"]["revert_of"] == "001"
    assert revert.description == "Revert to v001"
    assert revert.blueprint["tables"] == applied_v1.blueprint["tables"]
    # Dropping the empty email column is safe: the revert goes straight to the queue.
    assert revert.status == ProposalStatus.QUEUED, revert.error
    apply_service.run(str(revert.pk))
    current = MigrationRecord.objects.filter(status="success").first()
    assert current is not None and current.version == "003"
    page = client.get(f"/proposals/{revert.pk}/").content.decode()
    assert "Submitted version 003, a revert to v001." in page


def test_a_viewer_sees_no_revert_button(client, erin, applied_v1, alice):
    two = submit(user=alice, envelope=envelope(WITH_EMAIL, version="002"), source=Source.FORM)
    apply_service.run(str(two.proposal.pk))
    client.force_login(erin)
    assert "Revert to this version" not in client.get("/tenants/t_demo/").content.decode()
    first = MigrationRecord.objects.get(version="001", status="success")
    client.post(f"/tenants/t_demo/dev/versions/{first.pk}/revert/")
    assert not Proposal.objects.filter(schema_version="003").exists()
