"""Reading what a request sends: the JSON body (within the size limit), and how long the caller
may wait."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from migrations_ui.api.errors import ApiError, invalid
from schemabuilder.engine import BlueprintInvalid, json_text


def max_wait() -> int:
    return int(settings.API_MAX_WAIT_SECONDS)


def read_json_body(request: HttpRequest) -> Any:
    """The request's JSON document; 413 over the size limit, 400 when it is not JSON."""
    limit = int(settings.API_MAX_BODY_BYTES)
    too_big = ApiError(
        413,
        "payload_too_large",
        f"The request body is larger than the limit of {limit:,} bytes: split the blueprint "
        "into smaller ones.",
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise too_big
    if hasattr(request, "_body"):
        raw = request.body
    else:
        # Read the stream ourselves: the API's limit, not DATA_UPLOAD_MAX_MEMORY_SIZE (meant
        # for forms), decides; a body without Content-Length is cut at the limit too.
        raw = request.read(limit + 1)
        request._body = raw  # type: ignore[attr-defined]  # request.body keeps working
    if len(raw) > limit:
        raise too_big
    if not raw.strip():
        raise invalid(
            [{"path": "(body)", "message": "the body is empty: send the envelope as JSON"}],
            "The request has no body.",
        )
    try:
        return json_text.loads(raw)
    except BlueprintInvalid as exc:
        raise invalid(exc.as_dicts(), "The body has duplicate keys.") from None
    except RecursionError:
        raise invalid(
            [{"path": "(body)", "message": "is nested too deeply to read"}],
            "The body is nested too deeply.",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            400,
            "invalid_json",
            f"The body is not valid JSON: {exc}",
            errors=[{"path": "(body)", "message": f"not valid JSON: {exc}"}],
        ) from None
