"""An admin brings a target's live schema in from the tenant page, in a real browser."""

from __future__ import annotations

import psycopg
import pytest

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_button_makes_the_baseline_and_the_page_lists_what_was_left_out(
    page, live_server, people, target_url, artifacts_dir
):
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE patients (id bigint PRIMARY KEY, name text NOT NULL);"
            "CREATE VIEW patient_names AS SELECT name FROM patients;"
        )
    login(page, live_server, "carol", "correct-horse-battery")
    page.goto(f"{live_server.url}/tenants/t_demo/")
    page.click("text=Bring in the live schema")
    page.wait_for_load_state("networkidle")
    baseline = page.locator("#baseline")
    assert "Version 001 is the baseline" in baseline.inner_text()
    assert "patient_names" in page.locator("#baseline .left-out").inner_text()
    assert "baseline: imported 1 table" in page.locator("#history").inner_text()
    assert page.locator("text=Bring in the live schema").count() == 0
    page.screenshot(path=str(artifacts_dir / "tenant-baseline.png"), full_page=True)
