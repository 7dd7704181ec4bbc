"""The import's round trip over every case folder, and the Supabase-shaped fixture.

For each case of ``tests/engine/cases`` that applies (it has a ``live.sql`` and its plan is
expected to work): the case is applied on a database of its own (``live.sql``, then the plan
of its blueprint through the engine's verified apply), the result is imported, the import is
planned against it (it must be empty), and the public schema is built again from the
imported blueprint alone on a second database (where ``live.sql`` ran and its public schema
was then made empty again, so what the case keeps outside it, other schemas and roles, is
there too). migra then compares the two public schemas, grants included. One line per case:

    case  import=ok|left-out(n)  replan=empty|N  migra=same|N lines

A function or trigger the import left out (a form a blueprint cannot say) is copied as the
server prints it (``copied`` on the line), so migra judges what the import said.

    .venv/bin/python -m bench.import_round_trip_report [--url URL] [--smoke] [--cases a,b]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench import pg
from bench.round_trip import copy_left_out, import_and_replan, migra_lines, plan_and_apply, recreate

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "engine" / "cases"
SUPABASE = ROOT / "tests" / "engine" / "import" / "supabase"
SCHEMA = "public"
SOURCE, REBUILT = "sb_round_trip_source", "sb_round_trip_rebuilt"
SMOKE_CASES = ("grants_added", "enum_type_created", "sequence_grants")
# A public schema as PostgreSQL 15 and later make it in a new database.
_EMPTY_PUBLIC = """
DROP SCHEMA public CASCADE;
CREATE SCHEMA public;
ALTER SCHEMA public OWNER TO pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""
COPIED = ("function", "trigger")  # left out today, copied so migra judges the rest


@dataclass(frozen=True)
class Line:
    name: str
    left_out: Counter[str]
    replan: int
    migra: int | None  # None: not compared (the rebuild failed)
    copied: int
    error: str | None = None

    def __str__(self) -> str:
        left = sum(self.left_out.values())
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.left_out.items()))
        imported = "ok" if not left else f"left-out({left}: {kinds})"
        replan = "empty" if self.replan == 0 else str(self.replan)
        migra = (
            f"error ({self.error})"
            if self.migra is None
            else "same"
            if self.migra == 0
            else f"{self.migra} lines"
        )
        copied = f"  copied={self.copied}" if self.copied else ""
        return f"{self.name:<56} import={imported}  replan={replan}  migra={migra}{copied}"


def applies(folder: Path) -> bool:
    """A case whose plan works and applies: not an expected refusal or failure."""
    return (
        (folder / "live.sql").is_file()
        and (folder / "blueprint.json").is_file()
        and not (folder / "expected_error.json").is_file()
        and not (folder / "expected_apply_error.txt").is_file()
    )


def _json(folder: Path, name: str, default: Any) -> Any:
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else default


def _blueprint(folder: Path) -> Any:
    from schemabuilder.engine import validate_envelope, validate_payload

    data = json.loads((folder / "blueprint.json").read_text())
    if "payload" in data:
        return validate_envelope(data).blueprint
    return validate_payload(data)


def _run_sql(url: str, *scripts: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for script in scripts:
            if script.strip():
                conn.execute(script.encode())


def _compare(name: str, source: str, rebuilt: str) -> Line:
    """Import ``source``, re-plan, rebuild on ``rebuilt`` (already holding what the source
    has outside its public schema), and compare with migra."""
    imported = import_and_replan(source, SCHEMA)
    left = Counter(o.kind for o in imported.left_out)
    copied = 0
    try:
        if left["function"]:
            copied += copy_left_out(source, rebuilt, SCHEMA, imported.left_out, "function")
        if imported.payload["tables"]:
            recreate(rebuilt, imported.payload, SCHEMA)
        if left["trigger"]:
            copied += copy_left_out(source, rebuilt, SCHEMA, imported.left_out, "trigger")
    except Exception as exc:  # the line says the rebuild failed, and the run goes on
        first = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        return Line(name, left, imported.replan_statements, None, copied, first)
    lines = migra_lines(source, rebuilt, SCHEMA)
    return Line(name, left, imported.replan_statements, len(lines), copied)


def case_line(server_url: str, folder: Path) -> Line:
    source = pg.recreate_database(server_url, SOURCE)
    rebuilt = pg.recreate_database(server_url, REBUILT)
    live = (folder / "live.sql").read_text()
    _run_sql(source, live)
    plan_and_apply(
        source,
        _blueprint(folder),
        SCHEMA,
        set(_json(folder, "managed.json", [])),
        _json(folder, "options.json", {}),
    )
    _run_sql(rebuilt, live, _EMPTY_PUBLIC)
    return _compare(folder.name, source, rebuilt)


def supabase_line(server_url: str) -> Line:
    source = pg.recreate_database(server_url, SOURCE)
    rebuilt = pg.recreate_database(server_url, REBUILT)
    setup = (SUPABASE / "setup.sql").read_text()
    _run_sql(source, setup, (SUPABASE / "author.sql").read_text())
    _run_sql(rebuilt, setup)
    return _compare("import/supabase (fixture)", source, rebuilt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default=None, help="a server's postgres database")
    parser.add_argument("--smoke", action="store_true", help=f"only {', '.join(SMOKE_CASES)}")
    parser.add_argument("--cases", default=None, help="comma-separated case names")
    args = parser.parse_args(argv)
    folders = sorted(d for d in CASES.iterdir() if applies(d))
    if args.smoke or args.cases:
        wanted = set(args.cases.split(",")) if args.cases else set(SMOKE_CASES)
        folders = [d for d in folders if d.name in wanted]
    start = time.perf_counter()
    with pg.server(args.url) as server_url:
        print(f"import round trip on {pg.server_version(server_url)}", flush=True)
        lines = []
        for folder in folders:
            try:
                line = case_line(server_url, folder)
            except Exception as exc:  # a case that does not apply here: said, not fatal
                line = Line(folder.name, Counter(), 0, None, 0, f"apply: {exc}"[:120])
            print(line, flush=True)
            lines.append(line)
        lines.append(supabase_line(server_url))
        print(lines[-1], flush=True)
        for name in (SOURCE, REBUILT):
            pg.drop_database(server_url, name)
    _summary(lines, time.perf_counter() - start)
    return 0


def _summary(lines: list[Line], seconds: float) -> None:
    whole = sum(1 for x in lines if not x.left_out)
    empty = sum(1 for x in lines if x.replan == 0)
    same = sum(1 for x in lines if x.migra == 0)
    failed = sum(1 for x in lines if x.migra is None)
    kinds: Counter[str] = Counter()
    for x in lines:
        kinds.update(x.left_out)
    print(
        f"{len(lines)} schemas: imported whole {whole}, re-plan empty {empty}, "
        f"migra same {same}, differs {len(lines) - same - failed}, not compared {failed}; "
        f"left out: {', '.join(f'{n} {k}' for k, n in sorted(kinds.items())) or 'nothing'}; "
        f"{seconds:.1f} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
