"""The tenant page's "Bring in the live schema": the target's tables as its baseline version."""

from __future__ import annotations

import psycopg
from django.test import Client

from migrations_ui.models import MigrationRecord

BUTTON = "Bring in the live schema"
IMPORT_URL = "/tenants/t_demo/dev/import/"


def _live(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE patients (id bigint PRIMARY KEY, name text NOT NULL);"
            # A view: what a blueprint cannot say, so the baseline lists it as left out.
            "CREATE VIEW patient_names AS SELECT name FROM patients;"
        )


def test_an_admin_brings_the_schema_in_and_the_page_shows_the_baseline(client, carol, target_url):
    _live(target_url)
    client.force_login(carol)
    page = client.get("/tenants/t_demo/").content.decode()
    assert BUTTON in page and IMPORT_URL in page

    response = client.post(IMPORT_URL)
    assert response.status_code == 302
    record = MigrationRecord.objects.get()
    assert (record.version, record.status) == ("001", "success")
    page = client.get(response["Location"]).content.decode()
    assert "Version 001 is the baseline: 1 table imported" in page
    assert "baseline: imported 1 table" in page  # the history's line
    assert '<span class="badge ok">baseline</span>' in page  # recorded, not applied
    assert "patient_names" in page  # what was left out, with its kind
    assert BUTTON not in page  # a baseline is a target's first version only


def test_a_submitter_has_no_button_and_cannot_post(client, alice, target_url):
    _live(target_url)
    client.force_login(alice)
    assert BUTTON not in client.get("/tenants/t_demo/").content.decode()
    client.post(IMPORT_URL)
    assert not MigrationRecord.objects.exists()


def test_the_button_needs_the_csrf_token(carol, target_url):
    _live(target_url)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(carol)
    assert browser.post(IMPORT_URL).status_code == 403
    assert not MigrationRecord.objects.exists()
