from __future__ import annotations

import pytest
from django.core.management import call_command

from tests.e2e.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_alice_logs_in_and_sees_the_demo_tenant(page, live_server, artifacts_dir, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "alice-demo-pw")
    call_command("seed_demo")
    login(page, live_server, "alice", "alice-demo-pw")
    assert page.locator("#tenant-t_demo").is_visible()
    assert "t_demo" in page.locator("#tenant-t_demo h2").inner_text()
    page.screenshot(path=str(artifacts_dir / "dashboard-alice.png"), full_page=True)


def test_a_wrong_password_is_refused(page, live_server):
    call_command("seed_demo")
    login(page, live_server, "alice", "not-the-password")
    assert "didn't match" in page.content()
    assert page.url.endswith("/login/")
