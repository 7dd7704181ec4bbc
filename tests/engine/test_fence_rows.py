"""The fence with real rows: a role without superuser or BYPASSRLS, two tenants' rows, and the
three policies that used to switch a permissive fence off. Applied through ``apply_plan`` as
the worker runs a reviewed plan, then read back as that role with the tenant setting on."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import ApplyRequest, Reviewed, apply_plan, fingerprints, scope_of
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.hazards import HazardKind, Severity
from schemabuilder.engine.plan import Plan, plan
from tests.engine.conftest import database_url

SCHEMA = "public"
TENANT_A = "11111111-1111-1111-1111-111111111111"
TENANT_B = "22222222-2222-2222-2222-222222222222"
FENCE = "tenant_id::text = current_setting('app.current_tenant_id', true)"
WIDENING = [
    "tenant_id IS NOT NULL",
    "tenant_id = tenant_id",
    "tenant_id::text <> current_setting('app.current_tenant_id', true)",
]


@pytest.fixture
def db(any_target_url: str) -> Iterator[tuple[psycopg.Connection[Any], str]]:
    """A fresh database and a plain role (no superuser, no BYPASSRLS) that may read it."""
    suffix = os.getpid()
    name, role = f"sbfence_{suffix}", f"sb_fence_reader_{suffix}"
    admin = database_url(any_target_url, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f'CREATE ROLE "{role}" NOSUPERUSER NOBYPASSRLS NOLOGIN')
    try:
        with psycopg.connect(database_url(any_target_url, name), autocommit=True) as conn:
            yield conn, role
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def _blueprint(
    mode: str | None, policies: list[dict[str, str]] | None = None
) -> NormalizedBlueprint:
    table: dict[str, Any] = {"name": "items", "columns": [{"name": "note", "type": "TEXT"}]}
    if policies:
        table["policies"] = policies
    return validate_payload(
        {
            "schema_version": "002" if policies else "001",
            "description": "fence",
            **({"fence": {"mode": mode}} if mode else {}),
            "tables": [table],
        }
    )


def _apply(conn: psycopg.Connection[Any], bp: NormalizedBlueprint, managed: set[str]) -> Plan:
    """Plan, then apply that reviewed plan the way the worker does."""
    prints = fingerprints(conn, SCHEMA, scope_of(bp, managed))
    p = plan(conn, bp, schema=SCHEMA, managed=managed)
    request = ApplyRequest.reviewing(
        p,
        proposal_id=str(uuid.uuid4()),
        tenant_id="t_fence",
        schema=SCHEMA,
        managed=frozenset(managed),
        schema_hash="fence",
        version=bp.schema_version,
        description="fence",
        applied_by="fence",
        lock_key=11,
        lock_timeout_ms=10_000,
        statement_timeout_ms=60_000,
    )
    apply_plan(conn, bp, request, reviewed=Reviewed.of(p, prints))
    return p


def _visible(conn: psycopg.Connection[Any], role: str, tenant: str) -> int:
    """How many rows ``role`` reads with the application's tenant setting on ``tenant``."""
    with conn.transaction(force_rollback=True):
        conn.execute(f'SET LOCAL ROLE "{role}"')
        conn.execute("SELECT set_config('app.current_tenant_id', %s, true)", [tenant])
        row = conn.execute("SELECT count(*) FROM items").fetchone()
    assert row is not None
    return int(row[0])


def _fenced_table(conn: psycopg.Connection[Any], role: str, mode: str | None) -> None:
    first = _apply(conn, _blueprint(mode), set())
    assert not first.is_dangerous
    conn.execute(
        "INSERT INTO items (tenant_id, note) SELECT %s, 'a' FROM generate_series(1, 2)",
        [TENANT_A],
    )
    conn.execute(
        "INSERT INTO items (tenant_id, note) SELECT %s, 'b' FROM generate_series(1, 4)",
        [TENANT_B],
    )
    conn.execute(f'GRANT SELECT ON items TO "{role}"')
    assert _visible(conn, role, TENANT_A) == 2
    assert _visible(conn, role, TENANT_B) == 4


def _widened(mode: str | None, widening: str) -> NormalizedBlueprint:
    return _blueprint(
        mode,
        [
            {
                "name": "items_tenant_isolation",
                "command": "ALL",
                "using": FENCE,
                "with_check": FENCE,
            },
            {"name": "peek", "command": "SELECT", "using": widening},
        ],
    )


def test_the_role_is_an_ordinary_one(db: tuple[psycopg.Connection[Any], str]) -> None:
    conn, role = db
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role]
    ).fetchone()
    assert row == (False, False)


@pytest.mark.parametrize("widening", WIDENING)
def test_a_widening_policy_beside_the_permissive_fence_is_dangerous_and_reads_every_row(
    db: tuple[psycopg.Connection[Any], str], widening: str
) -> None:
    conn, role = db
    _fenced_table(conn, role, "permissive")
    bp = _widened("permissive", widening)
    reviewed = plan(conn, bp, schema=SCHEMA, managed={"items"})
    weakened = [h for h in reviewed.hazards if h.kind is HazardKind.TENANT_FENCE_WEAKENED]
    assert [h.severity for h in weakened] == [Severity.DANGER]
    assert "SELECT" in weakened[0].message
    # Dangerous: the product blocks it unless force_apply and a second person's approval.
    assert reviewed.is_dangerous
    _apply(conn, bp, {"items"})  # what a forced, approved apply would do
    assert _visible(conn, role, TENANT_A) == 6


@pytest.mark.parametrize("widening", WIDENING)
def test_the_restrictive_fence_holds_whatever_permissive_policy_is_added(
    db: tuple[psycopg.Connection[Any], str], widening: str
) -> None:
    conn, role = db
    _fenced_table(conn, role, None)  # the default: restrictive
    bp = _widened(None, widening)
    reviewed = plan(conn, bp, schema=SCHEMA, managed={"items"})
    kinds = {h.kind for h in reviewed.hazards}
    assert HazardKind.TENANT_FENCE_WEAKENED not in kinds
    assert HazardKind.CHANGES_ACCESS in kinds
    _apply(conn, bp, {"items"})
    assert _visible(conn, role, TENANT_A) == 2
    assert _visible(conn, role, TENANT_B) == 4


def test_dropping_the_restrictive_fence_beside_a_widening_policy_is_dangerous(
    db: tuple[psycopg.Connection[Any], str],
) -> None:
    conn, role = db
    _fenced_table(conn, role, None)
    reviewed = plan(conn, _widened("permissive", WIDENING[0]), schema=SCHEMA, managed={"items"})
    weakened = [h for h in reviewed.hazards if h.kind is HazardKind.TENANT_FENCE_WEAKENED]
    assert weakened and all(h.severity is Severity.DANGER for h in weakened)


def test_adopting_a_table_the_tool_did_not_create_is_dangerous(
    db: tuple[psycopg.Connection[Any], str],
) -> None:
    conn, _ = db
    conn.execute(
        "CREATE TABLE items (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), "
        "tenant_id uuid NOT NULL, note text)"
    )
    conn.execute("INSERT INTO items (tenant_id, note) VALUES (%s, 'x')", [TENANT_A])
    bp = validate_payload(
        {
            "schema_version": "001",
            "description": "adopt",
            "auto_columns": False,
            "tables": [
                {
                    "name": "items",
                    "columns": [
                        {
                            "name": "id",
                            "type": "UUID",
                            "primary_key": True,
                            "default": "gen_random_uuid()",
                        },
                        {"name": "tenant_id", "type": "UUID", "not_null": True},
                        {"name": "note", "type": "TEXT"},
                        {"name": "extra", "type": "TEXT"},
                    ],
                    "rls": "force",
                    "policies": [{"name": "closed", "command": "ALL", "using": "false"}],
                }
            ],
        }
    )
    adopting = plan(conn, bp, schema=SCHEMA, managed=set())
    adopts = [h for h in adopting.hazards if h.kind is HazardKind.ADOPTS_TABLE]
    assert [(h.table, h.severity) for h in adopts] == [("items", Severity.DANGER)]
    assert adopting.is_dangerous
    # Once managed (recorded by the apply that adopted it), later changes are not adoptions.
    managed = plan(conn, bp, schema=SCHEMA, managed={"items"})
    assert HazardKind.ADOPTS_TABLE not in {h.kind for h in managed.hazards}
    # A table the tool creates is never an adoption.
    other = plan(conn, _blueprint(None), schema="fresh", managed=set())
    assert HazardKind.ADOPTS_TABLE not in {h.kind for h in other.hazards}
