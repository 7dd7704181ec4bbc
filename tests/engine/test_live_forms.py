"""Live tables remembered by fingerprint: reused while nothing they print from moved, and
introspected again after any change that prints differently, on the table or elsewhere."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from schemabuilder.engine.catalog import introspect as catalog
from schemabuilder.engine.catalog import live_forms
from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.live_forms import introspect_remembered, live_keys
from schemabuilder.engine.desired.cache import MemoryCanonicalCache

SCHEMA = "app"
TABLES = {"clinics", "patients"}

LIVE_SQL = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE SEQUENCE app.ticket_seq;
CREATE FUNCTION app.tenant() RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
CREATE ROLE sb_live_forms_reader;
CREATE TABLE app.clinics (id uuid PRIMARY KEY, code text UNIQUE);
CREATE TABLE app.patients (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL DEFAULT app.tenant(),
    clinic_code text REFERENCES app.clinics (code),
    mood app.mood,
    ticket bigint DEFAULT nextval('app.ticket_seq')
);
ALTER TABLE app.patients ENABLE ROW LEVEL SECURITY;
CREATE POLICY fence ON app.patients TO sb_live_forms_reader USING (tenant_id = app.tenant());
"""


@pytest.fixture
def conn(target_db_url: str) -> Iterator[psycopg.Connection]:
    # Roles belong to the server, not the database: none may outlive the test.
    drop_roles = (
        "DROP ROLE IF EXISTS sb_live_forms_reader; DROP ROLE IF EXISTS sb_live_forms_viewer"
    )
    with psycopg.connect(target_db_url, autocommit=True) as connection:
        connection.execute(drop_roles.encode())
        connection.execute(LIVE_SQL.encode())
        try:
            yield connection
        finally:
            connection.execute("DROP SCHEMA app CASCADE")
            connection.execute(drop_roles.encode())


class CountingIntrospect:
    """Counts the tables introspect() is asked for (through live_forms)."""

    def __init__(self) -> None:
        self.tables: list[str] = []

    def __call__(self, conn, schema, *, tables=None, **kwargs):  # type: ignore[no-untyped-def]
        self.tables.extend(sorted(tables or ()))
        return catalog.introspect(conn, schema, tables=tables, **kwargs)


def _remembered(conn: psycopg.Connection, cache: MemoryCanonicalCache, spy: CountingIntrospect):
    spy.tables.clear()
    return introspect_remembered(conn, SCHEMA, TABLES, cache)


def test_unchanged_tables_are_not_introspected_again(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = CountingIntrospect()
    monkeypatch.setattr(live_forms, "introspect", spy)
    cache = MemoryCanonicalCache()
    first = _remembered(conn, cache, spy)
    assert spy.tables == ["clinics", "patients"]
    second = _remembered(conn, cache, spy)
    assert spy.tables == []
    assert second == first == introspect(conn, SCHEMA, tables=TABLES)
    assert second.all_tables == first.all_tables


# Changes that print differently; the first two touch the table itself, the others only
# what it refers to (its own catalog rows stay as they were).
CHANGES = {
    "column added": "ALTER TABLE app.patients ADD COLUMN note text",
    "default changed": "ALTER TABLE app.patients ALTER COLUMN ticket SET DEFAULT 7",
    "referenced table renamed": "ALTER TABLE app.clinics RENAME TO sites",
    "referenced column renamed": "ALTER TABLE app.clinics RENAME COLUMN code TO site_code",
    "enum type renamed": "ALTER TYPE app.mood RENAME TO feeling",
    "function renamed": "ALTER FUNCTION app.tenant() RENAME TO current_tenant",
    "sequence renamed": "ALTER SEQUENCE app.ticket_seq RENAME TO ticket_numbers",
    "role renamed": "ALTER ROLE sb_live_forms_reader RENAME TO sb_live_forms_viewer",
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_that_prints_differently_is_seen(
    change: str, conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = CountingIntrospect()
    monkeypatch.setattr(live_forms, "introspect", spy)
    cache = MemoryCanonicalCache()
    before = _remembered(conn, cache, spy)
    conn.execute(CHANGES[change].encode())
    tables = TABLES if "table renamed" not in change else {"patients"}
    spy.tables.clear()
    after = introspect_remembered(conn, SCHEMA, tables, cache)
    truth = introspect(conn, SCHEMA, tables=tables)
    assert after == truth
    assert after.table("patients") != before.table("patients")
    assert "patients" in spy.tables


def test_keys_leave_out_missing_tables(conn: psycopg.Connection) -> None:
    keys = live_keys(conn, SCHEMA, {"patients", "nowhere"})
    assert set(keys) == {"patients"}
    assert live_keys(conn, SCHEMA, set()) == {}
