"""POST /api/v1/tenants/{slug}/import: the live schema as the target's baseline version."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from migrations_ui.models import MigrationRecord

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/tenants/t_demo/import"


@pytest.fixture
def live(target_url: str) -> str:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);"
            "CREATE SEQUENCE invoice_numbers;"
        )
    return target_url


def test_an_admin_imports_and_a_second_import_is_409(people: Any, live: str, api_as: Any) -> None:
    api = api_as(people.carol)
    answer = api.post(URL, {"environment": "dev"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["status"] == "noop"
    assert body["schema_version"] == "001"
    assert body["statements"] == []
    assert body["migration_log_id"]
    assert {"kind": "sequence", "name": "invoice_numbers"}.items() <= body["left_out"][0].items()
    history = api.get("/api/v1/tenants/t_demo/history").json()
    assert [(i["version"], i["description"]) for i in history["items"]] == [
        ("001", "baseline: imported 1 table")
    ]
    again = api.post(URL, {"environment": "dev"})
    assert again.status_code == 409
    assert again.json()["code"] == "baseline_refused"


def test_a_submitter_is_403_and_another_tenants_admin_404(
    people: Any, live: str, api_as: Any, outsider: Any
) -> None:
    assert api_as(people.alice).post(URL, {}).status_code == 403
    assert api_as(outsider).post(URL, {}).status_code == 404
    assert not MigrationRecord.objects.exists()
