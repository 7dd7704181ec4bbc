"""The plan's acceptance cases: one folder per case under ``cases/``, run on every server.

A case folder holds:

- ``live.sql``: the live schema (and data) before planning, run in a fresh database;
- ``blueprint.json``: a payload or a whole envelope;
- ``managed.json`` (optional): the tables the tool already manages, default none;
- ``options.json`` (optional): extra keyword arguments for ``plan()``; a case plans in
  ``apply_mode`` "atomic" unless it says ``{"apply_mode": "online"}`` (or its blueprint does);
- ``expected.sql``: the plan's SQL, exactly; or ``expected_error.json``: the issues
  (path and a fragment of the message) the plan, or validation before it, must fail with;
- ``expected_hazards.json``: every hazard as [table, kind, severity], in statement order;
- ``expected_plan.json`` (optional): other plan attributes, e.g. ``unmanaged_tables``;
- ``expected_apply_error.txt`` (optional): for a plan whose hazards say it will fail, a
  fragment of the server's error when applying it.

Each case then makes a round trip: the SQL is applied, the managed tables are introspected
and must equal the plan's desired snapshot, and planning again must give an empty plan. The
statements run twice: once to check, before rolling back, that verification's reading of
only the members they wrote (``introspect_written``) prints exactly what a whole
introspection prints; then for real, through ``apply_plan`` as the worker runs a reviewed plan
(up-front locks, fingerprints, statements, verification, commit marker). A case whose plan is
predicted to fail must fail when applied, and change nothing.

``SB_REGEN_CASES=1`` rewrites expected.sql and expected_hazards.json from the embedded
server's run; review every rewritten file by eye, they are the specification.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_envelope, validate_payload
from schemabuilder.engine.apply import (
    ApplyRequest,
    Reviewed,
    apply_plan,
    fingerprints,
    scope_of,
)
from schemabuilder.engine.apply.verification import RENAMES
from schemabuilder.engine.catalog.introspect import introspect, introspect_written
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.cache import MemoryCanonicalCache
from schemabuilder.engine.hazards import HazardKind
from schemabuilder.engine.plan import Plan, plan

CASES_DIR = Path(__file__).resolve().parent / "cases"
CASES = sorted(d.name for d in CASES_DIR.iterdir() if (d / "blueprint.json").is_file())
REGEN = os.environ.get("SB_REGEN_CASES") == "1"
SCHEMA = "public"


def load_blueprint(folder: Path) -> NormalizedBlueprint:
    data = json.loads((folder / "blueprint.json").read_text())
    if "payload" in data:
        return validate_envelope(data).blueprint
    return validate_payload(data)


def _json(folder: Path, name: str, default: Any) -> Any:
    path = folder / name
    return json.loads(path.read_text()) if path.is_file() else default


def hazard_rows(p: Plan) -> list[list[str]]:
    return [[h.table, str(h.kind), str(h.severity)] for h in p.hazards]


def _write_hazards(path: Path, rows: list[list[str]]) -> None:
    body = ",\n".join(f"  {json.dumps(r)}" for r in rows)
    path.write_text(f"[\n{body}\n]\n" if rows else "[]\n")


@pytest.mark.parametrize("case", CASES)
def test_case(case: str, case_url: str, request: pytest.FixtureRequest) -> None:
    folder = CASES_DIR / case
    expected_error = _json(folder, "expected_error.json", None)
    try:
        bp = load_blueprint(folder)
    except BlueprintInvalid as refused:
        # Refused before any server is asked: the expected issues, exactly as for a plan.
        assert expected_error is not None, refused
        got = [(i.path, i.message) for i in refused.issues]
        assert [p for p, _ in got] == [e["path"] for e in expected_error], got
        for (_, message), wanted in zip(got, expected_error, strict=True):
            assert wanted["message"] in message
        return
    managed = set(_json(folder, "managed.json", []))
    options = {"apply_mode": "atomic", **_json(folder, "options.json", {})}
    embedded = request.node.callspec.params.get("any_target_url") == "embedded"
    with psycopg.connect(case_url, autocommit=True) as conn:
        live_sql = (folder / "live.sql").read_text()
        if live_sql.strip():
            conn.execute(live_sql.encode())
        if expected_error is not None:
            with pytest.raises(BlueprintInvalid) as raised:
                plan(conn, bp, schema=SCHEMA, managed=managed, **options)
            got = [(i.path, i.message) for i in raised.value.issues]
            assert [p for p, _ in got] == [e["path"] for e in expected_error], got
            for (_, message), wanted in zip(got, expected_error, strict=True):
                assert wanted["message"] in message
            return

        prints = fingerprints(conn, SCHEMA, scope_of(bp, managed))
        first = plan(conn, bp, schema=SCHEMA, managed=managed, **options)
        if REGEN and embedded:
            (folder / "expected.sql").write_text(first.sql)
            _write_hazards(folder / "expected_hazards.json", hazard_rows(first))
        assert first.sql == (folder / "expected.sql").read_text()
        assert hazard_rows(first) == _json(folder, "expected_hazards.json", [])
        for key, value in _json(folder, "expected_plan.json", {}).items():
            assert list(getattr(first, key)) == value, key
        assert first.checksum == plan(conn, bp, schema=SCHEMA, managed=managed, **options).checksum

        apply_error = folder / "expected_apply_error.txt"
        if apply_error.is_file():
            # The hazards said it will fail: it does, as one transaction, leaving no trace.
            with pytest.raises(psycopg.Error) as failed, conn.transaction():
                conn.execute(first.sql.encode())
            assert apply_error.read_text().strip() in str(failed.value)
            again = plan(conn, bp, schema=SCHEMA, managed=managed, **options)
            assert again.sql == first.sql
            assert again.base_snapshot_hash == first.base_snapshot_hash
            return

        staged = any(st.stage == 2 for st in first.statements)
        if first.sql and not staged and not any(st.phase in RENAMES for st in first.statements):
            changed = {st.table for st in first.statements if st.table}
            assert first.base is not None
            with conn.transaction(force_rollback=True):
                conn.execute(first.sql.encode())
                whole = introspect(conn, SCHEMA, tables=changed, list_all=False)
                written = introspect_written(conn, SCHEMA, changed, first.base)
            assert written.to_json() == whole.to_json()

        # Round trip: apply, verify against the desired snapshot, plan again: nothing left.
        if first.sql:
            outcome = apply_plan(
                conn, bp, _request(bp, first, managed), reviewed=Reviewed.of(first, prints)
            )
            assert not outcome.replanned_schema_moved
        desired_names = set(first.desired.table_map)
        after = introspect(conn, SCHEMA, tables=desired_names)
        assert after == first.desired
        for gone in first.dropped_tables:
            assert gone not in after.all_tables
        again = plan(conn, bp, schema=SCHEMA, managed=managed | desired_names, **options)
        assert again.is_empty, again.sql
        assert again.sql == ""


def _request(bp: NormalizedBlueprint, p: Plan, managed: set[str]) -> ApplyRequest:
    return ApplyRequest.reviewing(
        p,
        proposal_id="00000000-0000-0000-0000-00000000000c",
        tenant_id="t_case",
        schema=SCHEMA,
        managed=frozenset(managed),
        schema_hash="case",
        version=bp.schema_version,
        description="case",
        applied_by="case",
        lock_key=7,
        lock_timeout_ms=10_000,
        statement_timeout_ms=60_000,
    )


def test_the_cases_cover_every_hazard_kind() -> None:
    seen = {
        row[1] for case in CASES for row in _json(CASES_DIR / case, "expected_hazards.json", [])
    }
    assert sorted(set(HazardKind) - seen) == []


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", ["seed_patients_new"])
def test_a_warm_cache_skips_unchanged_tables(case: str, case_url: str) -> None:
    folder = CASES_DIR / case
    bp = load_blueprint(folder)
    cache = MemoryCanonicalCache()
    with psycopg.connect(case_url, autocommit=True) as conn:
        first = plan(conn, bp, schema=SCHEMA, managed=set(), cache=cache)
        assert first.materialized_tables == ("patients",)
        with conn.transaction():
            conn.execute(first.sql.encode())
        again = plan(conn, bp, schema=SCHEMA, managed={"patients"}, cache=cache)
    assert again.materialized_tables == ()
    assert again.is_empty
    assert again.desired == first.desired
