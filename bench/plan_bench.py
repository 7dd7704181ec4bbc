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
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import baseline, engine_adapter, pg, plan_worker, report, schemas

WORK = pg.RESULTS / "work"


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sizes = [10] if args.smoke else args.sizes
    repeat = 1 if args.smoke else args.repeat
    started = time.perf_counter()
    with pg.server(args.url) as server_url:
        machine = report.Machine.here(pg.server_version(server_url))
        results = [_bench_size(server_url, n, repeat, args.seed) for n in sizes]
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


def _say(message: str) -> None:
    print(f"[plan_bench] {message}", file=sys.stderr, flush=True)


def _bench_size(server_url: str, n: int, repeat: int, seed: int) -> report.SizeResult:
    inputs = _write_inputs(n, seed)
    names = {kind: f"bench_{kind}_{n}" for kind in ("empty", "live", "app")}
    urls = {kind: pg.recreate_database(server_url, name) for kind, name in names.items()}
    try:
        engine_adapter.create_schema(urls["empty"])
        _say(f"N={n}: applying v1 to the live database")
        engine_adapter.apply(urls["live"], inputs.v1_sql)
        v1_cache = _cache_after_v1(urls, inputs)
        result = report.SizeResult(n=n, tables_changed=inputs.changed)
        for i in range(repeat):
            _say(f"N={n}: run {i + 1}/{repeat}")
            _engine_round(result, urls, inputs, v1_cache)
            result.baseline.append(
                baseline.run_once(server_url, urls["live"], inputs.v2_sql, engine_adapter.SCHEMA)
            )
        return result
    finally:
        for name in names.values():
            pg.drop_database(server_url, name)


@dataclass(frozen=True)
class Inputs:
    """The files one size reads: blueprints as JSON (for the planner) and SQL (for psql)."""

    v1: Path
    v2: Path
    v1_sql: Path
    v2_sql: Path
    managed_none: Path  # a new tenant: the tool manages nothing yet
    managed_v1: Path  # after v1 was applied: its tables
    changed: int


def _write_inputs(n: int, seed: int) -> Inputs:
    v1 = schemas.blueprint(n, seed)
    v2, changes = schemas.mutate(v1, seed)
    work = WORK / f"n{n}"
    work.mkdir(parents=True, exist_ok=True)
    inputs = Inputs(
        *(work / name for name in ("v1.json", "v2.json", "v1.sql", "v2.sql")),
        managed_none=work / "managed-none.json",
        managed_v1=work / "managed-v1.json",
        changed=len(changes),
    )
    inputs.v1.write_text(json.dumps(v1))
    inputs.v2.write_text(json.dumps(v2))
    inputs.v1_sql.write_text(engine_adapter.render_sql(v1))
    inputs.v2_sql.write_text(engine_adapter.render_sql(v2))
    inputs.managed_none.write_text("[]")
    inputs.managed_v1.write_text(json.dumps([t["name"] for t in v1["tables"]]))
    return inputs


def _cache_after_v1(urls: dict[str, str], inputs: Inputs) -> list[tuple[str, int, object]]:
    """The cache rows the app holds after applying v1: those its plan of v1 wrote."""
    engine_adapter.reset_cache(urls["app"])
    plan_worker.run(urls["empty"], urls["app"], inputs.v1, inputs.managed_none)
    return engine_adapter.dump_cache(urls["app"])


def _engine_round(
    result: report.SizeResult,
    urls: dict[str, str],
    inputs: Inputs,
    v1_cache: list[tuple[str, int, object]],
) -> None:
    """One sample of each engine measurement, the cache set up before each (untimed)."""
    engine_adapter.reset_cache(urls["app"])
    result.empty.append(plan_worker.run(urls["empty"], urls["app"], inputs.v1, inputs.managed_none))
    engine_adapter.reset_cache(urls["app"])
    result.cold.append(plan_worker.run(urls["live"], urls["app"], inputs.v2, inputs.managed_v1))
    engine_adapter.reset_cache(urls["app"], v1_cache)
    result.warm.append(plan_worker.run(urls["live"], urls["app"], inputs.v2, inputs.managed_v1))


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
    _say(f"samples saved to {path}")


if __name__ == "__main__":
    sys.exit(main())
