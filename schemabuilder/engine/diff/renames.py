"""Renames: which live tables and columns a blueprint renames, and the live snapshot replayed
as PostgreSQL would print it after those renames.

PostgreSQL rewrites every dependent object on ``RENAME``: constraints, indexes, policies and
foreign keys elsewhere keep working under the new names. Replaying the renames on the live
snapshot lets the diff compare by value afterwards, so a renamed column does not look like a
dropped check constraint plus a new one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from pglast import parser

from schemabuilder.engine.catalog.snapshot import (
    Constraint,
    ConstraintKind,
    Index,
    Policy,
    Snapshot,
    Table,
)
from schemabuilder.engine.contract.errors import Issue
from schemabuilder.engine.contract.idents import quote_ident

_NAME_KINDS = frozenset({"UNRESERVED_KEYWORD", "COL_NAME_KEYWORD", "TYPE_FUNC_NAME_KEYWORD"})
_DOT, _OPEN = "ASCII_46", "ASCII_40"


@dataclass(frozen=True)
class Renames:
    """Renames to perform: ``tables`` maps live name -> new name; ``columns`` maps the
    table's new name -> {live column name -> new column name}."""

    tables: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.tables and not any(self.columns.values())

    def live_table(self, name: str) -> str:
        """The live name of the table called ``name`` in the desired state."""
        for old, new in self.tables.items():
            if new == name:
                return old
        return name

    def live_column(self, table: str, column: str) -> str:
        """The live name of ``table.column`` (both desired names)."""
        for old, new in self.columns.get(table, {}).items():
            if new == column:
                return old
        return column

    def live_expression(self, table: str, text: str) -> str:
        """A desired-state expression of ``table`` with its columns under their live names."""
        backwards = {new: old for old, new in self.columns.get(table, {}).items()}
        return rename_identifiers(text, backwards) if backwards else text


def rename_identifiers(text: str, mapping: Mapping[str, str]) -> str:
    """Replace the column names in ``mapping`` in SQL text printed by PostgreSQL.

    Works on PostgreSQL's own tokens, so string constants and quoted names are safe. A name
    is a column reference unless it is qualified (``x.name``), qualifies something
    (``name.x``), is called (``name(``) or follows a cast (``::name``).
    """
    if not mapping:
        return text
    tokens = parser.scan(text)
    pieces: list[str] = []
    pos = 0
    after_cast = False
    for i, token in enumerate(tokens):
        is_word = token.name == "IDENT" or token.kind in _NAME_KINDS
        if token.name == "TYPECAST":
            after_cast = True
            continue
        if not is_word:
            after_cast = False
            continue
        if after_cast:
            # Multi-word type names ("character varying") follow a cast: not columns.
            continue
        prev = tokens[i - 1].name if i else None
        nxt = tokens[i + 1].name if i + 1 < len(tokens) else None
        if prev == _DOT or nxt in (_DOT, _OPEN):
            continue
        raw = text[token.start : token.end + 1]
        name = raw[1:-1].replace('""', '"') if raw.startswith('"') else raw
        if name in mapping:
            pieces.append(text[pos : token.start])
            pieces.append(quote_ident(mapping[name]))
            pos = token.end + 1
    pieces.append(text[pos:])
    return "".join(pieces)


def rename_row_columns(text: str, mapping: Mapping[str, str]) -> str:
    """Replace the column names in ``mapping`` where a trigger's condition names them on its
    rows (``old.name``, ``new.name``), in SQL text printed by PostgreSQL."""
    if not mapping:
        return text
    tokens = parser.scan(text)
    pieces: list[str] = []
    pos = 0
    for i, token in enumerate(tokens):
        if i < 2 or tokens[i - 1].name != _DOT:
            continue
        row = text[tokens[i - 2].start : tokens[i - 2].end + 1].lower()
        if row not in ("old", "new") or (i > 2 and tokens[i - 3].name == _DOT):
            continue
        raw = text[token.start : token.end + 1]
        name = raw[1:-1].replace('""', '"') if raw.startswith('"') else raw
        if name in mapping:
            pieces.append(text[pos : token.start])
            pieces.append(quote_ident(mapping[name]))
            pos = token.end + 1
    pieces.append(text[pos:])
    return "".join(pieces)


def resolve_renames(
    live: Snapshot,
    desired_tables: list[tuple[str, str | None, list[tuple[str, str | None, str]]]],
    table_paths: list[str],
) -> tuple[Renames, list[Issue]]:
    """Decide the renames the blueprint asks for, checked against the live schema.

    ``desired_tables`` lists (name, renamed_from, [(column, renamed_from, path)]) per table,
    ``table_paths`` the blueprint path of each table. A rename happens when the source
    exists and the destination does not; when the destination exists and the source does
    not, it already happened (nothing to do, so planning again after applying is empty).
    Both or neither existing is an error at the blueprint path.
    """
    issues: list[Issue] = []
    existing = set(live.all_tables) | set(live.table_map)
    tables: dict[str, str] = {}
    for (name, source, _), path in zip(desired_tables, table_paths, strict=True):
        if not source or source == name:
            continue
        if source in existing and name not in existing:
            if source in tables:
                issues.append(Issue(f"{path}.renamed_from", f"table {source} is renamed twice"))
            tables[source] = name
        elif source in existing:
            issues.append(
                Issue(
                    f"{path}.renamed_from",
                    f"cannot rename {source} to {name}: both tables exist; drop one of them "
                    "or remove renamed_from",
                )
            )
        elif name not in existing:
            issues.append(
                Issue(
                    f"{path}.renamed_from",
                    f"cannot rename {source} to {name}: there is no table {source} in schema "
                    f"{live.schema}; remove renamed_from to create {name}",
                )
            )
    columns: dict[str, dict[str, str]] = {}
    for name, source, cols in desired_tables:
        live_table = live.table(source if source in tables else name)
        if live_table is None:
            continue
        renamed: dict[str, str] = {}
        for col, col_source, path in cols:
            if not col_source or col_source == col:
                continue
            has_source = col_source in live_table.column_map
            has_dest = col in live_table.column_map
            if has_source and not has_dest:
                renamed[col_source] = col
            elif has_source:
                issues.append(
                    Issue(
                        f"{path}.renamed_from",
                        f"cannot rename column {col_source} to {col} in {name}: both "
                        "columns exist; drop one of them or remove renamed_from",
                    )
                )
            elif not has_dest:
                issues.append(
                    Issue(
                        f"{path}.renamed_from",
                        f"cannot rename column {col_source} to {col}: {live_table.name} has "
                        f"no column {col_source}; remove renamed_from to add {col}",
                    )
                )
        if renamed:
            columns[name] = renamed
    return Renames(tables=tables, columns=columns), issues


def apply_renames(live: Snapshot, renames: Renames) -> Snapshot:
    """The live snapshot as it will read once the renames are done (and nothing else)."""
    if renames.is_empty:
        return live
    tables = []
    for table in live.tables:
        new_name = renames.tables.get(table.name, table.name)
        tables.append(_rename_table(table, new_name, renames))
    return dataclasses.replace(live, tables=tuple(tables))


def _rename_table(table: Table, new_name: str, renames: Renames) -> Table:
    cols = dict(renames.columns.get(new_name, {}))

    def col(name: str) -> str:
        return cols.get(name, name)

    def expr(text: str | None) -> str | None:
        return rename_identifiers(text, cols) if text is not None else None

    return Table(
        name=new_name,
        columns=tuple(
            dataclasses.replace(
                c, name=col(c.name), default=expr(c.default), generated=expr(c.generated)
            )
            for c in table.columns
        ),
        constraints=tuple(_rename_constraint(c, cols, renames) for c in table.constraints),
        indexes=tuple(
            Index(
                name=i.name,
                definition=rename_identifiers(i.definition, cols),
                unique=i.unique,
                method=i.method,
                columns=tuple(rename_identifiers(k, cols) for k in i.columns),
                predicate=expr(i.predicate),
                valid=i.valid,
            )
            for i in table.indexes
        ),
        policies=tuple(
            Policy(
                name=p.name,
                command=p.command,
                permissive=p.permissive,
                roles=p.roles,
                using=expr(p.using),
                with_check=expr(p.with_check),
                columns=tuple(sorted(col(c) for c in p.columns)),
            )
            for p in table.policies
        ),
        rls=table.rls,
        rls_forced=table.rls_forced,
        comment=table.comment,
    )


def _rename_constraint(con: Constraint, cols: Mapping[str, str], renames: Renames) -> Constraint:
    columns = tuple(cols.get(c, c) for c in con.columns)
    if con.kind is not ConstraintKind.FOREIGN_KEY:
        return dataclasses.replace(
            con, columns=columns, definition=rename_identifiers(con.definition, cols)
        )
    ref = con.ref_table or ""
    new_ref = renames.tables.get(ref, ref)
    ref_cols = renames.columns.get(new_ref, {})
    ref_columns = tuple(ref_cols.get(c, c) for c in con.ref_columns)
    definition = con.definition
    printed_ref = _printed_ref(con)
    if printed_ref is not None and con.fk_tail is not None:
        if new_ref != ref:
            printed_ref = quote_ident(new_ref)
        definition = (
            f"FOREIGN KEY ({_join(columns)}) REFERENCES {printed_ref}({_join(ref_columns)})"
            f"{con.fk_tail}"
        )
    return dataclasses.replace(
        con, columns=columns, ref_table=new_ref, ref_columns=ref_columns, definition=definition
    )


def _printed_ref(con: Constraint) -> str | None:
    """The referenced table as the definition prints it (maybe schema-qualified)."""
    head = f"FOREIGN KEY ({_join(con.columns)}) REFERENCES "
    foot = f"({_join(con.ref_columns)}){con.fk_tail}"
    text = con.definition
    if con.fk_tail is None or not text.startswith(head) or not text.endswith(foot):
        return None
    return text[len(head) : len(text) - len(foot)]


def _join(names: tuple[str, ...]) -> str:
    return ", ".join(quote_ident(n) for n in names)
