"""Outbound events: a committed change queues signed deliveries to the tenant's endpoints; each
delivery is a procrastinate job that retries with backoff and logs every attempt."""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection, transaction

from migrations_ui import workflow
from migrations_ui.audit import outbound
from migrations_ui.audit.outbound import DeliveryFailed, DeliveryGaveUp, deliver, verify_signature
from migrations_ui.models import AuditEvent, ProposalStatus, Source
from migrations_ui.models.integrations import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from migrations_ui.workflow.submission import submit
from tests.apply.blueprints import seed_envelope
from tests.apply.conftest import wait_for
from tests.audit.conftest import make_proposal, plan

SECRET = "whsec_test"


def endpoint_for(tenant, url: str, events: list[str] | None = None, **fields) -> WebhookEndpoint:  # type: ignore[no-untyped-def]
    return WebhookEndpoint.objects.create(
        tenant=tenant, url=url, secret=SECRET, event_types=events or [], **fields
    )


def jobs_for(delivery: WebhookDelivery) -> list[tuple[str, str, int, int]]:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT queue_name, status, priority, attempts FROM procrastinate_jobs WHERE id = %s",
            [delivery.job_id],
        )
        return cur.fetchall()


def test_a_committed_change_queues_one_delivery_per_subscribed_endpoint(
    tenant, other_tenant, alice, django_capture_on_commit_callbacks
):
    everything = endpoint_for(tenant, "http://127.0.0.1:9/all")
    applied_only = endpoint_for(tenant, "http://127.0.0.1:9/applied", ["migration.applied"])
    endpoint_for(tenant, "http://127.0.0.1:9/off", is_active=False)
    endpoint_for(other_tenant, "http://127.0.0.1:9/other")

    with django_capture_on_commit_callbacks(execute=True):
        proposal = make_proposal(tenant, alice, version="2.0")
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == everything and delivery.event_type == "proposal.submitted"
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == []
    event = AuditEvent.objects.get(proposal=proposal)
    assert delivery.event_id == f"evt_{event.pk}"
    payload = delivery.payload
    assert payload["type"] == "proposal.submitted" and payload["tenant"] == "t_demo"
    assert payload["proposal"]["id"] == str(proposal.pk)
    assert payload["proposal"]["schema_version"] == "2.0"
    assert payload["proposal"]["status"] == "submitted"
    assert payload["audit"] == {
        "id": event.pk,
        "action": "proposal.submitted",
        "seq": event.seq,
        "hash": event.hash,
        # The chain's head leaves the database with every event (a copy a tail cut cannot reach).
        "chain_head": {"seq": event.seq, "hash": event.hash},
    }
    # One job on the webhooks queue, below the apply jobs' priority, not yet run.
    assert jobs_for(delivery) == [("webhooks", "todo", outbound.WEBHOOK_PRIORITY, 0)]
    assert not WebhookDelivery.objects.filter(endpoint=applied_only).exists()


def test_audit_actions_map_to_event_types(tenant, alice, bob, django_capture_on_commit_callbacks):
    endpoint_for(tenant, "http://127.0.0.1:9/all")
    with django_capture_on_commit_callbacks(execute=True):
        proposal = make_proposal(tenant, alice, force_apply=True)
        plan(proposal)  # proposal.planned: not announced
        workflow.settle(proposal)
        workflow.approve(
            proposal, bob, proposal.plan_checksum, comment="ok"
        )  # approved, then queued (not announced)
        proposal.refresh_from_db()
        workflow.start_applying(proposal)
        workflow.mark_failed(proposal, "boom")
    assert list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "proposal.submitted",
        "proposal.awaiting_approval",
        "proposal.approved",
        "migration.failed",
    ]
    failed = WebhookDelivery.objects.get(event_type="migration.failed").payload
    assert failed["proposal"]["status"] == ProposalStatus.FAILED
    assert failed["migration"]["status"] == "failed" and failed["migration"]["error"] == "boom"


def test_a_rolled_back_change_sends_nothing(tenant, alice, django_capture_on_commit_callbacks):
    endpoint_for(tenant, "http://127.0.0.1:9/all")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        make_proposal(tenant, alice)
        raise RuntimeError("the change fails after its event was written")
    assert callbacks == []
    assert not WebhookDelivery.objects.exists() and not AuditEvent.objects.exists()


def test_the_signature_verifies_at_the_receiver(
    tenant, alice, receiver, django_capture_on_commit_callbacks
):
    hook = receiver([200])
    endpoint_for(tenant, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    delivery = WebhookDelivery.objects.get()
    assert deliver(delivery.pk) == DeliveryStatus.SUCCEEDED

    [request] = hook.requests
    signature = request.headers["X-Signature"]
    timestamp = request.headers["X-Signature-Timestamp"]
    assert signature.startswith("sha256=")
    assert verify_signature(SECRET, request.body, timestamp, signature)
    assert not verify_signature("another secret", request.body, timestamp, signature)
    assert not verify_signature(SECRET, request.body + b" ", timestamp, signature)
    assert not verify_signature(SECRET, request.body, timestamp, signature, now=time.time() + 3600)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Event-Id"] == delivery.event_id
    assert request.json == delivery.payload
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.delivered_at is not None
    assert [a["status_code"] for a in delivery.attempts] == [200]


def test_a_receiver_failing_twice_then_succeeding_gets_three_attempts(
    tenant, alice, receiver, django_capture_on_commit_callbacks
):
    hook = receiver([500, 503, 200])
    endpoint_for(tenant, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    delivery = WebhookDelivery.objects.get()
    for _ in range(2):
        with pytest.raises(DeliveryFailed):
            deliver(delivery.pk)
    assert deliver(delivery.pk) == DeliveryStatus.SUCCEEDED
    assert deliver(delivery.pk) == DeliveryStatus.SUCCEEDED  # a re-run sends nothing twice
    delivery.refresh_from_db()
    assert [a["status_code"] for a in delivery.attempts] == [500, 503, 200]
    assert [a["n"] for a in delivery.attempts] == [1, 2, 3]
    assert delivery.status == DeliveryStatus.SUCCEEDED and len(hook.requests) == 3


def test_the_last_allowed_attempt_marks_the_delivery_failed(
    tenant, alice, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    hook = receiver([500])
    endpoint_for(tenant, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(DeliveryFailed):
        deliver(delivery.pk)
    with pytest.raises(DeliveryGaveUp):
        deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and len(delivery.attempts) == 2
    assert delivery.attempts[-1]["error"].startswith("HTTP 500")


def test_a_redirect_is_not_followed(tenant, alice, receiver, django_capture_on_commit_callbacks):
    elsewhere = receiver([200])
    hook = receiver([302], redirect_to=elsewhere.url)
    endpoint_for(tenant, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    with pytest.raises(DeliveryFailed):
        deliver(WebhookDelivery.objects.get().pk)
    assert len(hook.requests) == 1 and elsewhere.requests == []
    assert WebhookDelivery.objects.get().attempts[0]["status_code"] == 302


def test_a_silent_endpoint_times_out_and_is_logged(
    tenant, alice, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_S = 0.5
    hook = receiver([200], hold=True)
    endpoint_for(tenant, hook.url)
    with django_capture_on_commit_callbacks(execute=True):
        make_proposal(tenant, alice)
    with pytest.raises(DeliveryFailed):
        deliver(WebhookDelivery.objects.get().pk)
    attempt = WebhookDelivery.objects.get().attempts[0]
    assert attempt["status_code"] is None and "timed out" in attempt["error"]


# ---- through a real worker process ------------------------------------------------------------


@pytest.mark.slow
def test_the_worker_retries_with_backoff_until_the_receiver_answers(
    transactional_db, tenant, alice, receiver, workers
):
    hook = receiver([500, 500, 200])
    endpoint_for(tenant, hook.url)
    make_proposal(tenant, alice)  # committed: announced
    delivery = WebhookDelivery.objects.get()
    # No waiting between attempts in this test: 0 ** n seconds of backoff.
    workers.start(extra_env={"WEBHOOK_RETRY_BASE_S": "0", "SB_WEBHOOK_ALLOW_PRIVATE": "1"})

    def done() -> bool:
        delivery.refresh_from_db()
        return delivery.status != DeliveryStatus.PENDING

    wait_for(done, 60, "the delivery to succeed")
    assert delivery.status == DeliveryStatus.SUCCEEDED, workers.logs()
    assert [a["status_code"] for a in delivery.attempts] == [500, 500, 200]
    assert len(hook.requests) == 3
    for request in hook.requests:
        headers = request.headers
        assert verify_signature(
            SECRET, request.body, headers["X-Signature-Timestamp"], headers["X-Signature"]
        )
    # One job, run three times (retried twice by procrastinate's retry strategy): succeeded.
    wait_for(lambda: jobs_for(delivery)[0][1] != "doing", 30, "the job to end")
    assert jobs_for(delivery) == [("webhooks", "succeeded", outbound.WEBHOOK_PRIORITY, 3)]


@pytest.mark.slow
def test_a_dead_endpoint_never_holds_up_the_apply(people, receiver, workers, target_url):
    hook = receiver([200], hold=True)  # takes every request and answers none
    endpoint_for(people.tenant, hook.url)
    workers.start(extra_env={"WEBHOOK_TIMEOUT_S": "120", "SB_WEBHOOK_ALLOW_PRIVATE": "1"})
    proposal = submit(user=people.alice, envelope=seed_envelope(), source=Source.API).proposal

    def applied() -> bool:
        proposal.refresh_from_db()
        return proposal.is_final

    wait_for(applied, 120, "the proposal to be applied")
    assert proposal.status == ProposalStatus.APPLIED, proposal.error + workers.logs()
    # The receiver is still holding the first delivery: the apply did not wait for it.
    assert hook.held.is_set() and hook.hold is not None and not hook.hold.is_set()
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 0
    # The worker announces the applied change once it committed.
    wait_for(
        lambda: WebhookDelivery.objects.filter(event_type="migration.applied").exists(),
        30,
        "the migration.applied delivery",
    )
    applied_payload = WebhookDelivery.objects.get(event_type="migration.applied").payload
    assert applied_payload["migration"]["status"] == "success"
    assert json.dumps(applied_payload)  # plain JSON
    hook.release()


def test_the_admin_sends_a_test_event_and_sends_a_failed_delivery_again(carol, tenant, receiver):
    from django.test import Client
    from django.urls import reverse

    hook = receiver([500, 200])
    endpoint = endpoint_for(tenant, hook.url, ["migration.applied"])
    client = Client()
    client.force_login(carol)
    response = client.post(
        reverse("admin:migrations_ui_webhookendpoint_changelist"),
        {"action": "send_test_event", "_selected_action": [endpoint.pk]},
    )
    assert response.status_code == 302
    ping = WebhookDelivery.objects.get()
    assert ping.event_type == "ping" and jobs_for(ping)[0][:2] == ("webhooks", "todo")
    with pytest.raises(DeliveryFailed):
        deliver(ping.pk)
    WebhookDelivery.objects.filter(pk=ping.pk).update(status=DeliveryStatus.FAILED)
    first_job = ping.job_id

    client.post(
        reverse("admin:migrations_ui_webhookdelivery_changelist"),
        {"action": "send_again", "_selected_action": [ping.pk]},
    )
    ping.refresh_from_db()
    assert ping.status == DeliveryStatus.PENDING and ping.job_id != first_job
    assert jobs_for(ping)[0][:2] == ("webhooks", "todo")
    assert deliver(ping.pk) == DeliveryStatus.SUCCEEDED
    ping.refresh_from_db()
    assert [a["status_code"] for a in ping.attempts] == [500, 200]
    assert json.loads(hook.requests[0].body)["type"] == "ping"
