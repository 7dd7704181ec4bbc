"""A Supabase-shaped schema imported, planned against itself, and built again from the import.

``import/supabase/setup.sql`` is what a Supabase project has besides the app's schema (the API
roles, ``auth.users``, ``auth.uid()``); ``author.sql`` is the app's ``public`` schema: profiles,
organizations, memberships, policies calling a security definer helper, an ``updated_at``
trigger, enum types, grants to the API roles and default privileges. Imported, the plan
against the same database is empty; built on a database that has only ``setup.sql`` from the
import alone, migra finds no difference between the two ``public`` schemas, grants included.

Nothing is left out: the helper functions, the ``updated_at`` triggers (the blueprint's
word, which brings its function along), the types, grants and default privileges are all
said by the blueprint.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bench.round_trip import import_and_replan, migra_lines, recreate
from tests.engine.conftest import database_url, fresh_database

FIXTURE = Path(__file__).resolve().parent / "import" / "supabase"
SCHEMA = "public"


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
    assert imported.left_out == ()
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

    assert [f["name"] for f in payload["functions"]] == ["is_member_of"]
    assert {t["name"]: t.get("triggers") for t in payload["tables"]}["profiles"] == ["updated_at"]

    _run(rebuilt_url, "setup.sql")
    assert recreate(rebuilt_url, payload, SCHEMA) > 0
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
