"""An existing schema as a blueprint: the payload, and every object it could not say.

``import_snapshot`` is pure: from an introspected ``Snapshot`` (and the list of what the
schema holds outside any table's managed members, ``read_outside``) it writes a payload with
``auto_columns`` off that, planned against the same schema with its tables managed, is an
empty plan. A table any of whose managed members cannot be said is left out whole (the plan
would drop the member it does not see); objects the plan never touches (triggers, views,
functions) are listed and do not stop their table. Enum types, grants and default
privileges are said where they can be (``types``, ``access``); triggers are said when every
trigger of the table can be (``importer.triggers``). The schema's SQL and PL/pgSQL functions
are imported (``importer.functions``), the others listed. Nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from schemabuilder.engine.catalog.enums import live_enums
from schemabuilder.engine.catalog.extensions import installed_in
from schemabuilder.engine.catalog.introspect import catalog_query, introspect
from schemabuilder.engine.catalog.snapshot import Snapshot
from schemabuilder.engine.contract.blueprint import DEFAULT_FENCE_COLUMN
from schemabuilder.engine.contract.envelope import validate_payload
from schemabuilder.engine.contract.errors import BlueprintInvalid
from schemabuilder.engine.contract.extensions import allowed_extensions
from schemabuilder.engine.contract.live_calls import check_calls
from schemabuilder.engine.contract.outside_refs import check_outside_references, in_target_schema
from schemabuilder.engine.contract.paths import BlueprintPaths
from schemabuilder.engine.contract.triggers import UPDATED_AT, UPDATED_AT_FUNCTION
from schemabuilder.engine.importer.access import Access, read_access
from schemabuilder.engine.importer.functions import import_functions
from schemabuilder.engine.importer.left_out import LeftOut
from schemabuilder.engine.importer.tables import convert_table
from schemabuilder.engine.importer.triggers import ImportedTriggers, import_triggers
from schemabuilder.engine.importer.types import convert_types

AUTO = "auto"  # detect the conventional tenant_id fence
_TABLE_PATH = re.compile(r"tables\[(\d+)\]")


@dataclass(frozen=True)
class ImportResult:
    """The payload, what it leaves out, and notes for people (how the fence was chosen)."""

    payload: dict[str, Any]
    left_out: tuple[LeftOut, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """True when the payload says everything the schema holds."""
        return not self.left_out


def _fence(
    tables: Sequence[dict[str, Any]], fence: str | None
) -> tuple[dict[str, Any] | None, str]:
    """The payload's fence and a sentence on how it was chosen."""
    if fence is None:
        return None, "fence: none (as asked)"

    def type_of(table: dict[str, Any], column: str) -> str | None:
        return next((c["type"] for c in table["columns"] if c["name"] == column), None)

    if fence != AUTO:
        types = {t for t in (type_of(table, fence) for table in tables) if t is not None}
        spec = {"column": fence, **({"type": types.pop()} if len(types) == 1 else {})}
        lacking = [
            t["name"] for t in tables if t.get("rls") is not False and type_of(t, fence) is None
        ]
        unfenced = f"; not on {', '.join(lacking)}, which are not fenced" if lacking else ""
        return spec, f"fence: {fence} (as asked{unfenced})"
    fenced = [t for t in tables if t.get("rls") is not False]
    found = {type_of(t, DEFAULT_FENCE_COLUMN) for t in fenced}
    if fenced and None not in found and len(found) == 1:
        type_ = str(found.pop())
        return (
            {"column": DEFAULT_FENCE_COLUMN, "type": type_},
            f"fence: {DEFAULT_FENCE_COLUMN} {type_} (every table with row level security, "
            f"{len(fenced)}, has it)",
        )
    if not fenced:
        return None, "fence: none (no table has row level security)"
    missing = [t["name"] for t in fenced if type_of(t, DEFAULT_FENCE_COLUMN) is None]
    why = (
        f"{len(missing)} of the {len(fenced)} tables with row level security have no "
        f"{DEFAULT_FENCE_COLUMN} ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})"
        if missing
        else f"{DEFAULT_FENCE_COLUMN} has more than one type"
    )
    return None, f"fence: none detected ({why}; --fence COLUMN names one)"


def _fence_using(tables: Sequence[dict[str, Any]], column: str) -> str | None:
    """The predicate the tables' fence policies share, when they share one: the restrictive
    ``<table>_tenant_fence`` policies, else the permissive ``<table>_tenant_isolation`` ones.
    The plan's fence analysis then knows the fence as the schema writes it."""
    for suffix, permissive in (("_tenant_fence", False), ("_tenant_isolation", True)):
        found = {
            p.get("using")
            for t in tables
            if any(c["name"] == column for c in t["columns"])
            for p in t.get("policies", ())
            if p["name"] == f"{t['name']}{suffix}" and p.get("permissive", True) is permissive
        }
        if len(found) == 1 and None not in found:
            return str(found.pop())
    return None


def _fence_mode(tables: Sequence[dict[str, Any]], column: str) -> str | None:
    """``restrictive`` when every fenced table has its restrictive ``<table>_tenant_fence``,
    ``permissive`` when none has: said, so that a table built again from the import gets
    the form it has (without ``fence.mode`` a new table gets the restrictive fence)."""
    fenced = [t for t in tables if t.get("rls") and any(c["name"] == column for c in t["columns"])]
    found = {
        any(
            p["name"] == f"{t['name']}_tenant_fence" and p.get("permissive", True) is False
            for p in t.get("policies", ())
        )
        for t in fenced
    }
    if len(found) != 1:
        return None
    return "restrictive" if found.pop() else "permissive"


def _invalid_tables(
    payload: dict[str, Any], check: Callable[[dict[str, Any]], object]
) -> dict[int, list[str]] | None:
    """The tables ``check`` refuses, with its messages; None when it accepts the payload."""
    try:
        check(payload)
    except BlueprintInvalid as exc:
        found: dict[int, list[str]] = {}
        for issue in exc.issues:
            match = _TABLE_PATH.search(issue.path)
            if match is None:
                raise
            # The index is the payload's of the moment: name the member within the table.
            path = issue.path[match.end() :].lstrip(".")
            found.setdefault(int(match[1]), []).append(
                f"{path}: {issue.message}" if path else issue.message
            )
        return found
    return None


def import_snapshot(
    snapshot: Snapshot,
    outside: Collection[LeftOut] = (),
    *,
    fence: str | None = AUTO,
    schema_version: str = "1",
    check: Callable[[dict[str, Any]], object] = validate_payload,
    types: Sequence[dict[str, Any]] = (),
    access: Access | None = None,
    triggers: ImportedTriggers | None = None,
    functions: Sequence[dict[str, Any]] = (),
    extensions: Collection[str] = (),
) -> ImportResult:
    """The blueprint of ``snapshot``'s tables; ``fence`` is a column, None, or ``AUTO``.
    ``types`` are the payload's enum types, ``access`` the grants of the tables and the
    schema's default privileges (with what they could not say).

    ``extensions`` are those installed in the schema: the ones the deployment allows are
    listed in the payload (installed, the plan leaves them be), the others are left out.

    ``check`` is what the payload must pass (validation; ``import_schema`` adds the plan's
    checks against the target): a table it refuses is left out with its words.
    ``triggers`` (``import_triggers``) are the tables' triggers in the blueprint's words.
    """
    allowed = set(allowed_extensions())
    listed = sorted(e for e in extensions if e in allowed)
    left = [
        LeftOut("extension", e, None, "not in the deployment's allowlist (SB_EXTENSIONS)")
        for e in sorted(extensions)
        if e not in allowed
    ]
    tables: list[dict[str, Any]] = []
    said = triggers.entries if triggers is not None else {}
    for table in snapshot.tables:
        converted = convert_table(table)
        if converted.table is None:
            left.append(LeftOut("table", table.name, table.name, "; ".join(converted.reasons)))
        else:
            if table.name in said:
                converted.table["triggers"] = said[table.name]
            tables.append(_with_grants(converted.table, access))
    head: dict[str, Any] = {
        "schema_version": schema_version,
        "description": f"Imported from schema {snapshot.schema}",
        **({"extensions": listed} if listed else {}),
    }
    # Whatever validation still refuses (an expression a blueprint may not call, a type in
    # another schema) leaves its table out, with validation's own words.
    left += _refuse_tables({**head, "auto_columns": False, "tables": tables}, check)
    # The fence is chosen among the tables that stay; it adds nothing to them (each table
    # with row level security declares its policies, auto_columns is off).
    spec, note = _fence(tables, fence)
    if spec is not None and (using := _fence_using(tables, spec["column"])) is not None:
        spec["using"] = using
        note += f"; its predicate, {using}, is the one every fence policy has"
    if spec is not None and (mode := _fence_mode(tables, spec["column"])) is not None:
        spec["mode"] = mode
        note += f"; its form, {mode}, is the one every fenced table has"
    if any(UPDATED_AT in t.get("triggers", ()) for t in tables):
        # The updated_at word brings its own function (the importer said the word only
        # for exactly that function): declaring it too would say it twice.
        functions = [f for f in functions if f.get("name") != UPDATED_AT_FUNCTION]
    payload = {
        **head,
        **({"fence": spec} if spec is not None else {}),
        "auto_columns": False,
        **({"types": list(types)} if types else {}),
        "tables": tables,
        **({"functions": list(functions)} if functions else {}),
    }
    if access is not None:
        if access.default_privileges is not None:
            payload["default_privileges"] = access.default_privileges
        left += access.left_out
    left.extend(outside)
    if triggers is not None:
        kept = {t["name"] for t in tables}
        if any(UPDATED_AT in t.get("triggers", ()) for t in tables):
            # The convenience's function is what the word says: nothing is left out.
            left = [o for o in left if (o.kind, o.name) != ("function", f"{UPDATED_AT_FUNCTION}()")]
        left += [LeftOut("trigger", name, table, why) for table, name, why in triggers.left_out]
        left += [
            LeftOut(
                "trigger", e if isinstance(e, str) else e["name"], table, "its table is left out"
            )
            for table, entries in said.items()
            if table not in kept
            for e in entries
        ]
    return ImportResult(
        payload=payload,
        left_out=tuple(sorted(left, key=lambda o: (o.kind, o.table or "", o.name))),
        notes=(note,),
    )


def _with_grants(table: dict[str, Any], access: Access | None) -> dict[str, Any]:
    """``table`` with the grants the import read for it (none: its grants are left alone)."""
    if access is None:
        return table
    name = table["name"]
    extra: dict[str, Any] = {}
    if name in access.grants:
        extra["grants"] = access.grants[name]
    if name in access.sequence_grants:
        extra["sequence_grants"] = access.sequence_grants[name]
    return {**table, **extra}


def _refuse_tables(
    payload: dict[str, Any], check: Callable[[dict[str, Any]], object]
) -> list[LeftOut]:
    """Take the tables ``check`` refuses out of ``payload`` until it accepts the rest."""
    left: list[LeftOut] = []
    tables = payload["tables"]
    while tables and (refused := _invalid_tables(payload, check)):
        for index in sorted(refused, reverse=True):
            gone = tables.pop(index)
            left.append(LeftOut("table", gone["name"], gone["name"], "; ".join(refused[index])))
    return left


def _plannable(conn: psycopg.Connection[Any], schema: str) -> Callable[[dict[str, Any]], None]:
    """The checks a plan makes on the target before anything else: a policy's calls of the
    target's own functions (none volatile), and foreign keys to other schemas' tables."""

    def check(payload: dict[str, Any]) -> None:
        if not payload["tables"]:
            return
        bp = in_target_schema(validate_payload(payload), schema)
        paths = BlueprintPaths(bp)
        with conn.transaction():
            check_calls(bp, schema, paths, conn)
            check_outside_references(conn, bp, paths)

    return check


def read_outside(
    conn: psycopg.Connection[Any], schema: str, tables: Collection[str] | None = None
) -> list[LeftOut]:
    """What ``schema`` holds besides its tables' managed members; with ``tables``, only what
    belongs to one of them (the schema's own functions, views and types are not asked for)."""
    rows = conn.execute(catalog_query("outside_blueprint"), {"schema": schema}).fetchall()
    return [
        LeftOut(kind, name, table, why)
        for kind, name, table, why in rows
        if tables is None or (table is not None and table in tables)
    ]


def import_schema(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    tables: Collection[str] | None = None,
    fence: str | None = AUTO,
) -> ImportResult:
    """Introspect ``schema`` (or some of its tables) and import it; reads only."""
    snapshot = introspect(conn, schema, tables=tables)
    types, unsaid_types = convert_types(live_enums(conn, schema).values())
    # Triggers are said by the blueprint now; those it cannot say are listed by the import.
    outside = [o for o in read_outside(conn, schema, tables) if o.kind != "trigger"]
    functions: list[dict[str, Any]] = []
    if tables is None:
        # The schema's functions come whole or not at all: a few tables need none of them.
        functions, refused = import_functions(conn, schema)
        outside = [o for o in outside if o.kind not in ("function", "procedure")]
        outside += [LeftOut(kind, name, None, why) for kind, name, why in refused]
    return import_snapshot(
        snapshot,
        [*outside, *unsaid_types],
        fence=fence,
        check=_plannable(conn, schema),
        types=types,
        access=read_access(conn, schema, tables),
        triggers=import_triggers(conn, schema, [t.name for t in snapshot.tables]),
        functions=functions,
        extensions=installed_in(conn, schema),
    )
