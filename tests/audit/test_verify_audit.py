"""verify_audit walks every tenant's hash chain: it passes on honest history and names the
first bad event of a chain edited behind the trigger's back (exit 1)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from migrations_ui.audit.chain import verify_chains
from migrations_ui.models import AuditEvent
from tests.apply.conftest import app_database_url
from tests.audit.conftest import make_proposal, plan, verify

ROOT = Path(__file__).resolve().parents[2]


def behind_the_triggers_back(sql: str, params: list[object]) -> None:
    """What a superuser can do: switch the trigger off, change history, switch it on again."""
    with connection.cursor() as cur:
        # ALTER TABLE waits for no deferred foreign-key check of this test's transaction.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("ALTER TABLE migrations_ui_auditevent DISABLE TRIGGER auditevent_append_only")
        cur.execute(sql, params)
        cur.execute("ALTER TABLE migrations_ui_auditevent ENABLE TRIGGER auditevent_append_only")


@pytest.fixture
def chains(tenant, other_tenant, alice, erin):  # type: ignore[no-untyped-def]
    """Two tenants' chains: 3 events in t_demo, 2 in t_other."""
    first = make_proposal(tenant, alice, version="001")
    plan(first)
    make_proposal(tenant, alice, version="002")
    second = make_proposal(other_tenant, erin, version="1")
    plan(second)
    return list(AuditEvent.objects.filter(tenant=tenant).order_by("id"))


def test_honest_chains_verify(chains):
    code, out = verify()
    assert code == 0
    assert out.strip() == "verified 5 events in 2 tenant chains"
    code, out = verify("--tenant", "t_other")
    assert (code, out.strip()) == (0, "verified 2 events in 1 tenant chain")


def test_each_event_links_to_the_one_before_it_in_its_tenant(chains):
    events = list(chains)
    assert events[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
        assert after.hash == after.compute_hash()


def test_an_edit_that_bypasses_the_trigger_is_caught_and_named(chains):
    edited = chains[1]
    behind_the_triggers_back(
        "UPDATE migrations_ui_auditevent SET data = %s WHERE id = %s",
        ['{"checksum": "forged"}', edited.pk],
    )
    code, out = verify()
    assert code == 1
    assert (
        f"BROKEN: tenant t_demo, event {edited.pk} (proposal.planned at "
        f"{edited.created_at.isoformat(timespec='seconds')}): hash mismatch (content was edited)"
    ) in out
    assert "t_other" not in out.split("checked")[0]  # the other chain still holds


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(chains):
    edited, after = chains[0], chains[1]
    forged = AuditEvent.objects.get(pk=edited.pk)
    forged.actor_name = "mallory"
    behind_the_triggers_back(
        "UPDATE migrations_ui_auditevent SET actor_name = %s, hash = %s WHERE id = %s",
        ["mallory", forged.compute_hash(), edited.pk],
    )
    code, out = verify()
    assert code == 1
    assert f"event {after.pk} (" in out and "broken link" in out
    assert f"(event {edited.pk})" in out


def test_a_removed_event_in_the_middle_shows_as_a_gap_in_seq(chains):
    behind_the_triggers_back("DELETE FROM migrations_ui_auditevent WHERE id = %s", [chains[1].pk])
    code, out = verify("--tenant", "t_demo")
    assert code == 1 and f"event {chains[2].pk} (" in out
    assert f"gap in seq: seq 3 follows seq 1 (event {chains[0].pk})" in out


def test_a_gap_is_caught_even_when_the_links_were_rewritten(chains):
    """Renumbering is not enough either: a seq moved up (and every hash made to match) is
    still a gap."""
    behind_the_triggers_back(
        "UPDATE migrations_ui_auditevent SET seq = 7 WHERE id = %s", [chains[2].pk]
    )
    code, out = verify("--tenant", "t_demo")
    assert code == 1 and "gap in seq: seq 7 follows seq 2" in out


def test_removing_the_oldest_events_without_retention_is_caught(chains):
    behind_the_triggers_back("DELETE FROM migrations_ui_auditevent WHERE id = %s", [chains[0].pk])
    code, out = verify()
    assert code == 1
    assert f"event {chains[1].pk} (" in out and "no retention event accounts for" in out


def test_heads_lists_each_chains_last_event(chains):
    code, out = verify("--heads")
    last = chains[-1]
    assert code == 0 and f"head t_demo: event {last.pk}, seq 3, {last.hash}, 3 events" in out


def test_an_unknown_tenant_is_an_error(chains):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_audit", "--tenant", "t_nope")


def test_numbers_survive_the_round_trip_through_jsonb(tenant, alice):
    AuditEvent.record(
        tenant=tenant,
        action="test.numbers",
        actor=alice,
        data={"big": 1.5e16, "small": 1e-7, "one": 1.0, "third": 1 / 3, "huge": 2**70},
    )
    assert verify_chains().ok


def test_the_command_exits_1_as_a_process(transactional_db, tenant, alice):
    make_proposal(tenant, alice)
    env = {**os.environ, "DATABASE_URL": app_database_url()}
    ok = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "verified 1 event in 1 tenant chain"
    behind_the_triggers_back("UPDATE migrations_ui_auditevent SET actor_name = 'x'", [])
    broken = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert broken.returncode == 1 and "BROKEN: tenant t_demo" in broken.stdout
