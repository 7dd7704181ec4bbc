"""The blueprint's JSON Schema, for editors: /api/v1/blueprint.schema.json (the payload) and
/api/v1/envelope.schema.json (the envelope around it).

Public, like /api/v1/openapi.json and /api/v1/docs: it describes the contract and holds no
tenant's data. The text only changes with a deploy, so it carries an ETag (a conditional
request answers 304) and may be cached for an hour.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from ninja import Router

from schemabuilder.engine import envelope_json_schema, payload_json_schema

router = Router(tags=["blueprint"])

MAX_AGE_SECONDS = 3600
# The answer's media type is JSON Schema's own, so editors and clients know what it is.
DOCUMENTED = {
    "responses": {
        "200": {
            "description": "The JSON Schema (draft 2020-12)",
            "content": {"application/schema+json": {"schema": {"type": "object"}}},
        }
    }
}


@functools.cache
def _body(which: str) -> tuple[bytes, str]:
    source: Callable[[], dict[str, Any]] = (
        payload_json_schema if which == "payload" else envelope_json_schema
    )
    body = json.dumps(source(), indent=2, ensure_ascii=False).encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _answer(request: HttpRequest, which: str) -> HttpResponse:
    body, etag = _body(which)
    wanted = request.headers.get("If-None-Match", "")
    matches = etag in {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
    response: HttpResponse = (
        HttpResponseNotModified()
        if matches
        else HttpResponse(body, content_type="application/schema+json")
    )
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
    return response


@router.get(
    "/blueprint.schema.json",
    auth=None,
    response={304: None},
    openapi_extra=DOCUMENTED,
    summary="The JSON Schema of a blueprint (the payload)",
    description="For editors: validate a blueprint as it is typed. The engine's validation "
    "stays the authority (names, SQL fragments, rules between tables). See docs/blueprint.md.",
)
def blueprint_schema(request: HttpRequest) -> HttpResponse:
    return _answer(request, "payload")


@router.get(
    "/envelope.schema.json",
    auth=None,
    response={304: None},
    openapi_extra=DOCUMENTED,
    summary="The JSON Schema of an envelope around a blueprint",
    description="meta, subject, payload and context, as POST /api/v1/proposals takes them.",
)
def envelope_schema(request: HttpRequest) -> HttpResponse:
    return _answer(request, "envelope")
