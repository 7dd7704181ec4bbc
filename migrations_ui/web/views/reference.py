"""The blueprint reference (docs/blueprint.md) as a page of the site, beside the editor.

Public, like /api/v1/docs and the JSON Schemas: it describes the contract and holds no
tenant's data. The Markdown is shown as its source, highlighted by Pygments (already used for
the SQL): no Markdown renderer to depend on, and the tables read well in a fixed font.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import MarkdownLexer


def reference_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "blueprint.md"


@functools.cache
def _html(text: str) -> SafeString:
    formatter = HtmlFormatter(cssclass="highlight", wrapcode=True)
    return mark_safe(highlight(text, MarkdownLexer(), formatter))  # Pygments escapes the text


@require_GET
def blueprint_reference(request: HttpRequest) -> HttpResponse:
    html = _html(reference_path().read_text(encoding="utf-8"))
    return render(request, "migrations_ui/blueprint_reference.html", {"reference_html": html})
