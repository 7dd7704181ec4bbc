"""Valid blueprints used across the engine tests: the seed's, and ones using every extension."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

# Copies of ../shared/examples/, so the suite runs wherever the repository is cloned.
SHARED = Path(__file__).resolve().parents[1] / "fixtures"
SEED_ENVELOPE = SHARED / "seed" / "seed_patients_envelope.json"
SEED_NORMALIZED_TABLE = SHARED / "seed" / "seed_patients_normalized_table.json"

# Roles that the examples' policies name; the DDL tests create them inside their transaction.
EXAMPLE_ROLES = ("sb_example_app_user", "sb_example_auditor")


def seed_envelope() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_ENVELOPE.read_text())
    return data


def envelope(payload: dict[str, Any], tenant: str = "t_001") -> dict[str, Any]:
    return {"meta": {"tenant_id": tenant}, "payload": copy.deepcopy(payload)}


REGISTRY = {
    "schema_version": "002",
    "description": "Workflow registry: every extension of the contract",
    "force_apply": False,
    "tables": [
        {
            "name": "applications",
            "comment": "Apps that own workflows; it's the root of the registry",
            "columns": [
                {"name": "app_code", "type": "TEXT", "not_null": True, "unique": True},
                {"name": "displayName", "type": "VARCHAR(120)", "not_null": True},
                {"name": "email", "type": "VARCHAR(255)", "unique": True, "comment": "login"},
                {"name": "budget", "type": "NUMERIC(12,2)", "default": "0", "check": "budget >= 0"},
            ],
            "indexes": [
                {
                    "name": "idx_applications_live_email",
                    "columns": ["email"],
                    "unique": True,
                    "where": "deleted_at IS NULL",
                },
            ],
            "rls": "force",
        },
        {
            "name": "workflow_templates",
            "renamed_from": "templates",
            "columns": [
                {
                    "name": "app_code",
                    "type": "TEXT",
                    "not_null": True,
                    "references": "applications.app_code",
                },
                {"name": "workflow_code", "type": "TEXT", "not_null": True},
                {"name": "version", "type": "INTEGER", "not_null": True, "default": "1"},
                {
                    "name": "status",
                    "type": "TEXT",
                    "not_null": True,
                    "default": "'DRAFT'",
                    "check": "status IN ('DRAFT', 'ACTIVE', 'DEPRECATED')",
                },
                {"name": "tags", "type": "TEXT[]", "default": "'{}'"},
                {"name": "full_name", "type": "TEXT", "renamed_from": "name"},
                {"name": "starts_on", "type": "DATE"},
                {"name": "ends_on", "type": "DATE"},
                {"name": "settings", "type": "JSONB", "not_null": True, "default": "'{}'::jsonb"},
                {"name": "priority", "type": "SMALLINT", "default": "-1"},
                {
                    "name": "is_public",
                    "type": "BOOLEAN",
                    "not_null": True,
                    "default": "false OR false",
                },
            ],
            "indexes": [
                {"name": "idx_tpl_tags", "columns": ["tags"], "method": "gin"},
                {"name": "idx_tpl_code", "columns": ["app_code ASC", "version DESC NULLS LAST"]},
                {"name": "idx_tpl_starts", "columns": ["starts_on"], "method": "brin"},
                {"name": "idx_tpl_status", "columns": ["status"], "method": "hash"},
            ],
            "unique": [["app_code", "workflow_code", "version"]],
            "checks": [
                {"expression": "starts_on <= ends_on"},
                {"name": "tpl_version_positive", "expression": "version > 0"},
                {"expression": "priority BETWEEN -1 AND 10"},
            ],
            "policies": [
                {
                    "name": "app_isolation",
                    "command": "ALL",
                    "roles": ["sb_example_app_user"],
                    "using": "app_code = current_setting('app.app_code', true)",
                    "with_check": "app_code = current_setting('app.app_code', true)",
                },
                {
                    "name": "auditors_read",
                    "command": "select",
                    "roles": ["sb_example_auditor", "PUBLIC"],
                    "using": "EXISTS (SELECT 1 FROM applications a WHERE a.app_code = "
                    "workflow_templates.app_code)",
                },
                {
                    "name": "no_deprecated_writes",
                    "command": "INSERT",
                    "permissive": False,
                    "with_check": "status <> 'DEPRECATED'",
                },
            ],
        },
        {
            "name": "workflow_runs",
            "columns": [
                {"name": "app_code", "type": "TEXT", "not_null": True},
                {"name": "workflow_code", "type": "TEXT", "not_null": True},
                {"name": "version", "type": "INTEGER", "not_null": True},
                {
                    "name": "eventTimestamp",
                    "type": "TIMESTAMPTZ",
                    "not_null": True,
                    "default": "now()",
                },
                {
                    "name": "template_id",
                    "type": "UUID",
                    "references": {
                        "table": "workflow_templates",
                        "column": "id",
                        "on_delete": "set null",
                    },
                },
            ],
            "indexes": [
                {"name": "idx_hist_time", "columns": ["app_code", "event_timestamp DESC"]},
                {"name": "idx_runs_nulls", "columns": ["template_id NULLS FIRST"]},
            ],
            "foreign_keys": [
                {
                    "columns": ["app_code", "workflow_code", "version"],
                    "references": {
                        "table": "workflow_templates",
                        "columns": ["app_code", "workflow_code", "version"],
                    },
                    "on_delete": "cascade",
                },
            ],
            "rls": False,
        },
    ],
}

# Reserved words as names, a foreign key cycle, a self reference, a table outside the
# blueprint's dependency order, and names long enough to need truncation.
LONG = "a_table_name_that_is_long_enough_to_need_truncation_xxxxxxxxx"  # 61 bytes
TRICKY = {
    "schema_version": "003",
    "description": "Reserved words, cycles and long names",
    "tables": [
        {
            "name": "order",
            "columns": [
                {"name": "user", "type": "TEXT", "not_null": True},
                {"name": "select", "type": "INTEGER", "check": '"select" > 0'},
                {"name": "group", "type": "TEXT", "unique": True},
                {"name": "customerId", "type": "UUID", "references": "customer.id"},
            ],
            "indexes": [{"name": "idx_order_user", "columns": ["user"]}],
            "unique": [["user", "group"]],
        },
        {
            "name": "customer",
            "columns": [
                {
                    "name": "favourite_order_id",
                    "type": "UUID",
                    "references": {"table": "order", "column": "id", "on_delete": "set null"},
                },
                {"name": "referred_by", "type": "UUID", "references": "customer.id"},
                {"name": "Default", "type": "TEXT"},
            ],
        },
        {
            "name": LONG,
            "columns": [
                {
                    "name": "another_rather_long_column_name_for_constraints",
                    "type": "TEXT",
                    "unique": True,
                    "check": "another_rather_long_column_name_for_constraints <> ''",
                },
                {"name": "customer_id", "type": "UUID", "references": "customer.id"},
            ],
        },
    ],
}

# A custom fence on a text column, without the auto columns.
CUSTOM_FENCE = {
    "schema_version": "004",
    "description": "Custom fence, no auto columns",
    "fence": {"column": "orgId", "type": "text"},
    "auto_columns": False,
    "tables": [
        {
            "name": "notes",
            "columns": [
                {"name": "note_id", "type": "BIGSERIAL", "primary_key": True},
                {"name": "body", "type": "text", "not_null": True},
            ],
        },
        {
            "name": "lookup_codes",
            "rls": False,
            "columns": [{"name": "code", "type": "TEXT", "primary_key": True}],
        },
    ],
}

# Grants per role and the schema's default privileges (PUBLIC: a role every server has).
GRANTS: dict[str, Any] = {
    "schema_version": "1",
    "description": "a price list anyone may read",
    "default_privileges": [
        {"role": "PUBLIC", "on": "tables", "privileges": ["select"]},
        {"role": "public", "on": "sequences", "privileges": ["USAGE", "SELECT"]},
    ],
    "tables": [
        {
            "name": "price_list",
            "rls": False,
            "columns": [{"name": "title", "type": "TEXT"}],
            "grants": [{"role": "PUBLIC", "privileges": ["SELECT", "REFERENCES"]}],
        },
        {"name": "secrets", "columns": [{"name": "value", "type": "TEXT"}], "grants": []},
    ],
}

VALID_PAYLOADS: dict[str, dict[str, Any]] = {
    "seed_patients": seed_envelope()["payload"],
    "registry": REGISTRY,
    "tricky_names": TRICKY,
    "custom_fence": CUSTOM_FENCE,
    "grants": GRANTS,
}
