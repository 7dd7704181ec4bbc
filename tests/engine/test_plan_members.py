"""Tables assembled from the canonical forms of their members plan exactly as materialized.

Every acceptance case is planned three ways against the same live database: with no cache
(everything materialized), with a cache holding only member forms (tables assembled from
them), and with a cache missing some kinds of member forms (those members printed on a
reduced copy of the table). The SQL, the hazards and the desired snapshot must be the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import psycopg
import pytest

from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.desired.cache import CanonicalKey, MemoryCanonicalCache, canonical_key
from schemabuilder.engine.desired.materialize import tables_named_in_policies
from schemabuilder.engine.desired.members import table_members
from schemabuilder.engine.plan import Plan, plan
from tests.engine.test_plan_cases import CASES, CASES_DIR, SCHEMA, hazard_rows, load_blueprint

PLANNABLE = [c for c in CASES if not (CASES_DIR / c / "expected_error.json").is_file()]


def _member_keys(bp: NormalizedBlueprint, version: int, kinds: Iterable[str]) -> set[CanonicalKey]:
    wanted = set(kinds)
    keys: set[CanonicalKey] = set()
    for table in bp.tables:
        members = table_members(table, bp, version)
        if members is not None:
            keys |= {s.key for s in members.slots if s.kind in wanted}
    return keys


def _without(cache: MemoryCanonicalCache, keys: set[CanonicalKey]) -> MemoryCanonicalCache:
    kept = MemoryCanonicalCache()
    kept.entries = {k: v for k, v in cache.entries.items() if k not in keys}
    return kept


def _same_plan(got: Plan, expected: Plan) -> None:
    assert got.sql == expected.sql
    assert hazard_rows(got) == hazard_rows(expected)
    assert got.desired == expected.desired


@pytest.mark.parametrize("case", PLANNABLE)
def test_assembled_tables_plan_as_materialized_ones(case: str, case_url: str) -> None:
    folder = CASES_DIR / case
    bp = load_blueprint(folder)
    managed = set(json.loads(p.read_text())) if (p := folder / "managed.json").is_file() else set()
    options = json.loads(p.read_text()) if (p := folder / "options.json").is_file() else {}
    with psycopg.connect(case_url, autocommit=True) as conn:
        live_sql = (folder / "live.sql").read_text()
        if live_sql.strip():
            conn.execute(live_sql.encode())
        version = conn.info.server_version

        def planned(cache: MemoryCanonicalCache | None) -> Plan:
            return plan(conn, bp, schema=SCHEMA, managed=managed, cache=cache, **options)

        full = MemoryCanonicalCache()
        materialized = planned(full)
        assert materialized.sql == planned(None).sql
        whole = {canonical_key(t, bp.fence, version) for t in bp.tables}

        # Member forms only: every table is assembled (or, renamed, materialized again).
        members_only = _without(full, whole)
        assembled = planned(members_only)
        _same_plan(assembled, materialized)
        renamed = {t.name for t in bp.tables if t.renamed_from}
        renamed |= {t.name for t in bp.tables if any(c.renamed_from for c in t.columns)}
        assert set(assembled.materialized_tables) <= renamed | _with_subqueries(bp)

        # Indexes, policies and checks unknown: printed on reduced copies of the tables.
        for kinds in (("indexes", "policies"), ("constraints",), ("columns",), ("table",)):
            partial = _without(members_only, _member_keys(bp, version, kinds))
            _same_plan(planned(partial), materialized)


def _with_subqueries(bp: NormalizedBlueprint) -> set[str]:
    """Tables whose members cannot be assembled (a policy with a sub-query), and the
    blueprint tables those sub-queries read (the scratch schema needs them too)."""
    tables = {
        t.name
        for t in bp.tables
        if table_members(t, bp, 180000) is None  # the version does not change the answer
    }
    read = {n for t in bp.tables if t.name in tables for n in tables_named_in_policies(t)}
    return tables | (read & {t.name for t in bp.tables})


@pytest.mark.parametrize("case", ["seed_patients_new"])
def test_a_column_added_is_planned_without_materializing(case: str, case_url: str) -> None:
    """The common change: one column added to a table the cache has seen. Its new column
    spells a type and default the table already uses, so nothing is materialized."""
    bp = load_blueprint(CASES_DIR / case)
    cache = MemoryCanonicalCache()
    with psycopg.connect(case_url, autocommit=True) as conn:
        first = plan(conn, bp, schema=SCHEMA, managed=set(), cache=cache)
        with conn.transaction():
            conn.execute(first.sql.encode())
        table = bp.tables[0]
        extra = table.columns[-1].model_copy(update={"name": "second_" + table.columns[-1].name})
        wider = table.model_copy(update={"columns": (*table.columns, extra)})
        bp2 = bp.model_copy(update={"tables": (wider, *bp.tables[1:])})
        second = plan(conn, bp2, schema=SCHEMA, managed={table.name}, cache=cache)
        uncached = plan(conn, bp2, schema=SCHEMA, managed={table.name})
    assert second.materialized_tables == ()
    assert uncached.materialized_tables == (table.name,)
    _same_plan(second, uncached)
    assert "ADD COLUMN" in second.sql


def _payload(tables: list[dict[str, object]]) -> NormalizedBlueprint:
    from schemabuilder.engine import validate_payload

    return validate_payload(
        {"schema_version": "001", "description": "members", "auto_columns": False, "tables": tables}
    )


_ID = {"name": "id", "type": "INTEGER", "primary_key": True}
_CODE = {"name": "code", "type": "TEXT", "unique": True}


@pytest.mark.parametrize("case", ["fk_to_an_assembled_table"])
def test_a_new_reference_to_an_assembled_table_sees_its_new_column(
    case: str, case_url: str
) -> None:
    """clinics gains a unique column whose forms the cache knows (from labs), so it could be
    assembled; but the new table patients references that very column, and its scratch copy
    must find it: clinics is materialized in full beside it."""
    v1 = _payload(
        [
            {"name": "clinics", "columns": [_ID], "rls": False},
            {"name": "labs", "columns": [_ID, _CODE], "rls": False},
        ]
    )
    clinics = {"name": "clinics", "columns": [_ID, _CODE], "rls": False}
    patients = {
        "name": "patients",
        "columns": [_ID, {"name": "clinic_code", "type": "TEXT", "references": "clinics.code"}],
        "rls": False,
    }
    labs = {"name": "labs", "columns": [_ID, _CODE], "rls": False}
    v2 = _payload([clinics, labs, patients])
    cache = MemoryCanonicalCache()
    managed = {"clinics", "labs"}
    with psycopg.connect(case_url, autocommit=True) as conn:
        first = plan(conn, v1, schema=SCHEMA, managed=set(), cache=cache)
        with conn.transaction():
            conn.execute(first.sql.encode())
        # Atomic: the script runs below in one transaction.
        got = plan(conn, v2, schema=SCHEMA, managed=managed, cache=cache, apply_mode="atomic")
        expected = plan(conn, v2, schema=SCHEMA, managed=managed, apply_mode="atomic")
        _same_plan(got, expected)
        assert set(got.materialized_tables) == {"clinics", "patients"}
        with conn.transaction():
            conn.execute(got.sql.encode())
        assert plan(conn, v2, schema=SCHEMA, managed=managed | {"patients"}, cache=cache).is_empty
