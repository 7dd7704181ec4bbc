"""Bringing a target's live schema in as its baseline version (workflow.baseline)."""

from __future__ import annotations

import copy
from typing import Any

import psycopg
import pytest

from migrations_ui.models import (
    AuditEvent,
    MigrationRecord,
    MigrationStatus,
    NotAllowedError,
    ProposalStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from migrations_ui.workflow import submit
from migrations_ui.workflow.baseline import BaselineRefused, import_baseline
from tests.apply.blueprints import envelope, table

pytestmark = pytest.mark.django_db(transaction=True)

LIVE = """
CREATE TABLE accounts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL);
CREATE TABLE notes (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id), body text);
CREATE VIEW account_emails AS SELECT email FROM accounts;
"""


@pytest.fixture
def live(target_url: str) -> str:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(LIVE)
    return target_url


def test_the_import_is_an_empty_plan_recorded_as_version_001(people: Any, live: str) -> None:
    done = import_baseline(people.target, people.carol)
    proposal = done.proposal
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.NOOP
    assert proposal.plan["statements"] == []
    assert proposal.schema_version == "001"
    assert sorted(done.tables) == ["accounts", "notes"]
    record = MigrationRecord.objects.get(proposal=proposal)
    assert record.status == MigrationStatus.SUCCESS
    assert record.version == "001"
    assert record.description == "baseline: imported 2 tables"
    assert sorted(record.managed_tables) == ["accounts", "notes"]
    assert record.snapshot
    views = [i for i in proposal.result["left_out"] if i["kind"] == "view"]
    assert [v["name"] for v in views] == ["account_emails"]
    assert AuditEvent.objects.filter(proposal=proposal, action="proposal.imported").count() == 1


def test_a_later_blueprint_plans_only_its_new_column(people: Any, live: str) -> None:
    base = import_baseline(people.target, people.carol).proposal
    envelope = copy.deepcopy(base.envelope)
    envelope["payload"]["schema_version"] = "002"
    envelope["payload"]["description"] = "a column more"
    table = next(t for t in envelope["payload"]["tables"] if t["name"] == "notes")
    table["columns"].append({"name": "pinned", "type": "boolean"})
    later = submit(user=people.alice, envelope=envelope, source="api").proposal
    later.refresh_from_db()
    # The plan's own preamble (search_path) aside, only the new column.
    sql = [s["sql"] for s in later.plan["statements"] if not s["sql"].startswith("SET LOCAL")]
    assert len(sql) == 1 and "ADD COLUMN" in sql[0] and "pinned" in sql[0], sql


def test_a_second_baseline_is_refused(people: Any, live: str) -> None:
    import_baseline(people.target, people.carol)
    with pytest.raises(BaselineRefused, match="already has applied versions"):
        import_baseline(people.target, people.carol)
    again = import_baseline(people.target, people.carol, over_history=True)
    assert again.proposal.schema_version == "002"


def test_only_an_admin_brings_it_in(people: Any, live: str) -> None:
    with pytest.raises(NotAllowedError):
        import_baseline(people.target, people.bob)
    assert not MigrationRecord.objects.filter(target=people.target).exists()


def test_a_baseline_that_would_change_the_schema_fails_and_applies_nothing(
    people: Any, live: str
) -> None:
    # A blueprint that is not the live schema (a table the target lacks), sent the baseline
    # way: its plan is not empty, so it must neither be queued nor recorded as a version.
    wrong = envelope([table("patients", ("name", "TEXT"))])
    proposal = submit(
        user=people.carol, envelope=wrong, source="api", baseline={"tables": []}
    ).proposal
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.FAILED
    assert "is not a baseline" in proposal.error
    assert not MigrationRecord.objects.filter(status=MigrationStatus.SUCCESS).exists()
    with psycopg.connect(live) as conn:
        assert conn.execute("SELECT to_regclass('public.patients')").fetchone() == (None,)


def test_a_webhook_endpoint_is_told_of_the_import(people: Any, live: str) -> None:
    WebhookEndpoint.objects.create(
        tenant=people.tenant,
        url="https://hooks.example.com/in",
        secret="s" * 32,
        event_types=["proposal.imported"],
    )
    import_baseline(people.target, people.carol)
    sent = WebhookDelivery.objects.values_list("event_type", flat=True)
    assert list(sent) == ["proposal.imported"]


def test_of_two_imports_at_once_only_the_first_is_recorded(people: Any, live: str) -> None:
    first = import_baseline(people.target, people.carol).proposal
    # The second read the schema before the first was recorded ("after": no version yet).
    second = submit(
        user=people.carol,
        envelope=copy.deepcopy(first.envelope),
        source="api",
        baseline={"tables": ["accounts", "notes"], "after": None},
    ).proposal
    second.refresh_from_db()
    assert second.status == ProposalStatus.FAILED
    assert "while the schema was being imported" in second.error
    records = MigrationRecord.objects.filter(status=MigrationStatus.SUCCESS)
    assert [r.proposal_id for r in records] == [first.pk]
