"""The first apply on a target creates the commit marker's schema: the forms the plan before
it learned stay valid, so the next plan is warm."""

from __future__ import annotations

import psycopg

from schemabuilder.engine.apply import Reviewed, apply_plan, fingerprints, scope_of
from schemabuilder.engine.desired.cache import MemoryCanonicalCache
from schemabuilder.engine.plan import plan
from tests.engine.test_apply_checks import SCHEMA, _blueprint, _request, _table
from tests.engine.test_apply_checks import conn as conn


def test_the_plan_after_the_first_apply_materializes_only_what_changed(
    conn: psycopg.Connection,
) -> None:
    cache = MemoryCanonicalCache()
    v1 = _blueprint(_table("a"), _table("b"), _table("c", "note"))
    prints = fingerprints(conn, SCHEMA, scope_of(v1, {"a", "b"}))
    first = plan(conn, v1, schema=SCHEMA, managed={"a", "b"}, cache=cache)
    assert "c" in first.materialized_tables
    apply_plan(conn, v1, _request(v1, first), reviewed=Reviewed.of(first, prints), cache=cache)
    assert conn.execute("SELECT to_regnamespace('schemabuilder') IS NOT NULL").fetchone() == (True,)
    v2 = _blueprint(_table("a"), _table("b"), _table("c", "note", "extra"))
    second = plan(conn, v2, schema=SCHEMA, managed={"a", "b", "c"}, cache=cache)
    # a and b did not change: their forms come from the cache (c's may, from its members').
    assert not {"a", "b"} & set(second.materialized_tables)
