"""A change split in batches by a small lock budget, shared with the child process that the
crash tests kill (``batch_child.py``).

The live schema has one table, ``accounts``. The blueprint gives it an index and a foreign
key to a new table (``regions``, which must then be made in the first batch), and adds
``GROUPS`` sets of linked new tables: a parent, a child with a foreign key to it and one to
``accounts``, and a third table whose policy reads the parent. With ``BUDGET`` locks per
transaction, the first stage takes several transactions.
"""

from __future__ import annotations

from typing import Any

import psycopg

from schemabuilder.engine import validate_payload
from schemabuilder.engine.apply import ApplyRequest, Reviewed, fingerprints, scope_of
from schemabuilder.engine.contract.normalize import NormalizedBlueprint
from schemabuilder.engine.plan import Plan, plan

SCHEMA = "crm"
MANAGED = frozenset({"accounts"})
PROPOSAL = "00000000-0000-0000-0000-0000000000b7"
GROUPS = 6
BUDGET = 60  # locks: a group costs about 20, so two or three groups per batch

LIVE = """
CREATE SCHEMA crm;
CREATE TABLE crm.accounts (id bigint PRIMARY KEY, name text, region_id bigint);
INSERT INTO crm.accounts SELECT g, 'a' || g, NULL FROM generate_series(1, 100) g;
"""


def _id() -> dict[str, Any]:
    return {"name": "id", "type": "BIGINT", "primary_key": True}


def _group(k: int) -> list[dict[str, Any]]:
    parent, child, reader = f"g{k}_parent", f"g{k}_child", f"g{k}_reader"
    return [
        {
            "name": parent,
            "rls": False,
            "columns": [_id(), {"name": "title", "type": "TEXT", "not_null": True}],
            "indexes": [{"name": f"idx_{parent}_title", "columns": ["title"]}],
        },
        {
            "name": child,
            "rls": False,
            "columns": [
                _id(),
                {"name": "parent_id", "type": "BIGINT", "references": f"{parent}.id"},
                {"name": "account_id", "type": "BIGINT", "references": "accounts.id"},
            ],
            "indexes": [{"name": f"idx_{child}_parent", "columns": ["parent_id"]}],
        },
        {
            "name": reader,
            "columns": [_id(), {"name": "owner", "type": "TEXT"}],
            "policies": [
                {
                    "name": f"{reader}_sees_parents",
                    "command": "select",
                    "using": f"EXISTS (SELECT 1 FROM {parent} p WHERE p.title = owner)",
                }
            ],
        },
    ]


def payload(groups: int = GROUPS, *, apply_mode: str | None = None) -> dict[str, Any]:
    tables: list[dict[str, Any]] = [
        {
            "name": "accounts",
            "rls": False,
            "columns": [
                _id(),
                {"name": "name", "type": "TEXT"},
                {"name": "region_id", "type": "BIGINT", "references": "regions.id"},
            ],
            "indexes": [{"name": "idx_accounts_name", "columns": ["name"]}],
        },
        {"name": "regions", "rls": False, "columns": [_id(), {"name": "label", "type": "TEXT"}]},
    ]
    for k in range(groups):
        tables += _group(k)
    data: dict[str, Any] = {
        "schema_version": "003",
        "description": "in batches",
        "auto_columns": False,
        "tables": tables,
    }
    if apply_mode is not None:
        data["apply_mode"] = apply_mode
    return data


def blueprint(groups: int = GROUPS, *, apply_mode: str | None = None) -> NormalizedBlueprint:
    return validate_payload(payload(groups, apply_mode=apply_mode))


def reviewed_plan(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, budget: int | None = BUDGET
) -> tuple[Plan, Reviewed]:
    from schemabuilder.engine.lock_budget import forced_budget

    prints = fingerprints(conn, SCHEMA, scope_of(bp, MANAGED))
    p = plan(
        conn,
        bp,
        schema=SCHEMA,
        managed=MANAGED,
        lock_budget=forced_budget(budget) if budget is not None else None,
    )
    return p, Reviewed.of(p, prints)


def request_for(p: Plan, budget: int | None = BUDGET) -> ApplyRequest:
    return ApplyRequest.reviewing(
        p,
        proposal_id=PROPOSAL,
        tenant_id="t_batches",
        schema=SCHEMA,
        managed=MANAGED,
        schema_hash="batches",
        version="003",
        description="in batches",
        applied_by="alice",
        lock_key=1818,
        lock_timeout_ms=10_000,
        statement_timeout_ms=60_000,
        lock_budget=budget,
    )


def marker(conn: psycopg.Connection[Any]) -> tuple[str, list[str]]:
    """The marker's status and its batches' statuses."""
    row = conn.execute(
        "SELECT status, phase1_batches FROM schemabuilder.schema_migrations WHERE proposal_id = %s",
        [PROPOSAL],
    ).fetchone()
    assert row is not None
    return str(row[0]), [str(b["status"]) for b in row[1]]
