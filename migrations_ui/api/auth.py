"""Who is calling: a personal API token (automation) or the browser's session (people).

A token acts as its user: the user's memberships decide what it may do. Token requests are
exempt from CSRF (no cookie is involved); session requests keep Django's CSRF protection.
Every request counts against its user's rate limit (all of the user's tokens and their
browser session together: minting more tokens buys no more requests), and every write made
with a token leaves an audit event. A token made by anyone but its user is refused.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from migrations_ui.api.errors import ApiError
from migrations_ui.models import ApiToken, AuditEvent, Proposal, RateWindow, Tenant
from migrations_ui.models.integrations import hash_token

# Writing last_used_at on every request would turn every read into a write; once a minute
# is as precise as a person reading "last used" needs.
LAST_USED_PRECISION = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``: a live token of an active user, within its rate."""

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get(self.header, "")
        scheme, _, raw = header.partition(" ")
        if not header or scheme.lower() != "bearer":
            return None  # not ours: the session may still authenticate the request
        return self.authenticate(request, raw.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).first()
            if token
            else None
        )
        # A bearer header that does not name a live token is an error in its own right:
        # falling through to the session would answer a confusing CSRF failure instead.
        if found is None or not found.user.is_active:
            raise ApiError(401, "invalid_token", "The bearer token is not valid.", headers=_www)
        if not found.is_active:
            raise ApiError(
                401, "invalid_token", f"The token {found.prefix}… was revoked.", headers=_www
            )
        if not found.made_by_its_user:
            # Made for this person by someone else (an admin, before only its user could make
            # one): whoever made it could act in their name.
            raise ApiError(
                401,
                "invalid_token",
                f"The token {found.prefix}… was not made by its user, so it does not count: "
                "create your own on /settings/tokens/.",
                headers=_www,
            )
        count_request(found.user)
        _touch(found)
        request.api_token = found  # type: ignore[attr-defined]
        request.user = found.user
        return found.user


_www = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


class BrowserSession(SessionAuth):
    """The logged-in browser session, with Django's CSRF check on unsafe methods."""

    def __init__(self) -> None:
        super().__init__(csrf=False)  # checked below, to answer our own error JSON
        self.csrf = True  # tells the docs page to send the CSRF header

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None  # no session: answer 401 (how to authenticate), not a CSRF failure
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise ApiError(
                403,
                "csrf_failed",
                "The CSRF check failed: a browser session must send the X-CSRFToken header "
                "(automation: use a bearer token instead).",
            )
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        if user:
            count_request(request.user)
        return user


def count_request(user: Any) -> None:
    """Fixed-window rate limit per user, whatever the credential (each of their tokens, their
    session); raises 429 with Retry-After when over it."""
    limit = int(settings.API_RATE_LIMIT_PER_MINUTE)
    if limit <= 0:
        return
    window = int(settings.API_RATE_LIMIT_WINDOW_SECONDS)
    scaled = max(1, math.ceil(limit * window / 60))
    now = time.time()
    start = int(now // window) * window
    count = RateWindow.hit(f"user:{user.pk}", datetime.fromtimestamp(start, tz=UTC))
    if count > scaled:
        retry = max(1, math.ceil(start + window - now))
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests by {user.get_username()}: at most {scaled} per {window} "
            f"seconds, all of your tokens and your browser session together. "
            f"Retry in {retry} s.",
            headers={"Retry-After": str(retry)},
        )


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def request_token(request: HttpRequest) -> ApiToken | None:
    """The token that authenticated this request, if any."""
    return getattr(request, "api_token", None)


def audit_token_write(
    request: HttpRequest,
    *,
    tenant: Tenant,
    operation: str,
    proposal: Proposal | None = None,
    outcome: str = "ok",
    **data: Any,
) -> None:
    """One audit event per write request made with a token: which token, what, the outcome.

    Session writes are audited by the change itself; a token is a standing credential, so
    its use is worth its own line in the trail.
    """
    token = request_token(request)
    if token is None:
        return
    with transaction.atomic():  # record() serializes the tenant's chain per transaction
        AuditEvent.record(
            tenant=tenant,
            proposal=proposal,
            action="api.write",
            actor=token.user,
            data={
                "token": token.prefix,
                "token_name": token.name,
                "operation": operation,
                "method": request.method,
                "path": request.path,
                "outcome": outcome,
                **data,
            },
        )
