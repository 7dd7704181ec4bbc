"""Pages and API lists read what they show: a number of queries that does not grow with the
proposals, tenants and targets behind them, and none of the large columns (the plan, its SQL,
the envelope, the blueprint) where only a list row or a status is shown.

One real proposal (``dangerous``: v2 of t_demo, planned against a live target) is copied into
more tenants and targets, in every status, so each copy carries a real plan."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from migrations_ui.models import MigrationRecord, Proposal, Role, Target
from tests.factories import MembershipFactory, TenantFactory
from tests.web.conftest import hx

STATUSES = ["applied", "awaiting_approval", "failed", "queued", "blocked", "applying"]
# A column selected whole (not one key or path of it picked out with -> or #>).
PLAN_COLUMNS = re.compile(
    r'"migrations_ui_proposal"\."(plan|plan_sql|envelope|blueprint)"(?!\s*(->|#>))'
)
SNAPSHOT_COLUMN = re.compile(r'"migrations_ui_migrationrecord"\."snapshot"(?!\s*IS)')


def copy_of(proposal: Proposal, target: Target, status: str) -> Proposal:
    """Another proposal with ``proposal``'s plan, in ``target``; an applied one gets its
    version (with a snapshot) too."""
    fields = {
        f.attname: getattr(proposal, f.attname)
        for f in Proposal._meta.concrete_fields
        if f.attname not in ("id", "tenant_id", "target_id")
    }
    fields |= {"status": status, "idempotency_key": uuid.uuid4().hex, "caller_key": True}
    if status == "applying":
        fields["timings"] = {"progress": {"done": 1, "total": len(proposal.plan_statements())}}
    copy = Proposal.objects.create(tenant=target.tenant, target=target, **fields)
    if status == "applied":
        record = MigrationRecord.objects.filter(snapshot__isnull=False).first()
        assert record is not None
        MigrationRecord.objects.create(
            tenant=target.tenant,
            target=target,
            proposal=copy,
            version=copy.schema_version,
            applied_by="alice",
            status="success",
            snapshot=record.snapshot,
            sql_script=record.sql_script,
        )
    return copy


def grow(dangerous: Proposal, bob: Any, alice: Any, to: int = 20) -> None:
    """Up to ``to`` proposals over 1 + 4 tenants of 2 targets each, bob approving in all."""
    targets = list(Target.objects.filter(tenant=dangerous.tenant))
    for i in range(4):
        tenant = TenantFactory(slug=f"t_more{i}")
        MembershipFactory(user=bob, tenant=tenant, role=Role.APPROVER)
        MembershipFactory(user=alice, tenant=tenant, role=Role.SUBMITTER)
        for env in ("dev", "prod"):
            targets.append(
                Target.objects.create(
                    tenant=tenant, environment=env, connection_alias="dev", is_default=env == "dev"
                )
            )
    for i in range(to - Proposal.objects.count()):
        status = STATUSES[i % len(STATUSES)]
        # Versions pile up on t_demo's own target: its page then has many to list.
        copy_of(dangerous, targets[0 if status == "applied" else i % len(targets)], status)
    assert Proposal.objects.count() == to


def pages(dangerous: Proposal) -> dict[str, tuple[str, dict[str, str]]]:
    applying = Proposal.objects.filter(status="applying").first() or copy_of(
        dangerous, dangerous.target, "applying"
    )
    return {
        "dashboard": ("/", {}),
        "proposal list": ("/proposals/", {}),
        "proposal page": (f"/proposals/{dangerous.pk}/", {}),
        "poll, applying": (f"/proposals/{applying.pk}/status/", hx("proposal-status")),
        "poll, awaiting approval": (f"/proposals/{dangerous.pk}/status/", hx("proposal-status")),
        "API proposal list": ("/api/v1/proposals", {}),
        "tenant page": ("/tenants/t_demo/", {}),
    }


def queries_of(client: Any, url: str, headers: dict[str, str]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in captured.captured_queries]


# The queries each page may make at most, whatever the number of proposals.
MAX_QUERIES = {
    "dashboard": 11,
    "proposal list": 10,
    "proposal page": 9,
    "poll, applying": 8,
    "poll, awaiting approval": 8,
    "API proposal list": 8,
    "tenant page": 14,  # + one query for who approved the versions shown
}


@pytest.mark.parametrize("page", list(MAX_QUERIES))
def test_a_page_makes_as_many_queries_for_20_proposals_as_for_2(
    client, bob, alice, dangerous, page, django_assert_max_num_queries
):
    client.force_login(bob)
    client.get("/api/v1/proposals")  # the API's first request of a person makes its rate row
    url, headers = pages(dangerous)[page]
    few = len(queries_of(client, url, headers))
    assert few <= MAX_QUERIES[page]
    grow(dangerous, bob, alice)
    with django_assert_max_num_queries(few):
        assert client.get(url, headers=headers).status_code == 200


LISTS_AND_POLLS = [p for p in MAX_QUERIES if p != "proposal page"]


@pytest.mark.parametrize("page", LISTS_AND_POLLS)
def test_lists_and_polls_never_read_a_plan(client, bob, alice, dangerous, page):
    grow(dangerous, bob, alice)
    client.force_login(bob)
    url, headers = pages(dangerous)[page]
    whole = [sql for sql in queries_of(client, url, headers) if PLAN_COLUMNS.search(sql)]
    assert whole == []


def test_the_poll_reads_only_the_statement_being_applied(client, bob, dangerous):
    applying = copy_of(dangerous, dangerous.target, "applying")
    client.force_login(bob)
    response = client.get(f"/proposals/{applying.pk}/status/", headers=hx("proposal-status"))
    body = response.content.decode()
    second = dangerous.plan_statements()[1]
    assert f"statement 2 of {len(dangerous.plan_statements())}" in body
    assert escape(second["reason"]) in body


def test_the_tenant_page_reads_the_one_snapshot_it_shows(client, bob, alice, dangerous):
    grow(dangerous, bob, alice)
    assert MigrationRecord.objects.filter(target=dangerous.target, status="success").count() > 3
    client.force_login(bob)
    sql = queries_of(client, "/tenants/t_demo/", {})
    reading = [s for s in sql if SNAPSHOT_COLUMN.search(s)]
    assert len(reading) == 1 and reading[0].rstrip().endswith("LIMIT 1")


def test_the_compare_page_reads_the_two_snapshots_it_compares(client, bob, alice, dangerous):
    grow(dangerous, bob, alice)
    client.force_login(bob)
    sql = queries_of(client, "/tenants/t_demo/dev/compare/", {})
    reading = [s for s in sql if SNAPSHOT_COLUMN.search(s)]
    assert len(reading) == 2


def test_the_admin_s_proposal_list_never_reads_a_plan(client, carol, bob, alice, dangerous):
    grow(dangerous, bob, alice)
    client.force_login(carol)
    sql = queries_of(client, "/admin/migrations_ui/proposal/", {})
    assert [s for s in sql if PLAN_COLUMNS.search(s)] == []
    detail = queries_of(client, f"/admin/migrations_ui/proposal/{dangerous.pk}/change/", {})
    assert any(PLAN_COLUMNS.search(s) for s in detail)  # the change page shows the plan
