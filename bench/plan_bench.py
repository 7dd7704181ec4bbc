"""Plan benchmark: the engine's plan() against shadow database + migra, at N tables.

    .venv/bin/python -m bench.plan_bench [--sizes 10,100,1000] [--repeat 5] [--smoke]

For each N, in the same run and on the same server: (a) plan v1 from an empty schema,
(b) plan the live v1 to the v2 blueprint with the canonical-form cache warm (as the app has
it after applying v1) and cold, (c) the peak RSS of each planning process; and beside them
today's workflow: a shadow database built with ``psql -1 -f v2.sql``, then migra from the live
database to it. Each measurement runs in a process of its own. The Markdown table is printed
and, unless ``--smoke`` or ``--no-readme``, written into bench/README.md; every sample goes to
bench/results/plan_bench-<time>.json.

``--smoke`` runs N = 10 once, for CI: it fails only when something crashes, never on time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench import baseline, engine_adapter, fixtures, pg, plan_worker, report, schemas


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sizes = [10] if args.smoke else args.sizes
    repeat = 1 if args.smoke else args.repeat
    started = time.perf_counter()
    with pg.server(args.url) as server_url:
        machine = report.Machine.here(pg.server_version(server_url))
        results = [bench_size(server_url, n, repeat, args.seed) for n in sizes]
    machine = machine.finish()
    notes = _notes()
    block = report.section(results, repeat, machine, notes)
    print(block)
    _save(results, machine, repeat)
    if not (args.smoke or args.no_readme):
        report.write_readme(block)
        print(f"\nwrote the table into {report.README.relative_to(Path.cwd())}")
    print(f"\ndone in {time.perf_counter() - started:.0f} s")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_bench", description=__doc__)
    parser.add_argument("--sizes", type=_sizes, default=[10, 100, 1000], help="e.g. 10,100,1000")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--smoke", action="store_true", help="N=10 once; fail only on a crash")
    parser.add_argument("--seed", type=int, default=schemas.DEFAULT_SEED)
    parser.add_argument(
        "--url", help="a server's postgres database (default: the embedded server, started here)"
    )
    parser.add_argument("--no-readme", action="store_true", help="do not update bench/README.md")
    return parser.parse_args(argv)


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def bench_size(server_url: str, n: int, repeat: int, seed: int) -> report.SizeResult:
    """Every measurement at ``n`` tables, ``repeat`` times, engine and baseline alternating."""
    with fixtures.prepared(server_url, n, seed) as prep:
        result = report.SizeResult(n=n, tables_changed=prep.inputs.changed)
        for i in range(repeat):
            fixtures.say(f"N={n}: run {i + 1}/{repeat}")
            _engine_round(result, prep)
            result.baseline.append(
                baseline.run_once(
                    server_url, prep.live_url, prep.inputs.v2_sql, engine_adapter.SCHEMA
                )
            )
        return result


def _engine_round(result: report.SizeResult, prep: fixtures.Prepared) -> None:
    """One sample of each engine measurement, the cache set up before each (untimed)."""
    inputs = prep.inputs
    engine_adapter.reset_cache(prep.app_url)
    result.empty.append(
        plan_worker.run(prep.empty_url, prep.app_url, inputs.v1, inputs.managed_none)
    )
    engine_adapter.reset_cache(prep.app_url)
    result.cold.append(plan_worker.run(prep.live_url, prep.app_url, inputs.v2, inputs.managed_v1))
    engine_adapter.reset_cache(prep.app_url, prep.v1_cache)
    result.warm.append(plan_worker.run(prep.live_url, prep.app_url, inputs.v2, inputs.managed_v1))


def _notes() -> str:
    lines = [
        "Shadow build = CREATE DATABASE + `psql -1 -f v2.sql`; migra = `migra --unsafe "
        "--schema tenant_bench live shadow` (its own virtualenv, bench/.venv-migra).",
    ]
    return "\n".join(lines)


def _save(results: list[report.SizeResult], machine: report.Machine, repeat: int) -> None:
    pg.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = pg.RESULTS / f"plan_bench-{stamp}.json"
    data = {
        "machine": asdict(machine),
        "repeat": repeat,
        "sizes": [
            {
                "n": r.n,
                "tables_changed": r.tables_changed,
                "empty": [asdict(s) for s in r.empty],
                "warm": [asdict(s) for s in r.warm],
                "cold": [asdict(s) for s in r.cold],
                "baseline": [
                    {k: v for k, v in asdict(b).items() if k != "migra_sql"}
                    | {"migra_statements": b.migra_statements}
                    for b in r.baseline
                ],
            }
            for r in results
        ],
    }
    path.write_text(json.dumps(data, indent=2))
    fixtures.say(f"samples saved to {path}")


if __name__ == "__main__":
    sys.exit(main())
