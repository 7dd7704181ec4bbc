"""What the expression allowlist costs: refusing the hostile-function corpus, and planning.

    .venv/bin/python -m bench.expression_bench                  # both parts
    .venv/bin/python -m bench.expression_bench --part refusals  # the corpus, three entry points
    .venv/bin/python -m bench.expression_bench --part plan --repeat 5 [--n 100]

``refusals`` starts everything itself as bench.api_latency does (embedded PostgreSQL, app
and target databases, migrations, the demo tenant, a token for alice, gunicorn with one
worker, no background worker), installs the canaries of tests/engine/hostile_functions.py
in the target, and sends every attack of that corpus through (a) the CLI's code path
(``validate_envelope`` then ``plan()``, in this process, as ``manage.py plan`` runs them),
(b) ``POST /api/v1/plan`` and (c) ``POST /api/v1/proposals``, one after the other. It
reports, per entry point, how many were refused at their path, and the median and maximum
time of a refusal; after every attempt the canaries are checked, so a run that moved one
fails.

``plan`` times the engine's ``plan()`` of the N-table blueprint of bench.plan_bench (from an
empty schema, v1 to v2 with the cache cold and warm; each in a process of its own), and the
validation of its v1 in this process, ``--repeat`` times, and prints the medians. It uses
only what bench.plan_bench uses, so it runs unchanged on an older checkout (for a before /
after comparison, copy this file there and run it from that directory).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request
from typing import Any


def _post(base: str, token: str, path: str, body: Any) -> tuple[float, int, Any]:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            data, status = response.read(), response.status
    except urllib.error.HTTPError as exc:
        data, status = exc.read(), exc.code
    return (time.perf_counter() - started) * 1000, status, json.loads(data or b"{}")


def _summary(times: list[float], refused: int, attempts: int) -> dict[str, Any]:
    return {
        "attempts": attempts,
        "refused_at_path": refused,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
    }


def refusals() -> dict[str, Any]:
    import psycopg

    from bench.app_server import served_app
    from schemabuilder.engine import BlueprintInvalid, plan, validate_envelope
    from tests.engine.hostile_functions import assert_untouched, cases, install_canaries

    with served_app(workers=1, threads=2, prefix="sb-expr-bench-") as app:
        base, token, target = app.base, app.token, app.target_url
        # Before any request: no connection of the app has seen the target yet.
        install_canaries(target)
        with psycopg.connect(target, autocommit=True) as victim:
            corpus = cases(victim.info.backend_pid, tenant="t_demo")
            _post(base, token, "/api/v1/plan", corpus[0].envelope)  # warm-up, not counted
            times: dict[str, list[float]] = {"cli_plan": [], "api_plan": [], "api_submit": []}
            refused = dict.fromkeys(times, 0)
            for case in corpus:
                started = time.perf_counter()
                try:
                    bp = validate_envelope(case.envelope).blueprint
                    with psycopg.connect(target, autocommit=True) as conn:
                        plan(conn, bp, schema="public", managed=set())
                    paths: list[str] = []
                except BlueprintInvalid as exc:
                    paths = [i.path for i in exc.issues]
                times["cli_plan"].append((time.perf_counter() - started) * 1000)
                refused["cli_plan"] += case.expected_path_prefix in paths
                assert_untouched(target, victim)
                for label, path in (
                    ("api_plan", "/api/v1/plan"),
                    ("api_submit", "/api/v1/proposals"),
                ):
                    ms, status, body = _post(base, token, path, case.envelope)
                    found = [e.get("path") for e in body.get("errors", [])]
                    times[label].append(ms)
                    refused[label] += status == 400 and case.expected_path_prefix in found
                    assert_untouched(target, victim)
        return {k: _summary(v, refused[k], len(corpus)) for k, v in times.items()}


def plan_times(n: int, repeat: int, url: str | None) -> dict[str, Any]:
    from bench import engine_adapter, fixtures, pg, plan_worker
    from schemabuilder.engine import validate_payload

    samples: dict[str, list[float]] = {
        "empty": [], "cold": [], "warm": [], "validate": [], "plan_allowlist": []
    }  # fmt: skip
    with pg.server(url) as server_url, fixtures.prepared(server_url, n) as prep:
        inputs = prep.inputs
        payload = json.loads(inputs.v1.read_text())
        for i in range(repeat):
            fixtures.say(f"N={n}: run {i + 1}/{repeat}")
            engine_adapter.reset_cache(prep.app_url)
            run = plan_worker.run(prep.empty_url, prep.app_url, inputs.v1, inputs.managed_none)
            samples["empty"].append(run.seconds)
            engine_adapter.reset_cache(prep.app_url)
            run = plan_worker.run(prep.live_url, prep.app_url, inputs.v2, inputs.managed_v1)
            samples["cold"].append(run.seconds)
            engine_adapter.reset_cache(prep.app_url, prep.v1_cache)
            run = plan_worker.run(prep.live_url, prep.app_url, inputs.v2, inputs.managed_v1)
            samples["warm"].append(run.seconds)
            # lru caches of the fragment checks would hide the work after the first round
            from schemabuilder.engine import fragments

            fragments.check_expression.cache_clear()
            fragments.check_type.cache_clear()
            started = time.perf_counter()
            bp = validate_payload(payload)
            samples["validate"].append(time.perf_counter() - started)
            allowlist_s = _plan_allowlist_seconds(bp)
            if allowlist_s is not None:
                samples["plan_allowlist"].append(allowlist_s)
    samples = {k: v for k, v in samples.items() if v}
    return {
        "n": n,
        "repeat": repeat,
        # On a shared machine the median moves with other people's load; the minimum is
        # the run that was least disturbed.
        **{f"{k}_median_s": round(statistics.median(v), 4) for k, v in samples.items()},
        **{f"{k}_min_s": round(min(v), 4) for k, v in samples.items()},
        "samples_s": {k: [round(x, 4) for x in v] for k, v in samples.items()},
    }


def _plan_allowlist_seconds(bp: Any) -> float | None:
    """What plan() spends judging the blueprint's expressions again (``check_calls``, with no
    call left to the live target here); None on a checkout that does not have it."""
    try:
        from schemabuilder.engine import check_calls
    except ImportError:
        return None
    from schemabuilder.engine import BlueprintPaths

    started = time.perf_counter()
    check_calls(bp, "tenant_bench", BlueprintPaths(bp), None)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.expression_bench", description=__doc__)
    parser.add_argument("--part", choices=("refusals", "plan", "both"), default="both")
    parser.add_argument("--n", type=int, default=100, help="tables of the planned blueprint")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", help="a server's postgres database for --part plan")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    if args.part in ("refusals", "both"):
        report["refusals"] = refusals()
    if args.part in ("plan", "both"):
        report["plan"] = plan_times(args.n, args.repeat, args.url)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
