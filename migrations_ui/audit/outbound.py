"""Outbound events: a tenant's webhooks hear about its proposals and migrations.

The flow, and why each step is where it is:

1. ``workflow.events.record`` appends the audit event and calls ``announce(event)`` in the
   same transaction as the change: the event, its deliveries and their jobs commit together
   (a rolled-back change sends nothing, a crash after the commit loses nothing), and no
   delivery job can start before its row exists.
2. ``announce`` maps the audit action to an event type (``EVENT_FOR_ACTION``), and for every
   active endpoint of the tenant that subscribes to it, inserts a ``WebhookDelivery`` row and
   defers one procrastinate job on the ``webhooks`` queue (procrastinate's Django connector
   defers on Django's connection, inside that transaction). No network here: a slow or dead
   endpoint never slows the change that caused the event.
3. The job (``deliver_webhook``) makes one attempt: a JSON POST signed with HMAC-SHA256 over
   ``f"{timestamp}.{body}"`` (headers ``X-Signature: sha256=<hex>`` and
   ``X-Signature-Timestamp``), a short timeout, redirects refused, sent only to a public
   address, resolved once and connected to as resolved (``migrations_ui.audit.netguard``: a URL
   that leads to this machine or the private network is refused, and nothing is sent or
   shown of it). Every attempt is appended to
   ``WebhookDelivery.attempts``. A failure raises ``DeliveryFailed`` and procrastinate's
   ``RetryStrategy`` runs the job again later (exponential backoff, bounded attempts); the last
   failure marks the delivery failed.

Webhook jobs have a lower priority than the apply jobs, so a worker with a free slot always
takes an apply first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Func, Q, Value
from django.db.models.fields.json import JSONField
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from migrations_ui.audit.netguard import Unresolvable, UnsafeDestination, pinned_request, resolve
from migrations_ui.models import AuditCheckpoint, AuditEvent, MigrationRecord, Proposal
from migrations_ui.models.integrations import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
)

log = logging.getLogger(__name__)

WEBHOOK_QUEUE = "webhooks"
# Below the apply jobs' default priority (0): procrastinate hands a free worker slot to the
# highest priority first, so deliveries never make an apply wait for a slot they queued for.
WEBHOOK_PRIORITY = -10
PING = "ping"
USER_AGENT = "SchemaAutoBuilder-Webhooks/1"
# What an attempt keeps of the receiver's answer: enough to debug, never a whole page.
RESPONSE_EXCERPT = 500

# Audit action -> outbound event type. Actions not listed here are not announced.
EVENT_FOR_ACTION: dict[str, str] = {
    "proposal.submitted": EventType.PROPOSAL_SUBMITTED,
    "proposal.blocked": EventType.PROPOSAL_BLOCKED,
    "proposal.awaiting_approval": EventType.PROPOSAL_AWAITING_APPROVAL,
    # A change that moved under an approved plan goes back to review: to the receiver it is
    # awaiting approval again.
    "proposal.returned_for_review": EventType.PROPOSAL_AWAITING_APPROVAL,
    "proposal.approved": EventType.PROPOSAL_APPROVED,
    "proposal.rejected": EventType.PROPOSAL_REJECTED,
    "proposal.imported": EventType.PROPOSAL_IMPORTED,
    "proposal.applied": EventType.MIGRATION_APPLIED,
    "proposal.failed": EventType.MIGRATION_FAILED,
}


class DeliveryFailed(Exception):
    """One attempt failed; procrastinate's retry strategy schedules the next one."""


class DeliveryGaveUp(Exception):
    """The last attempt failed: the delivery is marked failed and the job is not retried."""


def event_type_for(action: str) -> str | None:
    """The outbound event type of an audit action, or None when it is not announced."""
    return EVENT_FOR_ACTION.get(action)


# ---- announcing: rows and jobs, no network --------------------------------------------------


def announce(event: AuditEvent) -> list[WebhookDelivery]:
    """Queue one delivery per subscribed endpoint for an audit event, in the transaction that
    wrote it (see ``workflow.events.record``). Safe to call twice: a delivery is unique per
    (endpoint, event id).
    """
    event_type = event_type_for(event.action)
    if event_type is None:
        return []
    endpoints = [
        e
        for e in WebhookEndpoint.objects.filter(tenant_id=event.tenant_id, is_active=True)
        if e.wants(event_type)
    ]
    if not endpoints:
        return []
    payload = build_payload(event, event_type)
    created = []
    for endpoint in endpoints:
        delivery = _create_delivery(endpoint, payload)
        if delivery is not None:
            created.append(delivery)
    return created


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery | None:
    """Queue a ``ping`` to one endpoint, whatever it subscribes to (the admin's test button)."""
    payload = {
        "id": f"ping_{uuid.uuid4().hex}",
        "type": PING,
        "created_at": timezone.now().isoformat(),
        "tenant": endpoint.tenant.slug,
        "data": {"message": "A test event from Schema Auto-Builder."},
    }
    return _create_delivery(endpoint, payload)


def _create_delivery(endpoint: WebhookEndpoint, payload: dict[str, Any]) -> WebhookDelivery | None:
    # The row and its job commit together: procrastinate's Django connector defers through
    # Django's connection, so it joins this transaction.
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                event_id=payload["id"],
                event_type=payload["type"],
                payload=payload,
            )
            job_id = defer_delivery(delivery.pk)
            WebhookDelivery.objects.filter(pk=delivery.pk).update(job_id=job_id)
            delivery.job_id = job_id
    except IntegrityError:
        log.info("event %s was already queued for endpoint %s", payload["id"], endpoint.pk)
        return None
    return delivery


def defer_delivery(delivery_id: int) -> int:
    """Defer the delivery job on the webhooks queue; returns the job id."""
    return deliver_webhook.configure(priority=WEBHOOK_PRIORITY).defer(delivery_id=delivery_id)


def build_payload(event: AuditEvent, event_type: str) -> dict[str, Any]:
    """The JSON body of an event: what happened, to which proposal, and the audit event it
    comes from (its id, seq and hash, so a receiver can ask the audit trail about it), and the
    chain's head when the body was built: a copy outside the app's database, which shows a
    later cut of the chain's end (see README, "Audit trail")."""
    payload: dict[str, Any] = {
        "id": f"evt_{event.pk}",
        "type": event_type,
        "created_at": event.created_at.isoformat(),
        "tenant": event.tenant.slug,
        "actor": event.actor_name,
        "request_id": event.request_id,
        "audit": {
            "id": event.pk,
            "action": event.action,
            "seq": event.seq,
            "hash": event.hash,
            "chain_head": AuditCheckpoint.head(event.tenant_id),
        },
        "data": event.data,
    }
    proposal = (
        Proposal.objects.select_related("target", "submitted_by")
        .filter(pk=event.proposal_id)
        .first()
        if event.proposal_id
        else None
    )
    if proposal is not None:
        payload["proposal"] = {
            "id": str(proposal.pk),
            # The status this event moved it to; by now it may have moved on.
            "status": event.data.get("to")
            or ("submitted" if event.action == "proposal.submitted" else proposal.status),
            "schema_version": proposal.schema_version,
            "description": proposal.description,
            "target": proposal.target.environment,
            "submitted_by": proposal.submitted_by.get_username(),
            "force_apply": proposal.force_apply,
            "plan_checksum": proposal.plan_checksum,
        }
        if event_type in (EventType.MIGRATION_APPLIED, EventType.MIGRATION_FAILED):
            record = MigrationRecord.objects.filter(proposal_id=proposal.pk).order_by("-id").first()
            payload["migration"] = (
                {
                    "log_id": record.log_id,
                    "version": record.version,
                    "status": record.status,
                    "checksum": record.checksum,
                    "error": record.error_message,
                }
                if record is not None
                else None
            )
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


# ---- signing ---------------------------------------------------------------------------------


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, keys sorted, UTF-8."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    ).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Signature`` value: ``sha256=`` + HMAC-SHA256(secret, ``timestamp.body``)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """What a receiver does: recompute the signature (constant-time compare) and refuse a
    timestamp older than ``tolerance_s`` (a replayed request)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# ---- delivering: one attempt per job run ------------------------------------------------------


def deliver(delivery_id: int) -> str:
    """Make one attempt at a delivery and log it. Returns the delivery's status.

    Raises ``DeliveryFailed`` when the attempt failed and another is allowed (the job is
    retried), ``DeliveryGaveUp`` after the last allowed attempt (the delivery is failed).
    """
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    if delivery.status == DeliveryStatus.SUCCEEDED:
        return delivery.status  # a re-run of a job that already succeeded: send nothing twice
    endpoint = delivery.endpoint
    attempt_no = len(delivery.attempts or []) + 1
    started = time.monotonic()
    refused = not endpoint.is_active
    if endpoint.is_active:
        try:
            status_code, error, excerpt = _post(endpoint, delivery, attempt_no)
        except UnsafeDestination as exc:
            # Nothing was sent: no answer to show. Retrying cannot make the address public.
            status_code, error, excerpt, refused = None, f"Refused: the URL {exc}.", "", True
    else:
        status_code, error, excerpt = None, "The endpoint is disabled.", ""
    ok = status_code is not None and 200 <= status_code < 300
    attempt = {
        "n": attempt_no,
        "at": timezone.now().isoformat(),
        "status_code": status_code,
        "error": error,
        "ms": round((time.monotonic() - started) * 1000, 1),
        "response": excerpt,
    }
    final = not ok and (attempt_no >= settings.WEBHOOK_MAX_ATTEMPTS or refused)
    if ok:
        status = DeliveryStatus.SUCCEEDED
    else:
        status = DeliveryStatus.FAILED if final else DeliveryStatus.PENDING
    _log_attempt(delivery.pk, attempt, status)
    if ok:
        return status
    what = error or f"HTTP {status_code}"
    if final:
        raise DeliveryGaveUp(f"delivery {delivery.pk} failed after {attempt_no} attempts: {what}")
    raise DeliveryFailed(f"delivery {delivery.pk}, attempt {attempt_no}: {what}")


def _post(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, attempt_no: int
) -> tuple[int | None, str, str]:
    """(status code or None, error, response excerpt) of one signed POST.

    The host is resolved here, checked (``netguard``) and the request goes to that address;
    ``UnsafeDestination`` is raised before anything is sent when it is not public.
    """
    try:
        destination = resolve(endpoint.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE)
    except Unresolvable as exc:
        return None, f"Cannot resolve the host: {exc}", ""
    url, host_header, extensions = pinned_request(destination)
    body = body_bytes(delivery.payload)
    timestamp = str(int(time.time()))
    headers = {
        **host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature": sign(endpoint.secret, timestamp, body),
        "X-Signature-Timestamp": timestamp,
        "X-Event-Id": delivery.event_id,
        "X-Event-Type": delivery.event_type,
        "X-Delivery-Id": str(delivery.pk),
        "X-Delivery-Attempt": str(attempt_no),
    }
    # No proxy from the environment (it would resolve the name again, elsewhere) and no
    # redirects: a redirect would send the signed event to a host nobody checked.
    with httpx.Client(
        trust_env=False, follow_redirects=False, timeout=settings.WEBHOOK_TIMEOUT_S
    ) as client:
        try:
            with client.stream(
                "POST", url, content=body, headers=headers, extensions=extensions
            ) as response:
                excerpt = _excerpt(response)
        except httpx.TimeoutException as exc:
            return None, f"{type(exc).__name__}: timed out after {settings.WEBHOOK_TIMEOUT_S} s", ""
        except (httpx.HTTPError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}", ""
    code = response.status_code
    if 200 <= code < 300:
        return code, "", excerpt
    if response.is_redirect:
        return code, f"HTTP {code} {response.reason_phrase}: redirects are not followed", excerpt
    return code, f"HTTP {code} {response.reason_phrase}", excerpt


def _excerpt(response: httpx.Response) -> str:
    """The first ``RESPONSE_EXCERPT`` bytes of the answer; the rest is never read."""
    kept = b""
    for chunk in response.iter_raw():
        kept += chunk
        if len(kept) >= RESPONSE_EXCERPT:
            break
    return kept[:RESPONSE_EXCERPT].decode("utf-8", "replace")


def _log_attempt(delivery_id: int, attempt: dict[str, Any], status: str) -> None:
    # Append in SQL (jsonb ||): two runs of the same job (a stalled worker's, retried) never
    # lose each other's attempt.
    appended = Func(
        F("attempts"),
        Value(json.dumps([attempt], cls=DjangoJSONEncoder)),
        template="(%(expressions)s::jsonb)",
        arg_joiner=" || ",
        output_field=JSONField(),
    )
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        attempts=appended,
        status=status,
        delivered_at=timezone.now() if status == DeliveryStatus.SUCCEEDED else None,
    )


@app.task(
    queue=WEBHOOK_QUEUE,
    name="deliver_webhook",
    priority=WEBHOOK_PRIORITY,
    pass_context=False,
    # Retries after wait ** (attempt + 1) seconds: 5, 25, 125, 625, 3125 s with the defaults.
    # Only DeliveryFailed is retried; DeliveryGaveUp (the last attempt) ends the job.
    retry=RetryStrategy(
        max_attempts=max(settings.WEBHOOK_MAX_ATTEMPTS - 1, 0),
        exponential_wait=settings.WEBHOOK_RETRY_BASE_S,
        retry_exceptions=[DeliveryFailed],
    ),
)
def deliver_webhook(delivery_id: int) -> None:
    """The job: one attempt at one delivery (see ``deliver``)."""
    deliver(delivery_id)


# ---- the sweeper: a pending delivery always has a live job ----------------------------------

# Waiting or running: any other job (failed, succeeded, deleted) makes no more attempts.
LIVE_JOB_STATES = ("todo", "doing")


def redefer_lost(*, older_than: timedelta) -> int:
    """Defer a new job for every pending delivery (older than ``older_than``) that has no
    live job: a job that died with an error we did not foresee, or one lost before rows and
    jobs were written together. Returns how many were deferred again."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    live = ProcrastinateJob.objects.filter(
        task_name="deliver_webhook", status__in=LIVE_JOB_STATES
    ).values("id")
    lost = (
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, created_at__lt=timezone.now() - older_than
        )
        .filter(Q(job_id__isnull=True) | ~Q(job_id__in=live))
        .values_list("pk", flat=True)
    )
    count = 0
    for delivery_id in lost:
        with transaction.atomic():
            job_id = defer_delivery(delivery_id)
            WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
                job_id=job_id
            )
        log.warning("delivery %s had no live job: deferred again as job %s", delivery_id, job_id)
        count += 1
    return count


@app.periodic(cron="*/2 * * * *", periodic_id="redeliver-lost")
@app.task(queue="heartbeat", name="redefer_lost_deliveries", pass_context=False)
def redefer_lost_deliveries(timestamp: int) -> None:
    redefer_lost(older_than=timedelta(minutes=2))
