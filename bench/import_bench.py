"""How long importing an existing schema takes: ``bench.schemas.blueprint(n)`` is applied with
the engine's DDL, then imported ``--repeat`` times, each on a new connection (cold), and the
imported blueprint is planned once with every table managed (it must plan nothing).

    .venv/bin/python -m bench.import_bench --sizes 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from bench import engine_adapter, pg, schemas

DATABASE = "bench_import"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", default=None, help="a server's postgres database")
    args = parser.parse_args(argv)
    with pg.server(args.url) as server_url:
        for n in (int(s) for s in args.sizes.split(",")):
            url = pg.recreate_database(server_url, DATABASE)
            with tempfile.TemporaryDirectory() as tmp:
                script = Path(tmp) / "schema.sql"
                script.write_text(engine_adapter.render_sql(schemas.blueprint(n)))
                engine_adapter.apply(url, script)
            runs = [engine_adapter.import_schema(url) for _ in range(args.repeat)]
            again = engine_adapter.plan_managed(url, runs[-1].payload)
            seconds = [r.seconds for r in runs]
            print(
                f"N={n}: import median {statistics.median(seconds):.2f} s "
                f"(min {min(seconds):.2f}, max {max(seconds):.2f}, {args.repeat} runs), "
                f"{runs[-1].tables} tables, {runs[-1].left_out} left out; "
                f"its plan: {again.statements} statements in {again.seconds:.2f} s "
                f"({again.materialized} materialized), {pg.server_version(url)}"
            )
            pg.drop_database(server_url, DATABASE)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
