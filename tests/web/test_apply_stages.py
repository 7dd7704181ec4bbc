"""The proposal page's two stages of an online change, drawn from the progress the worker
keeps (``workflow.apply_progress``): polled while it runs, kept once it ended, absent for a
change in one transaction."""

from __future__ import annotations

from typing import Any

from migrations_ui.models import Proposal, ProposalStatus
from tests.web.conftest import hx

INDEX = "CREATE INDEX CONCURRENTLY idx_patients_email ON public.patients USING btree (email)"
VALIDATE = "ALTER TABLE public.patients VALIDATE CONSTRAINT patients_email_not_null_check"


def _stage_two(status_2: str, ms_2: float | None, *, at: int | None) -> dict[str, Any]:
    return {
        "done": 3 + (status_2 == "done"),
        "total": 4,
        "at": at,
        "stage": 2,
        "stage1": {"done": 2, "total": 2, "ms": 41.5},
        "steps": [
            {"index": 2, "sql": VALIDATE, "status": "done", "ms": 12.5},
            {"index": 3, "sql": INDEX, "status": status_2, "ms": ms_2},
        ],
    }


def _status(client: Any, p: Proposal, seen: str, done: str) -> Any:
    return client.get(
        f"/proposals/{p.pk}/status/?seen={seen}&done={done}", headers=hx("proposal-status")
    )


def test_the_second_stage_is_polled_step_by_step(client, alice, dangerous):
    first_stage = {
        "done": 2,
        "total": 4,
        "at": None,
        "stage": 1,
        "stage1": {"done": 2, "total": 2},
        "steps": [],
    }
    Proposal.objects.filter(pk=dangerous.pk).update(
        status=ProposalStatus.APPLYING, timings={"progress": first_stage}
    )
    client.force_login(alice)
    assert _status(client, dangerous, "applying", "12").status_code == 204  # nothing moved
    # The first stage commits: no count changes, the stage does, and the page hears of it.
    Proposal.objects.filter(pk=dangerous.pk).update(
        timings={"progress": _stage_two("pending", None, at=3)}
    )
    response = _status(client, dangerous, "applying", "12")
    assert response.status_code == 200
    body = response.content.decode()
    assert "stage 2 of 2 · step 2 of 2" in body
    stages = body[body.index('<div id="apply-stages"') :]
    assert 'hx-swap-oob="true"' in stages.split(">")[0]
    assert 'class="seg seg-stage1 st-done"' in stages
    assert "committed in 41.5 ms" in stages
    assert 'id="step-1"' in stages and "12.5 ms" in stages
    assert 'class="step st-running" id="step-2"' in stages and "running…" in stages
    assert "1 of 2 steps · running" in stages
    assert _status(client, dangerous, "applying", "23").status_code == 204


def test_a_failed_step_shows_failed_with_the_reason(client, alice, dangerous):
    reason = "Stage 2 step 2 of 2 (CREATE INDEX CONCURRENTLY ...) failed: SQLSTATE 23505"
    Proposal.objects.filter(pk=dangerous.pk).update(
        status=ProposalStatus.FAILED,
        error=reason,
        timings={"apply_mode": "online", "progress": _stage_two("failed", None, at=None)},
    )
    client.force_login(alice)
    body = client.get(f"/proposals/{dangerous.pk}/").content.decode()
    stages = body[body.index('<div id="apply-stages"') : body.index('id="proposal-alerts"')]
    assert 'class="seg seg-step st-failed"' in stages
    assert 'class="step st-failed" id="step-2"' in stages
    assert "Step 2 failed" in stages and "Stage 1 stays committed" in stages
    assert '1 of 2 steps · <span class="error">stopped</span>' in stages
    assert reason in body  # the banner says why


def test_a_change_in_one_transaction_shows_no_stage(client, alice, applied_v1):
    client.force_login(alice)
    body = client.get(f"/proposals/{applied_v1.pk}/").content.decode()
    assert '<div id="apply-stages">' in body
    assert 'class="stages' not in body
    assert "<th>Stage</th>" not in body
    assert "runs in one transaction; checksum" in body
