"""The databases and files one benchmark size needs, made before any clock starts.

For N tables: v1 and v2 as JSON (what the planner reads) and SQL (what psql runs); an empty
target (a new tenant), a live target with v1 applied, and an "app" database holding the
canonical-form cache; and the cache rows the app holds right after applying v1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import engine_adapter, pg, schemas

WORK = pg.RESULTS / "work"

CacheRows = list[tuple[str, int, object]]


@dataclass(frozen=True)
class Inputs:
    """The files one size reads."""

    v1: Path
    v2: Path
    v1_sql: Path
    v2_sql: Path
    managed_none: Path  # a new tenant: the tool manages nothing yet
    managed_v1: Path  # after v1 was applied: its tables
    changed: int  # tables v2 changes


@dataclass(frozen=True)
class Prepared:
    """Everything a size's measurements run against."""

    n: int
    inputs: Inputs
    empty_url: str
    live_url: str
    app_url: str
    v1_cache: CacheRows


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


@contextmanager
def prepared(server_url: str, n: int, seed: int = schemas.DEFAULT_SEED) -> Iterator[Prepared]:
    """Make the files and databases for ``n`` tables; drop the databases afterwards."""
    inputs = write_inputs(n, seed)
    names = {kind: f"bench_{kind}_{n}" for kind in ("empty", "live", "app")}
    urls = {kind: pg.recreate_database(server_url, name) for kind, name in names.items()}
    try:
        engine_adapter.create_schema(urls["empty"])
        say(f"N={n}: planning and applying v1 as the app does (fills the cache)")
        engine_adapter.reset_cache(urls["app"])
        engine_adapter.apply_as_app(
            urls["live"], urls["app"], engine_adapter.load_payload(inputs.v1)
        )
        v1_cache = engine_adapter.dump_cache(urls["app"])
        yield Prepared(n, inputs, urls["empty"], urls["live"], urls["app"], v1_cache)
    finally:
        for name in names.values():
            pg.drop_database(server_url, name)


def write_inputs(n: int, seed: int) -> Inputs:
    v1 = schemas.blueprint(n, seed)
    v2, changes = schemas.mutate(v1, seed)
    work = WORK / f"n{n}"
    work.mkdir(parents=True, exist_ok=True)
    inputs = Inputs(
        v1=work / "v1.json",
        v2=work / "v2.json",
        v1_sql=work / "v1.sql",
        v2_sql=work / "v2.sql",
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
