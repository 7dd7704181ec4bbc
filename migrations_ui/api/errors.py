"""Every error of the API answers JSON: a stable ``code``, a ``message`` a person can act on,
and, for validation, ``errors``: the list of ``{path, message}``.

The exception handlers cover everything raised inside an API operation; the middleware covers
what Django answers before or around it (unknown URLs, wrong methods, crashes).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from migrations_ui import workflow
from migrations_ui.models import InvalidTransition, NotAllowedError, StalePlan
from migrations_ui.workflow.baseline import BaselineRefused
from migrations_ui.workflow.version_rule import VersionRefused
from schemabuilder.engine import BlueprintInvalid

log = logging.getLogger(__name__)

# The URL prefixes whose every error is JSON.
API_PREFIXES = ("/api/v1/", "/wf106/")

# The code for an HTTP status when nothing more precise is known.
CODE_FOR_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


class ApiError(Exception):
    """An answer other than success, raised anywhere below an operation."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        errors: Iterable[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = list(errors) if errors is not None else None
        self.headers = headers or {}


def error_body(
    code: str, message: str, errors: Iterable[dict[str, str]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors is not None:
        body["errors"] = list(errors)
    return body


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    errors: Iterable[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, errors), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def invalid(errors: Iterable[dict[str, str]], message: str = "") -> ApiError:
    found = list(errors)
    count = len(found)
    return ApiError(
        400,
        "invalid",
        message or f"The request is invalid: {count} problem{'s' if count != 1 else ''}.",
        errors=found,
    )


def _ninja_path(loc: Iterable[Any]) -> str:
    parts = list(loc)
    if parts[:2] == ["body", "body"]:
        parts = parts[1:]  # the operation's body parameter is called body: say it once
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


def _handlers() -> dict[type[Exception], Callable[[Exception], ApiError]]:
    """Domain exceptions → the API's answer. One table, so every operation answers alike."""
    return {
        BlueprintInvalid: lambda exc: invalid(
            exc.as_dicts(),  # type: ignore[attr-defined]
            f"The blueprint is invalid: {len(exc.issues)} problem"  # type: ignore[attr-defined]
            f"{'s' if len(exc.issues) != 1 else ''}.",  # type: ignore[attr-defined]
        ),
        workflow.NotFound: lambda exc: ApiError(404, "not_found", str(exc)),
        NotAllowedError: lambda exc: ApiError(403, "not_allowed", str(exc)),
        workflow.IdempotencyConflict: lambda exc: ApiError(409, "idempotency_conflict", str(exc)),
        VersionRefused: lambda exc: ApiError(
            409,
            "version_conflict",
            exc.issue.message,  # type: ignore[attr-defined]
            errors=[{"path": exc.issue.path, "message": exc.issue.message}],  # type: ignore[attr-defined]
        ),
        BaselineRefused: lambda exc: ApiError(409, "baseline_refused", str(exc)),
        InvalidTransition: lambda exc: ApiError(409, "invalid_transition", str(exc)),
        StalePlan: lambda exc: ApiError(409, "plan_changed", str(exc)),
        workflow.TargetUnavailable: lambda exc: ApiError(503, "target_unavailable", str(exc)),
    }


def install(api: NinjaAPI) -> None:
    """Make every exception an operation can raise answer the API's error JSON."""

    def answer(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(
            exc.status, exc.code, exc.message, errors=exc.errors, headers=exc.headers
        )

    api.add_exception_handler(ApiError, answer)  # type: ignore[arg-type]

    for exc_class, convert in _handlers().items():

        def handler(
            request: HttpRequest, exc: Exception, convert: Callable[..., ApiError] = convert
        ) -> HttpResponse:
            return answer(request, convert(exc))

        api.add_exception_handler(exc_class, handler)

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"path": _ninja_path(e.get("loc", ())), "message": str(e.get("msg", "is invalid"))}
            for e in exc.errors
        ]
        return answer(request, invalid(errors))

    def on_authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = answer(
            request,
            ApiError(
                401,
                "unauthenticated",
                "Authenticate with the header 'Authorization: Bearer <token>'. Create a token "
                "at /settings/tokens/ or with 'python manage.py create_token USER'.",
            ),
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = CODE_FOR_STATUS.get(exc.status_code, "error")
        return answer(request, ApiError(exc.status_code, code, str(exc)))

    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, ApiError(404, "not_found", str(exc) or "Not found."))

    def on_crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API error on %s %s", request.method, request.path)
        return answer(
            request,
            ApiError(
                500,
                "internal_error",
                "Something went wrong on the server; the error is logged with the request id "
                f"{getattr(request, 'request_id', '')}.",
            ),
        )

    api.add_exception_handler(ValidationError, on_validation)  # type: ignore[arg-type]
    api.add_exception_handler(AuthenticationError, on_authentication)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, on_404)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, on_crash)


class JsonErrorsMiddleware:
    """Errors under the API's URLs that Django answers itself (an unknown URL, a method the
    operation does not take, a crash outside the operation) become the API's error JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIXES)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        code = CODE_FOR_STATUS.get(status, "error")
        message = {
            404: f"No API endpoint at {request.path}: see /api/v1/docs.",
            405: f"{request.method} is not allowed here; allowed: {response.get('Allow', '')}.",
        }.get(status, HTTPStatus(status).phrase if status in HTTPStatus else "Error")
        replacement = HttpResponse(
            json.dumps(error_body(code, message)), status=status, content_type="application/json"
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate", "X-Request-Id"):
            if header in response:
                replacement[header] = response[header]
        return replacement
