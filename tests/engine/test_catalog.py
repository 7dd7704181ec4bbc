"""Catalog introspection on real servers: PostgreSQL's own spelling, value equality, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine.catalog.introspect import introspect
from schemabuilder.engine.catalog.snapshot import ConstraintKind, Snapshot, canonical_dumps


@pytest.fixture
def conn(any_target_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection inside a transaction that is always rolled back."""
    with psycopg.connect(any_target_url) as connection:
        try:
            yield connection
        finally:
            connection.rollback()


LIVE = """
CREATE SCHEMA cat_live;
CREATE TABLE cat_live.apps (id integer PRIMARY KEY, app_code text NOT NULL UNIQUE);
CREATE TABLE cat_live.templates (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_code text REFERENCES cat_live.apps (app_code) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'ACTIVE')),
    title varchar(255),
    tags text[],
    created_at timestamptz NOT NULL DEFAULT NOW(),
    deleted_at timestamptz
);
CREATE INDEX idx_templates_recent ON cat_live.templates (app_code, created_at DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX idx_templates_tags ON cat_live.templates USING gin (tags);
ALTER TABLE cat_live.templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE cat_live.templates FORCE ROW LEVEL SECURITY;
CREATE POLICY readers ON cat_live.templates AS RESTRICTIVE FOR SELECT
    USING (status <> 'DRAFT');
COMMENT ON TABLE cat_live.templates IS 'message templates';
COMMENT ON COLUMN cat_live.templates.tags IS 'labels';
"""

# The same templates table, spelled differently, in a scratch schema whose foreign key
# reaches the live schema's apps table.
SCRATCH = """
CREATE SCHEMA cat_scratch;
CREATE TABLE cat_scratch.templates (
    deleted_at TIMESTAMP WITH TIME ZONE,
    id BIGINT GENERATED ALWAYS AS IDENTITY,
    app_code TEXT,
    status TEXT DEFAULT 'DRAFT'::text NOT NULL,
    title CHARACTER VARYING(255),
    tags TEXT[],
    created_at TIMESTAMPTZ DEFAULT now() NOT NULL,
    CONSTRAINT templates_pkey PRIMARY KEY (id),
    CONSTRAINT templates_status_check CHECK (status = ANY (ARRAY['DRAFT', 'ACTIVE'])),
    CONSTRAINT templates_app_code_fkey FOREIGN KEY (app_code)
        REFERENCES cat_live.apps (app_code) ON DELETE CASCADE
);
CREATE INDEX idx_templates_recent ON cat_scratch.templates
    USING btree (app_code ASC, created_at DESC NULLS FIRST) WHERE (deleted_at IS NULL);
CREATE INDEX idx_templates_tags ON cat_scratch.templates USING GIN (tags);
ALTER TABLE cat_scratch.templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE cat_scratch.templates FORCE ROW LEVEL SECURITY;
CREATE POLICY readers ON cat_scratch.templates AS RESTRICTIVE FOR SELECT TO PUBLIC
    USING ((status <> 'DRAFT'::text));
COMMENT ON TABLE cat_scratch.templates IS 'message templates';
COMMENT ON COLUMN cat_scratch.templates.tags IS 'labels';
"""


def test_a_scratch_schema_and_the_live_one_compare_equal(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LIVE)
    conn.execute(SCRATCH)
    live = introspect(conn, "cat_live", tables={"templates"})
    scratch = introspect(conn, "cat_scratch", search_path=["cat_live"], as_schema="cat_live")
    assert scratch.table("templates") == live.table("templates")
    assert scratch == live
    assert scratch.hash == live.hash
    # Column order is physical, kept for people, and not part of equality.
    assert scratch.tables[0].ordered_columns[0].name == "deleted_at"
    assert live.tables[0].ordered_columns[0].name == "id"


def test_it_records_what_postgres_prints(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LIVE)
    snapshot = introspect(conn, "cat_live")
    templates = snapshot.table("templates")
    assert templates is not None
    columns = templates.column_map
    assert columns["title"].type == "character varying(255)"
    assert columns["tags"].type == "text[]"
    assert columns["status"].default == "'DRAFT'::text"
    assert columns["created_at"].default == "now()"
    assert columns["id"].identity == "ALWAYS"
    assert columns["tags"].comment == "labels"
    constraints = templates.constraint_map
    assert constraints["templates_status_check"].definition == (
        "CHECK (status = ANY (ARRAY['DRAFT'::text, 'ACTIVE'::text]))"
    )
    fk = constraints["templates_app_code_fkey"]
    assert fk.kind is ConstraintKind.FOREIGN_KEY
    assert fk.definition == "FOREIGN KEY (app_code) REFERENCES apps(app_code) ON DELETE CASCADE"
    assert (fk.ref_table, fk.ref_columns, fk.on_delete) == ("apps", ("app_code",), "CASCADE")
    assert fk.fk_tail == " ON DELETE CASCADE"
    # PostgreSQL 18 lists NOT NULL as constraints too; they stay on the columns here.
    assert {c.kind for c in templates.constraints} == {
        ConstraintKind.PRIMARY_KEY,
        ConstraintKind.CHECK,
        ConstraintKind.FOREIGN_KEY,
    }
    recent = templates.index_map["idx_templates_recent"]
    assert recent.definition == ("USING btree (app_code, created_at DESC) WHERE deleted_at IS NULL")
    assert recent.columns == ("app_code", "created_at DESC")
    assert recent.predicate == "deleted_at IS NULL"
    assert templates.index_map["idx_templates_tags"].method == "gin"
    policy = templates.policy_map["readers"]
    assert (policy.command, policy.permissive, policy.roles) == ("SELECT", False, ("public",))
    assert policy.using == "status <> 'DRAFT'::text"
    assert policy.columns == ("status",)
    assert (templates.rls, templates.rls_forced, templates.comment) == (
        True,
        True,
        "message templates",
    )


def test_indexes_that_back_constraints_belong_to_the_constraint(
    conn: psycopg.Connection[Any],
) -> None:
    conn.execute(LIVE)
    apps = introspect(conn, "cat_live").table("apps")
    assert apps is not None
    assert apps.indexes == ()
    assert set(apps.constraint_map) == {"apps_pkey", "apps_app_code_key"}


def test_introspecting_some_tables_still_names_them_all(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LIVE)
    conn.execute("CREATE TABLE cat_live.legacy (x integer)")
    some = introspect(conn, "cat_live", tables={"apps", "not_there"})
    assert [t.name for t in some.tables] == ["apps"]
    assert some.all_tables == ("apps", "legacy", "templates")
    everything = introspect(conn, "cat_live")
    assert some.hash != everything.hash
    assert some == everything.restricted({"apps"})


def test_it_leaves_the_search_path_as_it_was(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LIVE)
    conn.execute("SET search_path TO pg_catalog")
    introspect(conn, "cat_live")
    row = conn.execute("SHOW search_path").fetchone()
    assert row == ("pg_catalog",)


def test_a_snapshot_survives_json(conn: psycopg.Connection[Any]) -> None:
    conn.execute(LIVE)
    snapshot = introspect(conn, "cat_live")
    text = json.dumps(snapshot.to_json())
    again = Snapshot.from_json(json.loads(text))
    assert again == snapshot
    assert again.hash == snapshot.hash
    assert again.all_tables == snapshot.all_tables
    assert again.tables[1].ordered_columns == snapshot.tables[1].ordered_columns


def test_the_canonical_json_is_the_sorted_dump_of_the_compared_fields(
    conn: psycopg.Connection[Any],
) -> None:
    # Snapshot.canonical_json is assembled per table, without the generic walk: it must stay
    # the very text the generic walk gives, or every stored snapshot hash would change.
    conn.execute(LIVE)
    snapshot = introspect(conn, "cat_live")
    comparable = snapshot.to_json()
    del comparable["schema"], comparable["all_tables"]
    for table in comparable["tables"]:
        for column in table["columns"]:
            del column["position"]
        for member in (*table["constraints"], *table["indexes"]):
            del member["source"]
        for policy in table["policies"]:
            del policy["using_source"], policy["with_check_source"]
    assert snapshot.canonical_json() == canonical_dumps(comparable)


def test_the_hash_ignores_what_is_not_compared() -> None:
    data = {
        "schema": "a",
        "tables": [{"name": "t", "columns": [{"name": "x", "type": "integer", "position": 1}]}],
        "all_tables": ["t", "u"],
    }
    moved = {
        "schema": "b",
        "tables": [{"name": "t", "columns": [{"name": "x", "type": "integer", "position": 7}]}],
        "all_tables": ["t"],
    }
    changed = {
        "schema": "a",
        "tables": [{"name": "t", "columns": [{"name": "x", "type": "bigint", "position": 1}]}],
    }
    assert Snapshot.from_json(data).hash == Snapshot.from_json(moved).hash
    assert Snapshot.from_json(data).hash != Snapshot.from_json(changed).hash
