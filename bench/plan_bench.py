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
    files = _write_inputs(n, seed)
    v1_path, v2_path, v1_sql, v2_sql, changed = files
    empty_url = pg.recreate_database(server_url, f"bench_empty_{n}")
    live_url = pg.recreate_database(server_url, f"bench_live_{n}")
    try:
        engine_adapter.create_schema(empty_url)
        _say(f"N={n}: applying v1 to the live database")
        engine_adapter.apply(live_url, v1_sql)
        result = report.SizeResult(n=n, tables_changed=changed)
        for i in range(repeat):
            _say(f"N={n}: run {i + 1}/{repeat}")
            _engine_round(result, empty_url, live_url, v1_path, v2_path)
            result.baseline.append(
                baseline.run_once(server_url, live_url, v2_sql, engine_adapter.SCHEMA)
            )
        return result
    finally:
        pg.drop_database(server_url, f"bench_empty_{n}")
        pg.drop_database(server_url, f"bench_live_{n}")


def _write_inputs(n: int, seed: int) -> tuple[Path, Path, Path, Path, int]:
    """v1 and v2 as JSON (what the planner reads) and SQL (what psql runs)."""
    v1 = schemas.blueprint(n, seed)
    v2, changes = schemas.mutate(v1, seed)
    work = WORK / f"n{n}"
    work.mkdir(parents=True, exist_ok=True)
    paths = (work / "v1.json", work / "v2.json", work / "v1.sql", work / "v2.sql")
    paths[0].write_text(json.dumps(v1))
    paths[1].write_text(json.dumps(v2))
    paths[2].write_text(engine_adapter.render_sql(v1))
    paths[3].write_text(engine_adapter.render_sql(v2))
    return (*paths, len(changes))


def _engine_round(
    result: report.SizeResult, empty_url: str, live_url: str, v1: Path, v2: Path
) -> None:
    """One sample of each engine measurement; none while the engine lacks plan()."""
    targets = {"empty": (empty_url, result.empty), "warm": (live_url, result.warm)}
    targets["cold"] = (live_url, result.cold)
    for mode, (url, samples) in targets.items():
        sample = plan_worker.run(mode, url, v1, v2)
        if sample is not None:
            samples.append(sample)


def _notes() -> str:
    lines = [
        "Shadow build = CREATE DATABASE + `psql -1 -f v2.sql`; migra = `migra --unsafe "
        "--schema tenant_bench live shadow` (its own virtualenv, bench/.venv-migra).",
    ]
    if not engine_adapter.plan_ready():
        lines.append("The engine has no `plan()` yet: its columns read n/a.")
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
                    | {"migra_statements": b.migra_sql.count(";")}
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
