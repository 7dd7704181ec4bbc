"""plan(): a blueprint and a live schema in, a reviewed-ready migration out.

1. Introspect the live schema, restricted to the plan's scope: the blueprint's tables, the
   tables this tool manages for the target, and the sources of renames. Every other table is
   reported as unmanaged and never touched.
2. Decide the renames (checked against the live schema).
3. Build the desired state: a table whose live form equals the cached canonical form of its
   current definition is up to date; the others are materialized in a scratch schema.
4. Diff, with hazards measured on the live data, in phase order.

Everything runs in one transaction that is rolled back: planning changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg

from schemabuilder.engine.batches import in_batches, script_lines
from schemabuilder.engine.catalog.live_forms import form_context, introspect_remembered
from schemabuilder.engine.catalog.snapshot import ConstraintKind, Snapshot, Table
from schemabuilder.engine.contract.errors import BlueprintInvalid, Issue
from schemabuilder.engine.contract.idents import quote_ident
from schemabuilder.engine.contract.live_calls import check_calls
from schemabuilder.engine.contract.normalize import NormalizedBlueprint, NTable
from schemabuilder.engine.contract.outside_refs import (
    check_outside_references,
    in_target_schema,
)
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.contract.types import types_digest
from schemabuilder.engine.desired.cache import (
    CanonicalCache,
    CanonicalKey,
    canonical_key,
    referenced_tables,
)
from schemabuilder.engine.desired.functions import desired_functions
from schemabuilder.engine.desired.groups import materialize_in_groups
from schemabuilder.engine.desired.materialize import materialize, tables_named_in_policies
from schemabuilder.engine.desired.members import (
    assemble,
    learn_reduced,
    reduced_table,
    split,
    table_members,
)
from schemabuilder.engine.desired.serials import serials_as_identity
from schemabuilder.engine.desired.source_texts import with_sources
from schemabuilder.engine.diff import diff
from schemabuilder.engine.diff.changes import Action, TableChange
from schemabuilder.engine.diff.functions import FunctionChange
from schemabuilder.engine.diff.online import online_statements
from schemabuilder.engine.diff.phases import (
    PHASE_REASONS,
    LockMode,
    Phase,
    Statement,
    in_phase_order,
)
from schemabuilder.engine.diff.renames import Renames, apply_renames, resolve_renames
from schemabuilder.engine.extensions import extension_statements, missing_extensions
from schemabuilder.engine.functions import merge_by_phase, plan_functions
from schemabuilder.engine.grants import (
    check_grant_roles,
    grant_statements,
    with_grant_changes,
)
from schemabuilder.engine.hazards import Hazard, HazardKind, Severity
from schemabuilder.engine.hazards.fence import keep_live_forms
from schemabuilder.engine.hazards.pg_facts import PgFacts
from schemabuilder.engine.hazards.tables import adopted_tables, mark_adoptions
from schemabuilder.engine.lock_budget import LockBudget, read_budget
from schemabuilder.engine.triggers import (
    check_trigger_functions,
    trigger_plan,
    with_lock_hazards,
)
from schemabuilder.engine.type_state import type_state

__all__ = ["CanonicalCache", "Plan", "plan"]

# Where an online plan's script leaves the transaction (a comment: the script stays runnable
# by hand up to it).
STAGE_TWO_LINE = "-- stage 2: after COMMIT, each statement on its own, outside a transaction\n"

APPLY_MODES = ("online", "atomic")


@dataclass(frozen=True)
class Plan:
    """A migration plan: ordered statements with hazards, the structured changes, and what it
    was made against (``base_snapshot_hash``) and aims at (``desired``)."""

    schema: str
    statements: tuple[Statement, ...]
    changes: tuple[TableChange, ...]
    base_snapshot_hash: str
    desired: Snapshot
    unmanaged_tables: tuple[str, ...]
    materialized_tables: tuple[str, ...]
    dropped_tables: tuple[str, ...]
    locked_relations: int
    server_version: int
    # The live tables the statements change, as introspected for this plan (what an apply
    # that finds them unchanged need not print again to verify them).
    base: Snapshot | None = None
    functions: tuple[FunctionChange, ...] = ()
    # "online": statements of ``stage`` 2 run after the transaction, one by one; "atomic": one
    # transaction (a plan with no stage 2 statement runs as one either way).
    apply_mode: str = "atomic"

    @property
    def hazards(self) -> tuple[Hazard, ...]:
        """Every hazard, in statement order."""
        return tuple(h for s in self.statements for h in s.hazards)

    @property
    def is_empty(self) -> bool:
        """True when the live schema already is the desired state."""
        return not any(s.phase is not Phase.SETUP for s in self.statements)

    @property
    def is_dangerous(self) -> bool:
        """True when any hazard is danger: applying needs force_apply and an approval."""
        return any(h.severity is Severity.DANGER for h in self.hazards)

    @property
    def will_fail(self) -> tuple[Hazard, ...]:
        """The hazards that say a statement fails on the live data: neither force_apply nor
        an approval can pass them; the data must be fixed first."""
        return tuple(h for h in self.hazards if h.kind is HazardKind.WILL_FAIL)

    @property
    def sql(self) -> str:
        """The whole migration as one script (deterministic). Stage 1 runs in one transaction;
        an online plan's stage 2 follows a marked line: each statement on its own, outside a
        transaction."""
        if self.is_empty:
            return ""
        out: list[str] = []
        stage = 1
        batch_lines = script_lines(self.statements)
        for i, st in enumerate(self.statements):
            if st.stage != stage:
                out.append(STAGE_TWO_LINE)
                stage = st.stage
            if i in batch_lines:
                out.append(batch_lines[i])
            out.append(f"{st.sql};\n")
        return "".join(out)

    @property
    def checksum(self) -> str:
        """sha256 of ``sql``."""
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (the desired snapshot included, for verification and history)."""
        return {
            "schema": self.schema,
            "is_empty": self.is_empty,
            "is_dangerous": self.is_dangerous,
            "will_fail": bool(self.will_fail),
            "checksum": self.checksum,
            "base_snapshot_hash": self.base_snapshot_hash,
            "desired_snapshot_hash": self.desired.hash,
            "server_version": self.server_version,
            "apply_mode": self.apply_mode,
            "locked_relations": self.locked_relations,
            "unmanaged_tables": list(self.unmanaged_tables),
            "materialized_tables": list(self.materialized_tables),
            "dropped_tables": list(self.dropped_tables),
            "phases": [
                {"phase": str(p), "reason": PHASE_REASONS[p]}
                for p in dict.fromkeys(s.phase for s in self.statements)
            ],
            "changes": [c.to_json() for c in self.changes],
            "functions": [f.to_json() for f in self.functions],
            "statements": [s.to_json() for s in self.statements],
            "hazards": [h.to_json() for h in self.hazards],
            "sql": self.sql,
            "desired": self.desired.to_json(),
            "base": self.base.to_json() if self.base is not None else None,
        }


def plan(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    *,
    schema: str,
    managed: Collection[str],
    cache: CanonicalCache | None = None,
    max_locked_relations: int | None = None,
    managed_types: Collection[str] = (),
    managed_functions: Collection[str] = (),
    apply_mode: str = "online",
    lock_budget: LockBudget | None = None,
) -> Plan:
    """Plan the migration that makes ``schema`` match ``bp``.

    ``managed`` names the tables this tool already manages for the target: with the
    blueprint's own tables they are the scope; a managed table missing from the blueprint is
    dropped. ``cache`` holds canonical forms between plans (unchanged tables are then not
    materialized). ``max_locked_relations`` overrides the server's lock table size as the
    limit for TOO_MANY_LOCKS. ``managed_types`` names the enum types an earlier version
    declared: one the blueprint no longer declares is dropped; ``managed_functions`` the same
    for functions (by name). ``apply_mode`` (the target's: "online" or "atomic"; the
    blueprint's ``apply_mode`` overrides it when it says one) decides whether slow steps on
    existing tables move to a second stage (``diff.online``). ``lock_budget`` (by default read
    from the server, ``lock_budget.read_budget``) bounds the locks of one transaction: the
    scratch materialization, and an online first stage, are split to fit it (``batches``).
    Raises ``BlueprintInvalid``
    when PostgreSQL rejects the blueprint or a rename does not fit the live schema. Changes
    nothing on the server.
    """
    bp = in_target_schema(bp, schema)
    paths = BlueprintPaths(bp)
    with conn.transaction(force_rollback=True):
        # Before anything reaches the server: every expression against the allowlists, and a
        # policy's call of a function of the target's against the target's catalog; a
        # foreign key to another schema's table against the catalog too.
        check_calls(bp, schema, paths, conn)
        check_outside_references(conn, bp, paths)
        check_grant_roles(conn, bp, paths)
        trigger_functions = check_trigger_functions(conn, bp, schema, paths)
        missing = missing_extensions(conn, bp, paths)
        extensions = extension_statements(missing, schema)
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [schema]
        ).fetchone()
        schema_exists = bool(row and row[0])
        budget = lock_budget or read_budget(conn)
        live, renames = _live_state(conn, bp, schema, managed, paths, cache)
        bp = keep_live_forms(serials_as_identity(bp, live, renames), live)
        paths = BlueprintPaths(bp)
        printed = desired_functions(conn, bp, schema, paths.prefix)  # before policies call them
        desired, materialized = _desired_state(
            conn, bp, schema, live, renames, cache, paths, budget
        )
        functions = plan_functions(conn, bp, schema, managed_functions, printed, desired)
        desired = with_sources(desired, bp)
        _check_references(bp, live, desired, paths)
        facts = PgFacts(conn, schema, renames, live.table_map)
        facts.prefetch(_touched(live, desired, renames))
        types = type_state(conn, bp, schema, paths.prefix, managed_types)
        result = diff(
            live,
            desired,
            schema=schema,
            facts=facts,
            renames=renames,
            fence_column=bp.fence.column,
            fence_using=bp.fence.using,
            path_of=paths.key_of,
            max_locked_relations=max_locked_relations,
            types=types,
            server_version=conn.info.server_version,
            installing=tuple(m.name for m in missing),
        )
        grants, grant_members = grant_statements(conn, bp, schema, live, desired, renames, facts)
        triggers, trigger_members = trigger_plan(
            conn, bp, schema, live, desired, renames, paths, trigger_functions
        )
        for name, extra in trigger_members.items():
            grant_members[name] = [*extra, *grant_members.get(name, [])]
        adopted = adopted_tables(bp, live, renames, managed)
        ordered = with_lock_hazards(in_phase_order([*result.statements, *triggers, *grants]), facts)
        statements = mark_adoptions(tuple(ordered), adopted, facts)
        statements = (*extensions, *merge_by_phase(statements, functions.statements))
        mode = bp.apply_mode or apply_mode
        if mode not in APPLY_MODES:
            raise ValueError(f"apply_mode must be one of {APPLY_MODES}, not {mode!r}")
        created = {c.table for c in result.changes if c.action is Action.CREATED}
        if mode == "online":
            statements = online_statements(
                statements,
                schema=schema,
                desired=desired,
                new_tables=created,
                stats_of=facts.table_stats,
            )
        statements = in_batches(
            statements, bp, new_tables=created, budget=budget, mode=mode, paths=paths
        )
    if result.issues or functions.issues:
        raise BlueprintInvalid([*result.issues, *functions.issues])
    if statements:
        first = 1 if any(st.batch for st in statements) else 0  # a plan in batches: the first
        setup = [
            Statement(
                sql=f"SET LOCAL search_path TO {quote_ident(schema)}",
                phase=Phase.SETUP,
                table="",
                reason=PHASE_REASONS[Phase.SETUP],
                lock=LockMode.NONE,
                batch=first,
            )
        ]
        if not schema_exists:
            setup.insert(
                0,
                Statement(
                    sql=f"CREATE SCHEMA {quote_ident(schema)}",
                    phase=Phase.SETUP,
                    table="",
                    reason=f"the target schema {schema} does not exist yet",
                    lock=LockMode.NONE,
                    batch=first,
                ),
            )
        statements = (*setup, *statements)
    scope = set(live.table_map)
    changed = {s.table for s in statements if s.table}
    return Plan(
        schema=schema,
        statements=statements,
        changes=with_grant_changes(result.changes, grant_members),
        base_snapshot_hash=live.hash,
        desired=desired,
        unmanaged_tables=tuple(sorted(set(live.all_tables) - scope)),
        materialized_tables=tuple(sorted(materialized)),
        dropped_tables=tuple(sorted(scope - set(renames.tables) - set(desired.table_map))),
        locked_relations=result.locked_relations,
        server_version=conn.info.server_version,
        base=Snapshot(schema=schema, tables=tuple(t for t in live.tables if t.name in changed)),
        functions=tuple(functions.changes),
        apply_mode=mode,
    )


def _live_state(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    managed: Collection[str],
    paths: BlueprintPaths,
    cache: CanonicalCache | None,
) -> tuple[Snapshot, Renames]:
    wanted = {t.name for t in bp.tables} | set(managed)
    wanted |= {t.renamed_from for t in bp.tables if t.renamed_from}
    live = introspect_remembered(conn, schema, wanted, cache)
    renames, issues = resolve_renames(
        live,
        [
            (
                t.name,
                t.renamed_from,
                [
                    (c.name, c.renamed_from, paths.column(t.name, c.name))
                    for c in t.columns
                    if c.renamed_from
                ],
            )
            for t in bp.tables
        ],
        [paths.table(t.name) for t in bp.tables],
    )
    if issues:
        raise BlueprintInvalid(issues)
    return live, renames


def _desired_state(
    conn: psycopg.Connection[Any],
    bp: NormalizedBlueprint,
    schema: str,
    live: Snapshot,
    renames: Renames,
    cache: CanonicalCache | None,
    paths: BlueprintPaths,
    budget: LockBudget,
) -> tuple[Snapshot, list[str]]:
    """The desired snapshot, materializing only tables the cache cannot vouch for."""
    renamed = apply_renames(live, renames)
    # A table renamed now (or one of its columns) does not exist under its new names in the
    # live schema yet, so references to it resolve only if it is materialized too.
    moving = set(renames.tables.values()) | {t for t, cols in renames.columns.items() if cols}
    version = conn.info.server_version
    context = form_context(conn, schema) + types_digest(bp.types) if cache is not None else ""
    keys = {table.name: canonical_key(table, bp.fence, version, context) for table in bp.tables}
    known = cache.get_many(set(keys.values())) if cache is not None else {}
    tables: dict[str, Table] = {}
    for table in bp.tables:
        cached = known.get(keys[table.name])
        if cached is not None and table.name not in moving and renamed.table(table.name) == cached:
            tables[table.name] = cached
    todo = [t for t in bp.tables if t.name not in tables]
    # Tables changed since the cache saw them: most can be assembled from the forms of their
    # members (a column added, a type widened), or need only the few members never seen
    # before printed, on a reduced copy of the table. Renamed ones are always materialized.
    members = {
        t.name: m
        for t in todo
        if t.name not in moving and (m := table_members(t, bp, version, context)) is not None
    }
    wanted = set().union(*(m.keys for m in members.values()))
    forms = dict(cache.get_many(wanted)) if cache is not None and wanted else {}
    learned: dict[CanonicalKey, Table] = {}
    full: list[str] = []
    reduced: dict[str, NTable] = {}
    for table in todo:
        m = members.get(table.name)
        missing = m.keys - forms.keys() if m is not None else set()
        if m is not None and not missing and (whole := assemble(m, forms)) is not None:
            tables[table.name] = whole
        elif m is not None and (small := reduced_table(table, m, missing)) is not None:
            reduced[table.name] = small
        else:
            full.append(table.name)
    _complete_targets(bp, {t.name for t in todo}, full, reduced)
    fresh = materialize_in_groups(conn, bp, schema, full, budget, paths=paths)
    tables.update(fresh.table_map)
    for made in fresh.tables:
        if made.name in members and (parts := split(members[made.name], made)) is not None:
            learned.update(parts)
    if reduced:
        small_bp = bp.model_copy(update={"tables": tuple(reduced.values())})
        printed = materialize_in_groups(conn, small_bp, schema, list(reduced), budget, paths=paths)
        for name in reduced:
            m = members[name]
            learned.update(learn_reduced(m, m.keys - forms.keys(), printed.table_map[name]))
        forms.update(learned)
        for name in reduced:
            whole = assemble(members[name], forms)
            if whole is None:  # a member the reduced table did not print: never expected
                whole = materialize(conn, bp, schema, [name], paths=paths).table_map[name]
            tables[name] = whole
    learned.update({keys[name]: tables[name] for name in (*full, *reduced)})
    learned.update({keys[t.name]: tables[t.name] for t in todo if t.name in tables})
    if cache is not None and learned:
        cache.put_many(learned)
    materialized = [*full, *reduced]
    return Snapshot(schema=schema, tables=tuple(tables.values())), materialized


def _complete_targets(
    bp: NormalizedBlueprint, changed: set[str], full: list[str], reduced: dict[str, NTable]
) -> None:
    """Move into ``full`` every changed table a fully materialized one references.

    A foreign key in the scratch schema resolves to the scratch copy of its target when the
    target is materialized in full, else to the live table, which lacks this plan's changes
    (a referenced column added now, say): so a changed target is materialized in full too.
    So does a table a policy's sub-query reads: a new one exists nowhere else.
    """
    by_name = {t.name: t for t in bp.tables}
    queue = list(full)
    placed = set(full)
    while queue:
        table = by_name.get(queue.pop())
        if table is None:
            continue
        for target in sorted({*referenced_tables(table), *tables_named_in_policies(table)}):
            if target in changed and target not in placed:
                placed.add(target)
                full.append(target)
                reduced.pop(target, None)
                queue.append(target)


def _touched(live: Snapshot, desired: Snapshot, renames: Renames) -> list[str]:
    """The live tables the diff will ask about (desired-state names): those it changes,
    renames or drops. Their sizes and dependents are measured in a few batched queries."""
    before = apply_renames(live, renames)
    moved = set(renames.tables.values())
    return [
        name
        for name, table in before.table_map.items()
        if name in moved or desired.table(name) != table
    ]


def _check_references(
    bp: NormalizedBlueprint, live: Snapshot, desired: Snapshot, paths: BlueprintPaths
) -> None:
    """A foreign key to a table this very plan drops would fail at apply time: say so now."""
    dropped = set(live.table_map) - set(desired.table_map)
    dropped -= {t.renamed_from for t in bp.tables if t.renamed_from}
    issues = [
        Issue(
            paths.constraint(table.name, con.name),
            f"references {con.ref_table}, which is managed here and missing from the "
            f"blueprint, so this plan drops it: add {con.ref_table} to the blueprint or "
            "remove the reference",
        )
        for table in desired.tables
        for con in table.constraints
        if con.kind is ConstraintKind.FOREIGN_KEY and con.ref_table in dropped
    ]
    if issues:
        raise BlueprintInvalid(issues)
