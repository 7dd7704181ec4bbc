"""Server time of the proposal page for a 100-table plan.

    .venv/bin/python -m bench.proposal_page [--tables 100] [--repeat 30] [--url URL] [--smoke]

Runs the real app (Django, its migrations, the submission service, the worker's apply code
in-process) against the embedded PostgreSQL of bench/results/pg (or ``--url``), in two
databases of its own that it drops at the end. Two proposals are measured, both as bob (an
approver) sees them, with Django's test client (the whole request inside Django: middleware,
access checks, queries, template rendering; no network):

- **create**: the plan of a new tenant's N-table blueprint (N tables created, every column,
  constraint, index and policy listed, the diagram of N tables, the whole SQL highlighted).
- **change**: the v1 -> v2 plan over those N applied tables (``bench.schemas.v2``: columns
  added, widened and dropped, indexes added), submitted with force_apply, so the page also
  carries the risk report and the approval panel with its checkboxes.

For each: the first request (nothing cached: SQL highlighting and the diagram are computed),
then ``--repeat`` requests (the median is the figure: highlighted SQL and diagram come from
the cache, keyed by the plan's checksum), and the median of ``--repeat`` requests with the
cache emptied before each one. Nothing here fails on a time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import pg, schemas

APP_DB = "bench_page_app"
TARGET_DB = "bench_page_target"


def _setup_django(app_url: str, target_url: str) -> None:
    os.environ["DATABASE_URL"] = app_url
    os.environ["TARGET_BENCH_URL"] = target_url
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ.setdefault("SB_DATA_DIR", tempfile.mkdtemp(prefix="sb-bench-page-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "schemabuilder.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _time_ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _measure(client: Any, url: str, repeat: int) -> dict[str, Any]:
    from django.core.cache import cache

    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        get.size = len(response.content)  # type: ignore[attr-defined]

    cache.clear()
    first = _time_ms(get)
    warm = [_time_ms(get) for _ in range(repeat)]
    cold = []
    for _ in range(repeat):
        cache.clear()
        cold.append(_time_ms(get))
    return {
        "first_ms": round(first, 1),
        "median_ms": round(statistics.median(warm), 1),
        "p90_ms": round(sorted(warm)[max(0, int(len(warm) * 0.9) - 1)], 1),
        "median_uncached_ms": round(statistics.median(cold), 1),
        "html_bytes": get.size,  # type: ignore[attr-defined]
        "samples_ms": [round(x, 1) for x in warm],
    }


def run(n: int, repeat: int, url: str | None) -> dict[str, Any]:
    with pg.server(url) as server_url:
        app_url = pg.recreate_database(server_url, APP_DB)
        target_url = pg.recreate_database(server_url, TARGET_DB)
        try:
            return _run(n, repeat, app_url, target_url, pg.server_version(server_url))
        finally:
            from django.db import connections

            connections.close_all()
            pg.drop_database(server_url, APP_DB)
            pg.drop_database(server_url, TARGET_DB)


def _run(n: int, repeat: int, app_url: str, target_url: str, version: str) -> dict[str, Any]:
    _setup_django(app_url, target_url)
    from django.test import Client

    from migrations_ui.models import Membership, Role, Source, Target, Tenant
    from migrations_ui.workflow import apply as apply_service
    from migrations_ui.workflow.submission import submit
    from tests.factories import UserFactory

    tenant = Tenant.objects.create(slug="t_bench", name="Benchmark")
    Target.objects.create(
        tenant=tenant, environment="bench", connection_alias="bench", is_default=True
    )
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    Membership.objects.create(user=alice, tenant=tenant, role=Role.SUBMITTER)
    Membership.objects.create(user=bob, tenant=tenant, role=Role.APPROVER)
    client = Client()
    client.force_login(bob)

    v1 = schemas.blueprint(n)
    print(f"[proposal_page] planning {n} tables from empty", flush=True)
    created = submit(
        user=alice, envelope={"meta": {"tenant_id": "t_bench"}, "payload": v1}, source=Source.CLI
    ).proposal
    results: dict[str, Any] = {"server": version, "tables": n, "repeat": repeat}
    results["create"] = {
        "statements": len(created.plan_statements()),
        "changes": len((created.plan or {}).get("changes", [])),
        **_measure(client, f"/proposals/{created.pk}/", repeat),
    }
    print(f"[proposal_page] applying v1, planning v2 over {n} tables", flush=True)
    apply_service.run(str(created.pk))
    created.refresh_from_db()
    assert created.status == "applied", created.error
    v2 = {**schemas.v2(v1), "force_apply": True}
    changed = submit(
        user=alice, envelope={"meta": {"tenant_id": "t_bench"}, "payload": v2}, source=Source.CLI
    ).proposal
    results["change"] = {
        "status": changed.status,
        "statements": len(changed.plan_statements()),
        "changes": len((changed.plan or {}).get("changes", [])),
        "hazards": len(changed.hazards),
        **_measure(client, f"/proposals/{changed.pk}/", repeat),
    }
    return results


def _report(results: dict[str, Any]) -> str:
    lines = [
        f"Proposal page, {results['tables']} tables, {results['server']}, "
        f"{results['repeat']} requests each (Django test client, bob's view)",
        "",
        "| plan | tables changed | statements | first request | median | p90 | median, "
        "nothing cached | HTML |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, label in (("create", "create N tables"), ("change", "v1 -> v2 (force_apply)")):
        r = results[key]
        lines.append(
            f"| {label} | {r['changes']} | {r['statements']} | {r['first_ms']} ms | "
            f"**{r['median_ms']} ms** | {r['p90_ms']} ms | {r['median_uncached_ms']} ms | "
            f"{r['html_bytes'] / 1024:.0f} kB |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--url", help="a PostgreSQL server's postgres database (superuser)")
    parser.add_argument("--smoke", action="store_true", help="10 tables, 3 requests: CI's check")
    args = parser.parse_args(argv)
    n, repeat = (10, 3) if args.smoke else (args.tables, args.repeat)
    results = run(n, repeat, args.url)
    print(_report(results), flush=True)
    if not args.smoke:
        pg.RESULTS.mkdir(parents=True, exist_ok=True)
        out = pg.RESULTS / f"proposal_page-{time.strftime('%Y%m%d-%H%M%S')}.json"
        out.write_text(json.dumps(results, indent=2))
        print(f"[proposal_page] samples in {out.relative_to(Path.cwd())}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
