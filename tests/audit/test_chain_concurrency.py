"""Concurrent writers never fork a tenant's chain: threads, each with its own connection, append
events to one tenant (and another) at once; every chain still verifies."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, transaction

from migrations_ui.audit.chain import verify_chains
from migrations_ui.models import AuditEvent

pytestmark = pytest.mark.slow

THREADS = 8
EACH = 15


def test_concurrent_writers_never_fork_a_chain(transactional_db, tenant, other_tenant, alice):
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                target = tenant if (n + i) % 4 else other_tenant
                if i % 3 == 0:
                    # Inside a longer transaction, as a state change writes them...
                    with transaction.atomic():
                        AuditEvent.record(
                            tenant=target, action="test.tx", actor=alice, data={"n": n}
                        )
                        AuditEvent.record(
                            tenant=target, action="test.tx2", actor=alice, data={"i": i}
                        )
                else:
                    # ...and alone, in autocommit mode.
                    AuditEvent.record(tenant=target, action="test.solo", actor=alice, data={"i": i})
        except BaseException as exc:  # reported below, in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors

    expected = THREADS * (EACH + EACH // 3)
    assert AuditEvent.objects.count() == expected
    for t in (tenant, other_tenant):
        prevs = Counter(AuditEvent.objects.filter(tenant=t).values_list("prev_hash", flat=True))
        assert prevs.most_common(1)[0][1] == 1, "two events claim the same predecessor"
    result = verify_chains()
    assert result.ok, result.breaks
    assert result.events == expected and result.chains == 2
