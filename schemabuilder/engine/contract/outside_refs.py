"""Foreign keys to tables in another schema (Supabase's ``auth.users``), checked against the
target's catalog before anything is materialized.

Such a table is never created, changed or dropped here: it must exist on the target with the
referenced columns under a primary key or unique constraint. Only the catalog is read
(``pg_class``, ``pg_attribute``, ``pg_constraint``), never the table's rows, and no lock is
taken. A reference that names the target's own schema means what it means without a schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.names import constraint_names
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NTable
from schemabuilder.engine.contract.paths import BlueprintPaths

_TABLE = """
SELECT ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
       (SELECT coalesce(json_agg(ARRAY(SELECT a.attname::text
                                       FROM pg_catalog.pg_attribute a
                                       WHERE a.attrelid = c.oid AND a.attnum = ANY(k.conkey))),
                        '[]'::json)
        FROM pg_catalog.pg_constraint k
        WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u')) AS keys
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')
"""


@dataclass(frozen=True)
class OutsideReference:
    path: str
    schema: str
    table: str
    columns: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.schema}.{self.table}({', '.join(self.columns)})"


def in_target_schema(bp: NormalizedBlueprint, schema: str) -> NormalizedBlueprint:
    """``bp`` with references that name ``schema`` itself written without it (as before)."""
    tables = []
    changed = False
    for table in bp.tables:
        columns = tuple(
            c.model_copy(
                update={"references": c.references.model_copy(update={"ref_schema": None})}
            )
            if c.references is not None and c.references.ref_schema == schema
            else c
            for c in table.columns
        )
        fks = tuple(
            fk.model_copy(update={"ref_schema": None}) if fk.ref_schema == schema else fk
            for fk in table.foreign_keys
        )
        if columns == table.columns and fks == table.foreign_keys:
            tables.append(table)
        else:
            changed = True
            tables.append(table.model_copy(update={"columns": columns, "foreign_keys": fks}))
    return bp.model_copy(update={"tables": tuple(tables)}) if changed else bp


def outside_references(
    bp: NormalizedBlueprint, paths: BlueprintPaths
) -> Iterator[OutsideReference]:
    """Every foreign key of ``bp`` to a table in another schema, with its blueprint path."""
    for table in bp.tables:
        yield from _of_table(table, paths)


def _of_table(table: NTable, paths: BlueprintPaths) -> Iterator[OutsideReference]:
    names = constraint_names(table)
    for column in table.columns:
        ref = column.references
        if ref is not None and ref.ref_schema is not None:
            yield OutsideReference(
                paths.constraint(table.name, names.column_fkey[column.name]),
                ref.ref_schema,
                ref.table,
                (ref.column,),
            )
    for name, fk in zip(names.foreign_keys, table.foreign_keys, strict=True):
        if fk.ref_schema is not None:
            yield OutsideReference(
                paths.constraint(table.name, name) + ".references",
                fk.ref_schema,
                fk.ref_table,
                fk.ref_columns,
            )


def check_outside_references(
    conn: psycopg.Connection[Any], bp: NormalizedBlueprint, paths: BlueprintPaths
) -> None:
    """Raise ``BlueprintInvalid`` for each reference to another schema's table that the
    target lacks, or whose columns it lacks or does not hold unique."""
    issues: list[Issue] = []
    seen: dict[tuple[str, str], tuple[list[str], list[list[str]]] | None] = {}
    for ref in outside_references(bp, paths):
        key = (ref.schema, ref.table)
        if key not in seen:
            row = conn.execute(_TABLE, key).fetchone()
            seen[key] = (list(row[0]), list(row[1])) if row else None
        found = seen[key]
        if found is None:
            issues.append(
                Issue(
                    ref.path,
                    f"{ref.text} does not exist on the target: create it first or remove the "
                    "reference",
                )
            )
            continue
        columns, keys = found
        missing = [c for c in ref.columns if c not in columns]
        if missing:
            issues.append(
                Issue(
                    ref.path,
                    f"{ref.schema}.{ref.table} has no column {', '.join(missing)} on the "
                    "target: reference one of its columns or remove the reference",
                )
            )
        elif frozenset(ref.columns) not in {frozenset(k) for k in keys}:
            issues.append(
                Issue(
                    ref.path,
                    f"{ref.text} is neither the primary key nor unique on the target, and a "
                    "foreign key must reference one of those: reference its primary key or "
                    "remove the reference",
                )
            )
    if issues:
        raise BlueprintInvalid(issues)
