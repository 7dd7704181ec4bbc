"""Deterministic generator of realistic multi-tenant blueprints, and their "v2" successors.

``blueprint(n)`` gives a payload (the ``payload`` of an envelope, see spec/blueprint.md) of
``n`` tables shaped like a SaaS product's: 8-15 declared columns of mixed types, CHECKs on
some tables, a foreign key to an earlier table on about a third, 2-4 declared indexes (always
one composite and one descending), and the defaults for ``auto_columns`` and ``rls`` so every
table gets ``id``/``tenant_id``/timestamps and the fence policy.

``v2(payload)`` is the next version a team would submit: a column added on 10% of tables, a
safe type widening on 5%, a column dropped on 5%, an index added on 5% (disjoint tables).
``v2_sql(payload)`` is the whole DDL of that v2, rendered by the engine, as one script.

Everything is seeded: the same ``(n, seed)`` always gives the same payload, byte for byte, so
timings of different runs and machines compare like with like.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass
from random import Random
from typing import Any

Payload = dict[str, Any]
Table = dict[str, Any]
Column = dict[str, Any]

DEFAULT_SEED = 106

# Column types grouped by kind, so that every table gets a spread of kinds before any kind
# repeats. Each name occurs once in the whole pool, so columns never clash within a table.
_POOL: dict[str, tuple[tuple[str, str], ...]] = {
    "text": (("title", "TEXT"), ("description", "TEXT"), ("notes", "TEXT"), ("label", "TEXT")),
    "varchar": (
        ("code", "VARCHAR(32)"),
        ("email", "VARCHAR(255)"),
        ("phone", "VARCHAR(32)"),
        ("sku", "VARCHAR(64)"),
        ("slug", "VARCHAR(120)"),
        ("currency", "VARCHAR(3)"),
    ),
    "integer": (
        ("quantity", "INTEGER"),
        ("position", "INTEGER"),
        ("attempts", "INTEGER"),
        ("priority", "INTEGER"),
    ),
    "bigint": (("external_ref", "BIGINT"), ("size_bytes", "BIGINT"), ("view_count", "BIGINT")),
    "numeric": (
        ("amount", "NUMERIC(12,2)"),
        ("unit_price", "NUMERIC(12,2)"),
        ("tax_rate", "NUMERIC(5,4)"),
        ("weight_kg", "NUMERIC(10,3)"),
    ),
    "boolean": (("is_active", "BOOLEAN"), ("archived", "BOOLEAN"), ("verified", "BOOLEAN")),
    "date": (("starts_on", "DATE"), ("ends_on", "DATE"), ("due_on", "DATE")),
    "timestamptz": (
        ("published_at", "TIMESTAMPTZ"),
        ("last_seen_at", "TIMESTAMPTZ"),
        ("expires_at", "TIMESTAMPTZ"),
    ),
    "jsonb": (("metadata", "JSONB"), ("settings", "JSONB"), ("attributes", "JSONB")),
    "text[]": (("tags", "TEXT[]"), ("aliases", "TEXT[]")),
    "uuid": (("external_id", "UUID"), ("owner_user_id", "UUID"), ("correlation_id", "UUID")),
}

# Columns v2 adds: names the pool never uses, so an added column can never clash.
_ADDED: tuple[tuple[str, str], ...] = (
    ("review_note", "TEXT"),
    ("score", "INTEGER"),
    ("source_system", "VARCHAR(40)"),
    ("approved_at", "TIMESTAMPTZ"),
    ("extra", "JSONB"),
    ("is_pinned", "BOOLEAN"),
)

# Defaults that a product team would really write next to NOT NULL.
_DEFAULTS: dict[str, str] = {
    "BOOLEAN": "false",
    "INTEGER": "0",
    "BIGINT": "0",
    "JSONB": "'{}'::jsonb",
    "TEXT[]": "'{}'::text[]",
}

# Types a B-tree index is useful on; jsonb and arrays get GIN instead.
_BTREE_TYPES = ("TEXT", "VARCHAR", "INTEGER", "BIGINT", "NUMERIC", "DATE", "TIMESTAMPTZ", "UUID")
_ORDERED_TYPES = ("TIMESTAMPTZ", "DATE", "NUMERIC", "BIGINT", "INTEGER")

_MODULES = (
    "billing",
    "crm",
    "inventory",
    "hr",
    "support",
    "catalog",
    "shipping",
    "analytics",
    "projects",
    "marketing",
    "finance",
    "identity",
)
_NOUNS = (
    "accounts",
    "invoices",
    "invoice_lines",
    "payments",
    "contacts",
    "companies",
    "deals",
    "products",
    "variants",
    "warehouses",
    "stock_moves",
    "employees",
    "contracts",
    "tickets",
    "ticket_events",
    "orders",
    "order_lines",
    "shipments",
    "carriers",
    "events",
    "reports",
    "tasks",
    "milestones",
    "campaigns",
    "segments",
    "ledgers",
    "journal_entries",
    "sessions",
    "api_keys",
    "documents",
)

_STATUSES = "status IN ('draft', 'active', 'archived')"

# Table-level CHECKs, each used only when the table has every column it names.
_CHECKS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("quantity",), "quantity >= 0"),
    (("amount",), "amount >= 0"),
    (("unit_price",), "unit_price >= 0"),
    (("tax_rate",), "tax_rate >= 0 AND tax_rate < 1"),
    (("priority",), "priority BETWEEN 1 AND 5"),
    (("attempts",), "attempts >= 0"),
    (("starts_on", "ends_on"), "starts_on <= ends_on"),
    (("currency",), "char_length(currency) = 3"),
)


def blueprint(n: int, seed: int = DEFAULT_SEED) -> Payload:
    """A valid v1 payload of ``n`` tables; the same ``(n, seed)`` always gives the same one."""
    rng = Random(f"v1:{seed}:{n}")
    names = _table_names(n)
    tables = [_table(rng, i, names) for i in range(n)]
    return {
        "schema_version": "001",
        "description": f"Benchmark schema: {n} tables (seed {seed})",
        "tables": tables,
    }


def _table_names(n: int) -> list[str]:
    # Module x noun gives 360 distinct, realistic names; past that a numeric suffix keeps
    # them unique, the way generated or versioned tables look in real products.
    base = [f"{m}_{noun}" for noun in _NOUNS for m in _MODULES]
    Random("table-names").shuffle(base)
    return [
        base[i % len(base)] + (f"_{i // len(base) + 1}" if i >= len(base) else "") for i in range(n)
    ]


def _table(rng: Random, i: int, names: list[str]) -> Table:
    name = names[i]
    columns: list[Column] = []
    foreign_key: str | None = None
    # About a third of the tables (never the first: it has no earlier table) point to an
    # earlier one, as child tables do.
    if i > 0 and rng.random() < 1 / 3:
        parent = names[rng.randrange(i)]
        foreign_key = f"{parent}_id"
        columns.append(
            {
                "name": foreign_key,
                "type": "UUID",
                "references": f"{parent}.id",
            }
        )
        if rng.random() < 0.7:
            columns[-1]["not_null"] = True
    if rng.random() < 0.3:
        columns.append(
            {
                "name": "status",
                "type": "TEXT",
                "not_null": True,
                "default": "'draft'",
                "check": _STATUSES,
            }
        )
    columns += _mixed_columns(rng, rng.randint(8, 15) - len(columns))
    table: Table = {"name": name, "columns": columns}
    if rng.random() < 0.3:
        table["comment"] = f"{name.replace('_', ' ')} of each tenant"
    checks = _checks(rng, name, columns)
    if checks:
        table["checks"] = checks
    if any(c["name"] == "code" for c in columns) and rng.random() < 0.5:
        # Uniqueness in a multi-tenant table is per tenant, never global.
        table["unique"] = [["tenant_id", "code"]]
    table["indexes"] = _indexes(rng, name, columns, foreign_key)
    return table


def _mixed_columns(rng: Random, count: int) -> list[Column]:
    kinds = list(_POOL)
    rng.shuffle(kinds)
    pools = {kind: rng.sample(_POOL[kind], len(_POOL[kind])) for kind in kinds}
    columns: list[Column] = []
    while len(columns) < count:
        for kind in kinds:
            if len(columns) == count:
                break
            if pools[kind]:
                columns.append(_column(rng, *pools[kind].pop()))
    return columns


def _column(rng: Random, name: str, type_: str) -> Column:
    column: Column = {"name": name, "type": type_}
    default = _DEFAULTS.get(type_)
    if default is not None and rng.random() < 0.6:
        column["not_null"] = True
        column["default"] = default
    elif rng.random() < 0.15:
        column["not_null"] = True
    return column


def _checks(rng: Random, table: str, columns: list[Column]) -> list[dict[str, str]]:
    present = {c["name"] for c in columns}
    usable = [(cols, expr) for cols, expr in _CHECKS if set(cols) <= present]
    if not usable or rng.random() < 0.55:
        return []
    chosen = rng.sample(usable, min(len(usable), rng.randint(1, 2)))
    checks = []
    for cols, expr in chosen:
        check = {"expression": expr}
        # Named and unnamed CHECKs both occur in the wild; PostgreSQL names the latter.
        if rng.random() < 0.5:
            check = {"name": _ident(f"{table}_{'_'.join(cols)}_check"), **check}
        checks.append(check)
    return checks


def _indexes(
    rng: Random, table: str, columns: list[Column], foreign_key: str | None
) -> list[dict[str, Any]]:
    btree = [c["name"] for c in columns if _base_type(c["type"]) in _BTREE_TYPES]
    ordered = [c["name"] for c in columns if _base_type(c["type"]) in _ORDERED_TYPES]
    gin = [c["name"] for c in columns if c["type"] in ("JSONB", "TEXT[]")]
    first, second = rng.sample(btree, 2) if len(btree) >= 2 else ("tenant_id", "updated_at")
    sort_key = rng.choice(ordered) if ordered else "updated_at"
    indexes = [
        _index(table, [first, second]),
        # The typical "latest first, per tenant" listing index.
        _index(table, ["tenant_id", f"{sort_key} DESC"]),
    ]
    extras: list[dict[str, Any]] = []
    if foreign_key:
        extras.append(_index(table, [foreign_key]))
    if gin:
        extras.append({**_index(table, [rng.choice(gin)]), "method": "gin"})
    if any(c["name"] == "email" for c in columns):
        extras.append(
            {**_index(table, ["tenant_id", "email"]), "unique": True, "where": "deleted_at IS NULL"}
        )
    rng.shuffle(extras)
    return indexes + extras[: rng.randint(0, 2)]


def _index(table: str, columns: list[str]) -> dict[str, Any]:
    words = [c.replace(" DESC", "_desc").lower() for c in columns]
    return {"name": _ident(f"idx_{table}_{'_'.join(words)}"), "columns": columns}


def _ident(name: str) -> str:
    """``name`` cut to PostgreSQL's 63 bytes, with a short hash so cut names stay distinct."""
    if len(name) <= 63:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:54]}_{digest}"


def _base_type(type_: str) -> str:
    return type_.split("(")[0].upper()


# --- v2 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One change v2 made, for reports and for checking that a planner found it."""

    kind: str  # add_column | widen_type | drop_column | add_index
    table: str
    detail: str


def v2(payload: Payload, seed: int = DEFAULT_SEED) -> Payload:
    """The next version of ``payload`` (see the module docstring); ``payload`` is not changed."""
    return mutate(payload, seed)[0]


def mutate(payload: Payload, seed: int = DEFAULT_SEED) -> tuple[Payload, list[Change]]:
    """``v2(payload)`` together with the list of changes it made."""
    new = copy.deepcopy(payload)
    new["schema_version"] = _next_version(str(payload["schema_version"]))
    new["description"] = f"{payload['description']}, v2"
    tables: list[Table] = new["tables"]
    rng = Random(f"v2:{seed}:{len(tables)}")
    order = list(range(len(tables)))
    rng.shuffle(order)
    # Each step takes its tables from what the earlier steps left, so every table gets at
    # most one change and the counts are exact.
    steps = (
        (0.10, _can_add_column, _add_column),
        (0.05, _can_widen, _widen),
        (0.05, _can_drop, _drop_column),
        (0.05, _can_add_index, _add_index),
    )
    changes: list[Change] = []
    for share, can, apply in steps:
        wanted = _share(len(tables), share)
        for i in [i for i in order if can(tables[i])][:wanted]:
            changes.append(apply(rng, tables[i]))
            order.remove(i)
    return new, changes


def _share(n: int, share: float) -> int:
    # At least one of each kind, so even the 10-table smoke run covers every change kind.
    return max(1, round(n * share))


def _next_version(version: str) -> str:
    return str(int(version) + 1).zfill(len(version)) if version.isdigit() else f"{version}.2"


def _can_add_column(table: Table) -> bool:
    return _free_added_names(table) != []


def _free_added_names(table: Table) -> list[tuple[str, str]]:
    present = {c["name"] for c in table["columns"]}
    return [(name, type_) for name, type_ in _ADDED if name not in present]


def _add_column(rng: Random, table: Table) -> Change:
    name, type_ = rng.choice(_free_added_names(table))
    # Nullable and without a default: the cheap, lock-light kind of added column.
    table["columns"].append({"name": name, "type": type_})
    return Change("add_column", table["name"], f"{name} {type_}")


def _widenable(table: Table) -> list[Column]:
    return [
        c for c in table["columns"] if c["type"] == "INTEGER" or c["type"].startswith("VARCHAR")
    ]


def _can_widen(table: Table) -> bool:
    return _widenable(table) != []


def _widen(rng: Random, table: Table) -> Change:
    column = rng.choice(_widenable(table))
    old = column["type"]
    # Both widenings keep every existing value valid; varchar → text needs no table rewrite.
    column["type"] = "BIGINT" if old == "INTEGER" else "TEXT"
    return Change("widen_type", table["name"], f"{column['name']} {old} -> {column['type']}")


def _droppable(table: Table) -> list[Column]:
    used = _referenced_names(table)
    return [c for c in table["columns"] if c["name"] not in used and "references" not in c]


def _referenced_names(table: Table) -> set[str]:
    # Columns that an index, a table CHECK or a unique set names: dropping one of those would
    # silently drop that object too, which is not the change this benchmark means to make.
    text = json.dumps([table.get("indexes", []), table.get("checks", []), table.get("unique", [])])
    return {c["name"] for c in table["columns"] if _mentions(text, c["name"])}


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text) is not None


def _can_drop(table: Table) -> bool:
    return _droppable(table) != []


def _drop_column(rng: Random, table: Table) -> Change:
    column = rng.choice(_droppable(table))
    table["columns"].remove(column)
    return Change("drop_column", table["name"], column["name"])


def _new_indexes(table: Table) -> list[dict[str, Any]]:
    taken = {ix["name"] for ix in table.get("indexes", [])}
    candidates = [
        _index(table["name"], ["tenant_id", c["name"]])
        for c in table["columns"]
        if _base_type(c["type"]) in _BTREE_TYPES
    ]
    return [ix for ix in candidates if ix["name"] not in taken]


def _can_add_index(table: Table) -> bool:
    return _new_indexes(table) != []


def _add_index(rng: Random, table: Table) -> Change:
    index = rng.choice(_new_indexes(table))
    table.setdefault("indexes", []).append(index)
    return Change("add_index", table["name"], index["name"])


def v2_sql(payload: Payload, schema: str | None = None) -> str:
    """The full DDL of ``v2(payload)`` as one SQL script (the engine's ``render_ddl``): what a
    shadow database is built from."""
    from bench import engine_adapter  # it imports this module: import it late

    return engine_adapter.render_sql(v2(payload), schema or engine_adapter.SCHEMA)


def fingerprint(payload: Payload) -> str:
    """SHA-256 of the canonical JSON of ``payload``: shows in reports which input was timed."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
