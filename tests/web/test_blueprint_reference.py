"""The blueprint reference beside the editor: linked from the submit page, served as a page."""

from __future__ import annotations

import html
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "blueprint.md"


def test_the_submit_page_links_the_reference_and_the_schema(client, alice):
    client.force_login(alice)
    body = client.get("/proposals/new/").content.decode()
    assert (
        '<a href="/docs/blueprint/" id="blueprint-reference-link">Blueprint reference</a>' in body
    )
    assert '<a href="/api/v1/blueprint.schema.json">JSON Schema</a>' in body


def test_the_reference_page_shows_the_document_to_anyone(client, db):
    response = client.get("/docs/blueprint/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Blueprint reference</h1>" in body
    text = html.unescape(re.sub(r"<[^>]+>", "", body))
    assert "CONSTRAINT orders_shop_number_key UNIQUE (shop, number)" in text
    assert "## What a blueprint cannot say yet" in text
    assert "<script" not in body.split("<main", 1)[1]  # highlighted as text, nothing runs
    assert 'href="/api/v1/envelope.schema.json"' in body
    first_line = DOC.read_text().splitlines()[0]
    assert first_line in text
