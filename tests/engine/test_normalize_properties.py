"""Property-based tests: normalization is a fixed point and the hash ignores presentation."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemabuilder.engine import schema_hash, validate_payload
from schemabuilder.engine.contract.as_payload import as_payload

_RESERVED_PARTS = {"key", "pkey", "fkey", "check", "idx"}
part = st.from_regex(r"[a-z]{2,5}", fullmatch=True).filter(lambda p: p not in _RESERVED_PARTS)
parts = st.lists(part, min_size=1, max_size=3)
printable = st.characters(min_codepoint=32, exclude_categories=("Cs", "Cc"))
TYPES = {
    "TEXT": "'x'",
    "INTEGER": "0",
    "BIGINT": "1",
    "UUID": "gen_random_uuid()",
    "VARCHAR(10)": "'v'",
    "NUMERIC(8,2)": "0.5",
    "BOOLEAN": "false",
    "DATE": "CURRENT_DATE",
    "JSONB": "'{}'::jsonb",
    "TEXT[]": "'{}'",
}


@st.composite
def columns(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(parts, min_size=1, max_size=6, unique_by=lambda p: "_".join(p)))
    result = []
    for name_parts in names:
        name = "c_" + "_".join(name_parts)
        type_ = draw(st.sampled_from(sorted(TYPES)))
        column: dict[str, Any] = {"name": name, "type": type_}
        if draw(st.booleans()):
            column["not_null"] = True
        if draw(st.booleans()):
            column["default"] = TYPES[type_]
        if draw(st.booleans()) and type_ not in ("JSONB", "TEXT[]"):
            column["unique"] = True
        if draw(st.booleans()):
            column["check"] = f"{name} IS NOT NULL"
        if draw(st.booleans()):
            column["comment"] = draw(st.text(printable, max_size=20))
        result.append(column)
    return result


@st.composite
def tables(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(parts, min_size=1, max_size=4, unique_by=lambda p: "_".join(p)))
    result = []
    for t, name_parts in enumerate(names):
        cols = draw(columns())
        col_names = [c["name"] for c in cols]
        table: dict[str, Any] = {"name": "t_" + "_".join(name_parts), "columns": cols}
        indexed = draw(st.lists(st.sampled_from(col_names), min_size=0, max_size=2, unique=True))
        if indexed:
            direction = draw(st.sampled_from(["", " DESC", " ASC NULLS FIRST"]))
            table["indexes"] = [
                {"name": f"ix_{t}_{i}", "columns": [name + direction]}
                for i, name in enumerate(indexed)
            ]
        table["rls"] = draw(st.sampled_from([True, False, "force"]))
        if table["rls"] is not False and draw(st.booleans()):
            table["policies"] = [{"name": "own_rows", "command": "SELECT", "using": "true"}]
        result.append(table)
    return result


@st.composite
def payloads(draw: st.DrawFn) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema_version": draw(st.from_regex(r"[0-9]{3}", fullmatch=True)),
        "description": draw(st.text(printable, max_size=30)),
        "force_apply": draw(st.booleans()),
        "tables": draw(tables()),
    }
    if draw(st.booleans()):
        data["auto_columns"] = False
    return data


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def _recased(data: dict[str, Any]) -> dict[str, Any]:
    """Every name in upper case or camelCase: the same names once normalized."""

    def camel(name: str) -> str:
        head, *rest = name.split("_")
        return head + "".join(p.capitalize() for p in rest)

    copy = json.loads(json.dumps(data))
    for t, table in enumerate(copy["tables"]):
        table["name"] = table["name"].upper() if t % 2 else camel(table["name"])
        for c, column in enumerate(table["columns"]):
            column["name"] = column["name"].upper() if c % 2 else camel(column["name"])
        for index in table.get("indexes", []):
            index["name"] = index["name"].upper()
            index["columns"] = [
                f"{camel(name)}{rest}"
                for name, rest in (
                    (text.split(" ", 1)[0], text[len(text.split(" ", 1)[0]) :])
                    for text in index["columns"]
                )
            ]
    return copy


common = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@common
@given(payloads())
def test_normalizing_a_normalized_blueprint_changes_nothing(data: dict[str, Any]) -> None:
    once = validate_payload(data)
    twice = validate_payload(as_payload(once))
    assert twice == once
    assert schema_hash(twice) == schema_hash(once)


@common
@given(payloads(), st.randoms(use_true_random=False), st.sampled_from([None, 0, 1, 4, "\t"]))
def test_the_hash_ignores_key_order_and_white_space(
    data: dict[str, Any], rng: random.Random, indent: int | str | None
) -> None:
    text = json.dumps(_shuffled(data, rng), indent=indent)
    assert schema_hash(validate_payload(json.loads(text))) == schema_hash(validate_payload(data))


@common
@given(payloads())
def test_the_hash_ignores_name_casing(data: dict[str, Any]) -> None:
    assert schema_hash(validate_payload(_recased(data))) == schema_hash(validate_payload(data))
