"""Blueprint paths (``payload.tables[0].columns[3].type``) for problems found by the server.

The plan gets the normalized blueprint, in which normalization has put the auto columns,
the default indexes and the fence policy in front of what the author wrote. Those added
items are recognized by value (normalization adds exactly ``auto_columns(fence)`` and the
``idx_<table>_<column>`` indexes), so every declared item maps back to its index in the
payload; a problem in an added item points at what produced it (the fence, the table).
"""

from __future__ import annotations

from functools import cached_property

from schemabuilder.engine.contract.names import ConstraintNames, constraint_names
from schemabuilder.engine.contract.normalize import (
    NIndex,
    NIndexColumn,
    NormalizedBlueprint,
    NTable,
    auto_columns,
    fence_policies,
)


class BlueprintPaths:
    """Where each table, column, index, policy and constraint of a blueprint came from."""

    def __init__(self, bp: NormalizedBlueprint, prefix: str = "payload") -> None:
        self.bp = bp
        self.prefix = prefix
        self._index = {t.name: i for i, t in enumerate(bp.tables)}

    @cached_property
    def _auto(self) -> tuple[object, ...]:
        return auto_columns(self.bp.fence)

    def table(self, name: str) -> str:
        """``payload.tables[i]`` (or ``payload.tables`` for a table the blueprint lacks)."""
        i = self._index.get(name)
        return f"{self.prefix}.tables" if i is None else f"{self.prefix}.tables[{i}]"

    def _table(self, name: str) -> NTable | None:
        i = self._index.get(name)
        return None if i is None else self.bp.tables[i]

    def _added_columns(self, table: NTable) -> int:
        n = 0
        for column in table.columns:
            if column not in self._auto:
                break
            n += 1
        return n

    def column(self, table: str, column: str, key: str | None = None) -> str:
        """The path of a column (or of one of its keys); an auto column maps to the fence
        for the fence column, else to the table."""
        t = self._table(table)
        base = self.table(table)
        if t is None:
            return base
        names = [c.name for c in t.columns]
        if column not in names:
            return base
        position = names.index(column) - self._added_columns(t)
        if position < 0:
            if column == self.bp.fence.column:
                return f"{self.prefix}.fence.type" if key == "type" else f"{self.prefix}.fence"
            return base
        path = f"{base}.columns[{position}]"
        return f"{path}.{key}" if key else path

    def index(self, table: str, name: str, key: str | None = None) -> str:
        """The path of a declared index (a default index maps to its table)."""
        t = self._table(table)
        base = self.table(table)
        if t is None:
            return base
        names = [i.name for i in t.indexes]
        if name not in names:
            return base
        added = 0
        for index in t.indexes:
            column = index.columns[0].name if len(index.columns) == 1 else None
            default = (
                NIndex(name=f"idx_{t.name}_{column}", columns=(NIndexColumn(name=column),))
                if column
                else None
            )
            if index != default:
                break
            added += 1
        position = names.index(name) - added
        if position < 0:
            return base
        path = f"{base}.indexes[{position}]"
        return f"{path}.{key}" if key else path

    def policy(self, table: str, name: str, key: str | None = None) -> str:
        """The path of a declared policy; the default fence policy maps to ``fence.using``."""
        t = self._table(table)
        base = self.table(table)
        if t is None:
            return base
        restrictive, permissive = fence_policies(t.name, self.bp.fence)
        policies = list(t.policies)
        fence_path = f"{self.prefix}.fence.using"
        if policies and policies[0] == restrictive:
            if name == restrictive.name:
                return fence_path
            policies = policies[1:]  # added by normalization: declared ones come after it
        names = [p.name for p in policies]
        if name not in names:
            return base
        if policies == [permissive]:
            return fence_path
        path = f"{base}.policies[{names.index(name)}]"
        return f"{path}.{key}" if key else path

    def names(self, table: str) -> ConstraintNames | None:
        t = self._table(table)
        return None if t is None else constraint_names(t)

    def constraint(self, table: str, name: str) -> str:
        """The path of the blueprint item that produced constraint ``name``."""
        t = self._table(table)
        names = self.names(table)
        base = self.table(table)
        if t is None or names is None:
            return base
        if name == names.primary_key:
            pk = t.primary_key
            if t.key_order is not None:
                return f"{base}.primary_key"
            return self.column(table, pk[0], "primary_key") if len(pk) == 1 else base
        for kind, key in (
            (names.column_unique, "unique"),
            (names.column_check, "check"),
            (names.column_fkey, "references"),
        ):
            for column, cname in kind.items():
                if cname == name:
                    return self.column(table, column, key)
        for label, items in (
            ("unique", names.unique),
            ("checks", names.checks),
            ("foreign_keys", names.foreign_keys),
        ):
            if name in items:
                path = f"{base}.{label}[{items.index(name)}]"
                return f"{path}.expression" if label == "checks" else path
        return base

    def key_of(self, table: str, column: str | None, key: str | None) -> str:
        """``DiffContext.path_of``: a column key, else the table."""
        if column is None:
            return self.table(table)
        return self.column(table, column, key)
