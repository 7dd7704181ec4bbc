"""The request id of the work in progress (an HTTP request or a background job).

Set by RequestIdMiddleware and by the worker's jobs, read when audit events are written, so
every event a request causes carries the same id without threading it through every call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_request_id: ContextVar[str] = ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get() or ""


@contextmanager
def request_id(value: str | None = None) -> Iterator[str]:
    token = _request_id.set(value or uuid.uuid4().hex)
    try:
        yield _request_id.get()
    finally:
        _request_id.reset(token)
