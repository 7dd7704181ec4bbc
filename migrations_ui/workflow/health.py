"""Whether a target's role can do more than a target role should (see
``schemabuilder.target_roles``), asked of the live target and remembered for a minute, so
``/healthz`` (polled by load balancers) and the tenant page cost at most one small check per
target and process a minute."""

from __future__ import annotations

import hashlib

import psycopg
from django.core.cache import cache

from migrations_ui.models import Target
from migrations_ui.targets import target_url
from schemabuilder.target_roles import role_warnings

CACHE_S = 60
# Shorter than the apply's: a check that waits long would hold up /healthz.
CONNECT_TIMEOUT_S = 2


def _key(url: str, schema: str) -> str:
    # The URL's hash (never the URL) keys the answer: a new role under the same alias is
    # checked afresh.
    return "target-role:" + hashlib.sha256(f"{url}\0{schema}".encode()).hexdigest()


def warnings_for(target: Target) -> list[str]:
    """The role warnings of the target (empty when none, or when it cannot be reached: that
    is reported where it matters, by planning and applying)."""
    url = target_url(target.connection_alias)
    if not url:
        return []
    key = _key(url, target.schema_name)
    found = cache.get(key)
    if found is not None:
        return list(found)
    try:
        with psycopg.connect(
            url,
            connect_timeout=CONNECT_TIMEOUT_S,
            autocommit=True,
            application_name="schemabuilder-health",
        ) as conn:
            found = role_warnings(conn, target.schema_name)
    except psycopg.Error:
        found = []
    cache.set(key, found, CACHE_S)
    return list(found)


def all_warnings() -> dict[str, list[str]]:
    """Per connection alias, the warnings of every target that uses it."""
    result: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for target in Target.objects.order_by("connection_alias", "schema_name"):
        pair = (target.connection_alias, target.schema_name)
        if pair in seen:
            continue
        seen.add(pair)
        for warning in warnings_for(target):
            bucket = result.setdefault(target.connection_alias, [])
            if warning not in bucket:
                bucket.append(warning)
    return result
