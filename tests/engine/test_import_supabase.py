"""A Supabase-shaped schema imported, planned against itself, and built again from the import.

``import/supabase/setup.sql`` is what a Supabase project has besides the app's schema (the API
roles, ``auth.users``, ``auth.uid()``); ``author.sql`` is the app's ``public`` schema: profiles,
organizations, memberships, policies calling a security definer helper, an ``updated_at``
trigger, enum types, grants to the API roles and default privileges. Imported, the plan
against the same database is empty; built on a database that has only ``setup.sql`` from the
import alone, migra finds no difference between the two ``public`` schemas, grants included.

Functions cannot be said by a blueprint yet. Until they can, the import lists
them as left out, and the test copies exactly those (as the server prints them) to the new
database: ``NOT_YET_IMPORTED`` names their kinds. When a kind becomes importable, take it out
of that set; the test then checks that the import says it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.round_trip import copy_left_out, import_and_replan, kinds, migra_lines, recreate
from tests.engine.conftest import database_url, fresh_database

FIXTURE = Path(__file__).resolve().parent / "import" / "supabase"
SCHEMA = "public"
# What the import leaves out today, by kind; copied to the new database until it says them.
# The triggers are said (the updated_at word, which brings its function along).
NOT_YET_IMPORTED = {"function"}
LEFT_OUT = {
    ("function", "is_member_of(org uuid)", None),
}


def _run(url: str, *names: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for name in names:
            conn.execute((FIXTURE / name).read_bytes())


@pytest.fixture
def source_url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from fresh_database(database_url(any_target_url, "postgres"), "sbsupa_src", request)


@pytest.fixture
def rebuilt_url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from fresh_database(database_url(any_target_url, "postgres"), "sbsupa_new", request)


def test_the_supabase_schema_is_imported_and_rebuilt_with_no_difference(
    source_url: str, rebuilt_url: str
) -> None:
    _run(source_url, "setup.sql", "author.sql")
    imported = import_and_replan(source_url, SCHEMA)
    assert imported.replan_statements == 0, imported.replan_sql
    left = {(o.kind, o.name, o.table) for o in imported.left_out}
    assert left == {o for o in LEFT_OUT if o[0] in NOT_YET_IMPORTED}
    payload = imported.payload
    assert [t["name"] for t in payload["tables"]] == [
        "invitations",
        "memberships",
        "organizations",
        "profiles",
    ]
    assert [t["name"] for t in payload["types"]] == ["org_role", "plan_tier"]
    assert {d["role"] for d in payload["default_privileges"]} == {
        "anon",
        "authenticated",
        "service_role",
    }
    assert all("grants" in t for t in payload["tables"])

    _run(rebuilt_url, "setup.sql")
    copied = {}
    if "function" in kinds(imported.left_out):
        copied["function"] = copy_left_out(
            source_url, rebuilt_url, SCHEMA, imported.left_out, "function"
        )
    assert recreate(rebuilt_url, payload, SCHEMA) > 0
    if "trigger" in kinds(imported.left_out):
        copied["trigger"] = copy_left_out(
            source_url, rebuilt_url, SCHEMA, imported.left_out, "trigger"
        )
    assert set(copied) <= NOT_YET_IMPORTED
    assert migra_lines(source_url, rebuilt_url, SCHEMA) == []
    # The rebuilt schema imports to the same blueprint, and plans nothing against itself.
    again = import_and_replan(rebuilt_url, SCHEMA)
    assert again.replan_statements == 0, again.replan_sql
    assert again.payload == payload
    # The oracle compares grants: one revoked on the rebuilt side is migra's one line.
    with psycopg.connect(rebuilt_url, autocommit=True) as conn:
        conn.execute("REVOKE SELECT ON public.profiles FROM anon")
    assert migra_lines(rebuilt_url, source_url, SCHEMA) == [
        'grant select on table "public"."profiles" to "anon";'
    ]
