"""Grants in a plan: the reviewer's changes, the hazards' words, and a blueprint without
grants that leaves live grants alone."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from schemabuilder.engine import BlueprintInvalid, validate_payload
from schemabuilder.engine.diff.changes import Action
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import plan
from schemabuilder.engine.render_text import render_text
from tests.engine.conftest import fresh_database


@pytest.fixture
def url(any_target_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database for one test."""
    yield from fresh_database(any_target_url, "sbgrants", request)


ROLES = """
DO $$ BEGIN CREATE ROLE anon NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE authenticated NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
CREATE TABLE plans (id integer PRIMARY KEY, title text);
INSERT INTO plans VALUES (1, 'free'), (2, 'pro');
GRANT SELECT, UPDATE ON plans TO authenticated;
"""


def _blueprint(grants: list[dict[str, object]] | None) -> dict[str, object]:
    table: dict[str, object] = {
        "name": "plans",
        "rls": False,
        "columns": [
            {"name": "id", "type": "INTEGER", "primary_key": True},
            {"name": "title", "type": "TEXT"},
        ],
    }
    if grants is not None:
        table["grants"] = grants
    return {
        "schema_version": "1",
        "description": "d",
        "auto_columns": False,
        "tables": [table],
    }


def test_a_grant_to_anon_on_a_table_without_rls_is_danger_and_says_who_and_what(
    url: str,
) -> None:
    bp = validate_payload(
        _blueprint(
            [
                {"role": "anon", "privileges": ["SELECT"]},
                {"role": "authenticated", "privileges": ["SELECT"]},
            ]
        )
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ROLES)
        p = plan(conn, bp, schema="public", managed={"plans"})
    grants = [s for s in p.statements if s.phase == "grants"]
    assert [s.sql for s in grants] == [
        "GRANT SELECT ON TABLE public.plans TO anon",
        "REVOKE UPDATE ON TABLE public.plans FROM authenticated",
    ]
    widen, revoke = (s.hazards[0] for s in grants)
    assert widen.kind is HazardKind.CHANGES_ACCESS and widen.severity is Severity.DANGER
    assert "role anon is granted SELECT on plans (2 rows)" in widen.message
    assert "no row level security" in widen.message
    assert revoke.severity is Severity.WARNING and "loses UPDATE" in revoke.message
    assert p.is_dangerous
    (change,) = p.changes
    assert [(m.kind, m.name, m.action, m.before, m.after) for m in change.members] == [
        ("grant", "anon", Action.ADDED, None, "SELECT"),
        ("grant", "authenticated", Action.ALTERED, "SELECT, UPDATE", "SELECT"),
    ]


def test_without_grants_the_live_ones_stay_and_the_plan_is_empty(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ROLES + "GRANT ALL ON plans TO anon;")
        p = plan(conn, validate_payload(_blueprint(None)), schema="public", managed={"plans"})
    assert p.is_empty and p.sql == ""


def test_the_text_rendering_names_the_role_and_its_privileges(url: str) -> None:
    bp = validate_payload(
        _blueprint(
            [
                {"role": "anon", "privileges": ["SELECT"]},
                {"role": "authenticated", "privileges": ["SELECT"]},
            ]
        )
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ROLES)
        text = render_text(plan(conn, bp, schema="public", managed={"plans"}))
    assert "grant anon SELECT" in text
    assert "grant authenticated: SELECT, UPDATE -> SELECT" in text


def test_the_sequence_of_a_new_long_named_serial_gets_the_name_postgresql_gives_it(
    url: str,
) -> None:
    table, column = "t" * 40, "c" * 40
    data = _blueprint(None)
    data["tables"] = [
        {
            "name": table,
            "rls": False,
            "columns": [{"name": column, "type": "SERIAL"}],
            "sequence_grants": [{"role": "authenticated", "privileges": ["USAGE"]}],
        }
    ]
    bp = validate_payload(data)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ROLES)
        first = plan(conn, bp, schema="public", managed=set())
        assert "TO authenticated" in first.sql
        conn.execute(first.sql.encode())
        sequence = conn.execute(
            "SELECT pg_get_serial_sequence(%s, %s)", [f"public.{table}", column]
        ).fetchone()
        assert sequence is not None and sequence[0] in first.sql
        again = plan(conn, bp, schema="public", managed={table})
    assert again.is_empty, again.sql


def test_maintain_is_refused_at_its_path_on_a_server_before_17(url: str) -> None:
    bp = validate_payload(_blueprint([{"role": "authenticated", "privileges": ["MAINTAIN"]}]))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ROLES)
        if conn.info.server_version >= 170000:
            p = plan(conn, bp, schema="public", managed={"plans"})
            assert "GRANT MAINTAIN ON TABLE public.plans TO authenticated" in p.sql
            return
        with pytest.raises(BlueprintInvalid) as raised:
            plan(conn, bp, schema="public", managed={"plans"})
    (issue,) = raised.value.issues
    assert issue.path == "payload.tables[0].grants[0].privileges"
    assert "MAINTAIN exists from PostgreSQL 17 on" in issue.message
