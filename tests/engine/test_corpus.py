"""The corpus: schemas written as their authors write them, each planned from its blueprint.

Each folder under ``corpus/`` holds ``author.sql`` (the schema as written by hand, in the
style of public multi-tenant projects), ``blueprint.json`` (a bare payload that describes the
same schema) and optionally ``setup.sql`` (what the schema expects to find on the server but
does not own: the ``auth`` schema's functions, roles). Every schema is checked twice, on
every server the plan cases run on:

- round trip: on an empty database the blueprint's plan is applied as the worker applies a
  reviewed plan (verification included); the tables must then equal the desired snapshot
  and a second plan must be empty;
- author: on a database where ``author.sql`` ran, the blueprint with every table managed
  must plan nothing at all, since it says what the author wrote.

A check that fails because of the engine (not the blueprint) is listed in ``KNOWN`` with the
residue it prints, and runs as a strict xfail: fixing the engine turns it into a failure that
says to remove the entry.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import ApplyRequest, Reviewed, apply_plan, fingerprints, scope_of
from schemabuilder.engine.catalog import introspect
from schemabuilder.engine.normalize import NormalizedBlueprint
from schemabuilder.engine.plan import Plan, plan

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SCHEMAS = sorted(d.name for d in CORPUS_DIR.iterdir() if (d / "blueprint.json").is_file())
SCHEMA = "public"

# (schema, check) -> the residue the engine prints where it should print nothing.
KNOWN: dict[tuple[str, str], str] = {}


def _cases(check: str) -> list[object]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN[(name, check)]))
        if (name, check) in KNOWN
        else name
        for name in SCHEMAS
    ]


def _blueprint(folder: Path) -> NormalizedBlueprint:
    return validate_payload(json.loads((folder / "blueprint.json").read_text()))


def _setup(conn: psycopg.Connection[object], folder: Path) -> None:
    setup = folder / "setup.sql"
    if setup.is_file():
        conn.execute(setup.read_bytes())


def _request(bp: NormalizedBlueprint, p: Plan) -> ApplyRequest:
    return ApplyRequest.reviewing(
        p,
        proposal_id="00000000-0000-0000-0000-0000000000c0",
        tenant_id="t_corpus",
        schema=SCHEMA,
        managed=frozenset(),
        schema_hash="corpus",
        version=bp.schema_version,
        description="corpus",
        applied_by="corpus",
        lock_key=8,
        lock_timeout_ms=10_000,
        statement_timeout_ms=60_000,
    )


@pytest.mark.parametrize("case", _cases("round_trip"))
def test_round_trip_converges(case: str, case_url: str) -> None:
    folder = CORPUS_DIR / case
    bp = _blueprint(folder)
    with psycopg.connect(case_url, autocommit=True) as conn:
        _setup(conn, folder)
        prints = fingerprints(conn, SCHEMA, scope_of(bp, set()))
        first = plan(conn, bp, schema=SCHEMA, managed=set())
        assert first.sql, "an empty database needs every table created"
        outcome = apply_plan(conn, bp, _request(bp, first), reviewed=Reviewed.of(first, prints))
        assert not outcome.replanned_schema_moved
        names = set(first.desired.table_map)
        assert names == {t.name for t in bp.tables}
        assert introspect(conn, SCHEMA, tables=names) == first.desired
        again = plan(conn, bp, schema=SCHEMA, managed=names)
    assert again.sql == "", again.sql
    assert again.is_empty


@pytest.mark.parametrize("case", _cases("author"))
def test_blueprint_says_what_the_author_wrote(case: str, case_url: str) -> None:
    folder = CORPUS_DIR / case
    bp = _blueprint(folder)
    with psycopg.connect(case_url, autocommit=True) as conn:
        _setup(conn, folder)
        conn.execute((folder / "author.sql").read_bytes())
        found = plan(conn, bp, schema=SCHEMA, managed={t.name for t in bp.tables})
    assert found.sql == "", found.sql
    assert found.is_empty
    assert not found.hazards


def test_the_corpus_is_large_enough() -> None:
    assert len(SCHEMAS) >= 8
