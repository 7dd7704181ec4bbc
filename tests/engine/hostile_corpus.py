"""A corpus of hostile and broken envelopes, each with where its problem is.

``cases()`` returns (name, envelope, expected_path_prefix): validation must reject every
envelope with at least one issue whose path starts with the prefix. Most cases are built
here by planting one attack into one slot of the seed's envelope; the hand-written ones
are the JSON files under ``hostile/``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from tests.engine.blueprint_examples import seed_envelope

HERE = Path(__file__).parent / "hostile"

Envelope = dict[str, Any]


class Case(NamedTuple):
    name: str
    envelope: Any
    expected_path_prefix: str


def _base() -> Envelope:
    env = seed_envelope()
    env["payload"]["fence"] = {
        "column": "tenant_id",
        "type": "UUID",
        "using": "tenant_id::text = current_setting('app.current_tenant_id', true)",
    }
    table = env["payload"]["tables"][0]
    # Give every slot an occupant, so that each attack below replaces a valid value.
    table["columns"].append(
        {"name": "status", "type": "TEXT", "default": "'NEW'", "check": "status <> ''"}
    )
    table["indexes"].append(
        {"name": "idx_patients_live_phone", "columns": ["phone"], "where": "deleted_at IS NULL"}
    )
    table["checks"] = [{"name": "names_differ", "expression": "first_name <> last_name"}]
    table["unique"] = [["first_name", "last_name"]]
    table["policies"] = [
        {
            "name": "own_rows",
            "command": "UPDATE",
            "roles": ["public"],
            "using": "tenant_id::text = current_setting('app.current_tenant_id', true)",
            "with_check": "tenant_id::text = current_setting('app.current_tenant_id', true)",
        }
    ]
    env["payload"]["tables"].append(
        {
            "name": "visits",
            "columns": [
                {"name": "patient_id", "type": "UUID", "references": "patients.id"},
                {"name": "phone", "type": "TEXT"},
            ],
            "foreign_keys": [
                {"columns": ["phone"], "references": {"table": "patients", "columns": ["id"]}}
            ],
        }
    )
    # The second foreign key above points a TEXT at a UUID; PostgreSQL judges types at plan
    # time, so as a blueprint it is valid. Keep the base valid on purpose:
    env["payload"]["tables"][1]["foreign_keys"][0]["columns"] = ["patient_id"]
    return env


def _planted(path: str, value: Any) -> Envelope:
    """The base envelope with ``value`` put at ``path`` (dots and [i], like issue paths)."""
    env = _base()
    parts: list[str | int] = []
    for chunk in path.replace("]", "").replace("[", ".").split("."):
        parts.append(int(chunk) if chunk.isdigit() else chunk)
    target: Any = env
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value
    return env


def _edited(edit: Callable[[Envelope], None]) -> Envelope:
    env = _base()
    edit(env)
    return env


P = "payload.tables[0]"

FRAGMENT_SLOTS = {
    "column_default": f"{P}.columns[3].default",
    "column_check": f"{P}.columns[3].check",
    "index_where": f"{P}.indexes[1].where",
    "table_check": f"{P}.checks[0].expression",
    "policy_using": f"{P}.policies[0].using",
    "policy_with_check": f"{P}.policies[0].with_check",
    "fence_using": "payload.fence.using",
}

# Refused in every expression slot, policies included.
EXPRESSION_ATTACKS = {
    "statement_separator": "true; DROP TABLE patients",
    "close_and_inject": "1); DROP TABLE patients; --",
    "line_comment": "true -- the rest is swallowed",
    "block_comment": "true /* hidden */",
    "unterminated_block_comment": "true /* DROP TABLE x",
    "unbalanced_quote": "status = 'open",
    "unbalanced_open_paren": "(true",
    "unbalanced_close_paren": "true) OR (true",
    "escape_the_wrapper": "1) FROM pg_shadow WHERE (1",
    "dollar_quoting": "$$ DROP TABLE patients $$",
    "tagged_dollar_quoting": "$x$; DROP TABLE patients; $x$",
    "nul_byte": "true\x00; DROP TABLE patients",
    "empty": "",
    "blank": "   \n ",
    "two_expressions": "1, 2",
    "alias": "true AS owned",
    "parameter": "$1",
    "union": "1) UNION SELECT (2",
    "unterminated_identifier": '"patients',
    "trailing_separator": "true;",
}
SUBQUERY_ATTACKS = {
    "scalar_subquery": "(SELECT count(*) FROM pg_shadow) > 0",
    "exists_subquery": "EXISTS (SELECT 1 FROM pg_authid)",
    "in_subquery": "status IN (SELECT rolname FROM pg_roles)",
    "array_subquery": "ARRAY(SELECT 1) IS NOT NULL",
}
NO_SUBQUERY_SLOTS = ("column_default", "column_check", "index_where", "table_check")

TYPE_SLOTS = {"column_type": f"{P}.columns[0].type", "fence_type": "payload.fence.type"}
TYPE_ATTACKS = {
    "separator": "TEXT; DROP TABLE patients",
    "default_smuggled": "TEXT DEFAULT 'x'",
    "constraint_smuggled": "TEXT NOT NULL",
    "check_smuggled": "TEXT CHECK (false)",
    "second_column": "TEXT, evil TEXT",
    "close_paren": "TEXT) ; DROP TABLE x; (",
    "comment": "TEXT -- comment",
    "block_comment": "TEXT /* x */",
    "collation": 'TEXT COLLATE "C"',
    "other_schema": "pg_temp.evil",
    "setof": "SETOF TEXT",
    "expression_modifier": "VARCHAR(1+1)",
    "generated": "INTEGER GENERATED ALWAYS AS (1) STORED",
    "references": "UUID REFERENCES patients",
    "empty": "",
    "dollar": "$$TEXT$$",
    "not_a_type": "'TEXT'",
}

NAME_SLOTS = {
    "table_name": f"{P}.name",
    "column_name": f"{P}.columns[0].name",
    "index_name": f"{P}.indexes[0].name",
    "index_column": f"{P}.indexes[0].columns[0]",
    "policy_role": f"{P}.policies[0].roles[0]",
    "check_name": f"{P}.checks[0].name",
    "unique_member": f"{P}.unique[0][0]",
    "table_renamed_from": f"{P}.renamed_from",
    "column_renamed_from": f"{P}.columns[0].renamed_from",
    "fk_column": "payload.tables[1].foreign_keys[0].columns[0]",
    "fk_target_table": "payload.tables[1].foreign_keys[0].references.table",
    "fk_target_column": "payload.tables[1].foreign_keys[0].references.columns[0]",
    "fence_column": "payload.fence.column",
}
NAME_ATTACKS = {
    "separator": "users; DROP TABLE x",
    "double_quote": 'a"b',
    "single_quote": "o'brien",
    "comment": "name--",
    "space": "first name",
    "empty": "",
    "too_long": "a" * 64,
    "unicode": "naïve",
    "cjk": "名前",
    "nul": "a\x00b",
    "newline": "a\nb",
    "leading_digit": "1st",
    "paren": "f(x)",
}
# A policy name that is not a plain identifier is kept as written and quoted, so quotes,
# separators and spaces are names there (the plan case policy_written_name_hostile creates
# one); what PostgreSQL cannot hold or would cut is still refused.
POLICY_NAME_ATTACKS = {k: NAME_ATTACKS[k] for k in ("empty", "too_long", "nul", "newline")}
REFERENCE_ATTACKS = {
    "no_dot": "patients",
    "injection": "patients.id; DROP TABLE x",
    "schema_qualified": "public.patients.id",
    "empty_column": "patients.",
    "quote": 'patients."id',
}


def _generated() -> Iterator[Case]:
    for slot, path in FRAGMENT_SLOTS.items():
        for attack, text in EXPRESSION_ATTACKS.items():
            yield Case(f"expr_{slot}_{attack}", _planted(path, text), path)
        if slot in NO_SUBQUERY_SLOTS:
            for attack, text in SUBQUERY_ATTACKS.items():
                yield Case(f"expr_{slot}_{attack}", _planted(path, text), path)
    for slot, path in TYPE_SLOTS.items():
        for attack, text in TYPE_ATTACKS.items():
            yield Case(f"type_{slot}_{attack}", _planted(path, text), path)
    for slot, path in NAME_SLOTS.items():
        for attack, text in NAME_ATTACKS.items():
            yield Case(f"name_{slot}_{attack}", _planted(path, text), path)
    policy_name = f"{P}.policies[0].name"
    for attack, text in POLICY_NAME_ATTACKS.items():
        yield Case(f"name_policy_name_{attack}", _planted(policy_name, text), policy_name)
    ref = "payload.tables[1].columns[0].references"
    for attack, text in REFERENCE_ATTACKS.items():
        yield Case(f"reference_{attack}", _planted(ref, text), ref)
    for key, value in {"table": "pa tients", "column": "id;", "on_delete": "drop table"}.items():
        obj = {"table": "patients", "column": "id", key: value}
        yield Case(f"reference_object_{key}", _planted(ref, obj), ref)


def _wrong_types() -> Iterator[Case]:
    slots: dict[str, Any] = {
        "payload": [],
        "payload.tables": {"name": "patients"},
        "payload.tables[0]": "patients",
        f"{P}.columns": "first_name TEXT",
        f"{P}.columns[0]": ["first_name", "TEXT"],
        f"{P}.columns[0].not_null": "true",
        f"{P}.columns[0].primary_key": 1,
        f"{P}.columns[0].name": 5,
        f"{P}.columns[0].type": None,
        f"{P}.columns[0].default": 0,
        f"{P}.indexes": {"idx": ["phone"]},
        f"{P}.indexes[0].columns": "phone",
        f"{P}.indexes[0].unique": "yes",
        f"{P}.rls": "yes",
        f"{P}.policies": {"name": "p"},
        f"{P}.policies[0].roles": "public",
        f"{P}.unique": ["first_name", "last_name"],
        f"{P}.checks[0]": "first_name <> last_name",
        "payload.schema_version": 1,
        "payload.description": None,
        "payload.force_apply": "false",
        "payload.auto_columns": "no",
        "payload.fence": "tenant_id",
        "meta": "t_001",
        "meta.tenant_id": 1,
        "context.validation_profile": "paranoid",
        "meta.trigger_source": "email",
        "meta.timestamp_utc": "yesterday",
    }
    for path, value in slots.items():
        yield Case(f"wrong_type_{path}", _planted(path, value), path)


def _del(path: str) -> Callable[[Envelope], None]:
    def edit(env: Envelope) -> None:
        *parents, last = path.split(".")
        target: Any = env
        for part in parents:
            target = target[part]
        del target[last]

    return edit


def _rules() -> Iterator[Case]:
    def add_column(**column: Any) -> Callable[[Envelope], None]:
        return lambda env: env["payload"]["tables"][0]["columns"].append(column)

    def set_at(path: str, value: Any) -> Callable[[Envelope], None]:
        return lambda env: _set(env, path, value)

    edits: list[tuple[str, Callable[[Envelope], None], str]] = [
        (
            "camel_and_snake_columns_collide",
            add_column(name="firstName", type="TEXT"),
            f"{P}.columns[4].name",
        ),
        ("same_column_twice", add_column(name="phone", type="TEXT"), f"{P}.columns[4].name"),
        (
            "tables_collide_by_case",
            lambda env: env["payload"]["tables"].append({"name": "Patients", "columns": []}),
            "payload.tables[2].name",
        ),
        # Two primary_key columns are one composite key; an identity with a default is not.
        (
            "identity_with_a_default",
            lambda env: _identity_and_default(env),
            f"{P}.columns[1].identity",
        ),
        (
            "index_on_unknown_column",
            set_at(f"{P}.indexes[0].columns", ["phone", "fax"]),
            f"{P}.indexes[0].columns[1]",
        ),
        (
            "index_name_twice",
            set_at(f"{P}.indexes[1].name", "idx_patients_phone"),
            f"{P}.indexes[1].name",
        ),
        (
            "index_named_like_a_table",
            set_at(f"{P}.indexes[1].name", "visits"),
            f"{P}.indexes[1].name",
        ),
        (
            "unique_desc_on_gin",
            set_at(
                f"{P}.indexes[0]",
                {"name": "idx_gin", "columns": ["phone DESC"], "method": "gin", "unique": True},
            ),
            f"{P}.indexes[0]",
        ),
        (
            "unknown_index_method",
            set_at(f"{P}.indexes[0].method", "btree; DROP"),
            f"{P}.indexes[0].method",
        ),
        (
            "policy_command_does_not_exist",
            set_at(f"{P}.policies[0].command", "TRUNCATE"),
            f"{P}.policies[0].command",
        ),
        (
            "insert_policy_with_using",
            set_at(f"{P}.policies[0].command", "INSERT"),
            f"{P}.policies[0].using",
        ),
        (
            "select_policy_with_check",
            set_at(f"{P}.policies[0].command", "SELECT"),
            f"{P}.policies[0].with_check",
        ),
        ("policies_without_rls", set_at(f"{P}.rls", False), f"{P}.policies"),
        (
            "policy_names_collide",
            lambda env: env["payload"]["tables"][0]["policies"].append(
                {"name": "OwnRows", "using": "true"}
            ),
            f"{P}.policies[1].name",
        ),
        (
            "check_names_collide",
            lambda env: env["payload"]["tables"][0]["checks"].append(
                {"name": "names_differ", "expression": "true"}
            ),
            f"{P}.checks[1].name",
        ),
        (
            "unique_set_unknown_column",
            set_at(f"{P}.unique", [["first_name", "nickname"]]),
            f"{P}.unique[0][1]",
        ),
        (
            "fk_to_a_column_that_is_not_unique",
            set_at("payload.tables[1].columns[0].references", "patients.phone"),
            "payload.tables[1].columns[0].references",
        ),
        (
            "fk_to_a_column_the_table_lacks",
            set_at("payload.tables[1].columns[0].references", "patients.uuid"),
            "payload.tables[1].columns[0].references",
        ),
        (
            "fk_column_count_mismatch",
            set_at("payload.tables[1].foreign_keys[0].references.columns", ["id", "tenant_id"]),
            "payload.tables[1].foreign_keys[0].references.columns",
        ),
        (
            "fk_local_column_unknown",
            set_at("payload.tables[1].foreign_keys[0].columns", ["patientid"]),
            "payload.tables[1].foreign_keys[0].columns[0]",
        ),
        (
            "table_renamed_from_a_kept_table",
            set_at("payload.tables[1].renamed_from", "patients"),
            "payload.tables[1].renamed_from",
        ),
        (
            "column_renamed_from_a_kept_column",
            set_at(f"{P}.columns[0].renamed_from", "last_name"),
            f"{P}.columns[0].renamed_from",
        ),
        (
            "typo_not_nul",
            lambda env: env["payload"]["tables"][0]["columns"][0].update(not_nul=True),
            f"{P}.columns[0].not_nul",
        ),
        ("typo_colums", lambda env: env["payload"]["tables"][0].update(colums=[]), f"{P}.colums"),
        ("typo_paylod", lambda env: env.update(paylod={}), "paylod"),
        ("unknown_meta_key", lambda env: env["meta"].update(tenant="t_001"), "meta.tenant"),
        ("no_tables", set_at("payload.tables", []), "payload.tables"),
        ("missing_payload", _del("payload"), "payload"),
        ("missing_schema_version", _del("payload.schema_version"), "payload.schema_version"),
        (
            "missing_tenant",
            lambda env: (env["meta"].pop("tenant_id"), env.pop("subject")),
            "meta.tenant_id",
        ),
        ("tenants_disagree", set_at("subject.tenant_id", "t_002"), "subject.tenant_id"),
        (
            "tenant_injection",
            set_at("meta.tenant_id", "t_001'; DROP TABLE x; --"),
            "meta.tenant_id",
        ),
        ("environment_injection", set_at("meta.environment", "prod; DROP"), "meta.environment"),
        (
            "control_chars_in_description",
            set_at("payload.description", "a\x1b[31mred"),
            "payload.description",
        ),
        ("lone_surrogate_in_comment", set_at(f"{P}.comment", "\ud800"), f"{P}.comment"),
        (
            "too_many_columns",
            set_at(f"{P}.columns", [{"name": f"c{i}", "type": "TEXT"} for i in range(1_597)]),
            f"{P}.columns",
        ),
    ]
    for name, edit, path in edits:
        yield Case(f"rule_{name}", _edited(edit), path)


def _set(env: Envelope, path: str, value: Any) -> None:
    parts: list[str | int] = [
        int(c) if c.isdigit() else c for c in path.replace("]", "").replace("[", ".").split(".")
    ]
    target: Any = env
    for part in parts[:-1]:
        target = target[part]
    target[parts[-1]] = value


def _identity_and_default(env: Envelope) -> None:
    column = env["payload"]["tables"][0]["columns"][1]
    column["type"], column["identity"], column["default"] = "BIGINT", "always", "1"


def _nested(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _huge() -> Iterator[Case]:
    for slot in (
        f"{P}.columns[0].type",
        f"{P}.comment",
        f"{P}.columns[0].bogus",
        "payload.tables[0]",
        "meta.workflow_run_id",
        "context",
    ):
        yield Case(f"nested_50_levels_at_{slot}", _planted(slot, _nested(50)), slot)
    yield Case(
        "seventeen_megabyte_description",
        _planted("payload.description", "x" * 17_000_000),
        "payload",
    )
    many = [
        {"name": f"t{i}", "comment": "c" * 9_000, "columns": [{"name": "a", "type": "TEXT"}]}
        for i in range(1_900)
    ]
    yield Case("seventeen_megabytes_of_comments", _planted("payload.tables", many), "payload")
    yield Case(
        "ten_thousand_and_one_tables",
        _planted("payload.tables", [{"name": f"t{i}", "columns": []} for i in range(10_001)]),
        "payload.tables",
    )
    deep = _planted(f"{P}.columns[0].type", _nested(100_000))  # beyond any JSON encoder
    yield Case("nested_100000_levels_built_in_python", deep, f"{P}.columns[0].type")
    cycle: dict[str, Any] = {}
    cycle["again"] = cycle
    yield Case("reference_cycle_built_in_python", _planted(f"{P}.comment", cycle), f"{P}.comment")
    yield Case("envelope_is_a_list", [seed_envelope()], "(root)")
    yield Case("envelope_is_a_string", json.dumps(seed_envelope()), "(root)")


def _hand_written() -> Iterator[Case]:
    for file in sorted(HERE.glob("*.json")):
        data = json.loads(file.read_text())
        yield Case(f"file_{file.stem}", data["envelope"], data["expected_path_prefix"])


def cases() -> list[Case]:
    """Every hostile case, generated and hand-written."""
    return [*_generated(), *_wrong_types(), *_rules(), *_huge(), *_hand_written()]


def base_envelope() -> Envelope:
    """The valid envelope that the generated cases start from (a copy)."""
    return copy.deepcopy(_base())
