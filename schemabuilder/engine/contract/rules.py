"""Rules that need more than one field: duplicates after normalization, and references.

They run on the normalized tables (so auto columns count as columns) and report against
the input paths, through each table's ``Origin``.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from schemabuilder.engine.contract import allowlist, fragments
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import policy_name
from schemabuilder.engine.contract.names import constraint_names
from schemabuilder.engine.contract.normalize import NColumn, NTable, Origin
from schemabuilder.engine.contract.serials import is_serial
from schemabuilder.engine.contract.triggers import check_triggers


@dataclass
class _Context:
    tables: dict[str, NTable]
    issues: list[Issue] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.issues.append(Issue(path, message))


def _did_you_mean(name: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _column_missing(table: NTable, column: str) -> str:
    names = list(dict.fromkeys(c.name for c in table.columns))
    shown = ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")
    return (
        f"'{column}' is not a column of table '{table.name}'{_did_you_mean(column, names)}: "
        f"use one of {shown}"
    )


def _unique_keys(table: NTable) -> list[frozenset[str]]:
    """Column sets that a foreign key may reference: PRIMARY KEY, UNIQUE, unique indexes."""
    keys = [frozenset(table.primary_key)] if table.primary_key else []
    keys += [frozenset([c.name]) for c in table.columns if c.unique]
    keys += [frozenset(cols) for cols in table.unique]
    keys += [
        frozenset(c.name for c in index.columns)
        for index in table.indexes
        if index.unique and index.where is None
    ]
    return keys


def _check_target(
    ctx: _Context, path: str, ref_table: str, ref_columns: Sequence[str], cols_path: str
) -> None:
    """A foreign key's target: checked when the blueprint defines it, else left to the plan."""
    target = ctx.tables.get(ref_table)
    if target is None:
        return  # outside the blueprint (or itself broken): the plan checks the live table
    missing = False
    for i, column in enumerate(ref_columns):
        if target.column(column) is None:
            where = f"{cols_path}[{i}]" if cols_path.endswith("columns") else cols_path
            ctx.add(where, _column_missing(target, column))
            missing = True
    if missing:
        return
    if frozenset(ref_columns) not in _unique_keys(target):
        shown = ", ".join(ref_columns)
        ctx.add(
            path,
            f"'{ref_table}({shown})' is neither the primary key nor unique, and a foreign key "
            f'must reference one of those: mark it unique ("unique": true on the column, or '
            f"a \"unique\" set on table '{ref_table}') or reference its primary key",
        )


def _columns(table: NTable, origin: Origin, path: str, ctx: _Context) -> None:
    seen: dict[str, int] = {}
    renamed: dict[str, int] = {}
    for column, source in zip(table.columns, origin.columns, strict=True):
        if source is None:
            continue
        raw = origin.table.columns[source]
        here = f"{path}.columns[{source}]"
        if column.name in seen:
            first = seen[column.name]
            first_raw = origin.table.columns[first].name
            ctx.add(
                f"{here}.name",
                f"columns[{first}] is already called '{raw.name}': rename or remove one of them"
                if first_raw == raw.name
                else f"'{raw.name}' is the same name as columns[{first}] ('{first_raw}') once "
                f"names are normalized to '{column.name}': rename or remove one of them",
            )
        else:
            seen[column.name] = source
        if column.identity is not None and column.default is not None:
            ctx.add(
                f"{here}.identity",
                "a column is either an identity or has a default, not both: remove the "
                "default or the identity",
            )
        if column.generated is not None:
            _generated(column, f"{here}.generated", ctx)
        if column.renamed_from:
            if column.renamed_from == column.name:
                ctx.add(f"{here}.renamed_from", "is the column's own name: remove renamed_from")
            elif column.renamed_from in renamed:
                ctx.add(
                    f"{here}.renamed_from",
                    f"columns[{renamed[column.renamed_from]}] is already renamed from "
                    f"'{column.renamed_from}': a column can be renamed only once",
                )
            else:
                renamed[column.renamed_from] = source
        if column.references:
            ref = column.references
            if ref.ref_schema is None:  # another schema's table: the plan checks it live
                _check_target(
                    ctx, f"{here}.references", ref.table, [ref.column], f"{here}.references"
                )
        if column.default and "nextval" in column.default:
            _own_sequence(table.name, column.name, column.default, f"{here}.default", ctx)
    for old, source in renamed.items():
        if old in seen or table.column(old) is not None:
            ctx.add(
                f"{path}.columns[{source}].renamed_from",
                f"'{old}' is also a column of this blueprint's table; a column cannot be "
                "renamed to a new name and kept under the old one: remove renamed_from",
            )
    if len(table.columns) > 1600:
        ctx.add(
            f"{path}.columns",
            f"the table would have {len(table.columns)} columns with its auto columns; "
            "PostgreSQL allows 1600: split the table",
        )


def _generated(column: NColumn, path: str, ctx: _Context) -> None:
    """A generated column's value is its expression's: no default, identity or serial."""
    other = (
        "a default"
        if column.default is not None
        else "an identity"
        if column.identity is not None
        else "a serial type"
        if is_serial(column.type)
        else None
    )
    if other is not None:
        ctx.add(
            path,
            f"a generated column computes its value from the row, so it cannot also have "
            f"{other}: remove one of them",
        )


def _own_sequence(table: str, column: str, default: str, path: str, ctx: _Context) -> None:
    """A default may take values only from its column's own sequence (SERIAL's name for it):
    nextval of any other sequence moves a counter someone else relies on."""
    own = f"{table}_{column}_seq"
    checked = fragments.check_expression(default, allow_subqueries=False)
    for named in allowlist.sequences_named(checked):
        if named.strip('"') != own:
            ctx.add(
                path,
                f"calls nextval('{named[:63]}'), a sequence other than this column's own: "
                f"a default may only take values from '{own}': write nextval('{own}') or "
                f"use a SERIAL type{allowlist.SEE}",
            )


def _indexes(table: NTable, origin: Origin, path: str, ctx: _Context) -> None:
    seen: dict[str, int] = {}
    for index, source in zip(table.indexes, origin.indexes, strict=True):
        if source is None:
            continue
        here = f"{path}.indexes[{source}]"
        if index.name in seen:
            ctx.add(
                f"{here}.name",
                f"indexes[{seen[index.name]}] already has the name '{index.name}': rename one",
            )
        seen.setdefault(index.name, source)
        method = index.method or "btree"
        for i, column in enumerate(index.columns):
            if table.column(column.name) is None:
                ctx.add(f"{here}.columns[{i}]", _column_missing(table, column.name))
            if method != "btree" and (column.direction or column.nulls):
                ctx.add(
                    f"{here}.columns[{i}]",
                    f"a {method} index has no order: remove ASC/DESC and NULLS FIRST/LAST, "
                    "or drop the method to get a btree index",
                )
        if index.unique and method != "btree":
            ctx.add(
                f"{here}.unique",
                f"a {method} index cannot be unique: drop the method (btree) or unique",
            )


def _table_key(table: NTable, origin: Origin, path: str, ctx: _Context) -> None:
    """A table-level primary key names columns of the table, each once, and is the only
    way the table says its key."""
    key = origin.table.primary_key
    if key is None:
        return
    if any(c.primary_key for c in origin.table.columns):
        ctx.add(
            f"{path}.primary_key",
            "the key is said twice, here and by a column's primary_key: true: keep the "
            "table's primary_key (it sets the order) or the columns', not both",
        )
    order = table.key_order or ()
    for k, name in enumerate(order):
        if table.column(name) is None:
            ctx.add(f"{path}.primary_key[{k}]", _column_missing(table, name))
        elif name in order[:k]:
            ctx.add(f"{path}.primary_key[{k}]", "names a column twice: list each column once")


def _table_constraints(table: NTable, origin: Origin, path: str, ctx: _Context) -> None:
    _table_key(table, origin, path, ctx)
    sets: dict[frozenset[str], int] = {}
    for k, cols in enumerate(table.unique):
        for m, column in enumerate(cols):
            if table.column(column) is None:
                ctx.add(f"{path}.unique[{k}][{m}]", _column_missing(table, column))
        if len(set(cols)) != len(cols):
            ctx.add(f"{path}.unique[{k}]", "names a column twice: list each column once")
        key = frozenset(cols)
        if key in sets:
            ctx.add(f"{path}.unique[{k}]", f"repeats unique[{sets[key]}]: remove one")
        sets.setdefault(key, k)
    check_names: dict[str, int] = {}
    for k, check in enumerate(table.checks):
        if check.name is None:
            continue
        if check.name in check_names:
            ctx.add(
                f"{path}.checks[{k}].name",
                f"checks[{check_names[check.name]}] already has the name '{check.name}': "
                "rename one",
            )
        check_names.setdefault(check.name, k)
    for k, fk in enumerate(table.foreign_keys):
        here = f"{path}.foreign_keys[{k}]"
        for m, column in enumerate(fk.columns):
            if table.column(column) is None:
                ctx.add(f"{here}.columns[{m}]", _column_missing(table, column))
        if len(fk.columns) != len(fk.ref_columns):
            ctx.add(
                f"{here}.references.columns",
                f"lists {len(fk.ref_columns)} column(s) for {len(fk.columns)} local "
                "column(s): a foreign key pairs them one to one",
            )
            continue
        if fk.ref_schema is None:
            _check_target(
                ctx,
                f"{here}.references",
                fk.ref_table,
                fk.ref_columns,
                f"{here}.references.columns",
            )


def _policies(table: NTable, origin: Origin, path: str, ctx: _Context) -> None:
    raw = origin.table.policies
    if raw and table.rls is False:
        ctx.add(
            f"{path}.policies",
            'policies need row level security: set "rls" to true (or "force") or remove them',
        )
        return
    seen: dict[str, int] = {}
    for k, policy in enumerate(raw):
        here = f"{path}.policies[{k}]"
        name = policy_name(policy.name)
        if name in seen:
            ctx.add(
                f"{here}.name",
                f"policies[{seen[name]}] already has the name '{name}' (plain names are "
                "normalized to snake_case): rename one",
            )
        seen.setdefault(name, k)
        command = policy.command
        if command == "INSERT" and policy.using:
            ctx.add(
                f"{here}.using",
                "an INSERT policy has no USING expression (there is no existing row): "
                "move it to with_check",
            )
        if command in ("SELECT", "DELETE") and policy.with_check:
            ctx.add(
                f"{here}.with_check",
                f"a {command} policy has no WITH CHECK expression (no new row is written): "
                "move it to using",
            )
        if not policy.using and not policy.with_check:
            ctx.add(here, "a policy needs a using or a with_check expression (or both): add one")
        elif command in ("SELECT", "DELETE") and not policy.using:
            ctx.add(f"{here}.using", f"a {command} policy needs a using expression: add one")
        elif command == "INSERT" and not policy.with_check:
            ctx.add(f"{here}.with_check", "an INSERT policy needs a with_check expression")


def _namespace(tables: Sequence[tuple[str, NTable, Origin]], ctx: _Context) -> None:
    """Tables, indexes and index-backed constraints share one namespace in a schema."""
    owner: dict[str, str] = {}
    for _path, table, _ in tables:
        owner.setdefault(table.name, f"table '{table.name}'")
    for path, table, origin in tables:
        names = constraint_names(table)
        relations: list[tuple[str, str, str]] = []
        for index, source in zip(table.indexes, origin.indexes, strict=True):
            where = f"{path}.indexes[{source}].name" if source is not None else f"{path}.name"
            relations.append((index.name, where, f"index '{index.name}'"))
        for name in names.index_backed():
            relations.append((name, f"{path}.name", f"the index of constraint '{name}'"))
        for name, where, what in relations:
            if name in owner:
                ctx.add(
                    where,
                    f"'{name}' is already the name of {owner[name]}; tables, indexes and "
                    "unique constraints share one namespace in a schema: rename one",
                )
            else:
                owner[name] = f"{what} on table '{table.name}'"


def check_tables(tables: Sequence[tuple[str, NTable, Origin]]) -> list[Issue]:
    """Every cross-field problem among ``tables`` (input path, normalized table, origin).

    When some tables of a payload are malformed, the caller passes the well-formed ones:
    a reference to a malformed table is then treated like one outside the blueprint and
    left alone, rather than reported as a missing column.
    """
    defined: dict[str, NTable] = {}
    ctx = _Context(defined)
    first_at: dict[str, tuple[str, str]] = {}
    renamed_from: dict[str, str] = {}
    for path, table, origin in tables:
        if table.name in first_at:
            first_name, where = first_at[table.name]
            ctx.add(
                f"{path}.name",
                f"{where} is already called '{first_name}': rename or remove one of them"
                if first_name == origin.table.name
                else f"'{origin.table.name}' is the same table name as {where} "
                f"('{first_name}') once names are normalized to '{table.name}': rename or "
                "remove one of them",
            )
            continue
        first_at[table.name] = (origin.table.name, path.rsplit(".", 1)[-1])
        defined[table.name] = table
    for path, table, _ in tables:
        old = table.renamed_from
        if not old:
            continue
        if old == table.name:
            ctx.add(f"{path}.renamed_from", "is the table's own name: remove renamed_from")
        elif old in first_at:
            ctx.add(
                f"{path}.renamed_from",
                f"'{old}' is also a table of this blueprint; a table cannot be renamed and "
                "kept under its old name: remove renamed_from or the other table",
            )
        elif old in renamed_from:
            ctx.add(
                f"{path}.renamed_from",
                f"{renamed_from[old]} is already renamed from '{old}': rename it only once",
            )
        else:
            renamed_from[old] = path.rsplit(".", 1)[-1]
    for path, table, origin in tables:
        if defined.get(table.name) is not table:
            continue
        _columns(table, origin, path, ctx)
        _indexes(table, origin, path, ctx)
        _table_constraints(table, origin, path, ctx)
        _policies(table, origin, path, ctx)
        if table.triggers is not None:
            columns = {c.name: c.type for c in table.columns}
            ctx.issues.extend(check_triggers(table.triggers, columns, path))
    _namespace([t for t in tables if defined.get(t[1].name) is t[1]], ctx)
    return ctx.issues
