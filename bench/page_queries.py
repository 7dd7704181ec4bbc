"""SQL queries and bytes read per page, with 1 and with 20 proposals of an N-table blueprint.

    .venv/bin/python -m bench.page_queries [--tables 100] [--url URL]

Runs the real app against the embedded PostgreSQL of bench/results/pg (or ``--url``), in two
databases of its own that it drops at the end. One N-table blueprint is submitted, planned and
applied for real (a 100-table plan and a 100-table snapshot, as a grown tenant stores them);
the other proposals and versions are copies of those rows, so every row carries plans and
snapshots of the real size. One proposal lives in one tenant of 2 targets; 20 are spread over 5
tenants of 2 targets each, in every status, so a page whose queries grow with the rows or the
targets it shows says so.

For each page, as bob (an approver of every tenant) with Django's test client: the number of
SQL queries, and the bytes those queries read (each SELECT run again as
``SELECT sum(octet_length(row::text))`` over its own result: the size of the rows in the text
form the app receives them). The poll is the htmx request of an applying proposal's status
region. Nothing here fails on a number.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from bench import pg, schemas
from bench.proposal_page import _setup_django

APP_DB = "bench_queries_app"
TARGET_DB = "bench_queries_target"
TENANTS = 5
STATUSES = ["applied", "awaiting_approval", "failed", "queued", "blocked", "applying"]


def _bytes_read(connection: Any, sql: str) -> int:
    """The size, as text, of the rows one captured SELECT returned (0 for anything else)."""
    if not sql.lstrip().upper().startswith("SELECT") or "FOR UPDATE" in sql.upper():
        return 0
    with connection.cursor() as cur:
        cur.execute(f"SELECT coalesce(sum(octet_length(r::text)), 0) FROM ({sql}) r")
        return int(cur.fetchone()[0])


def measure(client: Any, url: str, headers: dict[str, str] | None = None) -> dict[str, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers=headers or {})
    assert response.status_code in (200, 286), (url, response.status_code)
    read = sum(_bytes_read(connection, q["sql"]) for q in captured.captured_queries)
    return {"queries": len(captured), "bytes": read, "html": len(response.content)}


def _copy_proposal(original: Any, target: Any, status: str, n: int) -> Any:
    from migrations_ui.models import MigrationRecord, Proposal

    fields = {
        f.attname: getattr(original, f.attname)
        for f in Proposal._meta.concrete_fields
        if f.attname not in ("id", "tenant_id", "target_id")
    }
    fields |= {
        "status": status,
        "schema_version": f"{100 + n:03d}",
        "idempotency_key": uuid.uuid4().hex,
        "caller_key": True,
    }
    if status == "applying":
        fields["timings"] = {"progress": {"done": 3, "total": 939}}
    copy = Proposal.objects.create(id=uuid.uuid4(), tenant=target.tenant, target=target, **fields)
    if status == "applied":
        record = MigrationRecord.objects.filter(proposal=original).first()
        assert record is not None
        values = {
            f.attname: getattr(record, f.attname)
            for f in MigrationRecord._meta.concrete_fields
            if f.attname not in ("id", "tenant_id", "target_id", "proposal_id")
        }
        MigrationRecord.objects.create(
            tenant=target.tenant, target=target, proposal=copy, **values | {"version": n}
        )
    return copy


def _pages(client: Any, tenant: Any, proposal: Any, applying: Any) -> dict[str, dict[str, int]]:
    poll = {"HX-Request": "true", "HX-Target": "proposal-status"}
    return {
        "dashboard": measure(client, "/"),
        "proposal list": measure(client, "/proposals/"),
        "proposal page": measure(client, f"/proposals/{proposal.pk}/"),
        "poll (applying)": measure(client, f"/proposals/{applying.pk}/status/", poll),
        "API proposal list": measure(client, "/api/v1/proposals"),
        "tenant page": measure(client, f"/tenants/{tenant.slug}/"),
    }


def _run(n: int, app_url: str, target_url: str) -> dict[str, Any]:
    _setup_django(app_url, target_url)
    from django.test import Client

    from migrations_ui import apply_service
    from migrations_ui.models import Membership, Role, Source, Target, Tenant
    from migrations_ui.workflow.submission import submit
    from tests.factories import UserFactory

    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    tenants, targets = [], []

    def add_tenant(i: int) -> None:
        tenant = Tenant.objects.create(slug=f"t_q{i}", name=f"Tenant {i}")
        tenants.append(tenant)
        for env in ("bench", "prod"):
            targets.append(
                Target.objects.create(
                    tenant=tenant,
                    environment=env,
                    connection_alias="bench",
                    is_default=env == "bench",
                )
            )
        Membership.objects.create(user=alice, tenant=tenant, role=Role.SUBMITTER)
        Membership.objects.create(user=bob, tenant=tenant, role=Role.APPROVER)

    add_tenant(0)
    print(f"[page_queries] planning and applying {n} tables", flush=True)
    envelope = {"meta": {"tenant_id": "t_q0"}, "payload": schemas.blueprint(n)}
    first = submit(user=alice, envelope=envelope, source=Source.CLI).proposal
    apply_service.run(str(first.pk))
    first.refresh_from_db()
    assert first.status == "applied", first.error
    client = Client()
    client.force_login(bob)
    # With one proposal the poll has no applying proposal of its own: poll a copy, then drop it.
    applying = _copy_proposal(first, targets[0], "applying", 0)
    results = {"1": _pages(client, tenants[0], first, applying)}
    applying.delete()
    for i in range(1, TENANTS):
        add_tenant(i)
    for i in range(1, 20):
        status = STATUSES[i % len(STATUSES)]
        # Applied copies land on the first target: its tenant page then has several versions.
        _copy_proposal(first, targets[0 if status == "applied" else i % len(targets)], status, i)
    applying = _copy_proposal(first, targets[0], "applying", 20)
    results["20"] = _pages(client, tenants[0], first, applying)
    return results


def _report(n: int, results: dict[str, Any]) -> str:
    lines = [
        f"SQL per page, proposals of a {n}-table blueprint (bob's view; bytes: rows read, as text)",
        "",
        "| page | queries, 1 proposal | queries, 20 | bytes read, 1 | bytes read, 20 |",
        "|---|---|---|---|---|",
    ]
    for page, one in results["1"].items():
        many = results["20"][page]
        lines.append(
            f"| {page} | {one['queries']} | {many['queries']} | "
            f"{one['bytes']:,} | {many['bytes']:,} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--url", help="a PostgreSQL server's postgres database (superuser)")
    args = parser.parse_args(argv)
    with pg.server(args.url) as server_url:
        app_url = pg.recreate_database(server_url, APP_DB)
        target_url = pg.recreate_database(server_url, TARGET_DB)
        try:
            results = _run(args.tables, app_url, target_url)
        finally:
            from django.db import connections

            connections.close_all()
            pg.drop_database(server_url, APP_DB)
            pg.drop_database(server_url, TARGET_DB)
    print(_report(args.tables, results), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
