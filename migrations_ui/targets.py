"""Target connection aliases resolve to URLs from the environment, never from the database."""

from __future__ import annotations

import os

from django.conf import settings


def target_url(alias: str) -> str | None:
    """The URL of ``TARGET_<ALIAS>_URL``, read now (so a new alias needs no restart of code)."""
    return os.environ.get(f"TARGET_{alias.upper()}_URL") or settings.TARGET_URLS.get(alias.lower())
