"""The rendered DDL runs on real PostgreSQL servers (the embedded 18 and the 15 server)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import render_ddl, validate_payload
from schemabuilder.engine.desired.ddl import render_script
from tests.engine.blueprint_examples import EXAMPLE_ROLES, LONG, VALID_PAYLOADS

SCHEMA = "sb_ddl_test"


@pytest.fixture
def conn(any_target_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection inside a transaction that is always rolled back."""
    with psycopg.connect(any_target_url) as connection:
        for role in EXAMPLE_ROLES:
            exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if exists.fetchone() is None:
                connection.execute(f"CREATE ROLE {role}")
        connection.execute(f"CREATE SCHEMA {SCHEMA}")
        connection.execute(f"SET LOCAL search_path TO {SCHEMA}")
        try:
            yield connection
        finally:
            connection.rollback()


def _apply(conn: psycopg.Connection[Any], statements: list[str]) -> None:
    for statement in statements:
        conn.execute(statement)  # type: ignore[arg-type]


def _scalar(conn: psycopg.Connection[Any], sql: str, *params: object) -> Any:
    row = conn.execute(sql, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return row[0]


@pytest.mark.parametrize("example", sorted(VALID_PAYLOADS))
def test_each_valid_example_creates_its_schema_on_postgres(
    conn: psycopg.Connection[Any], example: str
) -> None:
    bp = validate_payload(VALID_PAYLOADS[example])
    _apply(conn, render_ddl(bp, SCHEMA))

    tables = _scalar(conn, "SELECT count(*) FROM pg_tables WHERE schemaname = %s", SCHEMA)
    assert tables == len(bp.tables)
    for table in bp.tables:
        columns = _scalar(
            conn,
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            SCHEMA,
            table.name,
        )
        assert columns == len(table.columns)
        policies = _scalar(
            conn,
            "SELECT count(*) FROM pg_policies WHERE schemaname = %s AND tablename = %s",
            SCHEMA,
            table.name,
        )
        assert policies == len(table.policies)
        rls, force = conn.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE oid = format('%%I.%%I', %s::text, %s::text)::regclass",
            [SCHEMA, table.name],
        ).fetchone() or (None, None)
        assert rls is (table.rls is not False)
        assert force is (table.rls == "force")
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
                [SCHEMA, table.name],
            )
        }
        assert {i.name for i in table.indexes} <= indexes


def test_the_seed_table_gets_the_restrictive_fence_and_a_permissive_policy(
    conn: psycopg.Connection[Any],
) -> None:
    bp = validate_payload(VALID_PAYLOADS["seed_patients"])
    _apply(conn, render_ddl(bp, SCHEMA))

    rows = conn.execute(
        "SELECT policyname, permissive, cmd, roles::text, qual, with_check FROM pg_policies "
        "WHERE schemaname = %s ORDER BY policyname",
        [SCHEMA],
    ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("patients_tenant_fence", "RESTRICTIVE", "ALL", "{public}"),
        ("patients_tenant_isolation", "PERMISSIVE", "ALL", "{public}"),
    ]
    for *_, qual, with_check in rows:
        assert "current_setting('app.current_tenant_id'" in qual
        assert qual == with_check


def test_it_names_constraints_like_postgres_and_fits_long_ones_in_63_bytes(
    conn: psycopg.Connection[Any],
) -> None:
    bp = validate_payload(VALID_PAYLOADS["registry"])
    _apply(conn, render_ddl(bp, SCHEMA))
    names = {
        row[0]
        for row in conn.execute(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = %s AND c.contype <> 'n'",
            [SCHEMA],
        )
    }
    assert {
        "applications_pkey",
        "applications_app_code_key",
        "applications_budget_check",
        "workflow_templates_app_code_workflow_code_version_key",
        "workflow_templates_status_check",
        "workflow_templates_check",
        "workflow_templates_priority_check",
        "tpl_version_positive",
        "workflow_templates_app_code_fkey",
        "workflow_runs_app_code_workflow_code_version_fkey",
    } <= names

    tricky = render_ddl(validate_payload(VALID_PAYLOADS["tricky_names"]), "s")
    long_pkey = next(s for s in tricky if "PRIMARY KEY" in s and LONG in s)
    constraint = long_pkey.split("CONSTRAINT ")[1].split(" ")[0]
    assert len(constraint.encode()) <= 63
    assert constraint != f"{LONG}_pkey"[:63]  # a hash suffix, not PostgreSQL's blind cut


def test_it_breaks_a_foreign_key_cycle_with_alter_table_after_both_tables(
    conn: psycopg.Connection[Any],
) -> None:
    statements = render_ddl(validate_payload(VALID_PAYLOADS["tricky_names"]), SCHEMA)
    creates = [s for s in statements if s.startswith("CREATE TABLE")]
    alters = [s for s in statements if s.startswith("ALTER TABLE") and "FOREIGN KEY" in s]
    assert len(alters) == 1
    assert statements.index(alters[0]) > statements.index(creates[-1])
    assert "REFERENCES sb_ddl_test.customer (id)" in alters[0]
    _apply(conn, statements)
    fks = _scalar(
        conn,
        "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
        "WHERE n.nspname = %s AND c.contype = 'f'",
        SCHEMA,
    )
    assert fks == 4


def test_it_renders_a_subset_with_references_to_an_external_schema(
    conn: psycopg.Connection[Any],
) -> None:
    bp = validate_payload(VALID_PAYLOADS["registry"])
    conn.execute("CREATE SCHEMA sb_ddl_live")
    # The registry's policies read other tables by unqualified name, like any fragment.
    conn.execute("SET LOCAL search_path TO sb_ddl_live")
    _apply(conn, render_ddl(bp, "sb_ddl_live", tables=["applications", "workflow_templates"]))

    subset = render_ddl(bp, SCHEMA, tables=["workflow_runs"], external_schema="sb_ddl_live")
    assert sum(s.startswith("CREATE TABLE") for s in subset) == 1
    assert all("sb_ddl_live.workflow_templates" in s for s in subset if "FOREIGN KEY" in s)
    _apply(conn, subset)


def test_it_refuses_a_subset_naming_a_table_the_blueprint_lacks() -> None:
    bp = validate_payload(VALID_PAYLOADS["seed_patients"])
    with pytest.raises(ValueError, match="clinics"):
        render_ddl(bp, SCHEMA, tables=["clinics"])


def test_it_never_writes_create_policy_if_not_exists_nor_create_extension() -> None:
    for payload in VALID_PAYLOADS.values():
        script = render_script(render_ddl(validate_payload(payload), "public"))
        assert "IF NOT EXISTS" not in script
        assert "EXTENSION" not in script
        assert "BEGIN" not in script and "COMMIT" not in script


def test_it_quotes_reserved_words_and_schema_names_that_need_it() -> None:
    statements = render_ddl(validate_payload(VALID_PAYLOADS["tricky_names"]), "Tenant Schema")
    assert statements[0].startswith('CREATE TABLE "Tenant Schema"."order" (')
    assert '"user" TEXT NOT NULL' in statements[0]
    assert 'CONSTRAINT order_user_group_key UNIQUE ("user", "group")' in statements[0]
