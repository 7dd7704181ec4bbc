"""The hostile-function corpus through every entry point that plans: the CLI's plan, the
dry-run API and a full submit. Each attack is refused at its path; the other tenant's
sequence and rows, the target's own sequence and rows, and another backend survive."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import call_command

from migrations_ui.models import AuditEvent, Proposal, ProposalStatus
from tests.engine.hostile_functions import (
    allowed_envelope,
    assert_untouched,
    cases,
    install_canaries,
    issue_paths,
)


@pytest.fixture
def victim(target_url: str) -> Iterator[psycopg.Connection[Any]]:
    install_canaries(target_url)
    with psycopg.connect(target_url, autocommit=True) as conn:
        yield conn


def test_the_dry_run_api_refuses_every_attack_at_its_path(people, api_as, target_url, victim):
    alice = api_as(people.alice)
    wrong = []
    for case in cases(victim.info.backend_pid, tenant="t_demo"):
        response = alice.post("/api/v1/plan", case.envelope)
        body = response.json()
        paths = issue_paths(body.get("errors", []))
        if response.status_code != 400 or case.expected_path_prefix not in paths:
            wrong.append((case.name, response.status_code, body))
        assert_untouched(target_url, victim)
    assert not wrong, wrong[:3]
    assert Proposal.objects.count() == 0
    assert alice.post("/api/v1/plan", allowed_envelope("t_demo")).status_code == 200
    assert_untouched(target_url, victim)


def test_a_full_submit_refuses_every_attack_and_nothing_is_applied(
    people, api_as, target_url, victim
):
    alice = api_as(people.alice)
    wrong = []
    for case in cases(victim.info.backend_pid, tenant="t_demo"):
        response = alice.post("/api/v1/proposals?wait=5", case.envelope)
        body = response.json()
        paths = issue_paths(body.get("errors", []))
        if response.status_code != 400 or case.expected_path_prefix not in paths:
            wrong.append((case.name, response.status_code, body))
        assert_untouched(target_url, victim)
    assert not wrong, wrong[:3]
    # What validation refused was never stored; what only the target could judge was
    # stored as failed, with its audit event, and never planned, queued or applied.
    assert not Proposal.objects.exclude(status=ProposalStatus.FAILED).exists()
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert not actions & {"proposal.planned", "proposal.queued", "proposal.applied"}


def test_the_cli_plan_refuses_every_attack_at_its_path(people, target_url, victim, tmp_path: Path):
    wrong = []
    for case in cases(victim.info.backend_pid, tenant="t_demo"):
        file = tmp_path / f"{case.name}.json"
        file.write_text(json.dumps(case.envelope))
        out, err = io.StringIO(), io.StringIO()
        with pytest.raises(SystemExit) as exited:
            call_command(
                "plan",
                str(file),
                "--database-url",
                target_url,
                "--format",
                "json",
                stdout=out,
                stderr=err,
            )
        errors = json.loads(out.getvalue() or "{}").get("errors", [])
        if exited.value.code != 1 or case.expected_path_prefix not in issue_paths(errors):
            wrong.append((case.name, exited.value.code, out.getvalue()[:500], err.getvalue()))
        assert_untouched(target_url, victim)
    assert not wrong, wrong[:3]
