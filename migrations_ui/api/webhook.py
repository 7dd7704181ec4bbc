"""POST /wf106/schema-builder: the seed's webhook. Takes the seed's input contract and answers
its output contract exactly, after waiting for the result ("respond at end").

Status codes: 400 invalid (with every validation error), 200 applied or noop, 409 blocked
(or rejected or cancelled by a person: result.status "failed"), 202 pending approval or still
queued, 500 failed.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from django.http import HttpRequest, JsonResponse
from ninja import Query, Router

from migrations_ui import workflow
from migrations_ui.api.auth import audit_token_write
from migrations_ui.api.contract import output_contract, sha256_tagged
from migrations_ui.api.errors import ApiError, error_body
from migrations_ui.api.inputs import max_wait, read_json_body
from migrations_ui.api.proposals import ENVELOPE_BODY, errors
from migrations_ui.api.schemas import (
    ContractOut,
    ErrorOut,
    WebhookInvalidOut,
    idempotency_header,
)
from migrations_ui.models import ProposalStatus, Source
from schemabuilder.engine import BlueprintInvalid

router = Router(tags=["webhook"])

HTTP_STATUS = {
    "applied": 200,
    "noop": 200,
    "blocked": 409,
    "pending_approval": 202,
    "queued": 202,
    "failed": 500,
}
DEFAULT_WAIT = 30
DECIDED_BY_A_PERSON = (ProposalStatus.REJECTED, ProposalStatus.CANCELLED)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _invalid(exc: ApiError, body: Any, started: float) -> JsonResponse:
    """400 in the API's error form, with the seed's meta_out to match it to the run."""
    answer = error_body(exc.code, exc.message, exc.errors)
    meta = body.get("meta") if isinstance(body, dict) else None
    run_id = meta.get("workflow_run_id") if isinstance(meta, dict) else None
    answer["meta_out"] = {
        "workflow_name": "WF106",
        "workflow_run_id": run_id if isinstance(run_id, str) else "",
        "latency_ms": _ms(started),
        "success": False,
        "inputs_hash": sha256_tagged(body),
        "outputs_hash": sha256_tagged(error_body(exc.code, exc.message, exc.errors)),
    }
    return JsonResponse(answer, status=400)


@router.post(
    "/schema-builder",
    response={
        200: ContractOut,
        202: ContractOut,
        400: WebhookInvalidOut,
        409: ContractOut | ErrorOut,
        500: ContractOut | ErrorOut,
        **errors(401, 403, 404, 413, 429),
    },
    openapi_extra=ENVELOPE_BODY,
    operation_id="wf106SchemaBuilder",
    summary="The seed's webhook: envelope in, output contract out",
    description=(
        "200 applied or noop (a retried request for an applied change answers noop), 409 "
        "blocked, or rejected or cancelled by a person (result.status failed), or an "
        "idempotency key reused for a different blueprint (error JSON); 202 pending approval "
        "or still queued after `wait` seconds; 500 failed; 400 invalid with every error."
    ),
)
def schema_builder(
    request: HttpRequest,
    wait: Annotated[
        int, Query(ge=0, le=60, description="Seconds to wait for the result (default 30).")
    ] = DEFAULT_WAIT,
    idempotency_key: Annotated[str | None, idempotency_header()] = None,
) -> JsonResponse:
    started = time.monotonic()
    body: Any = None
    try:
        body = read_json_body(request)
        submission = workflow.submit(
            user=request.auth,
            envelope=body,
            source=Source.WEBHOOK,
            idempotency_key=idempotency_key,
        )
    except BlueprintInvalid as exc:
        return _invalid(ApiError(400, "invalid", _count(exc), errors=exc.as_dicts()), body, started)
    except ApiError as exc:
        if exc.status == 400:
            return _invalid(exc, body, started)
        raise
    proposal = submission.proposal
    audit_token_write(
        request,
        tenant=proposal.tenant,
        proposal=proposal,
        operation="webhook",
        replay=not submission.created,
    )
    if wait:
        proposal = workflow.wait_until_final(proposal, min(wait, max_wait()))
    answer = output_contract(
        proposal, request_body=body, latency_ms=_ms(started), replay=not submission.created
    )
    status = HTTP_STATUS[answer["result"]["status"]]
    if proposal.status in DECIDED_BY_A_PERSON:
        # Rejected or cancelled: the contract calls it failed, but the server did not fail;
        # someone decided. Resubmitting as it is will not help, as for blocked.
        status = 409
    response = JsonResponse(answer, status=status)
    response["X-Proposal-Id"] = str(proposal.pk)
    return response


def _count(exc: BlueprintInvalid) -> str:
    n = len(exc.issues)
    return f"The blueprint is invalid: {n} problem{'s' if n != 1 else ''}."
