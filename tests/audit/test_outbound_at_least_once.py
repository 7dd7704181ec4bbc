"""At least once: an event's deliveries and their jobs are written in the transaction of the
change, so neither a crash after the commit nor a job that starts early can lose one; a
pending delivery whose job is gone is deferred again by the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction

from migrations_ui.audit import outbound
from migrations_ui.models import AuditEvent
from migrations_ui.models.integrations import DeliveryStatus, WebhookDelivery
from tests.audit.conftest import make_proposal
from tests.audit.test_webhooks import endpoint_for


def job_status(job_id: int | None) -> str | None:
    with connection.cursor() as cur:
        cur.execute("SELECT status FROM procrastinate_jobs WHERE id = %s", [job_id])
        row = cur.fetchone()
    return row[0] if row else None


def test_the_delivery_and_its_job_are_written_with_the_event(tenant, alice):
    """No on_commit callback runs here (the test's transaction never commits): what a crash
    right after the commit would leave is what is in the transaction."""
    endpoint_for(tenant, "http://127.0.0.1:9/all")
    with transaction.atomic():
        proposal = make_proposal(tenant, alice)
        delivery = WebhookDelivery.objects.get()
        # The job sees its row: both are in the transaction of the event.
        assert job_status(delivery.job_id) == "todo"
    event = AuditEvent.objects.get(proposal=proposal)
    assert delivery.event_id == f"evt_{event.pk}"


def test_a_rolled_back_change_leaves_no_delivery_and_no_job(tenant, alice):
    endpoint_for(tenant, "http://127.0.0.1:9/all")
    with pytest.raises(RuntimeError), transaction.atomic():
        make_proposal(tenant, alice)
        job_id = WebhookDelivery.objects.get().job_id
        raise RuntimeError("the change fails after its event was written")
    assert not WebhookDelivery.objects.exists()
    assert job_status(job_id) is None


def test_a_pending_delivery_without_a_live_job_is_deferred_again(tenant, alice):
    endpoint_for(tenant, "http://127.0.0.1:9/all")
    make_proposal(tenant, alice)
    make_proposal(tenant, alice, version="002")
    lost, kept = WebhookDelivery.objects.order_by("id")
    with connection.cursor() as cur:  # its job died of an error nobody foresaw
        cur.execute("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = %s", [lost.job_id])
    assert outbound.redefer_lost(older_than=timedelta(0)) == 1
    lost.refresh_from_db()
    kept_job = kept.job_id
    kept.refresh_from_db()
    assert lost.status == DeliveryStatus.PENDING and job_status(lost.job_id) == "todo"
    assert kept.job_id == kept_job  # a live job is left alone
    assert outbound.redefer_lost(older_than=timedelta(0)) == 0
