"""Duplicate JSON keys in a submitted blueprint are refused with their path at every entry
point (API, webhook, web form, CLI), never kept silently as the last one."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client

from migrations_ui.models import Proposal
from schemabuilder.engine import BlueprintInvalid, json_text
from tests.apply.blueprints import seed_envelope

PATH = "payload.tables[0].columns[0].check"


def with_duplicate_check() -> str:
    """The seed envelope, with one column's ``check`` written twice (the second says true)."""
    text = json.dumps(seed_envelope())
    column = json.dumps(seed_envelope()["payload"]["tables"][0]["columns"][0])
    doubled = column[:-1] + ', "check": "length(name) > 0", "check": "true"}'
    assert column in text
    return text.replace(column, doubled, 1)


def test_the_reader_names_every_duplicated_key():
    with pytest.raises(BlueprintInvalid) as refused:
        json_text.loads(with_duplicate_check())
    assert [i.path for i in refused.value.issues] == [PATH]
    assert "appears more than once" in refused.value.issues[0].message
    assert json_text.loads('{"a": {"b": 1}, "c": [1, {"d": 2}]}') == {
        "a": {"b": 1},
        "c": [1, {"d": 2}],
    }


@pytest.mark.parametrize("path", ["/api/v1/proposals", "/wf106/schema-builder", "/api/v1/plan"])
def test_the_api_and_the_webhook_refuse_duplicate_keys(path, people, token_for):
    client = Client()
    response = client.post(
        path,
        with_duplicate_check(),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(people.alice)}"},
    )
    assert response.status_code == 400
    assert [e["path"] for e in response.json()["errors"]] == [PATH]
    assert not Proposal.objects.exists()


def test_the_web_form_refuses_duplicate_keys(people):
    client = Client()
    client.force_login(people.alice)
    body = client.post(
        "/proposals/new/validate/",
        {"blueprint": with_duplicate_check(), "tenant": "t_demo", "target": "dev"},
    ).content.decode()
    assert PATH in body and "appears more than once" in body


def test_the_cli_refuses_duplicate_keys(people, tmp_path):
    file = tmp_path / "bp.json"
    file.write_text(with_duplicate_check())
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("submit", str(file), "--tenant", "t_demo", stdout=out)
    assert exited.value.code == 1 and PATH in out.getvalue()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("plan", str(file), "--target", "dev", "--format", "json", stdout=out)
    assert exited.value.code == 1 and PATH in out.getvalue()
    assert not Proposal.objects.exists()
