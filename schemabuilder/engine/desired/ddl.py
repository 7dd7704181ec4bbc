"""DDL rendering: the SQL that creates a normalized blueprint's desired state from nothing.

The statements are meant for an empty schema (the plan materializes them in a scratch
schema and lets PostgreSQL canonicalize the result), so there is no IF NOT EXISTS anywhere:
a clash must fail loudly rather than be skipped. Phases, in order, and why:

1. CREATE TABLE, in foreign key dependency order, each with its columns, defaults,
   NOT NULL, primary key, unique, check and the foreign keys whose target already exists;
2. ALTER TABLE ... ADD CONSTRAINT for the foreign keys of a cycle, once both ends exist;
3. CREATE INDEX, after the tables so that nothing waits on index builds in between;
4. COMMENT ON, which only needs the objects;
5. ENABLE (and FORCE) ROW LEVEL SECURITY and CREATE POLICY, last, because a policy's
   expression may read any other table of the blueprint.

Fragments (types, defaults, checks, predicates, policy expressions) are pasted as validated
by ``fragments``; unqualified names in them resolve through the session's search_path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from schemabuilder.engine.contract import fragments
from schemabuilder.engine.contract.idents import qualified, quote_ident, quote_literal
from schemabuilder.engine.contract.names import ConstraintNames, constraint_names
from schemabuilder.engine.contract.normalize import (
    NColumn,
    NForeignKey,
    NIndex,
    NormalizedBlueprint,
    NPolicy,
    NTable,
    reference_target,
)

_ROLE_KEYWORDS = {"public", "current_user", "session_user", "current_role"}


def _cols(names: Iterable[str]) -> str:
    return ", ".join(quote_ident(n) for n in names)


def _on_delete(action: str) -> str:
    return "" if action == "no action" else f" ON DELETE {action.upper()}"


def _default(expression: str) -> str:
    checked = fragments.check_expression(expression, allow_subqueries=False)
    # DEFAULT takes a restricted expression grammar: anything but a constant, a cast or
    # a function call goes in parentheses, which PostgreSQL accepts and strips.
    return expression if checked.simple else f"({expression})"


def _column_sql(column: NColumn) -> str:
    parts = [quote_ident(column.name), column.type]
    if column.identity is not None:
        parts.append(f"GENERATED {column.identity} AS IDENTITY")
    if column.generated is not None:
        parts.append(f"GENERATED ALWAYS AS ({column.generated}) STORED")
    if column.default is not None:
        parts.append(f"DEFAULT {_default(column.default)}")
    if column.not_null:
        parts.append("NOT NULL")
    return " ".join(parts)


def _creation_order(tables: list[NTable]) -> tuple[list[NTable], set[tuple[str, int]]]:
    """Tables so that each comes after the tables its foreign keys reference, when possible.

    Blueprint order is kept wherever the dependencies allow it. When none of the remaining
    tables is ready, they form a cycle: the first one is created anyway, and its foreign
    keys to tables not yet created are deferred. Returns the order and the deferred keys as
    (table, index into ``foreign_keys``, or -1 - column position for column references).
    """
    names = {t.name for t in tables}

    def targets(table: NTable) -> list[tuple[int, str]]:
        refs = [(i, fk.target) for i, fk in enumerate(table.foreign_keys)]
        refs += [
            (-1 - i, c.references.target)
            for i, c in enumerate(table.columns)
            if c.references is not None
        ]
        return [(key, ref) for key, ref in refs if ref in names and ref != table.name]

    placed: list[NTable] = []
    done: set[str] = set()
    deferred: set[tuple[str, int]] = set()
    remaining = list(tables)
    while remaining:
        ready = next(
            (t for t in remaining if all(ref in done for _, ref in targets(t))), remaining[0]
        )
        for key, ref in targets(ready):
            if ref not in done:
                deferred.add((ready.name, key))
        placed.append(ready)
        done.add(ready.name)
        remaining.remove(ready)
    return placed, deferred


def _fk_sql(
    name: str, columns: Iterable[str], target: str, ref_cols: Iterable[str], action: str
) -> str:
    return (
        f"CONSTRAINT {quote_ident(name)} FOREIGN KEY ({_cols(columns)}) "
        f"REFERENCES {target} ({_cols(ref_cols)}){_on_delete(action)}"
    )


def _index_sql(index: NIndex, table: str) -> str:
    unique = "UNIQUE " if index.unique else ""
    return f"CREATE {unique}INDEX {quote_ident(index.name)} ON {table} {index_tail(index)}"


def index_tail(index: NIndex) -> str:
    """What follows ``CREATE INDEX name ON table``: method, key columns, predicate."""
    columns = []
    for column in index.columns:
        text = quote_ident(column.name)
        if column.direction:
            text += f" {column.direction}"
        if column.nulls:
            text += f" NULLS {column.nulls}"
        columns.append(text)
    using = f"USING {index.method} " if index.method else ""
    where = f" WHERE ({index.where})" if index.where else ""
    return f"{using}({', '.join(columns)}){where}"


def _role(role: str) -> str:
    return role.upper() if role in _ROLE_KEYWORDS else quote_ident(role)


def _policy_sql(policy: NPolicy, table: str) -> str:
    sql = f"CREATE POLICY {quote_ident(policy.name)} ON {table}"
    if not policy.permissive:
        sql += " AS RESTRICTIVE"
    sql += f"\n    FOR {policy.command} TO {', '.join(_role(r) for r in policy.roles)}"
    if policy.using is not None:
        sql += f"\n    USING ({policy.using})"
    if policy.with_check is not None:
        sql += f"\n    WITH CHECK ({policy.with_check})"
    return sql


def _table_sql(
    table: NTable,
    names: ConstraintNames,
    schema: str,
    target_of: dict[str, str],
    deferred: set[tuple[str, int]],
) -> str:
    lines = [_column_sql(c) for c in table.columns]
    if names.primary_key:
        lines.append(
            f"CONSTRAINT {quote_ident(names.primary_key)} PRIMARY KEY ({_cols(table.primary_key)})"
        )
    for column in table.columns:
        if column.unique:
            name = quote_ident(names.column_unique[column.name])
            lines.append(f"CONSTRAINT {name} UNIQUE ({quote_ident(column.name)})")
    for name, cols in zip(names.unique, table.unique, strict=True):
        lines.append(f"CONSTRAINT {quote_ident(name)} UNIQUE ({_cols(cols)})")
    for column in table.columns:
        if column.check:
            name = quote_ident(names.column_check[column.name])
            lines.append(f"CONSTRAINT {name} CHECK ({column.check})")
    for name, check in zip(names.checks, table.checks, strict=True):
        lines.append(f"CONSTRAINT {quote_ident(name)} CHECK ({check.expression})")
    for i, column in enumerate(table.columns):
        ref = column.references
        if ref is not None and (table.name, -1 - i) not in deferred:
            fk = NForeignKey(
                columns=(column.name,),
                ref_table=ref.table,
                ref_columns=(ref.column,),
                on_delete=ref.on_delete,
                ref_schema=ref.ref_schema,
            )
            lines.append(_fk(names.column_fkey[column.name], fk, target_of))
    for i, (name, fk) in enumerate(zip(names.foreign_keys, table.foreign_keys, strict=True)):
        if (table.name, i) not in deferred:
            lines.append(_fk(name, fk, target_of))
    body = ",\n    ".join(lines)
    return f"CREATE TABLE {qualified(schema, table.name)} (\n    {body}\n)"


def _fk(name: str, fk: NForeignKey, target_of: dict[str, str]) -> str:
    return _fk_sql(name, fk.columns, target_of[fk.target], fk.ref_columns, fk.on_delete)


def render_ddl(
    bp: NormalizedBlueprint,
    schema: str,
    *,
    tables: Collection[str] | None = None,
    external_schema: str | None = None,
) -> list[str]:
    """The statements (no BEGIN/COMMIT, no trailing ';') that create ``bp`` in ``schema``.

    ``tables`` limits the output to those blueprint tables, for materializing only the
    changed ones. A foreign key to a table that is not rendered (outside ``tables`` or
    outside the blueprint) references ``external_schema.table`` when given, else
    ``schema.table``. Raises ValueError for a name in ``tables`` the blueprint lacks.
    """
    if tables is not None:
        unknown = set(tables) - {t.name for t in bp.tables}
        if unknown:
            raise ValueError(f"not tables of the blueprint: {', '.join(sorted(unknown))}")
    selected = [t for t in bp.tables if tables is None or t.name in tables]
    rendered = {t.name for t in selected}
    outside = external_schema if external_schema is not None else schema
    referenced = {(fk.ref_schema, fk.ref_table) for t in selected for fk in t.foreign_keys} | {
        (c.references.ref_schema, c.references.table)
        for t in selected
        for c in t.columns
        if c.references is not None
    }
    # A table in another schema is referenced there, even from a scratch copy: it is never
    # created, copied or changed (the plan checked that it exists).
    target_of = {
        reference_target(s, ref): qualified(
            s if s is not None else schema if ref in rendered else outside, ref
        )
        for s, ref in referenced
    }
    order, deferred = _creation_order(selected)
    all_names = {t.name: constraint_names(t) for t in selected}

    statements = [_table_sql(t, all_names[t.name], schema, target_of, deferred) for t in order]
    for table in order:
        names = all_names[table.name]
        for i, column in enumerate(table.columns):
            ref = column.references
            if ref is not None and (table.name, -1 - i) in deferred:
                fk = NForeignKey(
                    columns=(column.name,),
                    ref_table=ref.table,
                    ref_columns=(ref.column,),
                    on_delete=ref.on_delete,
                )
                statements.append(
                    f"ALTER TABLE {qualified(schema, table.name)} ADD "
                    + _fk(names.column_fkey[column.name], fk, target_of)
                )
        for i, (name, fk) in enumerate(zip(names.foreign_keys, table.foreign_keys, strict=True)):
            if (table.name, i) in deferred:
                statements.append(
                    f"ALTER TABLE {qualified(schema, table.name)} ADD {_fk(name, fk, target_of)}"
                )
    for table in order:
        statements.extend(_index_sql(i, qualified(schema, table.name)) for i in table.indexes)
    for table in order:
        q = qualified(schema, table.name)
        if table.comment is not None:
            statements.append(f"COMMENT ON TABLE {q} IS {quote_literal(table.comment)}")
        for column in table.columns:
            if column.comment is not None:
                statements.append(
                    f"COMMENT ON COLUMN {q}.{quote_ident(column.name)} "
                    f"IS {quote_literal(column.comment)}"
                )
    for table in order:
        q = qualified(schema, table.name)
        if table.rls is not False:
            statements.append(f"ALTER TABLE {q} ENABLE ROW LEVEL SECURITY")
        if table.rls == "force":
            statements.append(f"ALTER TABLE {q} FORCE ROW LEVEL SECURITY")
        statements.extend(_policy_sql(p, q) for p in table.policies)
    return statements


def render_script(statements: Iterable[str]) -> str:
    """The statements as one readable script, each ended by ';' (for people, not psycopg)."""
    return "".join(f"{s};\n\n" for s in statements).rstrip("\n") + "\n"
