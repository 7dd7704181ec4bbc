"""One introspected table as a blueprint table, or the reasons it cannot be one.

A table is written only when every member the plan manages on it (columns, constraints,
indexes, policies, row level security) can be said in the blueprint's words exactly as the
catalog holds it: a member left out of a managed table would be dropped by the next plan.
What the plan does not manage (triggers, grants, views) never stops a table; the caller
lists those apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from schemabuilder.engine.catalog.snapshot import Column, Constraint, ConstraintKind, Index, Table
from schemabuilder.engine.contract.idents import (
    is_plain_name,
    name_problem,
    object_name,
    quote_ident,
    snake_case,
    written_name_problem,
)
from schemabuilder.engine.contract.names import check_column_of
from schemabuilder.engine.diff.generated import expression_of

_SERIALS = {"integer": "SERIAL", "bigint": "BIGSERIAL", "smallint": "SMALLSERIAL"}
_INDEX_ENTRY = re.compile(
    r'(?P<name>"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)(?P<rest>(?: DESC)?(?: NULLS (?:FIRST|LAST))?)'
)
# ``col IN ('a', 'b')`` on a varchar column prints as the ANY below, which PostgreSQL reads
# back into another form (each element cast to text): written back as the IN it came from,
# it prints as the catalog holds it.
_VARCHAR_IN = re.compile(
    r"(?P<col>\b[a-z_][a-z0-9_]*|\"(?:[^\"]|\"\")+\")::text (?P<op>= ANY|<> ALL) "
    r"\(ARRAY\[(?P<items>'(?:[^']|'')*'::character varying(?:, '(?:[^']|'')*'::character varying)*)"
    r"\]::text\[\]\)"
)
_ACTIONS = {"NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT"}


@dataclass
class Converted:
    """A blueprint table (None when it cannot be one) and why members could not be said."""

    table: dict[str, Any] | None
    reasons: list[str] = field(default_factory=list)


def blueprint_name(name: str) -> bool:
    """True when ``name`` written in a blueprint names exactly this catalog name."""
    return name_problem(name) is None and snake_case(name) == name


def _unquote(text: str) -> str:
    return text[1:-1].replace('""', '"') if text.startswith('"') else text


def _column(column: Column, reasons: list[str]) -> dict[str, Any]:
    if not blueprint_name(column.name):
        reasons.append(f"column name {column.name!r} is not a snake_case name")
    stored = column.generated is not None and column.generated.endswith(" STORED")
    if column.generated is not None and not stored:
        reasons.append(f"column {column.name} is generated ({column.generated})")
    if column.collation is not None:
        reasons.append(f"column {column.name} has the collation {column.collation}")
    out: dict[str, Any] = {"name": column.name, "type": column.type}
    if column.serial:
        serial = _SERIALS.get(column.type)
        if serial is None:
            reasons.append(f"column {column.name} draws from a sequence it owns as {column.type}")
        out["type"] = serial or column.type
        if not column.not_null:
            reasons.append(f"column {column.name} is serial yet takes NULL")
    if column.not_null and not column.serial and column.identity is None:
        out["not_null"] = True
    if column.identity is not None:
        out["identity"] = column.identity.lower()
    if column.default is not None:
        out["default"] = column.default
    if column.generated is not None and stored:
        out["generated"] = readable(expression_of(column.generated))
    if column.comment is not None:
        out["comment"] = column.comment
    return out


def _cols(names: tuple[str, ...]) -> str:
    return ", ".join(quote_ident(n) for n in names)


def _as_in_list(match: re.Match[str]) -> str:
    items = match["items"].replace("::character varying", "")
    return f"{match['col']} {'IN' if match['op'] == '= ANY' else 'NOT IN'} ({items})"


def readable(expression: str) -> str:
    """``expression`` as PostgreSQL printed it, with the forms it does not read back as
    printed (a varchar IN list) written as they were written."""
    return _VARCHAR_IN.sub(_as_in_list, expression)


def _check_expression(constraint: Constraint) -> str | None:
    text = constraint.definition
    if text.startswith("CHECK (") and text.endswith(")"):
        return readable(text[len("CHECK (") : -1])
    return None


def _constraints(
    table: Table, columns: dict[str, dict[str, Any]], reasons: list[str]
) -> dict[str, Any]:
    """Keys, unique sets, checks and foreign keys; each name must be the one normalization
    gives (checks may carry theirs)."""
    out: dict[str, Any] = {"unique": [], "checks": [], "foreign_keys": []}
    for con in table.constraints:
        if con.kind is ConstraintKind.PRIMARY_KEY:
            if con.definition != f"PRIMARY KEY ({_cols(con.columns)})":
                reasons.append(f"primary key {con.name} is {con.definition}")
            for name in con.columns:
                columns[name]["primary_key"] = True
                columns[name].pop("not_null", None)
            out["primary_key"] = con.columns
            if con.name != object_name(table.name, None, "pkey"):
                reasons.append(f"primary key {con.name} is not named {table.name}_pkey")
        elif con.kind is ConstraintKind.UNIQUE:
            if con.definition != f"UNIQUE ({_cols(con.columns)})":
                reasons.append(f"unique constraint {con.name} is {con.definition}")
            elif con.name != (named := object_name(table.name, "_".join(con.columns), "key")):
                reasons.append(f"unique constraint {con.name} is not named {named}")
            elif len(con.columns) == 1 and not columns[con.columns[0]].get("unique"):
                columns[con.columns[0]]["unique"] = True
            else:
                out["unique"].append(list(con.columns))
        elif con.kind is ConstraintKind.CHECK:
            expression = _check_expression(con)
            if expression is None:
                reasons.append(f"check {con.name} is {con.definition}")
                continue
            check: dict[str, Any] = {"expression": expression}
            try:
                default = object_name(table.name, check_column_of(expression), "check")
            except Exception:  # an expression pglast cannot read: validation says why
                default = None
            if con.name != default:
                check["name"] = con.name
                if not blueprint_name(con.name):
                    reasons.append(f"check name {con.name!r} is not a snake_case name")
            out["checks"].append(check)
        elif con.kind is ConstraintKind.FOREIGN_KEY:
            _foreign_key(table.name, con, columns, out, reasons)
        else:
            reasons.append(f"exclusion constraint {con.name}")
    return out


def _foreign_key(
    table_name: str,
    con: Constraint,
    columns: dict[str, dict[str, Any]],
    out: dict[str, Any],
    reasons: list[str],
) -> None:
    tail = (con.fk_tail or "").strip()
    action = tail.removeprefix("ON DELETE ").strip() if tail else "NO ACTION"
    if tail and (not tail.startswith("ON DELETE ") or action not in _ACTIONS):
        reasons.append(f"foreign key {con.name} has {tail}")
        return
    if con.on_update not in (None, "NO ACTION"):
        reasons.append(f"foreign key {con.name} has ON UPDATE {con.on_update}")
        return
    named = object_name(table_name, "_".join(con.columns), "fkey")
    if con.name != named:
        reasons.append(f"foreign key {con.name} is not named {named}")
        return
    ref_table = con.ref_table or ""
    schema, dot, ref = ref_table.rpartition(".")
    target: dict[str, Any] = {"table": ref}
    if dot:
        target = {"schema": schema, **target}
    if not all(blueprint_name(n) for n in (*([schema] if dot else []), ref, *con.ref_columns)):
        reasons.append(f"foreign key {con.name} references {ref_table}, not a snake_case name")
    on_delete = {} if action == "NO ACTION" else {"on_delete": action.lower()}
    column = columns[con.columns[0]]
    if len(con.columns) == 1 and "references" not in column:
        column["references"] = {**target, "column": con.ref_columns[0], **on_delete}
    else:
        out["foreign_keys"].append(
            {
                "columns": list(con.columns),
                "references": {**target, "columns": list(con.ref_columns)},
                **on_delete,
            }
        )


def _index(index: Index, table: Table, reasons: list[str]) -> dict[str, Any] | None:
    if not blueprint_name(index.name):
        reasons.append(f"index name {index.name!r} is not a snake_case name")
        return None
    if not index.valid:
        reasons.append(f"index {index.name} is not valid (a failed concurrent build)")
        return None
    entries: list[str] = []
    for text in index.columns:
        match = _INDEX_ENTRY.fullmatch(text)
        name = _unquote(match["name"]) if match else None
        if match is None or name not in table.column_map or not blueprint_name(name):
            reasons.append(f"index {index.name} has the key {text} (not a plain column)")
            return None
        entries.append(name + match["rest"])
    head = f"USING {index.method} ({', '.join(index.columns)})"
    where = f" WHERE {index.predicate}" if index.predicate is not None else ""
    if index.definition not in (head + where, head + where.replace(" WHERE ", " WHERE (") + ")"):
        reasons.append(f"index {index.name} is {index.definition}")
        return None
    out: dict[str, Any] = {"name": index.name, "columns": entries}
    if index.method != "btree":
        out["method"] = index.method
    if index.unique:
        out["unique"] = True
    if index.predicate is not None:
        out["where"] = readable(index.predicate)
    return out


def _policy_name_as_written(name: str) -> bool:
    """A blueprint keeps a policy name as written unless it is a plain identifier, which it
    writes in snake_case: ``"Users can view own rows."`` can be said, ``MyPolicy`` cannot."""
    if is_plain_name(name):
        return blueprint_name(name)
    return written_name_problem(name) is None


def _policies(table: Table, reasons: list[str]) -> list[dict[str, Any]]:
    out = []
    for policy in table.policies:
        if not _policy_name_as_written(policy.name):
            reasons.append(
                f"policy name {policy.name!r} is a plain name that is not snake_case (a "
                "blueprint writes it in snake_case)"
            )
        entry: dict[str, Any] = {"name": policy.name, "command": policy.command}
        if policy.roles != ("public",):
            bad = [r for r in policy.roles if not blueprint_name(r)]
            if bad:
                reasons.append(f"policy {policy.name} names the role {bad[0]!r}")
            entry["roles"] = list(policy.roles)
        if policy.using is not None:
            entry["using"] = readable(policy.using)
        if policy.with_check is not None:
            entry["with_check"] = readable(policy.with_check)
        if not policy.permissive:
            entry["permissive"] = False
        out.append(entry)
    return out


def _key_apart(
    table: Table, primary_key: tuple[str, ...], columns: dict[str, dict[str, Any]]
) -> list[str] | None:
    """The table-level ``primary_key`` when the key's order is not the columns' order
    (its columns then lose their own ``primary_key``), else None: the columns say it."""
    in_table_order = [c.name for c in table.ordered_columns if c.name in primary_key]
    if list(primary_key) == in_table_order:
        return None
    for name in primary_key:
        columns[name].pop("primary_key", None)
    return list(primary_key)


def convert_table(table: Table) -> Converted:
    """``table`` in the blueprint's words, or the reasons it cannot be said."""
    reasons: list[str] = []
    if not blueprint_name(table.name):
        return Converted(None, [f"table name {table.name!r} is not a snake_case name"])
    columns = {c.name: _column(c, reasons) for c in table.columns}
    constraints = _constraints(table, columns, reasons)
    key = _key_apart(table, tuple(constraints.pop("primary_key", ())), columns)
    indexes = [i for i in (_index(index, table, reasons) for index in table.indexes) if i]
    policies = _policies(table, reasons)
    if not table.rls and table.rls_forced:
        reasons.append("row level security is forced but not enabled")
    if not table.rls and policies:
        reasons.append("it has policies but row level security is off")
    out: dict[str, Any] = {"name": table.name}
    if table.comment is not None:
        out["comment"] = table.comment
    out["columns"] = [columns[c.name] for c in table.ordered_columns]
    if key is not None:
        out["primary_key"] = key
    if indexes:
        out["indexes"] = indexes
    out.update({k: v for k, v in constraints.items() if v})
    out["rls"] = "force" if table.rls and table.rls_forced else table.rls
    if policies or table.rls:
        # Row level security with no policy is deny-all: ``"policies": []`` says exactly that
        # (a missing list would add the default fence policies).
        out["policies"] = policies
    return Converted(None if reasons else out, reasons)
