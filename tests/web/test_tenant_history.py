"""A tenant's history: versions per target, the schema at a version, comparing two."""

from __future__ import annotations

from migrations_ui import workflow
from migrations_ui.models import MigrationRecord, Proposal
from migrations_ui.workflow import apply as apply_service
from tests.factories import TargetFactory, TenantFactory


def applied(proposal: Proposal, bob) -> MigrationRecord:  # type: ignore[no-untyped-def]
    workflow.approve(proposal, bob, proposal.plan_checksum, acknowledged=proposal.hazard_ids())
    apply_service.run(str(proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == "applied", proposal.error
    return MigrationRecord.objects.get(proposal=proposal, status="success")


def test_the_tenant_page_lists_versions_and_the_tables_managed_now(client, erin, applied_v1):
    client.force_login(erin)
    response = client.get("/tenants/t_demo/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Managed now on dev" in body and "version <strong>001</strong>" in body
    assert 'data-table="patients"' in body  # the diagram
    history = body[body.index('id="history"') :]
    assert "v001" in history and "applied" in history and "alice" in history


def test_history_shows_every_outcome_newest_first(client, bob, dangerous):
    workflow.reject(dangerous, bob, comment="not yet")
    MigrationRecord.objects.create(
        tenant=dangerous.tenant,
        target=dangerous.target,
        version="003",
        applied_by="alice",
        status="blocked",
        error_message="Blocked: the plan has dangerous changes.",
    )
    client.force_login(bob)
    body = client.get("/tenants/t_demo/").content.decode()
    history = body[body.index('id="history"') :]
    assert history.index("v003") < history.index("v001")
    assert "blocked" in history and "Blocked: the plan has dangerous changes." in history
    assert "v002" not in history  # a rejected proposal changed nothing: no version


def test_the_schema_at_a_version(client, bob, dangerous):
    v2 = applied(dangerous, bob)
    v1 = MigrationRecord.objects.get(proposal__schema_version="001", status="success")
    client.force_login(bob)
    body = client.get(f"/tenants/t_demo/dev/versions/{v1.pk}/").content.decode()
    assert "Schema at v001" in body and "phone" in body and "visits" not in body
    body = client.get(f"/tenants/t_demo/dev/versions/{v2.pk}/").content.decode()
    assert 'id="table-visits"' in body and "email" in body
    assert '<span class="k">DROP</span>' in body  # the SQL that made it, highlighted


def test_comparing_two_versions_reads_like_a_proposal(client, bob, dangerous):
    v2 = applied(dangerous, bob)
    v1 = MigrationRecord.objects.get(proposal__schema_version="001", status="success")
    client.force_login(bob)
    response = client.get(f"/tenants/t_demo/dev/compare/?from={v1.pk}&to={v2.pk}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "v001" in body and "v002" in body
    changes = body[body.index('id="changes"') :]
    assert 'id="table-patients"' in changes and 'id="table-visits"' in changes
    assert "<th>Before</th><th>After</th>" in changes
    assert 'class="row-dropped"' in changes  # phone
    assert 'class="erd-table erd-added" data-table="visits"' in body
    # And backwards: visits is dropped, phone comes back.
    body = client.get(f"/tenants/t_demo/dev/compare/?from={v2.pk}&to={v1.pk}").content.decode()
    assert '<span class="action-tag dropped">visits' not in body
    assert 'class="change change-dropped" id="table-visits"' in body


def test_compare_defaults_to_the_previous_version(client, bob, applied_v1):
    client.force_login(bob)
    body = client.get("/tenants/t_demo/dev/compare/").content.decode()
    assert "Empty schema → v001" in body
    assert 'class="change change-created" id="table-patients"' in body


def test_dave_cannot_see_the_tenant_nor_its_versions(client, dave, applied_v1):
    record = MigrationRecord.objects.get()
    client.force_login(dave)
    assert client.get("/tenants/t_demo/").status_code == 404
    assert client.get(f"/tenants/t_demo/dev/versions/{record.pk}/").status_code == 404
    assert client.get("/tenants/t_demo/dev/compare/").status_code == 404
    assert client.get("/tenants/t_nope/").status_code == 404


def test_a_version_of_another_tenant_is_not_found_through_this_one(client, carol, applied_v1):
    record = MigrationRecord.objects.get()
    other = TenantFactory(slug="t_other")
    TargetFactory(tenant=other)
    client.force_login(carol)  # superuser: sees both tenants
    assert client.get(f"/tenants/t_other/dev/versions/{record.pk}/").status_code == 404
    assert client.get(f"/tenants/t_demo/prod/versions/{record.pk}/").status_code == 404


def test_a_tenant_with_nothing_applied_says_so(client, alice):
    client.force_login(alice)
    body = client.get("/tenants/t_demo/").content.decode()
    assert "Nothing applied to this target yet" in body and "No versions yet." in body
