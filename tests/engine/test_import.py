"""Import of a schema with some of everything: what it says, what it leaves out, and why.

``import/everything.sql`` holds tables a blueprint can say (with a trigger it says, and a
constraint trigger, a grant, a comment on a constraint beside them, a stored generated
column) and tables it cannot (an expression index, an exclusion constraint, a name that is
not snake_case, a unique
constraint of another name, ON UPDATE CASCADE). The tables it can say are imported and plan
nothing; every other object is listed, none dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from schemabuilder.engine import import_schema, plan, validate_payload
from tests.engine.conftest import database_url

EVERYTHING = Path(__file__).resolve().parent / "import" / "everything.sql"


def _imported(url: str, **options: object) -> tuple[object, object]:
    with psycopg.connect(url, autocommit=True) as conn:
        result = import_schema(conn, "public", **options)  # type: ignore[arg-type]
        bp = validate_payload(result.payload)
        found = plan(conn, bp, schema="public", managed={t.name for t in bp.tables})
    return result, found


@pytest.fixture
def everything_url(pg_server_url: str) -> Iterator[str]:
    """A database of its own where ``everything.sql`` ran."""
    with _database(pg_server_url, f"sb_import_{os.getpid()}", EVERYTHING.read_bytes()) as url:
        yield url


@contextmanager
def _database(pg_server_url: str, name: str, script: bytes) -> Iterator[str]:
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(pg_server_url, name)
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(script)
        yield url
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_what_it_can_say_plans_nothing_and_the_rest_is_listed(everything_url: str) -> None:
    result, found = _imported(everything_url)
    assert found.sql == "" and not found.hazards  # type: ignore[attr-defined]
    payload = result.payload  # type: ignore[attr-defined]
    assert [t["name"] for t in payload["tables"]] == [
        "accounts",
        "event_tags",
        "locked",
        "memberships",
        "notes",
        "numbered",
        "totals",
    ]
    assert payload["fence"] == {"column": "tenant_id", "type": "uuid", "mode": "permissive"}
    assert payload["auto_columns"] is False
    accounts, _, locked, memberships, notes, _, totals = payload["tables"]
    assert totals["columns"][2] == {"name": "c", "type": "integer", "generated": "a + b"}
    assert locked["rls"] is True and locked["policies"] == []  # deny-all, as the live table
    assert [p["name"] for p in notes["policies"]] == ["Members read their notes."]
    assert accounts["checks"] == [
        {"expression": "plan = ANY (ARRAY['free'::text, 'pro'::text])"},
        {"expression": "balance >= 0::numeric", "name": "positive_balance"},
    ]
    # The key's order is not the columns': the table says it, the columns keep their order.
    assert [c["name"] for c in memberships["columns"][:2]] == ["tenant_id", "user_id"]
    assert memberships["primary_key"] == ["user_id", "tenant_id"]
    assert not any("primary_key" in c for c in memberships["columns"])
    assert memberships["rls"] == "force"
    assert accounts["triggers"] == [
        {
            "name": "accounts_touch",
            "timing": "before",
            "events": ["update"],
            "level": "row",
            "function": "touch",
        }
    ]
    assert "triggers" not in locked  # its constraint trigger cannot be said: left alone
    left = {(o.kind, o.name) for o in result.left_out}  # type: ignore[attr-defined]
    assert left == {
        ("table", "events"),
        ("table", "bookings"),
        ("table", "CamelCase"),
        ("table", "mixed_policies"),
        ("table", "named_keys"),
        ("table", "on_update"),
        ("table", "team_notes"),
        ("table", "deferred"),
        ("table", "unchecked"),
        ("table", "patterns"),
        ("table", "collated"),
        ("sequence option", "numbered_id_seq"),
        ("trigger", "locked_guard"),
        ("view", "rich_accounts"),
        ("sequence", "invoice_numbers"),
        ("comment", "positive_balance"),
    }
    # The enum type and the grant are said: the type with its values in their order, the
    # grant to PUBLIC as the ACL holds it.
    assert payload["types"] == [{"name": "mood", "enum": ["happy", "sad"]}]
    assert accounts["grants"] == [{"role": "PUBLIC", "privileges": ["SELECT"]}]
    assert "grants" not in memberships  # its ACL was never touched: left alone
    # The schema's SQL and PL/pgSQL functions are said, the triggers' own among them.
    assert [f["name"] for f in payload["functions"]] == ["current_team", "guard", "touch"]
    why = {o.name: o.why for o in result.left_out}  # type: ignore[attr-defined]
    assert "lower(name)" in why["events"]
    assert "exclusion constraint" in why["bookings"]
    assert "'MixedCase'" in why["mixed_policies"]
    assert "uq_email" in why["named_keys"]
    assert "ON UPDATE CASCADE" in why["on_update"]
    assert why["team_notes"].startswith("policies[0].using: expression calls current_team()")
    assert "DEFERRABLE" in why["deferred"]
    assert "NOT VALID" in why["unchecked"]
    assert "text_pattern_ops" in why["patterns"]
    assert 'collation "C"' in why["collated"]
    assert why["numbered_id_seq"].startswith("start 500, increment 1")
    assert "constraint trigger" in why["locked_guard"]


APP_SCHEMA = b"""
create table public.users (id uuid primary key);
create schema app;
create type app.kind as enum ('a', 'b');
create table app.things (
    id serial primary key,
    owner uuid references public.users (id) on delete cascade,
    k app.kind default 'a',
    tenant_id uuid not null
);
create table app.parts (thing_id int references app.things (id), n int check (n > 0));
alter table app.things enable row level security;
create policy things_tenant_isolation on app.things
    using (tenant_id::text = current_setting('app.current_tenant_id', true));
"""


def test_a_schema_other_than_public_with_keys_to_public(pg_server_url: str) -> None:
    with _database(pg_server_url, f"sb_import_app_{os.getpid()}", APP_SCHEMA) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            result = import_schema(conn, "app")
            bp = validate_payload(result.payload)
            found = plan(conn, bp, schema="app", managed={t.name for t in bp.tables})
        assert found.sql == "" and not found.hazards
        things = result.payload["tables"][1]
        assert things["columns"][1]["references"] == {
            "schema": "public",
            "table": "users",
            "column": "id",
            "on_delete": "cascade",
        }
        assert things["columns"][2] == {"name": "k", "type": "kind", "default": "'a'::kind"}
        assert result.left_out == ()
        assert result.payload["types"] == [{"name": "kind", "enum": ["a", "b"]}]


GRANTS = Path(__file__).resolve().parent / "import" / "grants.sql"


def test_grants_and_default_privileges_are_said_as_the_acls_hold_them(
    pg_server_url: str,
) -> None:
    with _database(pg_server_url, f"sb_import_grants_{os.getpid()}", GRANTS.read_bytes()) as url:
        result, found = _imported(url)
        with psycopg.connect(url) as conn:
            me = conn.execute("SELECT current_user").fetchone()[0]  # type: ignore[index]
    assert found.sql == "" and not found.hazards  # type: ignore[attr-defined]
    payload = result.payload  # type: ignore[attr-defined]
    assert payload["types"] == [
        {"name": "unused_kind", "enum": ["a", "b"]},
        {"name": "visibility", "enum": ["private", "team", "public"]},
    ]
    assert payload["default_privileges"] == [
        {"role": "anon", "on": "tables", "privileges": ["SELECT"]},
        {"role": "service_role", "on": "tables", "privileges": ["ALL"]},
        {"role": "authenticated", "on": "sequences", "privileges": ["USAGE", "SELECT"]},
        {"role": "authenticated", "on": "functions", "privileges": ["EXECUTE"]},
    ]
    tables = {t["name"]: t for t in payload["tables"]}
    defaults = [
        {"role": "anon", "privileges": ["SELECT"]},
        {"role": "service_role", "privileges": ["ALL"]},
    ]
    assert tables["posts"]["grants"] == [
        defaults[0],
        {"role": "authenticated", "privileges": ["INSERT", "UPDATE"]},
        defaults[1],
    ]
    assert tables["posts"]["sequence_grants"] == [
        {"role": "authenticated", "privileges": ["USAGE", "SELECT"]}
    ]
    assert tables["secrets"]["grants"] == []  # all revoked: managed, nothing granted
    assert tables["reports"]["grants"][1] == {"role": "authenticated", "privileges": ["SELECT"]}
    assert "grants" not in tables["dashboards"]  # a role it cannot name: left alone
    assert "sequence_grants" not in tables["counters"]  # its two sequences disagree
    assert tables["ledger"]["grants"] == defaults
    left = sorted((o.kind, o.name) for o in result.left_out)  # type: ignore[attr-defined]
    assert left == [
        ("column grant", "reports.id"),
        ("column grant", "reports.total"),
        ("default privileges", f"{me} on types"),
        ("default privileges", "service_role on tables"),
        ("grant", "dashboards"),
        ("grant option", "authenticated on reports"),
        ("owner privileges", f"{me} on ledger"),
        ("sequence grant", "counters"),
    ]
    why = {o.name: o.why for o in result.left_out}  # type: ignore[attr-defined]
    assert why[f"{me} on ledger"].startswith("the owner holds SELECT, INSERT, UPDATE, REF")
    assert "'ReportsReader'" in why["dashboards"]


def test_a_sequence_its_column_no_longer_draws_from_or_renamed_is_listed(
    pg_server_url: str,
) -> None:
    # A table built again from the import would have neither: migra would see both.
    script = (
        b"create table tickets (id serial primary key, title text);"
        b"create table kept (id serial primary key);"
        b"alter table tickets alter column id drop default;"
        b"create table orders (id serial primary key);"
        b"alter table orders rename to purchases;"
        b"alter table purchases rename constraint orders_pkey to purchases_pkey;"
    )
    with _database(pg_server_url, f"sb_import_seq_{os.getpid()}", script) as url:
        result, found = _imported(url)
    assert found.sql == ""  # type: ignore[attr-defined]
    assert [o.to_json() for o in result.left_out] == [  # type: ignore[attr-defined]
        {
            "kind": "sequence",
            "name": "tickets_id_seq",
            "table": "tickets",
            "why": "owned by tickets.id, whose default does not draw from it",
        },
        {
            "kind": "sequence name",
            "name": "orders_id_seq",
            "table": "purchases",
            "why": "the sequence of purchases.id is not named purchases_id_seq",
        },
    ]
