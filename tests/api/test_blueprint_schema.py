"""The blueprint's JSON Schema at /api/v1/blueprint.schema.json and envelope.schema.json: it
accepts every blueprint the engine accepts (the form's examples, the engine's cases and
corpus, the seed's envelope) and refuses what no model allows."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client

from migrations_ui.examples import EXAMPLES
from schemabuilder.engine import BlueprintInvalid, validate_envelope, validate_payload
from tests.api.conftest import seed_request

ENGINE_TESTS = Path(__file__).resolve().parents[1] / "engine"
CASE_FILES = sorted(
    [*ENGINE_TESTS.glob("cases/*/blueprint.json"), *ENGINE_TESTS.glob("corpus/*/blueprint.json")]
)


def served(db: Any, path: str) -> jsonschema_rs.Validator:
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    return jsonschema_rs.validator_for(response.json())


@pytest.fixture
def payload_schema(db):
    return served(db, "/api/v1/blueprint.schema.json")


@pytest.fixture
def envelope_schema(db):
    return served(db, "/api/v1/envelope.schema.json")


def problems(validator: jsonschema_rs.Validator, document: Any) -> list[str]:
    return [f"{list(e.instance_path)}: {e.message[:160]}" for e in validator.iter_errors(document)]


def test_the_schemas_are_public_cacheable_and_answer_304_to_their_etag(db):
    client = Client()
    for path in ("/api/v1/blueprint.schema.json", "/api/v1/envelope.schema.json"):
        first = client.get(path)
        assert first.status_code == 200, path
        assert first.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert "public" in first["Cache-Control"] and "max-age=3600" in first["Cache-Control"]
        again = client.get(path, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304
        assert again["ETag"] == first["ETag"]
        assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    payload = client.get("/api/v1/blueprint.schema.json")
    envelope = client.get("/api/v1/envelope.schema.json")
    assert payload["ETag"] != envelope["ETag"]


def test_the_schema_describes_every_key(db):
    schema = Client().get("/api/v1/blueprint.schema.json").json()
    column = schema["$defs"]["Column"]["properties"]
    assert "NOT NULL" in column["not_null"]["description"]
    for name, node in [("(root)", schema), *schema["$defs"].items()]:
        for key, prop in node.get("properties", {}).items():
            assert prop.get("description"), f"{name}.{key} has no description"


def test_the_form_examples_are_valid(payload_schema):
    for key, (_label, payload) in EXAMPLES.items():
        validate_payload(payload)  # the engine accepts it, so the schema must
        assert problems(payload_schema, payload) == [], key


@pytest.mark.parametrize(
    "path", CASE_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}"
)
def test_every_case_and_corpus_blueprint_is_valid(path, payload_schema, envelope_schema):
    document = json.loads(path.read_text())
    envelope = "payload" in document
    try:
        (validate_envelope if envelope else validate_payload)(document)
    except BlueprintInvalid:
        # A case refused by a rule across fields (a definer function without search_path)
        # is still of the schema's shape: the JSON Schema says shapes, the engine the rules.
        if not (path.parent / "expected_error.json").is_file():
            raise
    assert problems(envelope_schema if envelope else payload_schema, document) == []


def test_the_seed_envelope_is_valid_and_its_parts_may_be_null(envelope_schema):
    seed = seed_request()
    assert problems(envelope_schema, seed) == []
    bare = {
        "meta": {"tenant_id": "t_001"},
        "subject": None,
        "context": None,
        "payload": seed["payload"],
    }
    validate_envelope(bare)
    assert problems(envelope_schema, bare) == []


def test_a_reference_and_an_identity_as_people_write_them(payload_schema):
    payload = copy.deepcopy(EXAMPLES["clinic"][1])
    visits = payload["tables"][1]["columns"]
    visits[0]["references"] = {"table": "patients", "column": "id", "on_delete": "CASCADE"}
    visits.append({"name": "n", "type": "BIGINT", "identity": "BY DEFAULT"})
    validate_payload(payload)
    assert problems(payload_schema, payload) == []


def _with(change: Any) -> dict[str, Any]:
    payload = copy.deepcopy(EXAMPLES["patients"][1])
    change(payload)
    return payload


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p["tables"][0]["columns"][0].update(not_nul=True), ["tables", 0, "columns", 0]),
        (
            lambda p: p["tables"][0]["columns"][0].update(not_null="yes"),
            ["tables", 0, "columns", 0, "not_null"],
        ),
        (lambda p: p["tables"][0].update(rls="yes"), ["tables", 0, "rls"]),
        (
            lambda p: p["tables"][0]["columns"][2].update(references="patients"),
            ["tables", 0, "columns", 2, "references"],
        ),
        (
            lambda p: p["tables"][0]["indexes"][0].update(columns=[]),
            ["tables", 0, "indexes", 0, "columns"],
        ),
        (lambda p: p.update(tables=[]), ["tables"]),
        (lambda p: p.pop("description"), []),
        (lambda p: p.update(schema_version=1), ["schema_version"]),
        (lambda p: p.update(fence={"mode": "strict"}), ["fence"]),  # anyOf: at the object
    ],
)
def test_what_no_model_allows_is_refused_where_it_is(payload_schema, change, where):
    payload = _with(change)
    found = [list(e.instance_path) for e in payload_schema.iter_errors(payload)]
    assert where in found, found


def test_an_unknown_key_of_the_envelope_is_refused(envelope_schema):
    seed = seed_request()
    assert problems(envelope_schema, {**seed, "paylaod": {}}) != []
    assert problems(envelope_schema, {**seed, "meta": {"tenant": "t_001"}}) != []


def test_the_openapi_document_lists_the_schemas_as_public(db):
    paths = Client().get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/blueprint.schema.json", "/api/v1/envelope.schema.json"):
        get = paths[path]["get"]
        assert "security" not in get, path
        assert "application/schema+json" in get["responses"]["200"]["content"]
