"""The OpenAPI document and the docs page; schemathesis against the running app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.apply.blueprints import seed_envelope

ROOT = Path(__file__).resolve().parents[2]


def test_the_document_describes_the_api_and_the_webhook(db):
    doc = Client().get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    for path in (
        "/api/v1/proposals",
        "/api/v1/proposals/{proposal_id}",
        "/api/v1/proposals/{proposal_id}/approve",
        "/api/v1/proposals/{proposal_id}/reject",
        "/api/v1/proposals/{proposal_id}/cancel",
        "/api/v1/plan",
        "/api/v1/tenants/{slug}/history",
        "/api/v1/tenants/{slug}/schema",
        "/api/v1/tenants/{slug}/import",
        "/wf106/schema-builder",
    ):
        assert path in paths, path
    hook = paths["/wf106/schema-builder"]["post"]
    assert {"200", "202", "400", "409", "500"} <= set(hook["responses"])
    body = hook["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/BlueprintEnvelope"}
    schemas = doc["components"]["schemas"]
    assert "payload" in schemas["BlueprintEnvelope"]["required"]
    assert schemas["HazardKind"]["enum"][0] == "DROPS_TABLE"  # the engine's own vocabulary
    assert doc["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_docs_page_loads_only_our_own_files(db):
    client = Client()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert not asset.startswith(("http:", "https:", "//")), asset
    assert "<script>" not in html  # no inline script: the site's CSP allows none
    for asset in assets:
        if asset.startswith("/static/"):
            response = client.get(asset)
            assert response.status_code == 200, asset
            b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_no_answer_outside_the_schema(
    people, live_server, settings, token_for, tmp_path
):
    # Bounded: a wait of at most a second (no worker runs here), no rate limit in the way.
    settings.API_MAX_WAIT_SECONDS = 1
    settings.API_RATE_LIMIT_PER_MINUTE = 0
    raw = token_for(people.alice)
    from tests.api.conftest import Api

    Api(raw).post("/api/v1/proposals", seed_envelope())  # something to list and read
    checks = ",".join(
        [
            "not_a_server_error",
            "status_code_conformance",
            "content_type_conformance",
            "response_headers_conformance",
            "response_schema_conformance",
        ]
    )
    command = [
        str(Path(sys.executable).parent / "st"),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {raw}",
        "--checks",
        checks,
        "--max-examples",
        "10",
        "--seed",
        os.environ.get("SB_SCHEMATHESIS_SEED", "106"),  # fixed, so CI runs the same cases
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--max-time",
        "60",
        "--request-timeout",
        "20",
        "--no-color",
        "--output-sanitize",
        "true",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=170,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""},
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
