"""Verification after a change's statements, inside its transaction: is the schema now the
desired state? What is left over (the residue) rolls the change back.

Which tables are looked at, and how:

- **The tables the statements change** are compared with the desired state. When the caller
  gives ``base`` (the plan's own introspection of them, with their fingerprints checked
  under this transaction's locks, see ``apply``), only the members whose catalog rows this
  transaction wrote are printed again (``catalog.introspect_written``): on a 1,000-table
  change that is a few hundred rows instead of several thousand. Tables the change creates,
  and all of them without ``base`` or when the change renames anything (a rename changes how
  other members print the old name, without writing their rows), are introspected whole.
- **Any other table this transaction changed.** Every DDL statement locks the table it
  changes until the end of the transaction (``sql/locked.sql``), so the tables of the scope
  that this transaction holds such a lock on are all the others it, or an event trigger it
  fired, can have changed: those in the desired state are introspected whole and compared;
  a dropped one must be gone; any other must have the fingerprint it had before.
- The rest of the scope was neither written nor locked by this transaction: it is as the
  plan saw it, and the plan found it equal to the desired state.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import psycopg

from schemabuilder.engine.catalog.fingerprints import fingerprints
from schemabuilder.engine.catalog.introspect import catalog_query, introspect, introspect_written
from schemabuilder.engine.catalog.snapshot import Snapshot, Table, table_to_json
from schemabuilder.engine.diff.phases import Phase, Statement

# Statements after which other members print differently without being written.
RENAMES = frozenset({Phase.RENAME_TABLES, Phase.RENAME_COLUMNS, Phase.RENAME_CONSTRAINTS})


def locked_tables(conn: psycopg.Connection[Any], schema: str) -> set[str]:
    """The tables of ``schema`` this transaction holds a DDL-strength lock on (see
    sql/locked.sql)."""
    rows = conn.execute(catalog_query("locked"), {"schema": schema}).fetchall()
    return {str(r[0]) for r in rows}


def verify(
    conn: psycopg.Connection[Any],
    schema: str,
    *,
    desired: Snapshot,
    statements: Collection[Statement],
    dropped: Collection[str],
    scope: set[str],
    before: Mapping[str, str],
    base: Snapshot | None = None,
    settle: Callable[[Snapshot], Snapshot] | None = None,
) -> tuple[list[str], Snapshot]:
    """The residue after ``statements``, and the tables introspected to find it (see the
    module doc). ``before`` holds the scope's fingerprints taken before the statements;
    ``base``, when given, the plan's introspection of the tables the statements change.
    ``settle``: the desired state completed from the tables as read (an online first stage's
    NOT VALID constraints, as only the server prints them); ``desired`` is then what is
    expected before they are read."""
    desired_names = set(desired.table_map)
    changed = {st.table for st in statements if st.table}
    check = (changed | (desired_names - set(before))) & desired_names
    others = (locked_tables(conn, schema) & (scope | desired_names)) - check
    whole = others & desired_names
    if base is None or any(st.phase in RENAMES for st in statements):
        whole |= check
        check = set()
    else:
        # A table the plan creates has no member this transaction did not write.
        new = check - set(base.table_map)
        whole |= new
        check -= new
    tables: list[Table] = []
    if check:
        assert base is not None
        tables += introspect_written(conn, schema, check, base, desired).tables
    if whole:
        tables += introspect(conn, schema, tables=whole, list_all=False).tables
    actual = Snapshot(schema=schema, tables=tuple(tables))
    if settle is not None:
        desired = settle(actual)
    residue = residue_of(actual, desired.restricted(check | whole), dropped)
    outside = (others - desired_names) | (set(dropped) - desired_names)
    after = fingerprints(conn, schema, outside) if outside else {}
    for name in sorted(set(dropped) & set(after)):
        if name not in desired_names:
            residue.append(f"table {name} should have been dropped")
    for name in sorted(others - desired_names - set(dropped)):
        if name in after and after[name] != before.get(name):
            residue.append(f"table {name} changed, but the plan did not change it")
    return residue, actual


def residue_of(after: Snapshot, desired_snapshot: Snapshot, dropped: Collection[str]) -> list[str]:
    """What differs between the schema after the statements and the desired state, named
    down to the column, constraint, index or policy."""
    residue: list[str] = []
    desired = desired_snapshot.table_map
    actual = after.table_map
    for name in sorted(desired):
        if name not in actual:
            residue.append(f"table {name} is missing")
            continue
        if actual[name] == desired[name]:
            continue  # the common case, and far cheaper than the member-by-member walk below
        want = table_to_json(desired[name], comparable_only=True)
        got = table_to_json(actual[name], comparable_only=True)
        assert isinstance(want, dict) and isinstance(got, dict)
        for key in sorted(set(want) | set(got)):
            w, g = want.get(key), got.get(key)
            if w == g:
                continue
            if isinstance(w, list) and isinstance(g, list):
                residue.extend(_member_residue(name, key, w, g))
            else:
                residue.append(f"table {name}: {key} is {g!r}, expected {w!r}")
    for name in sorted(set(dropped) & set(after.table_map)):
        residue.append(f"table {name} should have been dropped")
    return residue


def _member_residue(table: str, kind: str, want: list[Any], got: list[Any]) -> list[str]:
    """Columns, constraints, indexes or policies compared by name."""
    noun = kind.rstrip("s") if kind != "indexes" else "index"
    w = {str(m.get("name")): m for m in want if isinstance(m, dict)}
    g = {str(m.get("name")): m for m in got if isinstance(m, dict)}
    out = [f"{noun} {table}.{n} is unexpected" for n in sorted(set(g) - set(w))]
    out += [f"{noun} {table}.{n} is missing" for n in sorted(set(w) - set(g))]
    for n in sorted(set(w) & set(g)):
        if w[n] != g[n]:
            fields = sorted(f for f in set(w[n]) | set(g[n]) if w[n].get(f) != g[n].get(f))
            detail = ", ".join(f"{f} {g[n].get(f)!r} (expected {w[n].get(f)!r})" for f in fields)
            out.append(f"{noun} {table}.{n} differs: {_clip(detail)}")
    return out


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
