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

Where the engine is at fault (the blueprint says what the author wrote, yet the plan is not
empty), the folder keeps the residue it prints: ``residue.sql`` for the author check,
``round_trip_residue.sql`` for the round trip, each statement preceded by ``--`` lines that
say why it is wrong. The check then xfails while the engine prints exactly that residue, and
fails as soon as the residue changes: a fix must shrink or delete the file with it.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.apply import ApplyRequest, Reviewed, apply_plan, fingerprints, scope_of
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.plan import Plan, plan

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
SCHEMAS = sorted(d.name for d in CORPUS_DIR.iterdir() if (d / "blueprint.json").is_file())
SCHEMA = "public"


def _known_residue(path: Path) -> str | None:
    """The plan SQL recorded in ``path`` without its explanatory comment lines, if recorded."""
    if not path.is_file():
        return None
    lines = [line for line in path.read_text().splitlines() if not line.startswith("--")]
    return "".join(f"{line}\n" for line in lines if line.strip())


def _expect_residue(sql: str, path: Path) -> None:
    """Pass on an empty plan; xfail on exactly the known residue; fail on anything else."""
    known = _known_residue(path)
    if known is None:
        assert sql == "", sql
        return
    assert sql == known, (
        f"the residue differs from {path.name}: if the engine was fixed, shrink or delete "
        f"that file. The plan now:\n{sql}"
    )
    pytest.xfail(f"engine bug, known residue ({path.name}):\n{known}")


def _blueprint(folder: Path) -> NormalizedBlueprint:
    """The folder's blueprint; xfails when ``refused.txt`` says the contract cannot say it yet.

    ``refused.txt`` holds a fragment of the validation error, after ``--`` lines saying what
    the author wrote that the blueprint cannot express.
    """
    refused = _known_residue(folder / "refused.txt")
    try:
        bp = validate_payload(json.loads((folder / "blueprint.json").read_text()))
    except BlueprintInvalid as exc:
        if refused is not None and refused.strip() in str(exc):
            pytest.xfail(f"the blueprint contract refuses it: {refused.strip()}")
        raise
    assert refused is None, "the blueprint is accepted now: delete refused.txt"
    return bp


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


@pytest.mark.parametrize("case", SCHEMAS)
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
    _expect_residue(again.sql, folder / "round_trip_residue.sql")
    assert again.is_empty


@pytest.mark.parametrize("case", SCHEMAS)
def test_blueprint_says_what_the_author_wrote(case: str, case_url: str) -> None:
    folder = CORPUS_DIR / case
    bp = _blueprint(folder)
    with psycopg.connect(case_url, autocommit=True) as conn:
        _setup(conn, folder)
        conn.execute((folder / "author.sql").read_bytes())
        found = plan(conn, bp, schema=SCHEMA, managed={t.name for t in bp.tables})
    _expect_residue(found.sql, folder / "residue.sql")
    assert found.is_empty
    assert not found.hazards


def test_the_corpus_is_large_enough() -> None:
    assert len(SCHEMAS) >= 8
