"""What an online change's first stage must leave: the desired state without what the second
stage does yet. Verification compares the schema with it before the first stage commits.

Per second-stage step, on its table: an index built concurrently is not there yet, nor a
constraint added from an index (``USING INDEX``) or after the key it references; a
constraint to validate is there NOT VALID (as PostgreSQL prints it, read from the schema
after stage 1: it must exist and say NOT VALID); a NOT NULL helper check is there NOT VALID
and its column still nullable; an index to drop concurrently is still there.

The members only the schema can print are read from verification's own reading of the
tables (``verify``'s ``settle``), not from an introspection of their own: the first stage
holds its locks (ACCESS EXCLUSIVE for a CHECK added NOT VALID) until it commits, and a second
reading of the same tables was half of the verification's time under them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from schemabuilder.engine.catalog.snapshot import Snapshot, Table
from schemabuilder.engine.diff.phases import Statement
from schemabuilder.engine.diff.steps import Step, StepKind, step_of

Settle = Callable[[Snapshot], Snapshot]


def stage_one_desired(
    desired: Snapshot,
    statements: Iterable[Statement],
    base: Snapshot | None,
) -> tuple[Snapshot, Settle | None]:
    """``desired`` as the first stage leaves it, in two steps: what verification expects
    before it reads the schema (the indexes still to drop as the plan saw them in ``base``,
    when there is one), and how that is completed once it has read it (``settle``, given what
    verification read: the NOT VALID constraints, the indexes still to drop). (``desired``,
    None) for a change without a second stage."""
    steps: dict[str, list[Step]] = {}
    for st in statements:
        if st.stage == 2:
            steps.setdefault(st.table, []).append(step_of(st.sql))
    if not steps:
        return desired, None

    def leaves(seen: Snapshot | None) -> Snapshot:
        tables = [
            _stage_one(t, steps[t.name], seen.table(t.name) if seen is not None else None)
            if t.name in steps
            else t
            for t in desired.tables
        ]
        return Snapshot(schema=desired.schema, tables=tuple(tables))

    return leaves(base), leaves


def _stage_one(table: Table, steps: list[Step], now: Table | None) -> Table:
    indexes = dict(table.index_map)
    constraints = dict(table.constraint_map)
    columns = dict(table.column_map)
    seen = now or Table(name=table.name)
    for step in steps:  # first what is not there yet...
        if step.kind is StepKind.BUILD_INDEX:
            indexes.pop(step.name, None)
        elif step.kind is StepKind.ADD_CONSTRAINT:
            constraints.pop(step.name, None)
    for step in steps:  # ...then what still is: an index redefined is dropped, then built
        if step.kind is StepKind.DROP_INDEX and step.name in seen.index_map:
            indexes[step.name] = seen.index_map[step.name]
        elif step.kind is StepKind.VALIDATE:
            got = seen.constraint_map.get(step.name)
            if got is not None and got.definition.endswith(" NOT VALID"):
                constraints[step.name] = got
        elif step.kind is StepKind.SET_NOT_NULL and step.name in columns:
            columns[step.name] = dataclasses.replace(columns[step.name], not_null=False)
    return dataclasses.replace(
        table,
        indexes=tuple(indexes.values()),
        constraints=tuple(constraints.values()),
        columns=tuple(columns.values()),
    )
