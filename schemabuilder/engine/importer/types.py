"""The schema's enum types as the blueprint's ``types``, used by a column or not."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from schemabuilder.engine.catalog.enums import LiveEnum
from schemabuilder.engine.contract.types import EnumType
from schemabuilder.engine.importer.left_out import LeftOut


def convert_types(live: Iterable[LiveEnum]) -> tuple[list[dict[str, Any]], list[LeftOut]]:
    """Each type as a ``types`` entry, or left out with validation's words (a name that is
    not snake_case, a value with a control character): its columns are imported all the
    same, naming a type that exists on the target."""
    types: list[dict[str, Any]] = []
    left: list[LeftOut] = []
    for enum in sorted(live, key=lambda e: e.name):
        entry: dict[str, Any] = {"name": enum.name, "enum": list(enum.values)}
        if enum.comment is not None:
            entry["comment"] = enum.comment
        try:
            EnumType.model_validate(entry)
        except ValidationError as exc:
            why = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            left.append(LeftOut("enum type", enum.name, None, why))
            continue
        types.append(entry)
    return types, left
