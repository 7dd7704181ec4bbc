"""A normalized blueprint written back as a payload: what a person would write to get exactly
it (the round-trip check of normalization, and the form the importer's tests compare)."""

from __future__ import annotations

from typing import Any

from schemabuilder.engine.contract.grants import grants_payload
from schemabuilder.engine.contract.normalize import NIndexColumn, NormalizedBlueprint
from schemabuilder.engine.contract.triggers import triggers_payload
from schemabuilder.engine.contract.types import NType


def _index_column_text(column: NIndexColumn) -> str:
    text = column.name
    if column.direction:
        text += f" {column.direction}"
    if column.nulls:
        text += f" NULLS {column.nulls}"
    return text


def as_payload(bp: NormalizedBlueprint) -> dict[str, Any]:
    """The normalized blueprint written back as a payload that normalizes to itself.

    Everything that normalization added is spelled out, so ``auto_columns`` is false and
    every table lists its policies.
    """
    tables = []
    for table in bp.tables:
        columns = []
        for column in table.columns:
            data = column.model_dump(exclude_defaults=True, exclude={"references"})
            if table.key_order is not None:
                data.pop("primary_key", None)  # said once, by the table
            if column.references is not None:
                data["references"] = {
                    (k if k != "ref_schema" else "schema"): v
                    for k, v in column.references.model_dump().items()
                }
            columns.append(data)
        tables.append(
            {
                "name": table.name,
                **({"comment": table.comment} if table.comment is not None else {}),
                **({"renamed_from": table.renamed_from} if table.renamed_from else {}),
                "columns": columns,
                **({"primary_key": list(table.key_order)} if table.key_order is not None else {}),
                "indexes": [
                    {
                        **index.model_dump(exclude_defaults=True, exclude={"columns"}),
                        "columns": [_index_column_text(c) for c in index.columns],
                    }
                    for index in table.indexes
                ],
                "unique": [list(cols) for cols in table.unique],
                "checks": [c.model_dump(exclude_none=True) for c in table.checks],
                "foreign_keys": [
                    {
                        "columns": list(fk.columns),
                        "references": {
                            **({"schema": fk.ref_schema} if fk.ref_schema else {}),
                            "table": fk.ref_table,
                            "columns": list(fk.ref_columns),
                        },
                        "on_delete": fk.on_delete,
                    }
                    for fk in table.foreign_keys
                ],
                "rls": table.rls,
                "policies": [
                    {**p.model_dump(exclude_none=True), "roles": list(p.roles)}
                    for p in table.policies
                ],
                **grants_payload(table.grants, table.sequence_grants),
                **triggers_payload(table.triggers),
            }
        )
    return {
        "schema_version": bp.schema_version,
        "description": bp.description,
        "force_apply": bp.force_apply,
        "fence": bp.fence.model_dump(exclude_none=True),
        "auto_columns": False,
        "tables": tables,
        **(
            {"default_privileges": [d.model_dump(mode="json") for d in bp.default_privileges]}
            if bp.default_privileges is not None
            else {}
        ),
        **({"types": [_type_payload(t) for t in bp.types]} if bp.types else {}),
        **({"extensions": list(bp.extensions)} if bp.extensions else {}),
        **({"apply_mode": bp.apply_mode} if bp.apply_mode is not None else {}),
    }


def _type_payload(t: NType) -> dict[str, Any]:
    out: dict[str, Any] = {"name": t.name, "enum": list(t.values)}
    if t.comment is not None:
        out["comment"] = t.comment
    if t.renamed_from is not None:
        out["renamed_from"] = t.renamed_from
    if t.renamed_values:
        out["renamed_values"] = dict(t.renamed_values)
    return out
