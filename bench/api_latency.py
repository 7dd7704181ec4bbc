"""Latency of submit + plan through the REST API, at N concurrent clients.

Starts everything itself, the way `make run` does, in a temporary directory
(bench/app_server.py): the embedded PostgreSQL (fsync on, as `make run` has it), the app
database and a target database, migrations, the demo tenant and people, a token for alice, and
gunicorn on 127.0.0.1. No background worker runs, so each request measures exactly the
synchronous part of a submission: authenticate, validate and normalize, store the proposal,
plan against the live target (introspect, materialize in a scratch schema, diff), settle
(queued), answer.

Each request submits the same 10-table blueprint (bench/schemas.py, seeded) under its own
schema_version, so none is merged with another by idempotency and every one is planned. The
canonical-form cache is warm after the first requests, as it is in a running app.

    .venv/bin/python -m bench.api_latency                   # 10 clients, 200 requests
    .venv/bin/python -m bench.api_latency --clients 10 --requests 300 --workers 4 --threads 2
    .venv/bin/python -m bench.api_latency --smoke           # 2 clients, 10 requests

Requests go to 127.0.0.1 only; their number is bounded by --requests, and each has a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.app_server import served_app
from bench.schemas import blueprint

REQUEST_TIMEOUT_S = 60


def _submit(base: str, token: str, body: bytes) -> tuple[float, int]:
    request = urllib.request.Request(
        base + "/api/v1/proposals",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        status = exc.code
    return (time.perf_counter() - started) * 1000, status


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run(clients: int, requests: int, workers: int, threads: int, tables: int) -> dict[str, Any]:
    with served_app(workers=workers, threads=threads, prefix="sb-api-bench-") as app:
        base, token = app.base, app.token
        payload = blueprint(tables)
        serial = iter(range(1_000_000))
        lock = threading.Lock()

        def body() -> bytes:
            with lock:
                n = next(serial)
            envelope = {
                "meta": {"tenant_id": "t_demo", "environment": "dev"},
                "payload": {**payload, "schema_version": f"bench-{n:06d}"},
            }
            return json.dumps(envelope).encode()

        # Warm-up, not counted: each gunicorn process connects and loads everything once.
        for _ in range(max(clients, workers * 2)):
            _submit(base, token, body())
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(lambda _: _submit(base, token, body()), range(requests)))
        elapsed = time.perf_counter() - started
        latencies = [ms for ms, status in results if status == 202]
        failures = [status for _, status in results if status != 202]
        return {
            "tables": tables,
            "clients": clients,
            "requests": requests,
            "gunicorn": f"{workers} workers x {threads} threads",
            "ok": len(latencies),
            "failed": failures,
            "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
            "p95_ms": round(_percentile(latencies, 0.95), 1) if latencies else None,
            "max_ms": round(max(latencies), 1) if latencies else None,
            "throughput_per_s": round(len(results) / elapsed, 1),
            "cpus": os.cpu_count(),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2)")
    parser.add_argument(
        "--threads", type=int, default=8, help="threads per worker (gunicorn.conf.py: 8)"
    )
    parser.add_argument("--tables", type=int, default=10)
    parser.add_argument("--smoke", action="store_true", help="2 clients, 10 requests")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.requests = 2, 10
    report = run(args.clients, args.requests, args.workers, args.threads, args.tables)
    print(json.dumps(report, indent=2))
    return 0 if not report["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
