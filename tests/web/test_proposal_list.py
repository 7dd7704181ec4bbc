"""The proposal list: filters that update the table in place, a shareable URL, pages."""

from __future__ import annotations

from django.utils import timezone

from migrations_ui.models import Proposal, ProposalStatus, Source
from tests.factories import TargetFactory, TenantFactory, UserFactory
from tests.web.conftest import hx


def make(tenant, user, version: str, status: str = "queued", description: str = "") -> Proposal:  # type: ignore[no-untyped-def]
    return Proposal.objects.create(
        tenant=tenant,
        target=tenant.targets.get(),
        submitted_by=user,
        source=Source.API,
        status=status,
        envelope={},
        blueprint={},
        schema_version=version,
        description=description or f"change {version}",
        schema_hash=f"{version:0>64}",
        idempotency_key=f"k{version}",
    )


def rows(body: str) -> int:
    table = body[body.index('id="proposal-table"') :]
    return table.count('<a href="/proposals/')


def test_alice_sees_her_tenants_proposals_only(client, alice, bob, tenant):
    other = TenantFactory(slug="t_other")
    TargetFactory(tenant=other)
    make(tenant, alice, "001")
    make(other, UserFactory(username="zed"), "900")
    client.force_login(alice)
    body = client.get("/proposals/").content.decode()
    assert rows(body) == 1 and "v001" in body and "v900" not in body and "t_other" not in body


def test_filters_narrow_the_table(client, alice, bob, tenant):
    make(tenant, alice, "001", "applied", "Foundation")
    make(tenant, bob, "002", "awaiting_approval", "Visits")
    make(tenant, alice, "003", "failed", "Billing")
    client.force_login(alice)
    assert rows(client.get("/proposals/?status=failed").content.decode()) == 1
    assert rows(client.get("/proposals/?submitter=bob").content.decode()) == 1
    assert rows(client.get("/proposals/?q=visit").content.decode()) == 1
    assert rows(client.get("/proposals/?tenant=t_demo&target=dev").content.decode()) == 3
    body = client.get("/proposals/?sort=old").content.decode()
    assert body.index("v001") < body.index("v003")
    body = client.get("/proposals/").content.decode()
    assert body.index("v003") < body.index("v001")


def test_an_htmx_filter_gets_only_the_table_and_the_count_out_of_band(client, bob, alice, tenant):
    make(tenant, alice, "002", "awaiting_approval")
    client.force_login(bob)
    response = client.get("/proposals/?status=awaiting_approval", headers=hx("proposal-table"))
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card table-card" id="proposal-table">')
    assert "<html" not in body and 'name="q"' not in body
    assert 'id="approval-count" class="nav-count has-some"' in body and 'hx-swap-oob="true"' in body
    assert "HX-Request" in response["Vary"]


def test_the_filter_form_works_without_javascript(client, alice, tenant):
    client.force_login(alice)
    body = client.get("/proposals/").content.decode()
    assert 'method="get" action="/proposals/"' in body
    assert 'hx-get="/proposals/"' in body and 'hx-push-url="true"' in body


def test_pages_keep_the_filters(client, alice, tenant):
    for n in range(30):
        p = make(tenant, alice, f"{n:03d}", "applied")
        Proposal.objects.filter(pk=p.pk).update(
            created_at=timezone.now() - timezone.timedelta(minutes=n)
        )
    client.force_login(alice)
    body = client.get("/proposals/?status=applied").content.decode()
    assert rows(body) == 25 and "page 1 of 2" in body
    assert 'href="?status=applied&amp;page=2"' in body
    body = client.get("/proposals/?status=applied&page=2").content.decode()
    assert rows(body) == 5


def test_dave_sees_an_empty_list(client, dave, alice, tenant):
    make(tenant, alice, "001")
    client.force_login(dave)
    body = client.get("/proposals/").content.decode()
    assert rows(body) == 0 and "No proposals match" in body


def test_a_proposal_id_finds_it(client, alice, tenant):
    p = make(tenant, alice, "001")
    make(tenant, alice, "002")
    client.force_login(alice)
    body = client.get(f"/proposals/?q={str(p.pk)[:8]}").content.decode()
    assert rows(body) == 1 and "v001" in body
    assert p.status == ProposalStatus.QUEUED
