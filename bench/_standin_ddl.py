"""TEMPORARY STAND-IN for ``schemabuilder.engine.render_ddl``: delete this file once it exists.

It renders just what ``bench.schemas`` generates (auto columns, the fence policy, CHECKs,
foreign keys, indexes), so the shadow-database + migra half of the benchmark can be built and
tested before the engine has a renderer. It is never used when the engine's one is importable
(see ``bench.schemas.render_sql``), and its output is never what the benchmark reports on
once the engine is there.
"""

from __future__ import annotations

from typing import Any

FENCE_USING = "tenant_id::text = current_setting('app.current_tenant_id', true)"

_AUTO_COLUMNS = (
    '"id" UUID PRIMARY KEY DEFAULT gen_random_uuid()',
    '"tenant_id" UUID NOT NULL',
    '"created_at" TIMESTAMPTZ NOT NULL DEFAULT NOW()',
    '"updated_at" TIMESTAMPTZ NOT NULL DEFAULT NOW()',
    '"deleted_at" TIMESTAMPTZ',
)


def render(payload: dict[str, Any], schema: str) -> str:
    """The whole DDL of ``payload`` inside ``schema``, as one SQL script."""
    parts = [f'CREATE SCHEMA IF NOT EXISTS "{schema}";', f'SET search_path = "{schema}";']
    for table in payload["tables"]:
        parts += _table(table, schema)
    return "\n".join(parts) + "\n"


def _table(table: dict[str, Any], schema: str) -> list[str]:
    name = table["name"]
    lines = list(_AUTO_COLUMNS) + [_column(c, schema) for c in table["columns"]]
    for check in table.get("checks", []):
        named = f'CONSTRAINT "{check["name"]}" ' if "name" in check else ""
        lines.append(f"{named}CHECK ({check['expression']})")
    for cols in table.get("unique", []):
        lines.append("UNIQUE (" + ", ".join(f'"{c}"' for c in cols) + ")")
    body = ",\n  ".join(lines)
    out = [f'CREATE TABLE "{schema}"."{name}" (\n  {body}\n);']
    if "comment" in table:
        out.append(f'COMMENT ON TABLE "{schema}"."{name}" IS \'{table["comment"]}\';')
    auto_indexes = [
        {"name": f"idx_{name}_tenant_id", "columns": ["tenant_id"]},
        {"name": f"idx_{name}_created_at", "columns": ["created_at"]},
    ]
    out += [_index(ix, schema, name) for ix in auto_indexes + table.get("indexes", [])]
    out.append(f'ALTER TABLE "{schema}"."{name}" ENABLE ROW LEVEL SECURITY;')
    out.append(
        f'CREATE POLICY "{name}_tenant_isolation" ON "{schema}"."{name}" FOR ALL '
        f"USING ({FENCE_USING}) WITH CHECK ({FENCE_USING});"
    )
    return out


def _column(column: dict[str, Any], schema: str) -> str:
    sql = f'"{column["name"]}" {column["type"]}'
    if column.get("not_null"):
        sql += " NOT NULL"
    if "default" in column:
        sql += f" DEFAULT {column['default']}"
    if "check" in column:
        sql += f" CHECK ({column['check']})"
    if "references" in column:
        table, col = column["references"].split(".")
        sql += f' REFERENCES "{schema}"."{table}" ("{col}")'
    return sql


def _index(index: dict[str, Any], schema: str, table: str) -> str:
    cols = ", ".join(_index_column(c) for c in index["columns"])
    unique = "UNIQUE " if index.get("unique") else ""
    method = f" USING {index['method']}" if "method" in index else ""
    where = f" WHERE {index['where']}" if "where" in index else ""
    return (
        f'CREATE {unique}INDEX "{index["name"]}" ON "{schema}"."{table}"{method} ({cols}){where};'
    )


def _index_column(spec: str) -> str:
    name, _, order = spec.partition(" ")
    return f'"{name}"' + (f" {order}" if order else "")
