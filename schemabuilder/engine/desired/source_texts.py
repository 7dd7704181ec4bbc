"""What the plan writes for a blueprint's expressions: the blueprint's own text.

PostgreSQL prints an expression in a form that does not always parse back to the same tree:
``status IN ('Active')`` on a VARCHAR column prints as ``(status)::text = ANY
(ARRAY['Active'::character varying]::text[])``, which PostgreSQL re-parses with the casts
moved onto the elements. A plan that wrote the printed form would drop and add the same
check on every run and never converge. So the statements write the text the blueprint gave,
exactly as ``ddl`` rendered it for the scratch schema: applying it yields the printed form the
desired snapshot holds, by construction. The printed forms stay what is compared, verified
and shown to people; the source is carried beside them (``compare=False``).
"""

from __future__ import annotations

import dataclasses

from schemabuilder.engine.catalog.snapshot import (
    Constraint,
    ConstraintKind,
    Index,
    Policy,
    Snapshot,
    Table,
)
from schemabuilder.engine.contract.names import constraint_names
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NPolicy, NTable
from schemabuilder.engine.desired.ddl import index_tail


def with_sources(desired: Snapshot, bp: NormalizedBlueprint) -> Snapshot:
    """``desired`` with the blueprint's text attached to its checks, indexes and policies."""
    blueprint_tables = {t.name: t for t in bp.tables}
    tables = tuple(
        _table_with_sources(table, blueprint_tables[table.name])
        if table.name in blueprint_tables
        else table
        for table in desired.tables
    )
    return dataclasses.replace(desired, tables=tables)


def _table_with_sources(table: Table, source: NTable) -> Table:
    checks = _check_sources(source)
    # Key columns print back as given; only a predicate can print in a form that re-parses
    # differently, so only partial indexes carry their source.
    indexes = {i.name: index_tail(i) for i in source.indexes if i.where}
    policies = {p.name: p for p in source.policies}
    return dataclasses.replace(
        table,
        constraints=tuple(_constraint(c, checks) for c in table.constraints),
        indexes=tuple(_index(i, indexes) for i in table.indexes),
        policies=tuple(_policy(p, policies) for p in table.policies),
    )


def _check_sources(table: NTable) -> dict[str, str]:
    names = constraint_names(table)
    sources = {names.column_check[c.name]: f"CHECK ({c.check})" for c in table.columns if c.check}
    for name, check in zip(names.checks, table.checks, strict=True):
        sources[name] = f"CHECK ({check.expression})"
    return sources


def _constraint(con: Constraint, checks: dict[str, str]) -> Constraint:
    if con.kind is not ConstraintKind.CHECK or con.name not in checks:
        return con
    return dataclasses.replace(con, source=checks[con.name])


def _index(index: Index, tails: dict[str, str]) -> Index:
    tail = tails.get(index.name)
    return index if tail is None else dataclasses.replace(index, source=tail)


def _policy(policy: Policy, sources: dict[str, NPolicy]) -> Policy:
    source = sources.get(policy.name)
    if source is None:
        return policy
    return dataclasses.replace(
        policy,
        using_source=source.using,
        with_check_source=source.with_check,
    )
