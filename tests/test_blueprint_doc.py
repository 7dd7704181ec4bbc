"""docs/blueprint.md says what the engine does: every example's SQL is what ``render_ddl``
prints for it today, every refused example's problems are what validation reports, and every
key of every model has a row in the reference.

An example is a ```json example``` block (a table, or a payload when it has ``tables``)
followed by a ```sql``` block; a refused one is a ```json refused``` block followed by a
```text``` block. A change to a live table is a ```sql live``` block (run in an empty schema
``app``, in a transaction rolled back afterwards), a ```json plan``` block and the ```sql```
block ``plan`` prints, every live table managed. ``SB_REGEN_DOCS=1`` rewrites the SQL and text
blocks from the engine: review the diff by eye, it is a claim the reference makes.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel

from schemabuilder.engine import BlueprintInvalid, plan, render_ddl, validate_payload
from schemabuilder.engine.contract.json_schema import DESCRIPTIONS

DOC = Path(__file__).resolve().parents[1] / "docs" / "blueprint.md"
SCHEMA = "app"

_PAIR = re.compile(
    r"```json (?P<kind>example|refused)\n(?P<json>.*?)\n```\n+```(?:sql|text)\n(?P<out>.*?)\n```",
    re.DOTALL,
)

_PLAN = re.compile(
    r"```sql live\n(?P<live>.*?)\n```\n+```json plan\n(?P<json>.*?)\n```\n+```sql\n(?P<out>.*?)\n```",
    re.DOTALL,
)


def as_payload(example: dict[str, Any]) -> dict[str, Any]:
    """A table becomes a payload of its own, without the auto columns."""
    if "tables" in example:
        return {"schema_version": "1", "description": "example", **example}
    return {
        "schema_version": "1",
        "description": "example",
        "auto_columns": False,
        "tables": [example],
    }


def rendered(kind: str, text: str) -> str:
    payload = as_payload(json.loads(text))
    if kind == "example":
        return ";\n".join(render_ddl(validate_payload(payload), SCHEMA)) + ";"
    with pytest.raises(BlueprintInvalid) as refused:
        validate_payload(payload)
    return "\n".join(f"{i.path}: {i.message}" for i in refused.value.issues)


def pairs() -> list[re.Match[str]]:
    return list(_PAIR.finditer(DOC.read_text()))


def planned(url: str, live: str, text: str) -> str:
    bp = validate_payload(as_payload(json.loads(text)))
    with psycopg.connect(url) as conn:
        try:
            conn.execute(f"CREATE SCHEMA {SCHEMA}; SET search_path TO {SCHEMA}".encode())
            conn.execute(live.encode())
            managed = {
                row[0]
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s", [SCHEMA]
                )
            }
            return plan(conn, bp, schema=SCHEMA, managed=managed).sql.rstrip("\n")
        finally:
            conn.rollback()


def test_every_change_to_a_live_table_prints_what_the_plan_does(target_db_url):
    text = DOC.read_text()
    found = list(_PLAN.finditer(text))
    assert len(found) == text.count("```json plan") >= 1
    if os.environ.get("SB_REGEN_DOCS"):
        for match in reversed(found):
            out = planned(target_db_url, match["live"], match["json"])
            text = text[: match.start("out")] + out + text[match.end("out") :]
        DOC.write_text(text)
        found = list(_PLAN.finditer(text))
    for match in found:
        assert match["out"] == planned(target_db_url, match["live"], match["json"])


def test_every_example_prints_the_sql_and_the_problems_the_engine_does():
    text = DOC.read_text()
    found = pairs()
    # An example block without its answer block is not silently skipped.
    assert len(found) == text.count("```json example") + text.count("```json refused") >= 10
    if os.environ.get("SB_REGEN_DOCS"):
        for match in reversed(found):
            out = rendered(match["kind"], match["json"])
            text = text[: match.start("out")] + out + text[match.end("out") :]
        DOC.write_text(text)
        found = pairs()
    for match in found:
        first_line = match["json"].splitlines()[0]
        assert match["out"] == rendered(match["kind"], match["json"]), first_line


def _models() -> list[type[BaseModel]]:
    return list(DESCRIPTIONS)


@pytest.mark.parametrize("model", _models(), ids=lambda m: m.__name__)
def test_every_key_has_a_description_and_a_row_in_the_reference(model):
    text = DOC.read_text()
    section = re.search(rf"<a id=\"{model.__name__.lower()}\"></a>(.*?)(?=<a id=|\Z)", text, re.S)
    assert section, f"no section for {model.__name__}"
    for name, field in model.model_fields.items():
        key = field.alias or name  # what a blueprint writes ("schema", not schema_)
        assert DESCRIPTIONS[model].get(key), f"{model.__name__}.{key} has no description"
        assert re.search(rf"^\| `{key}` \|", section[1], re.M), f"{model.__name__}.{key}"


def test_every_model_of_the_contract_is_described():
    from pydantic import BaseModel

    from schemabuilder.engine.contract import blueprint

    # Every model a blueprint can hold, the ones it imports (grants, privileges) included.
    models = {
        value
        for value in vars(blueprint).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value is not BaseModel
        and not value.__name__.startswith("_")
    }
    # And every model a blueprint's keys hold, wherever it is defined (a table's triggers).
    stack: list[object] = [blueprint.Envelope]
    seen: set[type] = set()
    while stack:
        item = stack.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item in seen:
                continue
            seen.add(item)
            if not item.__name__.startswith("_"):
                models.add(item)
            stack.extend(f.annotation for f in item.model_fields.values())
        else:
            stack.extend(getattr(item, "__args__", None) or ())
            origin = getattr(item, "__origin__", None)
            if origin is not None:
                stack.append(origin)
    assert models == set(DESCRIPTIONS)
