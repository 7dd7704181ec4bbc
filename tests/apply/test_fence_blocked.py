"""A policy that widens the tenant fence is blocked by the rules (not auto-applied), and the
restrictive fence that new tables get cannot be widened."""

from __future__ import annotations

import pytest

from migrations_ui.models import ProposalStatus, Source
from migrations_ui.workflow.submission import submit
from tests.apply.test_apply import final

S = ProposalStatus
pytestmark = pytest.mark.slow
FENCE = "tenant_id::text = current_setting('app.current_tenant_id', true)"


def _envelope(version: str, policies: list[dict], mode: str) -> dict:
    return {
        "meta": {"tenant_id": "t_demo", "environment": "dev"},
        "payload": {
            "schema_version": version,
            "description": f"v{version}",
            "fence": {"column": "tenant_id", "type": "UUID", "mode": mode},
            "tables": [
                {
                    "name": "patients",
                    "columns": [{"name": "name", "type": "TEXT"}],
                    "policies": policies,
                }
            ],
        },
    }


ISOLATION = {"name": "patients_tenant_isolation", "using": FENCE, "with_check": FENCE}
WIDENING = {"name": "open_read", "command": "SELECT", "using": "tenant_id IS NOT NULL"}


def test_a_widening_policy_beside_the_permissive_fence_is_blocked(people, workers, target_url):
    workers.start()
    first = submit(
        user=people.alice, envelope=_envelope("001", [ISOLATION], "permissive"), source=Source.API
    ).proposal
    assert final(first).status == S.APPLIED, first.error + workers.logs()

    second = submit(
        user=people.alice,
        envelope=_envelope("002", [ISOLATION, WIDENING], "permissive"),
        source=Source.API,
    ).proposal
    second.refresh_from_db()
    assert second.status == S.BLOCKED
    assert "TENANT_FENCE_WEAKENED" in [h["kind"] for h in second.dangerous_hazards]


def test_the_same_policy_beside_the_restrictive_fence_is_not_a_weakening(
    people, workers, target_url
):
    workers.start()
    first = submit(
        user=people.alice, envelope=_envelope("001", [ISOLATION], "restrictive"), source=Source.API
    ).proposal
    assert final(first).status == S.APPLIED, first.error + workers.logs()
    second = submit(
        user=people.alice,
        envelope=_envelope("002", [ISOLATION, WIDENING], "restrictive"),
        source=Source.API,
    ).proposal
    final(second)
    assert "TENANT_FENCE_WEAKENED" not in [h["kind"] for h in second.hazards]
    assert second.status == S.APPLIED, second.error
