"""Deterministic constraint names, following PostgreSQL's own conventions.

PostgreSQL would pick these names itself (``<table>_pkey``, ``<table>_<cols>_key``,
``<table>_<col>_check``, ``<table>_<cols>_fkey``), but it truncates long ones silently and
numbers clashes in creation order. Naming them here, explicitly, makes the rendered DDL and
the later diff independent of the order statements happen to run in.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

from schemabuilder.engine.contract import fragments
from schemabuilder.engine.contract.idents import object_name
from schemabuilder.engine.contract.normalize import NTable


@dataclass(frozen=True)
class ConstraintNames:
    """The name of every constraint of one table; tuples run parallel to the table's."""

    primary_key: str | None
    column_unique: dict[str, str]
    column_check: dict[str, str]
    column_fkey: dict[str, str]
    unique: tuple[str, ...]
    checks: tuple[str, ...]
    foreign_keys: tuple[str, ...]

    def index_backed(self) -> list[str]:
        """Names that PostgreSQL also gives to an index, so share the schema's namespace."""
        pk = [self.primary_key] if self.primary_key else []
        return [*pk, *self.column_unique.values(), *self.unique]


def _choose(table: str, columns: str | None, label: str, taken: set[str]) -> str:
    # A clash is numbered the way PostgreSQL numbers it: the label gets 1, 2, ...
    for attempt in count():
        name = object_name(table, columns, f"{label}{attempt or ''}")
        if name not in taken:
            taken.add(name)
            return name
    raise AssertionError("unreachable")


def check_column_of(expression: str) -> str | None:
    """PostgreSQL names a check after its column when it reads exactly one, else after the
    table alone (``t_check``), whether it was written on a column or on the table."""
    refs = fragments.check_expression(expression, allow_subqueries=False).column_refs
    return next(iter(refs)) if len(refs) == 1 else None


def constraint_names(table: NTable) -> ConstraintNames:
    """Names for all of ``table``'s constraints, unique within the table."""
    t = table.name
    taken = {c.name for c in table.checks if c.name}
    pk = table.primary_key
    primary_key = _choose(t, None, "pkey", taken) if pk else None
    column_unique = {c.name: _choose(t, c.name, "key", taken) for c in table.columns if c.unique}
    unique = tuple(_choose(t, "_".join(cols), "key", taken) for cols in table.unique)
    column_check = {
        c.name: _choose(t, check_column_of(c.check), "check", taken)
        for c in table.columns
        if c.check
    }
    checks = []
    for check in table.checks:
        if check.name:
            checks.append(check.name)
            continue
        checks.append(_choose(t, check_column_of(check.expression), "check", taken))
    column_fkey = {c.name: _choose(t, c.name, "fkey", taken) for c in table.columns if c.references}
    foreign_keys = tuple(
        _choose(t, "_".join(fk.columns), "fkey", taken) for fk in table.foreign_keys
    )
    return ConstraintNames(
        primary_key=primary_key,
        column_unique=column_unique,
        column_check=column_check,
        column_fkey=column_fkey,
        unique=unique,
        checks=tuple(checks),
        foreign_keys=foreign_keys,
    )
