"""The audit admin on a big table: ``python -m bench.audit_admin [--smoke] [--url URL]``.

Loads one million audit events across 100 tenants (COPY, with real hash chains: every event
links to its tenant's previous one, as ``AuditEvent.record`` writes them), then times the
Django admin's audit-event list as a browser would ask for it, in this process through
Django's test client (the whole request: middleware, queries, template), so the number is
the server's time without the network:

- a tenant filter (``?tenant=``), a search by actor, a search by proposal id,
- and, for context, the unfiltered list, tenant + action, a month of the date drill-down,
  the list as a tenant admin (scoped to her tenant) and one event's page.

It ends with ``verify_audit`` over the whole table (its time and its verdict). The database
``sb_bench_audit`` is kept between runs and reused when it already holds the events (``--reload``
to load again); with no ``--url`` it lives on the embedded server in bench/results/pg.
Raw samples go to bench/results/audit_admin-<time>.json. Nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from bench.pg import RESULTS, recreate_database, server, server_version, with_database

DB_NAME = "sb_bench_audit"
SEED = 20261122
TARGET_MS = 200.0
START = datetime.datetime(2025, 11, 1, tzinfo=datetime.UTC)
SPAN = datetime.timedelta(days=365)
# What a proposal's life writes, in order; most proposals get the whole safe path.
LIFE = [
    ("proposal.submitted", "person", "submitted"),
    ("proposal.planned", "system", "planned"),
    ("proposal.queued", "system", "queued"),
    ("proposal.applying", "system", "applying"),
    ("proposal.applied", "system", "applied"),
]
EVENTS_PER_PROPOSAL = len(LIFE)


def _setup_django(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("SECRET_KEY", "bench-" + uuid.uuid4().hex)
    os.environ.setdefault("SB_DATA_DIR", tempfile.mkdtemp(prefix="sb-bench-data-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schemabuilder.settings")
    import django

    django.setup()


def _loaded(db_url: str, events: int) -> bool:
    try:
        with psycopg.connect(db_url) as conn:
            row = conn.execute("SELECT count(*) FROM migrations_ui_auditevent").fetchone()
    except psycopg.Error:
        return False
    return bool(row) and row[0] >= events


def load(db_url: str, *, events: int, tenants: int) -> dict[str, float]:
    """Migrate, then write tenants, people, proposals, and ``events`` chained audit events."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from migrations_ui.models import Membership, Proposal, Role, Source, Target, Tenant
    from migrations_ui.models.audit import GENESIS, canonical_content, content_hash

    timings: dict[str, float] = {}
    t0 = time.monotonic()
    call_command("migrate", verbosity=0)
    timings["migrate_s"] = time.monotonic() - t0

    rng = random.Random(SEED)
    User = get_user_model()
    password = make_password(None)
    t0 = time.monotonic()
    tenant_rows = Tenant.objects.bulk_create(
        [Tenant(slug=f"t_{n:03d}", name=f"Tenant {n:03d}") for n in range(tenants)]
    )
    targets = Target.objects.bulk_create(
        [
            Target(tenant=t, environment="prod", connection_alias="prod", is_default=True)
            for t in tenant_rows
        ]
    )
    User.objects.create(username="carol", is_staff=True, is_superuser=True, password=password)
    people: dict[int, list[Any]] = {}
    for t in tenant_rows:
        n = int(t.slug[2:])
        admin = User.objects.create(username=f"admin_{n:03d}", is_staff=True, password=password)
        staff = [
            User.objects.create(username=f"user_{n:03d}_{k}", password=password) for k in range(3)
        ]
        Membership.objects.create(user=admin, tenant=t, role=Role.ADMIN)
        for u in staff:
            Membership.objects.create(user=u, tenant=t, role=Role.SUBMITTER)
        people[t.pk] = staff

    # One proposal per life in the audit trail (5 events each), spread evenly over tenants.
    n_proposals = events // EVENTS_PER_PROPOSAL
    per_tenant = max(1, n_proposals // tenants)
    proposals: list[Proposal] = []
    for t, target in zip(tenant_rows, targets, strict=True):
        for k in range(per_tenant):
            submitter = people[t.pk][k % 3]
            version = f"{k // 100}.{k % 100}.0"
            proposals.append(
                Proposal(
                    tenant=t,
                    target=target,
                    submitted_by=submitter,
                    source=Source.API,
                    status="applied",
                    envelope={},
                    blueprint={},
                    schema_version=version,
                    description=f"bench change {k}",
                    schema_hash=hashlib.sha256(f"{t.pk}-{k}".encode()).hexdigest(),
                    idempotency_key=uuid.UUID(int=rng.getrandbits(128)).hex,
                )
            )
    Proposal.objects.bulk_create(proposals, batch_size=5_000)
    timings["setup_rows_s"] = time.monotonic() - t0

    # Events in global time order (tenants interleaved, as in production); each proposal's
    # life is consecutive within its tenant's chain. Hash chains computed as record() does.
    t0 = time.monotonic()
    order = list(range(len(proposals)))
    rng.shuffle(order)  # tenants interleave: proposals come in a random order
    queue = [(p, step) for p in order for step in range(EVENTS_PER_PROPOSAL)]
    total = len(queue)
    step_td = SPAN / max(total, 1)
    last_hash: dict[int, str] = {}
    last_seq: dict[int, int] = {}
    copy_sql = (
        "COPY migrations_ui_auditevent (tenant_id, proposal_id, actor_id, actor_name, action,"
        " created_at, request_id, data, prev_hash, hash, seq) FROM STDIN"
    )
    with psycopg.connect(db_url) as conn, conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for i, (p_index, step) in enumerate(queue):
            proposal = proposals[p_index]
            action, who, status = LIFE[step]
            if who == "person":
                actor_id, actor_name = proposal.submitted_by_id, proposal.submitted_by.username
            else:
                actor_id, actor_name = None, "system"
            created_at = START + step_td * i
            request_id = uuid.UUID(int=rng.getrandbits(128)).hex
            data = {"to": status, "version": proposal.schema_version}
            prev = last_hash.get(proposal.tenant_id, GENESIS)
            digest = content_hash(
                canonical_content(
                    tenant_id=proposal.tenant_id,
                    proposal_id=proposal.pk,
                    actor_name=actor_name,
                    action=action,
                    created_at=created_at,
                    request_id=request_id,
                    data=data,
                    prev_hash=prev,
                )
            )
            last_hash[proposal.tenant_id] = digest
            last_seq[proposal.tenant_id] = last_seq.get(proposal.tenant_id, 0) + 1
            copy.write_row(
                (
                    proposal.tenant_id,
                    proposal.pk,
                    actor_id,
                    actor_name,
                    action,
                    created_at,
                    request_id,
                    json.dumps(data),
                    prev,
                    digest,
                    last_seq[proposal.tenant_id],
                )
            )
    with psycopg.connect(db_url) as conn:
        # Each chain's checkpoint, as AuditEvent.record would have left it.
        conn.cursor().executemany(
            "INSERT INTO migrations_ui_auditcheckpoint (chain, tenant_id, seq, hash, updated_at)"
            " VALUES (%s, %s, %s, %s, now())",
            [(str(t), t, last_seq[t], last_hash[t]) for t in last_hash],
        )
    timings["copy_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    with psycopg.connect(db_url, autocommit=True) as conn:
        # What autovacuum does to a table of this age: statistics and the visibility map.
        conn.execute("VACUUM ANALYZE")
    timings["vacuum_analyze_s"] = time.monotonic() - t0
    return timings


def _measure(client: Any, url: str, repeat: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # warm: connection, template loading, plan caches
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    # Read from the page itself: the test client records no template context here (that
    # instrumentation would slow every request down).
    html = response.content.decode()
    shown = re.search(r"((?:more than )?[\d,]+) audit events?\b", html)
    samples.sort()
    return {
        "url": url,
        "min_ms": samples[0],
        "median_ms": statistics.median(samples),
        "p95_ms": samples[min(len(samples) - 1, int(len(samples) * 0.95))],
        "max_ms": samples[-1],
        "queries": len(queries),
        "sql_ms": sum(float(q["time"]) for q in queries.captured_queries) * 1000,
        "rows_shown": html.count('<th class="field-id">') or None,
        "count_shown": shown.group(1) if shown else "",
        "samples_ms": samples,
    }


def run(db_url: str, *, repeat: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Time the admin pages; then verify_audit over the whole table."""
    import io

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from migrations_ui.models import AuditEvent, Proposal, Tenant

    users = get_user_model().objects
    carol, tenant_admin = Client(), Client()
    carol.force_login(users.get(username="carol"))
    tenant_admin.force_login(users.get(username="admin_042"))
    changelist = reverse("admin:migrations_ui_auditevent_changelist")
    t42 = Tenant.objects.get(slug="t_042")
    some_proposal = Proposal.objects.filter(tenant=t42).order_by("created_at")[7]
    some_event = AuditEvent.objects.filter(tenant=t42).order_by("-id")[10]
    month = some_event.created_at
    cases = [
        ("tenant filter", carol, f"{changelist}?tenant={t42.pk}", True),
        ("search: actor", carol, f"{changelist}?q=user_042_1", True),
        ("search: proposal id", carol, f"{changelist}?q={some_proposal.pk}", True),
        ("no filter", carol, changelist, False),
        (
            "tenant + action filter",
            carol,
            f"{changelist}?tenant={t42.pk}&action=proposal.applied",
            False,
        ),
        (
            "date drill-down: one month",
            carol,
            f"{changelist}?created_at__year={month.year}&created_at__month={month.month}",
            False,
        ),
        ("tenant admin, her tenant only", tenant_admin, changelist, False),
        (
            "one event's page",
            carol,
            reverse("admin:migrations_ui_auditevent_change", args=[some_event.pk]),
            False,
        ),
    ]
    results = []
    for name, client, url, judged in cases:
        measured = _measure(client, url, repeat)
        measured.update(case=name, judged=judged)
        results.append(measured)
        print(
            f"[audit_admin] {name:32} median {measured['median_ms']:7.1f} ms"
            f"  p95 {measured['p95_ms']:7.1f} ms  ({measured['queries']} queries,"
            f" {measured['sql_ms']:.1f} ms SQL)",
            flush=True,
        )
    out = io.StringIO()
    t0 = time.monotonic()
    code = 0
    try:
        call_command("verify_audit", stdout=out)
    except SystemExit as exc:
        code = int(exc.code or 0)
    verify = {"seconds": time.monotonic() - t0, "exit": code, "output": out.getvalue().strip()}
    print(f"[audit_admin] verify_audit: {verify['output']} ({verify['seconds']:.1f} s)", flush=True)
    return results, verify


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| admin audit-event list | median | p95 | min | queries (SQL time) | rows | count shown |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        mark = " **(target)**" if r["judged"] else ""
        lines.append(
            f"| {r['case']}{mark} | {r['median_ms']:.0f} ms | {r['p95_ms']:.0f} ms |"
            f" {r['min_ms']:.0f} ms |"
            f" {r['queries']} ({r['sql_ms']:.0f} ms) | {r['rows_shown'] or ''} |"
            f" {r['count_shown']} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_admin", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--url", default=None, help="A server's postgres database URL.")
    parser.add_argument("--reload", action="store_true", help="Load the events again.")
    parser.add_argument("--smoke", action="store_true", help="20,000 events, 3 runs: CI's check.")
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.repeat, db_name = 20_000, 3, DB_NAME + "_smoke"
    else:
        db_name = DB_NAME
    with server(args.url) as server_url:
        db_url = with_database(server_url, db_name)
        reuse = not args.reload and not args.smoke and _loaded(db_url, args.events)
        if not reuse:
            db_url = recreate_database(server_url, db_name)
        _setup_django(db_url)
        load_timings: dict[str, float] = {}
        if reuse:
            print(f"[audit_admin] reusing {db_name} ({args.events:,} events)", flush=True)
            from django.core.management import call_command

            call_command("migrate", verbosity=0)  # indexes added since it was loaded
        else:
            print(f"[audit_admin] loading {args.events:,} events, {args.tenants} tenants")
            load_timings = load(db_url, events=args.events, tenants=args.tenants)
            print(f"[audit_admin] loaded: {load_timings}", flush=True)
        results, verify = run(db_url, repeat=args.repeat)
        version = server_version(db_url)
        from django.db import connections

        connections.close_all()
    report = {
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "server": version,
        "events": args.events,
        "tenants": args.tenants,
        "repeat": args.repeat,
        "load": load_timings,
        "load_average": os.getloadavg(),
        "results": results,
        "verify_audit": verify,
    }
    if not args.smoke:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
        path = RESULTS / f"audit_admin-{stamp}.json"
        path.write_text(json.dumps(report, indent=2))
        print(f"[audit_admin] raw samples: {path.relative_to(Path.cwd())}", flush=True)
    print(f"\n{version}, {args.events:,} events, {args.tenants} tenants, {args.repeat} runs each,")
    print(f"load average {os.getloadavg()[0]:.1f} at the end\n")
    print(table(results))
    judged = [r for r in results if r["judged"]]
    met = all(r["median_ms"] < TARGET_MS for r in judged)
    print(f"\ntarget (< {TARGET_MS:.0f} ms median, judged cases): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
